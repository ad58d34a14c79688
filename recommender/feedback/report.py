"""What readers did with the links: impressions, clicks and CTR overall, by rank, by reason, by article,
and per variant with the A/B comparison (``recommender report DB``; :func:`report` for notebooks)."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..types import InvalidParameterError
from .events import reading
from .stats import Comparison, compare, rate_table

__all__ = ["FeedbackReport", "parse_since", "percent", "read_clusters", "report", "verdict"]

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_CLUSTERS = """
SELECT {keys}, COALESCE(day || ':' || visitor, 'event:' || id) AS cluster,
    SUM(type = 'impression') AS impressions, SUM(type = 'click') AS clicks
FROM events WHERE time >= ?
GROUP BY {keys}, cluster
"""


@dataclass(frozen=True)
class FeedbackReport:
    """The tables of one report, each a DataFrame with impressions, clicks, ctr, its stderr and interval.

    ``overall`` has one row; ``by_rank``, ``by_reason``, ``by_variant`` are indexed by rank, reason and
    variant; ``best`` and ``worst`` are the articles (the page a block was on) with at least
    ``min_impressions``, by CTR; ``comparisons`` compares each variant with the first (alphabetical).
    A row with more clicks than impressions (clicks logged without what was shown) is flagged in its
    ``clicks_exceed_impressions`` column and named in :meth:`warnings`.
    """

    database: str
    since: float | None
    events: int
    visitor_days: int
    overall: pd.DataFrame
    by_rank: pd.DataFrame
    by_reason: pd.DataFrame
    by_variant: pd.DataFrame
    best: pd.DataFrame
    worst: pd.DataFrame
    min_impressions: int
    comparisons: tuple[Comparison, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``recommender report --json``)."""

        def table(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
            rows = frame.reset_index().rename(columns={"index": key}).to_dict(orient="records")
            return [{str(name): _plain(value) for name, value in row.items()} for row in rows]

        return {
            "database": self.database,
            "since": _iso(self.since) if self.since is not None else None,
            "events": self.events,
            "visitor_days": self.visitor_days,
            "overall": table(self.overall, "scope")[0] if len(self.overall) else None,
            "by_rank": table(self.by_rank, "rank"),
            "by_reason": table(self.by_reason, "reason"),
            "by_variant": table(self.by_variant, "variant"),
            "best": table(self.best, "article_id"),
            "worst": table(self.worst, "article_id"),
            "min_impressions": self.min_impressions,
            "comparisons": [_plain_dict(comparison.to_dict()) for comparison in self.comparisons],
            "warnings": self.warnings(),
        }

    def warnings(self) -> list[str]:
        """What makes some rates no rates: the rows, by table, with more clicks than impressions."""
        places = []
        for title, frame in (
            ("overall", self.overall),
            ("rank", self.by_rank),
            ("reason", self.by_reason),
            ("variant", self.by_variant),
            ("article", pd.concat([self.best, self.worst])),
        ):
            over = list(dict.fromkeys(frame.index[frame["clicks_exceed_impressions"]])) if len(frame) else []
            if over and title != "overall":
                shown = ", ".join(str(key) for key in over[:5]) + (" …" if len(over) > 5 else "")
                places.append(f"{title} {shown}")
            elif over:
                places.append(title)
        if not places:
            return []
        return [
            f"more clicks than impressions ({'; '.join(places)}; marked !): clicks were logged without "
            "their impressions, so those CTRs are no rates and have no interval"
        ]

    def text(self) -> str:
        """The report for a terminal: the tables, then the verdict of each comparison in words."""
        parts = [f"{self.database}: {self.events:,} events, {self.visitor_days:,} visitor-days"]
        if self.since is not None:
            parts[0] += f" since {_iso(self.since)}"
        for title, frame in (
            ("overall", self.overall),
            ("by rank", self.by_rank),
            ("by reason", self.by_reason),
            ("by variant", self.by_variant),
            (f"best articles (at least {self.min_impressions} impressions)", self.best),
            ("worst articles", self.worst),
        ):
            if len(frame):
                parts.append(f"\n{title}:\n{_shown(frame)}")
        parts.extend("\n" + verdict(comparison) for comparison in self.comparisons)
        parts.extend(f"\nwarning: {warning}" for warning in self.warnings())
        return "\n".join(parts)


def verdict(comparison: Comparison) -> str:
    """A comparison in words: the difference, its interval, the test, and what to do next."""
    a, b = comparison.rate_a, comparison.rate_b
    lines = [
        f"{comparison.b} against {comparison.a}: CTR {percent(b.ctr)} vs {percent(a.ctr)}, "
        f"difference {_points(comparison.difference)} "
        f"({100 * (1 - comparison.alpha):.0f}% CI {_points(comparison.low)} to {_points(comparison.high)}), "
        f"z = {comparison.z:.2f}, p {_p(comparison.p_value)}"
    ]
    if comparison.significant:
        lines.append(f"  significant: {comparison.better} has the higher CTR")
    else:
        needed = comparison.needed_per_variant
        more = ""
        if needed is not None:
            have = min(a.impressions, b.impressions)
            more = (
                f"; to detect a difference this size with {comparison.power:.0%} power, about {needed:,} "
                f"impressions per variant ({max(0, needed - have):,} more than the smaller has)"
            )
        lines.append(f"  not significant at {comparison.alpha:g}{more}")
    for name, rate in ((comparison.a, a), (comparison.b, b)):
        if rate.clicks_exceed_impressions:
            lines.append(
                f"  {name} has more clicks than impressions: its CTR is no rate, the test says nothing"
            )
    return "\n".join(lines)


def report(
    database: str | os.PathLike[str],
    *,
    since: str | float | dt.datetime | None = None,
    min_impressions: int = 100,
    top: int = 10,
    alpha: float = 0.05,
    power: float = 0.8,
) -> FeedbackReport:
    """The report of the events in ``database`` (an events file written by ``serve --events``).

    ``since``: only events from then on (``"7d"``, ``"24h"``, ``"30m"``, ``"2w"``, an ISO date, a datetime
    or Unix seconds). ``top`` articles are listed best and worst among those with ``min_impressions``.
    ``alpha`` is the tests' significance level and ``power`` the one the sample size is given for (each
    strictly between 0 and 1).
    """
    for name, value in (("alpha", alpha), ("power", power)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            message = f"{name} must be a number between 0 and 1 (exclusive, such as 0.05), got {value!r}"
            raise InvalidParameterError(message)
    start = parse_since(since)
    with reading(database) as connection:
        clusters = read_clusters(connection, ["rank", "reason", "variant", "article_id"], start)
        events, visitors = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT day || ':' || visitor) FROM events WHERE time >= ?",
            (start if start is not None else -math.inf,),
        ).fetchone()
    return _report(
        str(Path(database)), start, int(events), int(visitors), clusters, min_impressions, top, alpha, power
    )


