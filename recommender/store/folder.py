"""Reading a model folder: the manifest, its checks, and the arrays and documents it lists.

numpy and the standard library only. Nothing is pickled and arrays can be memory-mapped.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..types import ModelFormatError
from .names import ARTICLES, FORMAT_NAME, IDS, MANIFEST, READABLE_VERSIONS, REBUILD
from .tables import StringTable

__all__ = ["ModelFolder", "open_model", "sha256"]

_REBUILD = REBUILD
_CHUNK = 1 << 20


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
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
        if verify and sha256(file_path) != expected.get("sha256"):
            message = f"{file_path}: checksum mismatch (file changed or corrupt); {rebuild}"
            raise ModelFormatError(message)
    return ModelFolder(folder, manifest, mmap=mmap)
