"""Reading a model: the current generation's manifest, its checks, and the arrays and documents it lists.

numpy and the standard library only. Nothing is pickled and arrays can be memory-mapped.

:func:`open_model` resolves ``CURRENT`` (see :mod:`recommender.store.layout`), opens every file the
manifest lists at once, without following links, checks sizes and checksums through those descriptors,
and the :class:`ModelFolder` it returns reads only from them. So a reader keeps answering from the
generation it opened even after a writer publishes another one and removes this one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from ..types import ModelFormatError
from .checks import problem_of
from .layout import MANIFEST_DIGEST, check_entry, open_entry, read_all, read_manifest, read_pointer
from .names import ARTICLES, IDS, MANIFEST, POINTER, READABLE_VERSIONS, REBUILD, SURFACE_FORMS, VECTOR_FORMS
from .tables import StringTable

__all__ = ["ModelFolder", "current_generation", "open_model", "sha256"]

_CHUNK = 1 << 20
#: How often a reader re-reads ``CURRENT`` when the generation it named vanished (a writer's cleanup).
_ATTEMPTS = 20
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
#: Manifest keys the store writes itself; anything else in a manifest is ``extra`` (such as ``lineage``).
_OWN_KEYS = ("format", "format_version", "library_version", "parameters", "counts", "files", MANIFEST_DIGEST)


def sha256(path: Path) -> str:
    """The SHA-256 of a file."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _digest(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def _digest(fd: int, size: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(_CHUNK, size - offset), offset)
        if not chunk:
            break
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


