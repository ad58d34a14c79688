"""Exact neighbour search: every row's top-k rows by cosine, over square tiles of the score matrix.

Rows are L2-normalised, so cosine is the dot product. The score matrix is symmetric, so it is cut into
square tiles and only the tiles on or above the diagonal are computed: each one serves its rows and,
transposed, its columns, which halves the multiplication work. Tiles are sparse products (scipy releases
the GIL in them, so a thread pool uses every core) turned into a small dense block. From each block only
the scores that can still enter a row's top-k are kept: those at least the row's current k-th best score
and at least the k-th best of a sample of the block (a lower bound of the block's own k-th best), so
nothing that belongs in the answer is ever dropped. Memory holds a few tiles and the ``N × k`` answer,
never ``N × N`` scores. Ties are broken by ``(-score, row)``; zero scores are not neighbours (``-1``).

Terms are renumbered by falling document frequency first (scores do not change): the few frequent terms
that make most of the work then sit together in memory, which makes every tile product faster. With
the optional ``fast`` extra (numba) a compiled kernel (``recommender._tile_kernel``) scores each tile
row by row in cache and keeps only each row's and column's best, instead of a sparse product, a
dense block and numpy selection; both kernels give identical lists. Columns present in at least half
of the rows (the LSA projection's, see ``recommender.build.blend``) are taken out of the sparse product and
multiplied as a dense matrix (BLAS), where they cost a small fraction of a sparse accumulation.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ..settings import DEFAULT_MEMORY_BUDGET
from ..types import InvalidParameterError
from .pruning import PrunedPlan, plan_pruning
from .tiles import Best, Found, TilePlan, numba_available

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "KERNELS",
    "block_rows",
    "default_threads",
    "numba_available",
    "plan_tiles",
    "resolve_kernel",
    "tile_rows",
    "top_k",
    "top_k_of",
]

#: Tile kernels: ``auto`` takes ``numba`` when it is installed and the matrix is large enough to repay
#: loading it, else ``scipy``.
KERNELS = ("auto", "numba", "scipy")
#: Below this many rows ``auto`` uses scipy: loading numba costs more than the compiled kernel saves.
NUMBA_MIN_ROWS = 1000
_FAST_EXTRA = "pip install 'recommender[fast]'"
#: Columns holding a non-zero in at least this share of the rows are multiplied as a dense matrix.
DENSE_SHARE = 0.5

#: Bytes the score blocks may use during the all-pairs search.
# float32 scores, a partitioned copy and the boolean mask per score, with headroom.
_BYTES_PER_SCORE = 12
# Per score of a tile: the sparse product (value + index), the dense block, masks and samples.
_BYTES_PER_TILE_SCORE = 24


def default_threads() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def block_rows(n_rows: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """How many rows one block may hold so that its ``rows × n_rows`` scores fit ``memory_budget``."""
    _check_budget(memory_budget)
    return int(max(1, min(n_rows, memory_budget // max(1, n_rows * _BYTES_PER_SCORE))))


def tile_rows(n_rows: int, memory_budget: int = DEFAULT_MEMORY_BUDGET, *, threads: int = 1) -> int:
    """Side of the square tiles so that the tiles in flight (one per thread, plus one) fit the budget."""
    _check_budget(memory_budget)
    in_flight = max(1, threads) + 1
    side = math.isqrt(max(1, memory_budget // (_BYTES_PER_TILE_SCORE * in_flight)))
    return int(max(1, min(n_rows, side)))


def resolve_kernel(kernel: str, n_rows: int) -> str:
    if kernel not in KERNELS:
        message = f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}"
        raise InvalidParameterError(message)
    if kernel == "numba" and not numba_available():
        message = f"kernel='numba' needs numba, which is not installed; install it with: {_FAST_EXTRA}"
        raise InvalidParameterError(message)
    if kernel == "auto":
        return "numba" if n_rows >= NUMBA_MIN_ROWS and numba_available() else "scipy"
    return kernel


def column_order(frequency: np.ndarray, n_rows: int) -> tuple[np.ndarray, int]:
    """Each column's new number, by falling document ``frequency`` (ties by column), and how many of the
    leading ones are present in at least ``DENSE_SHARE`` of the ``n_rows`` rows (kept dense)."""
    order = np.argsort(-frequency, kind="stable")
    rank = np.empty(frequency.size, dtype=np.int32)
    rank[order] = np.arange(frequency.size, dtype=np.int32)
    count = int(np.count_nonzero(frequency >= DENSE_SHARE * n_rows))
    return rank, (0 if n_rows < 2 else count)


def reordered(
    vectors: sp.csr_matrix, rank: np.ndarray, count: int
) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """``vectors`` with its columns renumbered by ``rank`` (in place; dot products stay), split into the
    sparse rest and, as a dense array, the ``count`` leading columns."""
    vectors.indices = rank.astype(vectors.indices.dtype)[vectors.indices]
    vectors.has_sorted_indices = False
    vectors.sort_indices()
    if count == 0:
        return vectors, None
    dense = np.ascontiguousarray(vectors[:, :count].toarray(), dtype=np.float32)
    rest = sp.csr_matrix(vectors[:, count:], dtype=np.float32)
    rest.sort_indices()
    return rest, dense


def _reorder(vectors: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Columns renumbered by falling document frequency, split into the sparse rest and the dense
    leading columns (see :func:`column_order`). Renumbers ``vectors`` in place."""
    n_rows, n_cols = vectors.shape
    return reordered(vectors, *column_order(np.bincount(vectors.indices, minlength=n_cols), n_rows))


