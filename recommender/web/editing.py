"""The server's overrides file: read again when it changes, the last good version kept while a change
cannot be read, resolved leniently against each generation (ids the model lacks are skipped, each
distinct problem logged once, and listed in ``/healthz``), and edited by ``POST /overrides``."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from ..serve.index import Index
from ..serve.overrides import EDITS, Overrides, edit_overrides, load_overrides
from ..text.printable import encodable
from ..types import InvalidParameterError, OverridesError
from .params import HttpError

__all__ = ["OverridesFile", "parse_edit"]

_log = logging.getLogger(__name__)
#: The changes that add an article to the overrides: it must be in the model. The others remove one and
#: accept any id, so that an editor can clean up ids the model no longer has.
_ADDING = frozenset({"pin", "block", "hide", "disable"})
_MAX_ID = 1024


class OverridesFile:
    """The overrides of a server (``path`` None: it has none); see the module docstring."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.error: str | None = None  # why the file's newest version cannot be read (the last good answers)
        self._state: tuple[int, Overrides] | None = None  # the file's time and what it said
        self._failed: int | None = None  # the time of the version that could not be read
        self._fitted: dict[tuple[str, str | None, int | None], tuple[Overrides, list[str]]] = {}
        self._warned: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()
        self.editing = threading.Lock()
        self.read(first=True)  # a bad overrides file stops the start, as it stops the CLI

    @property
    def version(self) -> int | None:
        """The time of the file version answering (None: no overrides), part of every ETag."""
        return self._state[0] if self._state is not None else None

    def read(self, *, first: bool = False) -> Overrides | None:
        """The file's decisions, read again when it changed; a version that cannot be read leaves the last
        good one answering, with the error in :attr:`error` (at start it is raised)."""
        if self.path is None:
            return None
        with self._lock:
            try:
                changed = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                self._state, self.error = None, None  # none yet: the editor's first change writes the file
                return None
            except OSError as error:
                self._failing(f"{self.path}: cannot read overrides ({error.strerror or error})", first)
                return self._state[1] if self._state is not None else None
            if changed != self.version and changed != self._failed:
                try:
                    self._state, self._failed, self.error = (changed, load_overrides(self.path)), None, None
                except OverridesError as error:
                    self._failed = changed
                    self._failing(str(error), first)
            return self._state[1] if self._state is not None else None

    def _failing(self, message: str, first: bool) -> None:
        if first:
            raise OverridesError(message)
        if message != self.error:
            kept = "the last good version answers" if self._state is not None else "no overrides apply"
            _log.error("overrides file unreadable (%s): %s", kept, message)
        self.error = message

    def fitted(self, index: Index) -> tuple[Overrides | None, list[str]]:
        """The overrides for ``index``'s generation without the ids it lacks, and those ids (sorted)."""
        overrides = self.read()
        if overrides is None:
            return None, []
        key = (str(index.path), index.generation, self.version)
        found = self._fitted.get(key)
        if found is None:
            unknown = sorted(article_id for article_id in overrides.ids() if article_id not in index)
            problem = (overrides.source, str(index.path), *unknown)
            if unknown and problem not in self._warned:
                if len(self._warned) > 1000:
                    self._warned.clear()
                self._warned.add(problem)
                shown = ", ".join(repr(article_id) for article_id in unknown[:20])
                more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
                _log.warning(
                    "%s: skipping %d id(s) not in the model %s (%s): %s%s; remove them in the editor",
                    overrides.source,
                    len(unknown),
                    index.path,
                    index.generation,
                    shown,
                    more,
                )
            if len(self._fitted) > 32:
                self._fitted.clear()
            found = self._fitted[key] = (overrides.within(index) if unknown else overrides, unknown)
        return found

    def edit(self, action: str, article_id: str, other_id: str | None) -> Overrides:
        """One editor's change, written to the file at once (atomically, under a lock on its folder)."""
        if self.path is None:
            raise HttpError(409, "this server has no overrides file: start it with --overrides FILE")
        with self.editing:
            edited = edit_overrides(self.path, action, article_id, other_id)
            with self._lock:
                self._state, self._failed = None, None  # read again (with the file's time) next
        return edited


def parse_edit(body: dict[str, Any], index: Index) -> tuple[str, str, str | None]:
    """The action and ids of an editor's change (``{"action": "pin", "article_id": …, "other_id": …}``).

    An id added to the overrides must be in the model (else a 404 with suggestions); one removed may be
    any, so that ids the model no longer has can be cleaned up."""
    action = body.get("action")
    if not isinstance(action, str) or action not in EDITS:
        message = f"'action' must be one of {', '.join(EDITS)}, got {action!r:.80}"
        raise InvalidParameterError(message)
    names = ("article_id", "other_id") if EDITS[action] else ("article_id",)
    given: list[str] = []
    for name in names:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            message = f"{action} needs 'article_id'" + (" and 'other_id'" if EDITS[action] else "")
            raise InvalidParameterError(message)
        if len(value) > _MAX_ID or not encodable(value):
            message = f"'{name}' must be at most {_MAX_ID} characters of valid Unicode (no lone surrogates)"
            raise InvalidParameterError(message)
        if action in _ADDING:
            index.row(value)  # an unknown id is a 404 with suggestions
        given.append(value)
    return action, given[0], given[1] if len(given) > 1 else None
