"""What a model path holds, the names of its parts, and the checks on them (standard library only).

A model path is a folder of immutable generations, like a database's commit points::

    MODEL/
      CURRENT                   one line naming the current generation: gen-000007-1f2e3d4c
      LOCK                      the writers' lock (fcntl.flock); holds the pid of the last writer
      gen-000006-9a0b1c2d/      the generation before, kept for readers that opened it (keep=2)
      gen-000007-1f2e3d4c/      manifest.json + every file it lists (.npy arrays, .json documents)

A generation folder never changes once its name is published. Readers take no lock: they resolve
``CURRENT`` and open every file of that generation at once, so what they read is one whole generation,
whatever writers do next. Writers hold ``LOCK`` from reading the current generation to publishing the
next (``recommender.store.lock``), so two of them never publish from the same base; it is never removed.
A name is ``gen-<number>-<8 hex>``: numbers grow by one per publish (so "newer" is "higher"), and the
random part keeps a leftover of a crashed writer from ever being mistaken for a later generation.

Publishing (``recommender.store.write``), under the lock, in this order:

1. write every file into ``.staging-<number>-<hex>/`` and fsync each one, then the staging folder
   (so no published generation can ever hold a file whose bytes were not on disk yet);
2. rename the staging folder to ``gen-<number>-<hex>``, fsync the model path (the name is durable
   before a pointer can name it);
3. write ``.CURRENT-<hex>.tmp``, fsync it, ``os.replace`` it over ``CURRENT``: the one atomic step
   that makes the new generation current; fsync the model path (the switch is durable before
   anything the previous pointer named is removed).

A crash before step 3's replace leaves the previous generation current; after it, the new one.
Cleanup (by the next writer under the lock, and after each publish) removes only names of our own
patterns: staging folders and pointer temp files, generations that are neither current nor among the
``keep`` newest published ones (a generation numbered above the current one was never published), and,
once ``CURRENT`` exists, the files a legacy flat folder's ``manifest.json`` lists, then that manifest.
Nothing is removed through a symbolic link.

A legacy flat folder (``manifest.json`` directly in the path: every release before generations) opens
read-only as before; the first writer (or ``store.upgrade``) turns it into this layout. Before changing
anything (before taking the lock, too), writers refuse a path that is a file, a dangling link, a
generation folder (or a link to one), a folder whose ``CURRENT`` names no generation (a database's is
not ours), a non-empty folder holding neither ``CURRENT`` nor a ``manifest.json`` of this format (a web
app's own manifest is not ours), or a folder this user cannot write.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._version import __version__
from ..types import ModelFormatError
from .names import FORMAT_NAME, FORMAT_VERSION, LOCK, MANIFEST, POINTER, REBUILD

__all__ = [
    "GENERATION",
    "MANIFEST_DIGEST",
    "POINTER_TEMP",
    "STAGING",
    "check_entry",
    "generation_number",
    "generation_numbers",
    "is_ours",
    "is_plain",
    "manifest_digest",
    "open_entry",
    "read_manifest",
    "read_pointer",
]

GENERATION = re.compile(r"gen-(\d{6,})-[0-9a-f]{8}")
STAGING = re.compile(r"\.staging-\d{6,}-[0-9a-f]{8}")
POINTER_TEMP = re.compile(r"\.CURRENT-[0-9a-f]{8}\.tmp")
#: The manifest's own checksum: SHA-256 of its other keys as canonical JSON (see :func:`manifest_digest`).
MANIFEST_DIGEST = "manifest_sha256"
#: Every key a manifest without that checksum (as written before it) may hold.
_LEGACY_KEYS = frozenset(
    {"format", "format_version", "library_version", "parameters", "counts", "files", "lineage"}
)
_MAX_POINTER = 256
_MAX_MANIFEST = 64 << 20
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def is_ours(name: str) -> bool:
    """Whether ``name`` is one this store writes into a model path (so a writer may touch it)."""
    return name in (POINTER, LOCK) or any(
        pattern.fullmatch(name) for pattern in (GENERATION, STAGING, POINTER_TEMP)
    )


def is_plain(name: object) -> bool:
    """Whether ``name`` is a plain file name: not absolute, no ``..``, no separator, no leading dot."""
    return (
        isinstance(name, str)
        and bool(name)
        and not name.startswith(".")
        and not any(character in name for character in "/\\\0")
    )


def check_entry(name: object, manifest_path: Path, rebuild: str) -> str:
    """``name`` if it is a plain file name inside its folder; otherwise a ModelFormatError naming it.

    Absolute paths, ``..``, path separators and names starting with a dot could reach outside the
    folder or hide there; a manifest this store wrote never lists one.
    """
    if not is_plain(name):
        message = (
            f"{manifest_path}: the manifest lists {name!r}, which is not a plain file name inside the "
            f"model folder; {rebuild}"
        )
        raise ModelFormatError(message)
    return str(name)


def open_entry(folder_fd: int, name: str, folder: Path, rebuild: str) -> tuple[int, int]:
    """Open the regular file ``name`` of an opened folder without following links: ``(fd, size)``.

    FileNotFoundError passes through (the caller decides whether the folder changed under it).
    """
    try:
        fd = os.open(name, _READ, dir_fd=folder_fd)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        message = f"{folder / name}: is a symbolic link; a model folder holds only its own files; {rebuild}"
        raise ModelFormatError(message) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        message = f"{folder / name}: is not a regular file; {rebuild}"
        raise ModelFormatError(message)
    return fd, info.st_size


def read_all(fd: int, size: int) -> bytes:
    """The first ``size`` bytes of an open file, by offset (the file position is never used)."""
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def read_pointer(model_fd: int, model_path: Path) -> str | None:
    """The generation ``CURRENT`` names, or None when the path has no pointer (legacy or empty)."""
    rebuild = REBUILD.format(path=model_path)
    try:
        fd, size = open_entry(model_fd, POINTER, model_path, rebuild)
    except FileNotFoundError:
        return None
    try:
        text = read_all(fd, min(size, _MAX_POINTER)).decode("utf-8", errors="replace")
    finally:
        os.close(fd)
    name = text[:-1] if text.endswith("\n") else text
    if not GENERATION.fullmatch(name):
        message = f"{model_path / POINTER}: names no generation ({text!r}); {rebuild}"
        raise ModelFormatError(message)
    return name


def generation_number(name: str) -> int:
    """The number in a generation's name (``gen-000007-1f2e3d4c`` -> 7)."""
    match = GENERATION.fullmatch(name)
    if match is None:
        message = f"{name!r} is not a generation name"
        raise ValueError(message)
    return int(match.group(1))


