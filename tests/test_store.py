"""The model store's generations: layout, readers that hold a generation, cleanup, legacy folders, safety."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender
from recommender import store as fmt
from recommender.store import folder as folder_module
from recommender.types import InvalidParameterError, ModelFormatError, ModelLockedError, RecommenderError

from .conftest import GOLDEN, model_files, refresh_checksums, write_manifest


def publish(path: Path, marker: int, **options: Any) -> Path:
    """A small model whose every part says which ``marker`` wrote it."""
    return fmt.write_model(path, **parts(marker), **options)


def parts(marker: int) -> dict[str, Any]:
    return {
        "arrays": {
            "marker": np.full(50, marker, dtype=np.int64),
            "grid": np.arange(12.0).reshape(3, 4) + marker,
        },
        "documents": {"label": {"marker": marker}, "ids": [f"a{marker}", "b"]},
        "parameters": {"k": marker},
        "counts": {"articles": 2},
    }


def assert_holds(folder: fmt.ModelFolder, marker: int) -> None:
    """Every part of ``folder`` is the one ``publish(..., marker)`` wrote (checked against fresh values)."""
    assert folder.array("marker").tolist() == [marker] * 50
    assert folder.array("grid").tolist() == (np.arange(12.0).reshape(3, 4) + marker).tolist()
    assert folder.document("label") == {"marker": marker}
    assert folder.document("ids") == [f"a{marker}", "b"]
    assert folder.parameters == {"k": marker}


def generations(path: Path) -> list[str]:
    return sorted(name for name in os.listdir(path) if re.fullmatch(r"gen-\d{6}-[0-9a-f]{8}", name))


def snapshot(path: Path) -> dict[str, Any]:
    """Every entry under ``path``: its bytes (files), its target (links) and its mode and mtime."""
    found: dict[str, Any] = {}
    for root, folders, files in os.walk(path):
        for name in folders + files:
            entry = Path(root) / name
            info = entry.lstat()
            content = (
                os.readlink(entry) if entry.is_symlink() else entry.read_bytes() if entry.is_file() else None
            )
            found[str(entry.relative_to(path))] = (content, info.st_mode, info.st_mtime_ns)
    return found


def test_a_model_path_holds_generations_and_a_pointer(tmp_path: Path) -> None:
    path = tmp_path / "m"
    for marker in (1, 2, 3):
        assert publish(path, marker) == path
    kept = generations(path)
    assert [name.split("-")[1] for name in kept] == ["000002", "000003"]
    assert sorted(os.listdir(path)) == sorted(["CURRENT", "LOCK", *kept])
    assert (path / "CURRENT").read_text() == kept[-1] + "\n"
    assert fmt.current_generation(path) == kept[-1]
    with fmt.open_model(path) as folder:
        assert (folder.generation, folder.model_path, folder.path) == (kept[-1], path, path / kept[-1])
        assert_holds(folder, 3)


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_keep_sets_how_many_published_generations_stay(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "m"
    names = []
    for marker in range(5):
        publish(path, marker, keep=keep)
        names.append(fmt.current_generation(path))
    assert generations(path) == sorted(names[-keep:])


@pytest.mark.parametrize("keep", [0, -1, True, 1.5])
def test_keep_must_be_a_positive_integer(tmp_path: Path, keep: Any) -> None:
    with pytest.raises(InvalidParameterError, match="keep must be a positive integer"):
        publish(tmp_path / "m", 1, keep=keep)
    assert not (tmp_path / "m").exists()


def test_a_folder_opened_before_later_publishes_keeps_answering(tmp_path: Path) -> None:
    path = tmp_path / "m"
    publish(path, 1)
    folder = fmt.open_model(path)  # nothing read yet
    for marker in range(2, 7):
        publish(path, marker)
    assert not folder.path.exists()  # keep=2 removed its generation
    assert_holds(folder, 1)
    assert_holds(fmt.open_model(path), 6)
    folder.close()
    with pytest.raises(ValueError, match="was closed"):
        folder.array("marker")


def test_an_index_opened_before_updates_answers_as_before(
    tmp_path: Path, tiny_records: list[dict[str, Any]]
) -> None:
    path = Recommender(min_df=1, k=2).fit(tiny_records).save(tmp_path / "m")
    shutil.copytree(path, tmp_path / "copy")
    index = Index.load(path)  # vectors and draft tables are read later, on first use
    for count in (5, 4, 3):
        Recommender(min_df=1, k=1).fit(tiny_records[:count]).save(path)
    assert len(Index.load(path)) == 3
    reference = Index.load(tmp_path / "copy")
    for article_id in reference.ids:
        assert index.related(article_id, k=3, explain=True) == reference.related(
            article_id, k=3, explain=True
        )
    assert index.query("crude oil output and football penalties", k=4) == reference.query(
        "crude oil output and football penalties", k=4
    )


def test_arrays_handed_out_stay_valid_after_close(tmp_path: Path) -> None:
    with fmt.open_model(publish(tmp_path / "m", 4)) as folder:
        grid = folder.array("grid")
    assert grid.tolist() == (np.arange(12.0).reshape(3, 4) + 4).tolist()


def test_reader_rereads_the_pointer_when_its_generation_vanishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m"
    publish(path, 1)
    publish(path, 2)
    stale = ["gen-000001-00000000"]  # what a reader may have read just before a writer's cleanup
    real = folder_module.read_pointer

    def read_pointer(model_fd: int, model_path: Path) -> str | None:
        return stale.pop() if stale else real(model_fd, model_path)

    monkeypatch.setattr(folder_module, "read_pointer", read_pointer)
    assert_holds(fmt.open_model(path), 2)


def test_a_pointer_naming_a_missing_generation_is_an_error(tmp_path: Path) -> None:
    path = publish(tmp_path / "m", 1)
    (path / "CURRENT").write_text("gen-000009-0123abcd\n")
    with pytest.raises(ModelFormatError, match=r"gen-000009-0123abcd: missing, although .*CURRENT names it"):
        fmt.open_model(path)


@pytest.mark.parametrize(
    "content",
    ["", "gen-1", "../gen-000001-0123abcd", "/etc/passwd", "gen-000001-0123abcd\nmore", "GEN-000001"],
)
def test_the_pointer_is_validated(tmp_path: Path, content: str) -> None:
    path = publish(tmp_path / "m", 1)
    (path / "CURRENT").write_text(content)
    with pytest.raises(ModelFormatError, match="CURRENT: names no generation"):
        fmt.open_model(path)
    with pytest.raises(ModelFormatError, match="CURRENT: names no generation"):
        fmt.current_generation(path)


def test_links_in_place_of_the_pointer_or_a_generation_are_refused(tmp_path: Path) -> None:
    path = publish(tmp_path / "m", 1)
    generation = fmt.current_generation(path)
    assert generation is not None
    shutil.copytree(path / generation, tmp_path / "elsewhere")
    shutil.rmtree(path / generation)
    (path / generation).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ModelFormatError, match="not a generation folder"):
        fmt.open_model(path)
    (path / "CURRENT").rename(tmp_path / "pointer")
    (path / "CURRENT").symlink_to(tmp_path / "pointer")
    with pytest.raises(ModelFormatError, match="CURRENT: is a symbolic link"):
        fmt.open_model(path)


@pytest.mark.parametrize("entry", ["../x", "/etc/passwd", "sub/x", ".hidden", "..", "a\\b", ""])
def test_manifest_entries_must_be_plain_names(tmp_path: Path, entry: str) -> None:
    path = publish(tmp_path / "m", 1)
    files = model_files(path)
    (tmp_path / "m" / "x").write_bytes(b"outside")
    manifest = json.loads((files / fmt.MANIFEST).read_text())
    manifest["files"][entry] = {"bytes": 7, "sha256": fmt.sha256(tmp_path / "m" / "x")}
    write_manifest(files / fmt.MANIFEST, manifest)
    with pytest.raises(ModelFormatError, match=re.escape(f"lists {entry!r}, which is not a plain file name")):
        fmt.open_model(path)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("parameters", None, "'parameters' is not an object"),
        ("counts", None, "'counts' is not an object"),
        ("counts", ["articles"], "'counts' is not an object"),
        ("counts", {"articles": None}, "'counts' holds a value that is not a count"),
        ("counts", {"articles": -1}, "'counts' holds a value that is not a count"),
        ("files", None, "corrupt manifest"),
        ("files", {"label.json": None}, "corrupt manifest"),
    ],
)
def test_a_manifest_entry_of_the_wrong_kind_is_a_format_error(
    tmp_path: Path, key: str, value: object, match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from recommender.cli import main

    path = publish(tmp_path / "m", 1)
    files = model_files(path)
    manifest = json.loads((files / fmt.MANIFEST).read_text())
    manifest[key] = value
    write_manifest(files / fmt.MANIFEST, manifest)
    with pytest.raises(ModelFormatError, match=match):
        fmt.open_model(path)
    assert main(["info", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"error: {files / fmt.MANIFEST}: corrupt manifest")


def test_a_listed_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    path = publish(tmp_path / "m", 1)
    files = model_files(path)
    (tmp_path / "outside.json").write_bytes((files / "label.json").read_bytes())
    (files / "label.json").unlink()
    (files / "label.json").symlink_to(tmp_path / "outside.json")
    refresh_checksums(path)  # sizes and checksums that match the link's target
    with pytest.raises(ModelFormatError, match=r"label\.json: is a symbolic link"):
        fmt.open_model(path)


def test_writers_refuse_a_foreign_folder_and_change_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "manifest.json").write_text(json.dumps({"name": "Shop", "start_url": "/", "icons": []}))
    (site / "index.html").write_text("<h1>Shop</h1>")
    (site / "assets" / "app.js").write_text("console.log(1)")
    before = snapshot(site)
    for attempt in (
        lambda: publish(site, 1),
        lambda: fmt.upgrade(site),
        lambda: fmt.writer(site).__enter__(),
    ):
        with pytest.raises(ModelFormatError, match=r"holds no model.*nothing was changed"):
            attempt()
        assert snapshot(site) == before
    model = publish(tmp_path / "m", 1)
    generation = model / str(fmt.current_generation(model))
    before = snapshot(model)
    with pytest.raises(
        ModelFormatError, match=r"is a generation of the model .*m, and generations never change"
    ):
        publish(generation, 2)
    assert snapshot(model) == before
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ModelFormatError, match="exists and is not a folder; nothing was changed"):
        publish(tmp_path / "file", 1)
    assert (tmp_path / "file").read_text() == "mine"


def test_cleanup_removes_what_a_crash_left(tmp_path: Path) -> None:
    path = publish(tmp_path / "m", 1)
    current = fmt.current_generation(path)
    (path / ".staging-000002-0123abcd").mkdir()
    (path / ".staging-000002-0123abcd" / "marker.npy").write_bytes(b"half")
    (path / ".CURRENT-0123abcd.tmp").write_text("gen-000002-0123abcd")
    shutil.copytree(path / str(current), path / "gen-000002-0123abcd")  # renamed, never pointed to
    with fmt.writer(path) as model:
        assert sorted(os.listdir(path)) == sorted(["CURRENT", "LOCK", str(current)])
        base = model.current()
        assert base is not None
        assert_holds(base, 1)


def test_cleanup_leaves_every_name_that_is_not_ours(tmp_path: Path) -> None:
    path = publish(tmp_path / "m", 1)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    (path / "notes.txt").write_text("mine")
    (path / ".staging-mine").mkdir()
    (path / "gen-7").mkdir()
    (path / "gen-000009-notmine!").mkdir()
    (path / ".staging-000005-0123abcd").symlink_to(outside)  # our pattern, but a link: not followed
    (path / "gen-000001-0123abcd").symlink_to(outside)
    (path / ".CURRENT-0123abcd.tmp").mkdir()  # our temp name, but a folder: rmdir-only would fail
    (path / ".CURRENT-0123abcd.tmp" / "x").write_text("x")
    theirs = {
        name: snapshot(path / name) for name in ("notes.txt", ".staging-mine", "gen-7", "gen-000009-notmine!")
    }
    for marker in (2, 3, 4):
        publish(path, marker, keep=1)
    assert {name: snapshot(path / name) for name in theirs} == theirs
    assert (path / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(outside)) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "precious"
    assert_holds(fmt.open_model(path), 4)


def legacy_copy(tmp_path: Path) -> Path:
    """The golden version-1 model as a flat folder, with a file of the user's beside it."""
    path = tmp_path / "golden"
    shutil.copytree(GOLDEN, path)
    (path / "README.txt").write_text("notes about this model")
    return path