def read_clusters(connection: sqlite3.Connection, keys: list[str], since: float | None) -> pd.DataFrame:
    """Impressions and clicks per ``keys`` and cluster (a visitor's day, or one event without visitor)."""
    query = _CLUSTERS.format(keys=", ".join(keys))
    rows = connection.execute(query, (since if since is not None else -math.inf,)).fetchall()
    return pd.DataFrame(rows, columns=[*keys, "cluster", "impressions", "clicks"])


def _report(
    database: str,
    since: float | None,
    events: int,
    visitors: int,
    clusters: pd.DataFrame,
    min_impressions: int,
    top: int,
    alpha: float,
    power: float,
) -> FeedbackReport:
    # The fine clusters (rank × reason × variant × article × visitor-day) sum to each table's own.
    variants = clusters.assign(variant=clusters["variant"].fillna("(none)"))

    def table(key: str) -> pd.DataFrame:
        return rate_table(_merged(variants, [key]), key, alpha=alpha)

    overall = table("all")
    overall.index = pd.Index(["all"] * len(overall), name="scope")
    by_rank, by_reason, by_variant, articles = (
        table(key) for key in ("rank", "reason", "variant", "article_id")
    )
    shown = articles[articles["impressions"] >= min_impressions].sort_values(
        ["ctr", "impressions"], ascending=[False, False], kind="stable"
    )
    comparisons: list[Comparison] = []
    named = sorted(name for name in variants["variant"].unique() if name != "(none)")
    if len(named) >= 2:
        per_cluster = _merged(variants, ["variant"], keep_cluster=True)
        groups = {name: per_cluster[per_cluster["variant"] == name] for name in named}
        first = groups[named[0]]
        for name in named[1:]:
            other = groups[name]
            comparisons.append(
                compare(
                    (first["clicks"], first["impressions"]),
                    (other["clicks"], other["impressions"]),
                    names=(named[0], name),
                    alpha=alpha,
                    power=power,
                )
            )
    return FeedbackReport(
        database=database,
        since=since,
        events=events,
        visitor_days=visitors,
        overall=overall,
        by_rank=by_rank,
        by_reason=by_reason,
        by_variant=by_variant,
        best=shown.head(top),
        worst=shown.iloc[::-1].head(top),
        min_impressions=min_impressions,
        comparisons=tuple(comparisons),
    )


