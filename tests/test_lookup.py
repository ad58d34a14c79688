from __future__ import annotations

import gzip
import json
import pickle
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender
from recommender import store as fmt
from recommender.serve import search as search_module
from recommender.types import InvalidParameterError, ModelFormatError, UnknownArticleError

from .conftest import GOLDEN, HEAVY, ROOT, model_files, modules_after, refresh_checksums


def test_importing_lookup_pulls_in_no_training_stack() -> None:
    assert not modules_after("import recommender.lookup, recommender.outputs.export") & HEAVY


def test_golden_model_keeps_loading_and_answering() -> None:
    index = Index.load(GOLDEN)
    expected = json.loads((GOLDEN.parent / "golden_expected.json").read_text(encoding="utf-8"))
    assert list(index) == list(expected)
    for article_id, links in expected.items():
        # Links gained a "reason" and a "similarity" after the golden file was written; every stored link
        # is "similar", and a model without hub scores shows its similarity as the score.
        assert [link.to_dict() for link in index.related(article_id, k=3)] == [
            {**link, "reason": "similar", "similarity": link["score"]} for link in links
        ]


def test_load_never_unpickles(monkeypatch: pytest.MonkeyPatch, bundled_model_dir: Path) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        message = "unpickling attempted"
        raise AssertionError(message)

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    index = Index.load(bundled_model_dir)
    assert len(index.related("kazakhstan-geopolitical-conundrum", k=8)) == 8


def test_index_answers_like_the_recommender(bundled_model_dir: Path) -> None:
    index = Index.load(bundled_model_dir)
    model = Recommender.load(bundled_model_dir)
    assert len(index) == len(model)
    for article_id in index.ids:
        assert index.related(article_id, k=8) == model.related(article_id, k=8)


def test_index_basics(bundled_model_dir: Path) -> None:
    index = Index.load(bundled_model_dir, verify=False)
    assert "kazakhstan-geopolitical-conundrum" in index
    assert "nope" not in index
    assert index.k == 20
    # Past the stored pool the index scans the stored vectors (numpy only): every article with a
    # positive cosine, the same set the full model gives.
    seed = "kazakhstan-geopolitical-conundrum"
    deep = index.related(seed, k=500)
    full = Recommender.load(bundled_model_dir).related(seed, k=500)
    assert len(deep) == len(full) > index.k
    assert {link.article_id for link in deep} == {link.article_id for link in full}
    assert all(link.similarity > 0 for link in deep)  # the shown score, less the hub discount, may not be
    assert index.article("kazakhstan-geopolitical-conundrum")["date"] == "2024-07-24"
    assert isinstance(fmt.open_model(bundled_model_dir).array("neighbors"), np.memmap)
    assert "articles=" in repr(index)


def test_unknown_id_and_bad_k(bundled_model_dir: Path) -> None:
    index = Index.load(bundled_model_dir)
    with pytest.raises(UnknownArticleError, match="did you mean 'kazakhstan-geopolitical-conundrum'"):
        index.related("kazakhstan-geopolitical-conundrom")
    with pytest.raises(UnknownArticleError, match=r"unknown article id 'zzz'$"):
        index.related("zzz")
    with pytest.raises(InvalidParameterError, match="k must be a positive integer"):
        index.related("kazakhstan-geopolitical-conundrum", k=0)


