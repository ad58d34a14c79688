"""The LSA blend: stacked rows whose dot products are the weighted mix of the two cosines."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.build.blend import blend, fit_components


def test_blend_dot_products_mix_the_two_cosines() -> None:
    rng = np.random.default_rng(0)
    vectors = sp.csr_matrix(normalize(rng.random((12, 20)) * (rng.random((12, 20)) > 0.6)), dtype=np.float32)
    assert fit_components(vectors, 7) is None  # 12 articles are too few for 7 dimensions
    components = fit_components(vectors, 4)
    assert components is not None
    assert components.shape == (4, 20)
    mixed = blend(vectors, components, 0.3)
    projected = normalize(vectors @ components.T)
    expected = 0.7 * (vectors @ vectors.T).toarray() + 0.3 * projected @ projected.T
    assert (mixed @ mixed.T).toarray() == pytest.approx(expected, abs=1e-5)
    assert blend(vectors, components, 0.0) is vectors


def test_too_small_for_a_projection() -> None:
    assert fit_components(sp.csr_matrix(np.eye(2, dtype=np.float32)), 200) is None
    assert fit_components(sp.csr_matrix(np.eye(399, dtype=np.float32)), 200) is None
