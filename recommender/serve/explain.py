"""Why two articles are linked: the terms they share, as readable words, with their share of the score.

numpy and the standard library only, so the serving-time lookup can explain links too. The build side
calls :func:`surface_words` once to map every indexed term (a stem) to the word form seen most often.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..types import Neighbor, SharedTerm

__all__ = ["explain_links", "shared_terms", "surface_words"]

#: How many shared terms an explanation lists.
TOP_TERMS = 5
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def surface_words(
    texts: Iterable[str], terms_of: Callable[[str], list[str]], vocabulary: Sequence[str]
) -> list[str]:
    """For each vocabulary term, the most frequent word in ``texts`` that reduces to it (ties: first A-Z).

    ``terms_of`` is the analyzer's single-term function; a pair term "a b" reads as the words of a and b.
    """
    tokens: Counter[str] = Counter()
    for text in texts:
        tokens.update(_WORD.findall(text))
    best: dict[str, tuple[int, str]] = {}
    for token, count in tokens.items():
        terms = terms_of(token)
        if len(terms) != 1:
            continue
        term = terms[0]
        current = best.get(term)
        if current is None or count > current[0] or (count == current[0] and token < current[1]):
            best[term] = (count, token)
    words: list[str] = []
    for term in vocabulary:
        parts = term.split(" ")
        words.append(" ".join(best[part][1] if part in best else part for part in parts))
    return words


def shared_terms(
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
    words: Sequence[str],
    *,
    score: float,
    weight: float = 1.0,
    top: int = TOP_TERMS,
) -> tuple[SharedTerm, ...]:
    """The ``top`` shared terms of two sparse rows ``(indices, values)`` and each one's share of ``score``.

    A term's part of the score is ``weight * a[t] * b[t]`` (``weight`` is the TF-IDF share of a blended
    score); shares are of ``score``, so they sum to at most 1 (the rest is the LSA part).
    """
    common, in_first, in_second = np.intersect1d(first[0], second[0], assume_unique=True, return_indices=True)
    if common.size == 0 or score <= 0:
        return ()
    parts = weight * np.asarray(first[1], dtype=np.float64)[in_first] * np.asarray(second[1])[in_second]
    order = np.lexsort((common, -parts))[:top]
    return tuple(
        SharedTerm(term=words[int(common[i])], share=round(float(parts[i] / score), 4))
        for i in order.tolist()
        if parts[i] > 0
    )


def explain_links(
    links: Sequence[Neighbor],
    row: int,
    rows: Mapping[str, int],
    vectors: tuple[np.ndarray, np.ndarray, np.ndarray],
    words: Sequence[str],
    *,
    weight: float = 1.0,
) -> list[Neighbor]:
    """``links`` of article ``row`` with their shared terms; ``vectors`` is CSR (data, indices, indptr)."""
    data, indices, indptr = vectors

    def part(position: int) -> tuple[np.ndarray, np.ndarray]:
        span = slice(int(indptr[position]), int(indptr[position + 1]))
        return indices[span], data[span]

    return [
        replace(
            link,
            terms=shared_terms(
                part(row), part(rows[link.article_id]), words, score=link.score, weight=weight
            ),
        )
        for link in links
    ]
