"""The compiled routines of the pruned neighbour search (``recommender.build.pruning``), ``fast`` extra.

``seed_floors`` gives every row a lower bound of its ``width``-th best score before the search starts:
the rows sharing its rarest terms, exact-scored. ``tile_top_pruned`` is ``tile_top`` of
``recommender.build._tile_kernel`` that accumulates only the rows' light (rarer) terms: a pair whose
light score plus the Cauchy-Schwarz bound of its heavy part cannot reach a floor is skipped, and the
rest are scored exactly, in the order ``tile_top`` adds them, so the scores it keeps are the same bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._tile_kernel import _insert

__all__ = ["seed_floors", "tile_top_pruned"]

#: Columns whose bounds are tested together (a vectorised pass) before any one of them is looked at.
_CHUNK = 64


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _exact(
    spread: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, start: int, stop: int
) -> float:
    """The dot product of the row spread into ``spread`` with entries ``start:stop``, added in order."""
    total = np.float32(0.0)
    for q in range(start, stop):
        total += spread[indices[q]] * data[q]
    return total  # type: ignore[return-value]  # numba keeps it float32


@njit(nogil=True, cache=True, boundscheck=False)
def seed_floors(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    dense: np.ndarray,
    rare_indptr: np.ndarray,
    rare_indices: np.ndarray,
    rare_data: np.ndarray,
    rare_start: int,
    first: int,
    stop: int,
    width: int,
    slack: float,
    out: np.ndarray,
    acc: np.ndarray,
    touched: np.ndarray,
    spread: np.ndarray,
    pool_rows: np.ndarray,
    pool_values: np.ndarray,
    pick_entries: np.ndarray,
    pick_weights: np.ndarray,
) -> None:
    """``out[i]`` for rows ``first:stop``: the ``width``-th best exact score among the rows that share most
    weight with row ``i`` on its heaviest rare terms (``pick_entries.shape[1]`` of them), the best
    ``pool_rows.shape[1]`` of those rows exact-scored, less ``slack``; 0 when too few.

    ``rare_*`` is the transposed matrix of the terms from ``rare_start`` on (terms × rows). ``acc`` (one
    slot per row) and ``spread`` (one per term) are zero on entry and left zeroed; ``touched`` holds a
    row number per row.
    """
    size = pool_rows.shape[1]
    last = size - 1
    picks = pick_entries.shape[1]
    for i in range(first, stop):
        _heaviest(i, indptr, indices, data, rare_start, pick_entries, pick_weights)
        count = 0
        for slot in range(picks):
            p = pick_entries[0, slot]
            if p < 0:
                break
            term = indices[p]
            weight = data[p]
            for q in range(rare_indptr[term - rare_start], rare_indptr[term - rare_start + 1]):
                j = rare_indices[q]
                if acc[j] == 0.0:
                    touched[count] = j
                    count += 1
                acc[j] += weight * rare_data[q]
        for slot in range(size):
            pool_rows[0, slot] = -1
            pool_values[0, slot] = 0.0
        for c in range(count):
            j = touched[c]
            value = acc[j]
            acc[j] = 0.0
            if j != i and (pool_rows[0, last] < 0 or value > pool_values[0, last]):
                _insert(pool_rows, pool_values, 0, last, value, j)
        found = _score_pool(i, indptr, indices, data, dense, spread, pool_rows, pool_values)
        out[i] = 0.0
        if found >= width:
            ranked = np.sort(pool_values[0, :found])
            floor = ranked[found - width] - slack
            if floor > 0.0:
                out[i] = floor


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _heaviest(
    i: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    rare_start: int,
    pick_entries: np.ndarray,
    pick_weights: np.ndarray,
) -> None:
    """Row ``i``'s heaviest entries of terms from ``rare_start`` on (positions, ``-1`` for none)."""
    picks = pick_entries.shape[1]
    for slot in range(picks):
        pick_entries[0, slot] = -1
        pick_weights[0, slot] = 0.0
    for p in range(indptr[i], indptr[i + 1]):
        if indices[p] >= rare_start and (
            pick_entries[0, picks - 1] < 0 or data[p] > pick_weights[0, picks - 1]
        ):
            _insert(pick_entries, pick_weights, 0, picks - 1, data[p], p)


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _score_pool(
    i: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    dense: np.ndarray,
    spread: np.ndarray,
    pool_rows: np.ndarray,
    pool_values: np.ndarray,
) -> int:
    """The exact scores of row ``i`` with the pool's rows, written over their values; how many there are."""
    for p in range(indptr[i], indptr[i + 1]):
        spread[indices[p]] = data[p]
    found = 0
    for slot in range(pool_rows.shape[1]):
        j = pool_rows[0, slot]
        if j < 0:
            break
        total = _exact(spread, indptr, indices, data, indptr[j], indptr[j + 1])
        for d in range(dense.shape[1] if dense.shape[0] > 0 else 0):
            total += dense[i, d] * dense[j, d]
        pool_values[0, found] = total
        found += 1
    for p in range(indptr[i], indptr[i + 1]):
        spread[indices[p]] = 0.0
    return found


