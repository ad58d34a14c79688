from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import store as fmt
from recommender.types import ModelFormatError

from .conftest import model_files, refresh_checksums, write_manifest


def _write(path: Path) -> Path:
    return fmt.write_model(
        path,
        arrays={"numbers": np.arange(6, dtype=np.int32).reshape(2, 3)},
        documents={"names": ["a", "b"]},
        parameters={"k": 3},
        counts={"articles": 2},
    )


def test_writes_manifest_with_checksums(tmp_path: Path) -> None:
    path = _write(tmp_path / "m")
    manifest = json.loads((model_files(path) / fmt.MANIFEST).read_text())
    assert manifest["format"] == fmt.FORMAT_NAME
    assert manifest["format_version"] == fmt.FORMAT_VERSION
    assert set(manifest["files"]) == {"numbers.npy", "names.json"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())
    folder = fmt.open_model(path)
    assert folder.array("numbers").tolist() == [[0, 1, 2], [3, 4, 5]]
    assert isinstance(folder.array("numbers"), np.memmap)
    assert folder.document("names") == ["a", "b"]
    assert folder.parameters == {"k": 3}
    assert folder.counts == {"articles": 2}


def test_replaces_a_model_and_leaves_no_temporary_folders(tmp_path: Path) -> None:
    first = model_files(_write(tmp_path / "m"))
    fmt.write_model(tmp_path / "m", arrays={}, documents={"names": ["c"]}, parameters={}, counts={}, keep=1)
    second = model_files(tmp_path / "m")
    assert not first.exists()
    assert fmt.open_model(tmp_path / "m").document("names") == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == sorted(["CURRENT", "LOCK", second.name])
    umask = os.umask(0)
    os.umask(umask)
    assert oct(second.stat().st_mode & 0o777) == oct(0o777 & ~umask)  # readable as the umask allows


def test_failed_write_keeps_the_old_model(tmp_path: Path) -> None:
    files = model_files(_write(tmp_path / "m"))
    before = sorted((tmp_path / "m").iterdir()), (files / fmt.MANIFEST).read_bytes()
    with pytest.raises(ValueError, match=r"allow_nan|Out of range"):
        fmt.write_model(tmp_path / "m", arrays={}, documents={"bad": float("nan")}, parameters={}, counts={})
    assert (sorted((tmp_path / "m").iterdir()), (files / fmt.MANIFEST).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_refuses_to_overwrite_other_folders_and_files(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(ModelFormatError, match="not empty and holds no model"):
        _write(tmp_path / "docs")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFormatError, match="not a folder"):
        _write(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    assert (model_files(_write(tmp_path / "empty")) / fmt.MANIFEST).is_file()


def _edit_manifest(path: Path, **changes: Any) -> None:
    manifest = json.loads((path / fmt.MANIFEST).read_text())
    manifest.update(changes)
    write_manifest(path / fmt.MANIFEST, manifest)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda p: None, None),
        (lambda p: os.remove(p / fmt.MANIFEST), "not a recommender model"),
        (lambda p: (p / fmt.MANIFEST).write_text("{not json"), "corrupt manifest"),
        (lambda p: _edit_manifest(p, format="annoy"), "not a recommender model"),
        (lambda p: _edit_manifest(p, format_version=99), "version 99 is not supported.*upgrade this"),
        (lambda p: _edit_manifest(p, files=None), "no file list"),
        (lambda p: os.remove(p / "names.json"), "names.json: missing"),
        (lambda p: (p / "names.json").write_text('["x", "y"]\n'), "names.json: checksum mismatch.*rebuild"),
        (lambda p: (p / "names.json").write_text("[]"), "names.json: size differs"),
    ],
)
def test_damaged_models_get_clear_errors(tmp_path: Path, damage: Any, match: str | None) -> None:
    path = _write(tmp_path / "m")
    damage(model_files(path))
    if match is None:
        fmt.open_model(path)
        return
    with pytest.raises(ModelFormatError, match=match):
        fmt.open_model(path)


def test_verify_false_skips_the_arrays_checksums_but_not_sizes_nor_the_documents(tmp_path: Path) -> None:
    path = _write(tmp_path / "m")
    numbers = model_files(path) / "numbers.npy"
    data = bytearray(numbers.read_bytes())
    data[-4] ^= 1  # the last value (int32, little-endian), 5, becomes 4: same size, a valid array
    numbers.write_bytes(bytes(data))
    assert fmt.open_model(path, verify=False).array("numbers").tolist() == [[0, 1, 2], [3, 4, 4]]
    (model_files(path) / "names.json").write_text('["x", "y"]\n')  # as many bytes as '["a", "b"]\n'
    with pytest.raises(ModelFormatError, match=r"names\.json: checksum mismatch"):
        fmt.open_model(path, verify=False).document("names")
    (model_files(path) / "names.json").write_text('["x"]\n')
    with pytest.raises(ModelFormatError, match="size differs from the manifest"):
        fmt.open_model(path, verify=False)


def test_missing_folder_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="no such model folder; build one with: recommender build"):
        fmt.open_model(tmp_path / "nothing")


def test_unlisted_part_is_an_error(tmp_path: Path) -> None:
    folder = fmt.open_model(_write(tmp_path / "m"))
    with pytest.raises(ModelFormatError, match=r"lists no vocabulary\.json"):
        folder.document("vocabulary")


