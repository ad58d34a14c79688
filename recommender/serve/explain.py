"""Why two articles are linked: the terms they share, as words readers know, with their share of the score.

A term is a stem ("sanction", "брюссел"); a reader should see a word. Models store, for each article and
each of its terms, the word that article itself uses (as written: "sanctions", "Брюсселе"), so an
explanation shows the linked article's subject's own words. Models written before that store one word per
term (the corpus's most frequent form), and the oldest only the terms. numpy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .. import store
from ..types import ModelFormatError, Neighbor, SharedTerm

__all__ = ["TOP_TERMS", "Words", "explain_links", "shared_terms", "term_words"]

#: How many shared terms an explanation lists.
TOP_TERMS = 5

_Row = tuple[np.ndarray, np.ndarray, Sequence[str]]


def term_words(stored: Any) -> list[str]:
    """One readable word per term: the corpus's most frequent written form (the terms themselves in the
    oldest models)."""
    return list(stored.document(store.SURFACE if stored.has(store.SURFACE) else store.VOCABULARY))


class Words:
    """Each stored row's terms, weights and readable words (the row's own words when the model has them)."""

    def __init__(self, stored: Any) -> None:
        self._path = stored.path
        self._indptr = np.asarray(stored.array(store.VECTORS_INDPTR))
        self._indices = stored.array(store.VECTORS_INDICES)
        self._data = stored.array(store.VECTORS_DATA)
        self._own: tuple[store.StringTable, np.ndarray] | None = None
        self._by_term: list[str] | None = None
        if stored.has(store.VECTOR_FORMS) and stored.has(f"{store.SURFACE_FORMS}_bytes"):
            self._own = (stored.strings(store.SURFACE_FORMS), stored.array(store.VECTOR_FORMS))
        else:
            self._by_term = term_words(stored)

    def row(self, row: int) -> _Row:
        """Term columns, weights and the word of each term, for one stored row."""
        span = slice(int(self._indptr[row]), int(self._indptr[row + 1]))
        indices, data = np.asarray(self._indices[span]), np.asarray(self._data[span])
        if indices.size > 1 and not bool(np.all(indices[1:] > indices[:-1])):
            message = (
                f"{self._path}: vectors_indices.npy: row {row}'s terms are not in increasing order "
                "(a damaged file; a checksum-verified load would have said so): rebuild the model"
            )
            raise ModelFormatError(message)
        if self._own is not None:
            strings, forms = self._own
            words: Sequence[str] = [strings[int(form)] for form in np.asarray(forms[span]).tolist()]
        else:
            assert self._by_term is not None
            words = [self._by_term[int(column)] for column in indices.tolist()]
        return indices, data, words


def shared_terms(
    first: _Row, second: _Row, *, score: float, weight: float = 1.0, top: int = TOP_TERMS
) -> tuple[SharedTerm, ...]:
    """The ``top`` terms two rows share, as ``first``'s words, and each one's share of ``score``.

    A term's part of the score is ``weight * a[t] * b[t]`` (``weight`` is the TF-IDF share of a blended
    score); shares are of ``score``, so they sum to at most 1 (the rest is the LSA part).
    """
    common, in_first, in_second = np.intersect1d(first[0], second[0], assume_unique=True, return_indices=True)
    if common.size == 0 or score <= 0:
        return ()
    parts = weight * np.asarray(first[1], dtype=np.float64)[in_first] * np.asarray(second[1])[in_second]
    order = np.lexsort((common, -parts))[:top]
    words = first[2]
    return tuple(
        SharedTerm(
            term=words[int(in_first[i])] or second[2][int(in_second[i])],
            share=round(float(parts[i] / score), 4),
        )
        for i in order.tolist()
        if parts[i] > 0
    )


def explain_links(
    links: Sequence[Neighbor], row: int, rows: Mapping[str, int], words: Words, *, weight: float = 1.0
) -> list[Neighbor]:
    """``links`` of article ``row`` with their shared terms, in the subject's own words."""
    subject = words.row(row)
    return [
        replace(
            link,
            terms=shared_terms(
                subject, words.row(rows[link.article_id]), score=link.similarity, weight=weight
            ),
        )
        for link in links
    ]
