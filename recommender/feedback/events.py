"""Readers' impressions and clicks on the links: validated, and stored in SQLite without identifying anyone.

An event says that a link was shown (``impression``) or followed (``click``) on an article's page: ``{type,
article_id, link_id, rank, reason, variant, visitor}``. :func:`validate_batch` checks a batch from a page
(every problem named by its index and field); :class:`EventStore` keeps them in a SQLite database in WAL
mode, one transaction per batch, so a batch is stored whole or not at all, and a batch id sent again (a
page's retry) is not stored twice. No IP address is kept and no visitor id: only a hash of it with a salt
of the day, which is deleted when the day is over, so a stored hash can count a day's unique visitors but
not be traced back to anyone, nor be linked across days. Events older than the retention are deleted.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text.printable import encodable
from ..types import InvalidParameterError, RecommenderError

__all__ = [
    "EVENT_FIELDS",
    "EVENT_TYPES",
    "MAX_EVENTS",
    "Event",
    "EventStore",
    "EventsError",
    "InvalidEventsError",
    "StoredBatch",
    "assign_variant",
    "reading",
    "validate_batch",
]

EVENT_TYPES = ("impression", "click")
EVENT_FIELDS = ("type", "article_id", "link_id", "rank", "reason", "variant", "visitor")
#: The most events one request may carry (a page sends a few; a larger batch is a client's bug or abuse).
MAX_EVENTS = 500
FORMAT = 1
_MAX_ID = 1024
_MAX_RANK = 1000
_REASON = re.compile(r"[a-z][a-z0-9_-]{0,31}(:[a-z0-9_-]{1,32})?")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    day TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('impression', 'click')),
    article_id TEXT NOT NULL,
    link_id TEXT NOT NULL,
    rank INTEGER NOT NULL,
    reason TEXT NOT NULL,
    variant TEXT,
    visitor TEXT
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (time);
CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, time REAL NOT NULL, events INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS salts (day TEXT PRIMARY KEY, salt BLOB NOT NULL);
"""
_DAY = 86_400.0
_PURGE_EVERY = 3_600.0


class EventsError(RecommenderError):
    """The events database cannot be opened, read or written."""


class InvalidEventsError(InvalidParameterError):
    """A batch with at least one bad event: ``problems`` names each (index, field, what is wrong)."""

    def __init__(self, problems: Sequence[str]) -> None:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        super().__init__(f"{len(problems)} problem(s) in the batch, nothing stored: {shown}")
        self.problems = list(problems)


@dataclass(frozen=True)
class Event:
    """One impression or click, as a page reports it (the visitor id still raw: the store hashes it)."""

    type: str
    article_id: str
    link_id: str
    rank: int
    reason: str
    variant: str | None = None
    visitor: str | None = None


@dataclass(frozen=True)
class StoredBatch:
    """What one ``add`` did: events stored (0 for a batch id seen before) and whether it was a repeat."""

    stored: int
    duplicate: bool = False


def validate_batch(
    data: object, *, variants: Sequence[str] = (), max_events: int = MAX_EVENTS
) -> list[Event]:
    """The events of a page's batch (``{"events": [...], "batch": ID}`` or a bare list), each checked.

    ``variants`` are the names a server serves; an event's ``variant`` must be one of them (or absent).
    Any problem rejects the whole batch (:class:`InvalidEventsError`, every problem named), so that a
    page's batch is counted whole or not at all.
    """
    items = data.get("events") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        message = "the body must be a JSON list of events, or an object with 'events' (a list)"
        raise InvalidParameterError(message)
    if not items:
        msg = "the batch holds no events"
        raise InvalidParameterError(msg)
    if len(items) > max_events:
        message = f"a batch may hold at most {max_events} events, this one holds {len(items)}"
        raise InvalidParameterError(message)
    events, problems = [], []
    for number, item in enumerate(items):
        try:
            events.append(_event(item, variants))
        except ValueError as error:
            problems.append(f"event {number}: {error}")
    if problems:
        raise InvalidEventsError(problems)
    return events


