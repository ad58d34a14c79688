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

from ..build.blend import MIN_ARTICLES_PER_DIMENSION
from ..recommender import Recommender
from ..text.analyzer import SNOWBALL
from ..types import InvalidParameterError

__all__ = [
    "describe",
    "distinctive_terms",
    "map_coordinates",
    "related_frame",
    "shared_terms",
    "similarity_frame",
    "top_terms",
]

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
    """The ``n`` highest-weighted terms of one article: columns ``term, word, weight``.

    ``term`` is the indexed term (a stem), ``word`` the article's own written word for it.

    >>> top_terms(model, "c", n=2)[["term", "word"]].values.tolist()
    [['final', 'final'], ['cup', 'Cup']]
    """
    _check_n(n)
    indices, data, words = _row_words(model, article_id)
    order = np.lexsort((indices, -data))[:n]
    return pd.DataFrame(
        {
            "term": [model.vocabulary[i] for i in indices[order]],
            "word": [words[i] for i in order],
            "weight": data[order].astype(float),
        }
    )


def distinctive_terms(model: Recommender, article_ids: Sequence[str], *, n: int = 10) -> pd.DataFrame:
    """The terms a group of articles uses far more than the corpus: columns ``term, word, lift``.

    ``lift`` is the group's mean weight of the term less the corpus's mean; ``word`` the term's most
    frequent written form in the corpus (what a reader knows: "energy" for the stem "energi").

    >>> distinctive_terms(model, ["a", "b"], n=2)["word"].tolist()
    ['cut', 'OPEC']
    """
    _check_n(n)
    ids = list(article_ids)
    if not ids:
        message = "distinctive_terms needs at least one article id"
        raise InvalidParameterError(message)
    index = model.index()
    rows = np.array([index.row(article_id) for article_id in ids])
    vectors = model.vectors
    lift = np.asarray(vectors[rows].mean(axis=0)).ravel() - np.asarray(vectors.mean(axis=0)).ravel()
    columns = np.lexsort((np.arange(lift.size), -lift))[:n]
    columns = columns[lift[columns] > 0]
    words = model.term_words
    return pd.DataFrame(
        {
            "term": [model.vocabulary[i] for i in columns],
            "word": [words[i] for i in columns],
            "lift": lift[columns].astype(float),
        }
    )


def shared_terms(model: Recommender, article_id: str, other_id: str, *, n: int = 10) -> pd.DataFrame:
    """The terms two articles share, ranked by their part of the cosine score (why they are linked).

    Columns: ``term, word, weight, other_weight, contribution, share``; ``word`` is the first article's
    own written word for the term, ``contribution`` the product of the two weights (the TF-IDF cosine is
    their sum over all shared terms) and ``share`` its fraction of that cosine.

    >>> shared_terms(model, "a", "b", n=3)[["term", "word"]].values.tolist()
    [['oil', 'Oil'], ['cut', 'cut'], ['opec', 'OPEC']]
    """
    _check_n(n)
    first, first_data, first_words = _row_words(model, article_id)
    second, second_data, _ = _row_words(model, other_id)
    common, at_first, at_second = np.intersect1d(first, second, return_indices=True)
    weights = first_data[at_first].astype(float)
    other = second_data[at_second].astype(float)
    contribution = weights * other
    total = float(contribution.sum())
    order = np.lexsort((common, -contribution))[:n]
    return pd.DataFrame(
        {
            "term": [model.vocabulary[i] for i in common[order]],
            "word": [first_words[at_first[i]] for i in order],
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


def describe(model: Recommender) -> str:
    """The fitted model's weighting and ranking in a few plain sentences, read from its own settings and
    parts (so a notebook's text cannot drift from what was built).

    >>> print(describe(model).splitlines()[0])
    3 articles, 14 terms, in English.
    """
    settings = model.settings
    n_rows, n_terms = model.vectors.shape
    counts = pd.Series(model.languages, dtype=object).value_counts()
    languages = ", ".join(_language_name(str(code)) for code in counts.index) or "no language"
    title = (
        "titles ignored"
        if settings.title_weight == 0
        else f"a title's terms counted {settings.title_weight:g} times"
    )
    tf = (
        f"BM25 term frequency (k1 {settings.bm25_k1:g}, b {settings.bm25_b:g})"
        if settings.tf == "bm25"
        else "log term frequency (1 + ln tf)"
    )
    words = "Snowball stems" if settings.stem else "whole words"
    if settings.ngrams == 2:
        words += " and adjacent pairs"
    if settings.stop_words is None:
        stop_words = "no stopwords"
    elif settings.stop_words == "nltk":
        stop_words = "NLTK's stopwords"
    elif isinstance(settings.stop_words, str):  # "english" and "bundled": each language's own list
        stop_words = "each language's bundled stopwords"
    else:
        stop_words = f"a list of {len(settings.stop_words)} stopwords"
    lines = [
        f"{n_rows:,} articles, {n_terms:,} terms, in {languages}.",
        f"Weights: {tf} times smoothed idf over {words}, {title}, {stop_words} left out, terms in fewer "
        f"than {settings.min_df} articles dropped; each article a unit vector.",
    ]
    if settings.lsa_weight == 0:
        lines.append("Scores: the TF-IDF cosine (no LSA blend).")
    elif model.components is None:
        needed = MIN_ARTICLES_PER_DIMENSION * settings.lsa_dims
        lines.append(
            f"Scores: the TF-IDF cosine. The LSA blend ({settings.lsa_weight:g}) is set but was not fitted: "
            f"it needs at least {needed:,} articles ({MIN_ARTICLES_PER_DIMENSION} per dimension)."
        )
    else:
        lines.append(
            f"Scores: {1 - settings.lsa_weight:g} × the TF-IDF cosine + {settings.lsa_weight:g} × the cosine "
            f"of a {model.components.shape[0]}-dimension LSA projection."
        )
    engine = model.index().engine
    if engine.semantic is not None and engine.semantic_weight > 0:
        recorded = engine.semantic
        recipe = recorded.get("recipe") or {}
        lines.append(
            f"Semantic view: {1 - engine.semantic_weight:g} × that score + {engine.semantic_weight:g} × the "
            f"cosine of {recorded.get('name')} embeddings ({recorded.get('dimension')} dimensions, each "
            f"article's first {recipe.get('windows', 1)} windows of {recorded.get('max_tokens')} tokens)."
        )
    if model.hubs is not None and settings.hub_weight > 0:
        lines.append(
            f"Lists ordered by score − {settings.hub_weight:g} × the candidate's mean top-10 score (hub "
            "discount)."
        )
    else:
        lines.append("Lists ordered by score (no hub discount).")
    if settings.hide_duplicates:
        hidden = len(model.duplicates)
        lines.append(
            f"Near-duplicates (score ≥ {settings.duplicate_threshold:g}) hidden from lists: {hidden} found."
        )
    return "\n".join(lines)


def _language_name(code: str) -> str:
    return SNOWBALL[code].capitalize() if code in SNOWBALL else code


def _row_words(model: Recommender, article_id: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One article's term columns, weights and own words (see ``recommender.serve.explain.Words``)."""
    indices, data, own = model.words.row(model.index().row(article_id))
    vocabulary = model.vocabulary
    return indices, data, [word or vocabulary[int(column)] for word, column in zip(own, indices, strict=True)]


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        message = f"n must be a positive integer, got {n!r}"
        raise InvalidParameterError(message)
