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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .types import ModelFormatError

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MANIFEST", "ModelFolder", "open_model", "write_model"]

FORMAT_NAME = "recommender-model"
FORMAT_VERSION = 1
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

    def document(self, name: str) -> Any:
        """The parsed JSON document ``<name>.json``."""
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
    if version != FORMAT_VERSION:
        message = (
            f"{folder}: model format version {version!r} is not supported by this library "
            f"(it reads version {FORMAT_VERSION}); {rebuild}"
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
