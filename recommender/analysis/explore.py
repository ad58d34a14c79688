"""DataFrame views of a fitted model for analysts: links, similarities, terms, and a 2-D map.

Every function takes a fitted (or loaded) ``Recommender`` and returns a pandas DataFrame, ready for a
notebook table or a matplotlib chart. The examples below use this three-article ``model``:

>>> from recommender import Recommender
>>> docs = [
...     {"id": "a", "title": "Oil prices", "body": "Crude oil prices rose as OPEC cut output."},
...     {"id": "b", "title": "OPEC cut", "body": "OPEC agreed an output cut; crude oil gained."},
...     {"id": "c", "title": "Cup final", "body": "The football final went to penalties."},
... ]
>>> model = Recommender(min_df=1).fit(docs)
>>> related_frame(model, ["a"], k=1)[["article_id", "rank", "related_id"]]
  article_id  rank related_id
0          a     1          b
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..recommender import Recommender
from ..types import InvalidParameterError

__all__ = ["map_coordinates", "related_frame", "shared_terms", "similarity_frame", "top_terms"]

_LINK_COLUMNS = ["article_id", "rank", "related_id", "score", "similarity", "related_title", "related_date"]


def related_frame(
    model: Recommender, article_ids: Sequence[str] | None = None, *, k: int = 8
) -> pd.DataFrame:
    """Related links of many articles (all when ``article_ids`` is None) as one long DataFrame.

    Columns: ``article_id, rank, related_id, score, similarity, related_title, related_date``.

    >>> related_frame(model, k=1)["related_id"].tolist()
    ['b', 'a']
    """
    chosen = model.ids if article_ids is None else list(article_ids)
    rows = [
        (article_id, link.rank, link.article_id, link.score, link.similarity, link.title, link.date)
        for article_id in chosen
        for link in model.related(article_id, k=k)
    ]
    return pd.DataFrame(rows, columns=_LINK_COLUMNS)


def similarity_frame(model: Recommender, article_ids: Sequence[str]) -> pd.DataFrame:
    """Pairwise cosine similarity of the given articles, labelled by id on both axes.

    >>> similarity_frame(model, ["a", "c"]).round(2).loc["a", "c"]
    np.float32(0.0)
    """
    ids = list(article_ids)
    return pd.DataFrame(model.similarity(ids), index=pd.Index(ids, name="article_id"), columns=ids)


def top_terms(model: Recommender, article_id: str, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` highest-weighted terms (stems) of one article: columns ``term, weight``.

    >>> top_terms(model, "c", n=2)["term"].tolist()
    ['final', 'cup']
    """
    _check_n(n)
    row = model.vectors[model.index().row(article_id)]
    order = np.lexsort((row.indices, -row.data))[:n]
    return pd.DataFrame(
        {
            "term": [model.vocabulary[i] for i in row.indices[order]],
            "weight": row.data[order].astype(float),
        }
    )


def shared_terms(model: Recommender, article_id: str, other_id: str, *, n: int = 10) -> pd.DataFrame:
    """The terms two articles share, ranked by their part of the cosine score (why they are linked).

    Columns: ``term, weight, other_weight, contribution, share``; ``contribution`` is the product of the
    two weights (the cosine is their sum over all shared terms) and ``share`` its fraction of the cosine.

    >>> shared_terms(model, "a", "b", n=3)["term"].tolist()
    ['oil', 'cut', 'opec']
    """
    _check_n(n)
    rows = [model.index().row(i) for i in (article_id, other_id)]
    first, second = (model.vectors[row] for row in rows)
    common, at_first, at_second = np.intersect1d(first.indices, second.indices, return_indices=True)
    weights = first.data[at_first].astype(float)
    other = second.data[at_second].astype(float)
    contribution = weights * other
    total = float(contribution.sum())
    order = np.lexsort((common, -contribution))[:n]
    return pd.DataFrame(
        {
            "term": [model.vocabulary[i] for i in common[order]],
            "weight": weights[order],
            "other_weight": other[order],
            "contribution": contribution[order],
            "share": contribution[order] / total if total > 0 else contribution[order],
        }
    )


def map_coordinates(
    model: Recommender, *, components: int = 50, perplexity: float = 30.0, random_state: int = 0
) -> pd.DataFrame:
    """2-D coordinates of every article for a map: TruncatedSVD to ``components`` dims, then t-SNE.

    Returns columns ``article_id, x, y`` (seeded, so the same model gives the same map).

    >>> sorted(map_coordinates(model, perplexity=1.0).columns)
    ['article_id', 'x', 'y']
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.manifold import TSNE

    n_rows, n_terms = model.vectors.shape
    if n_rows < 3:
        message = f"a map needs at least 3 articles, the model has {n_rows}"
        raise InvalidParameterError(message)
    dims = max(2, min(components, n_terms - 1, n_rows - 1))
    reduced = TruncatedSVD(n_components=dims, random_state=random_state).fit_transform(model.vectors)
    perplexity = min(perplexity, (n_rows - 1) / 3)
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(
        reduced
    )
    return pd.DataFrame({"article_id": model.ids, "x": points[:, 0], "y": points[:, 1]})


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        message = f"n must be a positive integer, got {n!r}"
        raise InvalidParameterError(message)
