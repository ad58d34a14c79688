"""The model folder on disk: file names, format version, manifest, atomic write and checked read.

A model is a folder holding ``manifest.json`` (format, versions, parameters, counts and a SHA-256 per
file), JSON documents and ``.npy`` arrays. Nothing is pickled, arrays can be memory-mapped, and a write
lands in a temporary sibling folder that replaces the target in one rename. numpy and stdlib only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from ._version import __version__
from .types import ModelFormatError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST",
    "READABLE_VERSIONS",
    "IdTable",
    "ModelFolder",
    "Records",
    "StringTable",
    "open_model",
    "write_model",
]

FORMAT_NAME = "recommender-model"
FORMAT_VERSION = 2
#: Versions this library reads. Version 1 kept ids and article metadata as JSON lists; version 2 keeps
#: them as byte tables (``.npy``) with an id hash table, so a million-article model opens in milliseconds.
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
_REBUILD = "rebuild it with: recommender build CORPUS -o {path}"
_CHUNK = 1 << 20


def write_model(
    path: str | os.PathLike[str],
    *,
    arrays: Mapping[str, np.ndarray],
    documents: Mapping[str, Any],
    parameters: Mapping[str, Any],
    counts: Mapping[str, int],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a complete model folder at ``path`` atomically and return its path.

    ``arrays`` maps names to arrays saved as ``<name>.npy``; ``documents`` maps names to JSON data saved
    as ``<name>.json``; ``extra`` adds keys to the manifest (such as ``lineage``). An existing model
    folder at ``path`` is replaced whole; any other non-empty
    folder is refused rather than overwritten.
    """
    arrays = dict(arrays)
    documents = dict(documents)
    _tabulate(arrays, documents)
    target = Path(path)
    if target.exists() and not target.is_dir():
        message = f"{target}: exists and is not a folder; choose another output path"
        raise ModelFormatError(message)
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        message = f"{target}: folder is not empty and holds no model; refusing to overwrite it"
        raise ModelFormatError(message)
    parent = target.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a model folder is meant to be read by servers
        files: dict[str, dict[str, Any]] = {}
        for name, array in arrays.items():
            file_name = f"{name}.npy"
            with (staging / file_name).open("wb") as handle:
                np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
                _sync(handle)
            files[file_name] = _describe(staging / file_name)
        for name, document in documents.items():
            file_name = f"{name}.json"
            _write_json(staging / file_name, document, indent=None)
            files[file_name] = _describe(staging / file_name)
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "parameters": dict(parameters),
            "counts": dict(counts),
            **dict(extra or {}),
            "files": dict(sorted(files.items())),
        }
        _write_json(staging / MANIFEST, manifest, indent=2)
        _replace_folder(staging, target.resolve())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _replace_folder(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _write_json(path: Path, data: Any, *, indent: int | None) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text + "\n")
        _sync(handle)


