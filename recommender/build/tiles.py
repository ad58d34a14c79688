"""The tiles of the all-pairs search: what one tile yields, and the running answer the tiles merge into.

A :class:`TilePlan` holds the matrix cut into row blocks; each tile ``(r, c)``, ``c >= r``, of the upper
score triangle is scored by the compiled kernel (``recommender.build._tile_kernel``, the ``fast`` extra) or
by a scipy product into a small dense block, and yields the scores that may still enter a row's or a
column's top-k. :class:`Best` is the answer so far, which every tile's candidates are merged into.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

_sparsetools: Any
try:  # the routine behind scipy's sparse ``@``; used directly to skip its counting pass
    _sparsetools = importlib.import_module("scipy.sparse._sparsetools")
except ImportError:  # pragma: no cover - a future scipy may move it; ``@`` is then used
    _sparsetools = None

__all__ = [
    "SCRATCH",
    "SMALLEST_POSITIVE",
    "Best",
    "Found",
    "Lists",
    "RowBlock",
    "TilePlan",
    "numba_available",
]

# Columns (rows) sampled per neighbour slot to estimate a lower bound of a block row's k-th best.
_SAMPLE_PER_SLOT = 40
SMALLEST_POSITIVE = np.nextafter(np.float32(0), np.float32(1))
_NO_DENSE = np.zeros((0, 0), dtype=np.float32)


@functools.cache
def compiled_routine(name: str) -> Callable[..., None] | None:
    """A routine of the compiled kernel module, or None without numba (imported on first use)."""
    try:
        from . import _tile_kernel
    except ImportError:
        return None
    routine: Callable[..., None] = getattr(_tile_kernel, name)
    return routine


def _numba_kernel() -> Callable[..., None] | None:
    """The compiled tile kernel (``tile_top``), or None."""
    return compiled_routine("tile_top")


def _numba_merge() -> Callable[..., None] | None:
    """The compiled merge of sorted lists into the answer (``merge_lists``), or None."""
    return compiled_routine("merge_lists")


def numba_available() -> bool:
    """Whether the compiled tile kernel can be used (the ``fast`` extra is installed)."""
    return _numba_kernel() is not None


@dataclass(frozen=True)
class _Candidates:
    """Scores from one tile that may enter the answer: global rows, columns and values."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Lists:
    """One tile's best per row (rows from ``row_start``) and per column (from ``col_start``), sorted.

    Entries are global row numbers, ``-1`` where empty; each list is sorted by ``(-score, row)``.
    """

    row_start: int
    row_cols: np.ndarray
    row_values: np.ndarray
    col_start: int
    col_rows: np.ndarray
    col_values: np.ndarray

    def as_candidates(self) -> _Candidates:
        """The same entries as loose candidates (for a merge without the compiled kernel)."""
        hit_rows, hit_slots = np.nonzero(self.row_cols >= 0)
        back_cols, back_slots = np.nonzero(self.col_rows >= 0)
        return _Candidates(
            np.concatenate(
                [hit_rows.astype(np.int64) + self.row_start, back_cols.astype(np.int64) + self.col_start]
            ),
            np.concatenate([self.row_cols[hit_rows, hit_slots], self.col_rows[back_cols, back_slots]]).astype(
                np.int32
            ),
            np.concatenate([self.row_values[hit_rows, hit_slots], self.col_values[back_cols, back_slots]]),
        )


#: What one tile yields: loose candidates (scipy kernel) or sorted lists (compiled kernel).
Found = _Candidates | Lists


class Best:
    """The running answer: each row's best ``width`` columns so far, sorted by ``(-score, column)``."""

    def __init__(self, n_rows: int, width: int) -> None:
        self.width = width
        self.cols = np.full((n_rows, width), -1, dtype=np.int32)
        self.scores = np.zeros((n_rows, width), dtype=np.float32)

    def floor(self, start: int, stop: int) -> np.ndarray:
        """A lower bound of the final k-th score of rows ``start:stop`` (never 0: zeros are not kept)."""
        return np.maximum(self.scores[start:stop, self.width - 1], SMALLEST_POSITIVE)

    def merge(self, found: Found) -> None:
        """Fold candidates into the answer, keeping each row's best ``width`` by ``(-score, column)``."""
        if isinstance(found, Lists):
            compiled = _numba_merge()
            if compiled is not None:
                compiled(self.cols, self.scores, found.row_start, found.row_cols, found.row_values)
                compiled(self.cols, self.scores, found.col_start, found.col_rows, found.col_values)
                return
            found = found.as_candidates()
        if found.rows.size == 0:
            return
        width = self.width
        touched = np.unique(found.rows)
        old_cols = self.cols[touched].ravel()
        kept = old_cols >= 0
        rows = np.concatenate([np.repeat(touched, width)[kept], found.rows])
        cols = np.concatenate([old_cols[kept], found.cols])
        values = np.concatenate([self.scores[touched].ravel()[kept], found.values])
        order = np.lexsort((cols, -values, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.r_[starts, rows.size]))
        take = rank < width
        self.cols[touched] = -1
        self.scores[touched] = 0.0
        self.cols[rows[take], rank[take]] = cols[take]
        self.scores[rows[take], rank[take]] = values[take]


