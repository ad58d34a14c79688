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
from .explain import explain_links
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
        self._vectors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._words: list[str] | None = None

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

    def related(self, article_id: str, *, k: int = 8, explain: bool = False) -> list[Neighbor]:
        """The ``k`` most similar articles, best first (fewer if the model stores fewer).

        ``explain=True`` adds each link's top shared terms (readable words) and their share of the score.
        """
        k = check_k(k)
        row = self.row(article_id)
        links = self._links(self._neighbor_rows[row, :k], self._score_rows[row, :k])
        if not explain:
            return links
        folder = self._folder
        if self._vectors is None or self._words is None:
            self._vectors = (
                folder.array(fmt.VECTORS_DATA),
                folder.array(fmt.VECTORS_INDICES),
                folder.array(fmt.VECTORS_INDPTR),
            )
            listed = folder.manifest["files"]
            self._words = folder.document("surface" if "surface.json" in listed else fmt.VOCABULARY)
        blended = "lsa_components.npy" in folder.manifest["files"]
        weight = 1.0 - float(folder.parameters.get("lsa_weight", 0.0)) if blended else 1.0
        neighbor_rows = [int(r) for r in self._neighbor_rows[row, :k].tolist() if r >= 0]
        rows = {link.article_id: found for link, found in zip(links, neighbor_rows, strict=True)}
        return explain_links(links, row, rows, self._vectors, self._words, weight=weight)

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
