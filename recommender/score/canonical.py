"""Canonical scores: the one definition of the score of two rows, to the bit, for build and serve alike.

A search row is an article's TF-IDF row scaled by ``sqrt(1 - w)`` beside its LSA part scaled by
``sqrt(w)`` (see :mod:`recommender.score.blend`); the score of two rows is their dot product. Added in a
different order the same products round differently in float32, so "the" score is defined as scipy's sparse
product computes it: the float32 products of the shared term columns added one by one in column order,
then the products of the LSA dimensions in order. The build scores its candidate pools this way
(``recommender.build.pools``), and so does the serving side here, with numpy only: so a list computed at
lookup time equals a stored one, and ties break by ``(-score, row)`` identically everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Query", "RowArrays", "query_scores"]

# Rows scored at once: bounds the temporary table of per-row products.
_ROWS_PER_CHUNK = 4096


@dataclass(frozen=True)
class Query:
    """A row to score others against: sorted term columns, their scaled float32 weights, the LSA part."""

    columns: np.ndarray
    values: np.ndarray
    dense: np.ndarray | None = None

    @property
    def empty(self) -> bool:
        """True when the row has no term and no dense part (every score is then 0; an empty row projects
        to 0 in LSA, but a semantic part may still be given)."""
        return not self.columns.size and (self.dense is None or not bool(np.any(self.dense)))


@dataclass(frozen=True)
class RowArrays:
    """The stored search rows: TF-IDF rows as CSR arrays (unscaled), the term scale, the scaled LSA rows."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    scale: np.float32
    dense: np.ndarray | None
    n_terms: int

    @property
    def n_rows(self) -> int:
        """How many rows."""
        return int(self.indptr.shape[0]) - 1

    def query(self, row: int) -> Query:
        """Row ``row`` as a query (its scaled term weights and its LSA part)."""
        start, stop = int(self.indptr[row]), int(self.indptr[row + 1])
        columns = np.asarray(self.indices[start:stop], dtype=np.int64)
        values = np.asarray(self.data[start:stop], dtype=np.float32) * self.scale
        dense = None if self.dense is None else np.asarray(self.dense[row], dtype=np.float32)
        return Query(columns, values, dense)


def query_scores(rows: RowArrays, query: Query, which: np.ndarray) -> np.ndarray:
    """The canonical scores (float32) of ``query`` with each row of ``which``."""
    which = np.asarray(which, dtype=np.int64)
    scores = np.zeros(which.size, dtype=np.float32)
    weights = np.zeros(rows.n_terms, dtype=np.float32)
    weights[query.columns] = query.values
    for start in range(0, which.size, _ROWS_PER_CHUNK):
        chunk = which[start : start + _ROWS_PER_CHUNK]
        scores[start : start + chunk.size] = _term_sums(rows, weights, chunk)
    if query.dense is not None and rows.dense is not None:
        for start in range(0, which.size, _ROWS_PER_CHUNK):
            block = rows.dense[which[start : start + _ROWS_PER_CHUNK]] * query.dense  # float32 products
            # Continue each sum left to right over the dimensions (cumsum adds in order, in float32).
            running = np.concatenate([scores[start : start + block.shape[0], None], block], axis=1)
            scores[start : start + block.shape[0]] = np.cumsum(running, axis=1, dtype=np.float32)[:, -1]
    return scores


def _term_sums(rows: RowArrays, weights: np.ndarray, which: np.ndarray) -> np.ndarray:
    """The term part of each score, the shared columns' products added left to right in float32."""
    starts = np.asarray(rows.indptr[which], dtype=np.int64)
    lengths = np.asarray(rows.indptr[which + 1], dtype=np.int64) - starts
    owner = np.repeat(np.arange(which.size), lengths)
    entries = np.arange(owner.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    entries += np.repeat(starts, lengths)
    shared_weights = weights[rows.indices[entries]]
    shared = np.flatnonzero(shared_weights)
    owner = owner[shared]
    products = shared_weights[shared] * (np.asarray(rows.data[entries[shared]], np.float32) * rows.scale)
    # Each row's shared terms come in column order: add them one position at a time across the rows.
    first = np.searchsorted(owner, np.arange(which.size))
    rank = np.arange(owner.size) - first[owner]
    table = np.zeros((which.size, int(rank.max()) + 1 if rank.size else 0), dtype=np.float32)
    table[owner, rank] = products
    sums = np.zeros(which.size, dtype=np.float32)
    for position in range(table.shape[1]):
        sums += table[:, position]
    return sums
