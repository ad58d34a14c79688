"""Editorial overrides: a sidecar file of pins, blocks, hidden and disabled articles.

The file lives outside the model folder, so it survives rebuilds. JSON form::

    {"pins": {"a": ["b", "c"]}, "blocks": [["a", "d"]], "hide": ["e"], "disable": ["f"],
     "two_way_pins": false}

numpy-free, standard library only (the lookup imports it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Container, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..types import OverridesError
from .controls import Editorial

__all__ = ["EDITS", "Overrides", "OverridesFileError", "edit_overrides", "load_overrides", "save_overrides"]

log = logging.getLogger(__name__)

_KEYS = ("pins", "blocks", "hide", "disable", "two_way_pins")
#: What an editor may change, and whether the change names a second article.
EDITS = {
    "pin": True,
    "unpin": True,
    "block": True,
    "unblock": True,
    "hide": False,
    "unhide": False,
    "disable": False,
    "enable": False,
}


class OverridesFileError(OverridesError):
    """The overrides file (or its folder) cannot be read or written: the machine's problem, not the data's."""


@dataclass(frozen=True)
class Overrides:
    """Editorial decisions by article id.

    Attributes
    ----------
    pins: article id → ids shown first in its list, in this order.
    blocks: pairs never linked, in either direction.
    hide: ids never shown in any list.
    disable: ids that get no list of their own.
    two_way_pins: when ``a`` pins ``b``, ``b`` also pins ``a`` (after its own pins).
    source: where the overrides came from (named in errors).
    lenient: warn about and skip unknown ids instead of failing.
    """

    pins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    blocks: tuple[tuple[str, str], ...] = ()
    hide: frozenset[str] = field(default_factory=frozenset)
    disable: frozenset[str] = field(default_factory=frozenset)
    two_way_pins: bool = False
    source: str = "overrides"
    lenient: bool = False

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "overrides", lenient: bool = False) -> Overrides:
        """Checked overrides from parsed JSON; the message of any error names ``source`` and the key."""
        if not isinstance(data, dict):
            _fail(source, "the top level must be a JSON object with keys " + ", ".join(_KEYS))
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            _fail(source, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}")
        pins_data = data.get("pins", {})
        if not isinstance(pins_data, dict):
            _fail(source, 'pins must be an object: {"article-id": ["pinned-id", ...]}')
        pins: dict[str, tuple[str, ...]] = {}
        for article_id, pinned in pins_data.items():
            if not _is_id_list(pinned):
                _fail(source, f"pins[{article_id!r}] must be a list of article ids")
            if article_id in pinned:
                _fail(source, f"pins[{article_id!r}] pins the article to itself; remove it")
            pins[article_id] = tuple(dict.fromkeys(pinned))
        blocks_data = data.get("blocks", [])
        if not isinstance(blocks_data, list) or not all(
            _is_id_list(pair) and len(pair) == 2 for pair in blocks_data
        ):
            _fail(source, 'blocks must be a list of id pairs: [["a", "b"], ...]')
        blocks = tuple(sorted({(a, b) if a <= b else (b, a) for a, b in blocks_data}))
        sets: dict[str, frozenset[str]] = {}
        for key in ("hide", "disable"):
            value = data.get(key, [])
            if not _is_id_list(value):
                _fail(source, f"{key} must be a list of article ids")
            sets[key] = frozenset(value)
        two_way = data.get("two_way_pins", False)
        if not isinstance(two_way, bool):
            _fail(source, f"two_way_pins must be true or false, got {two_way!r}")
        blocked = {frozenset(pair) for pair in blocks}
        for article_id, pinned in pins.items():
            for other in pinned:
                if frozenset((article_id, other)) in blocked:
                    _fail(source, f"{article_id!r} both pins and blocks {other!r}; keep one of the two")
        return cls(pins, blocks, sets["hide"], sets["disable"], two_way, source, lenient)

    def to_dict(self) -> dict[str, Any]:
        """The overrides as the JSON of an overrides file (what :meth:`from_dict` reads)."""
        return {
            "pins": {article_id: list(pinned) for article_id, pinned in self.pins.items() if pinned},
            "blocks": [list(pair) for pair in self.blocks],
            "hide": sorted(self.hide),
            "disable": sorted(self.disable),
            "two_way_pins": self.two_way_pins,
        }

    def edited(self, action: str, article_id: str, other_id: str | None = None) -> Overrides:
        """These overrides with one editor's change (see :data:`EDITS`); a pin replaces a block of the same
        pair and a block a pin, so the result is always valid."""
        if action not in EDITS:
            _fail(self.source, f"unknown change {action!r}; one of {', '.join(EDITS)}")
        if EDITS[action] and (not isinstance(other_id, str) or not other_id or other_id == article_id):
            _fail(self.source, f"{action} needs a second, different article id")
        data = self.to_dict()
        pins: dict[str, list[str]] = data["pins"]
        other = str(other_id)
        pair = sorted((article_id, other))

        def without(one: str, gone: str) -> None:
            pins[one] = [pinned for pinned in pins.get(one, []) if pinned != gone]

        if action in ("pin", "unblock"):
            data["blocks"] = [existing for existing in data["blocks"] if existing != pair]
        if action == "pin" and other not in pins.get(article_id, []):
            pins.setdefault(article_id, []).append(other)
        if action == "unpin":
            without(article_id, other)
        if action == "block":
            without(article_id, other)
            without(other, article_id)
            data["blocks"] = [*(existing for existing in data["blocks"] if existing != pair), pair]
        for key, add, remove in (("hide", "hide", "unhide"), ("disable", "disable", "enable")):
            if action == add:
                data[key] = sorted({*data[key], article_id})
            elif action == remove:
                data[key] = sorted(set(data[key]) - {article_id})
        data["pins"] = {key: value for key, value in pins.items() if value}
        return Overrides.from_dict(data, source=self.source, lenient=self.lenient)

    def ids(self) -> set[str]:
        """Every article id the overrides mention."""
        mentioned = set(self.pins) | self.hide | self.disable
        for pinned in self.pins.values():
            mentioned.update(pinned)
        for pair in self.blocks:
            mentioned.update(pair)
        return mentioned

    def within(self, known: Container[str]) -> Overrides:
        """These overrides without the ids ``known`` lacks (what a lenient :meth:`resolve` skips)."""
        pins = {
            article_id: tuple(other for other in pinned if other in known)
            for article_id, pinned in self.pins.items()
            if article_id in known
        }
        return replace(
            self,
            pins={article_id: pinned for article_id, pinned in pins.items() if pinned},
            blocks=tuple((a, b) for a, b in self.blocks if a in known and b in known),
            hide=frozenset(article_id for article_id in self.hide if article_id in known),
            disable=frozenset(article_id for article_id in self.disable if article_id in known),
        )

    def resolve(self, rows: Mapping[str, int]) -> Editorial:
        """Overrides as model rows; unknown ids raise ``OverridesError`` (or warn when lenient)."""
        unknown = sorted(article_id for article_id in self.ids() if article_id not in rows)
        if unknown:
            shown = ", ".join(repr(article_id) for article_id in unknown[:20])
            more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
            if not self.lenient:
                message = (
                    f"{self.source}: {len(unknown)} id(s) not in the model: {shown}{more}; "
                    "fix or remove them (or pass --lenient to skip them with a warning)"
                )
                raise OverridesError(message)
            log.warning(
                "%s: skipping %d id(s) not in the model: %s%s", self.source, len(unknown), shown, more
            )
        pins: dict[int, list[int]] = {}
        for article_id, pinned in self.pins.items():
            if article_id in rows:
                pins.setdefault(rows[article_id], []).extend(rows[p] for p in pinned if p in rows)
        if self.two_way_pins:
            for article_id, pinned in self.pins.items():
                for other in pinned:
                    if article_id in rows and other in rows:
                        pins.setdefault(rows[other], []).append(rows[article_id])
        blocks: dict[int, set[int]] = {}
        for a, b in self.blocks:
            if a in rows and b in rows:
                blocks.setdefault(rows[a], set()).add(rows[b])
                blocks.setdefault(rows[b], set()).add(rows[a])
        return Editorial(
            pins={row: tuple(dict.fromkeys(pinned)) for row, pinned in pins.items()},
            blocks={row: frozenset(others) for row, others in blocks.items()},
            hidden=frozenset(rows[a] for a in self.hide if a in rows),
            disabled=frozenset(rows[a] for a in self.disable if a in rows),
        )


def _is_id_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def _fail(source: str, problem: str) -> None:
    message = f"{source}: {problem}"
    raise OverridesError(message)


def load_overrides(path: str | os.PathLike[str], *, lenient: bool = False) -> Overrides:
    """Read an overrides JSON file; ``lenient=True`` turns unknown ids into warnings."""
    file_path = Path(path)
    try:
        data = json.loads(file_path.read_text(encoding="utf-8"))
    except OSError as error:
        message = f"{file_path}: cannot read overrides ({error.strerror or error})"
        raise OverridesFileError(message) from None
    except ValueError as error:
        message = f"{file_path}: malformed JSON ({error}); fix the overrides file"
        raise OverridesError(message) from None
    return Overrides.from_dict(data, source=str(file_path), lenient=lenient)


def save_overrides(path: str | os.PathLike[str], overrides: Overrides) -> None:
    """Write ``overrides`` to ``path`` atomically: a reader sees the old file or the new one, whole."""
    file_path = Path(path)
    temporary = file_path.with_name(f".{file_path.name}.{secrets.token_hex(4)}.tmp")
    text = json.dumps(overrides.to_dict(), indent=2, ensure_ascii=False) + "\n"
    try:
        with open(temporary, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, file_path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()  # our own temporary file, never the user's
        message = f"{file_path}: cannot write overrides ({error.strerror or error})"
        raise OverridesFileError(message) from None
    folder = os.open(file_path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def edit_overrides(
    path: str | os.PathLike[str], action: str, article_id: str, other_id: str | None = None
) -> Overrides:
    """Apply one editor's change to the overrides file at ``path`` (created when missing) and return the
    result. The file is read, changed and replaced under an exclusive lock on its folder, so editors in
    several processes never lose each other's changes."""
    file_path = Path(path)
    try:
        folder = os.open(file_path.parent, os.O_RDONLY)
    except OSError as error:
        message = f"{file_path}: cannot write overrides in {file_path.parent} ({error.strerror or error})"
        raise OverridesFileError(message) from None
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        current = load_overrides(file_path) if file_path.exists() else Overrides(source=str(file_path))
        edited = current.edited(action, article_id, other_id)
        save_overrides(file_path, edited)
        return edited
    finally:
        os.close(folder)  # closing the folder's descriptor releases the lock
