"""Publishing a model: a new immutable generation made current in one atomic step, under the writers' lock.

numpy and the standard library only. The layout, the order of the steps and why each fsync is there are
in :mod:`recommender.store.layout`; every filesystem change is announced to :func:`.steps.step` first.

    with writer(path) as w:            # waits for another writer (or ModelLockedError with wait=False)
        base = w.current()             # the current generation, or None
        ...                            # compute from it
        w.publish(arrays=..., documents=..., parameters=..., counts=...)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from ..types import InvalidParameterError, ModelFormatError, RecommenderError
from .clean import clean, remove_folder
from .folder import ModelFolder, open_model
from .layout import (
    GENERATION,
    MANIFEST_DIGEST,
    generation_number,
    generation_numbers,
    is_ours,
    is_plain,
    manifest_digest,
    manifest_header,
    read_manifest,
    read_pointer,
)
from .lock import ModelLock
from .names import FORMAT_VERSION, MANIFEST, POINTER, REBUILD
from .pieces import Pieces, write_npy
from .steps import step
from .tables import tabulate

__all__ = ["Writer", "upgrade", "write_model", "writer"]

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OVERLAP = 1 << 16  # pieces at least this big are hashed while they are written


class Writer:
    """The one writer of a model path: holds its lock from ``with`` to the end of the block.

    Use :func:`writer` to make one. :meth:`current` is the generation to start from; :meth:`publish`
    makes a new one current (it may be called more than once).
    """

    def __init__(self, path: str | os.PathLike[str], *, wait: bool = True, keep: int = 2) -> None:
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            message = f"keep must be a positive integer (the generations to keep), not {keep!r}"
            raise InvalidParameterError(message)
        self.path = Path(path)
        self._wait = wait
        self._keep = keep
        self._model_fd: int | None = None
        self._lock: ModelLock | None = None

    def __enter__(self) -> Writer:
        model_fd = None
        try:
            with _writing(self.path):
                check_target(self.path)  # before the lock: a folder that is not ours gets no LOCK file
                if not self.path.exists():
                    step(f"create folder {self.path}")
                    self.path.mkdir(parents=True, exist_ok=True)
                    step(f"sync folder {self.path.parent}")
                    _sync_folder(self.path.parent)
                model_fd = os.open(self.path, _FOLDER)
                _refuse_generation(self.path)  # again, now that the folder is open
                lock = ModelLock(model_fd, self.path)
                lock.acquire(wait=self._wait)
        except BaseException:
            if model_fd is not None:
                os.close(model_fd)
            raise
        self._model_fd, self._lock = model_fd, lock
        try:
            with _writing(self.path):
                clean(model_fd, self.path, keep=self._keep)
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._release()

    def current(self, *, verify: bool = True, mmap: bool = True) -> ModelFolder | None:
        """The current generation (or legacy flat folder), opened; None when nothing was published yet."""
        model_fd = self._held()
        if read_pointer(model_fd, self.path) is None:
            try:
                os.stat(MANIFEST, dir_fd=model_fd, follow_symlinks=False)
            except FileNotFoundError:
                return None
        return open_model(self.path, verify=verify, mmap=mmap)

    def publish(
        self,
        *,
        arrays: Mapping[str, np.ndarray | Pieces],
        documents: Mapping[str, Any],
        parameters: Mapping[str, Any],
        counts: Mapping[str, int],
        extra: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write a new generation and make it current in one atomic step; return its folder.

        ``arrays`` are saved as ``<name>.npy``, ``documents`` as ``<name>.json``; ``extra`` adds keys to
        the manifest (such as ``lineage``). Afterwards generations past the ``keep`` newest are removed.
        """
        model_fd = self._held()
        with _writing(self.path):
            return self._publish(
                model_fd, dict(arrays), dict(documents), manifest_header(parameters, counts, extra)
            )

    def _publish(
        self,
        model_fd: int,
        arrays: dict[str, np.ndarray | Pieces],
        documents: dict[str, Any],
        header: dict[str, Any],
    ) -> Path:
        tabulate(arrays, documents)
        encoded = {
            _file_name(name, ".json"): _json(document, indent=None) for name, document in documents.items()
        }
        writes: dict[str, _Write] = {
            _file_name(name, ".npy"): _array_writer(array) for name, array in arrays.items()
        }
        writes.update({name: _bytes_writer(data) for name, data in encoded.items()})
        current = read_pointer(model_fd, self.path)
        number = 1 + max(
            [*generation_numbers(model_fd).values(), generation_number(current) if current else 0]
        )
        token = secrets.token_hex(4)
        generation = f"gen-{number:06d}-{token}"
        _stage(model_fd, self.path, (f".staging-{number:06d}-{token}", generation), writes, header)
        step("sync model folder")
        os.fsync(model_fd)
        _switch(model_fd, generation, token)
        clean(model_fd, self.path, keep=self._keep)
        return self.path / generation

    def _held(self) -> int:
        if self._model_fd is None:
            message = f"{self.path}: this writer is not open; use it as `with writer(path) as w: ...`"
            raise RecommenderError(message)
        return self._model_fd

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._model_fd is not None:
            os.close(self._model_fd)
            self._model_fd = None


def writer(path: str | os.PathLike[str], *, wait: bool = True, keep: int = 2) -> Writer:
    """The writer of the model at ``path``, for a ``with`` block that holds its lock throughout.

    A second writer waits for the first (logging whom it waits for) or, with ``wait=False``, raises
    ModelLockedError. ``keep`` is how many published generations stay (the current one included).
    A non-empty folder that is not a model, or a file, is refused before anything is changed.
    """
    return Writer(path, wait=wait, keep=keep)


def write_model(
    path: str | os.PathLike[str],
    *,
    arrays: Mapping[str, np.ndarray | Pieces],
    documents: Mapping[str, Any],
    parameters: Mapping[str, Any],
    counts: Mapping[str, int],
    extra: Mapping[str, Any] | None = None,
    wait: bool = True,
    keep: int = 2,
) -> Path:
    """Publish one model at ``path`` (a writer that publishes once) and return ``path``.

    See :meth:`Writer.publish` for the arguments and :func:`writer` for ``wait`` and ``keep``.
    """
    with writer(path, wait=wait, keep=keep) as model:
        model.publish(arrays=arrays, documents=documents, parameters=parameters, counts=counts, extra=extra)
    return Path(path)


def upgrade(path: str | os.PathLike[str], *, wait: bool = True, keep: int = 2) -> Path:
    """Turn the model at ``path`` into a current-format generation in place; return ``path``.

    A legacy flat folder (any readable format version) gets a generation with the same content and the
    pointer, then only its own files go; a model already current in format and layout is left as it is.
    """
    with writer(path, wait=wait, keep=keep) as model:
        folder = model.current()
        if folder is None:
            message = f"{path}: no model to upgrade; build one with: recommender build CORPUS -o {path}"
            raise ModelFormatError(message)
        with folder:
            if folder.generation is not None and folder.version == FORMAT_VERSION:
                return Path(path)
            model.publish(**folder.parts())
    return Path(path)


def check_target(path: str | os.PathLike[str]) -> None:
    """Refuse, before anything is written, a path a model cannot be published at: a file, a dangling link,
    a generation folder, a non-empty folder holding neither our pointer nor a manifest of ours, or a folder
    this user cannot write (a writer checks this first; call it before a long build to fail at once)."""
    path = Path(path)
    nothing = "nothing was changed; choose a new or empty folder"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            message = f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist; {nothing}"
            raise ModelFormatError(message) from None
        _check_writable(path)
        return
    if not stat.S_ISDIR(info.st_mode):
        message = f"{path}: exists and is not a folder; {nothing}"
        raise ModelFormatError(message)
    _refuse_generation(path)
    names = os.listdir(path)
    if POINTER in names:
        _check_pointer(path, nothing)
    elif not (all(is_ours(name) for name in names) or (MANIFEST in names and _legacy(path))):
        message = (
            f"{path}: folder is not empty and holds no model (no {POINTER}, no {MANIFEST} of a recommender "
            f"model), so it is not overwritten; {nothing}"
        )
        raise ModelFormatError(message)
    _check_writable(path)


def _refuse_generation(path: Path) -> None:
    """Refuse a path that is (or links to) a generation folder of a model: generations never change."""
    real = Path(os.path.realpath(path))
    if GENERATION.fullmatch(real.name) and (real.parent / POINTER).exists():
        message = (
            f"{path}: is a generation of the model {real.parent}, and generations never change; write to "
            f"{real.parent} instead; nothing was changed"
        )
        raise ModelFormatError(message)


def _check_pointer(path: Path, nothing: str) -> None:
    """Refuse a folder whose ``CURRENT`` is not our pointer (another program's, such as a database's)."""
    model_fd = os.open(path, _FOLDER)
    try:
        read_pointer(model_fd, path)
    except ModelFormatError:
        message = (
            f"{path}: folder holds a {POINTER} that names no generation of a recommender model, so it is "
            f"not a model folder (or its pointer is damaged) and it is not overwritten; {nothing}"
        )
        raise ModelFormatError(message) from None
    finally:
        os.close(model_fd)


