"""The draft tables a model folder stores for the numpy-only ``Index.query``: forms, terms and postings.

Written at build time (and grown by updates) from the analysed corpus; read by
:class:`recommender.serve.drafts.Drafts`.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import store as fmt
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

__all__ = ["StoredForms", "draft_tables"]


def draft_tables(
    *,
    forms: Mapping[str, Mapping[str, str]] | StoredForms,
    vocabulary: Sequence[str],
    candidates: tuple[Any, Any, np.ndarray],
    lsa_rows: Any,
    row_languages: Sequence[str],
    hidden_rows: Sequence[int],
    bigrams: bool,
    maxima: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arrays and the JSON document ``Drafts`` reads, from a fitted model's parts.

    ``forms`` is language -> token -> term, or the form and term tables already made (``StoredForms``).
    ``candidates`` is the CSR triple of the term part of the search matrix transposed (terms × articles,
    hidden duplicates removed); ``lsa_rows`` its dense LSA part (articles × dims) or None;
    ``hidden_rows`` the duplicates never listed (left out of the postings, kept in ``lsa_rows``).
    """
    n_terms = len(vocabulary)
    arrays: dict[str, Any] = {}
    if isinstance(forms, StoredForms):
        arrays.update({name: np.asarray(forms.arrays[name]) for name in StoredForms.NAMES})
    else:
        arrays.update(_form_arrays(forms, vocabulary, bigrams=bigrams))
    data, indices, indptr = candidates
    arrays[_POSTINGS_INDPTR] = np.asarray(indptr[: n_terms + 1], dtype=np.int64)
    if maxima is None:  # the postings in memory (else given in pieces, with their maxima)
        data, indices = np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32)
        maxima = np.zeros(n_terms, dtype=np.float32)
        filled = np.diff(arrays[_POSTINGS_INDPTR]) > 0
        if filled.any():
            maxima[filled] = np.maximum.reduceat(data, arrays[_POSTINGS_INDPTR][:-1][filled])
    arrays[_POSTINGS_ROWS] = indices
    arrays[_POSTINGS_WEIGHTS] = data
    arrays[_MAX_WEIGHT] = maxima
    present = sorted(set(row_languages))
    code = {language: position for position, language in enumerate(present)}
    arrays[_ROW_LANGUAGES] = np.asarray([code[language] for language in row_languages], dtype=np.uint16)
    arrays[_HIDDEN] = np.asarray(sorted(hidden_rows), dtype=np.int32)
    if lsa_rows is not None:
        arrays[_LSA] = (
            lsa_rows if isinstance(lsa_rows, fmt.Pieces) else np.ascontiguousarray(lsa_rows, dtype=np.float32)
        )
    # The settings the tables are read with (title weight, tf, ...) are the model's parameters.
    document = {"tables_version": TABLES_VERSION, "vocabulary_size": n_terms, "languages": present}
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
        """Every form, as :func:`recommender.build.analysis.analyse` gives them (``Analysis.forms``)."""
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
