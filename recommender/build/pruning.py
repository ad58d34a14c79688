"""Pruning the all-pairs search: skip the pairs whose score cannot reach a row's list, still exactly.

On a large corpus an article's ``width``-th best score is high (hundreds of articles on its story
compete for its list), while most pairs share only frequent words of small weight. Split the terms
(renumbered by falling document frequency) into the *heavy* first ``H``, which make most of the
multiplication work, and the *light* rest. The light part of a score is accumulated as before; the
heavy part is bounded by the product of the two rows' heavy norms (Cauchy-Schwarz), so a pair whose
``light + bound`` stays under both rows' floors cannot enter either list and is never scored. The
others are scored exactly, in the same order as the unpruned kernel adds them: the lists and the
scores are the same bits.

The floors must be high from the first tile on, so each row first gets a lower bound of its
``width``-th best (:func:`seed`): the rows sharing most weight on its heaviest rare terms (its story's
words), exact-scored; the few rows this misses get an exact floor by brute force. ``H`` is chosen by
a cost model measured on a sample of pairs (:func:`plan_pruning`); when pruning would not pay (small
corpora, low floors, stories too large to seed), the search runs unpruned. Tiles are wide (a row
block against ``WIDE_COLUMNS`` columns), so that a row's light terms are looked up once per many
columns. Needs the ``fast`` extra (numba); a Dask build runs unpruned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from .tiles import SCRATCH, SMALLEST_POSITIVE, Lists

__all__ = ["MIN_ROWS", "PrunedPlan", "Pruning", "plan_pruning", "seed"]

#: Corpora with fewer rows are searched unpruned (their floors are low and the search is short).
MIN_ROWS = 20_000
#: Seeds come from each row's heaviest rare terms: how many, the share of rows a rare term is in at most,
#: and how many of its rows (the first) are looked at.
SEED_TERMS = 10
SEED_SHARE = 1 / 20
SEED_POSTINGS = 400
#: Exact-scored seed candidates per slot of a row's list.
SEED_PER_SLOT = 2
#: Rows whose seed is under this share of the median seed get an exact floor, at most this share of rows.
RESEED_BELOW = 0.5
RESEED_SHARE = 0.02
_RESEED_CHUNK = 16
#: Sample for choosing the heavy terms: rows, and columns they are compared with.
SAMPLE_ROWS = 256
SAMPLE_COLS = 16_384
#: Cost model, nanoseconds on one core, measured on the synthetic corpus of ``benchmarks.allpairs``
#: (docs/performance.md): the unpruned kernel per pair and per multiply-add; the pruned kernel per pair,
#: per light multiply-add (scattered over a wide tile) and per entry walked for a pair scored exactly.
COST_PAIR = 1.0
COST_FMA = 4.0
COST_PRUNED_PAIR = 0.5
COST_LIGHT_FMA = 8.0
COST_WALK = 5.0
#: ... and, per pair, the bound's test when dense columns make every pair's bound differ; per light
#: term of a row looked up in a tile.
COST_DENSE_PAIR = 1.5
COST_LOOKUP = 10.0
#: Columns one tile spans without dense columns (its buffer stays in the L2 cache): a row's light terms
#: are looked up once per tile, so wide tiles look them up less often.
WIDE_COLUMNS = 16_384
#: Planning costs about this many nanoseconds per row; the unpruned search must be expected to take at
#: least ``PLAN_RATIO`` times as long for pruning to be considered.
PLAN_COST_PER_ROW = 70_000
PLAN_RATIO = 5
#: Pruning is used only when the model expects it to take at most this share of the unpruned time.
WORTH_IT = 0.7
_FLOAT32_UNIT = float(np.finfo(np.float32).eps)
_NO_DENSE = np.zeros((0, 0), dtype=np.float32)
# Two weights at least this large have a float32 product above zero.
_SMALLEST_WEIGHT = 1e-18


@dataclass(frozen=True)
class Pruning:
    """What the pruned kernel needs besides the matrix: per row, its heavy entries (a prefix of the row,
    terms ``< heavy``), their norm (rounded up) and a lower bound of its final ``width``-th score."""

    heavy: int
    heavy_count: np.ndarray
    norms: np.ndarray
    floors: np.ndarray
    slack: float


def _slack(matrix: sp.csr_matrix, dense: np.ndarray | None) -> float:
    """A bound of the float32 rounding in any one score: the products added, times their largest size."""
    lengths = np.diff(matrix.indptr)
    longest = int(lengths.max()) if lengths.size else 0
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    squares = np.bincount(rows, weights=matrix.data.astype(np.float64) ** 2)
    largest = float(squares.max()) if squares.size else 0.0
    dims = 0
    if dense is not None and dense.size:
        dims = dense.shape[1]
        largest += float(np.max(np.einsum("ij,ij->i", dense, dense, dtype=np.float64)))
    return 4.0 * _FLOAT32_UNIT * (longest + dims + 2) * max(largest, 1.0)


def seed(
    matrix: sp.csr_matrix,
    dense: np.ndarray | None,
    width: int,
    slack: float,
    threads: int,
    frequency: np.ndarray | None = None,
) -> np.ndarray:
    """Per row, a lower bound of its ``width``-th best score (0 where unknown): the exact scores of the
    ``SEED_PER_SLOT × width`` rows sharing most weight on its ``SEED_TERMS`` heaviest rare terms (in at
    most ``SEED_SHARE`` of the rows; ``SEED_POSTINGS`` rows of each), the ``width``-th of them less
    ``slack``."""
    from ._prune_kernel import seed_floors

    n_rows, n_terms = matrix.shape
    if frequency is None:
        frequency = np.bincount(matrix.indices, minlength=n_terms)
    # Terms are numbered by falling frequency: the rare ones are a suffix.
    rare_start = int(np.searchsorted(-frequency, -SEED_SHARE * n_rows, side="left"))
    rare = _first_postings(matrix[:, rare_start:], SEED_POSTINGS)
    out = np.zeros(n_rows, dtype=np.float32)
    size = SEED_PER_SLOT * width

    def run(first: int, stop: int) -> None:
        seed_floors(
            matrix.indptr, matrix.indices, matrix.data, _NO_DENSE if dense is None else dense,
            rare.indptr, rare.indices, rare.data, rare_start, first, stop, width, slack, out,
            np.zeros(n_rows, dtype=np.float32), np.empty(n_rows, dtype=np.int32),
            np.zeros(n_terms, dtype=np.float32), np.empty((1, size), dtype=np.int32),
            np.empty((1, size), dtype=np.float32), np.empty((1, SEED_TERMS), dtype=np.int64),
            np.empty((1, SEED_TERMS), dtype=np.float32),
        )  # fmt: skip

    _on_threads(run, n_rows, threads)
    _reseed(matrix, dense, width, slack, out)
    return out


def _first_postings(matrix: sp.csr_matrix, count: int) -> sp.csr_matrix:
    """The transposed ``matrix`` (terms × rows) keeping each term's first ``count`` rows: a sample of
    its rows, enough to find a row's story when the term is a story's word."""
    by_term = sp.csc_matrix(matrix)
    lengths = np.diff(by_term.indptr)
    position = np.arange(by_term.nnz) - np.repeat(by_term.indptr[:-1], lengths)
    keep = position < count
    indptr = np.concatenate([[0], np.cumsum(np.minimum(lengths, count))]).astype(np.int64)
    shape = (matrix.shape[1], matrix.shape[0])
    return sp.csr_matrix((by_term.data[keep], by_term.indices[keep], indptr), shape=shape)


def _reseed(
    matrix: sp.csr_matrix, dense: np.ndarray | None, width: int, slack: float, floors: np.ndarray
) -> None:
    """Exact floors, by brute force, for the rows whose rare terms found no good candidates: the seeds
    under ``RESEED_BELOW`` times the median, at most ``RESEED_SHARE`` of the rows (lowest first).

    One such row would otherwise let all its pairs through the bound, each scored one by one.
    """
    n_rows = matrix.shape[0]
    limit = RESEED_BELOW * float(np.median(floors))
    low = np.flatnonzero(floors < limit)
    low = low[np.argsort(floors[low], kind="stable")][: int(RESEED_SHARE * n_rows)]
    if low.size == 0:
        return
    transposed = matrix.T.tocsr()
    for first in range(0, len(low), _RESEED_CHUNK):
        rows = np.sort(low[first : first + _RESEED_CHUNK])
        scores = np.asarray((matrix[rows] @ transposed).toarray(), dtype=np.float32)
        if dense is not None:
            scores += dense[rows] @ dense.T
        scores[np.arange(len(rows)), rows] = -np.inf
        kth = np.partition(scores, n_rows - width, axis=1)[:, n_rows - width] - slack
        floors[rows] = np.maximum(kth, floors[rows])


def _on_threads(run: Callable[[int, int], None], n_rows: int, threads: int) -> None:
    """``run(first, stop)`` over even row ranges, one per thread (the compiled routines release the GIL)."""
    bounds = np.linspace(0, n_rows, max(1, threads) + 1, dtype=np.int64)
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for done in [pool.submit(run, int(a), int(b)) for a, b in pairwise(bounds)]:
            done.result()


def _heavy_parts(matrix: sp.csr_matrix, splits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every candidate split ``H``: each row's count of entries with term ``< H`` and their norm.

    Returns two ``(len(splits), rows)`` arrays (counts int32, norms float64), in row chunks.
    """
    n_rows = matrix.shape[0]
    counts = np.zeros((len(splits), n_rows), dtype=np.int32)
    norms = np.zeros((len(splits), n_rows), dtype=np.float64)
    chunk = 65_536
    for first in range(0, n_rows, chunk):
        stop = min(n_rows, first + chunk)
        lo, hi = matrix.indptr[first], matrix.indptr[stop]
        rows = np.repeat(np.arange(stop - first), np.diff(matrix.indptr[first : stop + 1]))
        bucket = np.searchsorted(splits, matrix.indices[lo:hi], side="right")
        slot = bucket * (stop - first) + rows
        size = (len(splits) + 1) * (stop - first)
        squares = matrix.data[lo:hi].astype(np.float64) ** 2
        by_bucket_count = np.bincount(slot, minlength=size).reshape(len(splits) + 1, -1)
        by_bucket_norm = np.bincount(slot, weights=squares, minlength=size).reshape(len(splits) + 1, -1)
        counts[:, first:stop] = np.cumsum(by_bucket_count, axis=0)[:-1]
        norms[:, first:stop] = np.cumsum(by_bucket_norm, axis=0)[:-1]
    return counts, np.sqrt(norms)