def test_a_legacy_flat_folder_opens_read_only(tmp_path: Path) -> None:
    path = legacy_copy(tmp_path)
    before = snapshot(path)
    with fmt.open_model(path) as folder:
        assert (folder.generation, folder.path, folder.version) == (None, path, 1)
        assert folder.document("ids") == json.loads((GOLDEN / "ids.json").read_text())
    assert fmt.current_generation(path) is None
    assert snapshot(path) == before


def test_upgrade_turns_a_legacy_folder_into_a_generation_with_the_same_answers(tmp_path: Path) -> None:
    path = legacy_copy(tmp_path)
    listed = set(json.loads((GOLDEN / "manifest.json").read_text())["files"])
    golden = Index.load(GOLDEN)
    assert fmt.upgrade(path) == path
    assert sorted(os.listdir(path)) == sorted(["CURRENT", "LOCK", "README.txt", *generations(path)])
    assert not listed & set(os.listdir(path))
    with fmt.open_model(path) as folder:
        assert folder.version == fmt.FORMAT_VERSION
        assert folder.generation == fmt.current_generation(path)
        for name in ("ids", "articles", "vocabulary", "analyzer"):
            assert folder.document(name) == json.loads((GOLDEN / f"{name}.json").read_text()), name
        for name in ("idf", "neighbors", "scores", "vectors_data", "vectors_indices", "vectors_indptr"):
            assert np.array_equal(folder.array(name), np.load(GOLDEN / f"{name}.npy")), name
    upgraded = Index.load(path)
    for article_id in golden.ids:
        assert upgraded.related(article_id, k=3) == golden.related(article_id, k=3)
    generation = fmt.current_generation(path)
    fmt.upgrade(path)  # already current: nothing to do
    assert fmt.current_generation(path) == generation
    assert (path / "README.txt").read_text() == "notes about this model"


