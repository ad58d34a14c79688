"""Serving-time lookup over a saved model: numpy and the standard library only.

``Index.load`` memory-maps the precomputed neighbour table, so a web process can answer
``related(article_id)`` without scikit-learn, scipy, pandas or nltk, and without unpickling anything.

>>> index = Index.load("models/geopolitics")  # doctest: +SKIP
>>> [n.article_id for n in index.related("kazakhstan-geopolitical-conundrum", k=3)]  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import format as fmt
from .analyzer import Analyzer
from .types import InvalidParameterError, ModelFormatError, Neighbor, UnknownArticleError

__all__ = ["Index", "check_k", "make_links"]


def check_k(k: int) -> int:
    """``k`` as an int, or a clear error when it is not a positive integer."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        message = f"k must be a positive integer, got {k!r}"
        raise InvalidParameterError(message)
    return int(k)


def make_links(
    rows: np.ndarray, scores: np.ndarray, ids: Sequence[str], metadata: Sequence[dict[str, Any]]
) -> list[Neighbor]:
    """``Neighbor`` objects for neighbour rows and scores, skipping the ``-1`` padding."""
    links: list[Neighbor] = []
    for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
        if row < 0:
            continue
        meta = metadata[row]
        links.append(
            Neighbor(
                article_id=ids[row],
                score=float(score),
                rank=len(links) + 1,
                title=meta.get("title") or "",
                date=meta.get("date"),
                url=meta.get("url"),
            )
        )
    return links


def suggest(article_id: str, ids: Sequence[str]) -> list[str]:
    """Up to three ids that look like ``article_id`` (for "did you mean" messages)."""
    return difflib.get_close_matches(article_id, list(ids), n=3, cutoff=0.6)


class Index:
    """Read-only related-article lookup over a model folder written by ``Recommender.save``.

    Opening reads the manifest and memory-maps the arrays; a version-2 folder finds ids through its
    stored hash table and decodes only the rows a call needs, so opening does not grow with the model.
    """

    def __init__(self, folder: fmt.ModelFolder) -> None:
        self.path: Path = folder.path
        self.manifest: dict[str, Any] = folder.manifest
        self._folder = folder
        neighbors = folder.array(fmt.NEIGHBORS)
        scores = folder.array(fmt.SCORES)
        self._id_list: list[str] | None = None
        self._rows: dict[str, int] | None = None
        self._metadata: list[dict[str, Any]] | None = None
        self._query: _QueryParts | None = None
        if folder.version >= 2:
            id_strings = folder.strings(fmt.IDS)
            self._strings = id_strings
            self._table = fmt.IdTable(id_strings, folder.array(fmt.ID_TABLE))
            self._columns = [folder.strings(name) for name in (fmt.TITLES, fmt.DATES, fmt.URLS, fmt.ARTICLES)]
            count = len(id_strings)
            consistent = all(len(column) == count for column in self._columns)
        else:
            ids = folder.document(fmt.IDS)
            metadata = folder.document(fmt.ARTICLES)
            count = len(ids) if isinstance(ids, list) else -1
            consistent = isinstance(metadata, list) and len(metadata) == count
            if consistent:
                self._id_list = ids
                self._metadata = metadata
                self._rows = {article_id: row for row, article_id in enumerate(ids)}
        if (
            count < 0
            or not consistent
            or neighbors.ndim != 2
            or neighbors.shape[0] != count
            or scores.shape != neighbors.shape
            or not np.issubdtype(neighbors.dtype, np.integer)
        ):
            message = f"{self.path}: model parts disagree in size; rebuild it with: recommender build"
            raise ModelFormatError(message)
        self._count = count
        self._neighbors = neighbors
        self._scores = scores
        # Plain views of the memory maps for per-call slicing (np.memmap's hooks cost microseconds).
        self._neighbor_rows = neighbors.view(np.ndarray)
        self._score_rows = scores.view(np.ndarray)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, verify: bool = True, mmap: bool = True) -> Index:
        """Open a model folder; ``verify=False`` skips checksums for a faster start."""
        return cls(fmt.open_model(path, verify=verify, mmap=mmap))

    @property
    def ids(self) -> list[str]:
        """Article ids in model order."""
        return list(self._all_ids())

    def _all_ids(self) -> list[str]:
        if self._id_list is None:
            self._id_list = self._strings.to_list()
        return self._id_list

    @property
    def k(self) -> int:
        """How many neighbours per article the model stores (the most ``related`` can return)."""
        return int(self._neighbors.shape[1])

    def __len__(self) -> int:
        return self._count

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._find(article_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._all_ids())

    def _find(self, article_id: str) -> int | None:
        if self._rows is not None:
            return self._rows.get(article_id)
        return self._table.row(article_id)

    def row(self, article_id: str) -> int:
        """The row of ``article_id``; unknown ids raise ``UnknownArticleError`` with suggestions."""
        row = self._find(article_id) if isinstance(article_id, str) else None
        if row is None:
            raise UnknownArticleError(str(article_id), suggest(str(article_id), self._all_ids()))
        return row

    def article(self, article_id: str) -> dict[str, Any]:
        """Stored metadata of one article (title, date, url, category, author, tags)."""
        row = self.row(article_id)
        if self._metadata is not None:
            return dict(self._metadata[row])
        meta: dict[str, Any] = json.loads(self._columns[3][row])
        return meta

    def related(self, article_id: str, *, k: int = 8) -> list[Neighbor]:
        """The ``k`` most similar articles, best first (fewer if the model stores fewer)."""
        k = check_k(k)
        row = self.row(article_id)
        return self._links(self._neighbor_rows[row, :k], self._score_rows[row, :k])

    def query(self, text: str, *, k: int = 8, title: str = "") -> list[Neighbor]:
        """The ``k`` articles most similar to a text not in the model (numpy only, exact cosine).

        The text goes through the model's own analyzer (stemming imports NLTK on first use) and is
        scored against the stored inverted index, as ``Recommender.query`` scores it.
        """
        k = check_k(k)
        if not isinstance(text, str) or not isinstance(title, str) or not (text.strip() or title.strip()):
            message = "query text is empty"
            raise InvalidParameterError(message)
        parts = self._query_parts()
        scores = parts.score(text, title)
        return self._links(*_best_rows(scores, k))

    def _query_parts(self) -> _QueryParts:
        if self._query is None:
            self._query = _QueryParts(self._folder, self._count)
        return self._query

    def _links(self, rows: np.ndarray, scores: np.ndarray) -> list[Neighbor]:
        if self._metadata is not None:
            return make_links(rows, scores, self._all_ids(), self._metadata)
        titles, dates, urls, _ = self._columns
        links: list[Neighbor] = []
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            if row < 0:
                continue
            links.append(
                Neighbor(
                    article_id=self._strings[row],
                    score=float(score),
                    rank=len(links) + 1,
                    title=titles[row],
                    date=dates[row] or None,
                    url=urls[row] or None,
                )
            )
        return links

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, articles={len(self)}, k={self.k})"


