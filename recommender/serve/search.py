"""Exact top-k search over a model's stored rows: the scan behind every list not read from the stored top-k.

Past an article's stored list, for a draft, and for the candidates ranking controls ask for, the engine
needs the best rows for a query row by canonical score (:mod:`recommender.score.canonical`). It is found
exactly and pruned (MaxScore) over the inverted index the model stores: query terms are taken by their
largest possible contribution; once the terms left cannot lift a row that none of the taken terms reached
up to the current ``width``-th best score, only the rows already reached stay candidates, and each further
term updates and prunes those few. The survivors are then scored canonically, so the result is the
exhaustive product's, to the bit. A model without an inverted index (written before it existed) is scanned
in full instead, with the same result. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..score.canonical import Query, RowArrays, query_scores

__all__ = ["Postings", "Search"]

# Slack for float32 rounding in pruning bounds: a row is dropped only when clearly below.
_SLACK = 1e-5
# Postings read to update the pruning threshold after each term (a lower bound from any subset is valid).
_THETA_SAMPLE = 16_384
# Candidates are looked up in a term's postings by binary search unless a scatter of the whole list is
# cheaper: candidates * log2(postings) > this factor * postings.
_DENSE_FACTOR = 4
# Below this many candidates, they are pruned only every few terms (each pruning has a fixed cost).
_FEW = 2048
_PRUNE_EVERY = 4
# Stored entries one query term is worth: the fixed cost of a term in the pruned walk, in entries scanned.
_SCAN_PER_TERM = 4096


@dataclass(frozen=True)
class Postings:
    """The term part of the search rows inverted: per term, the rows holding it and their scaled weights.

    Hidden near-duplicates are left out (they are never listed), and ``max_weight`` is each term's
    largest weight, the bound the pruning needs.
    """

    indptr: np.ndarray
    rows: np.ndarray
    weights: np.ndarray
    max_weight: np.ndarray

    def of(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and weights of term ``column``."""
        start, stop = int(self.indptr[column]), int(self.indptr[column + 1])
        return self.rows[start:stop], self.weights[start:stop]


