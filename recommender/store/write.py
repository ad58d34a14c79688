"""Writing a model folder atomically: every file written and synced in a staging folder, then moved in place.

numpy and the standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..types import ModelFormatError
from .folder import sha256
from .names import FORMAT_NAME, FORMAT_VERSION, MANIFEST
from .tables import tabulate

__all__ = ["write_model"]


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
    tabulate(arrays, documents)
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
    return {"bytes": path.stat().st_size, "sha256": sha256(path)}
