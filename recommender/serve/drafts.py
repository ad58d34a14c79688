"""Scoring unpublished drafts against a saved model with numpy and the standard library only.

The build stack analyses text with NLTK's Snowball stemmers; a serving process cannot. So the build
stores what analysis needs as tables in the model folder: every surface token seen in the corpus (per
language, after the analyzer's normalisation) with the term it became, the stop words and lengths
(``analyzer.json``), and the search vectors inverted (term-major postings, memory-mapped). A draft is
tokenised by the shared rules of :func:`recommender.text.analyzer.tokens_of`, each token looked up in the
table, and weighted exactly as ``Recommender.vectorize`` weighs it.

What is lost: a token never seen in the corpus (in the draft's language) cannot be stemmed here, so it
reaches no vocabulary term even when its stem is one ("sanctioning" in a corpus that only ever wrote
"sanctions"); it still counts as a kept word, so it breaks bigrams as the full analyzer's stem would.
On BBC news drafts held out of a 2,000-article model, 1.9% of tokens were unseen and 160 of 200
top-8 lists were identical (99.5% set overlap; ``python -m benchmarks.drafts``).
Everything else matches ``Recommender.query``: same links, order and scores (to float32 rounding).

Scoring is exact and pruned (MaxScore): query terms are taken by their largest possible contribution;
once the terms left cannot lift an article that none of the taken terms reached up to the current
``width``-th best score, only the articles already reached stay candidates, and each further term
updates and prunes those few. The survivors' scores are then recomputed in the order scipy's sparse
product adds them, so the result equals the build stack's exhaustive product.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np

from .. import store as fmt
from ..score.rerank import candidate_width, rerank
from ..store.names import FORM_DROPPED as _DROPPED
from ..store.names import FORM_NO_TERM as _NO_TERM
from ..store.names import QUERY_DOCUMENT as DOCUMENT
from ..store.names import QUERY_FORM_TABLE as _FORM_TABLE
from ..store.names import QUERY_FORM_TERMS as _FORM_TERMS
from ..store.names import QUERY_FORMS as _FORMS
from ..store.names import QUERY_HIDDEN as _HIDDEN
from ..store.names import QUERY_LSA as _LSA
from ..store.names import QUERY_MAX_WEIGHT as _MAX_WEIGHT
from ..store.names import QUERY_POSTINGS_INDPTR as _POSTINGS_INDPTR
from ..store.names import QUERY_POSTINGS_ROWS as _POSTINGS_ROWS
from ..store.names import QUERY_POSTINGS_WEIGHTS as _POSTINGS_WEIGHTS
from ..store.names import QUERY_ROW_LANGUAGES as _ROW_LANGUAGES
from ..store.names import QUERY_TABLES_VERSION as TABLES_VERSION
from ..store.names import QUERY_TERM_TABLE as _TERM_TABLE
from ..store.names import QUERY_TERMS as _TERMS
from ..text.analyzer import is_dropped, tokens_of
from ..text.languages import detect_language, language_code
from ..types import InvalidParameterError, ModelFormatError

__all__ = ["DOCUMENT", "Drafts", "stored_languages", "stored_lsa"]

# Slack for float32 rounding in pruning bounds: an article is dropped only when clearly below.
_SLACK = 1e-5
# Postings read to update the pruning threshold after each term (a lower bound from any subset is valid).
_THETA_SAMPLE = 16_384
# Candidates are looked up in a term's postings by binary search unless a scatter of the whole list is
# cheaper: candidates * log2(postings) > this factor * postings.
_DENSE_FACTOR = 4
# Below this many candidates, they are pruned only every few terms (each pruning has a fixed cost).
_FEW = 2048
_PRUNE_EVERY = 4


def stored_languages(folder: fmt.ModelFolder) -> list[str] | None:
    """Every article's language as the draft tables store it (None when the folder has no tables)."""
    if not folder.has(_ROW_LANGUAGES) or not folder.has(DOCUMENT):
        return None
    present = list(folder.document(DOCUMENT).get("languages", []))
    codes = np.asarray(folder.array(_ROW_LANGUAGES)).tolist()
    return [present[code] for code in codes] if all(0 <= c < len(present) for c in set(codes)) else None


def stored_lsa(folder: fmt.ModelFolder) -> tuple[np.ndarray, np.ndarray] | None:
    """The LSA part of the search rows as the draft tables store it, and the rows zeroed there (hidden).

    The build side reuses it instead of projecting every article again (``blend_rows(known=...)``).
    """
    if not folder.has(_LSA) or not folder.has(_HIDDEN):
        return None
    return folder.array(_LSA), folder.array(_HIDDEN)