def plan_pruning(
    matrix: sp.csr_matrix,
    dense: np.ndarray | None,
    width: int,
    *,
    threads: int,
    side: int,
    force: int | None = None,
) -> Pruning | None:
    """The pruning of the search of ``matrix`` (terms renumbered by falling frequency, sorted, float32)
    beside ``dense`` in tiles of ``side`` rows, or None when it would not pay. ``force`` sets the number
    of heavy terms (tests)."""
    n_rows, n_terms = matrix.shape
    if force is None and (n_rows < MIN_ROWS or n_terms < 2):
        return None
    frequency = np.bincount(matrix.indices, minlength=n_terms)
    work = _work_per_pair(frequency, n_rows)
    if force is None and not _search_is_long(work, n_rows):
        return None
    if matrix.nnz == 0 or float(matrix.data.min()) < _SMALLEST_WEIGHT:
        return None  # the kernel tells touched columns by a non-zero sum: no product may round to 0
    slack = _slack(matrix, dense)
    floors = seed(matrix, dense, width, slack, threads, frequency)
    splits = np.array(
        [force] if force is not None else [s for s in 2 ** np.arange(6, 24) if s < n_terms], dtype=np.int64
    )
    if splits.size == 0:
        return None
    counts, norms = _heavy_parts(matrix, splits)
    norms = (norms * (1.0 + 1e-6)).astype(np.float32)
    choice = (
        0 if force is not None else _cheapest(matrix, dense, splits, work, counts, norms, floors, slack, side)
    )
    if choice < 0:
        return None
    return Pruning(int(splits[choice]), counts[choice], norms[choice], floors, slack)