@njit(nogil=True, cache=True, boundscheck=False)
def tile_top_pruned(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    heavy: np.ndarray,
    norms: np.ndarray,
    first_row: int,
    first_col: int,
    right_indptr: np.ndarray,
    right_indices: np.ndarray,
    right_data: np.ndarray,
    slack: float,
    row_floor: np.ndarray,
    col_floor: np.ndarray,
    row_cols: np.ndarray,
    row_values: np.ndarray,
    col_rows: np.ndarray,
    col_values: np.ndarray,
    buffer: np.ndarray,
    spread: np.ndarray,
    dense: np.ndarray,
) -> None:
    """``tile_top`` for rows ``first_row…`` against columns ``first_col…`` (``right``: those rows of the
    matrix transposed, terms × columns), skipping the pairs that cannot reach a floor; only pairs with
    column ``>`` row are scored. ``indptr``/``indices``/``data`` is the whole sorted CSR matrix, whose
    rows' first ``heavy`` entries are heavy terms of norm ``norms`` (rounded up). Light terms are
    accumulated; a pair is scored exactly (its entries walked in term order against the row spread into
    ``spread``) when ``light + dense + norm_i · norm_j + slack`` reaches a floor. Without dense columns,
    the columns no light term reached are tested a chunk at a time. ``buffer`` (a slot per column) and
    ``spread`` (a slot per term) are zero on entry and left zeroed.
    """
    n_rows = row_cols.shape[0]
    n_cols = buffer.shape[0]
    row_cols[:] = -1
    row_values[:] = 0.0
    col_rows[:] = -1
    col_values[:] = 0.0
    col_min = col_floor.copy()
    col_norms = norms[first_col : first_col + n_cols]
    margin = np.float32(slack)
    chunk_norm, chunk_floor = _chunk_bounds(col_norms, col_floor)
    touched = np.empty(n_cols, dtype=np.int64)
    survivors = np.empty(n_cols, dtype=np.int64)
    for i in range(n_rows):
        row = first_row + i
        count = 0
        for p in range(indptr[row] + heavy[row], indptr[row + 1]):
            weight = data[p]
            term = indices[p]
            for q in range(right_indptr[term], right_indptr[term + 1]):
                j = right_indices[q]
                touched[count] = j
                count += buffer[j] == 0.0  # branch-free: a mispredicted branch costs more than the store
                buffer[j] += weight * right_data[q]
        start = max(0, row + 1 - first_col)
        norm = norms[row]
        row_min = row_floor[i]
        found = 0
        if dense.shape[0] > 0:
            for j in range(start, n_cols):
                bound = buffer[j] + norm * col_norms[j] + margin + dense[i, j]
                if bound >= row_min or bound >= col_min[j]:
                    survivors[found] = j
                    found += 1
        else:
            found = _reaching(
                start, norm, row_min, margin, touched, count, buffer, col_norms, col_min, chunk_norm,
                chunk_floor, survivors,
            )  # fmt: skip
        if found > 0:
            _keep(
                i, row, first_col, survivors, found, indptr, indices, data, heavy, buffer, spread, dense,
                row_min, col_min, row_cols, row_values, col_rows, col_values,
            )  # fmt: skip
        for t in range(count):
            buffer[touched[t]] = 0.0


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _reaching(
    start: int,
    norm: float,
    row_min: float,
    margin: np.float32,
    touched: np.ndarray,
    count: int,
    buffer: np.ndarray,
    col_norms: np.ndarray,
    col_min: np.ndarray,
    chunk_norm: np.ndarray,
    chunk_floor: np.ndarray,
    survivors: np.ndarray,
) -> int:
    """Without dense columns: the columns from ``start`` whose bound reaches a floor, into ``survivors``
    in ascending order; how many. The touched columns one by one, the others a chunk at a time."""
    n_cols = buffer.shape[0]
    found = 0
    for t in range(count):
        j = touched[t]
        bound = buffer[j] + norm * col_norms[j] + margin
        if j >= start and (bound >= row_min or bound >= col_min[j]):
            survivors[found] = j
            found += 1
    for chunk in range(start // _CHUNK, chunk_norm.shape[0]):
        bound = norm * chunk_norm[chunk] + margin
        if bound < row_min and bound < chunk_floor[chunk]:
            continue
        for j in range(max(start, chunk * _CHUNK), min(n_cols, (chunk + 1) * _CHUNK)):
            bound = norm * col_norms[j] + margin
            if buffer[j] == 0.0 and (bound >= row_min or bound >= col_min[j]):
                survivors[found] = j
                found += 1
    _sort(survivors, found)
    return found


@njit(nogil=True, cache=True, boundscheck=False)
def _chunk_bounds(col_norms: np.ndarray, col_floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per chunk of ``_CHUNK`` columns: the largest heavy norm and the lowest floor (floors only rise)."""
    n_cols = col_norms.shape[0]
    n_chunks = (n_cols + _CHUNK - 1) // _CHUNK
    chunk_norm = np.zeros(n_chunks, dtype=np.float32)
    chunk_floor = np.zeros(n_chunks, dtype=np.float32)
    for chunk in range(n_chunks):
        first = chunk * _CHUNK
        chunk_norm[chunk] = col_norms[first]
        chunk_floor[chunk] = col_floor[first]
        for j in range(first + 1, min(n_cols, first + _CHUNK)):
            chunk_norm[chunk] = max(chunk_norm[chunk], col_norms[j])
            chunk_floor[chunk] = min(chunk_floor[chunk], col_floor[j])
    return chunk_norm, chunk_floor


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _sort(values: np.ndarray, count: int) -> None:
    """Sort ``values[:count]`` in place (few values: insertion sort)."""
    for a in range(1, count):
        value = values[a]
        b = a
        while b > 0 and values[b - 1] > value:
            values[b] = values[b - 1]
            b -= 1
        values[b] = value


@njit(nogil=True, cache=True, boundscheck=False)
def _push(cols: np.ndarray, values: np.ndarray, slot: int, value: float, index: int, floor: float) -> float:
    """Offer ``(value, index)`` to list ``slot`` when it reaches ``floor``, as ``tile_top`` does; returns the
    floor, raised to the list's last value once the list is full."""
    last = cols.shape[1] - 1
    if value >= floor and (cols[slot, last] < 0 or value > values[slot, last]):
        _insert(cols, values, slot, last, value, index)
        if cols[slot, last] >= 0 and values[slot, last] > floor:
            return values[slot, last]  # type: ignore[no-any-return]
    return floor


@njit(nogil=True, cache=True, boundscheck=False)
def _keep(
    i: int,
    row: int,
    first_col: int,
    survivors: np.ndarray,
    found: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    heavy: np.ndarray,
    buffer: np.ndarray,
    spread: np.ndarray,
    dense: np.ndarray,
    row_min: float,
    col_min: np.ndarray,
    row_cols: np.ndarray,
    row_values: np.ndarray,
    col_rows: np.ndarray,
    col_values: np.ndarray,
) -> None:
    """Score the surviving columns (ascending) of tile row ``i`` (matrix row ``row``) exactly, as
    ``tile_top`` adds them, and put them into the row's and the columns' lists."""
    for p in range(indptr[row], indptr[row + 1]):
        spread[indices[p]] = data[p]
    for s in range(found):
        j = survivors[s]
        other = first_col + j
        stop = indptr[other + 1] if buffer[j] != 0.0 else indptr[other] + heavy[other]
        value = _exact(spread, indptr, indices, data, indptr[other], stop)
        if dense.shape[0] > 0:
            value += dense[i, j]
        row_min = _push(row_cols, row_values, i, value, j, row_min)
        col_min[j] = _push(col_rows, col_values, j, value, i, col_min[j])
    for p in range(indptr[row], indptr[row + 1]):
        spread[indices[p]] = 0.0
