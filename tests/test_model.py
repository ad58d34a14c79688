from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics.pairwise import cosine_similarity

from recommender import Index, Recommender
from recommender.types import CorpusError, InvalidParameterError, RecommenderError, UnknownArticleError

from .conftest import BUNDLED, model_files

PAIRS = {
    "oil-prices-rise": "opec-output-cut",
    "opec-output-cut": "oil-prices-rise",
    "cup-final-penalties": "goalkeeper-hero",
    "goalkeeper-hero": "cup-final-penalties",
    "parliament-election-called": "voters-manifestos",
    "voters-manifestos": "parliament-election-called",
}


@pytest.fixture
def tiny(tiny_records: list[dict[str, Any]]) -> Recommender:
    return Recommender(min_df=1).fit(tiny_records)


def test_obvious_pairs_are_top_neighbours(tiny: Recommender) -> None:
    for article_id, partner in PAIRS.items():
        links = tiny.related(article_id, k=3)
        assert links[0].article_id == partner
        assert [link.rank for link in links] == list(range(1, len(links) + 1))
        assert all(link.article_id != article_id for link in links)


def test_links_carry_metadata(tiny: Recommender) -> None:
    link = tiny.related("oil-prices-rise", k=1)[0]
    assert link.title == "OPEC output cut lifts crude"
    assert link.date == "2024-01-07"
    assert link.url == "https://example.org/2024/01/opec-output-cut"


def test_scores_equal_sklearn_cosine_on_our_vectors() -> None:
    model = Recommender(k=10, hub_weight=0.0).fit(BUNDLED)  # pure cosine order, no hub discount
    reference = cosine_similarity(model.vectors.astype(np.float64))
    for row, article_id in enumerate(model.ids[:40]):
        for link in model.related(article_id, k=10):
            assert link.score == pytest.approx(reference[row, model.ids.index(link.article_id)], abs=1e-6)
    chosen = model.ids[:7]
    rows = [model.ids.index(i) for i in chosen]
    np.testing.assert_allclose(model.similarity(chosen), reference[np.ix_(rows, rows)], atol=1e-6)


def test_top_k_equals_brute_force_on_the_bundled_corpus() -> None:
    model = Recommender(k=10, hub_weight=0.0).fit(BUNDLED)  # pure cosine order, no hub discount
    reference = cosine_similarity(model.vectors.astype(np.float64))
    np.fill_diagonal(reference, -np.inf)
    for row in range(len(model.ids)):
        expected = reference[row, np.argsort(-reference[row], kind="stable")[:10]]
        ours = model.scores[row]
        # Same scores in the same order; ids may differ only among exact float ties.
        np.testing.assert_allclose(ours, expected, atol=1e-6)
        for column, score in zip(model.neighbors[row], ours, strict=True):
            assert reference[row, column] == pytest.approx(score, abs=1e-6)


def test_vectors_match_sklearn_tfidf_of_the_same_counts(tiny_records: list[dict[str, Any]]) -> None:
    model = Recommender(min_df=1, title_weight=3, tf="log").fit(tiny_records)
    terms = {term: column for column, term in enumerate(model.vocabulary)}
    counts = np.zeros((len(tiny_records), len(terms)))
    for row, record in enumerate(tiny_records):
        for term in model.analyzer(record["body"]):
            counts[row, terms[term]] += 1
        for term in model.analyzer(record["title"]):
            counts[row, terms[term]] += 3
    expected = TfidfTransformer(sublinear_tf=True).fit_transform(counts).toarray()
    np.testing.assert_allclose(model.vectors.toarray(), expected, atol=1e-6)


