"""Canonical pool scores: bit-identical to scipy's sparse product, on the scipy path and compiled alike."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.build.blend import SearchRows, blend_rows
from recommender.build.neighbors import numba_available
from recommender.build.pools import canonical_scores, settle

KERNELS = ["scipy", pytest.param("numba", marks=pytest.mark.skipif(not numba_available(), reason="no numba"))]


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


def _bits(values: np.ndarray) -> np.ndarray:
    """float32 values as their bit patterns, so that equality also tells -0.0 from 0.0."""
    return np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)


def _order_sensitive(rng: np.random.Generator, shape: tuple[int, int], density: float) -> np.ndarray:
    """float32 values of both signs over seven orders of magnitude: sums that depend on the order."""
    values = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)
    values[rng.random(shape) >= density] = 0.0
    return values.astype(np.float32)


def _random_case(seed: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """A sorted float32 CSR matrix with empty rows and stored zeros, and pairs in any order."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(1, 60)), int(rng.integers(1, 150))
    density = 1.0 if seed % 8 == 7 else float(rng.uniform(0.0, 0.6))  # some with every column dense
    matrix = sp.csr_matrix(_order_sensitive(rng, (n_rows, n_cols), density))
    matrix.data[rng.random(matrix.nnz) < 0.05] = 0.0  # explicit zeros stay stored
    matrix.sort_indices()
    rows, cols = rng.integers(0, n_rows, 300), rng.integers(0, n_rows, 300)
    cols[:10] = rows[:10]  # a row with itself
    return matrix, rows, cols


@pytest.mark.parametrize("kernel", KERNELS)
def test_many_random_cases_are_scipys_product_bit_for_bit(kernel: str) -> None:
    reordered = 0
    for seed in range(40):
        matrix, rows, cols = _random_case(seed)
        expected = (matrix @ matrix.T).toarray()[rows, cols]
        assert np.array_equal(_bits(canonical_scores(matrix, rows, cols, kernel=kernel)), _bits(expected)), (
            seed
        )
        dense = matrix.toarray()
        backwards = [np.float32(0)] * len(rows)  # the same products added from the last column
        for index, (row, col) in enumerate(zip(rows, cols, strict=True)):
            for product in (dense[row] * dense[col])[::-1]:
                backwards[index] += product
        reordered += int(np.count_nonzero(_bits(np.array(backwards)) != _bits(expected)))
    assert reordered > 100  # the cases are ones where the order of the additions shows in the bits


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_dense_part_scores_as_the_joined_matrix(kernel: str) -> None:
    rng = np.random.default_rng(4)
    values = _order_sensitive(rng, (150, 90), 0.1)
    values[5] = 0.0  # an article without terms: its projection is zero too
    terms = sp.csr_matrix(values)
    dense = _order_sensitive(rng, (150, 12), 0.9)
    dense[5] = 0.0
    parts = SearchRows(terms, dense)
    joined = parts.joined()
    rows, cols = rng.integers(0, 150, 3000), rng.integers(0, 150, 3000)
    rows[:4], cols[:4] = 5, [5, 0, 1, 2]
    expected = _bits((joined @ joined.T).toarray()[rows, cols])
    assert np.array_equal(_bits(canonical_scores(parts, rows, cols, kernel=kernel)), expected)
    assert np.array_equal(_bits(canonical_scores(joined, rows, cols, kernel=kernel)), expected)
    plain = sp.csr_matrix(terms)
    plain_expected = _bits((plain @ plain.T).toarray()[rows, cols])
    assert np.array_equal(
        _bits(canonical_scores(SearchRows(plain, None), rows, cols, kernel=kernel)), plain_expected
    )


def test_both_kernels_settle_real_sized_pools_alike() -> None:
    """Enough pairs for the compiled routine to split them over threads; tf-idf-like rows plus LSA."""
    if not numba_available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(5)
    vectors = sp.random(1500, 2000, density=0.02, format="csr", dtype=np.float32, random_state=rng)
    components = rng.standard_normal((16, 2000)).astype(np.float32)
    joined = blend_rows(vectors, components, 0.3).joined()
    candidates = rng.integers(-1, 1500, (1500, 30))
    by_scipy = settle(joined, candidates, 20, kernel="scipy")
    by_numba = settle(joined, candidates, 20, kernel="numba")
    for left, right in zip(by_scipy, by_numba, strict=True):
        assert np.array_equal(left.view(np.uint32), right.view(np.uint32))
    found = by_numba[0][:50]
    subject = np.repeat(np.arange(50), found.shape[1])[found.ravel() >= 0]
    product = (joined[:50] @ joined.T).toarray()[subject, found.ravel()[found.ravel() >= 0]]
    assert np.array_equal(_bits(by_numba[1][:50].ravel()[found.ravel() >= 0]), _bits(product))


@pytest.mark.parametrize("kernel", KERNELS)
def test_rows_outside_the_matrix_are_refused(kernel: str) -> None:
    matrix = _matrix()
    with pytest.raises(IndexError, match="row 30 is not a row of the search matrix"):
        canonical_scores(matrix, np.array([0, 30]), np.array([1, 2]), kernel=kernel)
    with pytest.raises(IndexError, match="row -1 is not a row"):
        canonical_scores(matrix, np.array([0]), np.array([-1]), kernel=kernel)
    assert canonical_scores(matrix, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)
