"""The last build stage, shared by ``fit`` and ``update``: a model's parts laid out as the stored model.

Whatever computed them (a full build, or an update carrying most of them forward), the same parts make
the same arrays and documents, so a model folder always means one thing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import store
from ..settings import Settings
from ..store.memory import MemoryModel
from .blend import SearchRows
from .duplicates import hide_rows
from .lists import Lists, pool_width
from .tables import StoredForms, draft_tables

__all__ = ["METADATA_FIELDS", "Large", "ModelParts", "OwnWords", "assemble", "records_of"]

_Part = TypeVar("_Part")

#: What a link needs to show an article (and the filters read), stored per article.
METADATA_FIELDS = ("title", "date", "url", "category", "author", "tags")


@dataclass(frozen=True)
class OwnWords:
    """Each article's own word for each of its terms: a string table of words (its bytes and offsets), and
    per vector entry the row of its word there."""

    words: tuple[np.ndarray, np.ndarray]
    rows: np.ndarray

    @classmethod
    def of(cls, words: Sequence[str], rows: np.ndarray) -> OwnWords:
        """From the words as strings."""
        return cls(store.StringTable.encode(list(words)), np.asarray(rows, dtype=np.int32))


@dataclass(frozen=True)
class ModelParts:
    """Everything a model stores, before it is laid out as arrays and documents."""

    settings: Settings
    ids: list[str]
    records: Sequence[dict[str, Any]] | store.Records
    languages: list[str]
    analyzer: dict[str, Any]
    vocabulary: list[str]
    idf: np.ndarray
    reference_length: float
    vectors: sp.csr_matrix | None  # None (and search None) only with a cluster build's ``Large`` arrays
    search: SearchRows | None
    components: np.ndarray | None
    pools: tuple[np.ndarray, np.ndarray]
    lists: Lists
    lengths: np.ndarray
    forms: Mapping[str, Mapping[str, str]] | StoredForms
    surface: list[str]
    own_words: OwnWords | None = None
    lineage: Mapping[str, Any] | None = None
    semantic: Mapping[str, Any] | None = None


def records_of(frame: pd.DataFrame, languages: Sequence[str]) -> list[dict[str, Any]]:
    """Each article's stored record: what a link shows, its category and tags, and its language."""
    records: list[dict[str, Any]] = []
    columns: Iterable[str] = [c for c in METADATA_FIELDS if c in frame.columns]
    for row, lang in zip(frame[list(columns)].itertuples(index=False), languages, strict=True):
        # pandas turns a missing value in a partly filled column into NaN; JSON needs None.
        record: dict[str, Any] = {name: _value(getattr(row, name)) for name in columns}
        record["tags"] = list(record.get("tags") or [])
        record["lang"] = lang
        records.append(record)
    return records