class _Mappable:
    """The file object np.memmap maps: an open descriptor and its size, without a shared file position."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd, self._size = fd, size

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return self._size

    def tell(self) -> int:
        return self._size

    def fileno(self) -> int:
        return self._fd

    def flush(self) -> None:
        """Nothing to flush: the file is mapped read-only."""

    def read(self, size: int = -1, /) -> bytes:
        message = "a mapped model file is read through its memory map"
        raise io.UnsupportedOperation(message)

    def write(self, data: bytes, /) -> int:
        message = "a model file is never written through a reader"
        raise io.UnsupportedOperation(message)


def _read_array(fd: int, size: int, *, mmap_mode: bool) -> np.ndarray:
    """The ``.npy`` array in an open file: memory-mapped read-only, or read into memory. No pickles."""
    prefix = os.pread(fd, 12, 0)
    if len(prefix) < 10 or not prefix.startswith(np.lib.format.MAGIC_PREFIX):
        message = "not a .npy file"
        raise ValueError(message)
    major = prefix[6]
    if major not in (1, 2):
        message = f"unsupported .npy format version {major}"
        raise ValueError(message)
    end = (
        10 + int.from_bytes(prefix[8:10], "little")
        if major == 1
        else 12 + int.from_bytes(prefix[8:12], "little")
    )
    stream = io.BytesIO(os.pread(fd, end, 0))
    np.lib.format.read_magic(stream)
    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(stream)
    if dtype.hasobject:
        message = "object arrays cannot be loaded when allow_pickle=False"
        raise ValueError(message)
    count = math.prod(shape)
    if end + count * dtype.itemsize > size:
        message = f"the file holds fewer bytes than its {shape} {dtype} array needs"
        raise ValueError(message)
    order: Literal["C", "F"] = "F" if fortran else "C"
    if mmap_mode:
        mapped: np.ndarray = np.memmap(
            _Mappable(fd, size), dtype=dtype, mode="r", offset=end, shape=shape, order=order
        )
        return mapped
    flat = np.empty(count, dtype=dtype)
    target = flat.view(np.uint8).data
    done = 0
    while done < flat.nbytes:
        read = os.preadv(fd, [target[done:]], end + done)
        if read <= 0:
            message = "the file ended early"
            raise ValueError(message)
        done += read
    shaped: np.ndarray = flat.reshape(shape, order=order)
    return shaped


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class ModelFolder:
    """One generation of a model, opened: its manifest, and its arrays and documents read from open files.

    ``path`` is the folder the files are in (for messages), ``model_path`` the path that was opened and
    ``generation`` the generation's name (None for a legacy flat folder). Answers never change, whatever
    happens to the path; :meth:`close` (or leaving a ``with`` block) releases the files. Arrays handed
    out stay valid after closing.
    """

    def __init__(
        self,
        *,
        model_path: Path,
        generation: str | None,
        manifest: dict[str, Any],
        files: dict[str, tuple[int, int]],
        mmap: bool,
        verified: bool = False,
    ) -> None:
        self.model_path = model_path
        self.generation = generation
        self.path = model_path if generation is None else model_path / generation
        self.manifest = manifest
        self._files = files
        self._mmap = mmap
        # Files whose checksums matched are what a writer wrote: their structure needs no second look.
        self._verified = verified
        self._checked: set[str] = set()
        self._closer = weakref.finalize(self, _close_all, [fd for fd, _ in files.values()])

    def __enter__(self) -> ModelFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the open files (arrays already handed out stay readable)."""
        self._closer()
        self._files = {}

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

    @property
    def version(self) -> int:
        """The folder's format version."""
        return int(self.manifest["format_version"])

    def array(self, name: str) -> np.ndarray:
        """The array ``<name>.npy``, memory-mapped read-only unless the folder was opened with mmap=False.

        In a folder opened without verifying checksums, the first read of each array also checks its
        structure (see ``recommender.store.checks``); verified files are as their writer wrote them.
        """
        file_name = f"{name}.npy"
        fd, size = self._file(file_name)
        try:
            array = _read_array(fd, size, mmap_mode=self._mmap)
        except Exception as error:  # numpy's header parser raises ValueError, SyntaxError, TokenError...
            message = f"{self.path / file_name}: unreadable array ({error}); {self._rebuild}"
            raise ModelFormatError(message) from None
        if not self._verified and name not in self._checked:
            problem = problem_of(name, array, self._bounds(name))
            if problem is not None:
                message = f"{self.path / file_name}: damaged array ({problem}); {self._rebuild}"
                raise ModelFormatError(message)
            self._checked.add(name)
        return array

    def _bounds(self, name: str) -> dict[str, int]:
        """The counts the structural checks hold ``name`` to: the manifest's, and for the entries' word
        rows the rows of the surface-form table (from its offsets' header; no data read)."""
        bounds = dict(self.counts)
        offsets = f"{SURFACE_FORMS}_offsets.npy"
        if name == VECTOR_FORMS and offsets in self._files:
            with contextlib.suppress(Exception):  # a damaged table is reported when it is read itself
                bounds[SURFACE_FORMS] = len(_read_array(*self._files[offsets], mmap_mode=True)) - 1
        return bounds

    def has(self, name: str) -> bool:
        """Whether the folder holds ``<name>.npy`` or ``<name>.json``."""
        files = self.manifest["files"]
        return f"{name}.npy" in files or f"{name}.json" in files

    def strings(self, name: str) -> StringTable:
        """The string table ``<name>`` (``<name>_bytes.npy`` + ``<name>_offsets.npy``), memory-mapped."""
        return StringTable(
            self.array(f"{name}_bytes"), self.array(f"{name}_offsets"), source=f"{self.path / name}_*.npy"
        )

    def document(self, name: str) -> Any:
        """The parsed JSON document ``<name>.json`` (ids and articles: from their tables in version 2)."""
        if self.version >= 2 and name == IDS:
            return self.strings(IDS).to_list()
        if self.version >= 2 and name == ARTICLES:
            return [json.loads(text) for text in self.strings(ARTICLES).to_list()]
        file_name = f"{name}.json"
        fd, size = self._file(file_name)
        try:
            data = read_all(fd, size)
        except OSError as error:
            message = f"{self.path / file_name}: unreadable JSON ({error}); {self._rebuild}"
            raise ModelFormatError(message) from None
        # Documents are small and read whole: unverified folders check their checksum all the same, since
        # a changed key or value would otherwise reach the code that reads it.
        if (
            not self._verified
            and hashlib.sha256(data).hexdigest() != self.manifest["files"][file_name]["sha256"]
        ):
            message = f"{self.path / file_name}: checksum mismatch (file changed or damaged); {self._rebuild}"
            raise ModelFormatError(message)
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError as error:
            message = f"{self.path / file_name}: unreadable JSON ({error}); {self._rebuild}"
            raise ModelFormatError(message) from None

    def parts(self) -> dict[str, Any]:
        """Every array, document and manifest field as ``write_model``'s keyword arguments.

        Publishing them again gives the same model in the current format (how ``upgrade`` works).
        """
        arrays: dict[str, np.ndarray] = {}
        documents: dict[str, Any] = {}
        for file_name in self.manifest["files"]:
            name, _, extension = file_name.rpartition(".")
            if extension == "npy":
                arrays[name] = self.array(name)
            else:
                documents[name] = self.document(name)
        return {
            "arrays": arrays,
            "documents": documents,
            "parameters": self.parameters,
            "counts": self.counts,
            "extra": {key: value for key, value in self.manifest.items() if key not in _OWN_KEYS},
        }

    @property
    def _rebuild(self) -> str:
        return REBUILD.format(path=self.model_path)

    def _file(self, file_name: str) -> tuple[int, int]:
        if file_name not in self.manifest["files"]:
            message = f"{self.path}: the manifest lists no {file_name}; {self._rebuild}"
            raise ModelFormatError(message)
        if not self._closer.alive:
            message = f"{self.path}: this ModelFolder was closed; open the model again"
            raise ValueError(message)
        return self._files[file_name]


