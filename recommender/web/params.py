"""What a request or a server start asks for, read and checked: the ranking controls of a query string,
the client's cached copy, the models of an A/B test with their shares; and errors with their status."""

from __future__ import annotations

import hmac
import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request

from ..serve.controls import CONTROL_NAMES
from ..serve.index import Index
from ..types import InvalidParameterError, RecommenderError

__all__ = [
    "HttpError",
    "authorise",
    "controls",
    "holds",
    "integer",
    "published",
    "served_variants",
]

_FLAGS = frozenset({"past_only", "same_category", "fill"})
_NUMBERS = frozenset({"min_score", "min_relative", "mmr"})
_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def served_variants(
    model_dir: str | os.PathLike[str] | None,
    variants: Mapping[str, str | os.PathLike[str]] | None,
    split: Sequence[float] | None,
) -> tuple[dict[str, str | os.PathLike[str]], list[float]]:
    """The models to serve by variant name (one, named "default", without an experiment) and their shares."""
    if not variants:
        if model_dir is None:
            msg = "serve needs a model folder, or two or more variants"
            raise InvalidParameterError(msg)
        if split is not None:
            msg = "a split needs two or more variants (--variant NAME=MODEL)"
            raise InvalidParameterError(msg)
        return {"default": model_dir}, [100.0]
    if model_dir is not None:
        msg = "give either a model folder or variants, not both"
        raise InvalidParameterError(msg)
    names = list(variants)
    if len(names) < 2:
        msg = f"an experiment needs two or more variants, got {len(names)}"
        raise InvalidParameterError(msg)
    for name in names:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            message = f"variant name {name!r}: use 1 to 64 letters, digits, '_', '-' or '.'"
            raise InvalidParameterError(message)
    shares = [100.0 / len(names)] * len(names) if split is None else [float(share) for share in split]
    if len(shares) == len(names) - 1:  # the last variant takes the rest
        shares.append(100.0 - sum(shares))
    if (
        len(shares) != len(names)
        or any(not 0 <= share <= 100 for share in shares)
        or abs(sum(shares) - 100) > 1e-6
    ):
        message = (
            f"the split must give each of the {len(names)} variants a share in percent, summing to 100 "
            f"(or all but the last), got {list(split or [])}"
        )
        raise InvalidParameterError(message)
    return dict(variants), shares


_WHOLE = re.compile(r"[+-]?[0-9]+")


def controls(params: Mapping[str, str]) -> dict[str, Any]:
    """``k``, ``explain`` and the ranking controls from query parameters, typed as the library takes them.

    A parameter given twice is an error (which one was meant is not for the server to guess); a list such
    as ``exclude_ids`` is one comma-separated value."""
    pairs = params.multi_items() if hasattr(params, "multi_items") else list(params.items())
    repeated = sorted({name for name, _ in pairs if sum(1 for other, _ in pairs if other == name) > 1})
    if repeated:
        message = (
            f"parameter {repeated[0]!r} is given more than once; give it once (lists such as exclude_ids "
            "take one comma-separated value)"
        )
        raise InvalidParameterError(message)
    options: dict[str, Any] = {}
    for name, value in params.items():
        if name == "visitor":
            continue  # chooses the variant (Service.variant_of), not the list
        if name == "k":
            options["k"] = integer(value, "k")
        elif name == "explain" or name in _FLAGS:
            options[name] = _flag(value, name)
        elif name in _NUMBERS:
            options[name] = _number(value, name)
        elif name == "max_exposure":
            options[name] = integer(value, name)
        elif name in CONTROL_NAMES:
            options[name] = value
        else:
            known = ", ".join(("k", "explain", *CONTROL_NAMES))
            message = f"unknown parameter {name!r}; known: {known}"
            raise InvalidParameterError(message)
    return options


def _flag(value: str, name: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE or folded == "":
        return True
    if folded in _FALSE:
        return False
    message = f"{name} must be true or false, got {value!r}"
    raise InvalidParameterError(message)


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        message = f"{name} must be a number, got {value!r}"
        raise InvalidParameterError(message) from None


def integer(value: str, name: str) -> int:
    """A whole number written in plain digits (``int()`` would also take ``5_0`` as 50)."""
    if not _WHOLE.fullmatch(value.strip()):
        message = f"{name} must be a whole number, got {value!r}"
        raise InvalidParameterError(message)
    return int(value)


class HttpError(RecommenderError):
    """An error with its own HTTP status (401, 413, 429), and for 429 the seconds to wait."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def holds(request: Request, etag: str) -> bool:
    """Whether the client's ``If-None-Match`` names ``etag`` (it holds this answer already): ``*``, or the
    tag, weak (``W/"…"``) or strong, as GET compares them."""
    tags = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    return "*" in tags or etag.removeprefix("W/") in [tag.removeprefix("W/") for tag in tags]


def authorise(request: Request, token: str | None, origins: frozenset[str]) -> None:
    """Refuse a write from another site's page (403) or without the server's token (401): the header is
    ``Authorization: Bearer TOKEN`` (the scheme in any case, as HTTP's are)."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin not in origins and origin.rstrip("/").lower() != own.lower():
        raise HttpError(403, f"writes from the page of another site ({origin}) are refused")
    if token is None:
        raise HttpError(401, "this server is read-only: start it with a token (--token) to allow writes")
    scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    ):
        raise HttpError(401, "a write needs the server's token: Authorization: Bearer TOKEN")


def published(index: Index) -> str | None:
    """When the generation answering was published (its folder's time), as ISO 8601 UTC."""
    if index.generation is None:
        return None
    try:
        seconds = (index.path / index.generation).stat().st_mtime
    except OSError:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
