"""The serving side: ``Index`` (the one engine that answers), drafts, controls, overrides, explanations.

numpy and the standard library only; never imports :mod:`recommender.build`.
"""

from __future__ import annotations

from .index import Index

__all__ = ["Index"]