class _Vanished(ModelFormatError):
    """A file of the generation being opened is gone: a writer removed it, or the model is damaged."""


def open_model(path: str | os.PathLike[str], *, verify: bool = True, mmap: bool = True) -> ModelFolder:
    """Open and check the current generation of a model: manifest, format version, every listed file.

    Every file is opened here and checked by size (and, with ``verify``, SHA-256); the folder then reads
    only from these open files. ``verify=False`` skips the SHA-256 pass for the fastest serving start.
    """
    model_path = Path(path)
    model_fd = _open_model_path(model_path)
    try:
        for _ in range(_ATTEMPTS):
            generation = read_pointer(model_fd, model_path)
            try:
                return _open_generation(model_fd, model_path, generation, verify=verify, mmap=mmap)
            except _Vanished:
                if read_pointer(model_fd, model_path) == generation:
                    raise
    finally:
        os.close(model_fd)
    message = f"{model_path}: the model changed {_ATTEMPTS} times while it was being opened; try again"
    raise ModelFormatError(message)


def _open_model_path(model_path: Path) -> int:
    try:
        return os.open(model_path, _FOLDER)
    except (FileNotFoundError, NotADirectoryError):
        if model_path.is_file():
            message = (
                f"{model_path}: is a file, not a model folder; give the folder a build wrote "
                "(recommender build CORPUS -o MODEL_DIR)"
            )
        else:
            message = (
                f"{model_path}: no such model folder; build one with: recommender build CORPUS -o "
                f"{model_path}"
            )
        raise ModelFormatError(message) from None