def test_pickled_arrays_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "m")
    np.save(model_files(path) / "numbers.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    refresh_checksums(path)
    folder = fmt.open_model(path, mmap=False)
    with pytest.raises(ModelFormatError, match="unreadable array"):
        folder.array("numbers")


def test_ids_and_articles_become_tables_that_read_back(tmp_path: Path) -> None:
    ids = ["a", "é-2", "c"]
    articles = [{"title": "T", "date": None, "url": None}, {"title": "Ü", "date": "2024-01-01"}, {}]
    path = fmt.write_model(
        tmp_path / "m", arrays={}, documents={"ids": ids, "articles": articles}, parameters={}, counts={}
    )
    folder = fmt.open_model(path)
    assert not (model_files(path) / "ids.json").exists()
    assert folder.document("ids") == ids
    assert folder.document("articles") == articles
    table = fmt.IdTable(folder.strings("ids"), folder.array(fmt.ID_TABLE))
    assert [table.row(article_id) for article_id in ids] == [0, 1, 2]
    assert table.row("missing") is None
    assert folder.strings(fmt.DATES)[1] == "2024-01-01"
    assert folder.strings(fmt.TITLES)[2] == ""


def test_id_table_finds_every_id_of_a_larger_model() -> None:
    ids = [f"id-{n}" for n in range(5000)]
    strings = fmt.StringTable(*fmt.StringTable.encode(ids))
    table = fmt.IdTable(strings, fmt.IdTable.build(ids))
    assert all(table.row(article_id) == row for row, article_id in enumerate(ids))
    assert table.row("id-5000") is None


def test_version_1_still_opens(tmp_path: Path) -> None:
    path = _write(tmp_path / "m")
    _edit_manifest(model_files(path), format_version=1)
    assert fmt.open_model(path).version == 1


def test_id_table_wraps_keys_past_the_last_slot() -> None:
    # Three ids whose home is the last slot of an 8-slot table: two must wrap around to the start.
    chosen = [f"k{n}" for n in range(10_000) if zlib.crc32(f"k{n}".encode()) & 7 == 7][:3]
    table = fmt.IdTable.build(chosen)
    assert table.shape == (8,)
    assert table[7] == 0
    assert sorted(table[:2].tolist()) == [1, 2]
    lookup = fmt.IdTable(fmt.StringTable(*fmt.StringTable.encode(chosen)), table)
    assert [lookup.row(key) for key in chosen] == [0, 1, 2]
    assert lookup.row("absent") is None


def test_id_table_grows_with_keys_inserted_between_rows() -> None:
    ids = [f"id-{n:04d}" for n in range(0, 2000, 2)]  # sorted, with gaps for odd numbers
    table = fmt.IdTable.build(ids)
    fresh = ["id-0001", "id-0003", "id-1001", "id-9999"]
    places = np.searchsorted(np.array(ids), fresh)  # where np.insert puts each one
    grown = fmt.IdTable.grow(table, places, fresh)
    assert grown is not None
    merged = sorted(ids + fresh)
    lookup = fmt.IdTable(fmt.StringTable(*fmt.StringTable.encode(merged)), grown)
    assert [lookup.row(key) for key in merged] == list(range(len(merged)))
    assert lookup.row("id-0005") is None
    assert np.array_equal(table, fmt.IdTable.build(ids))  # the stored table is not touched
    crowded = [f"x{n}" for n in range(table.shape[0] // 2 - len(ids) + 1)]
    assert fmt.IdTable.grow(table, np.full(len(crowded), len(ids)), crowded) is None  # over half full


def test_records_move_as_bytes_and_decode_on_access() -> None:
    records = [
        {"title": f"Title {n}", "date": None if n % 3 else f"2024-01-{n + 1:02d}", "url": None, "tags": ["é"]}
        for n in range(12)
    ]
    stored = fmt.Records.encode(records)
    assert len(stored) == 12
    assert stored[4] == records[4]
    assert stored[-1] == records[-1]
    assert stored[2:4] == records[2:4]
    assert stored == records
    assert stored != records[:-1]
    with pytest.raises(IndexError):
        stored[12]
    rows = np.array([0, 1, 2, 7, 8, 3, 11, 11])  # runs, a step back and a repeat
    taken = stored.take(rows)
    assert list(taken) == [records[row] for row in rows.tolist()]
    assert taken.column("date") == [records[row]["date"] for row in rows.tolist()]
    assert taken.column("title") == [records[row]["title"] for row in rows.tolist()]
    both = taken.concat(fmt.Records.encode(records[:2])).concat(stored.take(np.array([], dtype=np.int64)))
    assert list(both) == [records[row] for row in rows.tolist()] + records[:2]
    expected = fmt.Records.encode([records[row] for row in rows.tolist()] + records[:2]).arrays()
    found = both.arrays()
    assert found.keys() == expected.keys()
    assert all(np.array_equal(found[name], expected[name]) for name in expected)  # the same bytes


def test_a_changed_byte_in_the_manifest_is_caught_by_its_own_checksum(tmp_path: Path) -> None:
    path = _write(tmp_path / "m")
    manifest_path = model_files(path) / fmt.MANIFEST
    text = manifest_path.read_text(encoding="utf-8")
    assert '"manifest_sha256"' in text
    # A change that leaves valid JSON and a plausible model: only the manifest's checksum can tell.
    changed = text.replace('"format_version": 2', '"format_version": 2, "lineage": {}', 1)
    assert changed != text
    manifest_path.write_text(changed, encoding="utf-8")
    for verify in (True, False):  # cheap, so checked with verify=False too
        with pytest.raises(ModelFormatError, match="the manifest changed since it was written"):
            fmt.open_model(path, verify=verify)


def test_a_manifest_written_before_its_checksum_holds_only_known_keys(tmp_path: Path) -> None:
    path = _write(tmp_path / "m")
    manifest_path = model_files(path) / fmt.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["manifest_sha256"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    fmt.open_model(path)  # as every release before the checksum wrote it
    manifest["qarameters"] = manifest.pop("parameters")  # one flipped bit in a key
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelFormatError, match="unknown key 'qarameters'"):
        fmt.open_model(path)
