"""Click-through rates and their comparison between two variants, honest about correlated impressions.

A CTR is clicks over impressions, but impressions are not independent draws: one visitor sees many links
and some visitors click more than others. Treating every impression as a coin toss makes intervals too
narrow and declares winners too often. So each rate's variance is the ratio estimator's (the delta method
over clusters: a visitor's impressions and clicks of one day are one cluster; an event without a visitor
is its own), which equals the binomial variance when every cluster holds one impression. The comparison
is a two-sided z-test of the difference of two such proportions, with its confidence interval and, when
it is not yet significant, the impressions each variant would need for the observed difference at the
asked power.

Clicks can outnumber impressions (a page that reports clicks but not what it showed): such a "CTR" above
100% is no proportion, so it has no standard error nor interval (NaN), and is flagged
(``clicks_exceed_impressions``) for the report to say so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["Comparison", "Rate", "compare", "rate", "rate_table"]


@dataclass(frozen=True)
class Rate:
    """One CTR: ``clicks / impressions``, its standard error and a confidence interval."""

    impressions: int
    clicks: int
    ctr: float
    stderr: float
    low: float
    high: float
    clusters: int

    @property
    def clicks_exceed_impressions(self) -> bool:
        """Whether more clicks than impressions were logged: the "CTR" is then no rate (no interval)."""
        return self.clicks > self.impressions

    def to_dict(self) -> dict[str, Any]:
        """The fields (and ``clicks_exceed_impressions``) as a JSON-ready dict."""
        return {**asdict(self), "clicks_exceed_impressions": self.clicks_exceed_impressions}


@dataclass(frozen=True)
class Comparison:
    """Variant ``b`` against ``a``: the difference of CTRs (b − a), its interval and test."""

    a: str
    b: str
    rate_a: Rate
    rate_b: Rate
    difference: float
    relative: float | None
    low: float
    high: float
    z: float
    p_value: float
    significant: bool
    alpha: float
    power: float
    #: Impressions per variant for the observed difference at ``power`` and ``alpha`` (None: no difference).
    needed_per_variant: int | None

    @property
    def better(self) -> str | None:
        """The variant with the higher CTR when the difference is significant, else None."""
        if not self.significant:
            return None
        return self.b if self.difference > 0 else self.a

    def to_dict(self) -> dict[str, Any]:
        """The fields (and ``better``) as a JSON-ready dict."""
        return {**asdict(self), "better": self.better}


def rate(clicks: Any, impressions: Any, *, alpha: float = 0.05) -> Rate:
    """The CTR of clusters with these ``clicks`` and ``impressions`` (arrays, one entry per cluster)."""
    c = np.asarray(clicks, dtype=np.float64)
    n = np.asarray(impressions, dtype=np.float64)
    sums = [np.array([value]) for value in (c.sum(), n.sum(), c @ c, c @ n, n @ n, len(n))]
    ctr, stderr, low, high = (float(value[0]) for value in _ratio(*sums, alpha=alpha))
    return Rate(int(n.sum()), int(c.sum()), ctr, stderr, low, high, len(n))


def rate_table(clusters: pd.DataFrame, by: str | list[str], *, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`rate` for each group of a table of clusters (columns ``by``, ``clicks``, ``impressions``):
    impressions, clicks, ctr, stderr, low, high, clusters and clicks_exceed_impressions per group."""
    frame = clusters.assign(
        cc=clusters["clicks"] ** 2,
        cn=clusters["clicks"] * clusters["impressions"],
        nn=clusters["impressions"] ** 2,
    )
    sums = frame.groupby(by, sort=True).agg(
        clicks=("clicks", "sum"),
        impressions=("impressions", "sum"),
        cc=("cc", "sum"),
        cn=("cn", "sum"),
        nn=("nn", "sum"),
        clusters=("clicks", "size"),
    )
    columns = [
        sums[name].to_numpy(np.float64) for name in ("clicks", "impressions", "cc", "cn", "nn", "clusters")
    ]
    ctr, stderr, low, high = _ratio(*columns, alpha=alpha)
    return pd.DataFrame(
        {
            "impressions": sums["impressions"].astype(np.int64),
            "clicks": sums["clicks"].astype(np.int64),
            "ctr": ctr,
            "stderr": stderr,
            "low": low,
            "high": high,
            "clusters": sums["clusters"].astype(np.int64),
            "clicks_exceed_impressions": sums["clicks"] > sums["impressions"],
        },
        index=sums.index,
    )


def compare(
    a: tuple[Any, Any],
    b: tuple[Any, Any],
    *,
    names: tuple[str, str] = ("a", "b"),
    alpha: float = 0.05,
    power: float = 0.8,
) -> Comparison:
    """Compare two variants given each as ``(clicks, impressions)`` per cluster."""
    rate_a, rate_b = rate(*a, alpha=alpha), rate(*b, alpha=alpha)
    difference = rate_b.ctr - rate_a.ctr
    stderr = math.sqrt(rate_a.stderr**2 + rate_b.stderr**2)
    critical = float(norm.ppf(1 - alpha / 2))
    if stderr > 0 and math.isfinite(stderr):
        z = difference / stderr
        p_value = float(2 * norm.sf(abs(z)))
    else:
        z, p_value = math.nan, math.nan
    # Per-impression variances (design effect included) scale to the impressions needed.
    spread = rate_a.stderr**2 * rate_a.impressions + rate_b.stderr**2 * rate_b.impressions
    needed = None
    if difference != 0 and math.isfinite(spread) and math.isfinite(difference):
        needed = math.ceil((critical + float(norm.ppf(power))) ** 2 * spread / difference**2)
    return Comparison(
        a=names[0],
        b=names[1],
        rate_a=rate_a,
        rate_b=rate_b,
        difference=difference,
        relative=difference / rate_a.ctr if rate_a.ctr else None,
        low=difference - critical * stderr,
        high=difference + critical * stderr,
        z=z,
        p_value=p_value,
        significant=bool(p_value < alpha),
        alpha=alpha,
        power=power,
        needed_per_variant=needed,
    )


def _ratio(
    c: np.ndarray,
    n: np.ndarray,
    cc: np.ndarray,
    cn: np.ndarray,
    nn: np.ndarray,
    m: np.ndarray,
    *,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CTR, standard error and interval of ``c / n`` from per-group sums over clusters (``cc`` = Σ c²,
    ``cn`` = Σ c·n, ``nn`` = Σ n², ``m`` clusters): the delta-method variance of a ratio estimator,
    m/(m−1) · Σ (c − p·n)² / n², expanded so that groups are computed at once. A group with more clicks
    than impressions keeps its ratio but has no standard error nor interval: it is no proportion."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ctr = np.where(n > 0, c / n, np.nan)
        squares = np.maximum(cc - 2 * ctr * cn + ctr**2 * nn, 0.0)
        stderr = np.where((m > 1) & (n > 0) & (c <= n), np.sqrt(m / (m - 1) * squares) / n, np.nan)
    half = float(norm.ppf(1 - alpha / 2)) * stderr
    return ctr, stderr, np.clip(ctr - half, 0.0, 1.0), np.clip(ctr + half, 0.0, 1.0)
