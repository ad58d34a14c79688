"""Offline replay: a candidate model scored against logged impressions and clicks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommender import Index, Recommender
from recommender.cli import main
from recommender.feedback import EventsError, EventStore, replay, validate_batch

from .conftest import BUNDLED


@pytest.fixture(scope="module")
def logged(bundled_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Every article's top 5 of the bundled model shown once; its rank-1 and rank-4 links clicked; one
    page the model does not know (an impression and a click, in the counts returned)."""
    path = tmp_path_factory.mktemp("events") / "events.db"
    index = Index.load(bundled_model_dir)
    clicks = impressions = 0
    with EventStore(path) as store:
        for article_id in index.ids:
            events = []
            for rank, link in enumerate(index.related(article_id, k=5), start=1):
                shown = {
                    "article_id": article_id,
                    "link_id": link.article_id,
                    "rank": rank,
                    "reason": link.reason,
                }
                events.append({"type": "impression", **shown})
                impressions += 1
                if rank in (1, 4):
                    events.append({"type": "click", **shown})
                    clicks += 1
            store.add(validate_batch(events))
        gone = {"article_id": "gone", "link_id": "x", "rank": 1}
        store.add(validate_batch([{"type": "impression", **gone}, {"type": "click", **gone}]))
    return path, {"impressions": impressions + 1, "clicks": clicks + 1}


def test_the_served_model_replays_to_its_own_ctr(
    bundled_model_dir: Path, logged: tuple[Path, dict[str, int]]
) -> None:
    path, counts = logged
    result = replay(bundled_model_dir, path, k=5)
    assert result.unknown_pages == 1
    # The skipped page's events are counted apart, in no total and no rate.
    assert (result.unknown_impressions, result.unknown_clicks) == (1, 1)
    assert result.logged_impressions == counts["impressions"] - 1
    assert result.logged_clicks == counts["clicks"] - 1
    assert result.matched_impressions == result.logged_impressions
    assert result.coverage == 1.0
    assert result.click_recall == 1.0
    assert result.logged_ctr == pytest.approx(result.replay_ctr)
    assert "(1 not in the model, skipped: 1 impressions, 1 clicks)" in result.text()
    assert result.unseen_links == 0
    assert result.replay_ctr == pytest.approx((counts["clicks"] - 1) / (counts["impressions"] - 1))


def test_a_shorter_list_keeps_only_the_clicks_it_shows(
    bundled_model_dir: Path, logged: tuple[Path, dict[str, int]]
) -> None:
    path, _counts = logged
    top3 = replay(bundled_model_dir, path, k=3)
    # Of each page's clicks (ranks 1 and 4) a top 3 keeps rank 1's only.
    assert top3.click_recall == pytest.approx(0.5)
    assert top3.replay_ctr == pytest.approx(1 / 3)


def test_another_model_is_scored_on_the_links_both_show(
    logged: tuple[Path, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _counts = logged
    candidate = tmp_path / "candidate"
    Recommender(lsa_weight=0.0, title_weight=1.0).fit(BUNDLED).save(candidate)
    result = replay(candidate, path, k=5)
    assert 0 < result.coverage < 1
    assert result.unseen_links > 0
    assert main(["replay", str(candidate), str(path), "-k", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["matched_clicks"] == result.matched_clicks
    assert data["coverage"] == pytest.approx(result.coverage)
    assert main(["replay", str(candidate), str(tmp_path / "nothing.db")]) == 1
    assert "no events database there" in capsys.readouterr().err


def test_replay_names_a_missing_database(bundled_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(EventsError, match=r"nothing\.db: no events database there"):
        replay(bundled_model_dir, tmp_path / "nothing.db")
