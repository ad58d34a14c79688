from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from recommender.build.counting import count_terms
from recommender.text.analyzer import Analyzer

from .conftest import TINY

BODIES = [record["body"] for record in TINY] * 3 + ["", "Oil oil OIL and the goalkeeper"]
TITLES = [record["title"] for record in TINY] * 3 + ["Empty body", ""]


def _reference(
    min_df: int | float, max_df: int | float, title_weight: float, ngrams: int = 1
) -> tuple[list[str], np.ndarray]:
    """scikit-learn's CountVectorizer over our analyzer's terms: the behaviour count_terms keeps."""
    analyzer = Analyzer(ngrams=ngrams)
    titles = [analyzer(text) for text in TITLES]
    bodies = [analyzer(text) for text in BODIES]
    counter = CountVectorizer(analyzer=lambda terms: terms, min_df=min_df, max_df=max_df)
    counter.fit([t + b for t, b in zip(titles, bodies, strict=True)])
    counts = counter.transform(bodies) + title_weight * counter.transform(titles)
    return counter.get_feature_names_out().tolist(), counts.toarray()


@pytest.mark.parametrize(("min_df", "max_df", "title_weight"), [(1, 1.0, 2.0), (2, 0.5, 0.0), (0.1, 8, 1.5)])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("ngrams", [1, 2])
def test_counts_equal_scikit_learn(
    min_df: int | float, max_df: int | float, title_weight: float, n_jobs: int, ngrams: int
) -> None:
    vocabulary, counts = count_terms(
        BODIES,
        TITLES,
        Analyzer(ngrams=ngrams),
        title_weight=title_weight,
        min_df=min_df,
        max_df=max_df,
        n_jobs=n_jobs,
        min_parallel=0,
    )
    expected_vocabulary, expected_counts = _reference(min_df, max_df, title_weight, ngrams)
    assert vocabulary == expected_vocabulary
    np.testing.assert_array_equal(counts.toarray(), expected_counts)
    assert counts.has_sorted_indices
    assert counts.dtype == np.float64


def test_split_into_chunks_gives_the_same_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    import recommender.build.counting as counting

    whole = count_terms(BODIES, TITLES, Analyzer(), n_jobs=1)
    monkeypatch.setattr(counting, "_MAX_CHUNK", 4)
    monkeypatch.setattr(counting, "_SUB_CHUNK", 3)
    split = count_terms(BODIES, TITLES, Analyzer(), n_jobs=2, min_parallel=0)
    assert split[0] == whole[0]
    assert (split[1] != whole[1]).nnz == 0


@pytest.mark.parametrize(
    ("bodies", "min_df", "max_df", "match"),
    [
        (["the and of", "is it"], 1, 1.0, "empty vocabulary"),
        (["oil", "gas"], 2, 1.0, "no terms remain"),
        (["oil", "gas"], 2, 1, "max_df corresponds to < documents than min_df"),
    ],
)
def test_nothing_left_is_an_error(bodies: list[str], min_df: int, max_df: int | float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        count_terms(bodies, None, Analyzer(), min_df=min_df, max_df=max_df, n_jobs=1)