class Drafts:
    """The draft-scoring tables of one model folder, opened (memory-mapped) on the first query."""

    def __init__(self, folder: fmt.ModelFolder) -> None:
        if not folder.has(DOCUMENT):
            message = (
                f"{folder.path}: this model has no tables for querying drafts without the build stack "
                f"(it was written by an older version); rebuild it with: recommender build CORPUS -o "
                f"{folder.path}, or use Recommender.load(path).query(...)"
            )
            raise ModelFormatError(message)
        self.document: dict[str, Any] = folder.document(DOCUMENT)
        if int(self.document.get("tables_version", 0)) != TABLES_VERSION:
            message = f"{folder.path}: unknown draft table version; rebuild it with: recommender build"
            raise ModelFormatError(message)
        analyzers = folder.document(fmt.ANALYZER)
        by_language = dict(analyzers.get("languages") or {analyzers.get("language", "en"): analyzers})
        self._stop = {code: frozenset(s.get("stop_words", [])) for code, s in by_language.items()}
        self._min_length = {code: int(s.get("min_length", 2)) for code, s in by_language.items()}
        keys = folder.strings(_FORMS)
        self._forms = fmt.IdTable(keys, folder.array(_FORM_TABLE))
        self._form_terms = folder.array(_FORM_TERMS).view(np.ndarray)
        terms = folder.strings(_TERMS)
        self._terms = terms
        self._term_table = fmt.IdTable(terms, folder.array(_TERM_TABLE))
        self._indptr = np.asarray(folder.array(_POSTINGS_INDPTR))
        self._rows = folder.array(_POSTINGS_ROWS).view(np.ndarray)
        self._weights = folder.array(_POSTINGS_WEIGHTS).view(np.ndarray)
        self._max_weight = folder.array(_MAX_WEIGHT).view(np.ndarray)
        self._idf = np.asarray(folder.array(fmt.IDF), dtype=np.float64)
        self._row_languages = folder.array(_ROW_LANGUAGES).view(np.ndarray)
        self._hidden = np.asarray(folder.array(_HIDDEN), dtype=np.int64)
        # The stored rows (forward index): the final candidates are scored from them exactly.
        self._row_starts = np.asarray(folder.array(fmt.VECTORS_INDPTR)).view(np.ndarray)
        self._row_terms = folder.array(fmt.VECTORS_INDICES).view(np.ndarray)
        self._row_weights = folder.array(fmt.VECTORS_DATA).view(np.ndarray)
        self._lsa = folder.array(_LSA).view(np.ndarray) if folder.has(_LSA) else None
        self._components = folder.array("lsa_components").view(np.ndarray) if self._lsa is not None else None
        self._hubs = folder.array("hubs").view(np.ndarray) if folder.has("hubs") else None
        self._hub_weight = float(folder.parameters.get("hub_weight", 0.0))
        self._n_rows = int(self._row_languages.shape[0])
        weight = float(self.document["lsa_weight"]) if self._lsa is not None else 0.0
        # The blend scales the term part by sqrt(1 - weight), in float32, as recommender.build.blend does.
        self._scale = np.float32(math.sqrt(1.0 - weight)) if weight > 0 else np.float32(1.0)
        self._n_terms = int(self.document["vocabulary_size"])
        self._members: dict[str, np.ndarray | None] = {}

    # --- analysis --------------------------------------------------------------------------------------

    def language(self, text: str, lang: str | None) -> str:
        """The language a draft is analysed in, decided as ``Recommender.query_language`` decides it."""
        if lang is not None:
            return language_code(lang)
        setting = str(self.document.get("language", "auto"))
        if setting != "auto":
            return setting
        present: list[str] = self.document["languages"]
        if len(present) == 1:
            return present[0]
        return detect_language(text)

    def _term_numbers(self, text: str, language: str) -> list[int]:
        """The term numbers of ``text``'s kept tokens, in order (``_NO_TERM`` when not in the table)."""
        stop = self._stop[language]
        min_length = self._min_length[language]
        numbers: dict[str, int] = {}
        found: list[int] = []
        for token in tokens_of(text, language):
            number = numbers.get(token)
            if number is None:
                row = self._forms.row(f"{language} {token}")
                if row is not None:
                    number = int(self._form_terms[row])
                else:
                    number = _DROPPED if is_dropped(token, stop, min_length) else _NO_TERM
                numbers[token] = number
            if number != _DROPPED:
                found.append(number)
        return found

    def _columns(self, text: str, language: str) -> list[int]:
        numbers = self._term_numbers(text, language)
        columns = [number for number in numbers if 0 <= number < self._n_terms]
        if self.document["ngrams"] == 2:
            for first, second in pairwise(numbers):
                if first >= 0 and second >= 0:
                    row = self._term_table.row(f"{self._terms[first]} {self._terms[second]}")
                    if row is not None and row < self._n_terms:
                        columns.append(row)
        return columns

    def vector(self, text: str, title: str, language: str) -> tuple[np.ndarray, np.ndarray]:
        """The draft's weighted, L2-normalised term vector: sorted columns and float32 values."""
        if language not in self._stop:
            known = ", ".join(sorted(self._stop))
            message = (
                f"this model has no analysis tables for language {language!r} (it has: {known}); "
                "pass lang= one of those, or use Recommender.query, which can stem any language"
            )
            raise InvalidParameterError(message)
        counts: dict[int, float] = {}
        title_weight = float(self.document["title_weight"])
        # Added one occurrence at a time, body then title, as Recommender.vectorize adds them.
        for part, weight in ((text, 1.0), (title, title_weight)):
            if weight:
                for column in self._columns(part, language):
                    counts[column] = counts.get(column, 0.0) + weight
        columns = np.array(sorted(counts), dtype=np.int64)
        tf = np.array([counts[column] for column in columns.tolist()], dtype=np.float64)
        if self.document["tf"] == "bm25":
            k1, b = float(self.document["bm25_k1"]), float(self.document["bm25_b"])
            reference = float(self.document["reference_length"])
            scale = 1.0 - b + b * tf.sum() / reference if reference > 0 else 1.0
            weights = tf * (k1 + 1.0) / (tf + k1 * scale)
        else:
            weights = 1.0 + np.log(tf)
        weights = weights * self._idf[columns]
        norm = math.sqrt(float((weights * weights).sum()))
        weights = weights / (norm if norm > 0 else 1.0)
        return columns, weights.astype(np.float32)

    # --- scoring ---------------------------------------------------------------------------------------

    def _allowed(self, language: str) -> np.ndarray | None:
        """Rows a draft in ``language`` may link to (None: every row): not hidden, in its language."""
        present: list[str] = self.document["languages"]
        partitioned = not self.document["cross_language"] and len(present) > 1
        if not partitioned and not self._hidden.size:
            return None
        key = language if partitioned else ""
        if key not in self._members:
            if partitioned:
                code = present.index(language) if language in present else -1
                mask = self._row_languages == code
            else:
                mask = np.ones(self._n_rows, dtype=bool)
            mask[self._hidden] = False
            self._members[key] = mask
        return self._members[key]

    def best(
        self, text: str, title: str, lang: str | None, k: int, *, blocked: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the ``k`` best articles for a draft, re-ranked as the model ranks;
        ``blocked`` (a boolean per row) leaves rows out before ranking."""
        language = self.language(f"{title}\n{text}", lang)
        allowed = self._allowed(language)
        if blocked is not None:
            allowed = ~blocked if allowed is None else allowed & ~blocked
        nothing = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if allowed is not None and not allowed.any():
            return nothing  # no article in the draft's language (the full model answers the same)
        columns, values = self.vector(text, title, language)
        if not columns.size:
            return nothing  # no known term: every score is 0 (with an LSA part too: it projects to 0)
        lsa_query = self._lsa_query(columns, values)
        if self._lsa is not None:
            values = values * np.float32(math.sqrt(1.0 - float(self.document["lsa_weight"])))
        width = candidate_width(k) if self._hubs is not None else k
        available = self._n_rows if allowed is None else int(allowed.sum())
        width = min(width, available)
        if width <= 0:
            return nothing
        survivors = self._survivors(columns, values, lsa_query, allowed, width)
        scores = self._exact(survivors, columns, values, lsa_query)
        order = np.lexsort((survivors, -scores))[:width]
        rows, found = survivors[order], scores[order]
        positive = found > 0
        rows, found = rows[positive].astype(np.int32), found[positive].astype(np.float32)
        if self._hubs is not None:
            ranked_rows, ranked_scores = rerank(
                rows[None, :], found[None, :], self._hubs, hub_weight=self._hub_weight, k=k
            )
            return ranked_rows[0], ranked_scores[0]
        return rows[:k], found[:k]

    def _lsa_query(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray | None:
        """The draft's LSA part as the blend computes it (None without a projection)."""
        if self._lsa is None or self._components is None:
            return None
        projected = np.asarray(self._components[:, columns] @ values, dtype=np.float64)
        norm = float(np.linalg.norm(projected))
        weight = float(self.document["lsa_weight"])
        return (projected * (math.sqrt(weight) / (norm if norm > 0 else 1.0))).astype(np.float32)

    def _postings(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = int(self._indptr[column]), int(self._indptr[column + 1])
        return self._rows[start:stop], self._weights[start:stop]

    def _survivors(
        self,
        columns: np.ndarray,
        values: np.ndarray,
        lsa_query: np.ndarray | None,
        allowed: np.ndarray | None,
        width: int,
    ) -> np.ndarray:
        """Rows that may be among the ``width`` best (a superset, found by MaxScore pruning)."""
        n_rows = self._n_rows
        if lsa_query is not None and self._lsa is not None:
            scores = np.asarray(self._lsa @ lsa_query, dtype=np.float32)
        else:
            scores = np.zeros(n_rows, dtype=np.float32)
        eligible = scores if allowed is None else np.where(allowed, scores, -np.inf).astype(np.float32)
        # theta: a lower bound of the width-th best final score (partial sums never exceed final ones).
        theta = -np.inf
        if lsa_query is not None:
            theta = float(np.partition(eligible, n_rows - width)[n_rows - width])
        bounds = values * self._max_weight[columns]
        # Terms in order of postings per unit of bound: the terms left out at the end (long lists that
        # add little) are then the most work saved for the bound they leave open (a greedy knapsack).
        lengths = (self._indptr[columns + 1] - self._indptr[columns]).astype(np.float64)
        order = np.argsort(lengths / np.maximum(bounds, 1e-30), kind="stable")
        rest = np.concatenate([np.cumsum(bounds[order][::-1])[::-1], [0.0]])
        taken = 0
        while taken < len(order):
            position = order[taken]
            rows, weights = self._postings(int(columns[position]))
            scores[rows] += values[position] * weights
            taken += 1
            if taken % 4 and rest[taken] >= 2 * theta:
                continue  # far from stopping: refresh the threshold only now and then
            # Any subset of the scores gives a lower bound of the width-th best; a capped slice is cheap.
            sample = rows[:_THETA_SAMPLE]
            reached = scores[sample] if allowed is None else scores[sample][allowed[sample]]
            if reached.size >= width:
                theta = max(theta, float(np.partition(reached, reached.size - width)[reached.size - width]))
            if rest[taken] < theta - _SLACK:
                break
        open_rows = scores + np.float32(rest[taken]) >= theta - _SLACK
        if taken == len(order) and lsa_query is None:
            open_rows &= scores > 0  # every term is counted: a row none of them reached scores 0
        if allowed is not None:
            open_rows &= allowed
        candidates = np.flatnonzero(open_rows)
        for step in range(taken, len(order)):
            position = order[step]
            rows, weights = self._postings(int(columns[position]))
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
                candidates = self._prune(scores, candidates, float(rest[step + 1]), theta, width)
        # Every term is counted now (in another order than scipy's, hence the slack): the final few.
        return self._prune(scores, candidates, 0.0, theta, width)

    @staticmethod
    def _prune(
        scores: np.ndarray, candidates: np.ndarray, rest: float, theta: float, width: int
    ) -> np.ndarray:
        """The candidates that can still reach the width-th best score (``rest``: what they may gain)."""
        partial = scores[candidates]
        sample = partial[:_THETA_SAMPLE]  # a lower bound from any subset is valid, and a small one cheap
        if sample.size > width:
            theta = max(theta, float(np.partition(sample, sample.size - width)[sample.size - width]))
        kept: np.ndarray = candidates[partial + np.float32(rest) >= theta - _SLACK]
        return kept

    def _exact(
        self, rows: np.ndarray, columns: np.ndarray, values: np.ndarray, lsa_query: np.ndarray | None
    ) -> np.ndarray:
        """Scores of ``rows``, summed in float32 term by term in column order, then the LSA dimensions,
        as scipy's sparse product sums them (so the scores equal the build stack's bit for bit)."""
        starts = self._row_starts[rows].astype(np.int64)
        lengths = self._row_starts[rows + 1] - starts
        owner = np.repeat(np.arange(rows.size), lengths)
        entries = np.arange(owner.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        entries += np.repeat(starts, lengths)
        query = np.zeros(self._n_terms, dtype=np.float32)
        query[columns] = values
        weights = query[self._row_terms[entries]]
        shared = np.flatnonzero(weights)
        owner = owner[shared]
        contributions = weights[shared] * (self._row_weights[entries[shared]] * self._scale)
        # Each row's shared terms come in column order; add them one position at a time across rows.
        first = np.searchsorted(owner, np.arange(rows.size))
        rank = np.arange(owner.size) - first[owner]
        table = np.zeros((rows.size, int(rank.max()) + 1 if rank.size else 0), dtype=np.float32)
        table[owner, rank] = contributions
        scores = np.zeros(rows.size, dtype=np.float32)
        for position in range(table.shape[1]):
            scores += table[:, position]
        if lsa_query is not None and self._lsa is not None:
            dense = self._lsa[rows]
            for dimension, value in enumerate(lsa_query.tolist()):
                scores += np.float32(value) * dense[:, dimension]
        return scores
