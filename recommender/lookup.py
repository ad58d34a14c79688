"""Serving-time lookup over a saved model: numpy and the standard library only.

``Index.load`` memory-maps the precomputed neighbour table, so a web process can answer
``related(article_id)`` without scikit-learn, scipy, pandas or nltk, and without unpickling anything.

>>> index = Index.load("models/geopolitics")  # doctest: +SKIP
>>> [n.article_id for n in index.related("kazakhstan-geopolitical-conundrum", k=3)]  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
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
    """Read-only related-article lookup over a model folder written by ``Recommender.save``."""

    def __init__(self, folder: fmt.ModelFolder) -> None:
        self.path: Path = folder.path
        self.manifest: dict[str, Any] = folder.manifest
        ids = folder.document(fmt.IDS)
        metadata = folder.document(fmt.ARTICLES)
        neighbors = folder.array(fmt.NEIGHBORS)
        scores = folder.array(fmt.SCORES)
        count = len(ids) if isinstance(ids, list) else -1
        if (
            count < 0
            or not isinstance(metadata, list)
            or len(metadata) != count
            or neighbors.ndim != 2
            or neighbors.shape[0] != count
            or scores.shape != neighbors.shape
            or not np.issubdtype(neighbors.dtype, np.integer)
        ):
            message = f"{self.path}: model parts disagree in size; rebuild it with: recommender build"
            raise ModelFormatError(message)
        self._ids: list[str] = ids
        self._metadata: list[dict[str, Any]] = metadata
        self._neighbors = neighbors
        self._scores = scores
        self._rows = {article_id: row for row, article_id in enumerate(ids)}
        self._folder = folder
        self._vectors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._words: list[str] | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, verify: bool = True, mmap: bool = True) -> Index:
        """Open a model folder; ``verify=False`` skips checksums for a faster start."""
        return cls(fmt.open_model(path, verify=verify, mmap=mmap))

    @property
    def ids(self) -> list[str]:
        """Article ids in model order."""
        return list(self._ids)

    @property
    def k(self) -> int:
        """How many neighbours per article the model stores (the most ``related`` can return)."""
        return int(self._neighbors.shape[1])

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def row(self, article_id: str) -> int:
        """The row of ``article_id``; unknown ids raise ``UnknownArticleError`` with suggestions."""
        try:
            return self._rows[article_id]
        except (KeyError, TypeError):
            raise UnknownArticleError(str(article_id), suggest(str(article_id), self._ids)) from None

    def article(self, article_id: str) -> dict[str, Any]:
        """Stored metadata of one article (title, date, url, category, author, tags)."""
        return dict(self._metadata[self.row(article_id)])

    def related(self, article_id: str, *, k: int = 8, explain: bool = False) -> list[Neighbor]:
        """The ``k`` most similar articles, best first (fewer if the model stores fewer).

        ``explain=True`` adds each link's top shared terms (readable words) and their share of the score.
        """
        k = check_k(k)
        row = self.row(article_id)
        links = make_links(self._neighbors[row, :k], self._scores[row, :k], self._ids, self._metadata)
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
        return explain_links(links, row, self._rows, self._vectors, self._words, weight=weight)

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, articles={len(self)}, k={self.k})"