def _merged(clusters: pd.DataFrame, keys: list[str], *, keep_cluster: bool = False) -> pd.DataFrame:
    """The clusters of a coarser table: the rows of one visitor-day under ``keys`` summed into one."""
    frame = clusters.assign(all="all") if "all" in keys else clusters
    group = [*keys, "cluster"]
    summed = frame.groupby(group, sort=False, dropna=False)[["impressions", "clicks"]].sum().reset_index()
    return summed if keep_cluster else summed.drop(columns="cluster")


def parse_since(since: str | float | dt.datetime | None, *, now: float | None = None) -> float | None:
    """``since`` as Unix seconds: a span back from now (``"7d"``), an ISO date or time, a datetime."""
    if since is None:
        return None
    if isinstance(since, dt.datetime):
        return (since if since.tzinfo else since.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(since, int | float) and not isinstance(since, bool):
        return float(since)
    if isinstance(since, str):
        text = since.strip().lower()
        span = _SPAN.fullmatch(text)
        if span:
            return (time.time() if now is None else now) - float(span.group(1)) * _SECONDS[span.group(2)]
        try:
            return parse_since(dt.datetime.fromisoformat(since.strip()))
        except ValueError:
            pass
    message = (
        f"since must be a span such as 7d, 24h, 30m or 2w, or an ISO date such as 2026-12-01, got {since!r}"
    )
    raise InvalidParameterError(message)


def _shown(frame: pd.DataFrame) -> str:
    shown = frame.copy()
    for name in ("ctr", "low", "high"):
        shown[name] = shown[name].map(percent)
    over = frame["clicks_exceed_impressions"].to_numpy(bool)
    shown["ctr"] = [f"{ctr} !" if flagged else ctr for ctr, flagged in zip(shown["ctr"], over, strict=True)]
    return shown.drop(columns=["stderr", "clusters", "clicks_exceed_impressions"]).to_string()


def percent(value: float) -> str:
    """A rate as a percentage with two decimals ("n/a" when there is none)."""
    return "n/a" if not math.isfinite(value) else f"{100 * value:.2f}%"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "= n/a"
    return "< 0.0001" if value < 0.0001 else f"= {value:.4f}"


def _points(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{100 * value:+.2f} pt"


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _plain(value: Any) -> Any:
    """A NumPy scalar as Python's, NaN as None (JSON has no NaN)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _plain_dict(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _plain_dict(value) if isinstance(value, dict) else _plain(value) for key, value in data.items()
    }