class _QueryParts:
    """What ``Index.query`` needs, read on first use: analyzer, vocabulary, idf and inverted index."""

    def __init__(self, folder: fmt.ModelFolder, n_rows: int) -> None:
        settings: dict[str, Any] = folder.document(fmt.ANALYZER)
        by_language: dict[str, Any] = dict(settings.get("languages") or {})
        if len(by_language) > 1:
            message = (
                f"{folder.path}: the model holds articles in {len(by_language)} languages; Index.query "
                "serves one-language models: use Recommender.query(text, lang=...) for this one"
            )
            raise InvalidParameterError(message)
        self.analyzer = Analyzer.from_dict(next(iter(by_language.values()), settings))
        self.title_weight = float(folder.parameters.get("title_weight", 1.0))
        vocabulary: list[str] = folder.document(fmt.VOCABULARY)
        self.terms = {term: column for column, term in enumerate(vocabulary)}
        self.idf = np.asarray(folder.array(fmt.IDF), dtype=np.float64)
        self.n_rows = n_rows
        if folder.has(fmt.POSTINGS_ROWS):
            self.indptr = folder.array(fmt.POSTINGS_INDPTR).view(np.ndarray)
            self.rows = folder.array(fmt.POSTINGS_ROWS).view(np.ndarray)
            self.weights = folder.array(fmt.POSTINGS_WEIGHTS).view(np.ndarray)
        else:  # version 1: derive the inverted index from the stored rows
            self.indptr, self.rows, self.weights = fmt.build_postings(
                folder.array(fmt.VECTORS_DATA),
                folder.array(fmt.VECTORS_INDICES),
                folder.array(fmt.VECTORS_INDPTR),
                len(vocabulary),
            )

    def score(self, text: str, title: str) -> np.ndarray:
        """Cosine of the text with every article (float32, summed term by term like a sparse product)."""
        counts: dict[int, float] = {}
        for terms, weight in ((self.analyzer(text), 1.0), (self.analyzer(title), self.title_weight)):
            if not weight:
                continue
            for term in terms:
                column = self.terms.get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0.0) + weight
        scores = np.zeros(self.n_rows, dtype=np.float32)
        if not counts:
            return scores
        columns = np.array(sorted(counts), dtype=np.int64)
        tf = np.array([counts[c] for c in columns.tolist()], dtype=np.float64)
        weights = (1.0 + np.log(tf)) * self.idf[columns]
        weights = (weights / np.sqrt(np.sum(weights * weights))).astype(np.float32)
        starts = self.indptr[columns].tolist()
        stops = self.indptr[columns + 1].tolist()
        for start, stop, weight in zip(starts, stops, weights.tolist(), strict=True):
            scores[self.rows[start:stop]] += np.float32(weight) * self.weights[start:stop]
        return scores


def _best_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best positive scores, by ``(-score, row)``."""
    k = min(k, scores.shape[0])
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    kth = np.partition(scores, scores.shape[0] - k)[scores.shape[0] - k]
    rows = np.flatnonzero((scores >= kth) & (scores > 0))
    values = scores[rows]
    order = np.lexsort((rows, -values))[:k]
    return rows[order], values[order]