def _open_generation(
    model_fd: int, model_path: Path, generation: str | None, *, verify: bool, mmap: bool
) -> ModelFolder:
    """Open every file of ``generation`` (None: the legacy flat folder); _Vanished if one is gone."""
    rebuild = REBUILD.format(path=model_path)
    folder = model_path if generation is None else model_path / generation
    try:
        folder_fd = os.open(generation or ".", _FOLDER | os.O_NOFOLLOW, dir_fd=model_fd)
    except FileNotFoundError:
        message = f"{folder}: missing, although {model_path / POINTER} names it; {rebuild}"
        raise _Vanished(message) from None
    except OSError as error:
        message = f"{folder}: not a generation folder ({error.strerror}); {rebuild}"
        raise ModelFormatError(message) from None
    files: dict[str, tuple[int, int]] = {}
    try:
        manifest = _checked_manifest(folder_fd, folder, rebuild)
        for file_name in manifest["files"]:
            files[file_name] = _open_listed(folder_fd, folder, file_name, rebuild)
        for file_name, expected in manifest["files"].items():
            if files[file_name][1] != expected["bytes"]:
                message = (
                    f"{folder / file_name}: size differs from the manifest (file changed or truncated); "
                    f"{rebuild}"
                )
                raise ModelFormatError(message)
        if verify:
            _verify(files, manifest["files"], folder, rebuild)
    except BaseException:
        _close_all([fd for fd, _ in files.values()])
        raise
    finally:
        os.close(folder_fd)
    return ModelFolder(
        model_path=model_path,
        generation=generation,
        manifest=manifest,
        files=files,
        mmap=mmap,
        verified=verify,
    )


def _verify(files: dict[str, tuple[int, int]], listed: dict[str, Any], folder: Path, rebuild: str) -> None:
    """Every file's SHA-256 against the manifest, two files at a time (hashing releases the GIL)."""
    names = list(listed)
    with ThreadPoolExecutor(2, thread_name_prefix="recommender-verify") as pool:
        digests = pool.map(lambda name: _digest(*files[name]), names)
        for file_name, digest in zip(names, digests, strict=True):
            if digest != listed[file_name]["sha256"]:
                message = f"{folder / file_name}: checksum mismatch (file changed or corrupt); {rebuild}"
                raise ModelFormatError(message)


def _checked_manifest(folder_fd: int, folder: Path, rebuild: str) -> dict[str, Any]:
    """The folder's manifest, checked: our format, a readable version, a list of plain file names."""
    try:
        manifest = read_manifest(folder_fd, folder, rebuild)
    except FileNotFoundError:
        message = f"{folder}: not a recommender model (no {MANIFEST}); {rebuild}"
        raise _Vanished(message) from None
    version = manifest.get("format_version")
    newer = isinstance(version, int) and not isinstance(version, bool) and version > max(READABLE_VERSIONS)
    if type(version) is not int or version not in READABLE_VERSIONS:  # not true, nor 1.0
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        advice = "it was written by a newer release: upgrade this library (pip install -U recommender)"
        message = (
            f"{folder}: model format version {version!r} is not supported by this library "
            f"(it reads versions {readable}); {advice if newer else rebuild}"
        )
        raise ModelFormatError(message)
    files = manifest.get("files")
    if not isinstance(files, dict):
        message = f"{folder / MANIFEST}: corrupt manifest (no file list); {rebuild}"
        raise ModelFormatError(message)
    for file_name, expected in files.items():
        check_entry(file_name, folder / MANIFEST, rebuild)
        if not (
            isinstance(expected, dict)
            and isinstance(expected.get("bytes"), int)
            and isinstance(expected.get("sha256"), str)
        ):
            message = (
                f"{folder / MANIFEST}: corrupt manifest (entry {file_name!r} has no size and checksum); "
                f"{rebuild}"
            )
            raise ModelFormatError(message)
    return manifest


def _open_listed(folder_fd: int, folder: Path, file_name: str, rebuild: str) -> tuple[int, int]:
    try:
        return open_entry(folder_fd, file_name, folder, rebuild)
    except FileNotFoundError:
        message = f"{folder / file_name}: missing from the model folder; {rebuild}"
        raise _Vanished(message) from None


def current_generation(path: str | os.PathLike[str]) -> str | None:
    """The name of the generation ``CURRENT`` names (None for a legacy flat folder); cheap, for reloads."""
    model_path = Path(path)
    model_fd = _open_model_path(model_path)
    try:
        return read_pointer(model_fd, model_path)
    finally:
        os.close(model_fd)
