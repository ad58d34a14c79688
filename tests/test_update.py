from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender
from recommender import store as fmt
from recommender.build.tables import StoredForms
from recommender.build.update import apply_update, read_ids, rebuild_frozen, update_model
from recommender.cli import main
from recommender.serve.explain import Words
from recommender.types import InvalidParameterError, ModelFormatError, UnknownArticleError

from .conftest import BUNDLED, GOLDEN, SHARED_DATA, model_files, refresh_checksums, write_manifest

RECORDS = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()]
BBC = SHARED_DATA / "bbc_news.jsonl.gz"

# No corpus-wide lever: the raw candidate pools are the stored lists themselves.
PLAIN: dict[str, Any] = {"lsa_weight": 0.0, "hub_weight": 0.0, "hide_duplicates": False}


def _assert_same(one: Recommender, two: Recommender, *, own_words: bool = True) -> None:
    """Same articles, vectors, raw pools, duplicate groups, hub scores and lists, bit for bit.

    Pool scores are canonical (recommender.build.pools), so exact equality holds, not only to rounding.
    """
    assert one.ids == two.ids
    assert (one.vectors != two.vectors).nnz == 0
    assert one.records == two.records
    assert one.pools is not None
    assert two.pools is not None
    assert np.array_equal(one.pools[0], two.pools[0])
    assert np.array_equal(one.pools[1], two.pools[1])
    assert one.duplicates == two.duplicates
    assert (one.hubs is None) == (two.hubs is None)
    if one.hubs is not None and two.hubs is not None:
        assert np.array_equal(one.hubs, two.hubs)
    assert np.array_equal(one.neighbors, two.neighbors)
    assert np.array_equal(one.scores, two.scores)
    if not own_words:
        return
    # Each article keeps its own readable words (an update carries them; a rebuild reads them again).
    words_one, words_two = Words(one.stored), Words(two.stored)
    for row in range(len(one)):
        assert words_one.row(row)[2] == words_two.row(row)[2], one.ids[row]


@pytest.mark.parametrize(("settings", "k"), [({}, 5), ({}, 20), (PLAIN, 20)])
def test_update_equals_a_frozen_rebuild(settings: dict[str, Any], k: int) -> None:
    base = Recommender(**settings, k=k).fit(RECORDS[:100])
    edited = {**RECORDS[5], "body": RECORDS[120]["body"] + " A new closing paragraph."}
    removed = [RECORDS[7]["id"], RECORDS[30]["id"]]
    added = RECORDS[100:]
    updated, counts = apply_update(base, add=[*added, edited], remove=removed)
    assert (counts.added, counts.edited, counts.removed) == (36, 1, 2)
    assert counts.recomputed > 0
    assert counts.refreshed > 0
    survivors = [r for r in RECORDS[:100] if r["id"] not in removed and r["id"] != edited["id"]]
    _assert_same(updated, rebuild_frozen(base, [*survivors, *added, edited]))


def test_articles_added_again_as_they_are_stay_in_place() -> None:
    """A feed read again: the articles the model holds as given are unchanged, not edits; any change the
    model would store (body, title, the case of a word, a tag) makes an edit."""
    base = Recommender().fit(RECORDS[:100])
    again, counts = apply_update(base, add=RECORDS[:100])
    assert (counts.added, counts.edited, counts.unchanged, counts.recomputed) == (0, 0, 100, 0)
    _assert_same(again, base)
    changed = [
        {**RECORDS[3], "body": RECORDS[3]["body"] + " One more sentence about pipelines."},
        {**RECORDS[4], "title": RECORDS[4]["title"] + " (updated)"},
        {**RECORDS[5], "body": RECORDS[5]["body"].replace("Russia", "RUSSIA", 1)},  # its own word changes
        {**RECORDS[6], "tags": ["a-new-tag"]},
    ]
    assert "Russia" in RECORDS[5]["body"]
    updated, counts = apply_update(base, add=[*RECORDS[10:20], *changed, *RECORDS[100:]])
    assert (counts.added, counts.edited, counts.unchanged) == (36, 4, 10)
    edited_ids = {record["id"] for record in changed}
    survivors = [record for record in RECORDS[:100] if record["id"] not in edited_ids]
    _assert_same(updated, rebuild_frozen(base, [*survivors, *changed, *RECORDS[100:]]))


