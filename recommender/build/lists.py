"""The corpus-wide build stages shared by ``fit`` and ``update``: candidate pools and the lists from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..score.rerank import candidate_width, hub_scores, rerank
from ..settings import Settings
from .blend import SearchRows
from .duplicates import canonical_of, drop_duplicates, duplicate_groups
from .neighbors import top_k
from .pools import POOL_MARGIN, settle

__all__ = ["Lists", "pool_width", "rank_pools", "rows_in", "search_pools", "top_k_within"]


def pool_width(settings: Settings) -> int:
    """How many raw candidates per article the neighbour search gathers before the lists are cut to ``k``.

    Wider than ``k`` when near-duplicates are hidden or hubs discounted (both drop or reorder candidates).
    """
    return candidate_width(settings.k) if settings.hub_weight or settings.hide_duplicates else settings.k


def search_pools(
    search: SearchRows, languages: Sequence[str], settings: Settings, *, mapper: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every article's raw candidate pool: its top ``pool_width`` rows of ``search`` (within its language
    unless ``cross_language``), scored canonically (see ``recommender.build.pools``)."""
    width = pool_width(settings)
    if settings.cross_language or len(set(languages)) < 2:
        found, _ = top_k(
            search.terms,
            width + POOL_MARGIN,
            memory_budget=settings.memory_budget,
            mapper=mapper,
            dense=search.dense,
        )
    else:
        found, _ = top_k_within(
            search, languages, width + POOL_MARGIN, memory_budget=settings.memory_budget, mapper=mapper
        )
    return settle(search, found, width)


@dataclass(frozen=True)
class Lists:
    """The stored related lists made from raw candidate pools, and what was derived on the way."""

    neighbors: np.ndarray
    scores: np.ndarray
    hubs: np.ndarray | None
    canonical: dict[int, int]


def rank_pools(
    neighbors: np.ndarray,
    scores: np.ndarray,
    settings: Settings,
    *,
    dates: Sequence[str | None],
    lengths: Sequence[int] | np.ndarray,
) -> Lists:
    """Every corpus-wide step after the neighbour search, from each article's raw candidate pool.

    Near-duplicate groups (pool scores ``>= duplicate_threshold``; the earliest, then longest, then
    first article of a group is kept) and their removal from the pools, hub scores (mean of each
    article's top ``HUB_REFERENCE`` remaining scores), the hub re-rank and the cut to ``k``. ``fit`` and
    ``recommender.build.update`` both call this, so an update derives them exactly as a build does.
    """
    canonical: dict[int, int] = {}
    if settings.hide_duplicates:
        groups = duplicate_groups(neighbors, scores, settings.duplicate_threshold)
        canonical = canonical_of(groups, dates, np.asarray(lengths).tolist())
        neighbors, scores = drop_duplicates(neighbors, scores, canonical)
    hubs = hub_scores(scores) if settings.hub_weight else None
    neighbors, scores = rerank(
        neighbors,
        scores,
        hubs if hubs is not None else np.zeros(neighbors.shape[0], dtype=np.float32),
        hub_weight=settings.hub_weight,
        k=settings.k,
    )
    return Lists(neighbors, scores, hubs, canonical)


def top_k_within(
    search: SearchRows, languages: Sequence[str], k: int, *, memory_budget: int, mapper: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`recommender.build.neighbors.top_k`, but each article's neighbours are in its language."""
    labels = np.asarray(languages, dtype=object)
    n_rows = search.shape[0]
    width = min(k, max(n_rows - 1, 0))
    neighbors = np.full((n_rows, width), -1, dtype=np.int32)
    scores = np.zeros((n_rows, width), dtype=np.float32)
    for language in sorted(set(languages)):
        rows = np.flatnonzero(labels == language)
        group = search.take(rows)
        group_neighbors, group_scores = top_k(
            group.terms, k, memory_budget=memory_budget, mapper=mapper, dense=group.dense
        )
        found = group_neighbors >= 0
        mapped = np.where(found, rows[np.where(found, group_neighbors, 0)], -1)
        neighbors[rows, : mapped.shape[1]] = mapped
        scores[rows, : mapped.shape[1]] = group_scores
    return neighbors, scores


def rows_in(languages: Sequence[str], language: str) -> np.ndarray:
    """Row numbers of the articles in ``language``."""
    return np.flatnonzero(np.asarray(languages, dtype=object) == language)
