from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.build.blend import blend_rows
from recommender.build.pools import canonical_scores, settle


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


def test_scores_from_search_rows_equal_the_joined_matrix_bit_for_bit() -> None:
    rng = np.random.default_rng(2)
    terms = sp.random(120, 80, density=0.1, format="csr", dtype=np.float32, random_state=rng).toarray()
    terms[7] = 0.0  # an article without terms: its projection is zero too
    vectors = sp.csr_matrix(terms)
    components = rng.standard_normal((6, 80)).astype(np.float32)
    parts = blend_rows(vectors, components, 0.3)
    assert parts.dense is not None
    parts.dense[9, 2] = 0.0  # a zero the joined matrix does not store
    joined = parts.joined()
    assert joined.shape == parts.shape == (120, 86)
    rows, cols = rng.integers(0, 120, 900), rng.integers(0, 120, 900)
    rows[:3], cols[:3] = 7, [1, 7, 9]
    expected = canonical_scores(joined, rows, cols)
    np.testing.assert_array_equal(canonical_scores(parts, rows, cols), expected)
    np.testing.assert_array_equal(expected, (joined @ joined.T).toarray()[rows, cols])
    candidates = rng.integers(-1, 120, (120, 9))
    for left, right in zip(settle(parts, candidates, 5), settle(joined, candidates, 5), strict=True):
        np.testing.assert_array_equal(left, right)


def test_search_rows_take_and_stack_keep_rows_whole() -> None:
    rng = np.random.default_rng(3)
    vectors = sp.random(50, 40, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    components = rng.standard_normal((4, 40)).astype(np.float32)
    parts = blend_rows(vectors, components, 0.3)
    picked = np.array([5, 0, 49, 5])
    both = parts.take(picked).stack(blend_rows(vectors[:3], components, 0.3))
    expected = sp.vstack([parts.joined()[picked], parts.joined()[:3]]).toarray()
    np.testing.assert_array_equal(both.joined().toarray(), expected)
    assert both.joined().has_sorted_indices
    plain = blend_rows(vectors, None, 0.3)
    assert plain.dense is None
    assert plain.joined() is vectors  # without a projection the rows are the TF-IDF rows themselves