def test_publishing_into_a_legacy_folder_removes_only_its_listed_files(tmp_path: Path) -> None:
    path = legacy_copy(tmp_path)
    (path / "unlisted.npy").write_bytes(b"the user's")
    publish(path, 5)
    assert sorted(os.listdir(path)) == sorted(
        ["CURRENT", "LOCK", "README.txt", "unlisted.npy", *generations(path)]
    )
    assert (path / "unlisted.npy").read_bytes() == b"the user's"
    assert_holds(fmt.open_model(path), 5)


def test_upgrade_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="no model to upgrade"):
        fmt.upgrade(tmp_path / "nothing")


def test_one_writer_reads_its_base_and_publishes_twice(tmp_path: Path) -> None:
    path = tmp_path / "m"
    with fmt.writer(path) as model:
        assert model.current() is None
        first = model.publish(**parts(1))
        base = model.current()
        assert base is not None
        assert base.generation == first.name
        assert_holds(base, 1)
        model.publish(**parts(2))
    assert_holds(fmt.open_model(path), 2)
    with pytest.raises(Exception, match="this writer is not open"):
        model.publish(**parts(3))


def test_a_nested_writer_on_the_same_path_raises_instead_of_hanging(tmp_path: Path) -> None:
    path = tmp_path / "m"
    with fmt.writer(path):
        with pytest.raises(ModelLockedError, match="this thread already holds the writer"):
            publish(path, 1)
        with pytest.raises(ModelLockedError, match="already holds"), fmt.writer(tmp_path / "." / "m"):
            pass
    publish(path, 1)  # the lock was released


