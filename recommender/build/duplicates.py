"""Near-duplicate groups: articles whose score reaches a threshold, one canonical article per group.

Groups are the connected components of the "score >= threshold" links among every article's top-k
neighbours. The canonical article of a group is the earliest (articles without a date count as latest),
then the longest body, then the first in corpus order; the others are left out of related lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["canonical_of", "drop_duplicates", "duplicate_groups", "hide_rows"]


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
    masked = sp.csr_matrix(search, dtype=np.float32, copy=True)
    masked.data *= np.repeat(keep, np.diff(masked.indptr))  # row scaling without a sparse product
    masked.eliminate_zeros()
    return masked


def drop_duplicates(
    neighbors: np.ndarray, scores: np.ndarray, canonical: Mapping[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate lists without any duplicate, and without each duplicate's canonical in its own list.

    Kept entries stay in order and move to the front; freed slots become ``-1`` / ``0.0``.
    """
    if not canonical:
        return neighbors, scores
    hidden = np.asarray(sorted(canonical), dtype=np.int64)
    own = np.full(neighbors.shape[0], -2, dtype=np.int64)
    own[hidden] = [canonical[row] for row in hidden.tolist()]
    keep = (neighbors >= 0) & ~np.isin(neighbors, hidden) & (neighbors != own[:, None])
    order = np.argsort(~keep, axis=1, kind="stable")
    kept = np.take_along_axis(keep, order, axis=1)
    new_neighbors = np.where(kept, np.take_along_axis(neighbors, order, axis=1), -1).astype(np.int32)
    new_scores = np.where(kept, np.take_along_axis(scores, order, axis=1), 0.0).astype(np.float32)
    return new_neighbors, new_scores
