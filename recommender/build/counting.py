"""Counting terms: analyse every article and build the sorted vocabulary and the term-count matrix.

Large corpora are cut into chunks that worker processes (joblib) analyse and count on their own, each
with a local vocabulary; the parent merges the vocabularies, keeps the terms within ``min_df`` /
``max_df`` (as scikit-learn's ``CountVectorizer`` does) and maps every chunk onto the sorted result, so
the output does not depend on how the work was split.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, compress
from math import ceil
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from ..text.analyzer import Analyzer
from .neighbors import default_threads

__all__ = ["MIN_PARALLEL", "count_terms", "surface_words"]

#: Corpora with fewer articles than this are analysed in this process (workers cost ~1 s to start).
MIN_PARALLEL = 5_000
_MAX_CHUNK = 50_000
_SUB_CHUNK = 5_000

_Part = tuple[list[str], sp.csr_matrix, sp.csr_matrix | None]


class ByLanguage(Protocol):
    """Analyzers by language code (``recommender.text.languages.Analyzers``)."""

    def __getitem__(self, language: str) -> Analyzer: ...


def count_terms(
    bodies: Sequence[str],
    titles: Sequence[str] | None,
    analyzer: Analyzer | ByLanguage,
    *,
    languages: Sequence[str] | None = None,
    title_weight: float = 1.0,
    min_df: int | float = 1,
    max_df: int | float = 1.0,
    n_jobs: int | None = None,
    min_parallel: int = MIN_PARALLEL,
) -> tuple[list[str], sp.csr_matrix]:
    """The sorted vocabulary and the float64 CSR counts ``body + title_weight × title`` per article.

    With ``languages`` (one code per article), ``analyzer`` gives each language's analyzer and every
    article is analysed by its own. Document frequency counts an article once whether a term is in its
    title, body or both. Raises
    ``ValueError`` when no term is left (an empty vocabulary, or none within ``min_df``/``max_df``).
    """
    n_docs = len(bodies)
    jobs = default_threads() if n_jobs is None else max(1, int(n_jobs))
    if jobs > 1 and n_docs >= max(min_parallel, 2):
        from joblib import Parallel, delayed

        # One chunk per worker when it fits: each chunk stems its distinct words once.
        size = min(_MAX_CHUNK, ceil(n_docs / jobs))
        starts = range(0, n_docs, size)
        parts: list[_Part] = Parallel(n_jobs=jobs)(
            delayed(_count_chunk)(
                analyzer,
                list(bodies[start : start + size]),
                None if titles is None else list(titles[start : start + size]),
                None if languages is None else list(languages[start : start + size]),
            )
            for start in starts
        )
    else:
        parts = [_count_chunk(analyzer, bodies, titles, languages)]
    return _merge(parts, n_docs, title_weight=title_weight, min_df=min_df, max_df=max_df)


def _count_chunk(
    analyzer: Analyzer | ByLanguage,
    bodies: Sequence[str],
    titles: Sequence[str] | None,
    languages: Sequence[str] | None,
) -> _Part:
    """Count one chunk against its own vocabulary, returned sorted, with the columns in that order."""
    vocabulary: dict[str, int] = {}
    if languages is None:
        single = analyzer if isinstance(analyzer, Analyzer) else analyzer["en"]
        chosen: Sequence[Analyzer] = [single] * len(bodies)
    else:
        by_language = analyzer
        chosen = [
            by_language[lang] if not isinstance(by_language, Analyzer) else by_language for lang in languages
        ]
    body_counts = _encode(chosen, bodies, vocabulary)
    title_counts = None if titles is None else _encode(chosen, titles, vocabulary)
    # Sorting here (in the worker) lets the parent merge sorted runs, and keeps every row's columns
    # sorted through the parent's renumbering, which only ever moves columns in order.
    terms = list(vocabulary)
    order = sorted(range(len(terms)), key=terms.__getitem__)
    rank = np.empty(max(len(terms), 1), dtype=np.int32)
    rank[order] = np.arange(len(terms), dtype=np.int32)
    width = max(len(terms), 1)
    body_counts = _renumber(body_counts, rank, width)
    if title_counts is not None:
        title_counts = _renumber(title_counts, rank, width)
    return list(map(terms.__getitem__, order)), body_counts, title_counts


def _renumber(counts: sp.csr_matrix, rank: np.ndarray, width: int) -> sp.csr_matrix:
    """``counts`` with column ``c`` moved to ``rank[c]``, ``width`` columns wide, indices sorted per row."""
    moved = sp.csr_matrix((counts.data, rank[counts.indices], counts.indptr), shape=(counts.shape[0], width))
    moved.sort_indices()
    return moved


def _widen(counts: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """The same rows with ``width`` columns (a chunk's vocabulary grows while it is read)."""
    return sp.csr_matrix((counts.data, counts.indices, counts.indptr), shape=(counts.shape[0], width))


def _encode(analyzers: Sequence[Analyzer], texts: Sequence[str], vocabulary: dict[str, int]) -> sp.csr_matrix:
    # Per analyzer, raw token -> column (-1 when the token is dropped): with single terms, each token
    # costs one dict lookup in C, and a new distinct token one analyzer verdict and one vocabulary entry.
    columns_by_analyzer: dict[int, _Columns] = {}
    blocks: list[sp.csr_matrix] = []
    for start in range(0, len(texts), _SUB_CHUNK):
        ids: list[int] = []  # a list takes the ints of map() faster than an array("i") does
        lengths = array("q")
        stop = start + _SUB_CHUNK
        for analyzer, text in zip(analyzers[start:stop], texts[start:stop], strict=True):
            before = len(ids)
            if analyzer.ngrams == 1:
                columns = columns_by_analyzer.get(id(analyzer))
                if columns is None:
                    columns = columns_by_analyzer[id(analyzer)] = _Columns(analyzer, vocabulary)
                ids.extend(map(columns.__getitem__, analyzer.tokens(text or "")))
            else:
                add = vocabulary.setdefault
                ids.extend([add(term, len(vocabulary)) for term in analyzer(text or "")])
            lengths.append(len(ids) - before)
        columns_of_tokens = np.frombuffer(array("i", ids), dtype=np.int32)
        rows = np.repeat(np.arange(len(lengths), dtype=np.int32), np.frombuffer(lengths, dtype=np.int64))
        kept = columns_of_tokens >= 0
        block = sp.csr_matrix(
            (np.ones(int(kept.sum()), dtype=np.int32), (rows[kept], columns_of_tokens[kept])),
            shape=(len(lengths), max(len(vocabulary), 1)),
        )
        block.sum_duplicates()
        blocks.append(block)
    width = max(len(vocabulary), 1)
    if not blocks:
        return _widen(sp.csr_matrix(np.zeros((0, 1), dtype=np.int32)), width)
    return sp.csr_matrix(sp.vstack([_widen(block, width) for block in blocks], format="csr"))


class _Columns(dict[str, int]):
    """Raw token -> vocabulary column of its term, or -1 when the analyzer drops it; filled on first sight."""

    __slots__ = ("_analyzer", "_vocabulary")

    def __init__(self, analyzer: Analyzer, vocabulary: dict[str, int]) -> None:
        super().__init__()
        self._analyzer = analyzer
        self._vocabulary = vocabulary

    def __missing__(self, token: str) -> int:
        term = self._analyzer.term(token)
        column = self._vocabulary.setdefault(term, len(self._vocabulary)) if term else -1
        self[token] = column
        return column


def _merge(
    parts: list[_Part], n_docs: int, *, title_weight: float, min_df: int | float, max_df: int | float
) -> tuple[list[str], sp.csr_matrix]:
    # Each part's terms are sorted: sorting their concatenation merges runs, and dict.fromkeys drops repeats.
    terms = list(dict.fromkeys(sorted(chain.from_iterable(part[0] for part in parts))))
    if not terms:
        message = "empty vocabulary; perhaps the documents only contain stop words"
        raise ValueError(message)
    position = dict(zip(terms, range(len(terms)), strict=True))
    to_global = [
        np.fromiter(map(position.__getitem__, part[0]), dtype=np.int64, count=len(part[0])) for part in parts
    ]
    document_frequency = np.zeros(len(terms), dtype=np.int64)
    for (_, body, title), mapping in zip(parts, to_global, strict=True):
        present = body if title is None else body + title
        document_frequency += np.bincount(mapping[present.indices], minlength=len(terms))
    high = max_df if isinstance(max_df, int) else max_df * n_docs
    low = min_df if isinstance(min_df, int) else min_df * n_docs
    if high < low:
        message = "max_df corresponds to < documents than min_df"
        raise ValueError(message)
    keep = (document_frequency <= high) & (document_frequency >= low)
    kept = int(keep.sum())
    if kept == 0:
        message = "After pruning, no terms remain. Try a lower min_df or a higher max_df."
        raise ValueError(message)
    new_column = np.full(len(terms), kept, dtype=np.int64)  # dropped terms go to a column cut off below
    new_column[keep] = np.arange(kept)
    bodies: list[sp.csr_matrix] = []
    titles: list[sp.csr_matrix] = []
    for (_, body, title), mapping in zip(parts, to_global, strict=True):
        bodies.append(_remap(body, new_column[mapping], kept))
        if title is not None:
            titles.append(_remap(title, new_column[mapping], kept))
    counts = sp.csr_matrix(sp.vstack(bodies, format="csr"), dtype=np.float64)
    if titles and title_weight:
        counts = sp.csr_matrix(counts + title_weight * sp.csr_matrix(sp.vstack(titles, format="csr")))
    counts.sort_indices()
    vocabulary = list(compress(terms, keep.tolist()))
    return vocabulary, counts


def _remap(counts: sp.csr_matrix, columns: np.ndarray, kept: int) -> sp.csr_matrix:
    """``counts`` with local columns renumbered; columns numbered ``kept`` (dropped terms) cut off."""
    moved = sp.csr_matrix(
        (counts.data, columns[counts.indices], counts.indptr), shape=(counts.shape[0], kept + 1)
    )
    result: Any = moved[:, :kept]
    return sp.csr_matrix(result)


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
