"""Term weighting: sublinear tf and BM25 saturation, by hand on tiny rows and against scipy on many."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.score.weighting import Weighting, average_length, smoothed_idf, weigh_rows


def _weigh(counts: sp.csr_matrix, weighting: Weighting) -> np.ndarray:
    data, indices, indptr = weigh_rows(counts.data, counts.indices, counts.indptr, weighting)
    return sp.csr_matrix((data, indices, indptr), shape=counts.shape).toarray()


def test_log_tf_matches_hand_computation() -> None:
    counts = sp.csr_matrix(np.array([[1.0, 3.0, 0.0]]))
    idf = np.array([1.0, 2.0, 1.5])
    raw = np.array([1.0, (1 + np.log(3)) * 2.0, 0.0])
    assert _weigh(counts, Weighting(idf))[0] == pytest.approx(raw / np.linalg.norm(raw), rel=1e-6)


def test_bm25_saturates_and_normalises_length() -> None:
    counts = sp.csr_matrix(np.array([[2.0, 0.0], [1.0, 3.0]]))
    assert average_length(counts.data, counts.indptr) == 3.0
    weights = _weigh(counts, Weighting(np.ones(2), tf="bm25", k1=1.2, b=0.75, reference_length=3.0))
    # Row 2 has length 4: tf part of its two terms is tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * 4 / 3)).
    scale = 1.2 * (0.25 + 0.75 * 4 / 3)
    raw = np.array([1 * 2.2 / (1 + scale), 3 * 2.2 / (3 + scale)])
    assert weights[1] == pytest.approx(raw / np.linalg.norm(raw), rel=1e-6)
    assert weights[0] == pytest.approx([1.0, 0.0])


def test_smoothed_idf() -> None:
    assert smoothed_idf(np.array([1, 4]), 4) == pytest.approx([np.log(5 / 2) + 1, np.log(5 / 5) + 1])


@pytest.mark.parametrize("tf", ["log", "bm25"])
def test_equals_the_same_formula_in_scipy_to_the_bit(tf: str) -> None:
    """Row sums and norms are added in the same order as scipy's sparse sums, so the bits agree."""
    counts = sp.random(200, 300, density=0.05, random_state=7, format="csr") * 6
    counts.data = np.ceil(counts.data)
    counts = sp.csr_matrix(counts + 0.5 * (counts > 3))  # title-weighted counts are not integers
    counts.sort_indices()
    idf = smoothed_idf(np.bincount(counts.indices, minlength=300), 200)
    reference = float(np.asarray(counts.sum(axis=1)).mean())
    weighting = Weighting(idf, tf=tf, k1=1.2, b=0.75, reference_length=reference)
    expected = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    if tf == "bm25":
        lengths = np.repeat(np.asarray(expected.sum(axis=1)).ravel(), np.diff(expected.indptr))
        expected.data = expected.data * 2.2 / (expected.data + 1.2 * (0.25 + 0.75 * lengths / reference))
    else:
        expected.data = 1.0 + np.log(expected.data)
    expected.data *= idf[expected.indices]
    norms = np.sqrt(np.asarray(expected.multiply(expected).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    expected.data /= np.repeat(norms, np.diff(expected.indptr))
    data, indices, indptr = weigh_rows(counts.data, counts.indices, counts.indptr, weighting)
    assert np.array_equal(indices, counts.indices)
    assert np.array_equal(indptr, counts.indptr)
    assert np.array_equal(data, expected.data.astype(np.float32))
    norms = np.sqrt(np.bincount(np.repeat(np.arange(200), np.diff(indptr)), weights=data.astype(float) ** 2))
    assert norms[norms > 0] == pytest.approx(1.0, rel=1e-5)


def test_a_single_row_weighs_as_in_a_matrix() -> None:
    """A draft is weighed alone; an article within its corpus: the same counts give the same bits."""
    counts = sp.random(50, 80, density=0.1, random_state=3, format="csr") * 4
    counts.data = np.ceil(counts.data)
    counts.sort_indices()
    weighting = Weighting(np.linspace(1.0, 3.0, 80), tf="bm25", reference_length=17.0)
    data, _, indptr = weigh_rows(counts.data, counts.indices, counts.indptr, weighting)
    for row in (0, 17, 49):
        span = slice(counts.indptr[row], counts.indptr[row + 1])
        alone, _, _ = weigh_rows(
            counts.data[span], counts.indices[span], np.array([0, span.stop - span.start]), weighting
        )
        assert np.array_equal(alone, data[indptr[row] : indptr[row + 1]])
