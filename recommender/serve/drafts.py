"""Analysing an unpublished draft into the term counts an article of the model would have (numpy and stdlib).

The build stack analyses text with NLTK's Snowball stemmers, which a serving process may not have. So the
build stores what analysis needs: every surface token seen in the corpus (per language, after the
analyzer's normalisation) with the term it became, the stop words and lengths (``analyzer.json``) and the
term table. A draft is tokenised by the shared rules of :func:`recommender.text.analyzer.tokens_of` and
each token looked up there. A token the corpus never contains is stemmed by the stored analyzer when NLTK
is installed (as the build would stem it); without NLTK it still counts as a kept word (it breaks bigrams)
but reaches no term ("sanctioning" in a corpus that only ever wrote "sanctions"). On BBC news drafts held
out of a 2,000-article model, 1.9% of tokens were unseen (``python -m benchmarks.drafts``).
Models written before the tables existed are analysed by the stored analyzer alone (NLTK needed to stem).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np

from .. import store
from ..store.names import FORM_DROPPED, FORM_NO_TERM
from ..text.analyzer import Analyzer, is_dropped, tokens_of
from ..text.languages import detect_language, language_code
from ..types import InvalidParameterError

__all__ = ["DraftAnalyzer"]


class DraftAnalyzer:
    """Draft text to term counts in a stored model's vocabulary, per language, as the build counts."""

    def __init__(self, stored: Any, *, languages: list[str], stem_unseen: bool = True) -> None:
        parameters = stored.parameters
        analyzers = stored.document(store.ANALYZER)
        self._settings: dict[str, dict[str, Any]] = dict(
            analyzers.get("languages") or {analyzers.get("language", "en"): analyzers}
        )
        self._stop = {code: frozenset(s.get("stop_words", [])) for code, s in self._settings.items()}
        self._min_length = {code: int(s.get("min_length", 2)) for code, s in self._settings.items()}
        self._setting_language = str(parameters.get("language", "auto"))
        self._languages = languages
        self.title_weight = float(parameters.get("title_weight", 1.0))
        self.bigrams = int(parameters.get("ngrams", 1)) == 2
        self._stored = stored
        self._forms: store.IdTable | None = None
        self._form_terms: np.ndarray | None = None
        if stored.has(store.QUERY_DOCUMENT):
            self._forms = store.IdTable(
                stored.strings(store.QUERY_FORMS), stored.array(store.QUERY_FORM_TABLE)
            )
            self._form_terms = stored.array(store.QUERY_FORM_TERMS).view(np.ndarray)
            terms = stored.strings(store.QUERY_TERMS)
            table = store.IdTable(terms, stored.array(store.QUERY_TERM_TABLE))
            self._term_text: Callable[[int], str] = terms.__getitem__
            self._term_row: Callable[[str], int | None] = table.row
            self.n_terms = int(stored.document(store.QUERY_DOCUMENT)["vocabulary_size"])
        else:
            vocabulary: list[str] = stored.document(store.VOCABULARY)
            position = {term: column for column, term in enumerate(vocabulary)}
            self._term_text = vocabulary.__getitem__
            self._term_row = position.get
            self.n_terms = len(vocabulary)
        # A language maps to None when its words are not stemmed here (no NLTK, or not asked to).
        self._stemmers: dict[str, Analyzer | None] = {} if stem_unseen else dict.fromkeys(self._settings)

    def language(self, text: str, lang: str | None) -> str:
        """The language a draft is analysed in: ``lang``, else the model's setting or its one language,
        else detected."""
        if lang is not None:
            return language_code(lang)
        if self._setting_language != "auto":
            return self._setting_language
        present = sorted(set(self._languages))
        if len(present) == 1:
            return present[0]
        return detect_language(text)

    def counts(self, text: str, title: str, language: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted term columns and their counts ``body + title_weight * title`` (float64)."""
        if language not in self._settings:
            known = ", ".join(sorted(self._settings))
            message = (
                f"this model has no analyzer for language {language!r} (it has: {known}); "
                "give one of those (--lang, or lang= in Python)"
            )
            raise InvalidParameterError(message)
        body = Counter(self._columns(text, language))
        titled = Counter(self._columns(title, language)) if self.title_weight else Counter()
        columns = np.array(sorted(body.keys() | titled.keys()), dtype=np.int64)
        counts = np.array(
            [body[column] + self.title_weight * titled[column] for column in columns.tolist()],
            dtype=np.float64,
        )
        return columns, counts

    def _columns(self, text: str, language: str) -> list[int]:
        """The vocabulary columns of ``text``'s terms (pairs of adjacent kept terms too, for bigrams)."""
        numbers = self._term_numbers(text, language)
        columns = [number for number in numbers if 0 <= number < self.n_terms]
        if self.bigrams:
            for first, second in pairwise(numbers):
                if first >= 0 and second >= 0:
                    row = self._term_row(f"{self._term_text(first)} {self._term_text(second)}")
                    if row is not None and row < self.n_terms:
                        columns.append(row)
        return columns

    def _term_numbers(self, text: str, language: str) -> list[int]:
        """The term numbers of ``text``'s kept tokens, in order (``FORM_NO_TERM`` for an unknown term)."""
        numbers: dict[str, int] = {}
        found: list[int] = []
        for token in tokens_of(text, language):
            number = numbers.get(token)
            if number is None:
                number = numbers[token] = self._number(token, language)
            if number != FORM_DROPPED:
                found.append(number)
        return found

    def _number(self, token: str, language: str) -> int:
        if self._forms is not None and self._form_terms is not None:
            row = self._forms.row(f"{language} {token}")
            if row is not None:
                return int(self._form_terms[row])
        if is_dropped(token, self._stop[language], self._min_length[language]):
            return FORM_DROPPED
        verdict = self._verdict(token, language)
        if verdict is None:
            return FORM_NO_TERM  # a kept word that cannot be stemmed here
        if not verdict:
            return FORM_DROPPED
        row = self._term_row(verdict)
        return FORM_NO_TERM if row is None else row

    def _verdict(self, token: str, language: str) -> str | None:
        """The term the stored analyzer makes of ``token``, or None when its stemmer (NLTK) is missing."""
        if language not in self._stemmers:
            try:
                self._stemmers[language] = Analyzer.from_dict(self._settings[language])
            except ImportError:
                self._stemmers[language] = None
        analyzer = self._stemmers[language]
        return None if analyzer is None else analyzer.verdict(token)
