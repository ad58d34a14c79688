"""recommender: related articles for publishers, by TF-IDF and cosine similarity.

Light names (``Index``, ``Neighbor``, the errors) load at once; the build side (``Recommender``,
``read_articles``) is imported on first use, so ``import recommender.lookup`` never pulls in
scikit-learn, scipy, pandas or nltk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .serve.index import Index
from .types import (
    CorpusError,
    EmptyCorpusError,
    InvalidParameterError,
    ModelFormatError,
    ModelLockedError,
    Neighbor,
    OverridesError,
    RecommenderError,
    UnknownArticleError,
)

if TYPE_CHECKING:
    from .recommender import Recommender
    from .settings import Settings
    from .sources.corpus import read_articles

__all__ = [
    "CorpusError",
    "EmptyCorpusError",
    "Index",
    "InvalidParameterError",
    "ModelFormatError",
    "ModelLockedError",
    "Neighbor",
    "OverridesError",
    "Recommender",
    "RecommenderError",
    "Settings",
    "UnknownArticleError",
    "__version__",
    "read_articles",
]

_LAZY = {"Recommender": "recommender", "Settings": "settings", "read_articles": "sources.corpus"}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        message = f"module 'recommender' has no attribute {name!r}"
        raise AttributeError(message)
    from importlib import import_module

    return getattr(import_module(f".{module_name}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