def _work_per_pair(frequency: np.ndarray, n_rows: int) -> np.ndarray:
    """Multiply-adds per pair of articles of the terms before each one (``[H - 1]``: of the terms < H)."""
    return np.cumsum(frequency.astype(np.float64) ** 2) / float(n_rows) ** 2


def _search_is_long(work: np.ndarray, n_rows: int) -> bool:
    """Whether the unpruned search would take ``PLAN_RATIO`` times what planning the pruning costs (the
    seeds and the sample, ``PLAN_COST_PER_ROW``): below that, planning alone would eat the gain."""
    per_pair = COST_PAIR + COST_FMA * float(work[-1])
    return per_pair * n_rows / 2 >= PLAN_RATIO * PLAN_COST_PER_ROW


def _cheapest(
    matrix: sp.csr_matrix,
    dense: np.ndarray | None,
    splits: np.ndarray,
    work: np.ndarray,
    counts: np.ndarray,
    norms: np.ndarray,
    floors: np.ndarray,
    slack: float,
    side: int,
) -> int:
    """The split whose expected cost (``COST_*``, measured survival on a sample) is lowest, or -1 when
    none takes at most ``WORTH_IT`` of the unpruned search's. With dense columns the tiles are square
    (``side``) and every pair's bound is tested; without, tiles are ``WIDE_COLUMNS`` wide."""
    n_rows = matrix.shape[0]
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(n_rows, size=min(SAMPLE_ROWS, n_rows), replace=False))
    cols = np.sort(rng.choice(n_rows, size=min(SAMPLE_COLS, n_rows), replace=False))
    total = work[-1]
    left, right = matrix[rows], matrix[cols]
    share = np.asarray(dense[rows] @ dense[cols].T) if dense is not None else 0.0
    threshold = np.minimum(floors[rows][:, None], floors[cols][None, :])
    walk = matrix.nnz / n_rows
    columns = side if dense is not None else side * max(1, WIDE_COLUMNS // side)
    per_pair = COST_PRUNED_PAIR + (COST_DENSE_PAIR if dense is not None else 0.0)
    unpruned = COST_PAIR + COST_FMA * total
    best, best_cost = -1, WORTH_IT * unpruned
    for index, split in enumerate(splits.tolist()):
        light_left = _columns_from(left, split)
        light = np.asarray((light_left @ _columns_from(right, split).T).toarray())
        bound = light + share + np.outer(norms[index, rows], norms[index, cols]) + slack
        survive = float(np.mean(bound >= threshold))
        lookups = (walk - float(np.mean(counts[index]))) / columns  # a row's light terms, once per tile
        light_work = COST_LIGHT_FMA * (total - work[split - 1]) + COST_LOOKUP * lookups
        cost = per_pair + light_work + COST_WALK * survive * walk
        if cost < best_cost:
            best, best_cost = index, cost
    return best


def _columns_from(matrix: sp.csr_matrix, start: int) -> sp.csr_matrix:
    """``matrix`` with the columns before ``start`` zeroed (dropped)."""
    kept = matrix.copy()
    kept.data = np.where(kept.indices >= start, kept.data, 0).astype(kept.data.dtype)
    kept.eliminate_zeros()
    return kept


class PrunedPlan:
    """The tiles of a pruned search: row blocks of ``side`` rows against column ranges of whole blocks
    (``WIDE_COLUMNS`` wide without dense columns, one block with them), the pairs above the diagonal.

    Runs on the compiled kernel only (``tile_top_pruned``); the same interface as ``TilePlan``.
    """

    def __init__(self, vectors: sp.csr_matrix, side: int, pruning: Pruning, dense: np.ndarray | None) -> None:
        self.n_rows = int(vectors.shape[0])
        self.matrix = vectors
        self.pruning = pruning
        self.dense = dense
        self.side = side
        self.starts = list(range(0, self.n_rows, side))
        span = side * (1 if dense is not None else max(1, WIDE_COLUMNS // side))
        self.ranges = [(start, min(start + span, self.n_rows)) for start in range(0, self.n_rows, span)]
        self.transposed = [vectors[start:stop].T.tocsr() for start, stop in self.ranges]

    def pairs(self) -> Iterator[tuple[int, int]]:
        """(row block, column range) for every range reaching past the block's first row."""
        for r, start in enumerate(self.starts):
            for g, (_, stop) in enumerate(self.ranges):
                if stop > start + 1:
                    yield r, g

    def candidates(
        self, pair: tuple[int, int], width: int, floor: Callable[[int, int], np.ndarray] | None = None
    ) -> Lists:
        """Each row's and column's best ``width`` of tile ``pair`` at or above the floors."""
        from ._prune_kernel import tile_top_pruned

        r, g = pair
        row_start, (col_start, col_stop) = self.starts[r], self.ranges[g]
        n_r, n_c = min(self.side, self.n_rows - row_start), col_stop - col_start
        row_cols = np.empty((n_r, width), dtype=np.int32)
        row_values = np.empty((n_r, width), dtype=np.float32)
        col_rows = np.empty((n_c, width), dtype=np.int32)
        col_values = np.empty((n_c, width), dtype=np.float32)
        dense_tile = _NO_DENSE
        if self.dense is not None:
            rows, cols = self.dense[row_start : row_start + n_r], self.dense[col_start:col_stop]
            dense_tile = np.asarray(rows @ cols.T, dtype=np.float32)
        matrix, right, pruning = self.matrix, self.transposed[g], self.pruning
        tile_top_pruned(
            matrix.indptr, matrix.indices, matrix.data, pruning.heavy_count, pruning.norms, row_start,
            col_start, right.indptr, right.indices, right.data, pruning.slack,
            self._floor(floor, row_start, n_r), self._floor(floor, col_start, n_c),
            row_cols, row_values, col_rows, col_values, SCRATCH.zeros("scores", n_c),
            SCRATCH.zeros("terms", matrix.shape[1]), dense_tile,
        )  # fmt: skip
        np.add(row_cols, col_start, out=row_cols, where=row_cols >= 0)
        np.add(col_rows, row_start, out=col_rows, where=col_rows >= 0)
        return Lists(row_start, row_cols, row_values, col_start, col_rows, col_values)

    def _floor(self, floor: Callable[[int, int], np.ndarray] | None, start: int, count: int) -> np.ndarray:
        """The floors of rows ``start…``: the answer's so far, and the seeds."""
        seeds = self.pruning.floors[start : start + count]
        if floor is None:
            return np.asarray(np.maximum(seeds, SMALLEST_POSITIVE), dtype=np.float32)
        return np.asarray(np.maximum(floor(start, start + count), seeds), dtype=np.float32)