def test_parts_that_disagree_are_refused(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    path = Recommender(min_df=1).fit(tiny_records).save(tmp_path / "m")
    neighbors_path = model_files(path) / "neighbors.npy"
    np.save(neighbors_path, np.load(neighbors_path)[:-1])
    refresh_checksums(path)
    with pytest.raises(ModelFormatError, match="disagree in size"):
        Index.load(path)  # checksums refreshed: the parts disagree with each other
    with pytest.raises(
        ModelFormatError, match=r"neighbors\.npy: damaged array \(5 rows where the manifest counts 6"
    ):
        Index.load(path, verify=False).related("oil-prices-rise")  # unverified: checked on first read


def test_a_damaged_record_read_without_verifying_names_the_file(
    tmp_path: Path, tiny_records: list[dict[str, Any]]
) -> None:
    path = Recommender(min_df=1).fit(tiny_records).save(tmp_path / "m")
    records = model_files(path) / "articles_bytes.npy"
    data = np.load(records)
    data[0] = ord("#")  # the first record's opening brace
    np.save(records, data)
    index = Index.load(path, verify=False)
    with pytest.raises(ModelFormatError, match=r"articles of row 0 is not a record .*verify=True"):
        index.article(index.ids[0])
    with pytest.raises(ModelFormatError, match="articles of row 0 is not a record"):
        index.records()


def test_version_2_model_answers_like_version_1(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    # The golden model predates BM25 weights and re-ranking: build the same plain TF-IDF model.
    settings = {"tf": "log", "hub_weight": 0.0, "hide_duplicates": False, "lsa_weight": 0.0}
    path = Recommender(min_df=1, k=3, **settings).fit(tiny_records).save(tmp_path / "m")
    index = Index.load(path)
    assert index.manifest["format_version"] == 2
    golden = Index.load(GOLDEN)
    assert index.ids == golden.ids
    for article_id in golden:
        assert index.related(article_id, k=3) == golden.related(article_id, k=3)
        assert index.article(article_id) == {**golden.article(article_id), "lang": "en"}
    assert "oil-prices-rise" in index
    assert 3 not in index


# --- drafts: Index.query -------------------------------------------------------------------------------


def _drafts_from(records: list[dict[str, Any]], count: int) -> list[tuple[str, str]]:
    """Drafts made of corpus words cut at word boundaries: one article's start, the next one's end."""
    drafts = []
    for first, second in pairwise(records[: count + 1]):
        words = first["body"].split()[:150] + second["body"].split()[-60:]
        drafts.append((" ".join(words), str(first.get("title") or "")))
    drafts.append((" ".join(records[0]["body"].split()[:12]), ""))  # a short draft
    return drafts


def _assert_same_links(
    index: Index, model: Recommender, drafts: list[tuple[str, str]], **options: Any
) -> None:
    for text, title in drafts:
        fast = index.query(text, title=title, **options)
        full = model.query(text, title=title, **options)
        assert [link.article_id for link in fast] == [link.article_id for link in full]
        assert np.allclose([link.score for link in fast], [link.score for link in full], atol=1e-5, rtol=0)
        assert all(a.title == b.title and a.url == b.url for a, b in zip(fast, full, strict=True))


def test_query_answers_like_the_recommender_on_the_bundled_corpus(bundled_model_dir: Path) -> None:
    records = [json.loads(line) for line in (ROOT / "corpus" / "geopolitics.jsonl").read_text().splitlines()]
    index = Index.load(bundled_model_dir)
    model = Recommender.load(bundled_model_dir)
    assert index.answers_drafts
    drafts = _drafts_from(records, 25)
    _assert_same_links(index, model, drafts, k=8)
    _assert_same_links(index, model, drafts[:5], k=40)
    assert index.query(drafts[0][0], title=drafts[0][1], k=8)  # not vacuous: the drafts find articles


@pytest.mark.parametrize(
    "settings",
    [{}, {"ngrams": 2, "tf": "log", "hub_weight": 0.0, "title_weight": 1.5, "hide_duplicates": False}],
    ids=["defaults", "bigrams-log-tf"],
)
def test_query_answers_like_the_recommender_with_lsa_on_a_real_sample(
    tmp_path: Path, settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ROOT.parent / "shared" / "data" / "bbc_news.jsonl.gz"
    if not path.is_file():
        pytest.skip("../shared/data/bbc_news.jsonl.gz is not present")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for number, line in enumerate(handle) if number % 5 == 0][:420]
    model = Recommender(**settings).fit(records)
    assert model.components is not None  # >= 400 articles: the LSA blend is active
    folder = model.save(tmp_path / "bbc")
    drafts = _drafts_from(records, 20)
    _assert_same_links(Index.load(folder), Recommender.load(folder), drafts, k=8)
    # Small models score every candidate at once; force the pruning stages of big ones too.
    monkeypatch.setattr(search_module, "_FEW", 0)
    monkeypatch.setattr(search_module, "_THETA_SAMPLE", 40)
    _assert_same_links(Index.load(folder), Recommender.load(folder), drafts[:8], k=8)


def test_query_within_and_across_languages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mixed = ROOT / "tests" / "data" / "multilingual.jsonl"
    records = [json.loads(line) for line in mixed.read_text(encoding="utf-8").splitlines()]
    drafts = [(record["body"], record["title"]) for record in records]
    monkeypatch.setattr(search_module, "_FEW", 0)  # exercise the pruning stages with language masks
    monkeypatch.setattr(search_module, "_THETA_SAMPLE", 2)
    for cross in (False, True):
        folder = Recommender(min_df=1, k=5, cross_language=cross).fit(records).save(tmp_path / f"m{cross}")
        index, model = Index.load(folder), Recommender.load(folder)
        _assert_same_links(index, model, drafts, k=5)
        _assert_same_links(index, model, [("grain Danube", "")], k=5, lang="fr")
    index = Index.load(tmp_path / "mFalse")
    assert {link.article_id[:2] for link in index.query("Санкции против России", k=5)} == {"ru"}
    assert index.query("grain", lang="de") == []  # no German articles: nothing to link, as the model says


def test_query_errors(bundled_model_dir: Path) -> None:
    index = Index.load(bundled_model_dir)
    with pytest.raises(InvalidParameterError, match="query text is empty"):
        index.query("   ", title="")
    with pytest.raises(InvalidParameterError, match="k must be a positive integer"):
        index.query("oil", k=0)
    with pytest.raises(InvalidParameterError, match="no analyzer for language 'de' \\(it has: en\\)"):
        index.query("Öl", lang="de")
    golden = Index.load(GOLDEN)
    assert not golden.answers_drafts  # no word-form tables: drafts are analysed by the stored analyzer
    assert golden.query("oil prices", k=1)[0].article_id == "oil-prices-rise"
    assert golden.related("oil-prices-rise", k=1)


def test_query_imports_nothing_heavy(bundled_model_dir: Path) -> None:
    """Words the corpus has need no stemmer: a draft written in them loads no NLTK either."""
    code = (
        "from recommender.lookup import Index\n"
        f"links = Index.load({str(bundled_model_dir)!r}).query('Kazakhstan oil exports and sanctions', k=3)\n"
        "assert len(links) == 3"
    )
    assert not modules_after(code) & HEAVY


def test_query_filters(bundled_model_dir: Path) -> None:
    index = Index.load(bundled_model_dir)
    draft = "Kazakhstan oil exports, Caspian pipelines and sanctions on Russia"
    plain = index.query(draft, k=5)
    first = plain[0].article_id
    without = index.query(draft, k=5, exclude_ids=[first])
    assert first not in {link.article_id for link in without}
    assert len(without) == 5
    assert [link.article_id for link in without[:3]] == [link.article_id for link in plain[1:4]]
    assert all(link.score >= 0.1 for link in index.query(draft, k=20, min_score=0.1))
    category = index.article(first)["category"]
    assert category
    others = index.query(draft, k=5, exclude_categories=[category])
    assert others
    assert all(index.article(link.article_id)["category"] != category for link in others)
    with pytest.raises(InvalidParameterError, match="relative to a subject article"):
        index.query(draft, same_category=True)
    with pytest.raises(InvalidParameterError, match="unknown ranking control"):
        index.query(draft, colour="red")
