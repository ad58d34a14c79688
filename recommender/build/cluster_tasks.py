"""What a cluster build's workers run (see :mod:`recommender.build.cluster`): each step of a local build,
on one partition's rows, returning what the worker keeps or the little the client needs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..score.weighting import Weighting, _row_sums
from ..settings import Settings
from ..sources.corpus import read_articles
from .analysis import chunk_counts, chunk_entries, chunk_frequency, chunk_words
from .assemble import records_of
from .blend import SearchRows, blend_rows, fit_components
from .pipeline import languages_of, weigh
from .pools import canonical_scores
from .reading import Chunk, read_chunk
from .tiles import Found, RowBlock, TilePlan

__all__ = ["Counted", "Packed", "Part"]


@dataclass(frozen=True)
class Packed:
    """A large list or dict sent between client and workers as one pickle: Dask would otherwise walk it
    and serialise every item apart (measured: 3 s for 100,000 words against 0.04 s packed)."""

    value: Any


@dataclass(frozen=True)
class Part:
    """One partition's validated articles, their languages and where they came from."""

    frame: pd.DataFrame
    languages: list[str]
    source: str


@dataclass(frozen=True)
class Counted:
    """One partition's counts over the vocabulary, with what its readable words are found from."""

    counts: sp.csr_matrix
    counted: int
    block: sp.csr_matrix
    names: list[str]
    table_size: int
    vector_forms: np.ndarray | None = None


def open_part(source: Any, settings: Settings, reading: dict[str, Any]) -> Part:
    """A source file read and validated with ``read_articles``' options ``reading`` (or a part of a frame
    sent whole), and its articles' languages."""
    if isinstance(source, pd.DataFrame):
        frame, name = source, str(source.attrs.get("source", "articles"))
    else:
        frame, name = read_articles(source, **reading), str(source)
    return Part(frame, languages_of(frame, settings, n_jobs=1), name)


def describe(part: Part) -> Packed:
    """What the client keeps of a partition: ids, stored records, body lengths, languages, skipped."""
    frame = part.frame
    return Packed(
        {
            "source": part.source,
            "ids": [str(article_id) for article_id in frame["id"]],
            "records": records_of(frame, part.languages),
            "lengths": np.array([len(body) for body in frame["body"]], dtype=np.int64),
            "languages": list(part.languages),
            "skipped": list(frame.attrs.get("skipped", [])),
        }
    )


def read(part: Part, analyzers: Any) -> Chunk:
    """The analysis pass over a partition (as a local build reads one chunk)."""
    frame = part.frame
    titles = [title or "" for title in frame["title"]]
    return read_chunk(analyzers, frame["body"].tolist(), titles, part.languages, None)


def terms(chunk: Chunk) -> Packed:
    """A chunk's terms and how many of its articles have each."""
    return Packed((chunk.terms, chunk_frequency(chunk)))


def count(chunk: Chunk, mapping: np.ndarray, kept: int, title_weight: float) -> Counted:
    """A chunk's counts over the vocabulary and the words its entries use."""
    counts, counted = chunk_counts(chunk, mapping, kept, title_weight)
    block, names = chunk_words(chunk, mapping, kept)
    return Counted(counts, counted, block, names, len(chunk.word_table))


def names(counted: Counted) -> Packed:
    return Packed(counted.names)


def _entries(counted: Counted, position: Packed) -> np.ndarray:
    return chunk_entries(counted.table_size, counted.block, counted.names, position.value, counted.counts)


def entry_rows(counted: Counted, position: Packed) -> np.ndarray:
    """The rows of the word table (``position``: each word's row) a partition's entries use."""
    return np.unique(_entries(counted, position))


def with_forms(counted: Counted, position: Packed, renumbered: Packed) -> Counted:
    """The partition with each entry's readable word (its row among the used words)."""
    forms = renumbered.value[_entries(counted, position)].astype(np.int32)
    empty = sp.csr_matrix(np.zeros((0, 0), dtype=np.int32))
    return replace(counted, block=empty, names=[], vector_forms=forms)


def written(chunk: Chunk) -> Packed:
    return Packed(chunk.written)


def forms(chunk: Chunk) -> Packed:
    return Packed(chunk.forms)


def frequency(counted: Counted, width: int) -> np.ndarray:
    """How many of a partition's articles have each term (after the title weight)."""
    return np.bincount(counted.counts.indices, minlength=width)


def row_sums(counted: Counted) -> np.ndarray:
    """Each article's (weighted) term count, of which BM25's reference length is the mean."""
    counts = counted.counts
    return np.asarray(_row_sums(np.asarray(counts.data, dtype=np.float64), np.asarray(counts.indptr)))


