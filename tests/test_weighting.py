"""Term weighting: sublinear tf and BM25 saturation, checked by hand on tiny count rows."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.score.weighting import average_length, weigh


def test_log_tf_matches_hand_computation() -> None:
    counts = sp.csr_matrix(np.array([[1.0, 3.0, 0.0]]))
    idf = np.array([1.0, 2.0, 1.5])
    raw = np.array([1.0, (1 + np.log(3)) * 2.0, 0.0])
    assert weigh(counts, idf).toarray()[0] == pytest.approx(raw / np.linalg.norm(raw), rel=1e-6)


def test_bm25_saturates_and_normalises_length() -> None:
    counts = sp.csr_matrix(np.array([[2.0, 0.0], [1.0, 3.0]]))
    idf = np.ones(2)
    assert average_length(counts) == 3.0
    weights = weigh(counts, idf, tf="bm25", k1=1.2, b=0.75, reference_length=3.0).toarray()
    # Row 2 has length 4: tf part of its two terms is tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * 4 / 3)).
    scale = 1.2 * (0.25 + 0.75 * 4 / 3)
    raw = np.array([1 * 2.2 / (1 + scale), 3 * 2.2 / (3 + scale)])
    assert weights[1] == pytest.approx(raw / np.linalg.norm(raw), rel=1e-6)
    assert weights[0] == pytest.approx([1.0, 0.0])


def test_rows_stay_unit_length() -> None:
    counts = sp.random(20, 30, density=0.3, random_state=1, format="csr") * 5
    counts.data = np.ceil(counts.data)
    for tf in ("log", "bm25"):
        weights = weigh(counts, np.ones(30), tf=tf, reference_length=average_length(counts))
        norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1)).ravel())
        assert norms[norms > 0] == pytest.approx(1.0, rel=1e-5)
