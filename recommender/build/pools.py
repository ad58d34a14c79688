"""Raw candidate pools with canonical scores, so that a build and an incremental update agree exactly.

The neighbour search sums each dot product in an order that depends on the whole corpus (terms are
renumbered by frequency, dense columns go through BLAS), so the same pair can score a few units in the
last place apart in a build and in an update. Pools are therefore searched ``POOL_MARGIN`` wider, every
entry is scored again canonically (float32 products of the shared columns added in column order, as
scipy's sparse product does: the same bits for a pair whichever corpus or side it is computed from),
re-sorted by ``(-score, row)`` and cut to width. Near-ties then break by row the same way everywhere.

With the ``fast`` extra a compiled routine walks each pair straight from the CSR arrays, on every core;
without it scipy multiplies the rows' shared columns and numpy adds the products in order, with the
trailing block of columns that most rows store (the LSA part of joined rows) taken as a dense array.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from ..settings import DEFAULT_MEMORY_BUDGET
from .blend import SearchRows
from .neighbors import DENSE_SHARE, default_threads, resolve_kernel
from .tiles import compiled_routine

__all__ = ["POOL_MARGIN", "canonical_scores", "settle", "settle_rows", "sorted_pools"]

#: Extra candidates searched per pool, so that rounding in the search never decides the last places.
POOL_MARGIN = 10
_PAIRS_PER_CHUNK = 1 << 15
_PAIRS_PER_DENSE_CHUNK = 1 << 12  # a chunk's dense products stay in the cache while they are added
_NO_DENSE = np.zeros((0, 0), dtype=np.float32)


def canonical_scores(
    search: sp.csr_matrix | SearchRows, rows: np.ndarray, cols: np.ndarray, *, kernel: str = "auto"
) -> np.ndarray:
    """``search[rows[i]] · search[cols[i]]`` for every ``i``, computed canonically (float32).

    The products of the two rows' shared columns are added one by one in float32, in column order,
    starting from zero: exactly what scipy's sparse product (``a @ b.T``) computes for a pair, so the
    stored scores are those a lookup-time scan finds, and the same from either side of a pair. Rows
    given as ``SearchRows`` score as their joined matrix does: the dense columns come last, and adding
    the zero products the joined matrix does not store leaves a float sum unchanged. ``kernel`` is
    ``"numba"``, ``"scipy"`` or ``"auto"`` (numba when installed, for 1,000 rows or more); the bits
    are the same.
    """
    terms, dense = _parts(search)
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    _check_rows(np.concatenate([rows, cols]), terms.shape[0])
    # A pair scores the same from either side: each unordered pair once, in row order (pools are mostly
    # mutual, and the rows' entries are then read in order).
    n_rows = max(terms.shape[0], 1)
    pairs, inverse = np.unique(np.minimum(rows, cols) * n_rows + np.maximum(rows, cols), return_inverse=True)
    first, second = np.divmod(pairs, n_rows)
    routine = compiled_routine("pair_scores") if resolve_kernel(kernel, terms.shape[0]) == "numba" else None
    if routine is not None:
        return _compiled_scores(routine, terms, dense, first, second)[inverse]
    return _scipy_scores(terms, dense, first, second)[inverse]


def _check_rows(rows: np.ndarray, n_rows: int) -> None:
    """Row numbers out of range would read outside the arrays in the compiled routine: refuse them."""
    if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
        bad = int(rows.min()) if rows.min() < 0 else int(rows.max())
        message = f"row {bad} is not a row of the search matrix (0 to {n_rows - 1})"
        raise IndexError(message)


def _parts(search: sp.csr_matrix | SearchRows) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Sorted float32 CSR terms and the dense columns as a float32 array (None without)."""
    if isinstance(search, SearchRows):
        terms, dense = search.terms, search.dense
    else:
        terms, dense = search, None
    if terms.dtype != np.float32 or not terms.has_sorted_indices:
        terms = sp.csr_matrix(terms, dtype=np.float32, copy=True)
        terms.sort_indices()
    return terms, None if dense is None else np.ascontiguousarray(dense, dtype=np.float32)