def weigh_part(counted: Counted, weighting: Weighting) -> sp.csr_matrix:
    return weigh(counted.counts, weighting)


def fit(dims: int, *parts: sp.csr_matrix) -> np.ndarray | None:
    """The LSA projection fitted on every partition's vectors (on one worker: the client never holds them)."""
    return fit_components(stacked(list(parts)), dims)


def blend_part(vectors: sp.csr_matrix, components: np.ndarray | None, weight: float) -> SearchRows:
    return blend_rows(vectors, components, weight)


def stacked(parts: list[sp.csr_matrix]) -> sp.csr_matrix:
    """Partitions' rows as one sorted CSR matrix."""
    matrix = sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=parts[0].dtype)
    matrix.has_sorted_indices = all(part.has_sorted_indices for part in parts)
    return matrix


def column_counts(search: SearchRows, rows: np.ndarray) -> np.ndarray:
    """How many of the given rows have each term column (what the columns are reordered by)."""
    terms = search.terms
    return np.bincount(terms[rows].indices, minlength=terms.shape[1])


def row_block(start: int, rank: Packed, dense_count: int, *pieces: tuple[SearchRows, np.ndarray]) -> RowBlock:
    """One row block of a group's search rows (from the partitions holding its rows), its columns
    reordered as ``plan_tiles`` reorders the whole matrix."""
    from .neighbors import reordered

    rows = pieces[0][0].take(pieces[0][1])
    for search, chosen in pieces[1:]:
        rows = rows.stack(search.take(chosen))
    matrix = sp.csr_matrix(rows.terms, dtype=np.float32, copy=True)
    rest, frequent = reordered(matrix, rank.value, dense_count)
    dense = frequent
    if rows.dense is not None:
        given = np.ascontiguousarray(rows.dense, dtype=np.float32)
        dense = given if frequent is None else np.ascontiguousarray(np.hstack([frequent, given]))
    return RowBlock(start, rest, rest.T.tocsr(), dense)


def tile(left: RowBlock, right: RowBlock, width: int, kernel: str) -> Found:
    """The candidates of the tile of two row blocks (one block: the diagonal tile)."""
    if left.start == right.start:
        return TilePlan.of_blocks([left], kernel).candidates((0, 0), width)
    return TilePlan.of_blocks([left, right], kernel).candidates((0, 1), width)


def pair_scores(
    left: SearchRows, right: SearchRows, rows: np.ndarray, cols: np.ndarray, same: bool
) -> np.ndarray:
    """Canonical scores of pairs of a row of ``left`` and one of ``right`` (numbered within each)."""
    if same:
        return canonical_scores(left, rows, cols)
    return canonical_scores(left.stack(right), rows, cols + left.shape[0])


def vector_parts(vectors: sp.csr_matrix) -> tuple[int, np.ndarray]:
    """A partition's stored non-zeros and its rows' lengths (the client's part of the indptr)."""
    return int(vectors.nnz), np.diff(vectors.indptr)


def attribute(value: Any, name: str) -> Any:
    """One array of a partition's object (a piece of the model being written)."""
    return getattr(value, name)


def postings(search: SearchRows, hidden: np.ndarray, offset: int) -> sp.csr_matrix:
    """A partition's term part transposed (terms × its rows, numbered from ``offset``), its hidden
    duplicates left out: its share of the drafts' inverted index."""
    from .duplicates import hide_rows

    terms = hide_rows(search.terms, hidden.tolist()) if hidden.size else search.terms
    transposed = sp.csr_matrix(terms.T.tocsr(), dtype=np.float32)
    transposed.sort_indices()
    transposed.indices = transposed.indices.astype(np.int32) + np.int32(offset)
    return transposed


def posting_sizes(transposed: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each term's postings in a partition, and their largest weight (0 for none)."""
    lengths = np.diff(transposed.indptr)
    maxima = np.zeros(transposed.shape[0], dtype=np.float32)
    filled = lengths > 0
    if filled.any():
        maxima[filled] = np.maximum.reduceat(transposed.data, transposed.indptr[:-1][filled])
    return lengths, maxima


def posting_slice(transposed: sp.csr_matrix, start: int, stop: int, name: str) -> np.ndarray:
    """The rows (``indices``) or weights (``data``) of a partition's postings of terms ``start:stop``."""
    return np.asarray(getattr(transposed, name)[transposed.indptr[start] : transposed.indptr[stop]])


def dense_width(search: SearchRows) -> int | None:
    """The width of a partition's dense (LSA) part, None without one."""
    return None if search.dense is None else int(search.dense.shape[1])