def _value(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


@dataclass(frozen=True)
class Large:
    """The arrays a cluster build writes in pieces, in place of those :func:`assemble` makes from the
    vectors and search rows: the vectors' three arrays and each entry's word (``arrays``), the postings
    of drafts (data, indices, indptr) with each term's largest weight, the LSA rows, and the count of
    stored non-zeros."""

    arrays: Mapping[str, np.ndarray | store.Pieces]
    postings: tuple[np.ndarray | store.Pieces, np.ndarray | store.Pieces, np.ndarray]
    maxima: np.ndarray
    lsa_rows: np.ndarray | store.Pieces | None
    nonzeros: int


def assemble(parts: ModelParts, large: Large | None = None) -> MemoryModel:
    """The stored model of ``parts`` (with ``large``, its largest arrays given in pieces: the result is
    only for writing, see :class:`Large`)."""
    settings, vectors, lists = parts.settings, parts.vectors, parts.lists
    ids = parts.ids
    arrays: dict[str, Any] = {
        store.IDF: np.asarray(parts.idf, dtype=np.float64),
        store.NEIGHBORS: np.asarray(lists.neighbors, dtype=np.int32),
        store.SCORES: np.asarray(lists.scores, dtype=np.float32),
        store.LENGTHS: np.asarray(parts.lengths, dtype=np.int64),
    }
    if parts.components is not None:
        arrays[store.LSA_COMPONENTS] = np.asarray(parts.components, dtype=np.float32)
    if lists.hubs is not None:
        arrays[store.HUBS] = np.asarray(lists.hubs, dtype=np.float32)
    if pool_width(settings) != settings.k:
        # The raw pools an incremental update starts from (without levers they are the lists).
        arrays[store.POOL_NEIGHBORS] = np.asarray(parts.pools[0], dtype=np.int32)
        arrays[store.POOL_SCORES] = np.asarray(parts.pools[1], dtype=np.float32)
    if parts.own_words is not None:
        arrays[f"{store.SURFACE_FORMS}_bytes"], arrays[f"{store.SURFACE_FORMS}_offsets"] = (
            parts.own_words.words
        )
    hidden = sorted(lists.canonical)
    if large is None:
        assert vectors is not None
        arrays[store.VECTORS_DATA] = np.asarray(vectors.data, dtype=np.float32)
        arrays[store.VECTORS_INDICES] = np.asarray(vectors.indices, dtype=np.int32)
        arrays[store.VECTORS_INDPTR] = np.asarray(vectors.indptr, dtype=np.int64)
        if parts.own_words is not None:
            arrays[store.VECTOR_FORMS] = np.asarray(parts.own_words.rows, dtype=np.int32)
        tables, query_document = _draft_tables(parts, hidden)
    else:
        arrays.update(large.arrays)
        tables, query_document = _draft_tables(parts, hidden, large)
    arrays.update(tables)
    documents: dict[str, Any] = {
        store.IDS: ids,
        store.ARTICLES: parts.records,
        store.VOCABULARY: parts.vocabulary,
        store.ANALYZER: parts.analyzer,
        store.SURFACE: list(parts.surface),
        store.DUPLICATES: {ids[row]: ids[keep] for row, keep in sorted(lists.canonical.items())},
        store.WEIGHTING: {"reference_length": parts.reference_length},
        store.QUERY_DOCUMENT: query_document,
    }
    if parts.semantic is not None:
        documents[store.SEMANTIC] = dict(parts.semantic)
    counts = {
        "articles": len(ids),
        "terms": len(parts.vocabulary),
        "k": int(lists.neighbors.shape[1]),
        "nonzeros": large.nonzeros if large is not None else int(_given(vectors).nnz),
        "duplicates": len(lists.canonical),
    }
    extra = {"lineage": dict(parts.lineage)} if parts.lineage else None
    return MemoryModel(
        {
            "arrays": arrays,
            "documents": documents,
            "parameters": settings.to_dict(),
            "counts": counts,
            "extra": extra,
        }
    )


def _draft_tables(
    parts: ModelParts, hidden: list[int], large: Large | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tables drafts and searches read: word forms, the inverted index, the LSA rows, languages."""
    if large is None:
        assert parts.search is not None
        term_part = hide_rows(parts.search.terms, hidden) if hidden else parts.search.terms
        transposed = sp.csr_matrix(term_part.T.tocsr(), dtype=np.float32)
        transposed.sort_indices()
        postings: tuple[Any, Any, np.ndarray] = (transposed.data, transposed.indices, transposed.indptr)
    else:
        postings = large.postings
    return draft_tables(
        forms=parts.forms,
        vocabulary=parts.vocabulary,
        candidates=postings,
        maxima=None if large is None else large.maxima,
        lsa_rows=large.lsa_rows if large is not None else _given(parts.search).dense,
        row_languages=parts.languages,
        hidden_rows=hidden,
        bigrams=parts.settings.ngrams == 2,
    )


def _given(part: _Part | None) -> _Part:
    """A part a build without ``Large`` arrays always gives."""
    assert part is not None
    return part
