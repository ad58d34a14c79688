"""Kinds of allowed values for declared parameters, and the one error message they share.

A parameter declares the kinds it accepts (``Interval("number", 0, 1)``, ``Options(("log", "bm25"))``,
``Boolean()``…); :func:`validated` returns the value as stored, or raises "NAME must be EXPECTED, got VALUE"
with EXPECTED written from those kinds. Standard library only.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from numbers import Real
from typing import Any

from .types import InvalidParameterError

__all__ = ["Allowed", "Boolean", "Interval", "Options", "Path_", "Words", "joined", "validated"]


class Allowed:
    """One kind of value a setting accepts; ``terms`` describe it in error messages and docs."""

    def accepts(self, value: object) -> bool:
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """The value as stored, once accepted (the same value unless a subclass normalises it)."""
        return value

    def terms(self) -> list[str]:
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Allowed):
    """Numbers of one ``kind`` ("int", "float" or "number") between optional bounds.

    Floats and numbers must be finite (infinity and NaN would make a NaN model) and are stored as a
    plain ``float`` (a numpy scalar or a ``Fraction`` could not be written to the manifest).

    ``closed`` says which bounds are included ("both", "left", "right"); ``noun`` follows the kind in
    messages ("an int count >= 1"); ``text`` replaces the whole description when it reads better.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    closed: str = "both"
    noun: str = ""
    text: str = ""

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind == "int":
            try:
                number: Any = operator.index(value)  # type: ignore[arg-type]
            except TypeError:
                return False
        elif isinstance(value, float if self.kind == "float" else Real):
            try:
                number = float(value)
            except (OverflowError, TypeError, ValueError):
                return False
            if not math.isfinite(number):
                return False
        else:
            return False
        low_ok = self.low is None or (
            number >= self.low if self.closed in ("both", "left") else number > self.low
        )
        high_ok = self.high is None or (
            number <= self.high if self.closed in ("both", "right") else number < self.high
        )
        return bool(low_ok and high_ok)

    def convert(self, value: Any) -> Any:
        return operator.index(value) if self.kind == "int" else float(value)

    def terms(self) -> list[str]:
        if self.text:
            return [self.text]
        article = "an" if self.kind == "int" else "a"
        # Without an upper bound, say that infinity is not a number here.
        finite = "finite" if self.kind != "int" and self.high is None else ""
        described = " ".join(part for part in (article, finite, self.kind, self.noun) if part)
        if self.low is not None and self.high is not None:
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            return [f"{described} in {left}{self.low:g}, {self.high:g}{right}"]
        if self.low is not None:
            sign = ">=" if self.closed in ("both", "left") else ">"
            return [f"{described} {sign} {self.low:g}"]
        return [described]


@dataclass(frozen=True)
class Options(Allowed):
    """One of a few literal values (compared with their type: ``True`` is not ``1``)."""

    values: tuple[object, ...]

    def accepts(self, value: object) -> bool:
        return any(type(value) is type(option) and value == option for option in self.values)

    def terms(self) -> list[str]:
        return [repr(option) for option in self.values]


class Boolean(Allowed):
    """``True`` or ``False``."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, bool)

    def terms(self) -> list[str]:
        return ["True", "False"]


class Path_(Allowed):
    """A non-empty path (a string or ``os.PathLike``), stored as a string."""

    def accepts(self, value: object) -> bool:
        import os

        return isinstance(value, str | os.PathLike) and bool(str(value).strip())

    def convert(self, value: Any) -> Any:
        import os

        return os.fspath(value)

    def terms(self) -> list[str]:
        return ["a model folder's path"]


class Words(Allowed):
    """A list (or tuple) of words, stored as a tuple so that ``Settings`` stays hashable."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, list | tuple) and all(isinstance(word, str) for word in value)

    def convert(self, value: Any) -> Any:
        return tuple(value)

    def terms(self) -> list[str]:
        return ["a list of words"]


def joined(terms: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " or " + terms[-1]


def validated(name: str, value: Any, allowed: tuple[Allowed, ...]) -> Any:
    """``value`` as stored when one of ``allowed`` accepts it, else "NAME must be EXPECTED, got VALUE"."""
    for kind in allowed:
        if kind.accepts(value):
            return kind.convert(value)
    expected = joined([term for kind in allowed for term in kind.terms()])
    message = f"{name} must be {expected}, got {value!r}"
    raise InvalidParameterError(message)