def test_defaults_store_raw_pools_wider_than_the_lists() -> None:
    model = Recommender().fit(RECORDS)
    assert model.pools is not None
    assert model.hubs is not None
    assert model.pools[0].shape == (len(RECORDS), 40)  # candidate_width(20)
    assert model.neighbors.shape == (len(RECORDS), 20)
    # The stored lists are the hub re-rank of the pools: every listed article comes from its pool.
    for row in range(len(RECORDS)):
        assert set(model.neighbors[row][model.neighbors[row] >= 0]) <= set(model.pools[0][row])


def test_add_only_and_remove_only() -> None:
    base = Recommender().fit(RECORDS[:120])
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


@pytest.mark.parametrize("settings", [{}, PLAIN])
def test_frozen_rebuild_keeps_the_full_build_when_nothing_changes(settings: dict[str, Any]) -> None:
    model = Recommender(**settings).fit(RECORDS)
    _assert_same(rebuild_frozen(model, RECORDS), model)


def test_tiny_model_that_changes_width(tiny_records: list[dict[str, Any]]) -> None:
    base = Recommender(min_df=1, k=8).fit(tiny_records[:3])
    updated, _ = apply_update(base, add=tiny_records[3:])
    _assert_same(updated, rebuild_frozen(base, tiny_records))


def test_near_duplicates_and_their_kept_article_follow_the_update() -> None:
    base = Recommender().fit(RECORDS[:100])
    original = RECORDS[10]
    # An earlier near-copy: the group's kept (canonical) article becomes the new one.
    copy = {**original, "id": "copy", "body": original["body"] + " Updated.", "date": "2000-01-01"}
    updated, _ = apply_update(base, add=[copy])
    assert updated.duplicates == {original["id"]: "copy"}
    _assert_same(updated, rebuild_frozen(base, [*RECORDS[:100], copy]))
    hidden = updated.index().row(original["id"])
    assert not (updated.neighbors == hidden).any()
    # Removing the kept article brings the other one back into the lists.
    back, _ = apply_update(updated, remove=["copy"])
    assert back.duplicates == {}
    _assert_same(back, rebuild_frozen(base, RECORDS[:100]))
    assert (back.neighbors == back.index().row(original["id"])).any()


