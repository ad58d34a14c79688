"""Near-duplicate groups: articles whose score reaches a threshold, one canonical article per group.

Groups are the connected components of the "score >= threshold" links among every article's top-k
neighbours. The canonical article of a group is the earliest (articles without a date count as latest),
then the longest body, then the first in corpus order; the others are left out of related lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .neighbors import DEFAULT_MEMORY_BUDGET, block_rows, top_k_of

__all__ = ["canonical_of", "duplicate_groups", "hide_rows", "relist"]


def duplicate_groups(neighbors: np.ndarray, scores: np.ndarray, threshold: float) -> list[list[int]]:
    """Groups (sorted rows, two or more each) linked by neighbour scores ``>= threshold``."""
    parent = list(range(neighbors.shape[0]))

    def root(row: int) -> int:
        while parent[row] != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    rows, slots = np.nonzero((scores >= threshold) & (neighbors >= 0))
    for row, other in zip(rows.tolist(), neighbors[rows, slots].tolist(), strict=True):
        first, second = root(row), root(other)
        if first != second:
            parent[max(first, second)] = min(first, second)
    groups: dict[int, list[int]] = {}
    for row in sorted(set(rows.tolist()) | set(neighbors[rows, slots].tolist())):
        groups.setdefault(root(row), []).append(row)
    return [members for _, members in sorted(groups.items()) if len(members) > 1]


def canonical_of(
    groups: Sequence[Sequence[int]], dates: Sequence[str | None], lengths: Sequence[int]
) -> dict[int, int]:
    """Each non-canonical row mapped to its group's canonical row (earliest, then longest, then first)."""
    mapping: dict[int, int] = {}
    for members in groups:
        keep = min(members, key=lambda row: (dates[row] is None, dates[row] or "", -lengths[row], row))
        mapping.update({row: keep for row in members if row != keep})
    return mapping


def hide_rows(search: sp.csr_matrix, hidden: Sequence[int]) -> sp.csr_matrix:
    """``search`` with the ``hidden`` rows zeroed, so that as candidates they score 0 and are never listed."""
    keep = np.ones(search.shape[0], dtype=np.float32)
    keep[list(hidden)] = 0.0
    masked = sp.csr_matrix(sp.diags(keep) @ search, dtype=np.float32)
    masked.eliminate_zeros()
    return masked


def relist(
    search: sp.csr_matrix,
    neighbors: np.ndarray,
    scores: np.ndarray,
    canonical: dict[int, int],
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> tuple[np.ndarray, np.ndarray]:
    """The neighbour table with every duplicate left out of every list, and each duplicate's canonical
    left out of the duplicate's own list. Only the lists that change are searched again.
    """
    if not canonical:
        return neighbors, scores
    hidden = np.asarray(sorted(canonical), dtype=np.int64)
    affected = np.union1d(np.flatnonzero(np.isin(neighbors, hidden).any(axis=1)), hidden)
    neighbors, scores = neighbors.copy(), scores.copy()
    width = neighbors.shape[1]
    transposed = hide_rows(search, hidden.tolist()).T.tocsr()
    step = block_rows(search.shape[0], memory_budget)
    for start in range(0, affected.size, step):
        chunk = affected[start : start + step]
        found, found_scores = top_k_of(search[chunk], transposed, width + 1, exclude=chunk)
        for position, row in enumerate(chunk.tolist()):
            keep = found[position] != canonical.get(row, -2)
            row_neighbors, row_scores = found[position][keep][:width], found_scores[position][keep][:width]
            neighbors[row] = -1
            scores[row] = 0.0
            neighbors[row, : row_neighbors.size] = row_neighbors
            scores[row, : row_scores.size] = row_scores
    return neighbors, scores
