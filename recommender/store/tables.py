"""Byte tables of a model folder: strings as UTF-8 bytes and offsets, an id hash table, article records.

numpy and the standard library only; every table is a pair of ``.npy`` arrays that memory-map.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np

from ..types import ModelFormatError
from .names import ARTICLES, DATES, ID_TABLE, IDS, TITLES, URLS

_REBUILD = "rebuild the model (recommender build CORPUS -o MODEL_DIR)"

__all__ = ["IdTable", "Records", "StringTable", "tabulate"]


class StringTable:
    """A column of strings stored as UTF-8 bytes and offsets; row ``i`` is decoded on demand."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray, *, source: str = "a string table") -> None:
        # Plain views of the memory maps: np.memmap's subclass hooks cost microseconds per slice, and
        # a memoryview slices and decodes faster still.
        self.source = source
        self._data = data.view(np.ndarray)
        self._offsets = offsets.view(np.ndarray)
        # Opening checks what costs nothing (shape, kind, both ends); every row read checks its own
        # bounds, and a full decode checks that the offsets never fall: a million-row table opens
        # without touching its pages.
        if self._offsets.ndim != 1 or self._offsets.dtype.kind not in "iu" or self._offsets.shape[0] < 1:
            problem = "offsets are not a one-dimensional integer array"
            raise self._damaged(problem)
        if self._data.ndim != 1 or int(self._offsets[0]) != 0 or int(self._offsets[-1]) > self._data.shape[0]:
            problem = "offsets do not run from 0 to within the bytes"
            raise self._damaged(problem)
        self._buffer = memoryview(self._data.data) if self._data.size else memoryview(b"")
        self._offset = self._offsets.item
        self._size = self._data.shape[0]

    @staticmethod
    def encode(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(bytes, offsets)`` arrays for ``texts``."""
        encoded = [text.encode("utf-8") for text in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(item) for item in encoded], out=offsets[1:])
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets

    def __len__(self) -> int:
        return int(self._offsets.shape[0]) - 1

    def raw(self, row: int) -> memoryview:
        """The UTF-8 bytes of row ``row`` (a view)."""
        return self._buffer[self._offset(row) : self._offset(row + 1)]

    def __getitem__(self, row: int) -> str:
        start, stop = self._offset(row), self._offset(row + 1)
        if not 0 <= start <= stop <= self._size:
            problem = f"row {row} has offsets {start}..{stop}"
            raise self._damaged(problem)
        try:
            return str(self._buffer[start:stop], "utf-8")
        except UnicodeDecodeError:
            raise self._undecodable(row) from None

    def to_list(self) -> list[str]:
        """Every row, decoded (for the build side and full scans)."""
        blob = self._data.tobytes()
        if bool(np.any(self._offsets[1:] < self._offsets[:-1])):
            problem = "offsets fall somewhere"
            raise self._damaged(problem)
        bounds = self._offsets.tolist()
        try:
            return [blob[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(len(bounds) - 1)]
        except UnicodeDecodeError:
            bad = next(i for i in range(len(bounds) - 1) if not _decodes(blob[bounds[i] : bounds[i + 1]]))
            raise self._undecodable(bad) from None

    def _undecodable(self, row: int) -> ModelFormatError:
        return ModelFormatError(f"{self.source}: row {row} is not UTF-8 text (damaged file); {_REBUILD}")

    def _damaged(self, problem: str) -> ModelFormatError:
        return ModelFormatError(f"{self.source}: damaged string table ({problem}); {_REBUILD}")


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class IdTable:
    """Article id -> row, by open addressing over a CRC-32 hash, stored as one int32 array."""

    def __init__(self, ids: StringTable, table: np.ndarray) -> None:
        if table.ndim != 1 or table.dtype.kind not in "iu":
            raise _damaged_ids(ids)
        self._ids = ids
        self._count = len(ids)
        self._table = table.view(np.ndarray)
        self._slot = self._table.item
        self._mask = int(table.shape[0]) - 1

    @staticmethod
    def build(ids: list[str]) -> np.ndarray:
        """The hash table for ``ids`` (a power-of-two size at least twice their number; -1 is empty).

        Keys are placed in order of their home slot, each at its home or just after the key before it,
        so every key sits at the end of an unbroken run from its home slot: what a linear-probing lookup
        needs. Done with numpy; only keys pushed past the last slot wrap around one by one.
        """
        size = 1 << max(1, (2 * max(len(ids), 1) - 1).bit_length())
        table = np.full(size, -1, dtype=np.int32)
        mask = size - 1
        count = len(ids)
        if count == 0:
            return table
        homes = np.fromiter(
            (zlib.crc32(article_id.encode("utf-8")) & mask for article_id in ids), dtype=np.int64, count=count
        )
        order = np.argsort(homes, kind="stable")
        steps = np.arange(count, dtype=np.int64)
        places = np.maximum.accumulate(homes[order] - steps) + steps
        inside = places < size
        table[places[inside]] = order[inside]
        slot = 0
        for row in order[~inside].tolist():
            while table[slot] >= 0:
                slot += 1
            table[slot] = row
        return table

    @staticmethod
    def grow(table: np.ndarray, places: np.ndarray, keys: list[str]) -> np.ndarray | None:
        """``table`` after inserting ``keys`` at rows ``places`` (as ``np.insert`` places them: sorted,
        relative to the old rows, which move up), or None when it would be over half full (rebuild it).

        Each new key takes the first free slot from its home slot on, so every key still sits at the
        end of an unbroken run from its home, as a lookup needs.
        """
        occupied = int(np.count_nonzero(table >= 0))
        if 2 * (occupied + len(keys)) > table.shape[0]:
            return None
        places = np.asarray(places, dtype=np.int64)
        grown = np.asarray(table, dtype=np.int32).copy()
        filled = grown >= 0
        grown[filled] += np.searchsorted(places, grown[filled], side="right").astype(np.int32)
        mask = grown.shape[0] - 1
        for number, (place, key) in enumerate(zip(places.tolist(), keys, strict=True)):
            slot = zlib.crc32(key.encode("utf-8")) & mask
            while grown[slot] >= 0:
                slot = (slot + 1) & mask
            grown[slot] = place + number
        return grown

    def row(self, article_id: str) -> int | None:
        """The row of ``article_id``, or None."""
        key = article_id.encode("utf-8")
        slot = zlib.crc32(key) & self._mask
        while True:
            row: int = self._slot(slot)
            if row < 0:
                return None
            if row >= self._count:
                raise _damaged_ids(self._ids)
            if self._ids.raw(row) == key:
                return row
            slot = (slot + 1) & self._mask


def _damaged_ids(ids: StringTable) -> ModelFormatError:
    return ModelFormatError(f"{ids.source}: damaged id table (a slot names no row); {_REBUILD}")


class Records(Sequence[dict[str, Any]]):
    """Article records as a model stores them: JSON texts, plus title, date and url columns.

    A record is decoded only when asked for; :meth:`take` and :meth:`concat` move records as bytes, so
    an update carries every unchanged record forward without decoding or encoding it again.
    """

    #: The columns stored beside the JSON texts: (table name, record field).
    COLUMNS = ((TITLES, "title"), (DATES, "date"), (URLS, "url"))
    _TABLES = (ARTICLES, TITLES, DATES, URLS)

    def __init__(self, tables: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self._tables = {name: tables[name] for name in self._TABLES}
        self._texts = StringTable(*self._tables[ARTICLES])

    @classmethod
    def encode(cls, records: Sequence[Mapping[str, Any]]) -> Records:
        """Records from JSON-ready dicts."""
        texts = [json.dumps(record, ensure_ascii=False, allow_nan=False) for record in records]
        tables = {ARTICLES: StringTable.encode(texts)}
        for name, field in cls.COLUMNS:
            tables[name] = StringTable.encode([str(record.get(field) or "") for record in records])
        return cls(tables)

    @classmethod
    def read(cls, folder: Any) -> Records:
        """The records of a model folder (memory-mapped; version 1 folders are encoded once)."""
        if folder.version < 2:
            return cls.encode(folder.document(ARTICLES))
        return cls(
            {name: (folder.array(f"{name}_bytes"), folder.array(f"{name}_offsets")) for name in cls._TABLES}
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The ``<name>_bytes`` / ``<name>_offsets`` arrays a model folder stores."""
        arrays: dict[str, np.ndarray] = {}
        for name, (data, offsets) in self._tables.items():
            arrays[f"{name}_bytes"], arrays[f"{name}_offsets"] = data, offsets
        return arrays

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, row: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, row: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, row: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(row, slice):
            return [self[number] for number in range(*row.indices(len(self)))]
        if not -len(self) <= row < len(self):
            raise IndexError(row)
        record: dict[str, Any] = json.loads(self._texts[row % len(self)])
        return record

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(
            mine == theirs for mine, theirs in zip(self, other, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def column(self, field: str) -> list[str | None]:
        """The stored ``title``, ``date`` or ``url`` of every record (None when empty), without decoding."""
        name = {column: name for name, column in self.COLUMNS}[field]
        return [value or None for value in StringTable(*self._tables[name]).to_list()]

    def take(self, rows: np.ndarray) -> Records:
        """The given records, in that order, as bytes."""
        return Records(
            {name: _take_strings(*table, np.asarray(rows, np.int64)) for name, table in self._tables.items()}
        )

    def concat(self, other: Records) -> Records:
        """These records followed by ``other``'s."""
        tables = {}
        for name, (data, offsets) in self._tables.items():
            more_data, more_offsets = other._tables[name]
            tables[name] = (
                np.concatenate([np.asarray(data), np.asarray(more_data)]),
                np.concatenate([np.asarray(offsets), np.asarray(more_offsets)[1:] + offsets[-1]]),
            )
        return Records(tables)


def _take_strings(data: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a string table (its bytes and offsets), copied a run of consecutive rows at a time."""
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)[rows]
    taken = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=taken[1:])
    if rows.size == 0:
        return np.zeros(0, dtype=np.uint8), taken
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    starts = rows[np.concatenate([[0], breaks])]
    stops = rows[np.concatenate([breaks - 1, [rows.size - 1]])] + 1
    pieces = [
        data[offsets[start] : offsets[stop]]
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True)
    ]
    return np.concatenate(pieces).astype(np.uint8, copy=False), taken


def tabulate(arrays: dict[str, Any], documents: dict[str, Any]) -> None:
    """Turn the id and article lists into version-2 tables, and add the inverted index for queries."""
    if IDS in documents:
        ids = [str(article_id) for article_id in documents.pop(IDS)]
        arrays[f"{IDS}_bytes"], arrays[f"{IDS}_offsets"] = StringTable.encode(ids)
        arrays[ID_TABLE] = IdTable.build(ids)
    if ARTICLES in documents:
        articles = documents.pop(ARTICLES)
        arrays.update((articles if isinstance(articles, Records) else Records.encode(articles)).arrays())