class Search:
    """The best rows for a query by canonical score, exactly, among the rows a mask allows."""

    def __init__(self, rows: RowArrays, postings: Postings | None) -> None:
        self.rows = rows
        self.postings = postings
        self._entry_rows: np.ndarray | None = None

    def scores(self, query: Query, which: np.ndarray) -> np.ndarray:
        """Canonical scores of ``query`` with the rows ``which``."""
        return query_scores(self.rows, query, which)

    def best(self, query: Query, width: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The ``width`` best rows with a positive score, sorted by ``(-score, row)``, and their scores.

        ``allowed`` is a boolean per row (None: every row); rows it leaves out are never returned.
        """
        n_rows = self.rows.n_rows
        available = n_rows if allowed is None else int(np.count_nonzero(allowed))
        width = min(width, available)
        if width <= 0 or query.empty:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if self.postings is None or self._scan_is_cheaper(query):
            survivors = self._survivors_by_scan(query, allowed, width)
        else:
            survivors = self._survivors(query, allowed, width)
        scores = self.scores(query, survivors)
        order = np.lexsort((survivors, -scores))[:width]
        rows, found = survivors[order], scores[order]
        positive = found > 0
        return rows[positive].astype(np.int32), found[positive].astype(np.float32)

    def _scan_is_cheaper(self, query: Query) -> bool:
        """Whether one pass over every stored entry costs less than walking the query's postings term by
        term (each term costs a few numpy calls; long queries on small models are scanned)."""
        postings = self.postings
        assert postings is not None
        touched = int((postings.indptr[query.columns + 1] - postings.indptr[query.columns]).sum())
        return int(self.rows.indptr[-1]) <= _SCAN_PER_TERM * query.columns.size + 2 * touched

    def _partial_start(
        self, query: Query, allowed: np.ndarray | None, width: int
    ) -> tuple[np.ndarray, float]:
        """Scores before any term is added (the LSA part, or zeros) and a lower bound of the width-th best."""
        n_rows = self.rows.n_rows
        theta = -np.inf
        if query.dense is not None and self.rows.dense is not None:
            scores = np.asarray(self.rows.dense @ query.dense, dtype=np.float32)
            eligible = scores if allowed is None else np.where(allowed, scores, -np.inf).astype(np.float32)
            theta = float(np.partition(eligible, n_rows - width)[n_rows - width])
        else:
            scores = np.zeros(n_rows, dtype=np.float32)
        return scores, theta

    def _survivors(self, query: Query, allowed: np.ndarray | None, width: int) -> np.ndarray:
        """Rows that may be among the ``width`` best (a superset, found by MaxScore pruning)."""
        postings = self.postings
        assert postings is not None
        columns, values = query.columns, query.values
        scores, theta = self._partial_start(query, allowed, width)
        bounds = values * postings.max_weight[columns]
        # Terms in order of postings per unit of bound: the terms left out at the end (long lists that
        # add little) are then the most work saved for the bound they leave open (a greedy knapsack).
        lengths = (postings.indptr[columns + 1] - postings.indptr[columns]).astype(np.float64)
        order = np.argsort(lengths / np.maximum(bounds, 1e-30), kind="stable")
        rest = np.concatenate([np.cumsum(bounds[order][::-1])[::-1], [0.0]])
        taken = 0
        while taken < len(order):
            position = order[taken]
            rows, weights = postings.of(int(columns[position]))
            scores[rows] += values[position] * weights
            taken += 1
            if taken % 4 and rest[taken] >= 2 * theta:
                continue  # far from stopping: refresh the threshold only now and then
            sample = rows[:_THETA_SAMPLE]
            reached = scores[sample] if allowed is None else scores[sample][allowed[sample]]
            if reached.size >= width:
                theta = max(theta, float(np.partition(reached, reached.size - width)[reached.size - width]))
            if rest[taken] < theta - _SLACK:
                break
        open_rows = scores + np.float32(rest[taken]) >= theta - _SLACK
        if taken == len(order) and query.dense is None:
            open_rows &= scores > 0  # every term is counted: a row none of them reached scores 0
        if allowed is not None:
            open_rows &= allowed
        candidates = np.flatnonzero(open_rows)
        for step in range(taken, len(order)):
            position = order[step]
            rows, weights = postings.of(int(columns[position]))
            if not rows.size:
                continue
            if candidates.size * max(int(rows.size).bit_length(), 1) > _DENSE_FACTOR * rows.size:
                scores[rows] += values[position] * weights  # many candidates: a scatter is cheaper
            else:
                places = np.searchsorted(rows, candidates)
                places[places >= rows.size] = rows.size - 1
                hit = rows[places] == candidates
                scores[candidates[hit]] += values[position] * weights[places[hit]]
            if candidates.size > _FEW or (step - taken) % _PRUNE_EVERY == 0:
                candidates = _prune(scores, candidates, float(rest[step + 1]), theta, width)
        # Every term is counted now (in another order than the canonical one, hence the slack).
        return _prune(scores, candidates, 0.0, theta, width)

    def _survivors_by_scan(self, query: Query, allowed: np.ndarray | None, width: int) -> np.ndarray:
        """Like :meth:`_survivors` without an inverted index: every row's score, in one pass over all rows."""
        rows = self.rows
        if self._entry_rows is None:
            self._entry_rows = np.repeat(np.arange(rows.n_rows, dtype=np.int32), np.diff(rows.indptr))
        weights = np.zeros(rows.n_terms, dtype=np.float32)
        weights[query.columns] = query.values
        contributions = weights[rows.indices] * (np.asarray(rows.data, dtype=np.float32) * rows.scale)
        scores, _ = self._partial_start(query, allowed, width)
        scores += np.bincount(self._entry_rows, weights=contributions, minlength=rows.n_rows).astype(
            np.float32
        )
        if query.dense is None:
            candidates = np.flatnonzero((scores > 0) if allowed is None else (scores > 0) & allowed)
        else:
            candidates = np.flatnonzero(np.ones(rows.n_rows, bool) if allowed is None else allowed)
        return _prune(scores, candidates, 0.0, -np.inf, width)


def _prune(scores: np.ndarray, candidates: np.ndarray, rest: float, theta: float, width: int) -> np.ndarray:
    """The candidates that can still reach the width-th best score (``rest``: what they may gain)."""
    partial = scores[candidates]
    sample = partial[:_THETA_SAMPLE]  # a lower bound from any subset is valid, and a small one cheap
    if sample.size > width:
        theta = max(theta, float(np.partition(sample, sample.size - width)[sample.size - width]))
    kept: np.ndarray = candidates[partial + np.float32(rest) >= theta - _SLACK]
    return kept
