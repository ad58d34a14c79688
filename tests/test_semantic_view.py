"""The semantic view through the engine: the blend's arithmetic, drafts with and without their vector, the
numpy-only lookup, updates that embed only new articles, and the errors for a different encoder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender, read_articles
from recommender.build.update import apply_update, rebuild_frozen, update_model
from recommender.cli import main
from recommender.semantic.embed import article_text, embed
from recommender.semantic.encoder import load_encoder
from recommender.types import InvalidParameterError

from .conftest import BUNDLED, HEAVY, ROOT
from .tiny_bert import write_tiny_bert


@pytest.fixture(scope="module")
def frame() -> Any:
    return read_articles(BUNDLED)


@pytest.fixture(scope="module")
def semantic_model(frame: Any, tiny_encoder: Path) -> Recommender:
    return Recommender(semantic=str(tiny_encoder), semantic_weight=0.4).fit(frame)


def _ids(links: list[Any]) -> list[str]:
    return [link.article_id for link in links]


def test_the_model_records_its_encoder(semantic_model: Recommender, tiny_encoder: Path) -> None:
    recorded = semantic_model.stored.document("semantic")
    info = load_encoder(tiny_encoder).info
    assert recorded == {
        "name": "tiny-bert",
        "fingerprint": info.fingerprint,
        "dimension": 16,
        "max_tokens": 128,
        "recipe": {"text": "title. body", "windows": 4, "pooling": "mean of windows weighted by tokens"},
    }
    assert semantic_model.stored.parameters["semantic"] == str(tiny_encoder)
    assert semantic_model.stored.parameters["semantic_weight"] == 0.4


def test_scores_are_the_blend_of_the_tfidf_and_embedding_cosines(
    semantic_model: Recommender, frame: Any, tiny_encoder: Path
) -> None:
    plain = Recommender().fit(frame)
    assert plain.components is None  # the bundled corpus is too small for LSA: the blend is two parts
    texts = [article_text(t, b) for t, b in zip(frame["title"], frame["body"], strict=True)]
    embeddings = embed(texts, load_encoder(tiny_encoder)).vectors
    ids = list(frame["id"][:12])
    rows = [list(frame["id"]).index(article_id) for article_id in ids]
    expected = 0.6 * plain.similarity(ids) + 0.4 * (embeddings[rows] @ embeddings[rows].T)
    np.testing.assert_allclose(semantic_model.similarity(ids), expected, atol=2e-6)
    # and the stored lists are ordered by that score (less the hub discount)
    subject = ids[0]
    links = semantic_model.related(subject, k=5)
    scores = semantic_model.similarity([subject, *_ids(links)])[0, 1:]
    np.testing.assert_allclose([link.similarity for link in links], scores, atol=2e-6)
    assert not np.array_equal(semantic_model.neighbors, plain.neighbors)


def test_a_zero_weight_is_the_model_without_the_view(
    frame: Any, tiny_encoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "cache"))
    off = Recommender(semantic=str(tiny_encoder), semantic_weight=0.0).fit(frame.iloc[:120])
    plain = Recommender().fit(frame.iloc[:120])
    np.testing.assert_array_equal(off.neighbors, plain.neighbors)
    np.testing.assert_array_equal(off.scores, plain.scores)
    assert not off.stored.has("semantic")
    assert not (tmp_path / "cache").exists()  # nothing was embedded
    assert off.query("Gas storage in Germany") == plain.query("Gas storage in Germany")
    updated, counts = apply_update(off, add=frame.iloc[120:])
    assert counts.embedded == 0
    np.testing.assert_array_equal(updated.neighbors, apply_update(plain, add=frame.iloc[120:])[0].neighbors)


def test_a_draft_with_its_vector_equals_the_library_query(semantic_model: Recommender) -> None:
    text, title = "Gas storage in Germany before the winter", "Energy security"
    vector = semantic_model.embed_draft(text, title=title)
    by_library = semantic_model.query(text, title=title, k=6)
    by_index = semantic_model.index().query(text, title=title, k=6, vector=vector)
    assert by_library == by_index
    assert by_library != semantic_model.index().query(text, title=title, k=6, vector=-vector)


def test_a_draft_without_its_vector_is_ranked_by_the_other_parts(frame: Any, tiny_encoder: Path) -> None:
    semantic = Recommender(semantic=str(tiny_encoder), hub_weight=0.0).fit(frame)
    plain = Recommender(hub_weight=0.0).fit(frame)
    text = "Kazakhstan balances Russia, China and the West in Central Asia"
    without = semantic.index().query(text, k=8)
    reference = plain.query(text, k=8)
    assert _ids(without) == _ids(reference)
    np.testing.assert_allclose([n.score for n in without], [n.score for n in reference], rtol=1e-5)


def test_bad_vectors_are_named(semantic_model: Recommender, frame: Any) -> None:
    index = semantic_model.index()
    with pytest.raises(InvalidParameterError, match="vector has 3 numbers; this model's embeddings have 16"):
        index.query("gas", vector=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidParameterError, match="NaN or infinite"):
        index.query("gas", vector=[float("nan")] * 16)
    with pytest.raises(InvalidParameterError, match="no semantic view"):
        Recommender().fit(frame).index().query("gas", vector=[0.0] * 16)


def test_a_saved_semantic_model_answers_with_numpy_only(
    semantic_model: Recommender, tmp_path: Path, frame: Any
) -> None:
    path = tmp_path / "model"
    semantic_model.save(path)
    subject = str(frame["id"][3])
    vector = semantic_model.embed_draft("Caspian pipelines and sanctions").tolist()
    code = (
        "import json, sys\n"
        "from recommender.lookup import Index\n"
        f"index = Index.load({str(path)!r})\n"
        f"related = [n.article_id for n in index.related({subject!r}, k=5)]\n"
        f"query = [n.article_id for n in index.query('Caspian pipelines and sanctions', vector={vector!r})]\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(HEAVY)!r})\n"
        "print(json.dumps([related, query, heavy]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    related, query, heavy = json.loads(out)
    assert heavy == []
    assert related == _ids(semantic_model.related(subject, k=5))
    assert query == _ids(semantic_model.query("Caspian pipelines and sanctions"))


def test_an_update_embeds_only_the_new_articles_and_equals_a_frozen_rebuild(
    frame: Any, tiny_encoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "cache"))
    base_frame, new_frame = frame.iloc[:100], frame.iloc[100:]
    base = Recommender(semantic=str(tiny_encoder)).fit(base_frame)
    path = tmp_path / "model"
    base.save(path)
    report = update_model(path, add=new_frame)
    assert report.added == len(new_frame)
    assert report.embedded == len(new_frame)
    updated = Recommender.load(path)
    frozen = rebuild_frozen(base, frame)
    np.testing.assert_array_equal(updated.neighbors, frozen.neighbors)
    np.testing.assert_array_equal(updated.scores, frozen.scores)
    edited = new_frame.iloc[:3].copy()
    edited["body"] = "An editor's note opens the piece. " + edited["body"]
    _, counts = apply_update(updated, add=edited)
    assert counts.embedded == 3
    assert counts.edited == 3


def test_another_encoder_is_refused_for_queries_and_updates(
    frame: Any, tiny_encoder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "encoder"
    shutil.copytree(tiny_encoder, folder)
    model = Recommender(semantic=str(folder)).fit(frame.iloc[:60])
    path = tmp_path / "model"
    model.save(path)
    vocabulary = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    write_tiny_bert(folder, vocabulary, hidden=16, inner=32, positions=128, max_length=128, seed=99)
    with pytest.raises(InvalidParameterError, match="fingerprint"):
        Recommender.load(path).query("gas prices")
    with pytest.raises(InvalidParameterError, match="vectors of two encoders cannot be compared"):
        update_model(path, add=frame.iloc[60:62])
    with pytest.raises(InvalidParameterError, match="models are never downloaded"):
        update_model(path, add=frame.iloc[60:62], semantic=tmp_path / "nowhere")


def test_cli_build_query_and_update_with_the_semantic_view(
    tiny_encoder: Path,
    tmp_path: Path,
    frame: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "base.jsonl"
    frame.iloc[:80].to_json(corpus, orient="records", lines=True, date_format="iso")
    added = tmp_path / "added.jsonl"
    frame.iloc[80:84].to_json(added, orient="records", lines=True, date_format="iso")
    model = tmp_path / "m"
    assert main(["build", str(corpus), "-o", str(model), "--semantic", str(tiny_encoder), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["query", str(model), "Gas storage in Germany", "--json"]) == 0
    by_cli = [link["article_id"] for link in json.loads(capsys.readouterr().out)]
    assert by_cli == _ids(Recommender.load(model).query("Gas storage in Germany"))
    assert main(["update", str(model), "--add", str(added), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 4
    assert report["embedded"] == 4
    assert (
        main(["evaluate", str(corpus), "--semantic", str(tiny_encoder), "-k", "5", "--json", "--quiet"]) == 0
    )
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["settings"]["semantic"] == str(tiny_encoder)


def test_the_view_blends_with_lsa_and_updates_stay_exact(
    frame: Any, tiny_encoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "cache"))
    settings = {"lsa_dims": 10, "lsa_weight": 0.3}
    model = Recommender(semantic=str(tiny_encoder), semantic_weight=0.25, **settings).fit(frame)
    plain = Recommender(**settings).fit(frame)
    assert model.components is not None
    assert model.index().engine.search.rows.dense.shape == (len(frame), 10 + 16)
    texts = [article_text(t, b) for t, b in zip(frame["title"], frame["body"], strict=True)]
    embeddings = embed(texts, load_encoder(tiny_encoder)).vectors
    ids = list(frame["id"][:10])
    expected = 0.75 * plain.similarity(ids) + 0.25 * (embeddings[:10] @ embeddings[:10].T)
    np.testing.assert_allclose(model.similarity(ids), expected, atol=3e-6)
    base = Recommender(semantic=str(tiny_encoder), semantic_weight=0.25, **settings).fit(frame.iloc[:120])
    updated, counts = apply_update(base, add=frame.iloc[120:], remove=[str(frame["id"][5])])
    assert counts.embedded == 0  # every text was embedded by the full build above
    frozen = rebuild_frozen(base, frame.drop(index=5))
    np.testing.assert_array_equal(updated.neighbors, frozen.neighbors)
    np.testing.assert_array_equal(updated.scores, frozen.scores)
    path = tmp_path / "model"
    updated.save(path)
    subject = str(frame["id"][0])
    assert Index.load(path).related(subject, k=30) == updated.related(subject, k=30)


def test_judgments_are_scored_with_the_blended_similarity(semantic_model: Recommender, frame: Any) -> None:
    """Agreement with people must see every part of the score: a judged pair's score is the ranking's
    similarity (here TF-IDF and the embedding), not the TF-IDF cosine alone."""
    from recommender.analysis.evaluate import evaluate_model, judgment_scores

    ids = list(frame["id"])
    judged = frame.copy()
    judged["judgments"] = None
    pairs: list[tuple[str, str, float]] = []
    for place in range(0, 40, 4):  # each of 10 articles judged against 5 others, graded by position
        others = [ids[(place + step * 7) % len(ids)] for step in range(1, 6)]
        judged.at[place, "judgments"] = [
            {"other_id": other, "score": float(grade)} for grade, other in enumerate(others)
        ]
        pairs += [(ids[place], other, float(grade)) for grade, other in enumerate(others)]
    report = evaluate_model(semantic_model, judged, label="category", k=5)
    ours = [float(semantic_model.similarity([a, b])[0, 1]) for a, b, _ in pairs]
    theirs = [grade for _, _, grade in pairs]
    expected = judgment_scores(ours, theirs)
    assert report.judgments == len(pairs) == 50
    np.testing.assert_allclose([report.pearson, report.spearman, report.auc], expected, atol=1e-6)
    vectors = semantic_model.vectors
    plain_cosines = [float(vectors[ids.index(a)].multiply(vectors[ids.index(b)]).sum()) for a, b, _ in pairs]
    assert report.pearson != pytest.approx(judgment_scores(plain_cosines, theirs)[0], abs=1e-6)


def test_intra_list_similarity_is_the_ranking_similarity(semantic_model: Recommender, frame: Any) -> None:
    """The diversity of a list is measured with the similarity its links show (every part of the blend)."""
    from recommender.analysis.evaluate import evaluate_model

    report = evaluate_model(semantic_model, frame, label="category", k=5)
    engine = semantic_model.index().engine
    means = []
    for members in np.asarray(semantic_model.neighbors)[:, :5]:
        members = members[members >= 0]
        if members.size >= 2:
            matrix = engine.pair_similarity(members.tolist())
            means.append((matrix.sum() - np.trace(matrix)) / (members.size * (members.size - 1)))
    assert report.intra_list_similarity == pytest.approx(float(np.mean(means)), abs=1e-5)


def test_articles_added_again_as_they_are_are_unchanged_with_the_view(
    semantic_model: Recommender, frame: Any
) -> None:
    again, counts = apply_update(semantic_model, add=frame.head(10))
    assert (counts.added, counts.edited, counts.unchanged) == (0, 0, 10)
    np.testing.assert_array_equal(again.neighbors, semantic_model.neighbors)
    edited = frame.head(2).copy()
    assert "." in edited.loc[0, "body"]
    # Same length, same terms and words: only the embedding, which reads punctuation, can tell.
    edited.loc[0, "body"] = edited.loc[0, "body"].replace(".", "?", 1)
    _, counts = apply_update(semantic_model, add=edited)
    assert (counts.edited, counts.unchanged) == (1, 1)
