"""Offline replay: how a candidate model would have done on the clicks already logged, before serving it.

For every article page in the log, the candidate's top ``k`` links are compared with the links readers
were shown there. The logged impressions of links the candidate also shows are the *matched* ones: their
CTR is the replay estimate of the candidate's CTR, and the share of logged clicks that fall on links the
candidate keeps is its click recall. The estimate is biased towards the logged model (the candidate's new
links have no evidence; ``unseen`` counts them), so it ranks candidates that resemble the served one
well and says little about a very different one: an A/B test settles that. Pages the candidate does not
know are skipped: their events are counted apart (``unknown_impressions``, ``unknown_clicks``), in no
total and no rate.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import asdict, dataclass
from typing import Any

from ..serve.index import Index
from ..types import UnknownArticleError
from .events import reading
from .report import parse_since, percent

__all__ = ["Replay", "replay"]


@dataclass(frozen=True)
class Replay:
    """A candidate model against the logged events (see the module docstring)."""

    model: str
    k: int
    pages: int
    unknown_pages: int
    logged_impressions: int
    logged_clicks: int
    matched_impressions: int
    matched_clicks: int
    unseen_links: int
    #: The events of the pages skipped (not in the candidate), in none of the counts above.
    unknown_impressions: int = 0
    unknown_clicks: int = 0

    @property
    def logged_ctr(self) -> float:
        """The CTR readers gave the links that were served."""
        return _ratio(self.logged_clicks, self.logged_impressions)

    @property
    def replay_ctr(self) -> float:
        """The CTR of the served links that the candidate also shows: the replay estimate of its CTR."""
        return _ratio(self.matched_clicks, self.matched_impressions)

    @property
    def click_recall(self) -> float:
        """The share of logged clicks on links that the candidate also shows."""
        return _ratio(self.matched_clicks, self.logged_clicks)

    @property
    def coverage(self) -> float:
        """The share of logged impressions that the candidate also shows (how much evidence it has)."""
        return _ratio(self.matched_impressions, self.logged_impressions)

    def to_dict(self) -> dict[str, Any]:
        """The counts and the rates, JSON-ready (NaN as None)."""
        rates = {
            name: getattr(self, name) for name in ("logged_ctr", "replay_ctr", "click_recall", "coverage")
        }
        return {**asdict(self), **{name: None if math.isnan(v) else v for name, v in rates.items()}}

    def text(self) -> str:
        """The replay in a few lines for a terminal."""
        return "\n".join(
            [
                f"{self.model} (top {self.k}) against {self.pages:,} logged pages"
                + (
                    f" ({self.unknown_pages:,} not in the model, skipped: {self.unknown_impressions:,} "
                    f"impressions, {self.unknown_clicks:,} clicks)"
                    if self.unknown_pages
                    else ""
                ),
                f"  logged: {self.logged_impressions:,} impressions, {self.logged_clicks:,} clicks, "
                f"CTR {percent(self.logged_ctr)}",
                f"  the candidate also shows {percent(self.coverage)} of those impressions: "
                f"{self.matched_clicks:,} clicks of {self.matched_impressions:,}, replay CTR "
                f"{percent(self.replay_ctr)}",
                f"  click recall {percent(self.click_recall)}; {self.unseen_links:,} of its links were "
                "never shown (no evidence)",
            ]
        )


def replay(
    model: str | os.PathLike[str] | Index,
    database: str | os.PathLike[str],
    *,
    k: int = 8,
    since: str | float | dt.datetime | None = None,
    **controls: Any,
) -> Replay:
    """Replay the logged events of ``database`` on the candidate ``model`` (a folder or an ``Index``);
    ``controls`` are the ranking controls the candidate would be served with."""
    index = model if isinstance(model, Index) else Index.load(model)
    start = parse_since(since)
    with reading(database) as connection:
        rows = connection.execute(
            "SELECT article_id, link_id, SUM(type = 'impression'), SUM(type = 'click') FROM events "
            "WHERE time >= ? GROUP BY article_id, link_id",
            (start if start is not None else -math.inf,),
        ).fetchall()
    logged: dict[str, dict[str, tuple[int, int]]] = {}
    for article_id, link_id, impressions, clicks in rows:
        logged.setdefault(article_id, {})[link_id] = (int(impressions), int(clicks))
    counts = dict.fromkeys(("unknown", "ui", "uc", "li", "lc", "mi", "mc", "unseen"), 0)
    for article_id, links in logged.items():
        impressions = sum(impressions for impressions, _ in links.values())
        clicks = sum(clicks for _, clicks in links.values())
        try:
            shown = [link.article_id for link in index.related(article_id, k=k, **controls)]
        except UnknownArticleError:
            counts["unknown"] += 1
            counts["ui"] += impressions
            counts["uc"] += clicks
            continue
        counts["li"] += impressions
        counts["lc"] += clicks
        for link_id in shown:
            impressions, clicks = links.get(link_id, (0, 0))
            counts["mi"] += impressions
            counts["mc"] += clicks
            counts["unseen"] += impressions == 0
    return Replay(
        model=str(index.path),
        k=k,
        pages=len(logged),
        unknown_pages=counts["unknown"],
        logged_impressions=counts["li"],
        logged_clicks=counts["lc"],
        matched_impressions=counts["mi"],
        matched_clicks=counts["mc"],
        unseen_links=counts["unseen"],
        unknown_impressions=counts["ui"],
        unknown_clicks=counts["uc"],
    )


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan
