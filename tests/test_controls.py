from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender
from recommender.serve.controls import Controls, parse_duration
from recommender.types import InvalidParameterError

from .conftest import BUNDLED, HEAVY, modules_after

SEED = "kazakhstan-geopolitical-conundrum"
RECORDS = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()]
META = {record["id"]: record for record in RECORDS}


@pytest.fixture(scope="module")
def model() -> Recommender:
    # Plain cosine order (no hub discount), so the brute-force references below apply to stored lists.
    return Recommender(hub_weight=0.0).fit(BUNDLED)


@pytest.fixture(scope="module")
def index(model: Recommender, tmp_path_factory: pytest.TempPathFactory) -> Index:
    return Index.load(model.save(tmp_path_factory.mktemp("controls") / "model"))


def _day(article_id: str) -> int:
    return dt.date.fromisoformat(META[article_id]["date"]).toordinal()


def _reference(model: Recommender, article_id: str, keep: Any, k: int = 8) -> list[str]:
    """Brute force: every other article by exact cosine, filtered by ``keep``, best first."""
    cosines = model.similarity(model.ids)[model.ids.index(article_id)]
    order = sorted(range(len(model.ids)), key=lambda row: (-float(cosines[row]), row))
    ranked = [model.ids[row] for row in order if model.ids[row] != article_id and cosines[row] > 0]
    return [other for other in ranked if keep(other)][:k]


@pytest.mark.parametrize(
    ("value", "days"),
    [("365d", 365.0), ("2w", 14.0), ("6m", 180.0), ("1y", 365.0), (30, 30.0), ("1.5d", 1.5)],
)
def test_parse_duration(value: object, days: float) -> None:
    assert parse_duration(value) == days


