from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.build import pruning
from recommender.build.neighbors import _reorder, numba_available, plan_tiles, top_k
from recommender.types import InvalidParameterError

pytestmark = pytest.mark.skipif(not numba_available(), reason="numba (the fast extra) is not installed")


def _topic_rows(
    n_rows: int, seed: int, *, n_terms: int = 4000, topics: int = 60, words: int = 15, copies: int = 0
) -> sp.csr_matrix:
    """Log-tf TF-IDF rows of a Zipf background plus 20 words of one of ``topics`` topics of ``words`` words
    (like the benchmarks' synthetic corpus, small; no word in half the rows), the last ``copies`` rows
    repeating earlier ones."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, n_terms + 1, dtype=np.float64)
    cumulative = np.cumsum(1.0 / ranks) / np.sum(1.0 / ranks)
    background = np.minimum(np.searchsorted(cumulative, rng.random((n_rows, 80))), n_terms - 1)
    topic_words = rng.integers(50, n_terms, size=(topics, words))
    story = rng.integers(0, topics, size=n_rows)
    picks = topic_words[story[:, None], rng.integers(0, words, size=(n_rows, 20))]
    terms = np.concatenate([background, picks], axis=1)
    rows = np.repeat(np.arange(n_rows), terms.shape[1])
    counts = sp.csr_matrix((np.ones(terms.size), (rows, terms.ravel())), shape=(n_rows, n_terms))
    counts.sum_duplicates()
    counts = sp.csr_matrix(counts[:, 30:])  # the most frequent words, as stop words
    if copies:
        counts = sp.csr_matrix(sp.vstack([counts[: n_rows - copies], counts[:copies]]))
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    counts.data = (1.0 + np.log(counts.data)) * np.log((1.0 + n_rows) / (1.0 + frequency[counts.indices]))
    return sp.csr_matrix(normalize(counts), dtype=np.float32)


def _exact_kth(matrix: sp.csr_matrix, width: int, dense: np.ndarray | None = None) -> np.ndarray:
    scores = (matrix @ matrix.T).toarray()
    if dense is not None:
        scores += dense @ dense.T
    np.fill_diagonal(scores, -np.inf)
    return -np.partition(-scores, width - 1, axis=1)[:, width - 1]


@pytest.mark.parametrize("heavy", [8, 64, 512])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("copies", [0, 40])
def test_pruned_search_gives_the_unpruned_lists_and_bits(
    heavy: int, threads: int, copies: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pruning, "WIDE_COLUMNS", 250)  # several row blocks and column ranges
    vectors = _topic_rows(1500, 3, copies=copies)
    plan = plan_tiles(vectors, memory_budget=24 * 3 * 120**2, kernel="numba", width=12, prune=heavy)
    assert isinstance(plan, pruning.PrunedPlan)
    assert len(plan.ranges) > 1
    assert plan.dense is None
    budget = 24 * 3 * 120**2
    plain = top_k(vectors, 12, memory_budget=budget, threads=threads, kernel="numba", prune="off")
    pruned = top_k(vectors, 12, memory_budget=budget, threads=threads, kernel="numba", prune=heavy)
    np.testing.assert_array_equal(pruned[0], plain[0])
    np.testing.assert_array_equal(pruned[1], plain[1])
    scipy_lists = top_k(vectors, 12, memory_budget=budget, threads=threads, kernel="scipy")
    np.testing.assert_array_equal(pruned[0], scipy_lists[0])


@pytest.mark.parametrize("heavy", [16, 256])
def test_pruned_search_with_dense_columns(heavy: int) -> None:
    vectors = _topic_rows(900, 5)
    rng = np.random.default_rng(1)
    dense = (0.4 * normalize(rng.standard_normal((900, 12)))).astype(np.float32)
    plain = top_k(vectors * np.float32(0.8), 10, kernel="numba", dense=dense, prune="off")
    pruned = top_k(vectors * np.float32(0.8), 10, kernel="numba", dense=dense, prune=heavy)
    np.testing.assert_array_equal(pruned[0], plain[0])
    np.testing.assert_array_equal(pruned[1], plain[1])


def test_rows_without_enough_neighbours_and_empty_rows() -> None:
    vectors = _topic_rows(600, 8)
    vectors = sp.csr_matrix(sp.hstack([vectors, sp.csr_matrix((600, 1), dtype=np.float32)]))
    vectors = sp.csr_matrix(sp.vstack([vectors, sp.csr_matrix((3, vectors.shape[1]), dtype=np.float32)]))
    rows = np.zeros((2, vectors.shape[1]), dtype=np.float32)
    rows[:, -1] = 1.0  # a pair of rows sharing one term nobody else has: one neighbour each
    vectors = sp.csr_matrix(sp.vstack([vectors, sp.csr_matrix(rows)]))
    plain = top_k(vectors, 15, kernel="numba", prune="off")
    pruned = top_k(vectors, 15, kernel="numba", prune=32)
    np.testing.assert_array_equal(pruned[0], plain[0])
    np.testing.assert_array_equal(pruned[1], plain[1])
    assert (pruned[0][600:603] == -1).all()
    assert pruned[0][-1, 0] == vectors.shape[0] - 2
    assert pruned[0][-1, 1] == -1


def test_seed_floors_are_lower_bounds_and_mostly_tight() -> None:
    vectors = _topic_rows(2000, 11)
    matrix, dense = _reorder(sp.csr_matrix(vectors, copy=True))
    slack = pruning._slack(matrix, dense)
    floors = pruning.seed(matrix, dense, 10, slack, threads=2)
    exact = _exact_kth(matrix, 10, dense)
    assert (floors <= exact).all()
    assert np.mean(floors >= 0.9 * exact) > 0.9


def test_rows_the_rare_terms_miss_get_exact_floors(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = _topic_rows(1000, 13)
    matrix, dense = _reorder(sp.csr_matrix(vectors, copy=True))
    floors = np.full(matrix.shape[0], 0.3, dtype=np.float32)
    floors[[5, 17, 400]] = 0.0  # as if their rare terms had found nothing
    pruning._reseed(matrix, dense, 10, 1e-4, floors)
    exact = _exact_kth(matrix, 10, dense)
    np.testing.assert_allclose(floors[[5, 17, 400]], exact[[5, 17, 400]] - 1e-4, atol=1e-6)
    assert (floors[[0, 1, 2]] == np.float32(0.3)).all()


def test_the_cost_model_prunes_topics_and_not_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pruning, "MIN_ROWS", 100)
    monkeypatch.setattr(pruning, "PLAN_RATIO", 0)
    # Stories of 120 articles make high floors: pruning pays. Random rows have low floors: it does not.
    stories = _topic_rows(12_000, 17, n_terms=30_000, topics=100, words=6)
    topics = plan_tiles(stories, kernel="numba", width=10, threads=2)
    assert isinstance(topics, pruning.PrunedPlan)
    assert topics.pruning.heavy > 0
    rng = np.random.default_rng(0)
    noise = sp.random(3000, 4000, density=0.01, format="csr", random_state=rng, dtype=np.float64)
    plain = plan_tiles(sp.csr_matrix(normalize(noise), dtype=np.float32), kernel="numba", width=10, threads=2)
    assert not isinstance(plain, pruning.PrunedPlan)


def test_a_short_search_is_not_planned(monkeypatch: pytest.MonkeyPatch) -> None:
    # Seeding would cost more than the whole unpruned search of a few thousand rows: it is not even tried.
    monkeypatch.setattr(pruning, "MIN_ROWS", 100)

    def no_seeds(*args: object, **kwargs: object) -> np.ndarray:
        msg = "seeded a search too short to gain from pruning"
        raise AssertionError(msg)

    monkeypatch.setattr(pruning, "seed", no_seeds)
    assert not isinstance(plan_tiles(_topic_rows(3000, 23), kernel="numba", width=10), pruning.PrunedPlan)


def test_small_or_signed_matrices_are_not_pruned() -> None:
    vectors = _topic_rows(500, 19)
    assert not isinstance(plan_tiles(vectors, kernel="numba", width=10), pruning.PrunedPlan)
    signed = vectors.copy()
    signed.data[::7] *= -1
    assert not isinstance(plan_tiles(signed, kernel="numba", width=10, prune=16), pruning.PrunedPlan)


@pytest.mark.parametrize("prune", [0, -3, True, "sometimes", 2.5])
def test_prune_setting_is_checked(prune: object) -> None:
    with pytest.raises(InvalidParameterError, match="prune must be 'auto', 'off' or a positive number"):
        top_k(_topic_rows(50, 1), 3, kernel="numba", prune=prune)  # type: ignore[arg-type]
