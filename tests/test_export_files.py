from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest

from recommender.outputs.export_files import RECORD, read_record, write_file, write_folder
from recommender.store import steps
from recommender.types import InvalidParameterError


def _record(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    return data


def test_the_record_lists_each_file_with_its_checksum(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "out", {"a.json": "{}\n", "b.json": "ü\n"}, export_format="hugo")
    record = _record(folder)
    assert record["files"] == {
        "a.json": hashlib.sha256(b"{}\n").hexdigest(),
        "b.json": hashlib.sha256("ü\n".encode()).hexdigest(),
    }
    assert record["export_format"] == "hugo"
    assert "pending" not in record
    assert (folder / "b.json").read_bytes() == "ü\n".encode()
    assert read_record(folder) == {name: {checksum} for name, checksum in record["files"].items()}


def test_an_unchanged_export_changes_nothing(tmp_path: Path) -> None:
    files = {"a.html": "<p>a</p>\n", "b.html": "<p>b</p>\n"}
    write_folder(tmp_path, files, export_format="html")
    labels: list[str] = []
    previous = steps.set_hook(labels.append)
    try:
        write_folder(tmp_path, files, export_format="html")
        assert labels == []
        write_folder(tmp_path, {**files, "b.html": "<p>B</p>\n"}, export_format="html")
    finally:
        steps.set_hook(previous)
    assert [label for label in labels if "b.html" in label] == [
        "export write b.html",
        "export replace b.html",
    ]
    assert not any("a.html" in label for label in labels)  # an unchanged file is not rewritten


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "unreadable export record"),
        ('{"format": "something-else", "files": {}}', "not a recommender export record"),
        (
            '{"format": "recommender-export", "version": 99, "files": {}}',
            "export record version 99",
        ),
        ('{"format": "recommender-export", "version": 1, "files": {"../victim.json": "x"}}', "corrupt"),
        ('{"format": "recommender-export", "version": 1, "files": {"/etc/passwd": "x"}}', "corrupt"),
        ('{"format": "recommender-export", "version": 1, "files": ["a.json"]}', "corrupt"),
        ('{"format": "recommender-export", "version": 1, "files": {}, "pending": {"a/b": "x"}}', "corrupt"),
    ],
)
def test_a_bad_record_is_refused_and_nothing_changes(tmp_path: Path, content: str, problem: str) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("{}\n", encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / RECORD).write_text(content, encoding="utf-8")
    with pytest.raises(InvalidParameterError, match=f"{RECORD}: {problem}.*export into another folder"):
        write_folder(folder, {"victim.json": "[]\n", "a.json": "[]\n"}, export_format="hugo")
    assert sorted(p.name for p in folder.iterdir()) == [RECORD]
    assert (folder / RECORD).read_text(encoding="utf-8") == content
    assert victim.read_text(encoding="utf-8") == "{}\n"


def test_a_symlinked_record_or_file_is_never_ours(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("mine\n", encoding="utf-8")
    folder = write_folder(tmp_path / "out", {"a.json": "1\n", "b.json": "2\n"}, export_format="hugo")
    (folder / "a.json").unlink()
    (folder / "a.json").symlink_to(outside)
    with pytest.raises(InvalidParameterError, match=r"refusing to overwrite a\.json"):
        write_folder(folder, {"a.json": "1\n"}, export_format="hugo")
    with caplog.at_level(logging.WARNING):
        write_folder(folder, {"c.json": "3\n"}, export_format="hugo")
    assert "kept a.json" in caplog.text
    assert (folder / "a.json").is_symlink()
    assert outside.read_text(encoding="utf-8") == "mine\n"
    assert not (folder / "b.json").exists()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / RECORD).symlink_to(folder / RECORD)
    with pytest.raises(InvalidParameterError, match="not a recommender export record"):
        write_folder(linked, {"c.json": "3\n"}, export_format="hugo")


def test_only_our_leftover_temporary_files_are_removed(tmp_path: Path) -> None:
    leftovers = [
        f".a.json.{'0' * 12}.recommender-tmp",
        f"..recommender-export.json.{'ab' * 6}.recommender-tmp",
    ]
    kept = [
        ".a.json.0123.recommender-tmp",  # not our random part
        f"a.json.{'0' * 12}.recommender-tmp",  # not hidden
        f".a.json.{'0' * 12}.recommender-tmp.bak",
        ".notes",
    ]
    for name in leftovers + kept:
        (tmp_path / name).write_text("x", encoding="utf-8")
    write_folder(tmp_path, {"a.json": "{}\n"}, export_format="hugo")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, RECORD, "a.json"])


def test_a_single_file_export_removes_only_its_own_leftovers(tmp_path: Path) -> None:
    mine = tmp_path / f".related.csv.{'1' * 12}.recommender-tmp"
    other = tmp_path / f".other.csv.{'1' * 12}.recommender-tmp"
    for path in (mine, other):
        path.write_text("partial", encoding="utf-8")
    write_file(tmp_path / "related.csv", "a,b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["related.csv", other.name])
    with pytest.raises(InvalidParameterError, match="is a folder"):
        write_file(tmp_path, "a,b\n")


def test_a_symbolic_link_is_written_through_and_kept(tmp_path: Path) -> None:
    target, link = tmp_path / "site" / "related.csv", tmp_path / "related.csv"
    target.parent.mkdir()
    link.symlink_to(target)  # dangling: the export creates the file it points to
    write_file(link, "a,b\n")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == "a,b\n"
    write_file(link, "c,d\n")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == "c,d\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["related.csv"]


def test_a_path_that_is_not_a_regular_file_is_written_not_replaced(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    write_file(pipe, "a,b\n")
    reader.join(timeout=10)
    assert received == [b"a,b\n"]
    assert pipe.is_fifo()  # still the pipe: not moved over by a regular file
    if Path("/dev/full").exists():
        with pytest.raises(InvalidParameterError, match="/dev/full: cannot write the export"):
            write_file(Path("/dev/full"), "a,b\n")
        assert Path("/dev/full").is_char_device()


@pytest.mark.parametrize("name", ["../x.json", "a/b.json", ".hidden.json", "", "a\\b.json"])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidParameterError, match="refusing to write"):
        write_folder(tmp_path / "out", {name: "x"}, export_format="hugo")
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_folder_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="exists and is not a folder"):
        write_folder(tmp_path / "out", {"a.json": "x"}, export_format="hugo")


def test_exports_into_one_folder_take_turns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = write_folder(tmp_path / "out", {"a.json": "1\n"}, export_format="hugo")
    holder = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another export is under way
    writer = threading.Thread(
        target=write_folder, args=(folder, {"a.json": "2\n"}), kwargs={"export_format": "hugo"}
    )
    with caplog.at_level(logging.WARNING):
        writer.start()
        time.sleep(0.3)
        assert writer.is_alive()
        assert (folder / "a.json").read_text(encoding="utf-8") == "1\n"
        os.close(holder)
        writer.join(timeout=10)
    assert not writer.is_alive()
    assert (folder / "a.json").read_text(encoding="utf-8") == "2\n"
    assert "another export into this folder is under way; waiting" in caplog.text
