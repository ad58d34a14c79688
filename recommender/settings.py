"""Build settings: every one validated here and recorded in the model's manifest (standard library only)."""

from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, fields
from typing import Any

from .types import InvalidParameterError

__all__ = ["DEFAULT_MEMORY_BUDGET", "TF_SCHEMES", "Settings", "check_k"]

#: Bytes the score blocks may use during the all-pairs search.
DEFAULT_MEMORY_BUDGET = 256 * 2**20
#: Term-frequency weightings (see recommender.score.weighting).
TF_SCHEMES = ("log", "bm25")


def check_k(k: int) -> int:
    """``k`` as an int, or a clear error when it is not a positive integer."""
    try:
        value = operator.index(k)
    except TypeError:
        value = 0
    if isinstance(k, bool) or value < 1:
        message = f"k must be a positive integer, got {k!r}"
        raise InvalidParameterError(message)
    return value


@dataclass(frozen=True)
class Settings:
    """Build settings; every one is recorded in the model's manifest.

    Attributes
    ----------
    title_weight: how many times a title's terms count relative to the body's (0 ignores titles).
    min_df: drop terms in fewer articles than this (an int count, or a float share of articles).
    max_df: drop terms in more articles than this (an int count, or a float share, 1.0 keeps all).
    ngrams: 1 for single terms, 2 to add adjacent term pairs ("north korea").
    stop_words: "english" (bundled list), "nltk" (only if installed), None, or a list of words.
    stem: reduce words to Snowball stems.
    k: neighbours stored per article: the candidate pool ``related`` answers from (beyond it, a scan).
    memory_budget: bytes the neighbour search may use for one block of scores.
    lsa_weight: share of the score from the LSA projection (0 is plain TF-IDF cosine; see blend.py).
    lsa_dims: dimensions of that projection.
    hide_duplicates: leave near-duplicates (score >= ``duplicate_threshold``) out of related lists,
        keeping one canonical article per group (earliest, then longest); see duplicates.py.
    duplicate_threshold: the score at which two articles count as near-duplicates.
    tf: "log" for sublinear ``1 + ln(tf)``, "bm25" for BM25 saturation and length normalisation.
    bm25_k1, bm25_b: BM25's saturation and length-normalisation strengths (used when tf="bm25").
    hub_weight: order lists by ``score - hub_weight * (candidate's mean top-10 score)`` (see rerank.py).
    language: "auto" (each article's ``lang`` field, else detected) or one code for all ("en", "ru"…).
    cross_language: let articles link to articles in other languages (default: same language only).
    """

    title_weight: float = 2.0
    min_df: int | float = 2
    max_df: int | float = 1.0
    ngrams: int = 1
    stop_words: str | tuple[str, ...] | None = "english"
    stem: bool = True
    k: int = 20
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    lsa_weight: float = 0.3
    lsa_dims: int = 200
    hide_duplicates: bool = True
    duplicate_threshold: float = 0.95
    hub_weight: float = 0.25
    tf: str = "bm25"
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    language: str = "auto"
    cross_language: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.stop_words, list):
            object.__setattr__(self, "stop_words", tuple(self.stop_words))
        if not isinstance(self.title_weight, int | float) or self.title_weight < 0:
            _bad("title_weight", self.title_weight, "a number >= 0")
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                _bad(name, value, "an int count or a float share in (0, 1]")
            if isinstance(value, float) and not 0.0 < value <= 1.0:
                _bad(name, value, "a float share in (0, 1] (or an int count)")
            if isinstance(value, int) and value < 1:
                _bad(name, value, "an int count >= 1 (or a float share)")
        if self.ngrams not in (1, 2):
            _bad("ngrams", self.ngrams, "1 or 2")
        check_k(self.k)
        if (
            isinstance(self.memory_budget, bool)
            or not isinstance(self.memory_budget, int)
            or self.memory_budget < 1
        ):
            _bad("memory_budget", self.memory_budget, "a positive number of bytes")
        if isinstance(self.lsa_weight, bool) or not isinstance(self.lsa_weight, int | float):
            _bad("lsa_weight", self.lsa_weight, "a number in [0, 1)")
        if not 0.0 <= self.lsa_weight < 1.0:
            _bad("lsa_weight", self.lsa_weight, "a number in [0, 1)")
        if not isinstance(self.hide_duplicates, bool):
            _bad("hide_duplicates", self.hide_duplicates, "True or False")
        if isinstance(self.duplicate_threshold, bool) or not isinstance(
            self.duplicate_threshold, int | float
        ):
            _bad("duplicate_threshold", self.duplicate_threshold, "a number in (0, 1]")
        if not 0.0 < self.duplicate_threshold <= 1.0:
            _bad("duplicate_threshold", self.duplicate_threshold, "a number in (0, 1]")
        if isinstance(self.hub_weight, bool) or not isinstance(self.hub_weight, int | float):
            _bad("hub_weight", self.hub_weight, "a number in [0, 1]")
        if not 0.0 <= self.hub_weight <= 1.0:
            _bad("hub_weight", self.hub_weight, "a number in [0, 1]")
        if self.tf not in TF_SCHEMES:
            _bad("tf", self.tf, " or ".join(repr(scheme) for scheme in TF_SCHEMES))
        for name in ("bm25_k1", "bm25_b"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                _bad(name, value, "a number >= 0")
        if self.bm25_b > 1:
            _bad("bm25_b", self.bm25_b, "a number in [0, 1]")
        if isinstance(self.lsa_dims, bool) or not isinstance(self.lsa_dims, int) or self.lsa_dims < 2:
            _bad("lsa_dims", self.lsa_dims, "an int >= 2")
        if self.language != "auto":
            from .text.languages import language_code

            object.__setattr__(self, "language", language_code(self.language))
        if not isinstance(self.cross_language, bool):
            _bad("cross_language", self.cross_language, "True or False")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        data = asdict(self)
        if isinstance(self.stop_words, tuple):
            data["stop_words"] = list(self.stop_words)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Settings from :meth:`to_dict` output, ignoring keys this version does not know.

        Keys missing from older manifests take the value that reproduces the old behaviour.
        """
        known = {field.name for field in fields(cls)}
        return cls(**{**_LEGACY, **{key: value for key, value in data.items() if key in known}})


# Settings added after format version 1's first release, as models written before them were built.
_LEGACY: dict[str, Any] = {"lsa_weight": 0.0, "hide_duplicates": False, "hub_weight": 0.0, "tf": "log"}


def _bad(name: str, value: object, expected: str) -> None:
    message = f"{name} must be {expected}, got {value!r}"
    raise InvalidParameterError(message)