@dataclass(frozen=True)
class RowBlock:
    """One row block of a search matrix, as a cluster's worker keeps it: its first row's number, its
    sparse rows and their transpose, and its dense columns (or None)."""

    start: int
    rows: sp.csr_matrix
    transposed: sp.csr_matrix
    dense: np.ndarray | None


class TilePlan:
    """The row blocks of a matrix and the tiles ``(r, c)``, ``c >= r``, of its upper score triangle."""

    def __init__(
        self, vectors: sp.csr_matrix, side: int, *, kernel: str = "scipy", dense: np.ndarray | None = None
    ) -> None:
        self.n_rows = int(vectors.shape[0])
        self.side = side
        self.kernel = kernel
        self.starts = list(range(0, self.n_rows, side))
        self.blocks = [vectors[start : start + side] for start in self.starts]
        self.transposed = [block.T.tocsr() for block in self.blocks]
        # The dense columns (see ``_reorder``) of each row block, or None.
        self.dense = None if dense is None else [dense[start : start + side] for start in self.starts]

    @classmethod
    def of_blocks(cls, blocks: list[RowBlock], kernel: str) -> TilePlan:
        """A plan over a few row blocks of a larger matrix (a cluster's tile: one or two blocks), whose
        candidates are numbered as in the whole matrix."""
        plan = cls.__new__(cls)
        plan.n_rows = sum(block.rows.shape[0] for block in blocks)
        plan.side, plan.kernel = 0, kernel
        plan.starts = [block.start for block in blocks]
        plan.blocks = [block.rows for block in blocks]
        plan.transposed = [block.transposed for block in blocks]
        dense = [block.dense for block in blocks]
        plan.dense = None if any(part is None for part in dense) else dense  # type: ignore[assignment]
        return plan

    def _dense_tile(self, r: int, c: int) -> np.ndarray | None:
        """The dense columns' share of tile ``(r, c)``, or None when the matrix has no dense columns."""
        if self.dense is None:
            return None
        return np.asarray(self.dense[r] @ self.dense[c].T, dtype=np.float32)

    def pairs(self) -> Iterator[tuple[int, int]]:
        """Tile coordinates, row block by row block, the diagonal tile first."""
        for r in range(len(self.starts)):
            for c in range(r, len(self.starts)):
                yield r, c

    def candidates(
        self,
        pair: tuple[int, int],
        width: int,
        floor: Callable[[int, int], np.ndarray] | None = None,
    ) -> Found:
        """The scores of tile ``pair`` that may belong to the top ``width`` of their row or column."""
        r, c = pair
        row_start, col_start = self.starts[r], self.starts[c]
        compiled = _numba_kernel() if self.kernel == "numba" else None
        if compiled is not None:  # a Dask worker without numba falls back to scipy: same lists
            return self._compiled_candidates(compiled, pair, width, floor)
        block = _dense_product(self.blocks[r], self.transposed[c])
        dense_tile = self._dense_tile(r, c)
        if dense_tile is not None:
            block += dense_tile
        n_r, n_c = block.shape
        if r == c:
            np.fill_diagonal(block, 0.0)
        row_floor = _sample_floor(block, width)
        if floor is not None:
            np.maximum(row_floor, floor(row_start, row_start + n_r), out=row_floor)
        hit_rows, hit_cols = np.nonzero(block >= row_floor[:, None])
        values = block[hit_rows, hit_cols]
        rows = hit_rows.astype(np.int64) + row_start
        cols = hit_cols.astype(np.int32) + col_start
        if r == c:
            return _Candidates(rows, cols, values)
        col_floor = _sample_floor(block.T, width)
        if floor is not None:
            np.maximum(col_floor, floor(col_start, col_start + n_c), out=col_floor)
        back_rows, back_cols = np.nonzero(block >= col_floor[None, :])
        back_values = block[back_rows, back_cols]
        return _Candidates(
            np.concatenate([rows, back_cols.astype(np.int64) + col_start]),
            np.concatenate([cols, back_rows.astype(np.int32) + row_start]),
            np.concatenate([values, back_values]),
        )

    def _compiled_candidates(
        self,
        compiled: Callable[..., None],
        pair: tuple[int, int],
        width: int,
        floor: Callable[[int, int], np.ndarray] | None,
    ) -> Lists:
        """The candidates of tile ``pair`` from the compiled kernel: each row's and column's best."""
        r, c = pair
        left, right = self.blocks[r], self.transposed[c]
        n_r, n_c = left.shape[0], right.shape[1]
        row_start, col_start = self.starts[r], self.starts[c]
        if floor is None:
            row_floor = np.full(n_r, SMALLEST_POSITIVE, dtype=np.float32)
            col_floor = np.full(n_c, SMALLEST_POSITIVE, dtype=np.float32)
        else:
            row_floor = np.array(floor(row_start, row_start + n_r), dtype=np.float32)
            col_floor = np.array(floor(col_start, col_start + n_c), dtype=np.float32)
        row_cols = np.empty((n_r, width), dtype=np.int32)
        row_values = np.empty((n_r, width), dtype=np.float32)
        col_rows = np.empty((n_c, width), dtype=np.int32)
        col_values = np.empty((n_c, width), dtype=np.float32)
        dense_tile = self._dense_tile(r, c)
        compiled(
            left.indptr,
            left.indices,
            left.data,
            right.indptr,
            right.indices,
            right.data,
            row_floor,
            col_floor,
            r == c,
            row_cols,
            row_values,
            col_rows,
            col_values,
            SCRATCH.row(n_c),
            _NO_DENSE if dense_tile is None else dense_tile,
        )
        np.add(row_cols, col_start, out=row_cols, where=row_cols >= 0)
        np.add(col_rows, row_start, out=col_rows, where=col_rows >= 0)
        return Lists(row_start, row_cols, row_values, col_start, col_rows, col_values)


