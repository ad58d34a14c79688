"""The serving side: ``Index`` (the one engine that answers), drafts, controls, overrides, explanations.

numpy and the standard library only; never imports :mod:`recommender.build`.
"""

from __future__ import annotations

from typing import Any

from .index import Index

__all__ = ["Index", "app"]


def __getattr__(name: str) -> Any:
    """``app``, the HTTP API (``recommender.web``), imported on first use: it needs the ``serve`` extra,
    which the lookup never does."""
    if name == "app":
        from ..web import app

        return app
    message = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(message)
