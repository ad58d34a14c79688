"""Structural checks of a model's arrays: a damaged folder opened with ``verify=False`` gives a
ModelFormatError (or an answer), never another exception."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from recommender import Index
from recommender.types import ModelFormatError, RecommenderError

from .conftest import model_files, write_manifest

DRAFT = "Gas pipelines, sanctions and the Caspian route to Europe"


def _use_everything(path: Path, *, verify: bool) -> None:
    index = Index.load(path, verify=verify)
    ids = index.ids
    for article_id in ids[:10]:
        index.related(article_id, k=8)
        index.related(article_id, k=40)  # past the stored lists: the engine's own search
    index.related(ids[0], k=5, explain=True)
    index.query(DRAFT, k=5)
    list(index.related_many(None, k=3))


def _rewritten(path: Path, name: str, change: object) -> None:
    """Replace the array ``name`` of the current generation by ``change(array)``; the manifest records
    the new size (so that only the checksum tells)."""
    file = model_files(path) / f"{name}.npy"
    changed = change(np.load(file))  # type: ignore[operator]
    file.unlink()
    np.save(file, changed)
    manifest_path = model_files(path) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"][file.name]["bytes"] = file.stat().st_size
    write_manifest(manifest_path, manifest)


@pytest.fixture
def model(tmp_path: Path, bundled_model_dir: Path) -> Path:
    path = tmp_path / "m"
    shutil.copytree(bundled_model_dir, path)
    return path


@pytest.mark.parametrize(
    ("name", "change", "match"),
    [
        # The two cases: one flipped byte made numpy try to allocate 512 TiB, another an IndexError.
        ("vectors_indptr", lambda a: np.where(np.arange(a.size) == 5, a + (1 << 40), a), "falls somewhere"),
        ("vectors_indptr", lambda a: np.where(np.arange(a.size) == 0, 3, a), "does not start at 0"),
        ("vectors_indices", lambda a: np.where(np.arange(a.size) == 7, 1 << 26, a), "outside \\[0, "),
        ("neighbors", lambda a: np.where(a == a.flat[3], 1 << 20, a), "outside \\[-1, "),
        ("neighbors", lambda a: a[:-1], "rows where the manifest counts"),
        ("scores", lambda a: a.astype(np.int32), "not a float array"),
        ("query_postings_rows", lambda a: -a - 1, "outside \\[0, "),
        ("id_table", lambda a: np.where(a >= 0, a + 10_000, a), "damaged id table"),
        ("titles_offsets", lambda a: a[::-1].copy(), "damaged string table"),
        ("titles_offsets", lambda a: np.where(np.arange(a.size) == 4, a[-1] + 10, a), r"row \d+ has offsets"),
        ("vector_forms", lambda a: a + 1_000_000, "vector_forms.npy: damaged array .holds"),
    ],
)
def test_a_damaged_array_is_a_format_error_naming_it(
    model: Path, name: str, change: object, match: str
) -> None:
    _rewritten(model, name, change)
    with pytest.raises(ModelFormatError, match=match):
        _use_everything(model, verify=False)
    with pytest.raises(ModelFormatError, match="checksum mismatch"):
        _use_everything(model, verify=True)


def test_undecodable_text_is_a_format_error(model: Path) -> None:
    file = model_files(model) / "titles_bytes.npy"
    data = bytearray(file.read_bytes())
    data[-3] = 0xFF  # never valid in UTF-8
    file.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match=r"titles_\*\.npy: row \d+ is not UTF-8 text"):
        _use_everything(model, verify=False)


def test_random_byte_flips_give_a_recommender_error_or_an_answer(
    model: Path, tmp_path: Path, bundled_model_dir: Path
) -> None:
    rng = random.Random(12)
    files = sorted(model_files(model).glob("*.npy"))
    assert len(files) > 20
    outcomes = {"error": 0, "answer": 0}
    for file in files:
        size = file.stat().st_size
        for trial in range(4):
            work = tmp_path / f"w-{file.stem}-{trial}"
            shutil.copytree(bundled_model_dir, work)
            target = model_files(work) / file.name
            data = bytearray(target.read_bytes())
            where = (
                rng.randrange(min(size, 128)) if trial < 2 else rng.randrange(size)
            )  # header, then anywhere
            data[where] ^= 1 << rng.randrange(8)
            target.write_bytes(bytes(data))
            try:
                _use_everything(work, verify=False)
            except RecommenderError:
                outcomes["error"] += 1
            else:
                outcomes["answer"] += 1
            with pytest.raises(ModelFormatError, match="checksum mismatch"):
                Index.load(work, verify=True)
            shutil.rmtree(work)
    assert outcomes["error"] > 0
    assert outcomes["answer"] > 0


def test_shifted_row_bounds_give_a_format_error_when_explaining(model: Path) -> None:
    """Found by the model-loader fuzzing: a flipped bit kept vectors_indptr monotone and in range but moved
    a row's end into the next row, so the row's terms no longer increase: explain raised IndexError."""
    row = 4
    _rewritten(model, "vectors_indptr", lambda a: np.where(np.arange(a.size) == row + 1, a + 1, a))
    damaged = Index.load(model, verify=False)
    with pytest.raises(
        ModelFormatError, match=rf"vectors_indices\.npy: row {row}'s terms are not in increasing"
    ):
        damaged.related(damaged.ids[row], k=5, explain=True)


def test_a_changed_json_document_is_caught_without_verify(model: Path) -> None:
    """Found by the model-loader fuzzing: one flipped bit in a key of query.json gave a KeyError."""
    file = model_files(model) / "query.json"
    text = file.read_text(encoding="utf-8")
    assert '"vocabulary_size"' in text
    file.write_text(text.replace('"vocabulary_size"', '"vocabulary_sizf"'), encoding="utf-8")  # same size
    with pytest.raises(ModelFormatError, match=r"query\.json: checksum mismatch"):
        Index.load(model, verify=False).query(DRAFT, k=5)
