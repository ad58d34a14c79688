"""The serving-time entry point: ``from recommender.lookup import Index`` needs only numpy and the stdlib.

``Index`` lives in :mod:`recommender.serve`; this module names what a serving process needs.
"""

from __future__ import annotations

from .serve.index import Index
from .types import Neighbor, UnknownArticleError

__all__ = ["Index", "Neighbor", "UnknownArticleError"]