def _sync(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _describe(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ModelFolder:
    """A model folder whose manifest has been read and checked; hands out its arrays and documents."""

    def __init__(self, path: Path, manifest: dict[str, Any], *, mmap: bool) -> None:
        self.path = path
        self.manifest = manifest
        self._mmap = mmap

    @property
    def parameters(self) -> dict[str, Any]:
        """The build settings recorded in the manifest."""
        parameters: dict[str, Any] = self.manifest.get("parameters", {})
        return parameters

    @property
    def counts(self) -> dict[str, int]:
        """Sizes recorded in the manifest (articles, terms, neighbours per article, ...)."""
        counts: dict[str, int] = self.manifest.get("counts", {})
        return counts

    def array(self, name: str) -> np.ndarray:
        """The array ``<name>.npy``, memory-mapped read-only unless the folder was opened with mmap=False."""
        file_path = self._file(f"{name}.npy")
        try:
            array: np.ndarray = np.load(file_path, mmap_mode="r" if self._mmap else None, allow_pickle=False)
        except (ValueError, OSError) as error:
            message = f"{file_path}: unreadable array ({error}); {_REBUILD.format(path=self.path)}"
            raise ModelFormatError(message) from None
        return array

    @property
    def version(self) -> int:
        """The folder's format version."""
        return int(self.manifest["format_version"])

    def has(self, name: str) -> bool:
        """Whether the folder holds ``<name>.npy`` or ``<name>.json``."""
        files = self.manifest["files"]
        return f"{name}.npy" in files or f"{name}.json" in files

    def strings(self, name: str) -> StringTable:
        """The string table ``<name>`` (``<name>_bytes.npy`` + ``<name>_offsets.npy``), memory-mapped."""
        return StringTable(self.array(f"{name}_bytes"), self.array(f"{name}_offsets"))

    def document(self, name: str) -> Any:
        """The parsed JSON document ``<name>.json`` (ids and articles: from their tables in version 2)."""
        if self.version >= 2 and name == IDS:
            return self.strings(IDS).to_list()
        if self.version >= 2 and name == ARTICLES:
            return [json.loads(text) for text in self.strings(ARTICLES).to_list()]
        file_path = self._file(f"{name}.json")
        try:
            return json.loads(file_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:
            message = f"{file_path}: unreadable JSON ({error}); {_REBUILD.format(path=self.path)}"
            raise ModelFormatError(message) from None

    def _file(self, file_name: str) -> Path:
        if file_name not in self.manifest["files"]:
            message = f"{self.path}: the manifest lists no {file_name}; {_REBUILD.format(path=self.path)}"
            raise ModelFormatError(message)
        return self.path / file_name


def open_model(path: str | os.PathLike[str], *, verify: bool = True, mmap: bool = True) -> ModelFolder:
    """Open and check a model folder: manifest, format version, every listed file and its checksum.

    ``verify=False`` skips the SHA-256 pass (sizes are still checked) for the fastest serving start.
    """
    folder = Path(path)
    rebuild = _REBUILD.format(path=folder)
    if not folder.is_dir():
        message = f"{folder}: no such model folder; build one with: recommender build CORPUS -o {folder}"
        raise ModelFormatError(message)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        message = f"{folder}: not a recommender model (no {MANIFEST}); {rebuild}"
        raise ModelFormatError(message)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        message = f"{manifest_path}: corrupt manifest ({error}); {rebuild}"
        raise ModelFormatError(message) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        message = f"{folder}: not a recommender model (manifest format is not {FORMAT_NAME!r}); {rebuild}"
        raise ModelFormatError(message)
    version = manifest.get("format_version")
    if version not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        message = (
            f"{folder}: model format version {version!r} is not supported by this library "
            f"(it reads versions {readable}); {rebuild}"
        )
        raise ModelFormatError(message)
    files = manifest.get("files")
    if not isinstance(files, dict):
        message = f"{manifest_path}: corrupt manifest (no file list); {rebuild}"
        raise ModelFormatError(message)
    for file_name, expected in files.items():
        file_path = folder / file_name
        if not file_path.is_file():
            message = f"{file_path}: missing from the model folder; {rebuild}"
            raise ModelFormatError(message)
        if file_path.stat().st_size != expected.get("bytes"):
            message = f"{file_path}: size differs from the manifest (file changed or truncated); {rebuild}"
            raise ModelFormatError(message)
        if verify and _sha256(file_path) != expected.get("sha256"):
            message = f"{file_path}: checksum mismatch (file changed or corrupt); {rebuild}"
            raise ModelFormatError(message)
    return ModelFolder(folder, manifest, mmap=mmap)


# Names of the parts of a model folder (without extension), shared by the writer and the readers.
IDS = "ids"
ARTICLES = "articles"
ANALYZER = "analyzer"
VOCABULARY = "vocabulary"
IDF = "idf"
VECTORS_DATA = "vectors_data"
VECTORS_INDICES = "vectors_indices"
VECTORS_INDPTR = "vectors_indptr"
NEIGHBORS = "neighbors"
SCORES = "scores"

TITLES = "titles"
DATES = "dates"
URLS = "urls"
ID_TABLE = "id_table"


class StringTable:
    """A column of strings stored as UTF-8 bytes and offsets; row ``i`` is decoded on demand."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        # Plain views of the memory maps: np.memmap's subclass hooks cost microseconds per slice, and
        # a memoryview slices and decodes faster still.
        self._data = data.view(np.ndarray)
        self._offsets = offsets.view(np.ndarray)
        self._buffer = memoryview(self._data.data) if self._data.size else memoryview(b"")
        self._offset = self._offsets.item

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
        return str(self._buffer[self._offset(row) : self._offset(row + 1)], "utf-8")

    def to_list(self) -> list[str]:
        """Every row, decoded (for the build side and full scans)."""
        blob = self._data.tobytes()
        bounds = self._offsets.tolist()
        return [blob[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(len(bounds) - 1)]


class IdTable:
    """Article id -> row, by open addressing over a CRC-32 hash, stored as one int32 array."""

    def __init__(self, ids: StringTable, table: np.ndarray) -> None:
        self._ids = ids
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
            if self._ids.raw(row) == key:
                return row
            slot = (slot + 1) & self._mask


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
    def read(cls, folder: ModelFolder) -> Records:
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


def _tabulate(arrays: dict[str, np.ndarray], documents: dict[str, Any]) -> None:
    """Turn the id and article lists into version-2 tables, and add the inverted index for queries."""
    if IDS in documents:
        ids = [str(article_id) for article_id in documents.pop(IDS)]
        arrays[f"{IDS}_bytes"], arrays[f"{IDS}_offsets"] = StringTable.encode(ids)
        arrays[ID_TABLE] = IdTable.build(ids)
    if ARTICLES in documents:
        articles = documents.pop(ARTICLES)
        arrays.update((articles if isinstance(articles, Records) else Records.encode(articles)).arrays())
