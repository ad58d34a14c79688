"""What a writer removes from a model path, under its lock: only what this store wrote and no longer needs.

numpy-free, standard library only. Removed are: staging folders and pointer temp files a crashed writer
left, generations that are neither current nor among the ``keep`` newest published ones, and, once the
path has a ``CURRENT``, the files of a legacy flat folder its ``manifest.json`` lists, then that manifest.
A name that does not match our own patterns is never touched, and nothing is removed through a link: a
folder loses the files it was written with (its ``manifest.json`` and what that lists; unlinking a link
removes the link) and is then removed if it is empty; whatever else it holds stays, and the folder too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from ..types import ModelFormatError
from .layout import (
    GENERATION,
    POINTER_TEMP,
    STAGING,
    generation_number,
    generation_numbers,
    is_ours,
    is_plain,
    read_manifest,
    read_pointer,
)
from .names import MANIFEST, REBUILD
from .steps import step

__all__ = ["clean", "remove_folder"]

_log = logging.getLogger(__name__)


def clean(model_fd: int, model_path: Path, *, keep: int) -> None:
    """Remove what crashed writers left and the generations past the ``keep`` newest published ones."""
    with os.scandir(model_fd) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        if STAGING.fullmatch(name):
            remove_folder(model_fd, model_path, name)
        elif POINTER_TEMP.fullmatch(name):
            _remove_file(model_fd, name)
    try:
        current = read_pointer(model_fd, model_path)
    except ModelFormatError:
        return  # a damaged pointer: which generations were published is unknown, so all stay
    numbers = generation_numbers(model_fd)
    if current is None:
        published: list[str] = []  # nothing was ever published: every generation is a crash's leftover
    else:
        older = [name for name, number in numbers.items() if number < generation_number(current)]
        published = [current, *sorted(older, key=numbers.__getitem__, reverse=True)[: keep - 1]]
        _remove_legacy(model_fd, model_path)
    for name in sorted(set(numbers) - set(published)):
        remove_folder(model_fd, model_path, name)


def remove_folder(model_fd: int, model_path: Path, name: str) -> None:
    """Remove our folder ``name`` of the model path: the files this store wrote into it, then itself.

    Those are its ``manifest.json`` and the files it lists; in a staging folder without a readable
    manifest (a writer crashed while filling it), the part files a writer names (``<plain name>.npy`` or
    ``.json``). Anything else stays, and so does the folder, with a warning.
    """
    try:
        folder_fd = os.open(
            name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=model_fd
        )
    except OSError:
        return  # gone already, or not a real folder: not ours to remove
    try:
        step(f"remove {name}")
        ours = _written(folder_fd, model_path / name, staging=bool(STAGING.fullmatch(name)))
        with os.scandir(folder_fd) as entries:
            present = {entry.name for entry in entries if not entry.is_dir(follow_symlinks=False)}
        foreign = sorted(present - ours)
        for entry_name in sorted(present & ours, key=lambda listed: listed == MANIFEST):  # manifest last
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry_name, dir_fd=folder_fd)
    finally:
        os.close(folder_fd)
    try:
        os.rmdir(name, dir_fd=model_fd)
    except OSError as error:
        theirs = f" ({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''})" if foreign else ""
        _log.warning(
            "%s: left in place (%s); it holds files or folders this library did not write%s",
            model_path / name,
            error.strerror or error,
            theirs,
        )


def _written(folder_fd: int, folder: Path, *, staging: bool) -> set[str]:
    """The names in our folder this store wrote: its manifest and the files it lists (see remove_folder)."""
    try:
        manifest = read_manifest(folder_fd, folder, REBUILD.format(path=folder.parent))
    except (OSError, ModelFormatError):
        if not staging:
            return set()  # a generation's manifest is written before its name: without it, nothing is known
        with os.scandir(folder_fd) as entries:
            return {
                entry.name
                for entry in entries
                if is_plain(entry.name) and entry.name.endswith((".npy", ".json"))
            }
    files = manifest.get("files")
    return {MANIFEST} | {name for name in (files if isinstance(files, dict) else ()) if is_plain(name)}


def _remove_file(model_fd: int, name: str) -> None:
    """Remove the file (or link: never its target) ``name``; a folder of that name is not ours to empty."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISDIR(os.stat(name, dir_fd=model_fd, follow_symlinks=False).st_mode):
            return
        step(f"remove {name}")
        os.unlink(name, dir_fd=model_fd)


def _remove_legacy(model_fd: int, model_path: Path) -> None:
    """Finish turning a legacy flat folder into generations: its listed files, then its manifest.

    Never inside a folder named as a generation: its manifest is that generation's, not a legacy one's.
    """
    if GENERATION.fullmatch(Path(os.path.realpath(model_path)).name):
        return
    try:
        manifest = read_manifest(model_fd, model_path, REBUILD.format(path=model_path))
    except (FileNotFoundError, ModelFormatError):
        return  # no manifest of ours at the top: nothing legacy left
    files = manifest.get("files")
    for name in files if isinstance(files, dict) else ():
        if not is_plain(name) or is_ours(name) or name == MANIFEST:
            continue
        _remove_file(model_fd, name)
    _remove_file(model_fd, MANIFEST)
