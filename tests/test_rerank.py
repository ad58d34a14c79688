"""Hub discounting: re-ordering candidate lists by score minus a share of the candidate's hub score."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.score.rerank import candidate_width, hub_scores, rerank


def test_rerank_hand_computed() -> None:
    neighbors = np.array([[1, 2, 3, -1]])
    scores = np.array([[0.9, 0.85, 0.5, 0.0]], dtype=np.float32)
    hubs = np.array([0.0, 0.8, 0.1, 0.0], dtype=np.float32)
    # adjusted: 0.9 - 0.2 = 0.7, 0.85 - 0.025 = 0.825, 0.5 - 0 = 0.5
    rows, kept = rerank(neighbors, scores, hubs, hub_weight=0.25, k=3)
    assert rows.tolist() == [[2, 1, 3]]
    assert kept[0] == pytest.approx([0.85, 0.9, 0.5])
    rows, _ = rerank(neighbors, scores, hubs, hub_weight=0.0, k=4)
    assert rows.tolist() == [[1, 2, 3, -1]]


def test_hub_scores_and_width() -> None:
    scores = np.tile(np.linspace(1.0, 0.0, 30, dtype=np.float32), (2, 1))
    assert hub_scores(scores) == pytest.approx([np.linspace(1.0, 0.0, 30)[:10].mean()] * 2)
    assert candidate_width(8) == 30
    assert candidate_width(20) == 40


def _reference(neighbors: np.ndarray, scores: np.ndarray, hubs: np.ndarray, weight: float, k: int) -> list:
    """Each row sorted by (adjusted score desc, score desc, row asc), empty slots last, written out."""
    out = []
    for row_neighbors, row_scores in zip(neighbors.tolist(), scores.tolist(), strict=True):
        slots = [
            (-(score - weight * float(hubs[n])), -score, n)
            if n >= 0
            else (np.inf, 0.0, np.iinfo(np.int32).max)
            for n, score in zip(row_neighbors, row_scores, strict=True)
        ]
        order = sorted(range(len(slots)), key=slots.__getitem__)[:k]
        out.append([row_neighbors[i] for i in order])
    return out


@pytest.mark.parametrize("presorted", [True, False])
def test_rerank_breaks_ties_by_score_then_row_whatever_the_input_order(presorted: bool) -> None:
    rng = np.random.default_rng(7)
    n, width = 300, 12
    # Coarse values make ties in score and in adjusted score common.
    scores = rng.integers(0, 5, (n, width)).astype(np.float32) / 4
    neighbors = np.stack([rng.permutation(n)[:width] for _ in range(n)]).astype(np.int32)
    neighbors[::7, -3:] = -1
    scores[::7, -3:] = 0.0
    if presorted:
        key = np.where(neighbors >= 0, neighbors, np.iinfo(np.int32).max)
        order = np.lexsort((key, -scores), axis=1)
        neighbors = np.take_along_axis(neighbors, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
    hubs = rng.integers(0, 3, n).astype(np.float32) / 2
    for weight, k in [(0.5, 10), (0.0, 12), (1.0, 3)]:
        rows, kept = rerank(neighbors, scores, hubs, hub_weight=weight, k=k)
        assert rows.tolist() == _reference(neighbors, scores, hubs, weight, k)
        for row in range(n):  # each kept score is that candidate's own score, unchanged
            own = dict(zip(neighbors[row].tolist(), scores[row].tolist(), strict=True))
            assert kept[row].tolist() == [own[candidate] for candidate in rows[row].tolist()]
