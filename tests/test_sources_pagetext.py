"""Scraped page text dumps: the seed page from ../shared/seed and small pages written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.sources.corpus import read_articles
from recommender.sources.pagetext import clean_page_text, looks_like_page_text, parse_date

from .conftest import ROOT

SEED = ROOT.parent / "shared" / "seed"

SIMILAR_TITLES = [
    "The Ascendant Sino-Russian Partnership: A Unified Front Against US/EU Hegemony?",
    "India’s Diplomatic Dance: Modi’s Balancing Act Between the U.S. and Russia",
    "Orbán's Diplomatic Tightrope: Courting Russia, China, and the West in the Quest for Influence",
    "The Peace Mirage: Orbán’s Moscow Visit and Its Hidden Motives",
    "Ukraine's Arduous Trek to Peace: Unlocking the Doors to Dialogue",
    "A New Dawn: The Prospects of the Russia-North Korea Alliance",
    "the Financial Times detailed how the UK Military won’t be able to confront a future conflict "
    "at any scale",
    "Russia Issues Warning to Israel Over Potential Supply of Air Defense Systems to Ukraine",
]


@pytest.fixture
def seed() -> Path:
    if not SEED.is_dir():
        pytest.skip(f"{SEED} is not present")
    return SEED


def test_seed_page_is_cleaned(seed: Path) -> None:
    frame = read_articles(seed, format="page-text")
    assert len(frame) == 1
    article = frame.iloc[0]
    assert article["title"] == "Kazakhstan's Geopolitical Conundrum: Caught Between Russia and the West"
    assert article["author"] == "A. Mahdavi"
    body = article["body"]
    assert body.startswith("Central Asian countries find themselves teetering")
    assert body.endswith("with profound implications for the region and beyond.")
    for title in SIMILAR_TITLES:
        assert title not in body
    for furniture in ("There are no comments", "Post a comment", "Similar post", "Without comment", "By:"):
        assert furniture not in body
    assert body.count("\n\n") == 8  # nine paragraphs, kept apart


def test_seed_similar_posts_are_kept_as_site_related(seed: Path) -> None:
    related = read_articles(seed)["site_related"].iloc[0]  # format guessed from content
    assert [link["title"] for link in related] == SIMILAR_TITLES
    assert related[0]["date"] == "2024-07-22"
    assert related[-1]["date"] == "2024-07-03"


def test_page_without_byline_starts_at_first_paragraph() -> None:
    text = (
        "Steppe rail freight doubles\n\nLogistics\n12 March 2024\nSteppe rail freight doubles\n\n"
        "Freight volumes on the rail line from Khorgos to Aktau doubled in a year as shippers avoided the "
        "Red Sea.\nSecond paragraph here.\n3 comments\nGreat piece!\n"
    )
    record = clean_page_text(text, article_id="rail")
    assert record["title"] == "Steppe rail freight doubles"
    assert record["date"] == "2024-03-12"
    assert "author" not in record
    assert record["body"].startswith("Freight volumes on the rail line")
    assert record["body"].endswith("Second paragraph here.")
    assert "site_related" not in record


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Jul 22 2024", "2024-07-22"),
        ("July 5, 2024", "2024-07-05"),
        ("5 Sept 2024", "2024-09-05"),
        ("2024-02-29", "2024-02-29"),
        ("Feb 30 2024", None),
        ("Julius Caesar 2024", None),
    ],
)
def test_parse_date(line: str, expected: str | None) -> None:
    assert parse_date(line) == expected


def test_plain_text_is_not_mistaken_for_a_page() -> None:
    assert not looks_like_page_text("A title\n\nJust a body about things.\n")
    assert looks_like_page_text("A title\nBy: Someone\n\nBody.\n")


def test_empty_page_is_reported(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text("\n\n", encoding="utf-8")
    (tmp_path / "ok.txt").write_text(
        "Title\nBy: A. Writer\nA body long enough to be an article.\nThere are no comments\n",
        encoding="utf-8",
    )
    frame = read_articles(tmp_path, format="page-text", skip_invalid=True)
    assert frame["id"].tolist() == ["ok"]
    assert [str(s) for s in frame.attrs["skipped"]] == [f"{tmp_path / 'blank.txt'}: the page is empty"]


def test_a_sentence_starting_like_a_comment_prompt_stays_in_the_body() -> None:
    text = (
        "Budget week\nBy: A. Writer\nThe budget was presented to parliament on Tuesday afternoon.\n"
        "3 comments from the finance minister stood out: the deficit, the debt and the pensions.\n"
        "Post a comment on social media and you may be fined, the new media law says in its third part.\n"
        "Comments:\nGreat piece!\n"
    )
    record = clean_page_text(text, article_id="budget")
    assert record["body"].endswith("the new media law says in its third part.")
    assert "3 comments from the finance minister" in record["body"]
    assert "Great piece" not in record["body"]