def _check_budget(memory_budget: int) -> None:
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 1:
        message = f"memory_budget must be a positive number of bytes, got {memory_budget!r}"
        raise InvalidParameterError(message)


TileMapper = Callable[[TilePlan, list[tuple[int, int]], int], Iterator[Found]]


def top_k(
    vectors: sp.csr_matrix,
    k: int,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    threads: int | None = None,
    mapper: TileMapper | None = None,
    kernel: str = "auto",
    dense: np.ndarray | None = None,
    prune: str | int = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """For every row, its ``k`` most similar other rows and their scores (exact).

    A row is ``vectors``' row beside ``dense``'s (rows × dims, when given): the LSA part of a blended
    search row, kept dense rather than joined into the sparse matrix.

    Returns ``(neighbors, scores)``: ``int32`` and ``float32`` arrays of shape ``(N, min(k, N - 1))``,
    each row sorted by descending score then ascending row; ``-1`` / ``0.0`` where fewer than that many
    rows have a positive score. ``threads`` defaults to every core this process may use;
    ``memory_budget`` (bytes) sizes the tiles; ``mapper`` runs the tiles elsewhere (see
    ``recommender.build.distributed``); ``kernel`` picks the tile kernel (see ``KERNELS``); ``prune``
    lets the compiled kernel skip pairs that cannot enter a list (``recommender.build.pruning``):
    ``"auto"`` when a cost model expects a gain, ``"off"``, or a number of heavy terms (tests).
    """
    n_rows = vectors.shape[0]
    kernel = resolve_kernel(kernel, n_rows)
    width = min(k, max(n_rows - 1, 0))
    best = Best(n_rows, width)
    if width == 0:
        return best.cols, best.scores
    threads = default_threads() if threads is None else max(1, int(threads))
    plan = plan_tiles(
        vectors,
        memory_budget=memory_budget,
        threads=threads,
        kernel=kernel,
        dense=dense,
        width=width,
        prune=prune if mapper is None else "off",  # Dask workers run the plain tiles (they may lack numba)
    )
    pairs = list(plan.pairs())
    if mapper is not None:
        assert isinstance(plan, TilePlan)
        for found in mapper(plan, pairs, width):
            best.merge(found)
        return best.cols, best.scores
    # Threads see the live floors, which only rise as results are merged: stale reads are safe.
    function = functools.partial(plan.candidates, width=width, floor=best.floor)
    # Our threads already fill the cores; BLAS threads inside each dense product would oversubscribe.
    with threadpool_limits(limits=1 if threads > 1 else None, user_api="blas"):
        for found in _local_mapper(threads)(function, pairs):
            best.merge(found)
    return best.cols, best.scores


def plan_tiles(
    vectors: sp.csr_matrix,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    threads: int = 1,
    kernel: str = "auto",
    dense: np.ndarray | None = None,
    width: int = 0,
    prune: str | int = "auto",
) -> TilePlan | PrunedPlan:
    """The tiles of the score triangle of ``vectors`` (beside ``dense``), ready to run: terms renumbered,
    columns present in most rows taken apart as dense columns, and with the compiled kernel the pruning
    of a search for each row's best ``width`` (see ``top_k``'s ``prune``)."""
    matrix = sp.csr_matrix(vectors, dtype=np.float32, copy=True)
    n_rows = matrix.shape[0]
    chosen = resolve_kernel(kernel, n_rows)
    matrix, frequent = _reorder(matrix)
    if dense is not None:
        given = np.ascontiguousarray(dense, dtype=np.float32)
        frequent = given if frequent is None else np.ascontiguousarray(np.hstack([frequent, given]))
    side = tile_rows(n_rows, memory_budget, threads=threads)
    if chosen == "numba" and width > 0 and prune != "off":
        force = None if prune == "auto" else _heavy_terms(prune)
        pruning = plan_pruning(matrix, frequent, width, threads=threads, side=side, force=force)
        if pruning is not None:
            return PrunedPlan(matrix, side, pruning, frequent)
    return TilePlan(matrix, side, kernel=chosen, dense=frequent)


def _heavy_terms(prune: str | int) -> int:
    if isinstance(prune, bool) or not isinstance(prune, int) or prune < 1:
        message = f"prune must be 'auto', 'off' or a positive number of heavy terms, got {prune!r}"
        raise InvalidParameterError(message)
    return prune


def _local_mapper(
    threads: int,
) -> Callable[[Callable[[tuple[int, int]], Found], list[tuple[int, int]]], Iterator[Found]]:
    """Tiles on a thread pool (scipy's products release the GIL), at most ``threads + 1`` in flight."""

    def run(function: Callable[[tuple[int, int]], Found], pairs: list[tuple[int, int]]) -> Iterator[Found]:
        if threads == 1:
            yield from map(function, pairs)
            return
        with ThreadPoolExecutor(threads) as pool:
            pending: list[Future[Found]] = []
            for pair in pairs:
                pending.append(pool.submit(function, pair))
                if len(pending) > threads:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()

    return run


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