@pytest.mark.parametrize("value", ["", "0d", "-3d", "ten days", "5x", True, None, float("nan")])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(InvalidParameterError, match="positive number of days"):
        parse_duration(value, name="max_age")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_ages": "1d"}, "unknown ranking control"),
        ({"min_score": -1}, "min_score must be"),
        ({"min_score": float("nan")}, "min_score must be a finite number"),
        ({"min_score": float("inf")}, "min_score must be a finite number"),
        ({"min_relative": 1.5}, "min_relative must be"),
        ({"mmr": 0}, "mmr must be a lambda"),
        ({"mmr": 2}, "mmr must be"),
        ({"max_exposure": 0}, "max_exposure must be"),
        ({"half_life": "soon"}, "half_life must be"),
        ({"past_only": "false"}, "^past_only must be True or False, got 'false'$"),
        ({"same_category": "no"}, "^same_category must be True or False, got 'no'$"),
        ({"fill": "0"}, "^fill must be True or False, got '0'$"),
        ({"fill": 1}, "^fill must be True or False, got 1$"),
    ],
)
def test_bad_controls(options: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        Controls.make(**options)


def test_yes_no_controls_take_real_bools() -> None:
    chosen = Controls.make(past_only=True, same_category=np.bool_(True), fill=False)
    assert (chosen.past_only, chosen.same_category, chosen.fill) == (True, True, False)
    assert type(chosen.same_category) is bool
    assert Controls.make(past_only=None) == Controls()


def test_a_string_for_a_yes_no_control_is_an_error_in_related(model: Recommender) -> None:
    with pytest.raises(InvalidParameterError, match=r"^same_category must be True or False, got 'no'$"):
        model.related(SEED, k=5, same_category="no")


def test_default_controls_are_inactive() -> None:
    assert not Controls.make().active
    assert Controls.make(exclude_tags="A, b").exclude_tags == frozenset({"a", "b"})


def test_every_link_has_a_reason(index: Index) -> None:
    assert {link.reason for link in index.related(SEED, k=8)} == {"similar"}
    assert {link.reason for link in index.related(SEED, k=8, past_only=True)} == {"similar"}


@pytest.mark.parametrize(
    ("options", "keep"),
    [
        ({"past_only": True}, lambda a: _day(a) <= _day(SEED)),
        ({"max_age": "365d"}, lambda a: _day(SEED) - _day(a) <= 365),
        ({"max_age": "90d", "past_only": True}, lambda a: 0 <= _day(SEED) - _day(a) <= 90),
        ({"same_category": True}, lambda a: META[a]["category"] == META[SEED]["category"]),
        (
            {"exclude_categories": ["diplomacy", "ECONOMY"]},
            lambda a: META[a]["category"] not in ("Diplomacy", "Economy"),
        ),
        ({"exclude_tags": ["russia"]}, lambda a: "russia" not in META[a]["tags"]),
        ({"include_tags": ["china", "india"]}, lambda a: {"china", "india"} & set(META[a]["tags"])),
        (
            {"exclude_ids": ["sino-russian-partnership", "india-diplomatic-dance"]},
            lambda a: a not in ("sino-russian-partnership", "india-diplomatic-dance"),
        ),
        (
            {"same_category": True, "exclude_tags": "kazakhstan"},
            lambda a: META[a]["category"] == META[SEED]["category"] and "kazakhstan" not in META[a]["tags"],
        ),
    ],
)
def test_filters_equal_brute_force(
    index: Index, model: Recommender, options: dict[str, Any], keep: Any
) -> None:
    links = index.related(SEED, k=8, **options)
    assert [link.article_id for link in links] == _reference(model, SEED, keep)
    assert [link.rank for link in links] == list(range(1, len(links) + 1))
    # The library entry point gives the same lists.
    assert [link.article_id for link in model.related(SEED, k=8, **options)] == [x.article_id for x in links]


def test_exactly_k_beyond_the_stored_pool(model: Recommender, tmp_path: Path) -> None:
    small = Index.load(Recommender(k=3, hub_weight=0.0).fit(BUNDLED).save(tmp_path / "k3"))
    keep = lambda a: "russia" not in META[a]["tags"]  # noqa: E731
    links = small.related(SEED, k=8, exclude_tags=["russia"])
    assert len(links) == 8
    assert [link.article_id for link in links] == _reference(model, SEED, keep)


def test_half_life_decays_scores_by_age(index: Index, model: Recommender) -> None:
    links = index.related(SEED, k=8, half_life="180d")
    cosines = dict(zip(model.ids, model.similarity(model.ids)[model.ids.index(SEED)].tolist(), strict=True))
    for link in links:
        age = max(_day(SEED) - _day(link.article_id), 0)
        assert link.score == pytest.approx(cosines[link.article_id] * 0.5 ** (age / 180), rel=1e-5)
    scores = [link.score for link in links]
    assert scores == sorted(scores, reverse=True)
    plain = {link.article_id for link in index.related(SEED, k=8)}
    assert {link.article_id for link in links} != plain  # old pieces gave way to newer ones


def test_thresholds(index: Index) -> None:
    plain = index.related(SEED, k=8)
    best = plain[0].score
    absolute = index.related(SEED, k=8, min_score=0.2)
    assert absolute == [link for link in plain if link.score >= 0.2]
    relative = index.related(SEED, k=8, min_relative=0.9)
    assert relative == [link for link in plain if link.score >= 0.9 * best]
    assert 0 < len(relative) < 8


def test_fill_gives_exactly_k_with_reasons(index: Index) -> None:
    links = index.related(SEED, k=8, min_relative=0.9, fill=True)
    assert len(links) == 8
    similar = [link for link in links if link.reason == "similar"]
    fills = [link for link in links if link.reason.startswith("fill:")]
    assert similar
    assert fills
    assert links[: len(similar)] == similar  # similar first, then fill
    category = META[SEED]["category"]
    in_category = [META[a]["id"] for a in META if META[a]["category"] == category and a != SEED]
    by_recency = sorted(in_category, key=lambda a: (-_day(a), [r["id"] for r in RECORDS].index(a)))
    expected = [a for a in by_recency if a not in {link.article_id for link in similar}]
    filled = [link.article_id for link in fills if link.reason == "fill:recent-category"]
    assert filled == expected[: len(filled)]
    # Category exhausted: the rest comes from the most recent overall.
    assert len(in_category) < 8 or filled


def test_fill_falls_back_to_recent_overall(index: Index) -> None:
    africa = [record["id"] for record in RECORDS if record["category"] == "Africa"]
    links = index.related(africa[0], k=8, min_relative=1.0, fill=True)
    assert len(links) == 8
    reasons = Counter(link.reason for link in links)
    assert reasons == {"similar": 1, "fill:recent-category": len(africa) - 2, "fill:recent": 9 - len(africa)}
    recent = [link.article_id for link in links if link.reason == "fill:recent"]
    newest = sorted(
        (a for a in META if a not in {link.article_id for link in links[: -len(recent)]}), key=_day
    )
    assert [_day(a) for a in recent] == sorted((_day(a) for a in recent), reverse=True)
    assert _day(recent[0]) == _day(newest[-1])
    # A hard filter also binds the fill: same_category never fills from other categories.
    same = index.related(africa[0], k=8, same_category=True, fill=True)
    assert {META[link.article_id]["category"] for link in same} == {"Africa"}
    assert len(same) == len(africa) - 1


def test_filters_hold_for_fill_links(index: Index) -> None:
    links = index.related(SEED, k=10, include_tags=["china"], fill=True, past_only=True)
    assert all("china" in META[link.article_id]["tags"] for link in links)
    assert all(_day(link.article_id) <= _day(SEED) for link in links)


def test_undated_articles_are_never_dropped_by_recency(tiny_records: list[dict[str, Any]]) -> None:
    tiny_records[1]["date"] = None  # opec-output-cut, the obvious partner of oil-prices-rise
    tiny_records[0]["date"] = "2030-01-01"
    model = Recommender(min_df=1).fit(tiny_records)
    links = model.related("oil-prices-rise", k=1, max_age="1d", past_only=True, half_life="1d")
    assert [link.article_id for link in links] == ["opec-output-cut"]


def test_mmr_prefers_a_different_story(tiny_records: list[dict[str, Any]]) -> None:
    base = tiny_records[0]
    copies = [{**base, "id": f"oil-copy-{n}", "url": None} for n in range(3)]
    # Exact copies would be hidden as near-duplicates by default; MMR is what this test is about.
    model = Recommender(min_df=1, hide_duplicates=False).fit([*tiny_records, *copies])
    plain = [link.article_id for link in model.related("oil-prices-rise", k=2)]
    assert plain == ["oil-copy-0", "oil-copy-1"]
    diverse = [link.article_id for link in model.related("oil-prices-rise", k=2, mmr=0.3)]
    assert diverse == ["oil-copy-0", "opec-output-cut"]
    assert [link.article_id for link in model.related("oil-prices-rise", k=2, mmr=1.0)] == plain


def test_max_exposure_caps_appearances_across_a_batch(index: Index) -> None:
    plain = Counter(link.article_id for _, links in index.related_many(k=8) for link in links)
    assert max(plain.values()) > 10
    lists = dict(index.related_many(k=8, max_exposure=10, fill=True))
    capped = Counter(link.article_id for links in lists.values() for link in links)
    assert max(capped.values()) <= 10
    assert all(len(links) == 8 for links in lists.values())


def test_max_exposure_needs_a_batch(index: Index) -> None:
    with pytest.raises(InvalidParameterError, match="across a batch"):
        index.related(SEED, max_exposure=3)


def test_unknown_exclude_id_is_an_error(index: Index) -> None:
    with pytest.raises(KeyError, match="unknown article id 'nope'"):
        index.related(SEED, exclude_ids=["nope"])


def test_controls_module_is_numpy_and_stdlib_only() -> None:
    code = "import recommender.serve.controls, recommender.serve.overrides, recommender.outputs.audit"
    assert not modules_after(code) & HEAVY


def test_golden_plain_answers_are_untouched(index: Index) -> None:
    stored = index.related(SEED, k=8)
    assert np.allclose(
        [link.score for link in stored], [link.score for link in index.related(SEED, k=8, mmr=1.0)]
    )


def test_lists_stay_within_the_language_under_controls(tmp_path: Path) -> None:
    mixed = Path(__file__).resolve().parent / "data" / "multilingual.jsonl"
    index = Index.load(Recommender(min_df=1, k=2).fit(mixed).save(tmp_path / "mixed"))
    for article_id in index:
        language = index.article(article_id)["lang"]
        links = index.related(article_id, k=6, fill=True, mmr=0.5)
        assert links
        assert all(index.article(link.article_id)["lang"] == language for link in links)
    cross = Index.load(Recommender(min_df=1, k=2, cross_language=True).fit(mixed).save(tmp_path / "cross"))
    languages = {
        cross.article(link.article_id)["lang"] for link in cross.related(cross.ids[0], k=11, fill=True)
    }
    assert len(languages) > 1


# --- the score a link shows is the score its list is ordered by (defaults: hubs discounted) -------------

ORDER_CASES = [
    {},
    {"past_only": True},
    {"max_age": "365d", "exclude_tags": ["russia"]},
    {"same_category": True, "fill": True},
    {"min_score": 0.1},
    {"min_relative": 0.8, "fill": True},
    {"half_life": "180d"},
    {"mmr": 1.0},
]


@pytest.fixture(scope="module")
def hub_index(bundled_model_dir: Path) -> Index:
    index = Index.load(bundled_model_dir)
    assert index.manifest["parameters"]["hub_weight"] > 0  # the default discounts hubs
    return index


@pytest.mark.parametrize("options", ORDER_CASES, ids=lambda options: ",".join(options) or "plain")
def test_similar_links_scores_never_increase(hub_index: Index, options: dict[str, Any]) -> None:
    for article_id in hub_index.ids:
        for k in (8, hub_index.k + 6):
            links = hub_index.related(article_id, k=k, **options)
            scores = [link.score for link in links if link.reason == "similar"]
            assert scores == sorted(scores, reverse=True), (article_id, k, options)
            assert all(link.score <= link.similarity + 1e-7 for link in links)  # a discount, never a boost


def test_the_score_is_the_similarity_less_the_hub_discount(bundled_model_dir: Path) -> None:
    model = Recommender.load(bundled_model_dir)
    assert model.hubs is not None
    weight = model.settings.hub_weight
    row = model.ids.index(SEED)
    cosines = model.similarity(model.ids)[row]
    decayed = {link.article_id: link for link in model.related(SEED, k=8, half_life="180d")}
    for link in model.related(SEED, k=8):
        other = model.ids.index(link.article_id)
        assert link.similarity == pytest.approx(float(cosines[other]), abs=1e-6)
        assert link.score == pytest.approx(link.similarity - weight * float(model.hubs[other]), abs=1e-6)
    for article_id, link in decayed.items():
        other = model.ids.index(article_id)
        factor = 0.5 ** (max(_day(SEED) - _day(article_id), 0) / 180)
        assert link.score == pytest.approx(
            float(cosines[other]) * factor - weight * float(model.hubs[other]), abs=1e-5
        )
    # A plain list and one with a control that changes nothing rank alike (the discount is not lost).
    plain = model.related(SEED, k=8)
    assert [link.article_id for link in model.related(SEED, k=8, min_score=1e-9)] == [
        link.article_id for link in plain
    ]


def test_thresholds_apply_to_the_score_shown(hub_index: Index) -> None:
    plain = hub_index.related(SEED, k=8)
    cut = plain[3].score
    assert hub_index.related(SEED, k=8, min_score=cut) == [link for link in plain if link.score >= cut]
    relative = hub_index.related(SEED, k=8, min_relative=0.9)
    assert relative == [link for link in plain if link.score >= 0.9 * plain[0].score]
    draft = "Kazakhstan balances Russia and China along the Middle Corridor"
    every = hub_index.query(draft, k=8)
    assert hub_index.query(draft, k=8, min_score=every[2].score) == every[:3]
    assert [link.score for link in every] == sorted((link.score for link in every), reverse=True)
