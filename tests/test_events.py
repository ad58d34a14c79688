"""Readers' events: every problem of a batch named, batches stored whole and once, visitors never stored."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from recommender.feedback import (
    Event,
    EventsError,
    EventStore,
    InvalidEventsError,
    assign_variant,
    validate_batch,
)
from recommender.feedback.events import MAX_EVENTS, batch_id
from recommender.types import InvalidParameterError

DAY = 86_400.0
START = 1_796_000_000.0  # a fixed moment (2026-11-30 UTC), so days and retention are deterministic


def _event(**changes: Any) -> dict[str, Any]:
    event = {
        "type": "impression",
        "article_id": "page-1",
        "link_id": "link-1",
        "rank": 1,
        "reason": "similar",
        "visitor": "reader-42",
    }
    return {**event, **changes}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def test_a_good_batch_is_read_as_events() -> None:
    events = validate_batch({"events": [_event(), _event(type="click", rank=3, reason="fill:recent")]})
    assert events[1] == Event("click", "page-1", "link-1", 3, "fill:recent", None, "reader-42")
    assert validate_batch([_event(visitor=None)])[0].visitor is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"type": "view"}, "'type' must be 'impression' or 'click'"),
        ({"rank": 0}, "'rank' must be a whole number from 1"),
        ({"rank": True}, "'rank' must be a whole number"),
        ({"rank": "2"}, "'rank' must be a whole number"),
        ({"article_id": ""}, "'article_id' must be a non-empty string"),
        ({"link_id": "a\x1b[2Jb"}, "no control characters"),
        ({"link_id": "x" * 2000}, "at most 1024 characters"),
        ({"reason": "<script>"}, "'reason' must be a link's reason"),
        ({"variant": "b"}, "not one this server serves"),
        ({"visitor": 42}, "'visitor' must be a string"),
        ({"colour": "red"}, "unknown field(s) 'colour'"),
    ],
)
def test_each_bad_event_is_named_by_index_and_field(change: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidEventsError) as raised:
        validate_batch([_event(), _event(**change)])
    assert raised.value.problems[0].startswith("event 1: ")
    assert words in raised.value.problems[0]
    assert "nothing stored" in str(raised.value)


def test_every_problem_of_a_batch_is_listed() -> None:
    with pytest.raises(InvalidEventsError) as raised:
        validate_batch([_event(rank=-1), _event(), "not an object", _event(type="x")])
    assert [problem.split(":")[0] for problem in raised.value.problems] == ["event 0", "event 2", "event 3"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"events": "all of them"}, "must be a JSON list of events"),
        ([], "holds no events"),
        ([_event()] * (MAX_EVENTS + 1), f"at most {MAX_EVENTS} events"),
    ],
)
def test_a_malformed_batch_is_refused(body: object, words: str) -> None:
    with pytest.raises(InvalidParameterError, match=words):
        validate_batch(body)


def test_a_variant_must_be_one_the_server_serves() -> None:
    assert validate_batch([_event(variant="b")], variants=["a", "b"])[0].variant == "b"
    with pytest.raises(InvalidEventsError, match="not one this server serves: a, b"):
        validate_batch([_event(variant="c")], variants=["a", "b"])


def test_batch_ids_are_checked() -> None:
    assert batch_id({"batch": "3f2a9c1d77", "events": []}) == "3f2a9c1d77"
    assert batch_id([_event()]) is None
    with pytest.raises(InvalidParameterError, match="'batch' must be 8 to 64"):
        batch_id({"batch": "short"})


def test_variants_are_stable_and_split_as_asked() -> None:
    names, split = ["a", "b"], [30.0, 70.0]
    visitors = [f"visitor-{number}" for number in range(20_000)]
    first = [assign_variant(visitor, names, split) for visitor in visitors]
    assert first == [assign_variant(visitor, names, split) for visitor in visitors]
    share = first.count("a") / len(first)
    assert 0.28 < share < 0.32
    # Another experiment (other names) shuffles visitors afresh: about half change sides.
    other = [assign_variant(visitor, ["old", "new"], [50.0, 50.0]) for visitor in visitors]
    moved = sum((a == "a") != (o == "old") for a, o in zip(first, other, strict=True)) / len(visitors)
    assert 0.4 < moved < 0.6


def test_a_batch_is_stored_whole_and_once(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events.db") as store:
        events = validate_batch([_event(rank=rank) for rank in range(1, 6)])
        assert store.add(events, batch="page-view-0001").stored == 5
        again = store.add(events, batch="page-view-0001")
        assert again.duplicate
        assert again.stored == 0
        assert store.add(events).stored == 5  # without a batch id, nothing can tell a repeat
        assert store.count() == 10


def test_visitors_are_stored_only_as_a_hash_of_the_day(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "events.db"
    with EventStore(path, clock=clock) as store:
        store.add(validate_batch([_event(), _event(rank=2)]))
        clock.now += DAY
        store.add(validate_batch([_event()]))
        store.purge()
    connection = sqlite3.connect(path)
    hashes = [row[0] for row in connection.execute("SELECT visitor FROM events ORDER BY id")]
    salts = connection.execute("SELECT day FROM salts").fetchall()
    connection.close()
    assert hashes[0] == hashes[1]  # one visitor, one day: one unique visitor
    assert hashes[2] != hashes[0]  # the next day's salt: not linkable across days
    assert salts == [
        (time.strftime("%Y-%m-%d", time.gmtime(START + DAY)),)
    ]  # yesterday's salt is gone, so yesterday's hash is anonymous
    raw = b"".join(file.read_bytes() for file in tmp_path.iterdir())
    assert b"reader-42" not in raw


def test_events_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    clock = Clock()
    with EventStore(tmp_path / "events.db", retention_days=30, clock=clock) as store:
        store.add(validate_batch([_event()]))
        clock.now += 10 * DAY
        store.add(validate_batch([_event(), _event()]))
        clock.now += 25 * DAY  # the first event is 35 days old, the others 25
        assert store.purge() == 1
        assert store.count() == 2
    with pytest.raises(InvalidParameterError, match="retention must be a positive number"):
        EventStore(tmp_path / "other.db", retention_days=0)


def test_writers_in_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    stores = [EventStore(path) for _ in range(2)]  # two connections, as two server processes would have

    def send(store: EventStore, writer: int) -> None:
        for number in range(50):
            store.add(
                validate_batch([_event(rank=rank) for rank in range(1, 5)]), batch=f"w{writer}-b{number:04d}"
            )

    threads = [threading.Thread(target=send, args=(stores[writer % 2], writer)) for writer in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stores[0].count() == 6 * 50 * 4
    for store in stores:
        store.close()


def test_a_file_that_is_not_an_events_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(EventsError, match=r"notes\.db: cannot open the events database"):
        EventStore(path)
    assert path.read_text().startswith("these are my notes")  # nothing the user gave is touched
    with pytest.raises(EventsError, match="cannot open"):
        EventStore(tmp_path / "missing-folder" / "events.db")