@pytest.mark.parametrize("name", ["../up", "sub/x", ".hidden", "manifest"])
def test_part_names_must_be_plain(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidParameterError, match="needs a plain file name"):
        fmt.write_model(tmp_path / "m", arrays={}, documents={name: 1}, parameters={}, counts={})
    assert not (tmp_path / "up.json").exists()


def test_a_writer_that_waits_says_for_whom(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import threading

    path = tmp_path / "m"
    holding, done = threading.Event(), threading.Event()

    def first() -> None:
        with fmt.writer(path) as model:
            holding.set()
            done.wait(10)
            model.publish(**parts(1))

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(10)
    with caplog.at_level(logging.WARNING, logger="recommender.store"):
        second = threading.Thread(target=publish, args=(path, 2))
        second.start()
        second.join(0.5)
        assert second.is_alive()  # waiting for the first writer
        done.set()
        thread.join(10)
        second.join(10)
    assert [record.getMessage() for record in caplog.records] == [
        f"{path}: waiting for another writer (pid {os.getpid()}) to finish"
    ]
    assert_holds(fmt.open_model(path), 2)
    assert [name.split("-")[1] for name in generations(path)] == ["000001", "000002"]


def test_an_array_given_in_pieces_is_the_file_np_save_writes(tmp_path: Path) -> None:
    """A model too large for the writing process is saved from pieces: the same bytes and checksum."""
    import io

    from recommender.store.pieces import Pieces, write_npy

    whole = np.arange(12, dtype=np.float32).reshape(4, 3)
    expected, given = io.BytesIO(), io.BytesIO()
    np.save(expected, whole, allow_pickle=False)
    write_npy(given, Pieces(np.dtype(np.float32), (4, 3), lambda: iter([whole[:1], whole[1:3], whole[3:]])))
    assert given.getvalue() == expected.getvalue()
    short = Pieces(np.dtype(np.float32), (4, 3), lambda: iter([whole[:2]]))
    with pytest.raises(RecommenderError, match="given 6 element"):
        write_npy(io.BytesIO(), short)
    model = Recommender(k=3).fit(
        [{"id": "a", "body": "grain exports rise"}, {"id": "b", "body": "grain exports fall"}],
        output=tmp_path / "m",
    )
    before = sorted(os.listdir(tmp_path / "m"))
    parts = model.stored.parts()
    parts["arrays"] = {**parts["arrays"], "extra": short}
    with pytest.raises(RecommenderError, match="nothing was published"):
        fmt.write_model(tmp_path / "m", **parts)
    assert sorted(os.listdir(tmp_path / "m")) == before  # the last good model stays, no staging left


def test_a_link_to_a_generation_is_refused_and_the_generation_stays_whole(tmp_path: Path) -> None:
    path = publish(tmp_path / "m", 1)
    link = tmp_path / "live"
    link.symlink_to(path / str(fmt.current_generation(path)))  # the generation's own manifest is ours
    _each_refused_changing_nothing(
        path,
        [lambda: publish(link, 2), lambda: fmt.upgrade(link), lambda: fmt.writer(link).__enter__()],
        r"is a generation of the model .*m, and generations never",
    )
    with pytest.raises(ModelFormatError, match="generations never change"):
        fmt.check_target(link)
    assert_holds(fmt.open_model(path), 1)


def test_cleanup_never_takes_a_generations_manifest_for_a_legacy_folders(tmp_path: Path) -> None:
    from recommender.store.clean import clean

    path = publish(tmp_path / "m", 1)
    generation = path / str(fmt.current_generation(path))
    (generation / "CURRENT").write_text(f"{generation.name}\n")  # as a writer inside it would leave it
    listed = sorted(os.listdir(generation))
    fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY)
    try:
        clean(fd, generation, keep=2)
    finally:
        os.close(fd)
    assert sorted(os.listdir(generation)) == listed
    (generation / "CURRENT").unlink()
    assert_holds(fmt.open_model(path), 1)


