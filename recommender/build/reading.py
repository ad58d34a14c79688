"""Reading one chunk of articles for :mod:`recommender.build.analysis`: every token once, three results.

Each article's title and body are tokenised by its analyzer together with the words as written
(``Analyzer.written_tokens``). A token's column (its term's, or -1 when dropped) feeds the counts; its
written word, numbered, feeds the article's readable word for each term and the corpus' counts of
written forms; the columns the raw tokens got are the forms table of the chunk.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from ..text.analyzer import Analyzer, ascii_token, ascii_written, shape_token

__all__ = ["ByLanguage", "Chunk", "Written", "read_chunk"]

#: Articles whose tokens are held in lists at once (then made into arrays and matrices).
SUB_CHUNK = 5_000

# Per language, (term, word as written) -> occurrences.
Written = dict[str, Counter[tuple[str, str]]]


class ByLanguage(Protocol):
    """Analyzers by language code (``recommender.text.languages.Analyzers``)."""

    def __getitem__(self, language: str) -> Analyzer: ...


@dataclass(frozen=True)
class Chunk:
    """One chunk read: counts and words over its columns, with what the parent merges."""

    terms: list[str]  # the chunk's columns: its terms sorted, or the fixed vocabulary then new terms
    body: sp.csr_matrix
    title: sp.csr_matrix | None
    words: sp.csr_matrix  # int32 rows of ``word_table``: one entry per term an article has
    word_table: list[str]
    forms: dict[str, dict[str, str]]
    written: Written


def read_chunk(
    analyzer: Analyzer | ByLanguage,
    bodies: Sequence[str],
    titles: Sequence[str] | None,
    languages: Sequence[str] | None,
    fixed: dict[str, int] | None,
) -> Chunk:
    """Read one chunk; its columns are its own terms sorted, or the ``fixed`` vocabulary's then new terms."""
    if languages is None:
        single = analyzer if isinstance(analyzer, Analyzer) else analyzer["en"]
        chosen: Sequence[Analyzer] = [single] * len(bodies)
    else:
        by_language = analyzer
        chosen = [
            by_language if isinstance(by_language, Analyzer) else by_language[lang] for lang in languages
        ]
    reader = _Reader(dict(fixed) if fixed is not None else {})
    blocks = [
        reader.block(
            chosen[start : start + SUB_CHUNK],
            bodies[start : start + SUB_CHUNK],
            None if titles is None else titles[start : start + SUB_CHUNK],
        )
        for start in range(0, len(bodies), SUB_CHUNK)
    ]
    width = max(len(reader.names), 1)
    body, title, words = (_stack([block[part] for block in blocks], width) for part in range(3))
    terms = reader.names
    if fixed is None:
        # Sorting here (in the worker) lets the parent merge sorted runs, and keeps every row's columns
        # sorted through the parent's renumbering, which only ever moves columns in order.
        order = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.empty(width, dtype=np.int32)
        rank[order] = np.arange(len(terms), dtype=np.int32)
        body, title, words = (_renumber(matrix, rank) for matrix in (body, title, words))
        terms = list(map(terms.__getitem__, order))
    # Only the words an entry shows go to the parent (not stop words' or pairs' parts).
    used = np.unique(words.data)
    renumbered = np.zeros(len(reader.table), dtype=np.int32)
    renumbered[used] = np.arange(used.size, dtype=np.int32)
    words.data = renumbered[words.data]
    return Chunk(
        terms=terms,
        body=body,
        title=None if titles is None else title,
        words=words,
        word_table=list(map(reader.table.__getitem__, used.tolist())),
        forms=reader.forms(),
        written=reader.written(),
    )


