"""Hub discounting: re-order each candidate list by ``score - hub_weight * (neighbour's mean top score)``.

Some articles (broad round-ups, long digests) are close to everything and would fill every list: "the
same posts everywhere". Like CSLS (cross-domain similarity local scaling), each candidate's score is
lowered by a share of its own mean similarity to its nearest neighbours, so a hub must be clearly closer
to this article than to its usual crowd to be listed. That discounted score is the one a list is ordered
by and shows; the plain similarity is kept beside it (explanations split the similarity).
"""

from __future__ import annotations

import numpy as np

__all__ = ["HUB_REFERENCE", "candidate_width", "discounted", "discounts", "hub_scores", "rerank"]

#: How many of an article's top scores its hub score averages.
HUB_REFERENCE = 10


def candidate_width(k: int) -> int:
    """How many candidates to gather per article before re-ranking down to ``k``."""
    return max(2 * k, k + HUB_REFERENCE, 30)


def hub_scores(scores: np.ndarray) -> np.ndarray:
    """Each article's mean score over its top ``HUB_REFERENCE`` neighbours (empty slots count as 0)."""
    width = min(HUB_REFERENCE, scores.shape[1])
    if width == 0:
        return np.zeros(scores.shape[0], dtype=np.float32)
    means: np.ndarray = np.asarray(scores[:, :width], dtype=np.float64).mean(axis=1)
    return means.astype(np.float32)


def discounts(hubs: np.ndarray | None, hub_weight: float) -> np.ndarray | None:
    """Each article's hub discount, ``hub_weight * hub`` (float32, as lists are ordered), or None when the
    model discounts no hubs."""
    if hubs is None or not hub_weight:
        return None
    return np.asarray(hub_weight * np.asarray(hubs, dtype=np.float32), dtype=np.float32)


def discounted(
    neighbors: np.ndarray, scores: np.ndarray, hubs: np.ndarray | None, *, hub_weight: float
) -> np.ndarray:
    """``scores - hub_weight * hubs[neighbors]`` in the scores' precision; empty slots give -inf."""
    valid = np.asarray(neighbors) >= 0
    if hubs is None or not hub_weight:
        return np.where(valid, scores, -np.inf)
    return np.where(valid, scores - hub_weight * hubs[np.where(valid, neighbors, 0)], -np.inf)


def rerank(
    neighbors: np.ndarray, scores: np.ndarray, hubs: np.ndarray, *, hub_weight: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` of each row's candidates by ``score - hub_weight * hubs[candidate]``.

    Ties are broken by score, then by row; empty slots (``-1``) stay last.
    """
    valid = neighbors >= 0
    adjusted = discounted(neighbors, scores, hubs, hub_weight=hub_weight)
    rows = np.where(valid, neighbors, np.iinfo(np.int32).max)
    if _ordered(scores, rows):
        # Candidates already in (score, row) order, as searches give them: one stable sort keeps it for ties.
        order = np.argsort(-adjusted, axis=1, kind="stable")[:, :k]
    else:
        order = np.lexsort((rows, -scores, -adjusted), axis=1)[:, :k]
    return (
        np.take_along_axis(neighbors, order, axis=1).astype(np.int32),
        np.take_along_axis(scores, order, axis=1).astype(np.float32),
    )


def _ordered(scores: np.ndarray, rows: np.ndarray) -> bool:
    """Whether every row's candidates are sorted by score (descending), then by row."""
    if scores.shape[1] < 2:
        return True
    higher = scores[:, :-1] > scores[:, 1:]
    tied = (scores[:, :-1] == scores[:, 1:]) & (rows[:, :-1] <= rows[:, 1:])
    return bool(np.all(higher | tied))