class _Scratch(threading.local):
    """Per-thread buffers for tile products, reused so threads do not fault in fresh pages each tile."""

    def __init__(self) -> None:
        self.indices = np.empty(0, dtype=np.int32)
        self.data = np.empty(0, dtype=np.float32)
        self.dense = np.empty(0, dtype=np.float32)
        self.buffer = np.empty(0, dtype=np.float32)
        self.zeroed: dict[str, np.ndarray] = {}

    def zeros(self, name: str, size: int) -> np.ndarray:
        """This thread's zeroed float32 vector ``name`` of at least ``size``, which its users leave zeroed."""
        vector = self.zeroed.get(name)
        if vector is None or vector.size < size:
            vector = self.zeroed[name] = np.zeros(size, dtype=np.float32)
        return vector[:size]

    def row(self, size: int) -> np.ndarray:
        """A float32 buffer of ``size`` (one row of scores) for the compiled kernel."""
        if self.buffer.size < size:
            self.buffer = np.empty(size, dtype=np.float32)
        return self.buffer[:size]

    def get(self, capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.indices.size < capacity:
            self.indices = np.empty(capacity, dtype=np.int32)
            self.data = np.empty(capacity, dtype=np.float32)
            self.dense = np.empty(capacity, dtype=np.float32)
        return self.indices, self.data, self.dense


SCRATCH = _Scratch()


def _dense_product(left: sp.csr_matrix, right: sp.csr_matrix) -> np.ndarray:
    """``left @ right`` as a dense float32 array (a view of this thread's scratch buffer).

    scipy's own ``@`` first counts the product's non-zeros in a separate pass and allocates fresh
    arrays; a tile is small and nearly dense, so the output goes into buffers of its largest size,
    filled in one pass by the same routine.
    """
    n_rows, n_cols = left.shape[0], right.shape[1]
    capacity = n_rows * n_cols
    if _sparsetools is None or capacity >= 2**31 or capacity == 0:
        return np.asarray((left @ right).toarray(), dtype=np.float32)
    index = np.int32
    indices, data, dense_buffer = SCRATCH.get(capacity)
    indptr = np.empty(n_rows + 1, dtype=index)
    _sparsetools.csr_matmat(
        n_rows,
        n_cols,
        left.indptr.astype(index, copy=False),
        left.indices.astype(index, copy=False),
        left.data,
        right.indptr.astype(index, copy=False),
        right.indices.astype(index, copy=False),
        right.data,
        indptr,
        indices,
        data,
    )
    dense = dense_buffer[:capacity].reshape(n_rows, n_cols)
    dense.fill(0.0)
    _sparsetools.csr_todense(n_rows, n_cols, indptr, indices, data, dense)
    return dense


def _sample_floor(block: np.ndarray, width: int) -> np.ndarray:
    """Per row, the ``width``-th best score of a strided sample of columns: at most the row's own.

    Blocks too narrow to sample use all their columns, so the floor is the row's exact ``width``-th
    best of the block and at most ``width`` entries per row (plus ties) travel on to the merge.
    """
    n_cols = block.shape[1]
    floor = np.full(block.shape[0], SMALLEST_POSITIVE, dtype=np.float32)
    if n_cols <= width:
        return floor
    stride = max(1, n_cols // (width * _SAMPLE_PER_SLOT))
    sample = np.ascontiguousarray(block[:, ::stride])
    if sample.shape[1] < width:
        return floor
    kth = np.partition(sample, sample.shape[1] - width, axis=1)[:, sample.shape[1] - width]
    return np.maximum(floor, kth)