class _Reader:
    """Reads articles into numbered written words, each number standing for one column; keeps the rest."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.vocabulary = vocabulary
        self.names = list(vocabulary)  # column -> term
        self.first = [-1] * len(self.names)  # column of a pair term "a b" -> the column of a (else -1)
        self.second = [-1] * len(self.names)
        self.pairs = _Pairs(self)
        self.table: list[str] = []  # number -> written word
        self.column_of: list[int] = []  # number -> column of its token (-1: dropped)
        self.by_analyzer: dict[int, _Numbers] = {}
        self.joined = _Joined(self)  # the words "a b" of pair terms
        self.occurrences = np.zeros(0, dtype=np.int64)  # per number, tokens kept

    def column(self, term: str) -> int:
        """The column of ``term``, a new one when it is new."""
        column = self.vocabulary.setdefault(term, len(self.names))
        if column == len(self.names):
            self.names.append(term)
            self.first.append(-1)
            self.second.append(-1)
        return column

    def number(self, word: str, column: int) -> int:
        """A new number for a written word whose token has ``column``."""
        self.table.append(word)
        self.column_of.append(column)
        return len(self.table) - 1

    def block(
        self, analyzers: Sequence[Analyzer], bodies: Sequence[str], titles: Sequence[str] | None
    ) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
        """Body counts, title counts and each article's word for each of its terms (columns so far)."""
        title, body = _Side(), _Side()
        for number, (analyzer, text) in enumerate(zip(analyzers, bodies, strict=True)):
            numbers = self.by_analyzer.get(id(analyzer))
            if numbers is None:
                numbers = self.by_analyzer[id(analyzer)] = _Numbers(analyzer, self)
            title.read(numbers, "" if titles is None else titles[number] or "")
            body.read(numbers, text or "")
        column_of = np.asarray(self.column_of, dtype=np.int64)
        pairing = np.array([analyzer.ngrams == 2 for analyzer in analyzers], dtype=bool)
        (title_rows, title_columns, title_words), (body_rows, body_columns, body_words) = (
            side.tokens(column_of) for side in (title, body)
        )
        title_features = self._features(title_rows, title_columns, pairing)
        body_features = self._features(body_rows, body_columns, pairing)
        width = max(len(self.names), 1)  # pairs may have added columns
        counts = _count(body_features, len(analyzers), width), _count(title_features, len(analyzers), width)
        # Title tokens first: an article's tokens in reading order, which breaks ties between its words.
        chosen = self._choose(
            np.concatenate([title_rows, body_rows]),
            np.concatenate([title_columns, body_columns]),
            np.concatenate([title_words, body_words]),
            width,
        )
        return counts[0], counts[1], self._words(counts[0] + counts[1], chosen, width)

    def _features(
        self, rows: np.ndarray, columns: np.ndarray, pairing: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The kept tokens' (row, column), and with ``ngrams=2`` those of the pairs of adjacent ones."""
        adjacent = (rows[1:] == rows[:-1]) & pairing[rows[:-1]]
        if not adjacent.any():
            return rows, columns
        keys = columns[:-1][adjacent] << 32 | columns[1:][adjacent]
        distinct, inverse = np.unique(keys, return_inverse=True)
        found = [self.pairs[key >> 32, key & 0xFFFFFFFF] for key in distinct.tolist()]
        paired = np.asarray(found, dtype=np.int64)[inverse]
        return np.concatenate([rows, rows[:-1][adjacent]]), np.concatenate([columns, paired])

    def _choose(
        self, rows: np.ndarray, columns: np.ndarray, words: np.ndarray, width: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per (article, term), as ``article × width + column`` sorted, the number of the article's word.

        Its most frequent word for the term, ties to the first written (tokens come in reading order).
        Also adds the tokens to the occurrences of each written word.
        """
        self._grow(len(self.table))
        if not words.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # Each (article, word) once, with its occurrences and its first token (a stable sort keeps order).
        keys = rows * len(self.table) + words
        order = np.argsort(keys, kind="stable")
        starts = np.flatnonzero(np.r_[True, keys[order][1:] != keys[order][:-1]])
        occurrences = np.diff(np.r_[starts, keys.size])
        first = order[starts]
        found = np.bincount(words[first], weights=occurrences, minlength=len(self.table))
        self.occurrences += found.astype(np.int64)
        # Per (article, term) the least (tokens - occurrences, first token): the most frequent, then first.
        terms = rows[first] * width + columns[first]
        rank = (np.int64(keys.size) - occurrences) << 32 | first
        order = np.argsort(terms, kind="stable")
        starts = np.flatnonzero(np.r_[True, terms[order][1:] != terms[order][:-1]])
        best = np.minimum.reduceat(rank[order], starts) & 0xFFFFFFFF
        return terms[order][starts], words[best]

    def _words(
        self, present: sp.csr_matrix, chosen: tuple[np.ndarray, np.ndarray], width: int
    ) -> sp.csr_matrix:
        """The word of every (article, term) ``present``: chosen, or for "a b" the words of a and b."""
        keys, words = chosen
        rows = np.repeat(np.arange(present.shape[0], dtype=np.int64), np.diff(present.indptr))
        columns = present.indices.astype(np.int64)
        data = np.empty(columns.size, dtype=np.int64)
        first = np.asarray(self.first, dtype=np.int64)[columns] if self.pairs else np.full(columns.size, -1)
        single = first < 0
        data[single] = words[np.searchsorted(keys, rows[single] * width + columns[single])]
        if not single.all():
            second = np.asarray(self.second, dtype=np.int64)[columns[~single]]
            base = rows[~single] * width
            data[~single] = self.joined.numbers(
                words[np.searchsorted(keys, base + first[~single])],
                words[np.searchsorted(keys, base + second)],
            )
        return sp.csr_matrix((data.astype(np.int32), present.indices, present.indptr), shape=present.shape)

    def _grow(self, size: int) -> None:
        """Room for ``size`` written words in the occurrences."""
        if size > self.occurrences.size:
            grown = np.zeros(size - self.occurrences.size, dtype=np.int64)
            self.occurrences = np.concatenate([self.occurrences, grown])

    def forms(self) -> dict[str, dict[str, str]]:
        """Per language, every surface token read and its term, from the columns the tokens got."""
        forms: dict[str, dict[str, str]] = {}
        for numbers in self.by_analyzer.values():
            language = numbers.analyzer.language
            table = forms.setdefault(language, {})
            for token, column in numbers.columns.items():
                table[shape_token(token, language)] = self.names[column] if column >= 0 else ""
        return forms

    def written(self) -> Written:
        """Per language, (term, written word) -> occurrences, for the tokens kept."""
        self._grow(len(self.table))
        written: Written = {}
        for numbers in self.by_analyzer.values():
            counts = written.setdefault(numbers.analyzer.language, Counter())
            found = np.asarray(numbers.assigned, dtype=np.int64)
            found = found[self.occurrences[found] > 0]
            for number, count in zip(found.tolist(), self.occurrences[found].tolist(), strict=True):
                counts[self.names[self.column_of[number]], self.table[number]] += count
        return written


class _Side:
    """The tokens of one side (titles or bodies) of a block, as written-word numbers, text by text."""

    def __init__(self) -> None:
        self.numbers: list[int] = []  # a list takes the ints of map() faster than an array("i") does
        self.lengths = array("q")

    def read(self, numbers: _Numbers, text: str) -> None:
        before = len(self.numbers)
        if text.isascii():
            self.numbers.extend(map(numbers.__getitem__, ascii_written(text)))
        else:
            tokens, written = numbers.analyzer.written_tokens(text)
            self.numbers.extend(map(numbers.other.__getitem__, zip(written, tokens, strict=True)))
        self.lengths.append(len(self.numbers) - before)

    def tokens(self, column_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kept tokens' rows (texts), columns and word numbers, in reading order."""
        words = np.frombuffer(array("i", self.numbers), dtype=np.int32).astype(np.int64)
        rows = np.repeat(np.arange(len(self.lengths), dtype=np.int64), np.frombuffer(self.lengths, np.int64))
        columns = column_of[words]
        kept = columns >= 0
        return rows[kept], columns[kept], words[kept]


def _count(features: tuple[np.ndarray, np.ndarray], n_rows: int, width: int) -> sp.csr_matrix:
    """Occurrences of each (row, column) as an int32 CSR matrix, indices sorted."""
    rows, columns = features
    block = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.int32), (rows, columns)), shape=(n_rows, width), dtype=np.int32
    )
    block.sum_duplicates()
    return block


