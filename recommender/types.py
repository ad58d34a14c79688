"""Value types shared by every stage: the ``Neighbor`` result and the error hierarchy.

Standard library only, so that the lightweight lookup can import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "CorpusError",
    "EmptyCorpusError",
    "InvalidParameterError",
    "ModelFormatError",
    "ModelLockedError",
    "Neighbor",
    "OverridesError",
    "RecommenderError",
    "SharedTerm",
    "UnknownArticleError",
]


@dataclass(frozen=True)
class SharedTerm:
    """A term two linked articles share, as a readable word, and its share of the link's score."""

    term: str
    share: float


@dataclass(frozen=True)
class Neighbor:
    """One related article: who it is, its score, why it is listed, and what a link needs to show it.

    ``score`` is what the list is ordered by: the similarity less the hub discount (and decayed under
    ``half_life``), so similar links' scores never increase down a list. ``similarity`` is the plain
    cosine of the two articles (equal to ``score`` when nothing adjusts it). ``reason`` is ``similar``,
    ``pinned``, ``fill:recent-category`` or ``fill:recent``.
    """

    article_id: str
    score: float
    rank: int
    title: str = ""
    date: str | None = None
    url: str | None = None
    reason: str = "similar"
    terms: tuple[SharedTerm, ...] | None = None
    similarity: float = math.nan

    def __post_init__(self) -> None:
        if math.isnan(self.similarity):
            object.__setattr__(self, "similarity", self.score)

    def to_dict(self) -> dict[str, object]:
        """The link as a JSON-ready dict with the documented keys (``terms`` only when explained)."""
        data: dict[str, object] = {
            "article_id": self.article_id,
            "rank": self.rank,
            "score": self.score,
            "similarity": self.similarity,
            "title": self.title,
            "date": self.date,
            "url": self.url,
            "reason": self.reason,
        }
        if self.terms is not None:
            data["terms"] = [{"term": shared.term, "share": shared.share} for shared in self.terms]
        return data


class RecommenderError(Exception):
    """Base class of every error this library raises on purpose."""


class InvalidParameterError(RecommenderError, ValueError):
    """A setting or argument is out of range (for example ``k < 1``)."""


class CorpusError(RecommenderError):
    """The articles given cannot be read or fail validation; the message names file, line or record."""


class EmptyCorpusError(CorpusError):
    """The source holds no articles at all."""


class UnknownArticleError(RecommenderError, KeyError):
    """An article id that the model does not know; ``suggestions`` lists close ids."""

    def __init__(self, article_id: str, suggestions: list[str] | None = None) -> None:
        self.article_id = article_id
        self.suggestions = list(suggestions or [])
        message = f"unknown article id {article_id!r}"
        if self.suggestions:
            message += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0])


class ModelFormatError(RecommenderError):
    """A model folder is missing, corrupt, or from an unknown format version."""


class ModelLockedError(RecommenderError):
    """Another writer holds the model path's lock (and the caller asked not to wait for it)."""


class OverridesError(RecommenderError):
    """An editorial overrides file is malformed or names articles the model does not hold."""