def test_rebuilding_gives_byte_identical_files(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    first = model_files(Recommender(min_df=1).fit(tiny_records).save(tmp_path / "one"))
    second = model_files(Recommender(min_df=1).fit(tiny_records).save(tmp_path / "two"))
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert any(name.endswith(".npy") for name in names)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_save_then_load_gives_identical_answers(tmp_path: Path) -> None:
    model = Recommender().fit(BUNDLED)
    loaded = Recommender.load(model.save(tmp_path / "model"))
    assert loaded.ids == model.ids
    assert loaded.settings == model.settings
    for article_id in model.ids:
        assert loaded.related(article_id, k=8) == model.related(article_id, k=8)
    draft = "Tokayev weighs sanctions on Russia while courting Western investors in Kazakhstan oil."
    assert loaded.query(draft, k=5) == model.query(draft, k=5)
    assert loaded.related(model.ids[0], k=40) == model.related(model.ids[0], k=40)
    assert loaded.articles["title"].tolist() == model.articles["title"].tolist()


def test_query_finds_the_topic(tiny: Recommender) -> None:
    links = tiny.query("OPEC agreed to cut crude oil output again", k=2)
    assert {link.article_id for link in links} == {"oil-prices-rise", "opec-output-cut"}
    assert links[0].score >= links[1].score > 0


def test_query_title_counts(tiny: Recommender) -> None:
    assert tiny.query("", title="goalkeeper penalties", k=1)[0].article_id in PAIRS
    assert tiny.query("zzz unknown words", k=3) == []


def test_related_beyond_stored_k_is_computed_exactly(tiny_records: list[dict[str, Any]]) -> None:
    small = Recommender(min_df=1, k=1).fit(tiny_records)
    large = Recommender(min_df=1, k=5).fit(tiny_records)
    for article_id in PAIRS:
        assert small.related(article_id, k=5) == large.related(article_id, k=5)


def test_similarity_is_symmetric_with_unit_diagonal(tiny: Recommender) -> None:
    matrix = tiny.similarity(list(PAIRS))
    np.testing.assert_allclose(matrix, matrix.T)
    np.testing.assert_allclose(np.diag(matrix), 1.0, atol=1e-6)
    with pytest.raises(InvalidParameterError, match="list of article ids"):
        tiny.similarity("oil-prices-rise")


def test_unknown_id_suggests_close_ids(tiny: Recommender) -> None:
    with pytest.raises(
        UnknownArticleError, match=r"unknown article id 'oil-price-rise'; did you mean 'oil-prices-rise'"
    ):
        tiny.related("oil-price-rise")
    with pytest.raises(UnknownArticleError):
        tiny.similarity(["oil-prices-rise", "nope"])


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k(tiny: Recommender, k: Any) -> None:
    with pytest.raises(InvalidParameterError, match="k must be a positive integer"):
        tiny.related("oil-prices-rise", k=k)


def test_empty_query_is_an_error(tiny: Recommender) -> None:
    with pytest.raises(InvalidParameterError, match="query text is empty"):
        tiny.query("   ")


def test_not_fitted() -> None:
    with pytest.raises(RecommenderError, match="not fitted"):
        Recommender().related("a")
    with pytest.raises(RecommenderError, match="not fitted"):
        Recommender().save("unused")


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"colour": "red"}, "unknown setting"),
        ({"title_weight": -1}, "title_weight"),
        ({"min_df": 0}, "min_df"),
        ({"max_df": 1.5}, "max_df"),
        ({"min_df": "2"}, "min_df"),
        ({"ngrams": 3}, "ngrams"),
        ({"k": 0}, "k must be"),
        ({"memory_budget": 0}, "memory_budget"),
        ({"stop_words": "klingon"}, "stop_words"),
    ],
)
def test_bad_settings(settings: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        Recommender(**settings)


def test_no_terms_left_names_the_fix() -> None:
    with pytest.raises(CorpusError, match="lower min_df"):
        Recommender(min_df=2).fit([{"id": "a", "body": "apples"}, {"id": "b", "body": "pears"}])


def test_articles_without_terms_are_kept_with_no_links(caplog: pytest.LogCaptureFixture) -> None:
    records = [
        {"id": "a", "body": "oil prices"},
        {"id": "b", "body": "oil markets"},
        {"id": "c", "body": "the of and"},
    ]
    model = Recommender(min_df=1).fit(records)
    assert "c" in model
    assert model.related("c") == []
    assert model.empty_ids == ["c"]
    assert "have no indexed terms" in caplog.text


def test_bigrams_add_pair_terms(tiny_records: list[dict[str, Any]]) -> None:
    model = Recommender(min_df=1, ngrams=2).fit(tiny_records)
    assert "prime minist" in model.vocabulary


def test_missing_dates_and_categories_save_as_null(tmp_path: Path) -> None:
    records = [
        {"id": "a", "title": "Oil", "body": "oil prices rise", "date": None, "category": None},
        {"id": "b", "title": "Oil", "body": "oil prices fall", "date": "2024-01-01", "category": "Energy"},
    ]
    model = Recommender(min_df=1).fit(records)
    assert model.records[0]["date"] is None
    assert model.records[0]["category"] is None
    index = Index.load(model.save(tmp_path / "model"))
    assert index.article("a")["date"] is None
    assert index.related("a", k=1)[0].date == "2024-01-01"


def test_ranking_levers_round_trip(tmp_path: Path) -> None:
    from recommender import Index

    from .conftest import BUNDLED

    settings = {"lsa_weight": 0.3, "lsa_dims": 20, "hub_weight": 0.25, "tf": "bm25", "k": 8}
    model = Recommender(**settings).fit(BUNDLED)
    assert model.components is not None
    seed = "kazakhstan-geopolitical-conundrum"
    links = model.related(seed, k=8)
    assert len(links) == 8
    loaded = Recommender.load(model.save(tmp_path / "m"))
    assert loaded.related(seed, k=8) == links
    assert Index.load(tmp_path / "m").related(seed, k=8) == links
    assert loaded.query("Kazakhstan oil and Astana", k=3) == model.query("Kazakhstan oil and Astana", k=3)
    manifest = Index.load(tmp_path / "m").manifest
    assert manifest["parameters"]["tf"] == "bm25"
    assert manifest["parameters"]["hub_weight"] == 0.25
    # The explained share of the score never exceeds the TF-IDF part of the blend.
    explained = model.related(seed, k=1, explain=True)[0]
    assert explained.terms is not None
    assert sum(term.share for term in explained.terms) <= 0.7 + 1e-6


def test_old_manifests_load_with_the_old_behaviour() -> None:
    from recommender.settings import Settings

    old = Settings.from_dict({"title_weight": 2.0, "min_df": 2, "k": 20})
    assert old.lsa_weight == 0.0
    assert old.hub_weight == 0.0
    assert old.hide_duplicates is False
    assert old.tf == "log"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("lsa_weight", 1.0),
        ("lsa_weight", -0.1),
        ("hub_weight", 2),
        ("tf", "raw"),
        ("bm25_b", 1.5),
        ("lsa_dims", 1),
    ],
)
def test_bad_ranking_settings(setting: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=setting):
        Recommender(**{setting: value})


