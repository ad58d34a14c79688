"""Ranking controls applied at lookup time: recency, filters, thresholds, fill, diversity, exposure.

numpy and the standard library only, so the serving-side ``Index`` and the batch export share one
implementation. ``choose`` turns a subject article and a lazy stream of candidates (best first) into
the final list of ``Pick`` rows, each with the reason it is listed.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..types import InvalidParameterError

__all__ = ["CONTROL_NAMES", "Catalog", "Controls", "Editorial", "Pick", "choose", "parse_duration"]

SIMILAR = "similar"
PINNED = "pinned"
FILL_CATEGORY = "fill:recent-category"
FILL_RECENT = "fill:recent"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy]?)\s*$", re.IGNORECASE)
_UNIT_DAYS = {"": 1.0, "d": 1.0, "w": 7.0, "m": 30.0, "y": 365.0}


def parse_duration(value: object, *, name: str = "duration") -> float:
    """Days in ``value``: a number of days or a text such as ``365d``, ``12w``, ``6m`` or ``2y``."""
    if isinstance(value, bool):
        days = -1.0
    elif isinstance(value, int | float):
        days = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        days = float(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]
    else:
        days = -1.0
    if not math.isfinite(days) or days <= 0:
        message = f"{name} must be a positive number of days or a text like 365d, 12w, 6m, 2y; got {value!r}"
        raise InvalidParameterError(message)
    return days


def _words(value: object, name: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, Iterable):
        message = f"{name} must be a list of strings (or one comma-separated string), got {value!r}"
        raise InvalidParameterError(message)
    words = [str(item).strip() for item in value]
    return frozenset(word for word in words if word)


def _switch(value: object, name: str) -> bool:
    """A yes/no control: a real bool, so that ``"false"`` or ``"no"`` is not taken for True."""
    if not isinstance(value, bool | np.bool_):
        message = f"{name} must be True or False, got {value!r}"
        raise InvalidParameterError(message)
    return bool(value)


def _share(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        message = f"{name} must be a number between 0 and 1, got {value!r}"
        raise InvalidParameterError(message)
    return float(value)


@dataclass(frozen=True)
class Controls:
    """Validated ranking controls; build them with :meth:`make` from keyword arguments.

    Durations are in days; categories and tags compare case-insensitively.
    """

    max_age: float | None = None
    past_only: bool = False
    half_life: float | None = None
    same_category: bool = False
    exclude_ids: frozenset[str] = field(default_factory=frozenset)
    exclude_categories: frozenset[str] = field(default_factory=frozenset)
    exclude_tags: frozenset[str] = field(default_factory=frozenset)
    include_tags: frozenset[str] = field(default_factory=frozenset)
    min_score: float = 0.0
    min_relative: float = 0.0
    fill: bool = False
    mmr: float | None = None
    max_exposure: int | None = None

    @classmethod
    def make(cls, **options: Any) -> Controls:
        """Controls from keyword arguments (``max_age="365d"``, ``exclude_tags=["x"]``, ...)."""
        unknown = sorted(set(options) - set(CONTROL_NAMES))
        if unknown:
            message = f"unknown ranking control(s) {', '.join(unknown)}; known: {', '.join(CONTROL_NAMES)}"
            raise InvalidParameterError(message)
        values: dict[str, Any] = {}
        for name in ("max_age", "half_life"):
            if options.get(name) is not None:
                values[name] = parse_duration(options[name], name=name)
        for name in ("past_only", "same_category", "fill"):
            if options.get(name) is not None:
                values[name] = _switch(options[name], name)
        values["exclude_ids"] = _words(options.get("exclude_ids"), "exclude_ids")
        for name in ("exclude_categories", "exclude_tags", "include_tags"):
            values[name] = frozenset(w.casefold() for w in _words(options.get(name), name))
        min_score = options.get("min_score")
        if min_score is not None:
            if (
                isinstance(min_score, bool)
                or not isinstance(min_score, int | float)
                or not 0 <= min_score < math.inf
            ):
                message = f"min_score must be a finite number >= 0, got {min_score!r}"
                raise InvalidParameterError(message)
            values["min_score"] = float(min_score)
        if options.get("min_relative") is not None:
            values["min_relative"] = _share(options["min_relative"], "min_relative")
        mmr = options.get("mmr")
        if mmr is not None:
            if _share(mmr, "mmr") == 0.0:
                message = "mmr must be a lambda in (0, 1]: 1 is pure relevance, lower values favour diversity"
                raise InvalidParameterError(message)
            values["mmr"] = float(mmr)
        cap = options.get("max_exposure")
        if cap is not None:
            if isinstance(cap, bool) or not isinstance(cap, int | np.integer) or cap < 1:
                message = f"max_exposure must be a positive integer, got {cap!r}"
                raise InvalidParameterError(message)
            values["max_exposure"] = int(cap)
        return cls(**values)

    @property
    def active(self) -> bool:
        """True when any control differs from the default (plain stored top-k)."""
        return self != Controls()


CONTROL_NAMES = tuple(f.name for f in fields(Controls))


@dataclass(frozen=True)
class Editorial:
    """Editorial overrides resolved to model rows (see ``recommender.serve.overrides``)."""

    pins: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    blocks: Mapping[int, frozenset[int]] = field(default_factory=dict)
    hidden: frozenset[int] = field(default_factory=frozenset)
    disabled: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Pick:
    """One chosen row: the score it is ordered by and shows, its plain similarity, why it is listed."""

    row: int
    score: float
    reason: str
    similarity: float


def _ordinal(date: object) -> float:
    if not isinstance(date, str) or len(date) < 10:
        return math.nan
    try:
        return float(_dt.date.fromisoformat(date[:10]).toordinal())
    except ValueError:
        return math.nan


class Catalog:
    """Per-article dates, categories, tags and languages, pre-parsed once for fast filtering."""

    def __init__(self, metadata: Sequence[Mapping[str, Any]], *, same_language: bool = True) -> None:
        self.languages = [str(meta.get("lang") or "") for meta in metadata]
        # Lists stay within a language, as the build's neighbour search does, unless it was cross-language.
        self.same_language = same_language and len(set(self.languages)) > 1
        self.days = np.array([_ordinal(meta.get("date")) for meta in metadata], dtype=np.float64)
        self.categories = [str(meta.get("category") or "").casefold() for meta in metadata]
        self.tags = [frozenset(str(tag).casefold() for tag in meta.get("tags") or []) for meta in metadata]
        # Most recent first; undated last; ties by row, so the order is deterministic.
        keys = np.where(np.isnan(self.days), -np.inf, self.days)
        self.recent = np.lexsort((np.arange(len(keys)), -keys)).tolist()
        self._by_category: dict[str, list[int]] | None = None

    def recent_in_category(self, category: str) -> list[int]:
        """Rows of ``category``, most recent first."""
        if self._by_category is None:
            self._by_category = {}
            for row in self.recent:
                self._by_category.setdefault(self.categories[row], []).append(row)
        return self._by_category.get(category, [])


def choose(
    subject: int,
    *,
    k: int,
    controls: Controls,
    catalog: Catalog,
    candidates: Callable[[], Iterator[tuple[int, float]]],
    similarity: Callable[[Sequence[int]], np.ndarray],
    pair_similarity: Callable[[Sequence[int]], np.ndarray],
    discount: Callable[[Sequence[int]], np.ndarray] | None = None,
    editorial: Editorial | None = None,
    exposure: Mapping[int, int] | None = None,
    excluded_rows: Iterable[int] = (),
) -> list[Pick]:
    """The final list for ``subject``: pins first, then similar articles, then fill, at most ``k``.

    ``candidates()`` yields ``(row, cosine)`` best first, with a ``(-1, 0.0)`` marker where the stored
    pool ends and a costlier search begins; ``similarity(rows)`` gives the subject's
    cosine with each row; ``pair_similarity(rows)`` the cosine matrix among rows (for MMR);
    ``discount(rows)`` each row's hub discount (none when omitted). Every link's score is
    ``cosine × decay − discount``, the score similar links are ordered by.
    """
    scoring = _Scoring(subject, controls, catalog, discount)
    editorial = editorial or Editorial()
    if subject in editorial.disabled:
        return []
    excluded = {subject, *excluded_rows} | set(editorial.hidden) | set(editorial.blocks.get(subject, ()))
    picks: list[Pick] = []
    pinned = [row for row in editorial.pins.get(subject, ()) if row not in excluded][:k]
    pinned = list(dict.fromkeys(pinned))
    if pinned:
        picks.extend(scoring.picks(pinned, similarity(pinned), [PINNED] * len(pinned)))
    excluded.update(pinned)
    eligible = _Eligibility(subject, controls, catalog, excluded, exposure)
    need = k - len(picks)
    if need > 0:
        picks.extend(_similar(need, controls, scoring, candidates, pair_similarity, eligible, pinned))
    if controls.fill and len(picks) < k:
        taken = {pick.row for pick in picks}
        sources: list[tuple[list[int], str]] = [(catalog.recent, FILL_RECENT)]
        if catalog.categories[subject]:
            sources.insert(0, (catalog.recent_in_category(catalog.categories[subject]), FILL_CATEGORY))
        fills: list[tuple[int, str]] = []
        for rows, reason in sources:
            for row in rows:
                if len(picks) + len(fills) >= k:
                    break
                if row not in taken and eligible(row):
                    taken.add(row)
                    fills.append((row, reason))
        if fills:
            rows = [row for row, _ in fills]
            picks.extend(scoring.picks(rows, similarity(rows), [reason for _, reason in fills]))
    return picks


class _Scoring:
    """The score a link of ``subject`` is ordered by and shows: ``cosine × decay − hub discount``.

    float32 like the stored lists, so that with no decay a list keeps the order the build gave it.
    """

    def __init__(
        self,
        subject: int,
        controls: Controls,
        catalog: Catalog,
        discount: Callable[[Sequence[int]], np.ndarray] | None,
    ) -> None:
        self.subject, self.controls, self.catalog, self._discount = subject, controls, catalog, discount
        self.discounts = discount is not None

    def __call__(self, rows: list[int], similarities: np.ndarray) -> np.ndarray:
        scores = np.asarray(similarities, dtype=np.float32)
        if self.controls.half_life is not None:
            factors = _decay(self.subject, rows, self.catalog, self.controls.half_life)
            scores = (scores * factors).astype(np.float32)
        if self._discount is not None and rows:
            scores = scores - np.asarray(self._discount(rows), dtype=np.float32)
        return scores

    def picks(self, rows: list[int], similarities: np.ndarray, reasons: list[str]) -> list[Pick]:
        """``Pick`` rows in the given order, each with its score and similarity."""
        scores = self(rows, similarities).tolist()
        return [
            Pick(row, float(score), reason, float(cosine))
            for row, score, reason, cosine in zip(
                rows, scores, reasons, np.asarray(similarities).tolist(), strict=True
            )
        ]


class _Eligibility:
    """Hard rules (exclusions, category and tag filters, recency limits, exposure cap) for one subject."""

    def __init__(
        self,
        subject: int,
        controls: Controls,
        catalog: Catalog,
        excluded: set[int],
        exposure: Mapping[int, int] | None,
    ) -> None:
        self.controls = controls
        self.catalog = catalog
        self.excluded = excluded
        self.exposure = exposure if controls.max_exposure is not None else None
        self.category = catalog.categories[subject]
        self.language = catalog.languages[subject]
        self.day = catalog.days[subject]

    def __call__(self, row: int) -> bool:
        controls, catalog = self.controls, self.catalog
        if row in self.excluded:
            return False
        if catalog.same_language and catalog.languages[row] != self.language:
            return False
        if controls.same_category and self.category and catalog.categories[row] != self.category:
            return False
        if controls.exclude_categories and catalog.categories[row] in controls.exclude_categories:
            return False
        tags = catalog.tags[row]
        if controls.exclude_tags and tags & controls.exclude_tags:
            return False
        if controls.include_tags and not tags & controls.include_tags:
            return False
        if not math.isnan(self.day) and not math.isnan(catalog.days[row]):
            age = self.day - catalog.days[row]  # > 0: the candidate is older than the subject
            if controls.past_only and age < 0:
                return False
            if controls.max_age is not None and age > controls.max_age:
                return False
        if self.exposure is not None and controls.max_exposure is not None:
            return self.exposure.get(row, 0) < controls.max_exposure
        return True


def _similar(
    need: int,
    controls: Controls,
    scoring: _Scoring,
    candidates: Callable[[], Iterator[tuple[int, float]]],
    pair_similarity: Callable[[Sequence[int]], np.ndarray],
    eligible: _Eligibility,
    pinned: list[int],
) -> list[Pick]:
    # Without reranking the first `need` eligible candidates are final; with decay, MMR or a hub discount
    # (the search past the stored pool gives candidates by plain cosine) keep a few times more so that
    # the reranked top is drawn from a real pool.
    rerank = controls.half_life is not None or controls.mmr is not None or scoring.discounts
    wanted = max(need * 4, need + 20) if rerank else need
    rows: list[int] = []
    similarities: list[float] = []
    for row, similarity in candidates():
        if row < 0:  # the end of the stored pool: search further only when it came up short
            if len(rows) >= need:
                break
            continue
        if similarity <= 0 or not eligible(row):
            continue
        rows.append(row)
        similarities.append(similarity)
        if len(rows) >= wanted:
            break
    if not rows:
        return []
    cosines = np.asarray(similarities, dtype=np.float32)
    scores = scoring(rows, cosines)
    # Ties as the build breaks them: by similarity, then by row.
    order = np.lexsort((np.asarray(rows), -cosines, -scores))
    rows = [rows[i] for i in order.tolist()]
    scores, cosines = scores[order], cosines[order]
    keep = scores >= controls.min_score if controls.min_score > 0 else np.ones(len(rows), dtype=bool)
    if controls.min_relative > 0 and scores[0] > 0:
        keep &= scores >= controls.min_relative * scores[0]
    rows = [row for row, ok in zip(rows, keep.tolist(), strict=True) if ok]
    scores, cosines = scores[keep], cosines[keep]
    if controls.mmr is not None and len(rows) > 1:
        chosen = _mmr(rows, scores.astype(np.float64), need, controls.mmr, pair_similarity, pinned)
    else:
        chosen = list(range(min(need, len(rows))))
    return [Pick(rows[i], float(scores[i]), SIMILAR, float(cosines[i])) for i in chosen]


def _decay(subject: int, rows: list[int], catalog: Catalog, half_life: float) -> np.ndarray:
    """``0.5 ** (age / half_life)`` per candidate; newer-than-subject articles are not decayed.

    Undated candidates (or an undated subject) are never boosted by freshness: they get the factor of
    the oldest dated candidate in the pool (1 when none is dated).
    """
    day = catalog.days[subject]
    if math.isnan(day):
        return np.ones(len(rows))
    ages = day - catalog.days[np.asarray(rows)]
    factors = 0.5 ** (np.clip(ages, 0.0, None) / half_life)
    undated = np.isnan(factors)
    if undated.any():
        factors[undated] = np.nanmin(factors) if not undated.all() else 1.0
    return np.asarray(factors, dtype=np.float64)


def _mmr(
    rows: list[int],
    relevance: np.ndarray,
    need: int,
    weight: float,
    pair_similarity: Callable[[Sequence[int]], np.ndarray],
    pinned: list[int],
) -> list[int]:
    """Maximal marginal relevance: greedily maximise ``weight·relevance − (1−weight)·max sim to chosen``."""
    every = rows + pinned
    matrix = pair_similarity(every)
    redundancy = np.full(len(rows), -np.inf)
    if pinned:
        redundancy = matrix[: len(rows), len(rows) :].max(axis=1)
    chosen: list[int] = []
    available = np.ones(len(rows), dtype=bool)
    for _ in range(min(need, len(rows))):
        penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
        value = weight * relevance - (1.0 - weight) * penalty
        value[~available] = -np.inf
        best = int(np.argmax(value))  # first maximum: ties go to the better-ranked candidate
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, matrix[: len(rows), best])
    return chosen
