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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import store as fmt
from ..types import InvalidParameterError, ModelFormatError, Neighbor, UnknownArticleError
from .controls import Catalog, Controls, Editorial, Pick, choose
from .drafts import DOCUMENT as DRAFTS_DOCUMENT
from .drafts import Drafts
from .explain import explain_links
from .overrides import Overrides

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
    """Read-only related-article lookup over a model folder written by ``Recommender.save``.

    Opening reads the manifest and memory-maps the arrays; a version-2 folder finds ids through its
    stored hash table and decodes only the rows a call needs, so opening does not grow with the model.
    """

    def __init__(self, folder: fmt.ModelFolder) -> None:
        self.path: Path = folder.path
        self.manifest: dict[str, Any] = folder.manifest
        self._folder: fmt.ModelFolder | None = folder
        neighbors = folder.array(fmt.NEIGHBORS)
        scores = folder.array(fmt.SCORES)
        self._id_list: list[str] | None = None
        self._rows: dict[str, int] | None = None
        self._metadata: Sequence[dict[str, Any]] | None = None
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
        self._vectors: _Vectors | None = None
        self._words: list[str] | None = None
        self._load_vectors: Callable[[], _Vectors | None] = self._folder_vectors
        self._entry_rows: np.ndarray | None = None
        self._n_terms: int | None = None
        self._catalog: Catalog | None = None
        self._drafts: Drafts | None = None

    def _folder_vectors(self) -> _Vectors | None:
        folder = self._folder
        names = (fmt.VECTORS_DATA, fmt.VECTORS_INDICES, fmt.VECTORS_INDPTR)
        if folder is None or not all(f"{name}.npy" in folder.manifest["files"] for name in names):
            return None
        data, indices, indptr = (folder.array(name) for name in names)
        return data, indices, indptr

    @classmethod
    def from_arrays(
        cls,
        *,
        ids: list[str],
        metadata: Sequence[dict[str, Any]],
        neighbors: np.ndarray,
        scores: np.ndarray,
        vectors: _Vectors | None = None,
        path: str | os.PathLike[str] = "<memory>",
        cross_language: bool = False,
    ) -> Index:
        """An index over in-memory arrays (``vectors`` is the CSR triple data, indices, indptr)."""
        index = cls.__new__(cls)
        index.path = Path(path)
        index.manifest = {"parameters": {"cross_language": cross_language}, "files": {}}
        index._folder = None
        index._id_list = ids
        index._metadata = metadata
        index._rows = {article_id: row for row, article_id in enumerate(ids)}
        index._count = len(ids)
        index._neighbors = neighbors
        index._scores = scores
        index._neighbor_rows = np.asarray(neighbors)
        index._score_rows = np.asarray(scores)
        index._vectors = None
        index._words = None
        index._load_vectors = lambda: vectors
        index._entry_rows = None
        index._n_terms = None
        index._catalog = None
        index._drafts = None
        return index

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
        """How many neighbours per article the model stores (the candidate pool for ``related``)."""
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

    def _all_metadata(self) -> list[dict[str, Any]]:
        """Every article's metadata (decoded once, on the first call that filters or fills)."""
        if self._metadata is None:
            self._metadata = [json.loads(text) for text in self._columns[3].to_list()]
        elif not isinstance(self._metadata, list):
            self._metadata = list(self._metadata)  # stored records decode on access: decode them once
        return self._metadata

    def _row_map(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = {article_id: row for row, article_id in enumerate(self._all_ids())}
        return self._rows

    def related(
        self,
        article_id: str,
        *,
        k: int = 8,
        explain: bool = False,
        overrides: Overrides | None = None,
        **controls: Any,
    ) -> list[Neighbor]:
        """The ``k`` best related articles, pins first, each with the ``reason`` it is listed.

        ``controls`` are the ranking controls of ``recommender.serve.controls.Controls`` (``max_age="365d"``,
        ``same_category=True``, ``fill=True``, ``mmr=0.7`` ...); ``overrides`` are editorial decisions.
        A disabled article gets an empty list. ``explain=True`` adds each link's top shared terms
        (readable words) and their share of the score.
        """
        k = check_k(k)
        row = self.row(article_id)
        settings = Controls.make(**controls)
        if settings.max_exposure is not None:
            message = "max_exposure caps appearances across a batch: use related_many() or export"
            raise InvalidParameterError(message)
        if overrides is None and not settings.active and k <= self.k:
            links = self._stored_links(self._neighbor_rows[row, :k], self._score_rows[row, :k])
        else:
            editorial = overrides.resolve(self._row_map()) if overrides is not None else None
            picks = self._choose(row, k, settings, editorial, None, self._exclude_rows(settings))
            links = self._pick_links(picks)
        return self._explain(row, links) if explain else links

    def related_many(
        self,
        article_ids: Iterable[str] | None = None,
        *,
        k: int = 8,
        explain: bool = False,
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
        editorial = overrides.resolve(self._row_map()) if overrides is not None else None
        exclude = self._exclude_rows(settings)
        exposure: Counter[int] = Counter()
        plain = editorial is None and not settings.active and k <= self.k
        ids = self._all_ids()
        for row in rows:
            if plain:
                links = self._stored_links(self._neighbor_rows[row, :k], self._score_rows[row, :k])
            elif editorial is not None and row in editorial.disabled:
                continue
            else:
                picks = self._choose(row, k, settings, editorial, exposure, exclude)
                exposure.update(pick.row for pick in picks)
                links = self._pick_links(picks)
            yield ids[row], self._explain(row, links) if explain else links

    @property
    def answers_drafts(self) -> bool:
        """Whether the model folder holds the tables :meth:`query` needs (saved by this library version)."""
        return self._folder is not None and self._folder.has(DRAFTS_DOCUMENT)

    def query(
        self, text: str, *, title: str = "", k: int = 8, lang: str | None = None, **controls: Any
    ) -> list[Neighbor]:
        """The ``k`` articles most related to an unpublished draft, as ``Recommender.query`` ranks them.

        numpy only: the draft is analysed with the surface-form tables the build stored (a word never
        seen in the corpus cannot be stemmed and matches nothing; see ``recommender.serve.drafts``) and scored
        exactly against the stored inverted index. ``lang`` as in ``Recommender.query``. Models written
        before these tables existed raise ``ModelFormatError`` saying to rebuild (see ``answers_drafts``).

        ``controls`` are the filters of ``related`` that need no subject article: ``exclude_ids``,
        ``exclude_categories``, ``exclude_tags``, ``include_tags`` (applied before ranking, so the ``k``
        best eligible articles are returned) and ``min_score`` (applied after).
        """
        k = check_k(k)
        if not isinstance(text, str) or not isinstance(title, str) or not (text.strip() or title.strip()):
            message = "query text is empty"
            raise InvalidParameterError(message)
        if self._drafts is None:
            if self._folder is None:
                message = "drafts are scored from a saved model folder: use Recommender.query"
                raise InvalidParameterError(message)
            self._drafts = Drafts(self._folder)
        settings = Controls.make(**controls)
        subjectless = Controls(
            exclude_ids=settings.exclude_ids,
            exclude_categories=settings.exclude_categories,
            exclude_tags=settings.exclude_tags,
            include_tags=settings.include_tags,
            min_score=settings.min_score,
        )
        if settings != subjectless:
            message = (
                "query() takes only the filters exclude_ids, exclude_categories, exclude_tags, include_tags "
                "and min_score; the other controls are relative to a subject article (use related())"
            )
            raise InvalidParameterError(message)
        rows, scores = self._drafts.best(text, title, lang, k, blocked=self._blocked(settings))
        keep = scores >= settings.min_score
        return self._stored_links(rows[keep], scores[keep])

    def _blocked(self, settings: Controls) -> np.ndarray | None:
        """Rows the filters of ``settings`` leave out, or None when there is no filter."""
        if not (
            settings.exclude_ids
            or settings.exclude_categories
            or settings.exclude_tags
            or settings.include_tags
        ):
            return None
        blocked = np.zeros(len(self), dtype=bool)
        blocked[self._exclude_rows(settings)] = True
        if settings.exclude_categories or settings.exclude_tags or settings.include_tags:
            if self._catalog is None:
                cross = bool(self.manifest.get("parameters", {}).get("cross_language", False))
                self._catalog = Catalog(self._all_metadata(), same_language=not cross)
            catalog = self._catalog
            for row, (category, tags) in enumerate(zip(catalog.categories, catalog.tags, strict=True)):
                if (
                    category in settings.exclude_categories
                    or tags & settings.exclude_tags
                    or (settings.include_tags and not tags & settings.include_tags)
                ):
                    blocked[row] = True
        return blocked

    def _explain(self, row: int, links: list[Neighbor]) -> list[Neighbor]:
        vectors = self._vector_parts()
        if vectors is None:
            message = f"{self.path}: the model stores no vectors to explain links; rebuild it"
            raise ModelFormatError(message)
        if self._words is None:
            folder = self._folder
            if folder is None:
                message = "explanations need a saved model folder: use Recommender.related(explain=True)"
                raise InvalidParameterError(message)
            listed = folder.manifest["files"]
            self._words = folder.document("surface" if "surface.json" in listed else fmt.VOCABULARY)
        parameters = self.manifest.get("parameters", {})
        blended = "lsa_components.npy" in self.manifest.get("files", {})
        weight = 1.0 - float(parameters.get("lsa_weight", 0.0)) if blended else 1.0
        rows = {link.article_id: self.row(link.article_id) for link in links}
        return explain_links(links, row, rows, vectors, self._words, weight=weight)

    # --- ranking controls ----------------------------------------------------------------------------

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
            self._catalog = Catalog(self._all_metadata(), same_language=not cross)
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

    def _pick_links(self, picks: list[Pick]) -> list[Neighbor]:
        links = []
        ids = self._all_ids()
        metadata = self._all_metadata()
        for rank, pick in enumerate(picks, start=1):
            meta = metadata[pick.row]
            links.append(
                Neighbor(
                    article_id=ids[pick.row],
                    score=pick.score,
                    rank=rank,
                    title=meta.get("title") or "",
                    date=meta.get("date"),
                    url=meta.get("url"),
                    reason=pick.reason,
                )
            )
        return links

    def _stored_links(self, rows: np.ndarray, scores: np.ndarray) -> list[Neighbor]:
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
