"""Writers and readers in separate processes: the lock serialises writers, readers see whole generations."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import store as fmt
from recommender.types import ModelLockedError

from .test_store import generations

_FORK = multiprocessing.get_context("fork")


def append(path: str, item: str, start: Any) -> None:
    """Read the current list of items, take a while, publish it with ``item`` added (in a child process)."""
    start.wait(10)
    with fmt.writer(path) as model:
        base = model.current()
        items = base.document("items") if base is not None else []
        time.sleep(0.3)  # the other writer is waiting for the lock meanwhile
        model.publish(arrays={}, documents={"items": [*items, item]}, parameters={}, counts={})


@pytest.mark.parametrize("base", [None, ["base"]])
def test_two_writers_at_once_both_publish_in_turn(tmp_path: Path, base: list[str] | None) -> None:
    path = tmp_path / "m"
    if base is not None:
        fmt.write_model(path, arrays={}, documents={"items": base}, parameters={}, counts={})
    start = _FORK.Event()
    writers = [_FORK.Process(target=append, args=(str(path), item, start)) for item in ("first", "second")]
    for process in writers:
        process.start()
    start.set()
    for process in writers:
        process.join(60)
    assert [process.exitcode for process in writers] == [0, 0]
    items = fmt.open_model(path).document("items")
    assert items[: len(base or [])] == (base or [])
    assert sorted(items[len(base or []) :]) == ["first", "second"]  # neither writer's item was lost
    numbers = [int(name.split("-")[1]) for name in generations(path)]
    assert numbers[-1] == (0 if base is None else 1) + 2  # one generation per writer, in turn


def hold(path: str, holding: Any, release: Any) -> None:
    with fmt.writer(path):
        holding.set()
        release.wait(30)


def test_no_wait_fails_at_once_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "m"
    fmt.write_model(path, arrays={}, documents={"items": []}, parameters={}, counts={})
    holding, release = _FORK.Event(), _FORK.Event()
    holder = _FORK.Process(target=hold, args=(str(path), holding, release))
    holder.start()
    try:
        assert holding.wait(30)
        started = time.perf_counter()
        with pytest.raises(ModelLockedError, match=rf"m: another writer \(pid {holder.pid}\) is updating"):
            fmt.write_model(path, arrays={}, documents={"items": [1]}, parameters={}, counts={}, wait=False)
        assert time.perf_counter() - started < 5
    finally:
        release.set()
        holder.join(30)
    assert fmt.open_model(path).document("items") == []
    fmt.write_model(path, arrays={}, documents={"items": [1]}, parameters={}, counts={}, wait=False)
    assert fmt.open_model(path).document("items") == [1]


def generation_parts(number: int) -> dict[str, Any]:
    """Parts whose every byte says which generation they belong to."""
    return {
        "arrays": {
            "flat": np.full(20_000, number, dtype=np.int32),
            "grid": np.full((400, 9), float(number)),
            "ramp": np.arange(5_000, dtype=np.int64) * 1_000 + number,
        },
        "documents": {"label": {"number": number}, "ids": [f"{number}-{row}" for row in range(50)]},
        "parameters": {"number": number},
        "counts": {"articles": 50},
    }


def publish_many(path: str, count: int, ready: Any) -> None:
    ready.wait(30)
    for number in range(1, count + 1):
        fmt.write_model(path, **generation_parts(number))


def read_whole(path: Path) -> int:
    """Open the model and read every part; the one generation number they all agree on."""
    with fmt.open_model(path, verify=True) as folder:
        number = int(folder.parameters["number"])
        expected = generation_parts(number)
        for name, array in expected["arrays"].items():
            assert np.array_equal(folder.array(name), array), name
        for name, document in expected["documents"].items():
            assert folder.document(name) == document, name
    return number


def test_readers_see_whole_generations_while_another_process_publishes(tmp_path: Path) -> None:
    path = tmp_path / "m"
    fmt.write_model(path, **generation_parts(0))
    ready = _FORK.Event()
    writer = _FORK.Process(target=publish_many, args=(str(path), 20, ready))
    writer.start()
    seen: list[int] = []
    errors: list[str] = []
    ready.set()
    while writer.is_alive() or not seen:
        try:
            seen.append(read_whole(path))
        except Exception as error:  # every failure is collected and reported
            errors.append(f"{type(error).__name__}: {error}")
    writer.join(60)
    assert writer.exitcode == 0
    assert errors == []
    assert seen == sorted(seen)  # never an older generation after a newer one
    assert len(set(seen)) > 1
    assert read_whole(path) == 20
    assert os.path.exists(path / "LOCK")
