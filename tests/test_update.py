from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender
from recommender.cli import main
from recommender.types import InvalidParameterError, UnknownArticleError
from recommender.update import apply_update, read_ids, rebuild_frozen, update_model

from .conftest import BUNDLED

RECORDS = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()]

# The ranking an incremental update keeps exact (see recommender.update.check_updatable).
UPDATABLE: dict[str, Any] = {"lsa_weight": 0.0, "hub_weight": 0.0, "hide_duplicates": False}


def _assert_same(one: Recommender, two: Recommender) -> None:
    assert one.ids == two.ids
    assert np.array_equal(one.neighbors, two.neighbors)
    np.testing.assert_allclose(one.scores, two.scores, atol=1e-6)  # sums may run in another order
    assert (one.vectors != two.vectors).nnz == 0
    assert one._metadata == two._metadata


@pytest.mark.parametrize("k", [5, 20])
def test_update_equals_a_frozen_rebuild(k: int) -> None:
    base = Recommender(**UPDATABLE, k=k).fit(RECORDS[:100])
    edited = {**RECORDS[5], "body": RECORDS[120]["body"] + " A new closing paragraph."}
    removed = [RECORDS[7]["id"], RECORDS[30]["id"]]
    added = RECORDS[100:]
    updated, counts = apply_update(base, add=[*added, edited], remove=removed)
    assert (counts.added, counts.edited, counts.removed) == (36, 1, 2)
    assert counts.recomputed > 0
    assert counts.refreshed > 0
    survivors = [r for r in RECORDS[:100] if r["id"] not in removed and r["id"] != edited["id"]]
    _assert_same(updated, rebuild_frozen(base, [*survivors, *added, edited]))


def test_add_only_and_remove_only() -> None:
    base = Recommender(**UPDATABLE).fit(RECORDS[:120])
    updated, counts = apply_update(base, add=RECORDS[120:])
    assert counts.recomputed == 0
    _assert_same(updated, rebuild_frozen(base, RECORDS))
    gone = [RECORDS[0]["id"], RECORDS[50]["id"]]
    smaller, counts = apply_update(base, remove=gone)
    assert counts.refreshed == 0
    _assert_same(smaller, rebuild_frozen(base, [r for r in RECORDS[:120] if r["id"] not in gone]))
    assert all(
        gone_id not in [smaller.ids[n] for n in row if n >= 0]
        for row in smaller.neighbors
        for gone_id in gone
    )


def test_frozen_rebuild_keeps_the_full_build_when_nothing_changes() -> None:
    model = Recommender(**UPDATABLE).fit(RECORDS)
    _assert_same(rebuild_frozen(model, RECORDS), model)


def test_tiny_model_that_changes_width(tiny_records: list[dict[str, Any]]) -> None:
    base = Recommender(**UPDATABLE, min_df=1, k=8).fit(tiny_records[:3])
    updated, _ = apply_update(base, add=tiny_records[3:])
    _assert_same(updated, rebuild_frozen(base, tiny_records))