def batch_id(data: object) -> str | None:
    """The batch's id for retries (``"batch"``: 8 to 64 letters, digits, ``-_.``), if it has one."""
    if not isinstance(data, Mapping) or data.get("batch") is None:
        return None
    given = data["batch"]
    if not isinstance(given, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{8,64}", given):
        message = f"'batch' must be 8 to 64 letters, digits, '-', '_' or '.', got {given!r:.80}"
        raise InvalidParameterError(message)
    return given


def _event(item: object, variants: Sequence[str]) -> Event:
    if not isinstance(item, Mapping):
        message = f"must be an object, got {type(item).__name__}"
        raise ValueError(message)
    unknown = sorted(set(item) - set(EVENT_FIELDS))
    if unknown:
        message = f"unknown field(s) {', '.join(map(repr, unknown))}; known: {', '.join(EVENT_FIELDS)}"
        raise ValueError(message)
    kind = item.get("type")
    if kind not in EVENT_TYPES:
        message = f"'type' must be 'impression' or 'click', got {kind!r:.80}"
        raise ValueError(message)
    article_id, link_id = _text(item, "article_id"), _text(item, "link_id")
    rank = item.get("rank")
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= _MAX_RANK:
        message = f"'rank' must be a whole number from 1 to {_MAX_RANK}, got {rank!r:.80}"
        raise ValueError(message)
    reason = item.get("reason", "similar")
    if not isinstance(reason, str) or not _REASON.fullmatch(reason):
        message = f"'reason' must be a link's reason (similar, pinned, fill:recent…), got {reason!r:.80}"
        raise ValueError(message)
    variant = item.get("variant")
    if variant is not None and (not isinstance(variant, str) or not _NAME.fullmatch(variant)):
        message = f"'variant' must be a short name (letters, digits, '_', '-', '.'), got {variant!r:.80}"
        raise ValueError(message)
    if variant is not None and variant not in variants:
        served = ", ".join(variants) if variants else "none (this server runs no experiment)"
        message = f"'variant' {variant!r} is not one this server serves: {served}"
        raise ValueError(message)
    visitor = item.get("visitor")
    if visitor is not None and (not isinstance(visitor, str) or not 1 <= len(visitor) <= 128):
        message = f"'visitor' must be a string of 1 to 128 characters, got {visitor!r:.80}"
        raise ValueError(message)
    if visitor is not None and not encodable(visitor):
        message = "'visitor' must be valid Unicode text (it holds a lone surrogate)"
        raise ValueError(message)
    return Event(str(kind), article_id, link_id, rank, reason, variant, visitor)


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        message = f"{name!r} must be a non-empty string, got {value!r:.80}"
        raise ValueError(message)
    if len(value) > _MAX_ID or _CONTROL.search(value):
        message = f"{name!r} must be at most {_MAX_ID} characters with no control characters"
        raise ValueError(message)
    if not encodable(value):
        message = f"{name!r} must be valid Unicode text (it holds a lone surrogate)"
        raise ValueError(message)
    return value


def assign_variant(visitor: str, names: Sequence[str], split: Sequence[float]) -> str:
    """The variant a visitor sees, always the same for the same visitor and experiment.

    ``split`` gives each variant's share in percent (summing to 100). The bucket is a hash of the
    experiment (its variant names) and the visitor id, so a visitor stays in one variant while the
    experiment runs, and a new experiment shuffles everyone afresh.
    """
    digest = hashlib.sha256(("\x1f".join(names) + "\x1e" + visitor).encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64 * 100.0
    edge = 0.0
    for name, share in zip(names, split, strict=True):
        edge += share
        if bucket < edge:
            return name
    return names[-1]


class EventStore:
    """A SQLite database of events (WAL mode; safe to share between threads and server processes).

    ``retention_days`` (default 90; ``None`` keeps everything) is how long events are kept: older ones
    are deleted as new ones come in, at most once an hour. ``clock`` gives the time in seconds (tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention_days: float | None = 90.0,
        clock: Any = time.time,
    ) -> None:
        if retention_days is not None and not (math.isfinite(retention_days) and retention_days > 0):
            message = f"the events' retention must be a positive number of days, got {retention_days!r}"
            raise InvalidParameterError(message)
        self.path = Path(path)
        self.retention_days = retention_days
        self._clock = clock
        self._lock = threading.Lock()
        self._purged = -math.inf
        try:
            # Transactions are begun and ended here (isolation_level=None), one per batch.
            self._connection = sqlite3.connect(
                self.path, timeout=30.0, check_same_thread=False, isolation_level=None
            )
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            with self._writing() as connection:
                connection.executescript(_SCHEMA)
                row = connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if row is None:
                    connection.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT),))
                elif row[0] != str(FORMAT):
                    message = f"{self.path}: events database format {row[0]}, this library reads {FORMAT}"
                    raise EventsError(message)
        except sqlite3.Error as error:
            msg = f"{self.path}: cannot open the events database ({error})"
            raise EventsError(msg) from None

    def close(self) -> None:
        """Close the database (events already added are stored)."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``): writers queue, never fail late."""
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    def add(self, events: Sequence[Event], *, batch: str | None = None) -> StoredBatch:
        """Store ``events`` in one transaction; a ``batch`` id stored before makes this a no-op."""
        now = float(self._clock())
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        try:
            with self._writing() as connection:
                if batch is not None:
                    seen = connection.execute("SELECT 1 FROM batches WHERE id = ?", (batch,)).fetchone()
                    if seen is not None:
                        return StoredBatch(0, duplicate=True)
                    connection.execute("INSERT INTO batches VALUES (?, ?, ?)", (batch, now, len(events)))
                salt = self._salt(connection, day) if any(event.visitor for event in events) else b""
                connection.executemany(
                    "INSERT INTO events (time, day, type, article_id, link_id, rank, reason, variant,"
                    " visitor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            now,
                            day,
                            event.type,
                            event.article_id,
                            event.link_id,
                            event.rank,
                            event.reason,
                            event.variant,
                            _hashed(salt, event.visitor) if event.visitor else None,
                        )
                        for event in events
                    ],
                )
                if now - self._purged >= _PURGE_EVERY:
                    self._purge(connection, now, day)
        except sqlite3.Error as error:
            msg = f"{self.path}: cannot store events ({error})"
            raise EventsError(msg) from None
        return StoredBatch(len(events))

    def count(self) -> int:
        """How many events the database holds."""
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def purge(self) -> int:
        """Delete the events older than the retention (and past days' salts) now; how many were deleted."""
        now = float(self._clock())
        with self._writing() as connection:
            return self._purge(connection, now, time.strftime("%Y-%m-%d", time.gmtime(now)))

    def _salt(self, connection: sqlite3.Connection, day: str) -> bytes:
        connection.execute("INSERT OR IGNORE INTO salts VALUES (?, ?)", (day, secrets.token_bytes(16)))
        return bytes(connection.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()[0])

    def _purge(self, connection: sqlite3.Connection, now: float, day: str) -> int:
        self._purged = now
        connection.execute("DELETE FROM salts WHERE day < ?", (day,))  # yesterday's hashes stay anonymous
        connection.execute("DELETE FROM batches WHERE time < ?", (now - _DAY,))
        if self.retention_days is None:
            return 0
        return connection.execute(
            "DELETE FROM events WHERE time < ?", (now - self.retention_days * _DAY,)
        ).rowcount


@contextmanager
def reading(database: str | os.PathLike[str]) -> Iterator[sqlite3.Connection]:
    """A read-only connection to an events database (a server may be writing it meanwhile); every
    failure is an :class:`EventsError` naming the file."""
    path = Path(database)
    if not path.is_file():
        message = f"{path}: no events database there"
        raise EventsError(message)
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        message = f"{path}: cannot open the events database ({error})"
        raise EventsError(message) from None
    try:
        yield connection
    except sqlite3.Error as error:
        message = f"{path}: cannot read the events database ({error})"
        raise EventsError(message) from None
    finally:
        connection.close()


def _hashed(salt: bytes, visitor: str) -> str:
    return hashlib.sha256(salt + visitor.encode("utf-8")).hexdigest()[:16]
