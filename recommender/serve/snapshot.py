"""One opened generation of a model and every answer drawn from it: lists, drafts, explanations.

``Index`` holds one ``Snapshot`` at a time and swaps it whole on ``reload``, so a call that began on a
generation reads only that generation's snapshot to its end. numpy and the standard library only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import store
from ..score.rerank import discounts
from ..settings import check_k
from ..types import InvalidParameterError, ModelFormatError, Neighbor
from .articles import ArticleTable
from .controls import Catalog, Controls, Editorial, Pick, choose
from .drafts import DraftAnalyzer
from .engine import Engine
from .explain import Words, explain_links
from .overrides import Overrides

__all__ = ["ListOptions", "Snapshot"]

_PLAIN = Controls()  # no ranking controls: the stored or engine-ranked list as it is
_FILTERS = ("exclude_ids", "exclude_categories", "exclude_tags", "include_tags", "min_score")


@dataclass(frozen=True)
class ListOptions:
    """How long a list is, whether to explain it, and the overrides and ranking controls that shape it."""

    k: int = 8
    explain: bool = False
    overrides: Overrides | None = None
    controls: Mapping[str, Any] = field(default_factory=dict)


class Snapshot:
    """One generation of a stored model, opened: the articles, the engine, drafts and explanations."""

    def __init__(self, stored: Any, *, stem_unseen: bool = True) -> None:
        self._stem_unseen = stem_unseen
        self._stored = stored
        self.path: Path = Path(getattr(stored, "model_path", None) or stored.path)
        self.manifest: dict[str, Any] = stored.manifest
        self._articles = ArticleTable(stored)
        neighbors = stored.array(store.NEIGHBORS)
        scores = stored.array(store.SCORES)
        count = self._articles.count
        if (
            neighbors.ndim != 2
            or neighbors.shape[0] != count
            or scores.shape != neighbors.shape
            or not np.issubdtype(neighbors.dtype, np.integer)
        ):
            message = f"{stored.path}: model parts disagree in size; rebuild it with: recommender build"
            raise ModelFormatError(message)
        self._engine: Engine | None = None
        self._lists: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._drafts: DraftAnalyzer | None = None
        self._catalog: Catalog | None = None
        self._words: Words | None = None

    @property
    def generation(self) -> str | None:
        """The generation this is (None for a model in memory or an older flat folder)."""
        generation: str | None = getattr(self._stored, "generation", None)
        return generation

    @property
    def model_path(self) -> Path | None:
        """The model path the generation was opened from (None for a model in memory)."""
        model_path = getattr(self._stored, "model_path", None)
        return None if model_path is None else Path(model_path)

    @property
    def ids(self) -> list[str]:
        """Article ids in model order."""
        return list(self._articles.ids())

    @property
    def k(self) -> int:
        """How many neighbours per article the model stores (the candidate pool for ``related``)."""
        return int(self._stored_lists()[0].shape[1])

    def _stored_lists(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The stored neighbour lists, their similarities and each article's hub discount (None without
        one), mapped once, then read per call."""
        if self._lists is None:
            weight = float(self.manifest.get("parameters", {}).get("hub_weight", 0.0))
            hubs = self._stored.array(store.HUBS) if weight and self._stored.has(store.HUBS) else None
            discount = discounts(hubs, weight)
            self._lists = (
                np.asarray(self._stored.array(store.NEIGHBORS)).view(np.ndarray),
                np.asarray(self._stored.array(store.SCORES)).view(np.ndarray),
                discount,
            )
        return self._lists

    def __len__(self) -> int:
        return self._articles.count

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._articles.find(article_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._articles.ids())

    def row(self, article_id: str) -> int:
        """The row of ``article_id``; unknown ids raise ``UnknownArticleError`` with suggestions."""
        return self._articles.row(article_id)

    def records(self) -> list[dict[str, Any]]:
        """Every article's stored record, in model order."""
        return [dict(record) for record in self._articles.all_metadata()]

    def article(self, article_id: str) -> dict[str, Any]:
        """Stored metadata of one article (title, date, url, category, author, tags, lang)."""
        return self._articles.metadata(self.row(article_id))

    @property
    def engine(self) -> Engine:
        """The ranking engine over this model's arrays (made on first use)."""
        if self._engine is None:
            stored, find = self._stored, self._articles.find
            hidden = stored.document(store.DUPLICATES) if stored.has(store.DUPLICATES) else {}
            duplicates: dict[int, int] = {}
            for duplicate, kept in hidden.items():
                rows = find(duplicate), find(kept)
                if rows[0] is not None and rows[1] is not None:
                    duplicates[rows[0]] = rows[1]
            codes, names = _row_languages(stored, self._articles)
            self._engine = Engine(stored, languages=(codes, names), duplicates=duplicates)
        return self._engine

    # --- related lists ---------------------------------------------------------------------------------

    def related(self, article_id: str, options: ListOptions) -> list[Neighbor]:
        """One article's list (see ``Index.related``)."""
        k, explain, overrides = check_k(options.k), options.explain, options.overrides
        row = self.row(article_id)
        settings = Controls.make(**options.controls) if options.controls else _PLAIN
        if settings.max_exposure is not None:
            message = "max_exposure caps appearances across a batch: use related_many() or export"
            raise InvalidParameterError(message)
        editorial = overrides.resolve(self._articles.row_map()) if overrides is not None else None
        links = self._links(row, k, settings, editorial, None, self._exclude_rows(settings))
        return self._explain(row, links) if explain else links

    def related_many(
        self, article_ids: Iterable[str] | None, options: ListOptions
    ) -> Iterator[tuple[str, list[Neighbor]]]:
        """Many articles' lists (see ``Index.related_many``)."""
        if isinstance(article_ids, str):  # iterating it would look up each of its characters
            message = "related_many() takes a list of article ids, not one string (use related() for one)"
            raise InvalidParameterError(message)
        k, explain, overrides = check_k(options.k), options.explain, options.overrides
        settings = Controls.make(**options.controls)
        rows = [self.row(a) for a in article_ids] if article_ids is not None else range(len(self))
        editorial = overrides.resolve(self._articles.row_map()) if overrides is not None else None
        exclude = self._exclude_rows(settings)
        exposure: Counter[int] = Counter()
        for row in rows:
            if editorial is not None and row in editorial.disabled:
                continue
            links = self._links(row, k, settings, editorial, exposure, exclude)
            if settings.max_exposure is not None:
                exposure.update(self._articles.row(link.article_id) for link in links)
            yield self._articles.id(row), self._explain(row, links) if explain else links

    def _links(
        self,
        row: int,
        k: int,
        settings: Controls,
        editorial: Editorial | None,
        exposure: Counter[int] | None,
        exclude: list[int],
    ) -> list[Neighbor]:
        """One article's list: the engine's ranking, or the ranking controls' and overrides' choice."""
        if editorial is None and not settings.active:
            neighbors, scores, discount = self._stored_lists()
            if k <= neighbors.shape[1]:  # the stored list, read without building the engine
                rows, similarities = neighbors[row, :k], scores[row, :k]
                shown = similarities if discount is None else similarities - discount[rows]
                return self._articles.links(rows, shown, similarities)
            rows, similarities = self.engine.related(row, k)
            return self._articles.links(rows, self.engine.shown(rows, similarities), similarities)
        engine = self.engine
        picks = choose(
            row,
            k=k,
            controls=settings,
            catalog=self._catalog_of(),
            candidates=lambda: engine.stream(row),
            similarity=lambda rows: engine.similarity(row, rows),
            pair_similarity=engine.pair_similarity,
            discount=engine.discount if engine.discounts is not None else None,
            editorial=editorial,
            exposure=exposure,
            excluded_rows=exclude,
        )
        return self._pick_links(picks)

    def _pick_links(self, picks: list[Pick]) -> list[Neighbor]:
        return [
            self._articles.link(pick.row, pick.score, rank, pick.reason, similarity=pick.similarity)
            for rank, pick in enumerate(picks, start=1)
        ]

    def _catalog_of(self) -> Catalog:
        if self._catalog is None:
            cross = bool(self.manifest.get("parameters", {}).get("cross_language", False))
            self._catalog = Catalog(self._articles.all_metadata(), same_language=not cross)
        return self._catalog

    def _exclude_rows(self, settings: Controls) -> list[int]:
        return [self.row(article_id) for article_id in sorted(settings.exclude_ids)]

    # --- drafts ----------------------------------------------------------------------------------------

    @property
    def answers_drafts(self) -> bool:
        """Whether drafts are analysed without NLTK here (the model stores its word-form tables)."""
        return bool(self._stored.has(store.QUERY_DOCUMENT))

    def query(
        self, text: str, title: str, lang: str | None, options: ListOptions, vector: Any = None
    ) -> list[Neighbor]:
        """A draft's list (see ``Index.query``)."""
        k, controls = check_k(options.k), options.controls
        if not isinstance(text, str) or not isinstance(title, str) or not (text.strip() or title.strip()):
            message = "query text is empty"
            raise InvalidParameterError(message)
        unknown = sorted(set(controls) - set(_FILTERS))
        settings = Controls.make(**controls)
        if unknown:
            message = (
                "query() takes only the filters exclude_ids, exclude_categories, exclude_tags, include_tags "
                "and min_score; the other controls are relative to a subject article (use related())"
            )
            raise InvalidParameterError(message)
        language = self.query_language(f"{title}\n{text}", lang=lang)
        if not self.engine.has_rows(language):
            return []  # no article in the draft's language: nothing to link
        query = self.engine.draft_query(*self.draft_counts(text, title=title, lang=language), vector=vector)
        rows, similarities = self.engine.draft(query, language, k, blocked=self._blocked(settings))
        shown = self.engine.shown(rows, similarities)
        keep = shown >= settings.min_score if settings.min_score > 0 else np.ones(rows.size, dtype=bool)
        return self._articles.links(rows[keep], shown[keep], similarities[keep])

    def query_language(self, text: str, *, lang: str | None = None) -> str:
        """The language a draft is analysed in: ``lang``, else the model's only language, else detected."""
        return self._draft_analyzer().language(text, lang)

    def draft_counts(self, text: str, *, title: str = "", lang: str) -> tuple[np.ndarray, np.ndarray]:
        """A draft's sorted term columns and counts in this model's vocabulary, analysed as ``lang``."""
        drafts = self._draft_analyzer()
        return drafts.counts(text, title, drafts.language(text, lang))

    def _draft_analyzer(self) -> DraftAnalyzer:
        if self._drafts is None:
            self._drafts = DraftAnalyzer(
                self._stored, languages=self.engine.languages, stem_unseen=self._stem_unseen
            )
        return self._drafts

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
            catalog = self._catalog_of()
            for row, (category, tags) in enumerate(zip(catalog.categories, catalog.tags, strict=True)):
                if (
                    category in settings.exclude_categories
                    or tags & settings.exclude_tags
                    or (settings.include_tags and not tags & settings.include_tags)
                ):
                    blocked[row] = True
        return blocked

    # --- explanations ----------------------------------------------------------------------------------

    def _explain(self, row: int, links: list[Neighbor]) -> list[Neighbor]:
        if not self._stored.has(store.VECTORS_DATA):
            message = f"{self.path}: the model stores no vectors to explain links; rebuild it"
            raise ModelFormatError(message)
        if self._words is None:
            self._words = Words(self._stored)
        engine = self.engine
        weight = engine.term_share
        rows = {link.article_id: self._articles.row(link.article_id) for link in links}
        return explain_links(links, row, rows, self._words, weight=weight)


def _row_languages(stored: Any, articles: ArticleTable) -> tuple[np.ndarray, list[str]]:
    """Every article's language as a number into the sorted language codes, and those codes: from the
    draft tables, else from the records (else the analyzer's language)."""
    if stored.has(store.QUERY_ROW_LANGUAGES) and stored.has(store.QUERY_DOCUMENT):
        present = list(stored.document(store.QUERY_DOCUMENT).get("languages", []))
        codes = np.asarray(stored.array(store.QUERY_ROW_LANGUAGES), dtype=np.int32)
        if present == sorted(present) and (not codes.size or 0 <= codes.min() <= codes.max() < len(present)):
            return codes, present
    default = str(stored.document(store.ANALYZER).get("language", "en"))
    languages = [str(meta.get("lang") or default) for meta in articles.all_metadata()]
    names = sorted(set(languages))
    number = {name: position for position, name in enumerate(names)}
    return np.asarray([number[language] for language in languages], dtype=np.int32), names