def test_update_model_writes_lineage_and_drift(tmp_path: Path) -> None:
    Recommender(**UPDATABLE).fit(RECORDS[:100]).save(tmp_path / "base")
    new = tmp_path / "new.jsonl"
    new.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[100:110]), encoding="utf-8")
    report = update_model(tmp_path / "base", add=new, output=tmp_path / "v1")
    assert report.added == 10
    assert 0 < report.unseen_token_share < 1
    assert report.added_share == pytest.approx(10 / 110)
    assert not report.rebuild_recommended
    manifest = json.loads((tmp_path / "v1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["lineage"]["base_build"]["articles"] == 100
    assert [step["added"] for step in manifest["lineage"]["updates"]] == [10]
    ids = tmp_path / "gone.txt"
    ids.write_text(f"# removed\n{RECORDS[0]['id']}\n\n", encoding="utf-8")
    report = update_model(tmp_path / "v1", remove=read_ids(ids), max_added=0.05)
    assert report.rebuild_recommended
    assert "full rebuild is recommended" in report.advice
    manifest = json.loads((tmp_path / "v1" / "manifest.json").read_text(encoding="utf-8"))
    assert [step["removed"] for step in manifest["lineage"]["updates"]] == [0, 1]
    index = Index.load(tmp_path / "v1")
    assert RECORDS[0]["id"] not in index
    assert len(index) == 109


def test_update_errors() -> None:
    base = Recommender(**UPDATABLE).fit(RECORDS[:20])
    with pytest.raises(UnknownArticleError, match="unknown article id 'nope'"):
        apply_update(base, remove=["nope"])
    with pytest.raises(InvalidParameterError, match="2 id\\(s\\) to remove are not in the model"):
        apply_update(base, remove=["nope", "nada"])
    with pytest.raises(InvalidParameterError, match="both added and removed"):
        apply_update(base, add=[RECORDS[3]], remove=[RECORDS[3]["id"]])


def test_update_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Recommender(**UPDATABLE).fit(RECORDS[:100]).save(tmp_path / "base")
    new = tmp_path / "new.jsonl"
    new.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[100:]), encoding="utf-8")
    assert main(["update", str(tmp_path / "base"), "--add", str(new), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "36 added" in out
    assert "drift:" in out
    assert main(["update", str(tmp_path / "base"), "--json", "--remove", str(new)]) == 1
    assert "error:" in capsys.readouterr().err
    assert main(["update", str(tmp_path / "base")]) == 1
    assert "nothing to do" in capsys.readouterr().err


MIXED = Path(__file__).resolve().parent / "data" / "multilingual.jsonl"


def test_update_of_a_multilingual_model_keeps_lists_within_each_language() -> None:
    records = [json.loads(line) for line in MIXED.read_text(encoding="utf-8").splitlines()]
    base = Recommender(**UPDATABLE, min_df=1, k=5).fit(records[::2])
    updated, _ = apply_update(base, add=records[1::2])
    _assert_same(updated, rebuild_frozen(base, [*records[::2], *records[1::2]]))
    assert updated.languages == [r["id"][:2] for r in [*records[::2], *records[1::2]]]
    for row, found in enumerate(updated.neighbors):
        assert all(updated.languages[n] == updated.languages[row] for n in found if n >= 0)
    # One language first, then others: the grouping changes and every list is searched again.
    english = [r for r in records if r["id"].startswith("en")]
    others = [r for r in records if not r["id"].startswith("en")]
    single = Recommender(**UPDATABLE, min_df=1, k=5).fit(english)
    grown, counts = apply_update(single, add=others)
    assert counts.recomputed == len(english)
    _assert_same(grown, rebuild_frozen(single, [*english, *others]))


def test_models_with_corpus_wide_levers_are_refused() -> None:
    from recommender.types import InvalidParameterError

    model = Recommender(lsa_weight=0.3, lsa_dims=10, min_df=1).fit(RECORDS[:30])
    with pytest.raises(
        InvalidParameterError, match=r"lsa_weight=0\.3.*--lsa-weight 0 --hub-weight 0 --keep-duplicates"
    ):
        apply_update(model, add=RECORDS[30:32])


def test_updated_model_answers_drafts_with_the_new_words(tmp_path: Path) -> None:
    base = Recommender(**UPDATABLE).fit(RECORDS[:100])
    new = RECORDS[100]
    word = next(w for w in new["body"].split() if w.isalpha() and w.lower() not in base.forms["en"])
    updated, _ = apply_update(base, add=[new])
    assert updated.forms["en"][word.lower()] == updated.analyzer.verdict(word.lower())
    folder = updated.save(tmp_path / "updated")
    draft = " ".join(new["body"].split()[:80])
    fast = Index.load(folder).query(draft, k=5)
    full = Recommender.load(folder).query(draft, k=5)
    assert [link.article_id for link in fast] == [link.article_id for link in full]
    assert fast[0].article_id == new["id"]
