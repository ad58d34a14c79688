"""Builds and updates publish through the store: readers never see a model change under them, concurrent
updates lose nothing, a kill at any step keeps the last good model, and older models keep answering."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, Recommender
from recommender import store as fmt
from recommender.build.update import update_model
from recommender.cli import main

from .conftest import BUNDLED, KILLED, ROOT, killed_at, recorded_steps

RECORDS = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()]
RELEASE = ROOT / "tests" / "data" / "release-0.1.0"
DRAFT = "Caspian oil pipelines, sanctions on Russia and the Middle Corridor through Kazakhstan"


def _answers(index: Index, ids: list[str]) -> dict[str, Any]:
    """What a reader sees: some lists, a deeper list, and a draft's list (plain data, comparable)."""
    related = {a: [(x.article_id, x.score) for x in index.related(a, k=5)] for a in ids}
    deep = [(x.article_id, x.score) for x in index.related(ids[0], k=40)]
    return {
        "related": related,
        "deep": deep,
        "query": [(x.article_id, x.score) for x in index.query(DRAFT, k=5)],
    }


def _temporary(path: Path) -> list[str]:
    return sorted(name for name in os.listdir(path) if name.startswith("."))


def _run_updates(path: str, rounds: int, steady: list[str], expected_file: str) -> None:
    """In a child process: ``rounds`` in-place updates (adds and removes), recording after each one the
    answers its generation gives."""
    pool = [record for record in RECORDS[60:] if record["id"] not in steady]
    expected: dict[str, Any] = {}
    for number in range(rounds):
        added = [
            {**record, "id": f"{record['id']}-v{number}"} for record in pool[number * 3 : number * 3 + 3]
        ]
        removed = [
            f"{record['id']}-v{number - 1}" for record in pool[(number - 1) * 3 : (number - 1) * 3 + 2]
        ]
        update_model(path, add=added, remove=removed if number else ())
        index = Index.load(path)
        expected[str(index.generation)] = _answers(index, steady)
    Path(expected_file).write_text(json.dumps(expected), encoding="utf-8")


def test_readers_during_twenty_updates_see_whole_generations(tmp_path: Path) -> None:
    path = tmp_path / "model"
    Recommender().fit(RECORDS[:60]).save(path)
    steady = [record["id"] for record in RECORDS[:50]]
    held = Index.load(path)
    first = _answers(held, steady)
    expected_file = tmp_path / "expected.json"
    context = multiprocessing.get_context("fork")
    writer = context.Process(target=_run_updates, args=(str(path), 20, steady, str(expected_file)))
    seen: list[tuple[str, dict[str, Any]]] = []
    errors: list[BaseException] = []
    writer.start()
    while writer.is_alive():
        try:
            index = Index.load(path)
            seen.append((str(index.generation), _answers(index, steady)))
        except Exception as error:  # every error counts: none is expected
            errors.append(error)
    writer.join()
    assert writer.exitcode == 0
    assert errors == []
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    expected[str(held.generation)] = json.loads(json.dumps(first))
    assert len(expected) == 21
    assert len({generation for generation, _ in seen}) > 2  # the reader saw the model change
    for generation, answers in seen:
        assert json.loads(json.dumps(answers)) == expected[generation]
    # An index held across the updates answers from its generation (deleted since) until reload().
    assert _answers(held, steady) == first
    assert held.reload()
    assert json.loads(json.dumps(_answers(held, steady))) == expected[str(fmt.current_generation(path))]
    assert not held.reload()
    assert _temporary(path) == [] or _temporary(path) == [".lock"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recommender", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_two_concurrent_updates_both_land(tmp_path: Path) -> None:
    path = tmp_path / "model"
    Recommender().fit(RECORDS[:60]).save(path)
    batches = []
    for name, chunk in (("a", RECORDS[60:70]), ("b", RECORDS[70:80])):
        batch = tmp_path / f"{name}.jsonl"
        batch.write_text("".join(json.dumps(record) + "\n" for record in chunk), encoding="utf-8")
        batches.append(batch)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "recommender", "update", str(path), "--add", str(batch)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for batch in batches
    ]
    for process in processes:
        _, error = process.communicate(timeout=300)
        assert process.returncode == 0, error
    ids = set(Index.load(path).ids)
    assert {record["id"] for record in RECORDS[:80]} <= ids  # neither update lost the other's articles


def test_a_second_writer_that_will_not_wait_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model"
    Recommender().fit(RECORDS[:40]).save(path)
    batch = tmp_path / "new.jsonl"
    batch.write_text(json.dumps(RECORDS[50]) + "\n", encoding="utf-8")
    before = Index.load(path).ids
    with fmt.writer(path):  # another writer holds the model
        result = _cli("update", str(path), "--add", str(batch), "--no-wait")
    assert result.returncode == 1
    assert "another writer" in result.stderr
    assert Index.load(path).ids == before
    assert _cli("update", str(path), "--add", str(batch), "--no-wait").returncode == 0


