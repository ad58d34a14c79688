from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.pools import canonical_scores, settle


def _matrix() -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    dense = rng.random((30, 12)).astype(np.float32)
    dense[dense < 0.6] = 0.0
    dense[3] = dense[4]  # an exact tie: rows 3 and 4 score the same with everyone
    return sp.csr_matrix(dense)


def test_canonical_scores_are_scipys_sparse_products_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    matrix = sp.random(200, 300, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    matrix.sort_indices()
    rows, cols = rng.integers(0, 200, 500), rng.integers(0, 200, 500)
    expected = (matrix @ matrix.T).toarray()[rows, cols]
    found = canonical_scores(matrix, rows, cols)
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(found, canonical_scores(matrix, cols, rows))  # either side
    dense = matrix.toarray().astype(np.float64)
    np.testing.assert_allclose(found, np.einsum("ij,ij->i", dense[rows], dense[cols]), rtol=1e-5)


def test_settle_sorts_by_score_then_row_and_cuts() -> None:
    matrix = _matrix()
    reference = (matrix @ matrix.T).toarray().astype(np.float64)
    candidates = np.array([[4, 3, 1, -1, 2], [0, 6, -1, -1, -1]])  # any order, -1 for none
    neighbors, scores = settle(matrix, candidates, 3)
    first = sorted([4, 3, 1, 2], key=lambda row: (-np.float32(reference[0, row]), row))[:3]
    assert neighbors[0].tolist() == first
    tied, tied_scores = settle(matrix, np.array([[4, 3]]), 2)
    assert tied.tolist() == [[3, 4]]  # equal scores: the lower row first
    assert tied_scores[0, 0] == tied_scores[0, 1]
    assert neighbors[1].tolist()[:2] == sorted([0, 6], key=lambda row: (-np.float32(reference[1, row]), row))
    assert neighbors[1, 2] == -1
    assert scores[1, 2] == 0.0
    np.testing.assert_allclose(scores[0], [reference[0, row] for row in first], rtol=1e-6)
