"""Embed once: sentence vectors kept on disk by encoder fingerprint and text hash (numpy and the stdlib).

A cache folder holds one folder per encoder (its fingerprint), and in it append-only shards: a
``<name>.keys.npy`` of 32-byte SHA-256 text keys and a ``<name>.vectors.npy`` of their float32 rows. A
writer writes both files under temporary names and renames them into place, vectors first, so a reader
sees a shard whole or not at all and two writers never overwrite each other's work. When shards pile up
they are merged into one; only shards read into the merge (files this cache wrote, by their names) are
removed, after the merged one is in place.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_FOLDER", "VectorCache", "default_folder"]

#: Where the cache lives unless ``RECOMMENDER_CACHE`` or the caller says otherwise.
DEFAULT_FOLDER = "~/.cache/recommender"
_KEYS = ".keys.npy"
_VECTORS = ".vectors.npy"
_PREFIX = "shard-"
#: Shards beyond this many are merged into one when the cache is next written.
_MAX_SHARDS = 16


def default_folder() -> Path:
    """``$RECOMMENDER_CACHE``, else ``$XDG_CACHE_HOME/recommender``, else ``~/.cache/recommender``."""
    if os.environ.get("RECOMMENDER_CACHE"):
        return Path(os.environ["RECOMMENDER_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "recommender"
    return Path(DEFAULT_FOLDER).expanduser()


class VectorCache:
    """The vectors one encoder made, by text key (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike[str], fingerprint: str, dimension: int) -> None:
        self.folder = Path(folder).expanduser() / "semantic" / fingerprint
        self.dimension = dimension
        # Every key read so far and where its row is (built on the first lookup, kept up to date by add).
        self._index: dict[bytes, tuple[int, int]] | None = None
        self._vectors: list[np.ndarray] = []

    def lookup(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Which ``keys`` the cache holds (a boolean per key) and their rows (zeros where not held)."""
        found = np.zeros(len(keys), dtype=bool)
        vectors = np.zeros((len(keys), self.dimension), dtype=np.float32)
        if not keys:
            return found, vectors
        if self._index is None:
            self._index = {}
            self._vectors = []
            for shard_keys, shard_vectors in self._shards():
                self._remember(shard_keys, shard_vectors)
        for place, key in enumerate(keys):
            where = self._index.get(key)
            if where is not None:
                found[place] = True
                vectors[place] = self._vectors[where[0]][where[1]]
        return found, vectors

    def _remember(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        assert self._index is not None
        shard = len(self._vectors)
        self._vectors.append(vectors)
        for row, key in enumerate(keys):
            self._index[key.tobytes()] = (shard, row)

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Keep ``vectors`` (one row per key) as a new shard; merge the shards when there are many."""
        if not keys:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        table = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        rows = np.array(vectors, dtype=np.float32)
        self._write(f"{_PREFIX}{uuid.uuid4().hex}", table, rows)
        if self._index is not None:
            self._remember(table, rows)
        names = self._names()
        if len(names) > _MAX_SHARDS:
            self._merge(names)

    def _names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(
            path.name[: -len(_KEYS)]
            for path in self.folder.iterdir()
            if path.name.startswith(_PREFIX) and path.name.endswith(_KEYS)
        )

    def _shards(self) -> list[tuple[np.ndarray, np.ndarray]]:
        shards = []
        for name in self._names():
            try:
                keys = np.load(self.folder / f"{name}{_KEYS}", mmap_mode="r")
                vectors = np.load(self.folder / f"{name}{_VECTORS}", mmap_mode="r")
            except (FileNotFoundError, ValueError):
                continue  # merged away meanwhile, or not this cache's file
            if keys.ndim == 2 and keys.shape[1] == 32 and vectors.shape == (len(keys), self.dimension):
                shards.append((np.asarray(keys), vectors))
        return shards

    def _write(self, name: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        token = uuid.uuid4().hex
        for suffix, array in ((_VECTORS, vectors), (_KEYS, keys)):
            temporary = self.folder / f".{name}{suffix}.{token}.tmp"
            with temporary.open("wb") as handle:
                np.save(handle, array)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.folder / f"{name}{suffix}")

    def _merge(self, names: list[str]) -> None:
        """One shard of every key in ``names`` (the last row for a key kept twice); then those go."""
        merged: dict[bytes, np.ndarray] = {}
        read = []
        for name in names:
            try:
                keys = np.load(self.folder / f"{name}{_KEYS}")
                vectors = np.load(self.folder / f"{name}{_VECTORS}")
            except (FileNotFoundError, ValueError):
                continue
            read.append(name)
            for row, key in enumerate(keys):
                merged[key.tobytes()] = vectors[row]
        if len(read) < 2:
            return
        table = np.frombuffer(b"".join(merged), dtype=np.uint8).reshape(len(merged), 32)
        self._write(f"{_PREFIX}{uuid.uuid4().hex}", table, np.stack(list(merged.values())))
        for name in read:
            for suffix in (_KEYS, _VECTORS):
                with contextlib.suppress(FileNotFoundError):  # another writer merged it too
                    (self.folder / f"{name}{suffix}").unlink()
