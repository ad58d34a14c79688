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