class _Columns(dict[str, int]):
    """Raw token -> column of its term, or -1 when the analyzer drops it; filled on first sight."""

    __slots__ = ("_analyzer", "_reader")

    def __init__(self, analyzer: Analyzer, reader: _Reader) -> None:
        super().__init__()
        self._analyzer = analyzer
        self._reader = reader

    def __missing__(self, token: str) -> int:
        term = self._analyzer.term(token)
        column = self._reader.column(term) if term else -1
        self[token] = column
        return column


class _Pairs(dict[tuple[int, int], int]):
    """Two adjacent term columns -> the column of the pair term "a b"; filled on first sight."""

    __slots__ = ("_reader",)

    def __init__(self, reader: _Reader) -> None:
        super().__init__()
        self._reader = reader

    def __missing__(self, key: tuple[int, int]) -> int:
        reader = self._reader
        column = self[key] = reader.column(f"{reader.names[key[0]]} {reader.names[key[1]]}")
        reader.first[column], reader.second[column] = key
        return column


class _Numbers(dict[str, int]):
    """Word written in an ASCII text -> its number; the column follows from the word (its raw token).

    ``other`` numbers the words of other texts by (word, raw token); ``columns`` gives each raw token
    its column, and ``assigned`` lists the numbers given, for the chunk's forms and written counts.
    """

    __slots__ = ("analyzer", "assigned", "columns", "other")

    def __init__(self, analyzer: Analyzer, reader: _Reader) -> None:
        super().__init__()
        self.analyzer = analyzer
        self.columns = _Columns(analyzer, reader)
        self.other = _Others(self, reader)
        self.assigned: list[int] = []

    def __missing__(self, word: str) -> int:
        number = self[word] = self.other.new(word, ascii_token(word))
        return number