def test_related_many_refuses_one_id_string(tiny: Recommender, tmp_path: Path) -> None:
    with pytest.raises(
        InvalidParameterError, match=r"^related_many\(\) takes a list of article ids, not one"
    ):
        list(tiny.related_many("oil-prices-rise", k=3))
    with pytest.raises(InvalidParameterError, match="not one string"):
        list(Index.load(tiny.save(tmp_path / "m")).related_many("oil-prices-rise", k=3))
    assert [article_id for article_id, _ in tiny.related_many(["oil-prices-rise"], k=3)] == [
        "oil-prices-rise"
    ]


def test_an_integer_id_is_told_that_ids_are_strings(tmp_path: Path) -> None:
    records = [
        {"id": number, "title": f"Oil {number}", "body": f"oil prices opec crude {number}"}
        for number in range(12)
    ]
    model = Recommender(min_df=1).fit(records)
    assert model.ids[0] == "0"
    for answering in (model, Index.load(model.save(tmp_path / "m"))):
        with pytest.raises(
            UnknownArticleError, match=r"^article ids are strings: got int 0; did you mean '0'\?$"
        ):
            answering.related(0)  # type: ignore[arg-type]
        with pytest.raises(UnknownArticleError, match=r"^article ids are strings: got NoneType None$"):
            answering.related(None)  # type: ignore[arg-type]
    assert "0" in model


def test_numpy_and_fraction_settings_save(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    model = Recommender(min_df=1, title_weight=np.float32(2.0), hub_weight=Fraction(1, 4))
    folder = model.fit(tiny_records).save(tmp_path / "m")
    parameters = Index.load(folder).manifest["parameters"]
    assert (parameters["title_weight"], parameters["hub_weight"]) == (2.0, 0.25)


def test_an_infinite_weight_is_refused_before_fitting() -> None:
    for name in ("title_weight", "bm25_k1"):
        with pytest.raises(InvalidParameterError, match=f"^{name} must be a finite number >= 0, got inf$"):
            Recommender(**{name: float("inf")})
