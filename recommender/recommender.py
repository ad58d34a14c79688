"""``Recommender``: the library's front. ``fit`` builds the stored model; questions go to its ``Index``.

The build (:mod:`recommender.build.pipeline`) turns articles into a stored model, the value a model folder
holds; ``related``, ``related_many`` and ``query`` are answered by an :class:`~recommender.serve.Index`
over that value, the same engine a serving process loads from the folder, so the library, the command
line and a server always give the same lists. ``save`` publishes the model as a new generation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import store
from .build.assemble import METADATA_FIELDS
from .serve.explain import Words, term_words
from .serve.index import Index
from .settings import Settings
from .sources.corpus import Articles, load_articles
from .text.analyzer import Analyzer, resolve_stop_words
from .text.languages import Analyzers
from .types import InvalidParameterError, ModelFormatError, Neighbor, RecommenderError

if TYPE_CHECKING:
    from .build.pipeline import Stage

__all__ = ["Recommender"]

_T = TypeVar("_T")


class Recommender:
    """TF-IDF + cosine related-article engine: fit on a corpus, ask for related posts, save, load.

    Examples
    --------
    >>> rec = Recommender(k=5).fit("corpus/geopolitics.jsonl")  # doctest: +SKIP
    >>> rec.related("kazakhstan-geopolitical-conundrum", k=3)  # doctest: +SKIP
    >>> rec.save("models/geopolitics")  # doctest: +SKIP
    """

    def __init__(self, **settings: Any) -> None:
        known = {field.name for field in fields(Settings)}
        unknown = sorted(set(settings) - known)
        if unknown:
            message = f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            raise InvalidParameterError(message)
        self.settings = Settings(**settings)
        resolve_stop_words(self.settings.stop_words)  # an unknown list name is an error now, not at fit
        self._stored: Any = None
        self._index: Index | None = None
        self._frame: pd.DataFrame | None = None
        self._cache: dict[str, Any] = {}

    # --- building and storing --------------------------------------------------------------------------

    def fit(
        self,
        articles: Articles,
        *,
        skip_invalid: bool = False,
        date_format: str | None = None,
        scheduler: Any = None,
        stage: Stage | None = None,
        output: str | os.PathLike[str] | None = None,
    ) -> Recommender:
        """Index ``articles`` (a path, a DataFrame or dicts with at least ``id`` and ``body``).

        ``skip_invalid`` leaves out (and lists) bad records instead of failing; ``date_format`` declares
        how dates are written when not in a format read by default (see ``read_articles``).

        ``scheduler`` (a Dask scheduler address or ``dask.distributed.Client``; needs the ``dask``
        extra) builds on that cluster: files are read, analysed, weighted and searched on its workers,
        and the model is the one a local build makes (with the semantic view, files are read and weighted
        here; the analysis, the encoding and the all-pairs search run there). ``output`` saves the model
        there (as :meth:`save`); on a cluster it is written as it is fetched from the workers, so this
        process never holds its large arrays, and it is then read memory-mapped. ``stage``, a function
        of a stage's name returning a context manager, wraps each build stage (to time or show them).
        """
        from .build.pipeline import build_model, warm_languages
        from .text.languages import cancel_warm

        if scheduler is not None and not self.settings.semantic:
            return self._fit_on_cluster(articles, scheduler, skip_invalid, date_format, stage, output)
        warm_languages(self.settings, articles)
        try:
            frame = load_articles(articles, skip_invalid=skip_invalid, date_format=date_format)
        except BaseException:
            cancel_warm()
            raise
        if scheduler is None:
            self._use(build_model(frame, self.settings, stage=stage))
        else:
            from .build.distributed import dask_mapper

            mapper = dask_mapper(scheduler)
            try:
                self._use(build_model(frame, self.settings, mapper=mapper, stage=stage))
            finally:
                mapper.close()
        self._frame = frame
        if output is not None:
            self.save(output)
        return self

    def _fit_on_cluster(
        self,
        articles: Articles,
        scheduler: Any,
        skip_invalid: bool,
        date_format: str | None,
        stage: Stage | None,
        output: str | os.PathLike[str] | None,
    ) -> Recommender:
        """``fit`` on a Dask cluster: the articles read, analysed and searched on its workers."""
        from .build.cluster import build_on_cluster
        from .build.distributed import dask_mapper

        mapper = dask_mapper(scheduler)
        try:
            built = build_on_cluster(
                articles,
                self.settings,
                mapper.client,
                reading={"skip_invalid": skip_invalid, "date_format": date_format},
                stage=stage,
                output=output,
            )
        finally:
            mapper.close()
        self._use(built)
        return self

    def _use(self, stored: Any) -> None:
        self._stored = stored
        self._index = Index(stored)
        self._frame = None
        self._cache = {}

    @classmethod
    def from_stored(cls, stored: Any) -> Recommender:
        """A Recommender over a stored model (a ``MemoryModel`` or an opened model folder)."""
        try:
            settings = Settings.from_dict(stored.parameters)
        except (TypeError, InvalidParameterError) as error:
            message = f"{stored.path}: manifest parameters are invalid ({error}); rebuild the model"
            raise ModelFormatError(message) from None
        model = cls(**{field.name: getattr(settings, field.name) for field in fields(Settings)})
        model._use(stored)
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, verify: bool = True) -> Recommender:
        """A fitted Recommender from a saved model (article bodies are not stored)."""
        return cls.from_stored(store.open_model(path, verify=verify))

    def save(self, path: str | os.PathLike[str], *, wait: bool = True, keep: int = 2) -> Path:
        """Publish the model at ``path``: a new generation, made current in one atomic step.

        Another writer of ``path`` is waited for (``wait=False``: ``ModelLockedError`` at once); ``keep``
        is how many published generations stay. A non-empty folder that is not a model is refused.
        """
        stored = self._require_fitted()
        return store.write_model(path, **stored.parts(), wait=wait, keep=keep)

    @property
    def stored(self) -> Any:
        """The stored model: what :meth:`save` writes (a ``MemoryModel``, or the opened folder)."""
        return self._require_fitted()

    def _require_fitted(self) -> Any:
        if self._stored is None:
            message = "this Recommender is not fitted yet: call fit(articles) or Recommender.load(path)"
            raise RecommenderError(message)
        return self._stored

    # --- asking (the Index answers) --------------------------------------------------------------------

    def index(self) -> Index:
        """The ``Index`` answering for this model (the engine a serving process loads from the folder)."""
        self._require_fitted()
        assert self._index is not None
        return self._index

    def related(self, article_id: str, **options: Any) -> list[Neighbor]:
        """The articles most similar to ``article_id``, best first: ``Index.related`` (``k``, ``explain``,
        ``overrides`` and the ranking controls)."""
        return self.index().related(article_id, **options)

    def related_many(
        self, article_ids: Iterable[str] | None = None, *, k: int = 8, **options: Any
    ) -> Iterator[tuple[str, list[Neighbor]]]:
        """``(article_id, links)`` for many articles (see ``Index.related_many``)."""
        return self.index().related_many(article_ids, k=k, **options)

    def query(
        self, text: str, *, k: int = 8, title: str = "", lang: str | None = None, **filters: Any
    ) -> list[Neighbor]:
        """The ``k`` indexed articles most similar to an unpublished draft (see ``Index.query``); with the
        semantic view, the draft is embedded by the model's encoder first."""
        index = self.index()
        vector = self.embed_draft(text, title=title) if index.engine.semantic_weight > 0 else None
        return index.query(text, k=k, title=title, lang=lang, vector=vector, **filters)

    def embed_draft(self, text: str, *, title: str = "") -> np.ndarray:
        """A draft's embedding by the model's encoder (the ``vector`` ``Index.query`` takes); an error when
        the encoder at ``settings.semantic`` is not the one the model was built with."""
        from .build.semantic import embed_draft

        recorded = self.index().engine.semantic
        if self.settings.semantic is None or recorded is None:
            message = "this model has no semantic view (build it with semantic=MODEL_FOLDER)"
            raise InvalidParameterError(message)
        return embed_draft(recorded, self.settings.semantic, text, title)

    def query_language(self, text: str, *, lang: str | None = None) -> str:
        """The language a draft is analysed in: ``lang``, else the model's only language, else detected."""
        return self.index().query_language(text, lang=lang)

    def vectorize(self, text: str, *, title: str = "", lang: str = "en") -> sp.csr_matrix:
        """A text's L2-normalised TF-IDF row in this model's vocabulary (as a draft is weighed)."""
        index = self.index()
        columns, counts = index.draft_counts(text, title=title, lang=lang)
        values = index.engine.weigh(columns, counts)
        return sp.csr_matrix((values, columns, [0, columns.size]), shape=(1, len(self.vocabulary)))

    def similarity(self, article_ids: Sequence[str]) -> np.ndarray:
        """Pairwise similarity (the ranking score) among the given articles, as a ``len × len`` array."""
        if isinstance(article_ids, str):
            message = "similarity() takes a list of article ids, not one string"
            raise InvalidParameterError(message)
        index = self.index()
        rows = [index.row(article_id) for article_id in article_ids]
        return np.asarray(index.engine.pair_similarity(rows), dtype=np.float32).reshape(len(rows), len(rows))

    def __len__(self) -> int:
        return 0 if self._stored is None else len(self.index())

    def __contains__(self, article_id: object) -> bool:
        return self._stored is not None and article_id in self.index()

    # --- the model's parts, for analysts and updates ---------------------------------------------------

    def _part(self, name: str, make: Callable[[], _T]) -> _T:
        """A part derived from the stored model once (ids, vocabulary, the scipy vectors, ...)."""
        if name not in self._cache:
            self._cache[name] = make()
        part: _T = self._cache[name]
        return part

    @property
    def ids(self) -> list[str]:
        """Article ids in model order."""
        return self._part("ids", lambda: self.index().ids)

    @property
    def vocabulary(self) -> list[str]:
        """The indexed terms, sorted."""
        return self._part("vocabulary", lambda: list(self.stored.document(store.VOCABULARY)))

    @property
    def term_words(self) -> list[str]:
        """One readable word per vocabulary term (``"energy"`` for ``"energi"``), in vocabulary order."""
        return self._part("term_words", lambda: term_words(self.stored))

    @property
    def words(self) -> Words:
        """Each article's terms, weights and own written words (``words.row(row)``), as explanations show."""
        return self._part("words", lambda: Words(self.stored))

    @property
    def idf(self) -> np.ndarray:
        """Smoothed idf per term."""
        return np.asarray(self.stored.array(store.IDF))

    @property
    def vectors(self) -> sp.csr_matrix:
        """The weighted unit rows (float32 CSR, articles × terms)."""
        stored = self.stored

        def make() -> sp.csr_matrix:
            parts = (stored.array(store.VECTORS_DATA), stored.array(store.VECTORS_INDICES))
            indptr = stored.array(store.VECTORS_INDPTR)
            return sp.csr_matrix((*parts, indptr), shape=(len(self.ids), len(self.vocabulary)))

        return self._part("vectors", make)

    @property
    def neighbors(self) -> np.ndarray:
        """Each article's stored related rows (``-1`` padding)."""
        return np.asarray(self.stored.array(store.NEIGHBORS))

    @property
    def scores(self) -> np.ndarray:
        """The stored lists' scores."""
        return np.asarray(self.stored.array(store.SCORES))

    @property
    def hubs(self) -> np.ndarray | None:
        """Each article's hub score (None without the hub discount)."""
        return np.asarray(self.stored.array(store.HUBS)) if self.stored.has(store.HUBS) else None

    @property
    def components(self) -> np.ndarray | None:
        """The LSA projection (dims × terms), or None."""
        stored = self.stored
        return np.asarray(stored.array(store.LSA_COMPONENTS)) if stored.has(store.LSA_COMPONENTS) else None

    @property
    def pools(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The raw candidate pools an update starts from (the lists themselves without levers)."""
        from .build.lists import pool_width

        stored = self.stored
        if stored.has(store.POOL_NEIGHBORS):
            return np.asarray(stored.array(store.POOL_NEIGHBORS)), np.asarray(stored.array(store.POOL_SCORES))
        return (self.neighbors, self.scores) if pool_width(self.settings) == self.settings.k else None

    @property
    def lengths(self) -> np.ndarray | None:
        """Each article's body length (what picks a duplicate group's kept article), when stored."""
        return np.asarray(self.stored.array(store.LENGTHS)) if self.stored.has(store.LENGTHS) else None

    @property
    def duplicates(self) -> dict[str, str]:
        """Hidden near-duplicate id -> the id kept for its group."""
        stored = self.stored
        return dict(stored.document(store.DUPLICATES)) if stored.has(store.DUPLICATES) else {}

    @property
    def languages(self) -> list[str]:
        """Each article's language code."""

        def make() -> list[str]:
            engine = self.index().engine
            return [engine.languages[code] for code in engine.row_languages.tolist()]

        return self._part("languages", make)

    @property
    def analyzers(self) -> Analyzers:
        """The analyzers the model was built with, one per language."""

        def make() -> Analyzers:
            settings = self.settings
            analyzers = Analyzers(stop_words=settings.stop_words, stem=settings.stem, ngrams=settings.ngrams)
            analyzers.restore(self.stored.document(store.ANALYZER))
            return analyzers

        return self._part("analyzers", make)

    @property
    def analyzer(self) -> Analyzer:
        """The English (or the model's first) analyzer."""
        return self._part("analyzer", lambda: Analyzer.from_dict(dict(self.stored.document(store.ANALYZER))))

    @property
    def articles(self) -> pd.DataFrame:
        """The indexed articles: the corpus after ``fit``; ids and stored metadata after ``load``."""
        if self._frame is not None:
            return self._frame
        index = self.index()

        def make() -> pd.DataFrame:
            records = [index.article(article_id) for article_id in self.ids]
            columns = {name: [record.get(name) for record in records] for name in METADATA_FIELDS}
            return pd.DataFrame({"id": self.ids, **columns})

        return self._part("articles", make)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Each article's stored record (title, date, url, category, author, tags, lang), in model order."""
        return self.index().records()

    @property
    def forms(self) -> dict[str, dict[str, str]]:
        """Per language, every surface token of the corpus and the term it becomes ("" when dropped): what
        drafts are looked up in."""
        from .build.tables import StoredForms

        def make() -> dict[str, dict[str, str]]:
            stored = StoredForms.read(self.stored)
            return stored.to_forms() if stored is not None else {}

        return self._part("forms", make)

    @property
    def empty_ids(self) -> list[str]:
        """Articles with no indexed term (they get no related posts)."""
        indptr = np.asarray(self.stored.array(store.VECTORS_INDPTR))
        return [self.ids[row] for row in np.flatnonzero(np.diff(indptr) == 0).tolist()]

    def __repr__(self) -> str:
        fitted = self._stored is not None
        state = f"articles={len(self)}, terms={len(self.vocabulary)}" if fitted else "not fitted"
        return f"Recommender({state}, settings={self.settings})"