def test_update_model_writes_lineage_and_drift(tmp_path: Path) -> None:
    Recommender().fit(RECORDS[:100]).save(tmp_path / "base")
    new = tmp_path / "new.jsonl"
    new.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[100:110]), encoding="utf-8")
    report = update_model(tmp_path / "base", add=new, output=tmp_path / "v1")
    assert report.added == 10
    assert 0 < report.unseen_token_share < 1
    assert report.added_share == pytest.approx(10 / 110)
    assert not report.rebuild_recommended
    manifest = json.loads((model_files(tmp_path / "v1") / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["lineage"]["base_build"]["articles"] == 100
    assert [step["added"] for step in manifest["lineage"]["updates"]] == [10]
    assert {"pool_neighbors.npy", "pool_scores.npy", "lengths.npy", "hubs.npy"} <= set(manifest["files"])
    ids = tmp_path / "gone.txt"
    ids.write_text(f"# removed\n{RECORDS[0]['id']}\n\n", encoding="utf-8")
    report = update_model(tmp_path / "v1", remove=read_ids(ids), max_added=0.05)
    assert report.rebuild_recommended
    assert "full rebuild is recommended" in report.advice
    manifest = json.loads((model_files(tmp_path / "v1") / "manifest.json").read_text(encoding="utf-8"))
    assert [step["removed"] for step in manifest["lineage"]["updates"]] == [0, 1]
    index = Index.load(tmp_path / "v1")
    assert RECORDS[0]["id"] not in index
    assert len(index) == 109
    # Two updates in a row (through saved folders) still equal one frozen rebuild.
    base = Recommender.load(tmp_path / "base")
    _assert_same(Recommender.load(tmp_path / "v1"), rebuild_frozen(base, RECORDS[1:110]))


def test_update_errors() -> None:
    base = Recommender().fit(RECORDS[:20])
    with pytest.raises(UnknownArticleError, match="unknown article id 'nope'"):
        apply_update(base, remove=["nope"])
    with pytest.raises(InvalidParameterError, match="2 id\\(s\\) to remove are not in the model"):
        apply_update(base, remove=["nope", "nada"])
    with pytest.raises(InvalidParameterError, match="both added and removed"):
        apply_update(base, add=[RECORDS[3]], remove=[RECORDS[3]["id"]])


def test_one_id_string_to_remove_is_an_error_not_its_characters(tmp_path: Path) -> None:
    base = Recommender().fit(RECORDS[:20])
    one = RECORDS[3]["id"]
    with pytest.raises(InvalidParameterError, match=r"^remove takes a list of article ids, not one string"):
        apply_update(base, remove=one)
    with pytest.raises(InvalidParameterError, match=r"^remove takes a list of article ids, not one string"):
        update_model(tmp_path / "no-model-needed", remove=one)
    assert apply_update(base, remove=(one,))[1].removed == 1


def test_read_ids_drops_a_byte_order_mark_and_splits_only_at_line_feeds(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes("\ufeffalpha\r\n# a comment\nbeta\u2028gamma\n\n  delta  \n".encode())
    assert read_ids(ids) == ["alpha", "beta\u2028gamma", "delta"]


def test_models_saved_without_raw_pools_say_to_rebuild_once(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    Recommender().fit(RECORDS[:30]).save(folder)
    files = model_files(folder)
    for name in ("pool_neighbors.npy", "pool_scores.npy", "lengths.npy"):
        (files / name).unlink()
    manifest = json.loads((files / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {n: v for n, v in manifest["files"].items() if (files / n).exists()}
    write_manifest(files / "manifest.json", manifest)
    refresh_checksums(folder)
    assert len(Index.load(folder).related(RECORDS[0]["id"], k=3)) == 3  # still serves
    with pytest.raises(
        ModelFormatError, match=r"old: .*rebuild it once with this version \(recommender build"
    ):
        update_model(folder, add=RECORDS[30:32])


def test_the_golden_version_1_model_still_updates(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    folder = tmp_path / "golden"
    shutil.copytree(GOLDEN, folder)
    base = Recommender.load(folder)
    extra = {**tiny_records[0], "id": "oil-extra", "body": tiny_records[1]["body"] + " Oil again."}
    update_model(folder, add=[extra], output=tmp_path / "updated")
    updated = Recommender.load(tmp_path / "updated")
    # Version 1 stored no readable words: its articles keep their terms as words, new ones get their own.
    _assert_same(updated, rebuild_frozen(base, [*tiny_records, extra]), own_words=False)
    assert updated.related("oil-extra", k=1)[0].article_id == "opec-output-cut"
    words = Words(updated.stored)
    assert "agre" in words.row(updated.index().row("oil-prices-rise"))[2]  # a stem: all v1 had
    assert "announced" in words.row(updated.index().row("oil-extra"))[2]  # as the new article wrote it


def test_update_cli_with_default_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base_corpus, new = tmp_path / "base.jsonl", tmp_path / "new.jsonl"
    base_corpus.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[:100]), encoding="utf-8")
    new.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[100:]), encoding="utf-8")
    gone = tmp_path / "gone.txt"
    gone.write_text(f"{RECORDS[4]['id']}\n", encoding="utf-8")
    assert main(["build", str(base_corpus), "-o", str(tmp_path / "base")]) == 0
    command = ["update", str(tmp_path / "base"), "--add", str(new), "--remove", str(gone)]
    assert main([*command, "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "36 added" in out
    assert "drift:" in out
    expected = rebuild_frozen(Recommender.load(tmp_path / "base"), [*RECORDS[:4], *RECORDS[5:]])
    _assert_same(Recommender.load(tmp_path / "out"), expected)
    assert main(["update", str(tmp_path / "base"), "--json", "--remove", str(new)]) == 1
    assert "error:" in capsys.readouterr().err
    assert main(["update", str(tmp_path / "base")]) == 1
    assert "nothing to do" in capsys.readouterr().err


MIXED = Path(__file__).resolve().parent / "data" / "multilingual.jsonl"


@pytest.mark.parametrize("settings", [{}, PLAIN])
def test_update_of_a_multilingual_model_keeps_lists_within_each_language(settings: dict[str, Any]) -> None:
    records = [json.loads(line) for line in MIXED.read_text(encoding="utf-8").splitlines()]
    base = Recommender(**settings, min_df=1, k=5).fit(records[::2])
    updated, _ = apply_update(base, add=records[1::2])
    _assert_same(updated, rebuild_frozen(base, [*records[::2], *records[1::2]]))
    assert updated.languages == [r["id"][:2] for r in [*records[::2], *records[1::2]]]
    for row, found in enumerate(updated.neighbors):
        assert all(updated.languages[n] == updated.languages[row] for n in found if n >= 0)
    # One language first, then others: the grouping changes and every list is searched again.
    english = [r for r in records if r["id"].startswith("en")]
    others = [r for r in records if not r["id"].startswith("en")]
    single = Recommender(**settings, min_df=1, k=5).fit(english)
    grown, counts = apply_update(single, add=others)
    assert counts.recomputed == len(english)
    _assert_same(grown, rebuild_frozen(single, [*english, *others]))


@pytest.fixture(scope="module")
def bbc_records() -> list[dict[str, Any]]:
    """Every fourth BBC News article (no marked duplicates): 534 articles, enough for the LSA blend."""
    if not BBC.exists():
        pytest.skip(f"{BBC} is not present")
    with gzip.open(BBC, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    fields = ("id", "title", "body", "date", "category")
    return [{f: r[f] for f in fields} for n, r in enumerate(rows) if n % 4 == 0 and not r.get("duplicate_of")]


@pytest.fixture(scope="module")
def bbc_base(bbc_records: list[dict[str, Any]]) -> Recommender:
    """The first 420 of them built with the default settings: BM25, LSA 0.3 x 200 dims, hubs, duplicates."""
    return Recommender().fit(bbc_records[:420])


def test_update_with_the_lsa_blend_duplicates_and_a_new_hub(
    bbc_records: list[dict[str, Any]], bbc_base: Recommender
) -> None:
    base_records, fresh = bbc_records[:420], bbc_records[420:450]
    base = bbc_base
    assert base.components is not None
    assert base.components.shape[0] == 200
    _assert_same(rebuild_frozen(base, base_records), base)  # the definition reproduces the build
    original = base_records[10]
    near_copy = {
        **original,
        "id": "near-copy",
        "body": original["body"] + " (Updated.)",
        "date": "2000-01-01",
    }
    sport = [r for r in base_records if r["category"] == "sport"][:10]
    round_up = {"id": "round-up", "title": "Sport round-up", "body": "\n".join(r["body"] for r in sport)}
    edited = {**base_records[3], "body": base_records[3]["body"] + " More on football and elections."}
    removed = [base_records[20]["id"], *base.duplicates.values()]  # a kept article of a group too
    updated, counts = apply_update(base, add=[*fresh, near_copy, round_up, edited], remove=removed)
    assert counts.refreshed > 0
    assert counts.recomputed > 0
    survivors = [r for r in base_records if r["id"] not in removed and r["id"] != edited["id"]]
    reference = rebuild_frozen(base, [*survivors, *fresh, near_copy, round_up, edited])
    _assert_same(updated, reference)
    assert updated.components is base.components  # the projection is frozen
    # The earlier near-copy is now its group's kept article; the original is hidden.
    assert updated.duplicates[original["id"]] == "near-copy"
    assert base.duplicates
    assert not set(base.duplicates) & set(updated.duplicates)
    # The round-up enters many pools and gets the largest hub score, which keeps it out of most lists.
    assert updated.hubs is not None
    assert updated.pools is not None
    row = updated.index().row("round-up")
    assert int(np.argmax(updated.hubs)) == row
    in_pools = int((updated.pools[0][:, :20] == row).sum())
    assert in_pools > 40
    assert int((updated.neighbors == row).sum()) < in_pools


def test_updated_model_answers_drafts_with_the_new_words(tmp_path: Path) -> None:
    base = Recommender().fit(RECORDS[:100])
    new = RECORDS[100]
    word = next(w for w in new["body"].split() if w.isalpha() and w.lower() not in base.forms["en"])
    updated, _ = apply_update(base, add=[new])
    verdict = updated.analyzer.verdict(word.lower())
    # A kept word whose term is outside the vocabulary is stored as kept, with no term (" ").
    assert updated.forms["en"][word.lower()] == (verdict if verdict in updated.vocabulary else " ")
    folder = updated.save(tmp_path / "updated")
    draft = " ".join(new["body"].split()[:80])
    fast = Index.load(folder).query(draft, k=5)
    full = Recommender.load(folder).query(draft, k=5)
    assert [link.article_id for link in fast] == [link.article_id for link in full]
    assert fast[0].article_id == new["id"]


def test_a_saved_model_updates_from_its_stored_tables(
    tmp_path: Path, bbc_records: list[dict[str, Any]], bbc_base: Recommender
) -> None:
    path = bbc_base.save(tmp_path / "base")
    loaded = Recommender.load(path)
    assert bbc_base.duplicates  # their rows are zeroed in the stored LSA part, so projected again
    # The LSA part is read from the draft tables, not projected again: the same to the bit.
    found, expected = loaded.index().engine.search, bbc_base.index().engine.search
    assert found is not None
    assert expected is not None
    assert found.rows.dense is not None
    assert expected.rows.dense is not None
    assert np.array_equal(found.rows.dense, expected.rows.dense)
    for part in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(found.rows, part), getattr(expected.rows, part))
    fresh = bbc_records[420:440]
    update_model(path, add=fresh, output=tmp_path / "updated")
    reference = rebuild_frozen(bbc_base, [*bbc_records[:420], *fresh])
    _assert_same(Recommender.load(tmp_path / "updated"), reference)
    # The stored word-form tables grew in place; they hold what tables written from scratch hold.
    grown = fmt.open_model(tmp_path / "updated")
    written = fmt.open_model(reference.save(tmp_path / "reference"))
    assert set(grown.manifest["files"]) == set(written.manifest["files"])
    for name in StoredForms.NAMES:
        same = np.array_equal(grown.array(name), written.array(name))
        assert same or name == "query_form_table"  # a hash table: same keys, other slots
    keys = grown.strings("query_forms")
    table = fmt.IdTable(keys, grown.array("query_form_table"))
    assert all(table.row(key) == row for row, key in enumerate(keys.to_list()))
    assert len(keys) > len(fmt.open_model(path).strings("query_forms"))
    draft = " ".join(fresh[0]["body"].split()[:60])
    fast, full = Index.load(tmp_path / "updated").query(draft, k=5), reference.query(draft, k=5)
    assert [link.article_id for link in fast] == [link.article_id for link in full]
    assert [link.score for link in fast] == pytest.approx([link.score for link in full], abs=1e-6)
