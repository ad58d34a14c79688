"""Exact neighbour search: every row's top-k rows by cosine, computed in row blocks.

Rows are L2-normalised, so cosine is the dot product. A block of rows is multiplied against the whole
matrix at a time, so memory holds ``block × N`` scores and never ``N × N``. Ties are broken by
``(-score, row)``; zero scores are not neighbours (the slot is left as ``-1``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .types import InvalidParameterError

__all__ = ["DEFAULT_MEMORY_BUDGET", "block_rows", "top_k", "top_k_of"]

#: Bytes the dense score block may use during the all-pairs search.
DEFAULT_MEMORY_BUDGET = 256 * 2**20
# float32 scores, a partitioned copy and the boolean mask per score, with headroom.
_BYTES_PER_SCORE = 12


def block_rows(n_rows: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """How many rows one block may hold so that its ``rows × n_rows`` scores fit ``memory_budget``."""
    if memory_budget < 1:
        message = f"memory_budget must be a positive number of bytes, got {memory_budget!r}"
        raise InvalidParameterError(message)
    return int(max(1, min(n_rows, memory_budget // max(1, n_rows * _BYTES_PER_SCORE))))


def top_k(
    vectors: sp.csr_matrix, k: int, *, memory_budget: int = DEFAULT_MEMORY_BUDGET
) -> tuple[np.ndarray, np.ndarray]:
    """For every row, its ``k`` most similar other rows and their scores.

    Returns ``(neighbors, scores)``: ``int32`` and ``float32`` arrays of shape ``(N, min(k, N - 1))``,
    each row sorted by descending score then ascending row; ``-1`` / ``0.0`` where fewer than that many
    rows have a positive score.
    """
    n_rows = vectors.shape[0]
    width = min(k, max(n_rows - 1, 0))
    neighbors = np.full((n_rows, width), -1, dtype=np.int32)
    scores = np.zeros((n_rows, width), dtype=np.float32)
    if width == 0:
        return neighbors, scores
    transposed = vectors.T.tocsr()
    step = block_rows(n_rows, memory_budget)
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        block_neighbors, block_scores = top_k_of(
            vectors[start:stop], transposed, width, exclude=np.arange(start, stop)
        )
        neighbors[start:stop] = block_neighbors
        scores[start:stop] = block_scores
    return neighbors, scores


def top_k_of(
    queries: sp.csr_matrix,
    transposed: sp.csr_matrix,
    k: int,
    *,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` columns of ``queries @ transposed`` per row, leaving out column ``exclude[i]`` for row i.

    ``transposed`` is the candidate matrix already transposed (terms × candidates).
    """
    n_queries = queries.shape[0]
    n_candidates = transposed.shape[1]
    block = np.asarray((queries @ transposed).toarray(), dtype=np.float32)
    if exclude is not None:
        block[np.arange(n_queries), exclude] = -np.inf
    available = n_candidates - (1 if exclude is not None else 0)
    k = min(k, available)
    neighbors = np.full((n_queries, k), -1, dtype=np.int32)
    scores = np.zeros((n_queries, k), dtype=np.float32)
    if k <= 0:
        return neighbors, scores
    kth = np.partition(block, n_candidates - k, axis=1)[:, n_candidates - k]
    rows, cols = np.nonzero(block >= kth[:, None])
    values = block[rows, cols]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    starts = np.searchsorted(rows, np.arange(n_queries))
    take = starts[:, None] + np.arange(k)
    chosen_cols = cols[take]
    chosen_values = values[take]
    positive = chosen_values > 0
    neighbors[positive] = chosen_cols[positive]
    scores[positive] = chosen_values[positive]
    return neighbors, scores
