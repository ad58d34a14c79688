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

__all__ = ["COMPARED", "check_comparable", "compare", "intervals"]

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
    """Each metric's mean over the run's scored articles and its bootstrap interval (``low``, ``high``).

    The resamples are drawn once and serve every metric, so a metric's interval does not depend on which
    others are asked for."""
    values = _frame(report, "report", metrics)[list(metrics)].to_numpy(dtype=np.float64)
    lows, highs = _intervals(values, resamples, _generators(seed)[0], level)
    rows = [
        {"metric": metric, "n": len(values), "mean": column.mean(), "low": low, "high": high}
        for column, metric, low, high in zip(_columns(values), metrics, lows, highs, strict=True)
    ]
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
    ``p_value`` (two-sided).

    Runs of a different label field measure different things and are refused. The resamples and
    sign flips are drawn once and serve every metric. ``attrs["scored"]`` holds how many articles each
    run scored and how many both did (``a``, ``b``, ``shared``)."""
    check_comparable(a, b)
    left, right = _frame(a, "first run", metrics), _frame(b, "second run", metrics)
    shared = left.index.intersection(right.index)
    if shared.empty:
        message = "the two runs share no scored article: compare runs of the same corpus and label"
        raise InvalidParameterError(message)
    first = left.loc[shared, list(metrics)].to_numpy(dtype=np.float64)
    second = right.loc[shared, list(metrics)].to_numpy(dtype=np.float64)
    differences = second - first
    bootstrap, flips = _generators(seed)
    lows, highs = _intervals(differences, resamples, bootstrap, level)
    p_values = _randomization_p(differences, resamples, flips)
    rows = [
        {
            "metric": metric,
            "n": int(shared.size),
            "a": _columns(first)[column].mean(),
            "b": _columns(second)[column].mean(),
            "difference": _columns(differences)[column].mean(),
            "low": lows[column],
            "high": highs[column],
            "p_value": p_values[column],
        }
        for column, metric in enumerate(metrics)
    ]
    result = pd.DataFrame(rows).set_index("metric")
    result.attrs["scored"] = {"a": len(left), "b": len(right), "shared": int(shared.size)}
    return result


def check_comparable(
    a: Report, b: Report, names: tuple[str, str] = ("the first run", "the second run")
) -> None:
    """Refuse two runs of a different label field or list length ``k`` (named by ``names``): their metrics
    measure different things, and a difference between them is not one of quality."""
    for name, first, second in (("label", a.label, b.label), ("k", a.k, b.k)):
        if first != second:
            message = (
                f"{names[0]} has {name} {first!r} and {names[1]} {name} {second!r}: runs of a different "
                f"{name} measure different things; compare runs of the same {name}"
            )
            raise InvalidParameterError(message)


def _frame(report: Report, name: str, metrics: Sequence[str]) -> pd.DataFrame:
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        message = f"unknown metric(s) {', '.join(unknown)}; choose among {', '.join(METRICS)}"
        raise InvalidParameterError(message)
    frame = report.per_article_frame()
    if frame.empty and report.per_article:
        message = f"the {name} scored no article (articles scored 0): there is nothing to compare"
        raise InvalidParameterError(message)
    if frame.empty:
        message = (
            f"the {name} has no per-article values (a report saved before they were kept): evaluate it again"
        )
        raise InvalidParameterError(message)
    if frame.index.has_duplicates:
        message = f"the {name} scores article {frame.index[frame.index.duplicated()][0]!r} twice"
        raise InvalidParameterError(message)
    return frame


def _generators(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent seeded generators: the bootstrap's resamples and the randomization's sign flips."""
    bootstrap, flips = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(bootstrap), np.random.default_rng(flips)


def _batches(total: int) -> Iterator[int]:
    for start in range(0, total, _BATCH):
        yield min(_BATCH, total - start)


def _intervals(
    values: np.ndarray, resamples: int, rng: np.random.Generator, level: float
) -> tuple[list[float], list[float]]:
    """The central ``level`` bootstrap interval of the mean of each column of ``values`` (articles by
    metrics): ``resamples`` resamples of the articles, drawn with replacement once for all columns."""
    columns = _columns(values)
    n = values.shape[0]
    means: list[list[np.ndarray]] = [[] for _ in columns]
    for size in _batches(resamples):
        drawn = rng.integers(0, n, size=(size, n))
        for column, mean in zip(columns, means, strict=True):
            mean.append(column[drawn].mean(axis=1))
    quantiles = [(1 - level) / 2, (1 + level) / 2]
    bounds = [np.quantile(np.concatenate(mean), quantiles) for mean in means]
    return [float(low) for low, _ in bounds], [float(high) for _, high in bounds]


def _randomization_p(differences: np.ndarray, resamples: int, rng: np.random.Generator) -> list[float]:
    """Two-sided p-value of the paired sign-flip test of a zero mean difference, per column of
    ``differences`` (articles by metrics), the same flips for every column: (arrangements at least as
    extreme + 1) / (resamples + 1), the observed one counted, so it is never 0."""
    columns = _columns(differences)
    count = differences.shape[0]
    observed = [abs(column.mean()) for column in columns]
    # Means equal up to float rounding count as reaching the observed one (identical runs give p = 1).
    tolerance = [1e-12 * max(1.0, float(np.abs(column).max(initial=0.0))) for column in columns]
    reached = [0] * len(columns)
    for size in _batches(resamples):
        signs = rng.integers(0, 2, size=(size, count)) * 2 - 1
        for place, column in enumerate(columns):
            flipped = np.abs(signs @ column / count)
            reached[place] += int(np.sum(flipped >= observed[place] - tolerance[place]))
    return [(value + 1) / (resamples + 1) for value in reached]


def _columns(values: np.ndarray) -> list[np.ndarray]:
    """Each column as its own contiguous array: a metric's sums then do not depend on the other columns."""
    return [np.ascontiguousarray(values[:, column]) for column in range(values.shape[1])]
