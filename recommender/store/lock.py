"""The writers' lock on a model path: ``fcntl.flock`` on the ``LOCK`` file inside it (standard library only).

One writer at a time reads, computes and publishes; a second one waits (saying for whom) or, asked not
to wait, fails at once with :class:`~recommender.types.ModelLockedError`. The lock file is never removed:
a waiter may hold it open, and removing it would let a third writer lock a new file beside the first.
A thread that already holds a model's lock and asks for it again gets an error instead of a deadlock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path

from ..types import ModelLockedError
from .names import LOCK
from .steps import step

__all__ = ["ModelLock"]

_log = logging.getLogger(__name__)
#: Model paths (device, inode) locked by this process, and the thread holding each.
_held: dict[tuple[int, int], tuple[int, int]] = {}
_held_guard = threading.Lock()


class ModelLock:
    """The exclusive writers' lock of the opened model path ``model_fd``."""

    def __init__(self, model_fd: int, model_path: Path) -> None:
        self._model_fd = model_fd
        self._model_path = model_path
        info = os.fstat(model_fd)
        self._key = (info.st_dev, info.st_ino)
        self._fd: int | None = None

    def acquire(self, *, wait: bool) -> None:
        """Take the lock, waiting for another writer to finish unless ``wait`` is False."""
        me = (os.getpid(), threading.get_ident())
        with _held_guard:
            if _held.get(self._key) == me:
                message = (
                    f"{self._model_path}: this thread already holds the writer of this model; publish "
                    "through that writer instead of opening a second one"
                )
                raise ModelLockedError(message)
        fd = self._open()
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                if not wait:
                    message = (
                        f"{self._model_path}: another writer (pid {holder}) is updating this model; "
                        "try again when it has finished, or wait for it"
                    )
                    raise ModelLockedError(message) from None
                _log.warning("%s: waiting for another writer (pid %s) to finish", self._model_path, holder)
                fcntl.flock(fd, fcntl.LOCK_EX)
            step(f"record pid in {LOCK}")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        with _held_guard:
            _held[self._key] = me

    def release(self) -> None:
        """Let the next writer in (closing the file releases the flock)."""
        if self._fd is None:
            return
        with _held_guard:
            _held.pop(self._key, None)
        fd, self._fd = self._fd, None
        os.close(fd)

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            return os.open(LOCK, flags, dir_fd=self._model_fd)
        except FileNotFoundError:
            step(f"create {LOCK}")
            return os.open(LOCK, flags | os.O_CREAT, 0o666, dir_fd=self._model_fd)


def _holder(fd: int) -> str:
    """The pid the lock's holder wrote into the lock file ("unknown" while it is being written)."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return text if text.isdigit() else "unknown"
