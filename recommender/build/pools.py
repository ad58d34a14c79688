"""Raw candidate pools with canonical scores, so that a build and an incremental update agree exactly.

The neighbour search sums each dot product in an order that depends on the whole corpus (terms are
renumbered by frequency, dense columns go through BLAS), so the same pair can score a few units in the
last place apart in a build and in an update. Pools are therefore searched ``POOL_MARGIN`` wider, every
entry is scored again canonically (float32 products of the shared columns added in column order, as
scipy's sparse product does: the same bits for a pair whichever corpus or side it is computed from),
re-sorted by ``(-score, row)`` and cut to width. Near-ties then break by row the same way everywhere.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .blend import SearchRows

__all__ = ["POOL_MARGIN", "canonical_scores", "settle", "settle_rows"]

#: Extra candidates searched per pool, so that rounding in the search never decides the last places.
POOL_MARGIN = 10
_PAIRS_PER_CHUNK = 1 << 15


def canonical_scores(search: sp.csr_matrix | SearchRows, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``search[rows[i]] · search[cols[i]]`` for every ``i``, computed canonically (float32).

    The products of the two rows' shared columns are added one by one in float32, in column order,
    starting from zero: exactly what scipy's sparse product (``a @ b.T``) computes for a pair, so the
    stored scores are those a lookup-time scan finds, and the same from either side of a pair. Rows
    given as ``SearchRows`` score as their joined matrix does: the dense columns come last, and adding
    the zero products the joined matrix does not store leaves a float sum unchanged.
    """
    out = np.zeros(len(rows), dtype=np.float32)
    dense = search.dense if isinstance(search, SearchRows) else None
    terms = search.terms if isinstance(search, SearchRows) else search
    if terms.dtype != np.float32 or not terms.has_sorted_indices:
        terms = sp.csr_matrix(terms, dtype=np.float32, copy=True)
        terms.sort_indices()
    for start in range(0, len(rows), _PAIRS_PER_CHUNK):
        stop = start + _PAIRS_PER_CHUNK
        left, right = terms[rows[start:stop]], terms[cols[start:stop]]  # row order kept: sorted
        left.has_sorted_indices = right.has_sorted_indices = True
        products = left.multiply(right)  # shared columns, in column order
        sums = _sequential_sums(sp.csr_matrix(products))
        if dense is not None:
            # Continue each sum left to right over the dense columns (cumsum adds in order, in float32).
            tail = dense[rows[start:stop]] * dense[cols[start:stop]]
            sums = np.cumsum(np.concatenate([sums[:, None], tail], axis=1), axis=1, dtype=np.float32)[:, -1]
        out[start:stop] = sums
    return out


def _sequential_sums(matrix: sp.csr_matrix) -> np.ndarray:
    """Each row's stored values added left to right in float32 (numpy's own sums are pairwise)."""
    lengths = np.diff(matrix.indptr)
    order = np.argsort(-lengths, kind="stable")  # longest first: the rows still adding are a prefix
    starts = matrix.indptr[:-1][order]
    remaining = lengths[order]
    sums = np.zeros(len(order), dtype=np.float32)
    data = matrix.data
    for step in range(int(remaining[0]) if remaining.size else 0):
        active = int(np.searchsorted(-remaining, -step, side="left"))  # rows longer than ``step``
        sums[:active] += data[starts[:active] + step]
    result = np.empty_like(sums)
    result[order] = sums
    return result


def settle(
    search: sp.csr_matrix | SearchRows, neighbors: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's candidates (row numbers, ``-1`` for none) scored canonically, sorted, cut to ``width``."""
    return settle_rows(search, np.arange(neighbors.shape[0]), neighbors, width)


def settle_rows(
    search: sp.csr_matrix | SearchRows, rows: np.ndarray, neighbors: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`settle` for the candidate lists ``neighbors`` of the given ``rows`` of ``search``."""
    width = min(width, neighbors.shape[1])
    found = np.flatnonzero(neighbors.ravel() >= 0)
    subject = np.repeat(np.asarray(rows, dtype=np.int64), neighbors.shape[1])[found]
    flat = np.zeros(neighbors.size, dtype=np.float32)
    flat[found] = canonical_scores(search, subject, neighbors.ravel()[found])
    scores = flat.reshape(neighbors.shape)
    valid = (neighbors >= 0) & (scores > 0)
    order = np.lexsort(
        (np.where(valid, neighbors, np.iinfo(np.int32).max), np.where(valid, -scores, np.inf)), axis=1
    )[:, :width]
    chosen_valid = np.take_along_axis(valid, order, axis=1)
    settled = np.where(chosen_valid, np.take_along_axis(neighbors, order, axis=1), -1).astype(np.int32)
    settled_scores = np.where(chosen_valid, np.take_along_axis(scores, order, axis=1), 0.0)
    return settled, settled_scores.astype(np.float32)