@pytest.mark.parametrize("operation", ["build", "update"])
def test_a_kill_at_any_step_keeps_the_last_model(
    tmp_path: Path, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # a kill loses nothing fsync would keep
    path = tmp_path / "model"
    base = Recommender(min_df=1).fit(RECORDS[:12])
    base.save(path)
    ids = base.ids[:6]
    before = _answers(Index.load(path), ids)
    rebuilt = Recommender(min_df=1).fit(RECORDS[:14])

    def act(target: Path = path) -> object:
        if operation == "build":
            return rebuilt.save(target)
        return update_model(target, add=RECORDS[12:14])

    scratch = tmp_path / "count"
    shutil.copytree(path, scratch)
    total = len(recorded_steps(lambda: act(scratch)))
    assert total > 10
    for number in range(total):
        assert killed_at(number, act) == KILLED
        assert _answers(Index.load(path), ids) == before, number  # the last good model, whole
    act()  # the rerun succeeds and leaves nothing temporary
    assert len(Index.load(path)) == 14
    assert [name for name in _temporary(path) if name != ".lock"] == []


def test_build_into_a_folder_that_is_not_a_model_changes_nothing(tmp_path: Path, tiny_jsonl: Path) -> None:
    site = tmp_path / "webapp"
    site.mkdir()
    (site / "manifest.json").write_text('{"name": "my web app", "icons": []}', encoding="utf-8")
    (site / "index.html").write_text("<h1>hello</h1>", encoding="utf-8")
    before = {path.name: path.read_bytes() for path in site.iterdir()}
    assert main(["build", str(tiny_jsonl), "-o", str(site), "--min-df", "1"]) == 1
    assert {path.name: path.read_bytes() for path in site.iterdir()} == before


def test_a_model_saved_by_release_0_1_0_answers_as_it_did(tmp_path: Path) -> None:
    expected = json.loads((RELEASE.parent / "release-0.1.0-expected.json").read_text(encoding="utf-8"))
    index = Index.load(RELEASE)
    for article_id, links in expected["related"].items():
        found = [link.to_dict() for link in index.related(article_id, k=4)]
        assert [link["article_id"] for link in found] == [link["article_id"] for link in links]
        # 0.1.0 showed the plain similarity as the score (its lists were ordered by the hub-discounted one):
        # that similarity is kept, and the score shown is now the one the list is ordered by.
        similarities = [link["similarity"] for link in found]
        assert similarities == pytest.approx([link["score"] for link in links], abs=1e-6)
        assert [link["score"] for link in found] == sorted((link["score"] for link in found), reverse=True)
        assert all(link["score"] < link["similarity"] for link in found)  # every one of these is discounted
    texts = {
        "en": "grain exports through the Black Sea and the Danube",
        "fr": "les exportations de céréales par la mer Noire",
        "ru": "санкции против России и экспорт зерна",
    }
    for language, links in expected["query"].items():
        found = [link.to_dict() for link in index.query(texts[language], k=3)]
        assert [link["article_id"] for link in found] == [link["article_id"] for link in links]
    # One documented command rewrites it as a generation; it answers the same afterwards.
    copy = tmp_path / "old-model"
    shutil.copytree(RELEASE, copy)
    assert main(["upgrade", str(copy)]) == 0
    assert fmt.current_generation(copy) is not None
    assert not (copy / "manifest.json").exists()  # the old flat files are gone, the generation holds them
    upgraded = Index.load(copy)
    for article_id, links in expected["related"].items():
        found = [link.article_id for link in upgraded.related(article_id, k=4)]
        assert found == [link["article_id"] for link in links]
    # It updates too (an update publishes a generation beside the old flat files, then removes them).
    other = tmp_path / "old-model-2"
    shutil.copytree(RELEASE, other)
    new = {
        "id": "en-new",
        "title": "Danube grain barges",
        "body": "Grain barges on the Danube and Black Sea.",
    }
    update_model(other, add=[new])
    assert "en-new" in Index.load(other)
    assert not (other / "manifest.json").exists()


def test_reload_in_a_thread_does_not_disturb_calls_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "model"
    Recommender().fit(RECORDS[:60]).save(path)
    index = Index.load(path)
    ids = index.ids[:20]
    failures: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                for article_id, links in index.related_many(ids, k=5):
                    assert all(link.article_id != article_id for link in links)
            except BaseException as error:
                failures.append(error)
                return

    reader = threading.Thread(target=read)
    reader.start()
    for number in range(4):
        update_model(path, add=[{**RECORDS[60 + number], "id": f"extra-{number}"}])
        assert index.reload()
    stop.set()
    reader.join()
    assert failures == []
    assert "extra-3" in index
