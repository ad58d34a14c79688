"""Writing an export's files without touching the user's: atomic files, the export record, crash leftovers.

Every file is written to a temporary file of ours in its own folder (``.NAME.<12 hex>.recommender-tmp``),
synced, then moved over its name, so a reader or a crash only ever sees whole files; the next export
into the same folder removes temporary files a crash left, and nothing else that it did not write.

A folder export (per-article HTML, Hugo and Jekyll data) keeps a record, ``.recommender-export.json``, of
the files it wrote and their SHA-256. The next export into that folder rewrites or removes only files the
record lists whose bytes are still the ones it wrote. A file it would write that the record does not list,
or that was edited since, belongs to the user: the export is refused before anything changes. The record
is written first with the coming checksums as ``pending`` (so a rerun after a crash knows those files as
ours) and last without them. Exports into one folder take turns (an advisory lock on the folder itself).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..store.steps import step
from ..types import InvalidParameterError

__all__ = ["RECORD", "TEMP_SUFFIX", "read_record", "write_file", "write_folder"]

#: The record of the files an export wrote, inside the folder it wrote them to.
RECORD = ".recommender-export.json"
RECORD_FORMAT = "recommender-export"
RECORD_VERSION = 1
#: Every temporary file an export creates ends with this; nothing else is ever cleaned up.
TEMP_SUFFIX = ".recommender-tmp"
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{12}" + re.escape(TEMP_SUFFIX))
_SHOWN = 5
_SYNC_THREADS = 8

log = logging.getLogger(__name__)


def write_file(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to the file ``path`` atomically and return ``path``.

    Temporary files an interrupted export to the same path left next to it are removed first. A symbolic
    link is written through: the file it points to is replaced, the link stays. A path that is not a
    regular file (``/dev/stdout``, a named pipe, a device) is written to as it is, since it cannot be
    replaced: it is opened and written, not moved over.
    """
    if path.is_dir():
        message = f"{path}: is a folder; give a file name for the export"
        raise InvalidParameterError(message)
    data = text.encode("utf-8")
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        _write_stream(path, data)
        return path
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    _make_folder(target.parent)
    with _locked(target.parent) as folder_fd:
        _remove_temporaries(target.parent, only=target.name)
        _replace(target.parent, {target.name: data})
        os.fsync(folder_fd)
    return path


def _write_stream(path: Path, data: bytes) -> None:
    """Write ``data`` to a path that is not a regular file (a pipe, a terminal, a device)."""
    try:
        with path.open("wb") as stream:
            stream.write(data)
    except OSError as error:
        message = f"{path}: cannot write the export ({error.strerror or error})"
        raise InvalidParameterError(message) from None


@dataclass
class _Plan:
    """What an export into a folder changes: checked against the record before anything is written."""

    checksums: dict[str, str]  # every file this export writes → SHA-256 of its new bytes
    ours: dict[str, str] = field(default_factory=dict)  # recorded files still holding what we wrote
    edited: list[str] = field(default_factory=list)  # recorded files changed since: the user's now

    @property
    def changed(self) -> list[str]:
        return [name for name, checksum in self.checksums.items() if self.ours.get(name) != checksum]

    @property
    def stale(self) -> list[str]:
        return sorted(set(self.ours) - set(self.checksums))


def write_folder(folder: Path, files: Mapping[str, str], *, export_format: str) -> Path:
    """Write ``files`` (plain name → UTF-8 text) into ``folder``, replacing only what an export wrote there.

    Files an earlier export wrote that this one does not produce are removed if unchanged since (kept
    with a warning otherwise). Raises ``InvalidParameterError``, with nothing changed, if a file to
    write exists and is not an unchanged one of ours. ``export_format`` is noted in the record.
    """
    if folder.exists() and not folder.is_dir():
        message = f"{folder}: exists and is not a folder; choose another output path"
        raise InvalidParameterError(message)
    data = {name: text.encode("utf-8") for name, text in files.items()}
    for name in data:
        if not _plain(name):  # safe_file_name guarantees this; never trust it blindly
            message = f"refusing to write {name!r} into {folder}: not a plain file name of an export"
            raise InvalidParameterError(message)
    _make_folder(folder)
    with _locked(folder) as folder_fd:
        plan = _plan(folder, data)
        _remove_temporaries(folder)
        final = _record_bytes(export_format, plan.checksums, pending=None)
        if plan.changed or plan.stale or _read_bytes(folder / RECORD) != final:
            _replace(folder, {RECORD: _record_bytes(export_format, plan.ours, pending=plan.checksums)})
            _replace(folder, {name: data[name] for name in plan.changed})
            for name in plan.stale:
                step(f"export remove {name}")
                (folder / name).unlink()
            os.fsync(folder_fd)  # the files are in place before the record says so
            _replace(folder, {RECORD: final})
            os.fsync(folder_fd)
    if plan.edited:
        log.warning(
            "%s: kept %s: written by an earlier export but changed since, so no longer recorded as the "
            "export's; delete what you no longer want",
            folder,
            _names(plan.edited),
        )
    return folder