def _dense_tail(terms: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """A joined matrix split where its LSA part starts: the trailing columns most rows store become a
    dense array (when it fits the memory budget). The parts add the same products in the same order."""
    n_rows, n_cols = terms.shape
    common = np.bincount(terms.indices, minlength=n_cols) >= DENSE_SHARE * n_rows
    sparse_end = n_cols - (int(np.argmin(common[::-1])) if not common.all() else n_cols)
    if sparse_end == n_cols or n_rows < 2 or n_rows * (n_cols - sparse_end) * 4 > DEFAULT_MEMORY_BUDGET:
        return terms, None
    return _split_columns(terms, sparse_end)


def _split_columns(matrix: sp.csr_matrix, start: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """``matrix[:, :start]`` (sorted CSR) and ``matrix[:, start:]`` as a dense float32 array."""
    n_rows, n_cols = matrix.shape
    row_of = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
    tail = matrix.indices >= start
    dense = np.zeros((n_rows, n_cols - start), dtype=np.float32)
    dense[row_of[tail], matrix.indices[tail] - start] = matrix.data[tail]
    kept = np.bincount(row_of[~tail], minlength=n_rows)
    indptr = np.concatenate([[0], np.cumsum(kept)]).astype(matrix.indptr.dtype)
    head = sp.csr_matrix((matrix.data[~tail], matrix.indices[~tail], indptr), shape=(n_rows, start))
    head.has_sorted_indices = True
    return head, dense


def _compiled_scores(
    routine: Callable[..., None],
    terms: sp.csr_matrix,
    dense: np.ndarray | None,
    rows: np.ndarray,
    cols: np.ndarray,
) -> np.ndarray:
    """The compiled routine (``pair_scores``), the pairs split evenly over the cores."""
    out = np.zeros(len(rows), dtype=np.float32)
    bounds = np.linspace(0, len(rows), min(default_threads(), max(1, len(rows) // 4096)) + 1, dtype=np.int64)
    arrays = (terms.indptr, terms.indices, terms.data, _NO_DENSE if dense is None else dense)

    def run(start: int, stop: int) -> None:
        buffer = np.zeros(terms.shape[1], dtype=np.float32)
        routine(*arrays, rows[start:stop], cols[start:stop], out[start:stop], buffer)

    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        for done in [pool.submit(run, int(start), int(stop)) for start, stop in pairwise(bounds)]:
            done.result()
    return out


def _scipy_scores(
    terms: sp.csr_matrix, dense: np.ndarray | None, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """scipy multiplies the shared columns of each pair of rows; numpy adds the products in order."""
    if dense is None:
        terms, dense = _dense_tail(terms)  # dense columns cost scipy a merge step each: far cheaper apart
    out = np.zeros(len(rows), dtype=np.float32)
    for start in range(0, len(rows), _PAIRS_PER_CHUNK):
        stop = start + _PAIRS_PER_CHUNK
        left, right = terms[rows[start:stop]], terms[cols[start:stop]]  # row order kept: sorted
        left.has_sorted_indices = right.has_sorted_indices = True
        out[start:stop] = _sequential_sums(sp.csr_matrix(left.multiply(right)))  # shared columns in order
    if dense is not None:
        _add_dense(out, dense, rows, cols)
    return out


def _add_dense(sums: np.ndarray, dense: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
    """Continue each pair's sum over the dense columns, in column order, in float32 (in place)."""
    by_column = np.ascontiguousarray(dense.T)  # each addition then runs over many pairs at once
    for start in range(0, len(rows), _PAIRS_PER_DENSE_CHUNK):
        stop = start + _PAIRS_PER_DENSE_CHUNK
        products = by_column[:, rows[start:stop]]
        products *= by_column[:, cols[start:stop]]
        running = sums[start:stop]
        for column in products:
            running += column


def _sequential_sums(matrix: sp.csr_matrix) -> np.ndarray:
    """Each row's stored values added left to right in float32 (numpy's own sums are pairwise)."""
    lengths = np.diff(matrix.indptr)
    order = np.argsort(-lengths, kind="stable")  # longest first: the rows still adding are a prefix
    starts = matrix.indptr[:-1][order]
    longest = int(lengths[order[0]]) if order.size else 0
    # How many rows are longer than each step.
    active = np.searchsorted(-lengths[order], -np.arange(longest), side="left")
    sums = np.zeros(len(order), dtype=np.float32)
    data = matrix.data
    for step, count in enumerate(active.tolist()):
        sums[:count] += data[starts[:count] + step]
    result = np.empty_like(sums)
    result[order] = sums
    return result


def settle(
    search: sp.csr_matrix | SearchRows, neighbors: np.ndarray, width: int, *, kernel: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's candidates (row numbers, ``-1`` for none) scored canonically, sorted, cut to ``width``."""
    return settle_rows(search, np.arange(neighbors.shape[0]), neighbors, width, kernel=kernel)


def settle_rows(
    search: sp.csr_matrix | SearchRows,
    rows: np.ndarray,
    neighbors: np.ndarray,
    width: int,
    *,
    kernel: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`settle` for the candidate lists ``neighbors`` of the given ``rows`` of ``search``."""
    width = min(width, neighbors.shape[1])
    found = np.flatnonzero(neighbors.ravel() >= 0)
    subject = np.repeat(np.asarray(rows, dtype=np.int64), neighbors.shape[1])[found]
    flat = np.zeros(neighbors.size, dtype=np.float32)
    flat[found] = canonical_scores(search, subject, neighbors.ravel()[found], kernel=kernel)
    return sorted_pools(neighbors, flat.reshape(neighbors.shape), width)


def sorted_pools(neighbors: np.ndarray, scores: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidates with their canonical scores, each row sorted by ``(-score, row)`` and cut to ``width``;
    ``-1`` / 0 where a candidate is missing or scores 0."""
    width = min(width, neighbors.shape[1])
    valid = (neighbors >= 0) & (scores > 0)
    order = np.lexsort(
        (np.where(valid, neighbors, np.iinfo(np.int32).max), np.where(valid, -scores, np.inf)), axis=1
    )[:, :width]
    chosen_valid = np.take_along_axis(valid, order, axis=1)
    settled = np.where(chosen_valid, np.take_along_axis(neighbors, order, axis=1), -1).astype(np.int32)
    settled_scores = np.where(chosen_valid, np.take_along_axis(scores, order, axis=1), 0.0)
    return settled, settled_scores.astype(np.float32)
