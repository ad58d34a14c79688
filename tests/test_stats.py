"""The A/B statistics by simulation: readers with known CTRs, many experiments, the test's power and size."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.feedback import compare
from recommender.feedback.stats import rate, rate_table

pd = pytest.importorskip("pandas")


def _visitors(rng: np.random.Generator, ctr: float, visitors: int, shown: int, spread: float) -> tuple:
    """Clicks and impressions per visitor: each sees ``shown`` links and clicks each with a propensity of
    their own, drawn around ``ctr`` (Beta with concentration ``spread``: smaller is more varied)."""
    propensity = rng.beta(ctr * spread, (1 - ctr) * spread, size=visitors)
    return rng.binomial(shown, propensity), np.full(visitors, shown)


def test_one_impression_per_cluster_is_the_binomial_interval() -> None:
    clicks = np.r_[np.ones(40), np.zeros(960)]
    result = rate(clicks, np.ones(1000))
    binomial = math.sqrt(0.04 * 0.96 / 1000) * math.sqrt(1000 / 999)
    assert result.ctr == pytest.approx(0.04)
    assert result.stderr == pytest.approx(binomial)
    assert result.low == pytest.approx(0.04 - 1.959964 * binomial, rel=1e-5)


def test_the_table_equals_one_rate_per_group() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "rank": rng.integers(1, 4, 600),
            "clicks": rng.integers(0, 3, 600),
            "impressions": rng.integers(3, 6, 600),
        }
    )
    table = rate_table(frame, "rank")
    for rank, group in frame.groupby("rank"):
        single = rate(group["clicks"], group["impressions"])
        assert table.loc[rank, "ctr"] == pytest.approx(single.ctr)
        assert table.loc[rank, "stderr"] == pytest.approx(single.stderr)
        assert table.loc[rank, "clusters"] == single.clusters


def test_the_sample_size_is_the_textbook_one_for_independent_impressions() -> None:
    # 4.0 % against 4.6 %, 5 % two-sided, 80 % power: (1.96 + 0.84)² (p₁q₁ + p₂q₂) / δ² ≈ 17,900.
    n = 400_000
    a = (np.r_[np.ones(int(0.040 * n)), np.zeros(n - int(0.040 * n))], np.ones(n))
    b = (np.r_[np.ones(int(0.046 * n)), np.zeros(n - int(0.046 * n))], np.ones(n))
    needed = compare(a, b).needed_per_variant
    textbook = (1.959964 + 0.841621) ** 2 * (0.04 * 0.96 + 0.046 * 0.954) / 0.006**2
    assert needed == pytest.approx(textbook, rel=0.001)


def test_the_better_variant_is_found_at_the_planned_power() -> None:
    """Plan the size from a pilot (the report's own sample size), then run 300 experiments of that size:
    the test must find b better in about 80 % of them, and never declare a wrongly."""
    rng = np.random.default_rng(2026)
    shown, spread = 4, 20.0  # four links per visit; visitors differ in how much they click
    pilot = compare(
        _visitors(rng, 0.040, 200_000, shown, spread), _visitors(rng, 0.046, 200_000, shown, spread)
    )
    assert pilot.significant
    assert pilot.better == "b"
    assert pilot.needed_per_variant is not None
    # The pilot's sample size is for the difference it saw; plan for the true one (0.6 points).
    needed = pilot.needed_per_variant * (pilot.difference / 0.006) ** 2
    visitors = math.ceil(needed / shown)
    found = wrong = 0
    for _ in range(300):
        result = compare(
            _visitors(rng, 0.040, visitors, shown, spread), _visitors(rng, 0.046, visitors, shown, spread)
        )
        found += result.better == "b"
        wrong += result.better == "a"
    assert 0.72 <= found / 300 <= 0.88, found / 300
    assert wrong == 0


def test_equal_variants_are_not_significant_in_about_the_nominal_share() -> None:
    """With equal CTRs and visitors who click unevenly, the clustered test stays near 5 % false alarms,
    where counting each impression as independent would cry wolf far more often."""
    rng = np.random.default_rng(7)
    shown, spread, runs = 10, 2.0, 400
    alarms = naive_alarms = 0
    for _ in range(runs):
        a = _visitors(rng, 0.04, 1500, shown, spread)
        b = _visitors(rng, 0.04, 1500, shown, spread)
        alarms += compare(a, b).significant
        # The same impressions as independent coin tosses: one cluster per impression.
        naive = [
            (np.r_[np.ones(int(c.sum())), np.zeros(int(n.sum() - c.sum()))], np.ones(int(n.sum())))
            for c, n in (a, b)
        ]
        naive_alarms += compare(naive[0], naive[1]).significant
    assert 0.02 <= alarms / runs <= 0.085
    assert naive_alarms / runs > 0.15


def test_a_difference_not_yet_significant_says_how_many_more_are_needed() -> None:
    rng = np.random.default_rng(11)
    result = compare(_visitors(rng, 0.040, 800, 4, 20.0), _visitors(rng, 0.046, 800, 4, 20.0))
    assert not result.significant
    assert result.better is None
    assert result.needed_per_variant is not None
    assert result.needed_per_variant > 3200
    assert result.low < result.difference < result.high
    no_difference = compare((np.ones(10), np.full(10, 5)), (np.ones(10), np.full(10, 5)))
    assert no_difference.needed_per_variant is None


def test_more_clicks_than_impressions_is_flagged_and_has_no_interval() -> None:
    result = rate([3, 20], [1, 0])
    assert result.ctr == 23.0
    assert result.clicks_exceed_impressions
    assert math.isnan(result.stderr)
    assert math.isnan(result.low)
    assert math.isnan(result.high)
    assert result.to_dict()["clicks_exceed_impressions"] is True
    frame = pd.DataFrame({"page": ["a", "a", "b", "b"], "clicks": [5, 4, 1, 0], "impressions": [1, 0, 3, 3]})
    table = rate_table(frame, "page")
    assert table["clicks_exceed_impressions"].tolist() == [True, False]
    assert table["low"].isna().tolist() == [True, False]
    assert rate([1, 0], [3, 3]).clicks_exceed_impressions is False
