"""Telling a real difference from noise: intervals of one evaluation run, and two runs compared article
by article.

A mean P@k over a few thousand articles moves by a few thousandths when the articles scored change, so a
difference of that size says nothing by itself. :func:`intervals` gives each metric's 95% bootstrap
interval (articles resampled with replacement); :func:`compare` pairs two runs by article id and gives,
per metric, the mean difference, its bootstrap interval and the p-value of a paired randomization test
(each article's difference keeps or flips its sign at random: under "no difference" both are as likely).
Both are seeded, so a report reads the same every time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from ..types import InvalidParameterError
from .evaluate import METRICS, Report

__all__ = ["COMPARED", "compare", "intervals"]

#: The metrics :func:`compare` reports by default.
COMPARED = ("precision_at_k", "ndcg_at_k", "mrr")
#: Resamples per batch: a ``batch × articles`` array at a time.
_BATCH = 256


def intervals(
    report: Report,
    *,
    metrics: Sequence[str] = METRICS,
    resamples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Each metric's mean over the run's scored articles and its bootstrap interval (``low``, ``high``)."""
    values = _frame(report, "report", metrics)
    rng = np.random.default_rng(seed)
    rows = []
    for metric in metrics:
        column = values[metric].to_numpy(dtype=np.float64)
        low, high = _interval(column, resamples, rng, level)
        rows.append({"metric": metric, "n": column.size, "mean": column.mean(), "low": low, "high": high})
    return pd.DataFrame(rows).set_index("metric")


def compare(
    a: Report,
    b: Report,
    *,
    metrics: Sequence[str] = COMPARED,
    resamples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """``b`` against ``a`` over the articles both runs scored: per metric ``n``, the means ``a`` and ``b``,
    ``difference`` (b − a), its bootstrap interval (``low``, ``high``) and the randomization test's
    ``p_value`` (two-sided)."""
    left, right = _frame(a, "first run", metrics), _frame(b, "second run", metrics)
    shared = left.index.intersection(right.index)
    if shared.empty:
        message = "the two runs share no scored article: compare runs of the same corpus and label"
        raise InvalidParameterError(message)
    rng = np.random.default_rng(seed)
    rows = []
    for metric in metrics:
        first = left.loc[shared, metric].to_numpy(dtype=np.float64)
        second = right.loc[shared, metric].to_numpy(dtype=np.float64)
        differences = second - first
        low, high = _interval(differences, resamples, rng, level)
        rows.append(
            {
                "metric": metric,
                "n": int(shared.size),
                "a": first.mean(),
                "b": second.mean(),
                "difference": differences.mean(),
                "low": low,
                "high": high,
                "p_value": _randomization_p(differences, resamples, rng),
            }
        )
    return pd.DataFrame(rows).set_index("metric")


def _frame(report: Report, name: str, metrics: Sequence[str]) -> pd.DataFrame:
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        message = f"unknown metric(s) {', '.join(unknown)}; choose among {', '.join(METRICS)}"
        raise InvalidParameterError(message)
    frame = report.per_article_frame()
    if frame.empty:
        message = (
            f"the {name} has no per-article values (a report saved before they were kept): evaluate it again"
        )
        raise InvalidParameterError(message)
    if frame.index.has_duplicates:
        message = f"the {name} scores article {frame.index[frame.index.duplicated()][0]!r} twice"
        raise InvalidParameterError(message)
    return frame


def _batches(total: int) -> Iterator[int]:
    for start in range(0, total, _BATCH):
        yield min(_BATCH, total - start)


def _interval(
    values: np.ndarray, resamples: int, rng: np.random.Generator, level: float
) -> tuple[float, float]:
    """The central ``level`` bootstrap interval of the mean of ``values`` (``resamples`` resamples drawn
    with replacement)."""
    n = values.size
    means = [values[rng.integers(0, n, size=(size, n))].mean(axis=1) for size in _batches(resamples)]
    low, high = np.quantile(np.concatenate(means), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _randomization_p(differences: np.ndarray, resamples: int, rng: np.random.Generator) -> float:
    """Two-sided p-value of the paired sign-flip test of a zero mean difference (with the observed
    arrangement counted, so it is never 0)."""
    observed = abs(differences.mean())
    # Means equal up to float rounding count as reaching the observed one (identical runs give p = 1).
    tolerance = 1e-12 * max(1.0, float(np.abs(differences).max(initial=0.0)))
    reached = 0
    for size in _batches(resamples):
        signs = rng.integers(0, 2, size=(size, differences.size)) * 2 - 1
        reached += int(np.sum(np.abs(signs @ differences / differences.size) >= observed - tolerance))
    return (reached + 1) / (resamples + 1)
