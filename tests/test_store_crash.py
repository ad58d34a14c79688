"""A writer killed at every filesystem step of a publish leaves a whole model current, and the rerun succeeds.

Each case forks a child that runs the writer with a step hook ending the process (``os._exit``) just
before step N, for every N of that publish (counted first with a recording hook).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from recommender import store as fmt
from recommender.store.layout import POINTER_TEMP, STAGING
from recommender.types import ModelFormatError

from .conftest import GOLDEN, KILLED, killed_at, recorded_steps
from .test_store import assert_holds, generations, legacy_copy, publish

_GOLDEN_FILES = set(json.loads((GOLDEN / "manifest.json").read_text())["files"])


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kill, unlike a power cut, loses nothing fsync would keep: skip the disk waits (the steps remain)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def assert_golden(folder: fmt.ModelFolder) -> None:
    """The folder holds the golden model's content (whatever its format version)."""
    for name in ("ids", "articles", "vocabulary", "analyzer"):
        assert folder.document(name) == json.loads((GOLDEN / f"{name}.json").read_text()), name
    for name in ("idf", "neighbors", "scores", "vectors_data", "vectors_indices", "vectors_indptr"):
        assert np.array_equal(folder.array(name), np.load(GOLDEN / f"{name}.npy")), name


def nothing(path: Path) -> None:
    """A new path: no model before the publish."""


def two_generations(path: Path) -> None:
    publish(path, 1)
    publish(path, 2)


def leftovers(path: Path) -> None:
    """Two generations plus what crashed writers leave: a staging folder, a pointer temp, an orphan."""
    two_generations(path)
    (path / ".staging-000003-0123abcd").mkdir()
    (path / ".staging-000003-0123abcd" / "marker.npy").write_bytes(b"half written")
    (path / ".CURRENT-0123abcd.tmp").write_text("gen-000003-0123abcd\n")
    shutil.copytree(path / str(fmt.current_generation(path)), path / "gen-000003-0123abcd")


def legacy(path: Path) -> None:
    shutil.copytree(legacy_copy(path.parent), path)


def expect_marker(marker: int | None) -> Callable[[Path], None]:
    """A check that the current model is the one ``publish(..., marker)`` wrote (None: no model at all)."""

    def check(path: Path) -> None:
        if marker is None:
            with pytest.raises(ModelFormatError):
                fmt.open_model(path)
            return
        with fmt.open_model(path, verify=True) as folder:
            assert_holds(folder, marker)

    return check


def expect_golden(version: int) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        with fmt.open_model(path, verify=True) as folder:
            assert folder.version == version
            assert (folder.generation is None) == (version == 1)
            assert_golden(folder)

    return check


# name: (set up the path, the writer, the model before, the model after)
CASES = {
    "new path": (nothing, lambda path: publish(path, 3), expect_marker(None), expect_marker(3)),
    "generations": (two_generations, lambda path: publish(path, 3), expect_marker(2), expect_marker(3)),
    "crash leftovers": (leftovers, lambda path: publish(path, 3), expect_marker(2), expect_marker(3)),
    "legacy flat folder": (legacy, lambda path: publish(path, 3), expect_golden(1), expect_marker(3)),
    "legacy upgrade": (legacy, fmt.upgrade, expect_golden(1), expect_golden(fmt.FORMAT_VERSION)),
}


def steps_of(tmp_path: Path, setup: Callable[[Path], None], write: Callable[[Path], object]) -> list[str]:
    """The steps ``write`` takes on a model path prepared by ``setup``."""
    path = tmp_path / "recorded" / "m"
    path.parent.mkdir()
    setup(path)
    return recorded_steps(lambda: write(path))


@pytest.mark.parametrize("case", list(CASES))
def test_a_kill_at_every_step_leaves_a_whole_model(tmp_path: Path, case: str) -> None:
    setup, write, before, after = CASES[case]
    labels = steps_of(tmp_path, setup, write)
    switch = labels.index(f"replace {fmt.POINTER}")
    assert labels[switch - 1].startswith("write .CURRENT-")
    for number, label in enumerate(labels):
        path = tmp_path / f"killed-{number}" / "m"
        path.parent.mkdir()
        setup(path)
        assert killed_at(number, lambda path=path: write(path)) == KILLED, label
        (after if number > switch else before)(path)
        write(path)  # the rerun, without the hook
        after(path)
        names = os.listdir(path)
        assert not [name for name in names if STAGING.fullmatch(name) or POINTER_TEMP.fullmatch(name)], label
        assert len(generations(path)) <= 2, label
        assert not _GOLDEN_FILES & set(names), label
        shutil.rmtree(path.parent)
