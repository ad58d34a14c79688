from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender import Recommender
from recommender.analysis import explore
from recommender.types import InvalidParameterError, UnknownArticleError

from .conftest import TINY


@pytest.fixture(scope="module")
def model() -> Recommender:
    return Recommender(min_df=1).fit(TINY)


def test_docstring_examples_run() -> None:
    docs: list[dict[str, Any]] = [
        {"id": "a", "title": "Oil prices", "body": "Crude oil prices rose as OPEC cut output."},
        {"id": "b", "title": "OPEC cut", "body": "OPEC agreed an output cut; crude oil gained."},
        {"id": "c", "title": "Cup final", "body": "The football final went to penalties."},
    ]
    results = doctest.testmod(explore, extraglobs={"model": Recommender(min_df=1).fit(docs)})
    assert results.attempted >= 6
    assert results.failed == 0


def test_related_frame_matches_related(model: Recommender) -> None:
    frame = explore.related_frame(model, ["oil-prices-rise", "goalkeeper-hero"], k=2)
    expected = [
        (article_id, link.rank, link.article_id, link.score)
        for article_id in ["oil-prices-rise", "goalkeeper-hero"]
        for link in model.related(article_id, k=2)
    ]
    assert (
        list(frame[["article_id", "rank", "related_id", "score"]].itertuples(index=False, name=None))
        == expected
    )
    assert len(explore.related_frame(model, k=1)) == len(model)


def test_similarity_frame_is_labelled(model: Recommender) -> None:
    ids = ["oil-prices-rise", "opec-output-cut", "cup-final-penalties"]
    frame = explore.similarity_frame(model, ids)
    assert list(frame.index) == ids
    assert list(frame.columns) == ids
    np.testing.assert_allclose(frame.to_numpy(), model.similarity(ids))


def test_top_terms_are_the_largest_weights(model: Recommender) -> None:
    frame = explore.top_terms(model, "oil-prices-rise", n=3)
    row = model.vectors[model.ids.index("oil-prices-rise")].toarray().ravel()
    assert frame["weight"].tolist() == pytest.approx(sorted(row, reverse=True)[:3])
    assert [row[model.vocabulary.index(t)] for t in frame["term"]] == pytest.approx(frame["weight"].tolist())


def test_shared_terms_add_up_to_the_cosine(model: Recommender) -> None:
    frame = explore.shared_terms(model, "oil-prices-rise", "opec-output-cut", n=100)
    cosine = float(model.similarity(["oil-prices-rise", "opec-output-cut"])[0, 1])
    assert frame["contribution"].sum() == pytest.approx(cosine, abs=1e-6)
    assert frame["share"].sum() == pytest.approx(1.0)
    assert frame["contribution"].is_monotonic_decreasing
    assert "oil" in set(frame["term"])
    assert explore.shared_terms(model, "oil-prices-rise", "cup-final-penalties").empty


def test_map_coordinates_are_seeded(model: Recommender) -> None:
    first = explore.map_coordinates(model, perplexity=2.0)
    second = explore.map_coordinates(model, perplexity=2.0)
    assert list(first["article_id"]) == model.ids
    pd.testing.assert_frame_equal(first, second)
    assert np.isfinite(first[["x", "y"]].to_numpy()).all()


def test_errors(model: Recommender) -> None:
    with pytest.raises(UnknownArticleError, match="did you mean 'oil-prices-rise'"):
        explore.top_terms(model, "oil-price-rise")
    with pytest.raises(InvalidParameterError, match="n must be a positive integer"):
        explore.shared_terms(model, "oil-prices-rise", "opec-output-cut", n=0)
    tiny = Recommender(min_df=1).fit(TINY[:2])
    with pytest.raises(InvalidParameterError, match="at least 3 articles"):
        explore.map_coordinates(tiny)


def test_describe_reads_the_model_not_the_defaults(model: Recommender, tiny_encoder: Path) -> None:
    text = explore.describe(model)
    assert f"{len(model)} articles" in text
    assert "log term frequency" in text
    assert "fewer than 1 articles dropped" in text
    assert "LSA blend (0.3) is set but was not fitted: it needs at least 400 articles" in text
    assert "Semantic view" not in text
    plain = Recommender(min_df=1, tf="bm25", hub_weight=0.0, lsa_weight=0.0, stem=False).fit(TINY)
    text = explore.describe(plain)
    assert "BM25 term frequency (k1 1.2, b 0.75)" in text
    assert "whole words" in text
    assert "no LSA blend" in text
    assert "no hub discount" in text
    semantic = Recommender(min_df=1, semantic=str(tiny_encoder), semantic_weight=0.4).fit(TINY)
    assert (
        "Semantic view: 0.6 × that score + 0.4 × the cosine of tiny-bert embeddings (16 dimensions, each "
        "article's first 4 windows of 128 tokens)." in explore.describe(semantic)
    )
    blended = Recommender(min_df=1, lsa_dims=2).fit(TINY)
    assert blended.components is not None
    assert "0.7 × the TF-IDF cosine + 0.3 × the cosine of a 2-dimension LSA projection" in explore.describe(
        blended
    )


def test_words_are_the_written_forms(model: Recommender) -> None:
    terms = explore.top_terms(model, "oil-prices-rise", n=20)
    stemmed = terms[terms["term"] != terms["word"].str.lower()]
    assert not stemmed.empty  # a stem ("price") shown with the article's word ("prices")
    assert all(word.lower().startswith(term[:3]) for term, word in stemmed[["term", "word"]].values)
    shared = explore.shared_terms(model, "oil-prices-rise", "opec-output-cut", n=100)
    assert list(shared.columns) == ["term", "word", "weight", "other_weight", "contribution", "share"]
    assert shared["word"].str.len().gt(0).all()


def test_distinctive_terms_rank_the_group_above_the_corpus(model: Recommender) -> None:
    group = ["oil-prices-rise", "opec-output-cut"]
    frame = explore.distinctive_terms(model, group, n=5)
    assert list(frame.columns) == ["term", "word", "lift"]
    assert frame["lift"].is_monotonic_decreasing
    assert (frame["lift"] > 0).all()
    vectors = model.vectors
    rows = [model.ids.index(article_id) for article_id in group]
    column = model.vocabulary.index(frame["term"].iloc[0])
    expected = vectors[rows, column].mean() - vectors[:, column].mean()
    assert frame["lift"].iloc[0] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(InvalidParameterError, match="at least one article id"):
        explore.distinctive_terms(model, [])