def generation_numbers(model_fd: int) -> dict[str, int]:
    """Every generation folder of a model path (real folders only, not links) and its number."""
    numbers = {}
    with os.scandir(model_fd) as entries:
        for entry in entries:
            if GENERATION.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                numbers[entry.name] = generation_number(entry.name)
    return numbers


def read_manifest(folder_fd: int, folder: Path, rebuild: str) -> dict[str, Any]:
    """The parsed ``manifest.json`` of an opened folder if it is one of ours (any format version).

    FileNotFoundError passes through; anything else that is not our manifest is a ModelFormatError.
    """
    manifest_path = folder / MANIFEST
    fd, size = open_entry(folder_fd, MANIFEST, folder, rebuild)
    try:
        if size > _MAX_MANIFEST:
            message = f"{manifest_path}: corrupt manifest ({size} bytes); {rebuild}"
            raise ModelFormatError(message)
        manifest = json.loads(read_all(fd, size).decode("utf-8"))
    except ValueError as error:
        message = f"{manifest_path}: corrupt manifest ({error}); {rebuild}"
        raise ModelFormatError(message) from None
    finally:
        os.close(fd)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        message = f"{folder}: not a recommender model (manifest format is not {FORMAT_NAME!r}); {rebuild}"
        raise ModelFormatError(message)
    for key in ("parameters", "counts"):
        if not isinstance(manifest.get(key, {}), dict):
            message = f"{manifest_path}: corrupt manifest ({key!r} is not an object); {rebuild}"
            raise ModelFormatError(message)
    if not all(_is_count(value) for value in manifest.get("counts", {}).values()):
        message = f"{manifest_path}: corrupt manifest ('counts' holds a value that is not a count); {rebuild}"
        raise ModelFormatError(message)
    _check_digest(manifest, manifest_path, rebuild)
    return manifest


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest without its own checksum, as sorted, compact JSON: a changed byte in the
    manifest (which holds the other files' checksums) shows, whatever it changed."""
    rest = {key: value for key, value in manifest.items() if key != MANIFEST_DIGEST}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_digest(manifest: dict[str, Any], manifest_path: Path, rebuild: str) -> None:
    """The manifest's own checksum, when it has one; without one (written before it), only known keys."""
    recorded = manifest.get(MANIFEST_DIGEST)
    if recorded is None:
        unknown = sorted(set(manifest) - _LEGACY_KEYS)
        if unknown:
            message = f"{manifest_path}: corrupt manifest (unknown key {unknown[0]!r}); {rebuild}"
            raise ModelFormatError(message)
        return
    try:
        expected = manifest_digest(manifest)
    except ValueError:  # a number JSON cannot write back (NaN, infinity)
        expected = ""
    if recorded != expected:
        message = (
            f"{manifest_path}: the manifest changed since it was written (its checksum differs); {rebuild}"
        )
        raise ModelFormatError(message)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def manifest_header(
    parameters: Mapping[str, Any], counts: Mapping[str, int], extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A manifest's keys before its file list: format, versions, build parameters, counts, extras."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "parameters": dict(parameters),
        "counts": dict(counts),
        **dict(extra or {}),
    }