def _check_writable(path: Path) -> None:
    """Refuse a folder (or, for a new path, its nearest existing parent) this user cannot write."""
    folder = Path(os.path.abspath(path))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        message = (
            f"{path}: cannot write a model here: {folder} is not writable for this user; nothing was "
            "changed; choose a folder you can write to, or fix its permissions"
        )
        raise RecommenderError(message)


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn the file system's errors while writing the model at ``path`` into an error naming the model."""
    try:
        yield
    except OSError as error:
        where = f" ({error.filename})" if error.filename is not None else ""
        message = f"{path}: cannot write the model: {error.strerror or error}{where}"
        raise RecommenderError(message) from error


def _legacy(path: Path) -> bool:
    """Whether the folder's manifest.json is a recommender model's (a legacy flat folder)."""
    model_fd = os.open(path, _FOLDER)
    try:
        read_manifest(model_fd, path, REBUILD.format(path=path))
    except (ModelFormatError, OSError):
        return False
    finally:
        os.close(model_fd)
    return True


def _file_name(name: str, extension: str) -> str:
    file_name = name + extension
    if not is_plain(file_name) or file_name == MANIFEST:
        message = (
            f"a model part cannot be named {name!r}: it needs a plain file name (no path separators, no "
            f"leading dot) other than the manifest's"
        )
        raise InvalidParameterError(message)
    return file_name


def _stage(
    model_fd: int,
    model_path: Path,
    names: tuple[str, str],
    writes: Mapping[str, _Write],
    header: dict[str, Any],
) -> None:
    """Write every file and the manifest into the staging folder, sync them, rename it to the generation."""
    staging, generation = names
    step(f"create {staging}")
    os.mkdir(staging, 0o777, dir_fd=model_fd)
    try:
        staging_fd = os.open(staging, _FOLDER | os.O_NOFOLLOW, dir_fd=model_fd)
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="recommender-hash") as helper:
                files = {
                    name: _write_file(staging_fd, staging, name, write, helper)
                    for name, write in writes.items()
                }
            manifest = {**header, "files": dict(sorted(files.items()))}
            manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
            _write_file(staging_fd, staging, MANIFEST, _bytes_writer(_json(manifest, indent=2)))
            step(f"sync {staging}")
            os.fsync(staging_fd)
        finally:
            os.close(staging_fd)
        step(f"rename {staging} to {generation}")
        os.rename(staging, generation, src_dir_fd=model_fd, dst_dir_fd=model_fd)
    except BaseException:
        remove_folder(model_fd, model_path, staging)
        raise


def _switch(model_fd: int, generation: str, token: str) -> None:
    """Make ``generation`` current: a synced temp pointer replaces ``CURRENT``, then the folder is synced."""
    temp = f".CURRENT-{token}.tmp"
    step(f"write {temp}")
    fd = os.open(temp, _NEW_FILE, 0o666, dir_fd=model_fd)
    try:
        try:
            os.write(fd, f"{generation}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        step(f"replace {POINTER}")
        os.replace(temp, POINTER, src_dir_fd=model_fd, dst_dir_fd=model_fd)
    except BaseException:
        step(f"remove {temp}")
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=model_fd)
        raise
    step("sync model folder")
    os.fsync(model_fd)


class _Hashing:
    """A binary file that also keeps the SHA-256 and size of what went through it.

    Large pieces are hashed by ``helper`` while this thread writes them (both release the GIL), so a
    save costs about the longer of the two rather than their sum.
    """

    def __init__(self, handle: IO[bytes], helper: ThreadPoolExecutor | None = None) -> None:
        self._handle = handle
        self._helper = helper
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self._helper is None or len(data) < _OVERLAP:
            self.digest.update(data)
            return self._handle.write(data)
        hashed = self._helper.submit(self.digest.update, data)
        try:
            return self._handle.write(data)
        finally:
            hashed.result()


_Write = Callable[[_Hashing], object]


def _write_file(
    folder_fd: int, folder: str, name: str, write: _Write, helper: ThreadPoolExecutor | None = None
) -> dict[str, Any]:
    """Create ``name`` in the folder, write it, fsync it; its manifest entry (bytes and SHA-256)."""
    step(f"write {folder}/{name}")
    with os.fdopen(os.open(name, _NEW_FILE, 0o666, dir_fd=folder_fd), "wb") as handle:
        hashing = _Hashing(handle, helper)
        write(hashing)
        handle.flush()
        os.fsync(handle.fileno())
    return {"bytes": hashing.size, "sha256": hashing.digest.hexdigest()}


def _array_writer(array: np.ndarray | Pieces) -> _Write:
    return lambda handle: write_npy(handle, array)  # type: ignore[arg-type]


def _bytes_writer(data: bytes) -> _Write:
    return lambda handle: handle.write(data)


def _json(data: Any, *, indent: int | None) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False) + "\n").encode("utf-8")


def _sync_folder(path: Path) -> None:
    fd = os.open(path, _FOLDER)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