def test_removing_an_old_generation_leaves_the_files_it_was_not_written_with(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = publish(tmp_path / "m", 1)
    first = path / str(fmt.current_generation(path))
    (first / "notes.txt").write_text("mine")
    (first / "mine.npy").write_bytes(b"mine too")  # a part's kind of name, but not in the manifest
    staging = path / ".staging-000009-0123abcd"  # what a crashed writer left, and a file of the user's
    staging.mkdir()
    (staging / "marker.npy").write_bytes(b"half written")
    (staging / "notes.txt").write_text("mine")
    with caplog.at_level(logging.WARNING, logger="recommender.store.clean"):
        publish(path, 2, keep=1)
    assert sorted(os.listdir(first)) == ["mine.npy", "notes.txt"]
    assert (first / "notes.txt").read_text() == "mine"
    assert (first / "mine.npy").read_bytes() == b"mine too"
    assert sorted(os.listdir(staging)) == ["notes.txt"]
    assert "left in place" in caplog.text
    assert "mine.npy, notes.txt" in caplog.text
    publish(path, 3, keep=1)  # the leftovers stay, and stay out of the way
    assert sorted(os.listdir(first)) == ["mine.npy", "notes.txt"]
    assert_holds(fmt.open_model(path), 3)


def test_an_index_reloads_as_it_was_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = [
        {"id": f"a{n}", "title": f"oil prices {n}", "body": "crude oil output rose " * (n + 1)}
        for n in range(4)
    ]
    path = Recommender(min_df=1, k=2).fit(tiny).save(tmp_path / "m")
    opened: list[dict[str, Any]] = []
    real = fmt.open_model

    def open_model(model_path: Any, **options: Any) -> fmt.ModelFolder:
        opened.append(options)
        return real(model_path, **options)

    monkeypatch.setattr(fmt, "open_model", open_model)
    index = Index.load(path, mmap=False, verify=False)
    Recommender(min_df=1, k=1).fit(tiny[:3]).save(path)
    assert index.reload()
    assert opened == [{"verify": False, "mmap": False}] * 2
    assert len(index) == 3


def test_a_foreign_pointer_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    database = tmp_path / "leveldb"  # a LevelDB folder: CURRENT names its manifest, LOCK is its own
    database.mkdir()
    (database / "CURRENT").write_text("MANIFEST-000005\n")
    (database / "LOCK").write_text("")
    (database / "LOG").write_text("2024/01/01 opened\n")
    (database / "MANIFEST-000005").write_bytes(b"\x00\x01")
    _each_refused_changing_nothing(
        database,
        [
            lambda: fmt.check_target(database),
            lambda: publish(database, 1),
            lambda: fmt.upgrade(database),
            lambda: fmt.writer(database).__enter__(),
        ],
        r"names no generation of a recommender model.*not a model",
    )
    (tmp_path / "only").mkdir()  # a pointer and a lock alone: every name is ours, but the pointer is not
    (tmp_path / "only" / "CURRENT").write_text("MANIFEST-000001\n")
    (tmp_path / "only" / "LOCK").write_text("theirs")
    with pytest.raises(ModelFormatError, match="not a model folder"):
        publish(tmp_path / "only", 1)
    assert (tmp_path / "only" / "LOCK").read_text() == "theirs"


def test_a_dangling_link_or_an_unwritable_folder_is_refused_before_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dangling = tmp_path / "dl"
    dangling.symlink_to(tmp_path / "nowhere")
    for attempt in (lambda: fmt.check_target(dangling), lambda: publish(dangling, 1)):
        with pytest.raises(
            ModelFormatError, match=r"dl: is a symbolic link to .*nowhere, which does not exist"
        ):
            attempt()
    assert not (tmp_path / "nowhere").exists()
    model = publish(tmp_path / "m", 1)
    locked = {str(model), str(tmp_path / "ro")}  # as for another user's folder (tests may run as root)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: str(p) not in locked and real(p, mode, **kw))
    (tmp_path / "ro").mkdir()
    for target, shown in ((model, model), (tmp_path / "ro" / "new" / "m", tmp_path / "ro")):
        with pytest.raises(
            RecommenderError, match=rf"cannot write a model here: {re.escape(str(shown))} is not"
        ):
            fmt.check_target(target)
    assert not (tmp_path / "ro" / "new").exists()


def test_the_writers_file_system_errors_name_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recommender.store import lock

    path = publish(tmp_path / "m", 1)

    def refused(self: Any) -> int:
        raise PermissionError(13, "Permission denied", "LOCK")

    monkeypatch.setattr(lock.ModelLock, "_open", refused)  # as for another user's model folder
    with pytest.raises(
        RecommenderError, match=rf"{re.escape(str(path))}: cannot write the model: Permission denied"
    ):
        publish(path, 2)
    monkeypatch.undo()
    assert_holds(fmt.open_model(path), 1)


@pytest.mark.parametrize(
    ("version", "advice"),
    [
        (True, "rebuild it"),
        (1.0, "rebuild it"),
        ("2", "rebuild it"),
        (3, "it was written by a newer release: upgrade this library"),
    ],
)
def test_the_format_version_is_a_known_whole_number(tmp_path: Path, version: Any, advice: str) -> None:
    path = publish(tmp_path / "m", 1)
    manifest_path = path / str(fmt.current_generation(path)) / "manifest.json"
    write_manifest(manifest_path, {**json.loads(manifest_path.read_text()), "format_version": version})
    with pytest.raises(
        ModelFormatError, match=rf"format version {re.escape(repr(version))} is not[^;]*; {advice}"
    ):
        fmt.open_model(path)


def _each_refused_changing_nothing(folder: Path, attempts: list[Callable[[], object]], match: str) -> None:
    """Every attempt fails with ``match`` and leaves every file under ``folder`` as it was."""
    before = snapshot(folder)
    for attempt in attempts:
        with pytest.raises(ModelFormatError, match=match):
            attempt()
        assert snapshot(folder) == before
