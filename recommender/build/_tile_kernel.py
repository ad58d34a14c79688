"""The compiled routines of the neighbour search, used when the ``fast`` extra (numba) is installed.

``tile_top`` scores one tile of the upper score triangle and keeps, for every row and every column of
the tile, its best ``width`` entries. Each row of scores is accumulated into a dense buffer the size of
one row (it stays in the L1 cache) straight from the two sparse blocks, and is scanned at once while it
is hot: no sparse product is materialised, no dense tile is kept, and the running floors of the answer
let almost every score be rejected with one comparison. Ties keep the lower index, as the scipy path does.

``pair_scores`` scores given pairs of rows canonically (``recommender.build.pools``): float32 products
added one by one in column order, exactly as scipy's sparse product adds them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["merge_lists", "pair_scores", "tile_top"]


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _insert(cols: np.ndarray, values: np.ndarray, slot: int, last: int, value: float, index: int) -> None:
    """Put ``(value, index)`` into the sorted list ``slot`` (descending value, ascending index)."""
    position = last
    while position > 0 and (cols[slot, position - 1] < 0 or values[slot, position - 1] < value):
        values[slot, position] = values[slot, position - 1]
        cols[slot, position] = cols[slot, position - 1]
        position -= 1
    values[slot, position] = value
    cols[slot, position] = index


@njit(nogil=True, cache=True, boundscheck=False)
def tile_top(
    left_indptr: np.ndarray,
    left_indices: np.ndarray,
    left_data: np.ndarray,
    right_indptr: np.ndarray,
    right_indices: np.ndarray,
    right_data: np.ndarray,
    row_floor: np.ndarray,
    col_floor: np.ndarray,
    diagonal: bool,
    row_cols: np.ndarray,
    row_values: np.ndarray,
    col_rows: np.ndarray,
    col_values: np.ndarray,
    buffer: np.ndarray,
    dense: np.ndarray,
) -> None:
    """Best ``width`` entries of each row and column of ``left @ right`` at or above the floors.

    ``left`` is a row block (CSR), ``right`` a transposed column block (CSR, terms × columns). Outputs are
    ``(rows, width)`` / ``(columns, width)`` arrays filled with ``-1`` / ``0`` where nothing qualifies. On a
    ``diagonal`` tile (a block against itself) only the strict upper triangle is scanned: entry ``(i, j)``
    serves row ``i`` and, through the column lists, row ``j``. ``dense`` (the tile's share from dense
    columns, ``rows × columns``, or an empty array) is added after the sparse sum, as the scipy path does.
    """
    n_rows = row_cols.shape[0]
    n_cols = buffer.shape[0]
    last = row_cols.shape[1] - 1
    row_cols[:] = -1
    row_values[:] = 0.0
    col_rows[:] = -1
    col_values[:] = 0.0
    col_min = col_floor.copy()
    for i in range(n_rows):
        for j in range(n_cols):
            buffer[j] = 0.0
        for p in range(left_indptr[i], left_indptr[i + 1]):
            term = left_indices[p]
            weight = left_data[p]
            for q in range(right_indptr[term], right_indptr[term + 1]):
                buffer[right_indices[q]] += weight * right_data[q]
        if dense.shape[0] > 0:
            for j in range(n_cols):
                buffer[j] += dense[i, j]
        row_min = row_floor[i]
        start = i + 1 if diagonal else 0
        for j in range(start, n_cols):
            value = buffer[j]
            if value >= row_min and (row_cols[i, last] < 0 or value > row_values[i, last]):
                _insert(row_cols, row_values, i, last, value, j)
                if row_cols[i, last] >= 0 and row_values[i, last] > row_min:
                    row_min = row_values[i, last]
            if value >= col_min[j] and (col_rows[j, last] < 0 or value > col_values[j, last]):
                _insert(col_rows, col_values, j, last, value, i)
                if col_rows[j, last] >= 0 and col_values[j, last] > col_min[j]:
                    col_min[j] = col_values[j, last]


@njit(nogil=True, cache=True, boundscheck=False)
def merge_lists(
    best_cols: np.ndarray, best_values: np.ndarray, start: int, cols: np.ndarray, values: np.ndarray
) -> None:
    """Merge sorted lists ``cols``/``values`` into rows ``start…`` of the running answer, keeping the best.

    Both sides are sorted by descending value then ascending column, ``-1`` marking empty slots; a pair
    reaches the answer from one tile only, so the two sides never share a column.
    """
    width = best_cols.shape[1]
    merged_cols = np.empty(width, dtype=best_cols.dtype)
    merged_values = np.empty(width, dtype=best_values.dtype)
    for i in range(cols.shape[0]):
        if cols[i, 0] < 0:
            continue
        row = start + i
        a = 0
        b = 0
        for slot in range(width):
            old_left = a < width and best_cols[row, a] >= 0
            take_new = (b < width and cols[i, b] >= 0) and (
                not old_left
                or values[i, b] > best_values[row, a]
                or (values[i, b] == best_values[row, a] and cols[i, b] < best_cols[row, a])
            )
            if take_new:
                merged_cols[slot] = cols[i, b]
                merged_values[slot] = values[i, b]
                b += 1
            elif old_left:
                merged_cols[slot] = best_cols[row, a]
                merged_values[slot] = best_values[row, a]
                a += 1
            else:
                merged_cols[slot] = -1
                merged_values[slot] = 0.0
        for slot in range(width):
            best_cols[row, slot] = merged_cols[slot]
            best_values[row, slot] = merged_values[slot]


@njit(nogil=True, cache=True, boundscheck=False)
def pair_scores(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    dense: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    out: np.ndarray,
    buffer: np.ndarray,
) -> None:
    """``out[t]`` = row ``rows[t]`` · row ``cols[t]`` of a sorted float32 CSR matrix, summed canonically.

    The float32 products of the shared columns are added one by one in column order from zero, then
    those of the ``dense`` columns (``rows × dims``, or an empty array) in order: the sum scipy's
    ``a @ b.T`` forms. Row ``rows[t]`` is spread into ``buffer`` (zeros, one slot per column; left
    zeroed), kept while the next pair has the same row, and row ``cols[t]``'s entries are walked in
    column order against it: a column only one side has adds a zero product, which leaves a sum as it is.
    """
    current = -1
    for t in range(rows.shape[0]):
        row = rows[t]
        if row != current:
            if current >= 0:
                for p in range(indptr[current], indptr[current + 1]):
                    buffer[indices[p]] = 0.0
            for p in range(indptr[row], indptr[row + 1]):
                buffer[indices[p]] = data[p]
            current = row
        col = cols[t]
        total = np.float32(0.0)
        for q in range(indptr[col], indptr[col + 1]):
            total += buffer[indices[q]] * data[q]
        for d in range(dense.shape[1] if dense.shape[0] > 0 else 0):
            total += dense[row, d] * dense[col, d]
        out[t] = total
    if current >= 0:
        for p in range(indptr[current], indptr[current + 1]):
            buffer[indices[p]] = 0.0