def read_record(folder: Path) -> dict[str, set[str]]:
    """The files the record in ``folder`` lists, each with the checksums it may hold (empty: no record).

    A file has two checksums while an export into the folder is under way (or was interrupted).
    """
    path = folder / RECORD
    if not os.path.lexists(path):
        return {}
    data: Any
    try:
        data = None if path.is_symlink() else json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        data = error
    problem = _record_problem(data)
    if problem:
        message = (
            f"{path}: {problem}; move it away (the files it lists then count as yours) "
            "or export into another folder"
        )
        raise InvalidParameterError(message)
    owned: dict[str, set[str]] = {}
    for section in ("files", "pending"):
        for name, checksum in data.get(section, {}).items():
            owned.setdefault(name, set()).add(checksum)
    return owned


def _record_problem(data: Any) -> str | None:
    """What makes ``data`` (a parsed record, or the error reading it) unusable; None if nothing does."""
    if isinstance(data, Exception):
        return f"unreadable export record ({data})"
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        return "not a recommender export record"
    if data.get("version") != RECORD_VERSION:
        return (
            f"export record version {data.get('version')!r} is not known to this library, which reads "
            f"version {RECORD_VERSION} (a newer recommender can keep using it)"
        )
    for section in ("files", "pending"):
        entries = data.get(section, {})
        if not isinstance(entries, dict) or not all(
            isinstance(name, str) and _plain(name) and isinstance(checksum, str)
            for name, checksum in entries.items()
        ):
            return f"corrupt export record ({section!r} must map plain file names to checksums)"
    return None


def _plan(folder: Path, data: Mapping[str, bytes]) -> _Plan:
    """Sort the folder's files into ours, edited and the user's; refuse if a file to write is not ours."""
    plan = _Plan({name: hashlib.sha256(content).hexdigest() for name, content in data.items()})
    for name, checksums in sorted(read_record(folder).items()):
        path = folder / name
        if not os.path.lexists(path):
            continue  # removed by the user or by an interrupted export: nothing to do
        checksum = _checksum(path)
        if checksum in checksums:
            plan.ours[name] = checksum
        elif name not in data:
            plan.edited.append(name)
    taken = sorted(name for name in data if name not in plan.ours and os.path.lexists(folder / name))
    if taken:
        message = (
            f"{folder}: refusing to overwrite {_names(taken)}: not written by an earlier export into "
            f"this folder (or changed since); nothing was changed. Move or rename "
            f"{'it' if len(taken) == 1 else 'them'}, or export into another folder"
        )
        raise InvalidParameterError(message)
    return plan


def _checksum(path: Path) -> str | None:
    """SHA-256 of a regular file; None for a symlink, folder or anything else (never ours)."""
    if path.is_symlink() or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_bytes(
    export_format: str, files: Mapping[str, str], *, pending: Mapping[str, str] | None
) -> bytes:
    record: dict[str, object] = {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "export_format": export_format,
        "library_version": __version__,
        "files": dict(sorted(files.items())),
    }
    if pending is not None:
        record["pending"] = dict(sorted(pending.items()))
    return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _replace(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write each file to a temporary file of ours in ``folder``, sync them all, then move each over its name.

    The syncs run in parallel: a disk commits concurrent syncs together, several times faster than one
    after the other for thousands of small files.
    """
    staged: dict[str, Path] = {}
    try:
        for name, data in files.items():
            staged[name] = _stage(folder, name, data)
        with ThreadPoolExecutor(max_workers=max(1, min(_SYNC_THREADS, len(staged)))) as pool:
            list(pool.map(_sync, staged.values()))
        for name in list(staged):
            step(f"export replace {name}")
            os.replace(staged.pop(name), folder / name)
    except BaseException:
        for temporary in staged.values():
            step(f"export remove {temporary.name}")
            temporary.unlink(missing_ok=True)
        raise


def _stage(folder: Path, name: str, data: bytes) -> Path:
    """A new temporary file of ours in ``folder`` holding ``data`` (not yet synced)."""
    temporary = folder / f".{name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
    step(f"export write {name}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
    except BaseException:
        step(f"export remove {temporary.name}")
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _remove_temporaries(folder: Path, *, only: str | None = None) -> None:
    """Remove the temporary files an interrupted export left in ``folder`` (for ``only`` alone, if given)."""
    for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
        match = _TEMPORARY.fullmatch(entry.name)
        if match and only in (None, match["name"]) and entry.is_file(follow_symlinks=False):
            step(f"export remove {entry.name}")
            os.unlink(entry.path)


def _make_folder(folder: Path) -> None:
    if not folder.is_dir():
        step(f"export create {folder}")
        folder.mkdir(parents=True, exist_ok=True)


@contextmanager
def _locked(folder: Path) -> Iterator[int]:
    """Hold an advisory lock on ``folder`` (no lock file: the folder itself) and yield its descriptor."""
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(folder_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("%s: another export into this folder is under way; waiting for it", folder)
            fcntl.flock(folder_fd, fcntl.LOCK_EX)
        yield folder_fd
    finally:
        os.close(folder_fd)  # closing releases the lock


def _plain(name: str) -> bool:
    """A plain file name of ours: no folder part, not hidden (so never the record or a temporary file)."""
    return bool(name) and not name.startswith(".") and not any(sep in name for sep in ("/", "\\", "\0"))


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown} and {len(names) - _SHOWN} more"
