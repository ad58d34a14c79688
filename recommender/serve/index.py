"""``Index``: the one engine that answers related lists, draft queries and explanations, at serving time.

``Index.load`` opens a model's current generation (every file it will read is opened then, so the answers
stay those of that generation until :meth:`Index.reload`) and memory-maps the arrays: a web process answers
``related(article_id)`` without scikit-learn, scipy, pandas or nltk, and without unpickling anything.
``Recommender`` answers through an ``Index`` over the model it holds, so both always agree.

>>> index = Index.load("models/geopolitics")  # doctest: +SKIP
>>> [n.article_id for n in index.related("kazakhstan-geopolitical-conundrum", k=3)]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import store
from ..types import Neighbor
from .engine import Engine
from .overrides import Overrides
from .snapshot import ListOptions, Snapshot

__all__ = ["Index"]


class Index:
    """Read-only related-article lookup over a stored model (a model folder, or one held in memory).

    Every call reads the snapshot current when it starts, and only that one, to its end.
    """

    def __init__(
        self, stored: Any, *, verify: bool = True, stem_unseen: bool = True, mmap: bool = True
    ) -> None:
        self._verify, self._mmap = verify, mmap  # how reload() opens the next generation: as this one
        self._stem_unseen = stem_unseen
        self._snapshot = Snapshot(stored, stem_unseen=stem_unseen)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, verify: bool = True, mmap: bool = True, stem_unseen: bool = True
    ) -> Index:
        """Open a model's current generation; ``verify=False`` skips checksums for a faster start.

        ``stem_unseen=False`` leaves a draft's words the corpus never wrote unstemmed even where NLTK is
        installed, so answers do not depend on it (``recommender.serve.drafts``).
        """
        opened = store.open_model(path, verify=verify, mmap=mmap)
        return cls(opened, verify=verify, stem_unseen=stem_unseen, mmap=mmap)

    def reload(self) -> bool:
        """Open the model's current generation if another was published since; returns whether it did.

        Until then every answer comes from the generation this index opened, whatever happens to the
        path. A call in flight on another thread finishes on the generation it began with.
        """
        model_path = self._snapshot.model_path
        if model_path is None or store.current_generation(model_path) == self.generation:
            return False
        opened = store.open_model(model_path, verify=self._verify, mmap=self._mmap)
        self._snapshot = Snapshot(opened, stem_unseen=self._stem_unseen)
        return True

    def current(self) -> Index:
        """An ``Index`` over the generation this one answers from now, unchanged by later reloads (a
        server answers each request, its ETag included, from one generation)."""
        pinned = object.__new__(Index)
        pinned._verify, pinned._mmap, pinned._stem_unseen, pinned._snapshot = (
            self._verify,
            self._mmap,
            self._stem_unseen,
            self._snapshot,
        )
        return pinned

    @property
    def path(self) -> Path:
        """The model path."""
        return self._snapshot.path

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest of the generation answering now."""
        return self._snapshot.manifest

    @property
    def generation(self) -> str | None:
        """The generation this index answers from (None for a model in memory or an older flat folder)."""
        return self._snapshot.generation

    @property
    def ids(self) -> list[str]:
        """Article ids in model order."""
        return self._snapshot.ids

    @property
    def k(self) -> int:
        """How many neighbours per article the model stores (the candidate pool for ``related``)."""
        return self._snapshot.k

    def __len__(self) -> int:
        return len(self._snapshot)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._snapshot

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshot)

    def row(self, article_id: str) -> int:
        """The row of ``article_id``; unknown ids raise ``UnknownArticleError`` with suggestions."""
        return self._snapshot.row(article_id)

    def records(self) -> list[dict[str, Any]]:
        """Every article's stored record, in model order."""
        return self._snapshot.records()

    def article(self, article_id: str) -> dict[str, Any]:
        """Stored metadata of one article (title, date, url, category, author, tags, lang)."""
        return self._snapshot.article(article_id)

    @property
    def engine(self) -> Engine:
        """The ranking engine over the current generation's arrays."""
        return self._snapshot.engine

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
        return self._snapshot.related(article_id, ListOptions(k, explain, overrides, controls))

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
        return self._snapshot.related_many(article_ids, ListOptions(k, explain, overrides, controls))

    @property
    def answers_drafts(self) -> bool:
        """Whether drafts are analysed without NLTK here (the model stores its word-form tables)."""
        return self._snapshot.answers_drafts

    def query(
        self,
        text: str,
        *,
        title: str = "",
        k: int = 8,
        lang: str | None = None,
        vector: Any = None,
        **controls: Any,
    ) -> list[Neighbor]:
        """The ``k`` articles most related to an unpublished draft (``title`` weighs as in the build).

        The draft is analysed as ``lang`` (default: detected, or the model's one language; see
        ``recommender.serve.drafts``) and, unless the model links across languages, matched against
        articles in that language only. ``controls`` are the filters of ``related`` that need no subject
        article: ``exclude_ids``, ``exclude_categories``, ``exclude_tags``, ``include_tags`` (applied
        before ranking, so the ``k`` best eligible articles are returned) and ``min_score`` (after).

        For a model with the semantic view, ``vector`` is the draft's embedding by the model's encoder
        (of ``"Title. Body"``; ``Recommender.query`` computes it): this module runs no encoder. Without
        it the draft is ranked by its terms (and LSA) alone.
        """
        return self._snapshot.query(text, title, lang, ListOptions(k, controls=controls), vector)

    def query_language(self, text: str, *, lang: str | None = None) -> str:
        """The language a draft is analysed in: ``lang``, else the model's only language, else detected."""
        return self._snapshot.query_language(text, lang=lang)

    def draft_counts(self, text: str, *, title: str = "", lang: str) -> tuple[np.ndarray, np.ndarray]:
        """A draft's sorted term columns and counts in this model's vocabulary, analysed as ``lang``."""
        return self._snapshot.draft_counts(text, title=title, lang=lang)

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, articles={len(self)}, k={self.k})"
