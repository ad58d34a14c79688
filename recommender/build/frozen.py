"""New articles as rows of a model whose parts are frozen: the analysis, weights, LSA projection and
encoder of the base build applied to articles it never saw, and the base's own search rows as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import store
from ..recommender import Recommender
from ..score.weighting import Weighting
from .analysis import analyse_frozen
from .assemble import OwnWords
from .blend import SearchRows, blend_rows, scaled_terms
from .pipeline import languages_of, weigh
from .semantic import embed_articles, uses_semantic

__all__ = ["NewRows", "analyse_frozen_rows", "frozen_weighting", "stored_search_rows"]


@dataclass(frozen=True)
class NewRows:
    """New articles analysed with the frozen parts."""

    frame: pd.DataFrame
    ids: list[str]
    languages: list[str]
    vectors: sp.csr_matrix
    search: SearchRows
    unseen: int
    tokens: int
    forms: dict[str, dict[str, str]]
    own_words: OwnWords
    embedded: int = 0


def analyse_frozen_rows(
    model: Recommender, frame: pd.DataFrame, progress: Callable[[int, int], None] | None = None
) -> NewRows:
    """New articles as rows of ``model``: its vocabulary, idf, reference length and LSA projection, and
    its encoder (which must be the one the model recorded)."""
    languages = languages_of(frame, model.settings)
    analysis = analyse_frozen(
        frame["body"].tolist(),
        [title or "" for title in frame["title"]],
        model.analyzers,
        vocabulary=model.vocabulary,
        languages=languages,
        title_weight=model.settings.title_weight,
    )
    vectors = weigh(analysis.counts, frozen_weighting(model))
    semantic, embedded = None, 0
    if uses_semantic(model.settings):
        embedding = embed_articles(
            list(frame["title"]),
            list(frame["body"]),
            model.settings,
            recorded=model.stored.document(store.SEMANTIC),
            progress=progress,
        )
        semantic, embedded = embedding.vectors, embedding.embedded
    search = blend_rows(
        vectors,
        model.components,
        model.settings.lsa_weight,
        semantic=semantic,
        semantic_weight=model.settings.semantic_weight,
    )
    ids = [str(article_id) for article_id in frame["id"]]
    own_words = OwnWords.of(analysis.surface_forms, analysis.vector_forms)
    return NewRows(
        frame,
        ids,
        languages,
        vectors,
        search,
        analysis.unseen,
        analysis.tokens,
        analysis.forms,
        own_words,
        embedded,
    )


def frozen_weighting(model: Recommender) -> Weighting:
    return model.index().engine.weighting


def stored_search_rows(model: Recommender) -> SearchRows:
    """The model's search rows as their two parts (the dense part as the stored model holds it)."""
    engine = model.index().engine
    dense = engine.search.rows.dense if engine.search is not None else None
    if dense is None:
        return blend_rows(model.vectors, model.components, model.settings.lsa_weight)
    return SearchRows(
        scaled_terms(model.vectors, engine.lsa_weight, engine.semantic_weight), np.asarray(dense)
    )