class _Others(dict[tuple[str, str], int]):
    """(Word written in a non-ASCII text, its raw token) -> the word's number."""

    __slots__ = ("_numbers", "_reader")

    def __init__(self, numbers: _Numbers, reader: _Reader) -> None:
        super().__init__()
        self._numbers = numbers
        self._reader = reader

    def __missing__(self, key: tuple[str, str]) -> int:
        word, token = key
        # A word written alike in an ASCII text has the same token: one number, counted together.
        shared = word.isascii() and ascii_token(word) == token
        number = self[key] = self._numbers[word] if shared else self.new(word, token)
        return number

    def new(self, word: str, token: str) -> int:
        number = self._reader.number(word, self._numbers.columns[token])
        self._numbers.assigned.append(number)
        return number


class _Joined(dict[str, int]):
    """The word "a b" of a pair term -> its number (numbers are not the words' of any language)."""

    __slots__ = ("_reader",)

    def __init__(self, reader: _Reader) -> None:
        super().__init__()
        self._reader = reader

    def __missing__(self, word: str) -> int:
        number = self[word] = self._reader.number(word, -1)
        return number

    def numbers(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The numbers of the words "a b" for the word numbers ``first`` (a) and ``second`` (b)."""
        distinct, inverse = np.unique(first << 32 | second, return_inverse=True)
        table = self._reader.table
        found = [self[f"{table[key >> 32]} {table[key & 0xFFFFFFFF]}"] for key in distinct.tolist()]
        return np.asarray(found, dtype=np.int64)[inverse]


def _stack(blocks: list[sp.csr_matrix], width: int) -> sp.csr_matrix:
    """Blocks read while the columns grew, each widened to ``width`` columns, one under the other."""
    if not blocks:
        return sp.csr_matrix(np.zeros((0, width), dtype=np.int32))
    widened = [sp.csr_matrix((b.data, b.indices, b.indptr), shape=(b.shape[0], width)) for b in blocks]
    return sp.csr_matrix(sp.vstack(widened, format="csr"))


def _renumber(matrix: sp.csr_matrix, rank: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with column ``c`` moved to ``rank[c]``, indices sorted per row (values moved along)."""
    moved = sp.csr_matrix((matrix.data, rank[matrix.indices], matrix.indptr), shape=matrix.shape)
    moved.sort_indices()
    return moved
