from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.build import neighbors as neighbors_module
from recommender.build.neighbors import TilePlan, block_rows, numba_available, tile_rows, top_k, top_k_of
from recommender.types import InvalidParameterError


def _random_rows(n_rows: int, n_terms: int, density: float, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    matrix = sp.random(n_rows, n_terms, density=density, format="csr", random_state=rng, dtype=np.float64)
    return sp.csr_matrix(normalize(matrix), dtype=np.float32)


def _brute_force(vectors: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row's top-k by dense scores, ties by row, zero scores dropped."""
    dense = (vectors @ vectors.T).toarray().astype(np.float32)
    n_rows = dense.shape[0]
    width = min(k, n_rows - 1)
    neighbors = np.full((n_rows, width), -1, dtype=np.int32)
    scores = np.zeros((n_rows, width), dtype=np.float32)
    for row in range(n_rows):
        others = [col for col in range(n_rows) if col != row]
        ranked = sorted(others, key=lambda col: (-dense[row, col], col))[:width]
        for slot, col in enumerate(ranked):
            if dense[row, col] > 0:
                neighbors[row, slot] = col
                scores[row, slot] = dense[row, col]
    return neighbors, scores


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("budget", [1, 5_000, 10**9])
def test_top_k_equals_brute_force(seed: int, budget: int) -> None:
    vectors = _random_rows(120, 60, 0.05, seed)
    expected = _brute_force(vectors, 7)
    neighbors, scores = top_k(vectors, 7, memory_budget=budget)
    np.testing.assert_array_equal(neighbors, expected[0])
    np.testing.assert_allclose(scores, expected[1], atol=1e-6)


def test_ties_are_broken_by_row() -> None:
    # Rows 1..4 are identical, so row 0 ties with all of them.
    dense = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float64)
    vectors = sp.csr_matrix(normalize(dense), dtype=np.float32)
    neighbors, _ = top_k(vectors, 3)
    assert neighbors[0].tolist() == [1, 2, 3]
    assert neighbors[4].tolist() == [1, 2, 3]
    assert neighbors[5].tolist() == [-1, -1, -1]


def test_zero_rows_get_no_neighbors_and_are_no_neighbors() -> None:
    dense = np.array([[1, 0], [0, 0], [1, 1]], dtype=np.float64)
    vectors = sp.csr_matrix(normalize(dense), dtype=np.float32)
    neighbors, scores = top_k(vectors, 5)
    assert neighbors.shape == (3, 2)
    assert neighbors[1].tolist() == [-1, -1]
    assert neighbors[0].tolist() == [2, -1]
    assert scores[0, 1] == 0.0


def test_single_row_has_no_neighbors() -> None:
    neighbors, scores = top_k(sp.csr_matrix(np.ones((1, 3), dtype=np.float32)), 4)
    assert neighbors.shape == scores.shape == (1, 0)


def test_top_k_of_queries_without_exclusion() -> None:
    vectors = _random_rows(30, 20, 0.2, 3)
    neighbors, scores = top_k_of(vectors[:2], vectors.T.tocsr(), 3)
    dense = (vectors[:2] @ vectors.T).toarray()
    assert neighbors[0, 0] == 0  # a row is its own best match when not excluded
    assert scores[1, 0] == pytest.approx(dense[1].max(), abs=1e-6)


def test_block_rows_respects_budget() -> None:
    assert block_rows(1000, 10**12) == 1000
    assert block_rows(1000, 1) == 1
    assert 1 < block_rows(1000, 1000 * 12 * 10) <= 10
    with pytest.raises(InvalidParameterError, match="memory_budget"):
        block_rows(10, 0)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("budget", [1, 24 * 3 * 40**2, 10**9])
def test_tiles_and_threads_equal_brute_force(threads: int, budget: int) -> None:
    # A small budget gives many tiles, so candidates travel through both sides of off-diagonal tiles.
    vectors = _random_rows(150, 40, 0.08, 7)
    expected = _brute_force(vectors, 6)
    neighbors, scores = top_k(vectors, 6, memory_budget=budget, threads=threads)
    np.testing.assert_array_equal(neighbors, expected[0])
    # Terms are renumbered before the products, so sums run in another order: equal to rounding.
    np.testing.assert_allclose(scores, expected[1], atol=1e-6)


def test_ties_across_tiles_are_broken_by_row() -> None:
    # 30 identical rows and a few others: every row ties with all its twins, in whichever tile they sit.
    dense = np.zeros((40, 5))
    dense[:30, 0] = 1.0
    dense[30:, 1] = 1.0
    dense[35:, 2] = 1.0
    vectors = sp.csr_matrix(normalize(dense), dtype=np.float32)
    expected = _brute_force(vectors, 4)
    for budget in (1, 24 * 2 * 7**2, 10**9):
        neighbors, _ = top_k(vectors, 4, memory_budget=budget, threads=2)
        np.testing.assert_array_equal(neighbors, expected[0])
    assert neighbors[29].tolist() == [0, 1, 2, 3]


def test_unsorted_float64_input_gives_the_same_answer() -> None:
    vectors = _random_rows(80, 30, 0.1, 11)
    shuffled = sp.csr_matrix(vectors, dtype=np.float64)
    shuffled.indices = shuffled.indices.copy()
    for row in range(shuffled.shape[0]):  # reverse each row's column order: same matrix, unsorted
        start, stop = shuffled.indptr[row], shuffled.indptr[row + 1]
        shuffled.indices[start:stop] = shuffled.indices[start:stop][::-1]
        shuffled.data[start:stop] = shuffled.data[start:stop][::-1]
    shuffled.has_sorted_indices = False
    np.testing.assert_array_equal(top_k(shuffled, 5)[0], top_k(vectors, 5)[0])


def test_tile_rows_respects_budget() -> None:
    assert tile_rows(1000, 10**12, threads=2) == 1000
    assert tile_rows(1000, 1) == 1
    side = tile_rows(10**6, 256 * 2**20, threads=2)
    assert 1000 < side < 5000
    assert tile_rows(10**6, 64 * 2**20, threads=2) < side
    with pytest.raises(InvalidParameterError, match="memory_budget"):
        tile_rows(10, -5)


def test_tile_plan_covers_the_upper_triangle_once() -> None:
    vectors = _random_rows(23, 10, 0.3, 5)
    plan = TilePlan(sp.csr_matrix(vectors), 5)
    pairs = list(plan.pairs())
    assert len(pairs) == 5 * 6 // 2
    assert all(c >= r for r, c in pairs)
    assert sum(block.shape[0] for block in plan.blocks) == 23


def _with_dense_columns(n_rows: int, seed: int) -> sp.csr_matrix:
    """Sparse rows next to a few columns filled in every row, as an LSA blend makes them."""
    rng = np.random.default_rng(seed)
    sparse_part = sp.random(n_rows, 80, density=0.04, format="csr", random_state=rng, dtype=np.float64)
    dense_part = rng.normal(size=(n_rows, 6))
    stacked = sp.hstack([sparse_part, sp.csr_matrix(dense_part)], format="csr")
    return sp.csr_matrix(normalize(stacked), dtype=np.float32)


@pytest.mark.parametrize("budget", [24 * 3 * 30**2, 10**9])
def test_dense_columns_are_multiplied_apart_and_still_exact(budget: int) -> None:
    vectors = _with_dense_columns(140, 11)
    sparse_part, dense_part = neighbors_module._reorder(vectors.copy())
    assert dense_part is not None
    assert dense_part.shape == (140, 6)  # exactly the six columns filled in every row
    assert sparse_part.shape == (140, 80)
    expected = _brute_force(vectors, 5)
    neighbors, scores = top_k(vectors, 5, memory_budget=budget, kernel="scipy")
    np.testing.assert_array_equal(neighbors, expected[0])
    np.testing.assert_allclose(scores, expected[1], atol=1e-6)


needs_numba = pytest.mark.skipif(not numba_available(), reason="numba (the fast extra) is not installed")


@needs_numba
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("budget", [24 * 3 * 40**2, 10**9])
@pytest.mark.parametrize("dense", [False, True])
def test_numba_kernel_equals_scipy_kernel_and_brute_force(threads: int, budget: int, dense: bool) -> None:
    vectors = _with_dense_columns(150, 5) if dense else _random_rows(150, 40, 0.08, 7)
    expected = _brute_force(vectors, 6)
    compiled = top_k(vectors, 6, memory_budget=budget, threads=threads, kernel="numba")
    plain = top_k(vectors, 6, memory_budget=budget, threads=threads, kernel="scipy")
    np.testing.assert_array_equal(compiled[0], expected[0])
    np.testing.assert_array_equal(compiled[0], plain[0])
    np.testing.assert_array_equal(compiled[1], plain[1])  # same sums in the same order: same bits
    np.testing.assert_allclose(compiled[1], expected[1], atol=1e-6)


@needs_numba
def test_numba_kernel_breaks_ties_by_row_across_tiles() -> None:
    dense = np.zeros((40, 5))
    dense[:30, 0] = 1.0
    dense[30:, 1:] = np.arange(40)[30:, None] % 3 + 1.0
    vectors = sp.csr_matrix(normalize(dense), dtype=np.float32)
    compiled = top_k(vectors, 4, memory_budget=24 * 3 * 8**2, kernel="numba")
    np.testing.assert_array_equal(compiled[0], _brute_force(vectors, 4)[0])


def test_kernel_choice_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = _random_rows(20, 10, 0.3, 1)
    with pytest.raises(InvalidParameterError, match="kernel must be one of auto, numba, scipy"):
        top_k(vectors, 3, kernel="fortran")
    monkeypatch.setattr(neighbors_module, "numba_available", lambda: False)
    with pytest.raises(InvalidParameterError, match=r"pip install 'recommender\[fast\]'"):
        top_k(vectors, 3, kernel="numba")
    # auto falls back to scipy without numba, with the same answer.
    np.testing.assert_array_equal(top_k(vectors, 3)[0], _brute_force(vectors, 3)[0])


def test_auto_kernel_uses_numba_only_on_large_matrices() -> None:
    assert neighbors_module.resolve_kernel("auto", 10) == "scipy"
    large = neighbors_module.NUMBA_MIN_ROWS
    assert neighbors_module.resolve_kernel("auto", large) == ("numba" if numba_available() else "scipy")


@needs_numba
def test_compiled_lists_merge_without_the_compiled_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Dask client without numba merges workers' sorted lists through the plain merge: same answer.
    vectors = _random_rows(150, 40, 0.08, 9)
    expected = top_k(vectors, 6, memory_budget=24 * 3 * 40**2, kernel="numba")
    from recommender.build import tiles

    monkeypatch.setattr(tiles, "_numba_merge", lambda: None)
    plain_merge = top_k(vectors, 6, memory_budget=24 * 3 * 40**2, kernel="numba")
    np.testing.assert_array_equal(plain_merge[0], expected[0])
    np.testing.assert_array_equal(plain_merge[1], expected[1])
    np.testing.assert_array_equal(expected[0], _brute_force(vectors, 6)[0])
