"""Serving-time lookup over a saved model: numpy and the standard library only.

``Index.load`` memory-maps the precomputed neighbour table, so a web process can answer
``related(article_id)`` without scikit-learn, scipy, pandas or nltk, and without unpickling anything.

>>> index = Index.load("models/geopolitics")  # doctest: +SKIP
>>> [n.article_id for n in index.related("kazakhstan-geopolitical-conundrum", k=3)]  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import format as fmt
from .controls import Catalog, Controls, Editorial, Pick, choose
from .overrides import Overrides
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


_Vectors = tuple[np.ndarray, np.ndarray, np.ndarray]


class Index:
    """Read-only related-article lookup over a model folder written by ``Recommender.save``."""

    def __init__(self, folder: fmt.ModelFolder) -> None:
        def vectors() -> _Vectors | None:
            names = (fmt.VECTORS_DATA, fmt.VECTORS_INDICES, fmt.VECTORS_INDPTR)
            if not all(f"{name}.npy" in folder.manifest["files"] for name in names):
                return None
            data, indices, indptr = (folder.array(name) for name in names)
            return data, indices, indptr

        self._setup(
            path=folder.path,
            manifest=folder.manifest,
            ids=folder.document(fmt.IDS),
            metadata=folder.document(fmt.ARTICLES),
            neighbors=folder.array(fmt.NEIGHBORS),
            scores=folder.array(fmt.SCORES),
            vectors=vectors,
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        ids: list[str],
        metadata: list[dict[str, Any]],
        neighbors: np.ndarray,
        scores: np.ndarray,
        vectors: _Vectors | None = None,
        path: str | os.PathLike[str] = "<memory>",
        cross_language: bool = False,
    ) -> Index:
        """An index over in-memory arrays (``vectors`` is the CSR triple data, indices, indptr)."""
        index = cls.__new__(cls)
        manifest = {"parameters": {"cross_language": cross_language}}
        index._setup(
            path=Path(path),
            manifest=manifest,
            ids=ids,
            metadata=metadata,
            neighbors=neighbors,
            scores=scores,
            vectors=lambda: vectors,
        )
        return index

    def _setup(
        self,
        *,
        path: Path,
        manifest: dict[str, Any],
        ids: Any,
        metadata: Any,
        neighbors: np.ndarray,
        scores: np.ndarray,
        vectors: Callable[[], _Vectors | None],
    ) -> None:
        self.path: Path = path
        self.manifest: dict[str, Any] = manifest
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
        self._load_vectors = vectors
        self._vectors: _Vectors | None = None
        self._entry_rows: np.ndarray | None = None
        self._n_terms: int | None = None
        self._catalog: Catalog | None = None

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
        """How many neighbours per article the model stores (the candidate pool for ``related``)."""
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

    def related(
        self, article_id: str, *, k: int = 8, overrides: Overrides | None = None, **controls: Any
    ) -> list[Neighbor]:
        """The ``k`` best related articles, pins first, each with the ``reason`` it is listed.

        ``controls`` are the ranking controls of ``recommender.controls.Controls`` (``max_age="365d"``,
        ``same_category=True``, ``fill=True``, ``mmr=0.7`` ...); ``overrides`` are editorial decisions.
        A disabled article gets an empty list.
        """
        k = check_k(k)
        row = self.row(article_id)
        settings = Controls.make(**controls)
        if settings.max_exposure is not None:
            message = "max_exposure caps appearances across a batch: use related_many() or export"
            raise InvalidParameterError(message)
        if overrides is None and not settings.active and k <= self.k:
            return make_links(self._neighbors[row, :k], self._scores[row, :k], self._ids, self._metadata)
        editorial = overrides.resolve(self._rows) if overrides is not None else None
        picks = self._choose(row, k, settings, editorial, None, self._exclude_rows(settings))
        return self._links(picks)

    def related_many(
        self,
        article_ids: Iterable[str] | None = None,
        *,
        k: int = 8,
        overrides: Overrides | None = None,
        **controls: Any,
    ) -> Iterator[tuple[str, list[Neighbor]]]:
        """``(article_id, links)`` for many articles (all, in model order, by default).

        Like :meth:`related`, plus ``max_exposure``: no article appears in more lists than that,
        counted in the order the lists are made. Disabled articles are left out.
        """
        k = check_k(k)
        settings = Controls.make(**controls)
        rows = [self.row(a) for a in article_ids] if article_ids is not None else range(len(self))
        editorial = overrides.resolve(self._rows) if overrides is not None else None
        exclude = self._exclude_rows(settings)
        exposure: Counter[int] = Counter()
        plain = editorial is None and not settings.active and k <= self.k
        for row in rows:
            if plain:
                links = make_links(self._neighbors[row, :k], self._scores[row, :k], self._ids, self._metadata)
                yield self._ids[row], links
                continue
            if editorial is not None and row in editorial.disabled:
                continue
            picks = self._choose(row, k, settings, editorial, exposure, exclude)
            exposure.update(pick.row for pick in picks)
            yield self._ids[row], self._links(picks)

    # --- internals ---------------------------------------------------------------------------------

    def _exclude_rows(self, settings: Controls) -> list[int]:
        return [self.row(article_id) for article_id in sorted(settings.exclude_ids)]

    def _choose(
        self,
        row: int,
        k: int,
        settings: Controls,
        editorial: Editorial | None,
        exposure: Counter[int] | None,
        exclude: list[int],
    ) -> list[Pick]:
        if self._catalog is None:
            cross = bool(self.manifest.get("parameters", {}).get("cross_language", False))
            self._catalog = Catalog(self._metadata, same_language=not cross)
        return choose(
            row,
            k=k,
            controls=settings,
            catalog=self._catalog,
            candidates=lambda: self._candidates(row),
            similarity=lambda rows: self._similarity(row, rows),
            pair_similarity=self._pair_similarity,
            editorial=editorial,
            exposure=exposure,
            excluded_rows=exclude,
        )

    def _links(self, picks: list[Pick]) -> list[Neighbor]:
        links = []
        for rank, pick in enumerate(picks, start=1):
            meta = self._metadata[pick.row]
            links.append(
                Neighbor(
                    article_id=self._ids[pick.row],
                    score=pick.score,
                    rank=rank,
                    title=meta.get("title") or "",
                    date=meta.get("date"),
                    url=meta.get("url"),
                    reason=pick.reason,
                )
            )
        return links

    def _vector_parts(self) -> _Vectors | None:
        if self._vectors is None:
            self._vectors = self._load_vectors()
        return self._vectors

    def _candidates(self, row: int) -> Iterator[tuple[int, float]]:
        """The stored neighbours, best first; past a full stored list, every other article by cosine."""
        stored = self._neighbors[row].tolist()
        seen = {row}
        for other, score in zip(stored, self._scores[row].tolist(), strict=True):
            if other >= 0:
                seen.add(other)
                yield other, float(score)
        if (stored and stored[-1] < 0) or self._vector_parts() is None:
            return  # the stored list already holds every article with a positive score
        yield -1, 0.0  # end of the stored pool (see controls.choose)
        scores = self._scan(row)
        positive = np.flatnonzero(scores > 0)
        order = positive[np.lexsort((positive, -scores[positive]))]
        for other in order.tolist():
            if other not in seen:
                yield other, float(scores[other])

    def _row_vector(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        parts = self._vector_parts()
        if parts is None:
            message = f"{self.path}: the model stores no vectors; rebuild it with: recommender build"
            raise ModelFormatError(message)
        data, indices, indptr = parts
        start, stop = int(indptr[row]), int(indptr[row + 1])
        return np.asarray(indices[start:stop]), np.asarray(data[start:stop], dtype=np.float64)

    def _scan(self, row: int) -> np.ndarray:
        """Cosine of ``row`` with every article (one pass over the stored vectors, numpy only)."""
        parts = self._vector_parts()
        assert parts is not None
        data, indices, indptr = parts
        if self._entry_rows is None:
            self._entry_rows = np.repeat(np.arange(len(self), dtype=np.int32), np.diff(np.asarray(indptr)))
        columns, values = self._row_vector(row)
        if self._n_terms is None:
            self._n_terms = int(indices.max()) + 1 if len(indices) else 0
        weights = np.zeros(self._n_terms, dtype=np.float64)
        weights[columns] = values
        contributions = np.asarray(data, dtype=np.float64) * weights[np.asarray(indices)]
        return np.bincount(self._entry_rows, weights=contributions, minlength=len(self))

    def _similarity(self, row: int, rows: Sequence[int]) -> np.ndarray:
        if self._vector_parts() is None:
            stored = dict(zip(self._neighbors[row].tolist(), self._scores[row].tolist(), strict=True))
            return np.array([stored.get(other, 0.0) for other in rows], dtype=np.float64)
        columns, values = self._row_vector(row)
        result = np.zeros(len(rows), dtype=np.float64)
        for position, other in enumerate(rows):
            other_columns, other_values = self._row_vector(other)
            _, mine, theirs = np.intersect1d(columns, other_columns, assume_unique=True, return_indices=True)
            result[position] = float(values[mine] @ other_values[theirs])
        return result

    def _pair_similarity(self, rows: Sequence[int]) -> np.ndarray:
        if self._vector_parts() is None:
            return np.eye(len(rows))
        vectors = [self._row_vector(row) for row in rows]
        union = np.unique(np.concatenate([columns for columns, _ in vectors])) if vectors else np.array([])
        dense = np.zeros((len(rows), len(union)), dtype=np.float64)
        for position, (columns, values) in enumerate(vectors):
            dense[position, np.searchsorted(union, columns)] = values
        return dense @ dense.T

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, articles={len(self)}, k={self.k})"
