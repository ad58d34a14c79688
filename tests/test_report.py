"""The feedback report: its tables add up, the A/B verdict is found, and the CLI prints both forms."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from recommender.cli import main
from recommender.feedback import EventsError, EventStore, assign_variant, report, validate_batch
from recommender.feedback.report import parse_since
from recommender.types import InvalidParameterError

NOW = 1_796_000_000.0


def _simulate(
    path: Path, *, visitors: int, ctr: dict[str, float], seed: int, clock: float = NOW
) -> dict[str, int]:
    """Visitors who each see a block of five links (CTR falling with rank) on one of three pages, with
    the variant's click rate; returns the true counts of impressions and clicks."""
    rng = np.random.default_rng(seed)
    totals = {"impressions": 0, "clicks": 0}
    with EventStore(path, clock=lambda: clock) as store:
        for number in range(visitors):
            visitor = f"visitor-{seed}-{number}"
            variant = assign_variant(visitor, list(ctr), [100 / len(ctr)] * len(ctr))
            page = f"page-{number % 3}"
            events = []
            for rank in range(1, 6):
                link = {
                    "article_id": page,
                    "link_id": f"{page}-link-{rank}",
                    "rank": rank,
                    "variant": variant,
                }
                reason = "pinned" if rank == 1 else "similar"
                events.append({"type": "impression", "reason": reason, "visitor": visitor, **link})
                if rng.random() < ctr[variant] * 2 / rank:
                    events.append({"type": "click", "reason": reason, "visitor": visitor, **link})
            store.add(validate_batch(events, variants=list(ctr)))
            totals["impressions"] += 5
            totals["clicks"] += sum(event["type"] == "click" for event in events)
    return totals


def test_the_tables_add_up_to_the_events(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    totals = _simulate(path, visitors=600, ctr={"a": 0.03, "b": 0.03}, seed=1)
    result = report(path, min_impressions=10, top=2)
    assert result.overall.loc["all", "impressions"] == totals["impressions"]
    assert result.overall.loc["all", "clicks"] == totals["clicks"]
    assert result.events == totals["impressions"] + totals["clicks"]
    assert result.visitor_days == 600
    for table in (result.by_rank, result.by_reason, result.by_variant):
        assert table["impressions"].sum() == totals["impressions"]
        assert table["clicks"].sum() == totals["clicks"]
    assert list(result.by_rank.index) == [1, 2, 3, 4, 5]
    assert result.by_rank["ctr"].iloc[0] > result.by_rank["ctr"].iloc[-1]  # rank 1 is clicked most
    assert set(result.by_reason.index) == {"pinned", "similar"}
    assert len(result.best) == 2
    assert result.best["ctr"].iloc[0] >= result.worst["ctr"].iloc[0]


def test_the_better_variant_is_reported_with_its_interval(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    _simulate(path, visitors=3000, ctr={"a": 0.02, "b": 0.05}, seed=2)
    (comparison,) = report(path).comparisons
    assert (comparison.a, comparison.b) == ("a", "b")
    assert comparison.significant
    assert comparison.better == "b"
    assert comparison.low > 0
    text = report(path).text()
    assert "significant: b has the higher CTR" in text


def test_equal_variants_say_how_many_more_impressions_are_needed(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    _simulate(path, visitors=300, ctr={"control": 0.03, "new": 0.032}, seed=3)
    result = report(path)
    (comparison,) = result.comparisons
    assert not comparison.significant
    assert "not significant at 0.05" in result.text()
    assert "impressions per variant" in result.text()


def test_since_keeps_the_recent_events(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    _simulate(path, visitors=20, ctr={"a": 0.1, "b": 0.1}, seed=4, clock=NOW - 10 * 86_400)
    _simulate(path, visitors=30, ctr={"a": 0.1, "b": 0.1}, seed=5, clock=NOW)
    recent = report(path, since=NOW - 86_400)
    assert recent.overall.loc["all", "impressions"] == 30 * 5
    assert parse_since("7d", now=NOW) == NOW - 7 * 86_400
    assert parse_since("2026-12-01") == parse_since("2026-12-01T00:00:00+00:00")
    with pytest.raises(InvalidParameterError, match="since must be a span such as 7d"):
        parse_since("last tuesday")


def test_an_empty_database_reports_nothing_without_failing(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    EventStore(path).close()
    result = report(path)
    assert result.events == 0
    assert result.overall.empty
    assert result.comparisons == ()
    assert json.loads(json.dumps(result.to_dict()))["overall"] is None


def test_report_refuses_what_is_not_an_events_database(tmp_path: Path) -> None:
    with pytest.raises(EventsError, match="no events database there"):
        report(tmp_path / "missing.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(EventsError, match="cannot read the events database"):
        report(other)


def test_the_command_line_prints_tables_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.db"
    _simulate(path, visitors=400, ctr={"a": 0.02, "b": 0.06}, seed=6)
    assert main(["report", str(path), "--min-impressions", "10"]) == 0
    out = capsys.readouterr().out
    assert "by rank:" in out
    assert "b against a" in out
    assert main(["report", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["comparisons"][0]["better"] == "b"
    assert [row["rank"] for row in data["by_rank"]] == [1, 2, 3, 4, 5]
    assert main(["report", str(path), "--since", "soon"]) == 1
    assert "since must be a span" in capsys.readouterr().err


def test_clicks_without_impressions_are_flagged_not_shown_as_a_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.db"
    shown = {"article_id": "page", "link_id": "link", "rank": 1}
    with EventStore(path, clock=lambda: NOW) as store:
        store.add(validate_batch([{"type": "impression", **shown, "visitor": "v-0"}]))
        for number in range(3):  # a page that reports clicks but not what it showed
            store.add(validate_batch([{"type": "click", **shown, "visitor": f"v-{number}"}]))
    result = report(path, min_impressions=1)
    overall = result.overall.loc["all"]
    assert (overall["impressions"], overall["clicks"]) == (1, 3)
    assert bool(overall["clicks_exceed_impressions"])
    assert np.isnan(overall["low"])  # no interval for what is no rate
    assert np.isnan(overall["high"])
    where = "(overall; rank 1; reason similar; variant (none); article page; marked !)"
    assert f"warning: more clicks than impressions {where}" in result.text()
    assert "300.00% !" in result.text()
    data = json.loads(json.dumps(result.to_dict()))
    assert data["overall"]["clicks_exceed_impressions"] is True
    assert (data["overall"]["low"], data["overall"]["high"]) == (None, None)
    assert data["best"][0]["clicks_exceed_impressions"] is True
    assert data["warnings"] == result.warnings()
    assert len(data["warnings"]) == 1


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"alpha": 0.0}, "alpha must be a number between 0 and 1"),
        ({"alpha": 1.5}, "alpha must be a number between 0 and 1"),
        ({"alpha": float("nan")}, "alpha must be a number between 0 and 1"),
        ({"power": 1.0}, "power must be a number between 0 and 1"),
        ({"power": -0.2}, "power must be a number between 0 and 1"),
    ],
)
def test_alpha_and_power_are_checked(tmp_path: Path, arguments: dict[str, float], words: str) -> None:
    path = tmp_path / "events.db"
    EventStore(path).close()
    with pytest.raises(InvalidParameterError, match=words):
        report(path, **arguments)


def test_the_command_line_refuses_an_alpha_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.db"
    EventStore(path).close()
    assert main(["report", str(path), "--alpha", "5"]) == 1
    assert "alpha must be a number between 0 and 1" in capsys.readouterr().err
