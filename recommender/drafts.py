"""Scoring unpublished drafts against a saved model with numpy and the standard library only.

The build stack analyses text with NLTK's Snowball stemmers; a serving process cannot. So the build
stores what analysis needs as tables in the model folder: every surface token seen in the corpus (per
language, after the analyzer's normalisation) with the term it became, the stop words and lengths
(``analyzer.json``), and the search vectors inverted (term-major postings, memory-mapped). A draft is
tokenised by the shared rules of :func:`recommender.analyzer.tokens_of`, each token looked up in the
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

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from . import format as fmt
from .analyzer import is_dropped, tokens_of
from .languages import detect_language, language_code
from .rerank import candidate_width, rerank
from .types import InvalidParameterError, ModelFormatError

__all__ = [
    "DOCUMENT",
    "Drafts",
    "StoredForms",
    "collect_forms",
    "draft_tables",
    "stored_languages",
    "stored_lsa",
]

DOCUMENT = "query"
_FORMS = "query_forms"
_FORM_TABLE = "query_form_table"
_FORM_TERMS = "query_form_terms"
_TERMS = "query_terms"
_TERM_TABLE = "query_term_table"
_POSTINGS_INDPTR = "query_postings_indptr"
_POSTINGS_ROWS = "query_postings_rows"
_POSTINGS_WEIGHTS = "query_postings_weights"
_MAX_WEIGHT = "query_max_weight"
_LSA = "query_lsa"
_ROW_LANGUAGES = "query_row_languages"
_HIDDEN = "query_hidden_rows"
#: Table format of the draft tables (inside model format version 2).
TABLES_VERSION = 1
_DROPPED = -1  # a stop word, a too-short token or digits
_NO_TERM = -2  # a kept token whose term is not in the vocabulary (or was never seen: not stemmable here)
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


def collect_forms(
    texts: Iterable[str], languages: Sequence[str], analyzers: Any
) -> dict[str, dict[str, str]]:
    """Per language, every surface token of ``texts`` and the term it becomes ("" when dropped).

    ``analyzers[language]`` is that language's :class:`recommender.analyzer.Analyzer` (build side).
    """
    seen: dict[str, set[str]] = {}
    for text, language in zip(texts, languages, strict=True):
        seen.setdefault(language, set()).update(tokens_of(text, language))
    if len(seen) > 1:
        # A draft may use words that only other languages' articles contain ("grain" in a French draft
        # of an English-French corpus): give every language those tokens too, read by its own rules.
        everything = set().union(*seen.values())
        for language, tokens in seen.items():
            tokens.update(*(tokens_of(token, language) for token in everything - tokens))
    return {
        language: {token: analyzers[language].verdict(token) for token in sorted(tokens)}
        for language, tokens in sorted(seen.items())
    }


def draft_tables(
    *,
    forms: Mapping[str, Mapping[str, str]] | StoredForms,
    vocabulary: Sequence[str],
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    lsa_rows: np.ndarray | None,
    row_languages: Sequence[str],
    hidden_rows: Sequence[int],
    settings: Mapping[str, Any],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the JSON document ``Drafts`` reads, from a fitted model's parts.

    ``forms`` is language -> token -> term, or the form and term tables already made (``StoredForms``).
    ``candidates`` is the CSR triple of the term part of the search matrix transposed (terms × articles,
    hidden duplicates removed); ``lsa_rows`` its dense LSA part (articles × dims) or None;
    ``hidden_rows`` the duplicates never listed.
    """
    n_terms = len(vocabulary)
    bigrams = int(settings.get("ngrams", 1)) == 2
    arrays: dict[str, np.ndarray] = {}
    if isinstance(forms, StoredForms):
        arrays.update({name: np.asarray(forms.arrays[name]) for name in StoredForms.NAMES})
    else:
        arrays.update(_form_arrays(forms, vocabulary, bigrams=bigrams))
    data, indices, indptr = candidates
    arrays[_POSTINGS_INDPTR] = np.asarray(indptr[: n_terms + 1], dtype=np.int64)
    arrays[_POSTINGS_ROWS] = np.asarray(indices, dtype=np.int32)
    arrays[_POSTINGS_WEIGHTS] = np.asarray(data, dtype=np.float32)
    lengths = np.diff(arrays[_POSTINGS_INDPTR])
    maxima = np.zeros(n_terms, dtype=np.float32)
    filled = lengths > 0
    if filled.any():
        starts = arrays[_POSTINGS_INDPTR][:-1][filled]
        maxima[filled] = np.maximum.reduceat(arrays[_POSTINGS_WEIGHTS], starts)
    arrays[_MAX_WEIGHT] = maxima
    present = sorted(set(row_languages))
    code = {language: position for position, language in enumerate(present)}
    arrays[_ROW_LANGUAGES] = np.asarray([code[language] for language in row_languages], dtype=np.uint16)
    arrays[_HIDDEN] = np.asarray(sorted(hidden_rows), dtype=np.int32)
    if lsa_rows is not None:
        arrays[_LSA] = np.ascontiguousarray(lsa_rows, dtype=np.float32)
    document = {
        "tables_version": TABLES_VERSION,
        "vocabulary_size": n_terms,
        "languages": present,
        "language": settings.get("language", "auto"),
        "cross_language": bool(settings.get("cross_language", False)),
        "title_weight": float(settings.get("title_weight", 1.0)),
        "tf": settings.get("tf", "log"),
        "bm25_k1": float(settings.get("bm25_k1", 1.2)),
        "bm25_b": float(settings.get("bm25_b", 0.75)),
        "reference_length": float(settings.get("reference_length", 0.0)),
        "lsa_weight": float(settings.get("lsa_weight", 0.0)) if lsa_rows is not None else 0.0,
        "ngrams": 2 if bigrams else 1,
    }
    return arrays, document


def _form_arrays(
    forms: Mapping[str, Mapping[str, str]], vocabulary: Sequence[str], *, bigrams: bool
) -> dict[str, np.ndarray]:
    """The form and term tables (``StoredForms.NAMES``) from every form."""
    column = {term: position for position, term in enumerate(vocabulary)}
    arrays: dict[str, np.ndarray] = {}
    extras = sorted(
        {term for table in forms.values() for term in table.values() if term and term not in column}
    )
    terms = list(vocabulary) + (extras if bigrams else [])
    number = {term: position for position, term in enumerate(terms)}
    keys: list[str] = []
    verdicts: list[int] = []
    for language in sorted(forms):
        for token, term in sorted(forms[language].items()):
            keys.append(f"{language} {token}")
            verdicts.append(_DROPPED if not term else number.get(term, _NO_TERM))
    arrays[f"{_FORMS}_bytes"], arrays[f"{_FORMS}_offsets"] = fmt.StringTable.encode(keys)
    arrays[_FORM_TABLE] = fmt.IdTable.build(keys)
    arrays[_FORM_TERMS] = np.asarray(verdicts, dtype=np.int32)
    arrays[f"{_TERMS}_bytes"], arrays[f"{_TERMS}_offsets"] = fmt.StringTable.encode(terms)
    arrays[_TERM_TABLE] = fmt.IdTable.build(terms)
    return arrays


class StoredForms:
    """A saved model's surface-form tables as stored, so an update can add forms without decoding all.

    The arrays are the ones :func:`draft_tables` writes (the "language token" keys in sorted order,
    their hash table and term numbers, and the term table).
    """

    NAMES = (
        f"{_FORMS}_bytes", f"{_FORMS}_offsets", _FORM_TABLE, _FORM_TERMS,
        f"{_TERMS}_bytes", f"{_TERMS}_offsets", _TERM_TABLE,
    )  # fmt: skip

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = dict(arrays)

    @classmethod
    def read(cls, folder: fmt.ModelFolder) -> StoredForms | None:
        """The tables of ``folder`` (memory-mapped), or None when it has none."""
        if not folder.has(DOCUMENT):
            return None
        return cls({name: folder.array(name) for name in cls.NAMES})

    def _strings(self, name: str) -> fmt.StringTable:
        return fmt.StringTable(self.arrays[f"{name}_bytes"], self.arrays[f"{name}_offsets"])

    def to_forms(self) -> dict[str, dict[str, str]]:
        """Every form, as :func:`collect_forms` returns them."""
        keys = self._strings(_FORMS).to_list()
        terms = self._strings(_TERMS).to_list()
        numbers = np.asarray(self.arrays[_FORM_TERMS]).tolist()
        forms: dict[str, dict[str, str]] = {}
        for key, number in zip(keys, numbers, strict=True):
            language, _, token = key.partition(" ")
            # A kept token without a stored term (ngrams=1, term outside the vocabulary) only needs to
            # stay "kept"; its exact stem does not matter to queries, so a placeholder that is no term.
            forms.setdefault(language, {})[token] = (
                "" if number == _DROPPED else terms[number] if number >= 0 else " "
            )
        return forms

    def merged(self, added: Mapping[str, Mapping[str, str]], *, bigrams: bool) -> StoredForms | None:
        """The tables with the forms ``added`` (language -> token -> term) included.

        New keys are inserted in their sorted places and into the hash table; the rest is kept as is.
        None when the term table would have to change (a bigram model meeting a term it does not
        store): then the caller writes the tables from all the forms.
        """
        terms = fmt.IdTable(self._strings(_TERMS), self.arrays[_TERM_TABLE])
        keys = self._strings(_FORMS)
        table = fmt.IdTable(keys, self.arrays[_FORM_TABLE])
        numbers = np.array(self.arrays[_FORM_TERMS], dtype=np.int32)
        fresh: list[tuple[str, int]] = []
        for language in sorted(added):
            for token, term in sorted(added[language].items()):
                key = f"{language} {token}"
                found = terms.row(term) if term else None
                if term and found is None and bigrams:
                    return None
                number = _DROPPED if not term else found if found is not None else _NO_TERM
                row = table.row(key)
                if row is None:
                    fresh.append((key, number))
                else:
                    numbers[row] = number
        arrays = dict(self.arrays)
        arrays[_FORM_TERMS] = numbers
        if not fresh:
            return StoredForms(arrays)
        fresh.sort()
        places = np.array([bisect.bisect_left(keys, key) for key, _ in fresh], dtype=np.int64)
        encoded = [key.encode("utf-8") for key, _ in fresh]
        sizes = np.array([len(item) for item in encoded], dtype=np.int64)
        offsets = np.asarray(self.arrays[f"{_FORMS}_offsets"], dtype=np.int64)
        data = np.insert(
            np.asarray(self.arrays[f"{_FORMS}_bytes"]),
            np.repeat(offsets[places], sizes),
            np.frombuffer(b"".join(encoded), dtype=np.uint8),
        )
        lengths = np.insert(np.diff(offsets), places, sizes)
        arrays[f"{_FORMS}_bytes"] = data
        arrays[f"{_FORMS}_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        arrays[_FORM_TERMS] = np.insert(numbers, places, [number for _, number in fresh]).astype(np.int32)
        grown = fmt.IdTable.grow(self.arrays[_FORM_TABLE], places, [key for key, _ in fresh])
        if grown is None:
            grown = fmt.IdTable.build(fmt.StringTable(data, arrays[f"{_FORMS}_offsets"]).to_list())
        arrays[_FORM_TABLE] = grown
        return StoredForms(arrays)


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
        # The blend scales the term part by sqrt(1 - weight), in float32, as recommender.blend does.
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
