"""Named filesystem steps of every writer (model publish, export), so a test can stop one between any two.

Writers call :func:`step` just before each filesystem change (create, write, sync, rename, remove). In
normal use it does nothing; a test installs a hook with :func:`set_hook` that may end the process there,
as a crash or a kill would, and then checks what a reader and the next writer find.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["set_hook", "step"]

_hook: Callable[[str], None] | None = None


def step(label: str) -> None:
    """Mark the filesystem step about to happen (``label`` names it, e.g. ``"write vectors_data.npy"``)."""
    if _hook is not None:
        _hook(label)


def set_hook(hook: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Install ``hook`` (None removes it) and return the previous one; for tests."""
    global _hook
    previous, _hook = _hook, hook
    return previous
