"""The bundled geopolitics corpus: schema, size, the seed page's pieces, originality and link quality."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, read_articles

from .conftest import BUNDLED, ROOT

SEED_PAGE = ROOT.parent / "shared" / "seed"
#: What these tests need of the seed page, kept here so that they run without ../shared: the titles of
#: its pieces and a hash of each run of eight words (not the page's text). A test below re-derives it
#: from the page when the page is there.
SEED_FACTS = ROOT / "tests" / "data" / "seed-page.json"
FIELDS = {"id", "title", "author", "date", "category", "tags", "url", "storyline", "body"}
SEED_PIECES = {
    "kazakhstan-geopolitical-conundrum": "2024-07-24",
    "sino-russian-partnership": "2024-07-22",
    "india-diplomatic-dance": "2024-07-22",
    "orban-diplomatic-tightrope": "2024-07-20",
    "peace-mirage-orban-moscow": "2024-07-17",
    "ukraine-trek-to-peace": "2024-07-16",
    "russia-north-korea-alliance": "2024-07-15",
    "uk-military-readiness": "2024-07-05",
    "russia-warns-israel-air-defense": "2024-07-03",
}


@pytest.fixture(scope="module")
def records() -> list[dict[str, object]]:
    return [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()]


def _words(text: object) -> list[str]:
    return re.findall(r"[\w’']+", str(text).lower())


def test_schema(records: list[dict[str, object]]) -> None:
    for record in records:
        assert set(record) == FIELDS, record["id"]
        article_id = str(record["id"])
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", article_id)
        assert str(record["author"]).endswith(" desk")
        date = dt.date.fromisoformat(str(record["date"]))
        assert dt.date(2022, 1, 1) <= date <= dt.date(2024, 12, 31)
        assert record["url"] == f"https://example.org/{date:%Y}/{date:%m}/{article_id}"
        assert isinstance(record["tags"], list)
        assert record["tags"]
    assert len({record["id"] for record in records}) == len(records)
    assert len(read_articles(BUNDLED)) == len(records)


def test_size_and_storylines(records: list[dict[str, object]]) -> None:
    lengths = [len(str(record["body"]).split()) for record in records]
    assert len(records) >= 120
    assert all(150 <= length <= 700 for length in lengths)
    assert sum(lengths) / len(lengths) >= 250
    storylines = Counter(str(record["storyline"]) for record in records)
    assert len(storylines) >= 15
    assert min(storylines.values()) >= 5


def test_bridge_articles_carry_tags_of_a_second_storyline(records: list[dict[str, object]]) -> None:
    # A bridge is tagged with a tag that is otherwise typical of another storyline.
    tag_home: dict[str, Counter[str]] = {}
    for record in records:
        for tag in record["tags"]:  # type: ignore[attr-defined]
            tag_home.setdefault(tag, Counter())[str(record["storyline"])] += 1
    bridges = 0
    for record in records:
        own = str(record["storyline"])
        for tag in record["tags"]:  # type: ignore[attr-defined]
            home, count = tag_home[tag].most_common(1)[0]
            if home != own and count >= 3:
                bridges += 1
                break
    assert bridges >= 5


def _seed_facts(page: str, records: list[dict[str, object]]) -> dict[str, object]:
    """The titles of the seed's pieces as the page writes them, and the hashed 8-word runs of the page."""
    lines = {line.strip() for line in page.splitlines()}
    titles = {str(record["id"]): str(record["title"]) for record in records if record["id"] in SEED_PIECES}
    return {
        "titles": {article_id: title for article_id, title in sorted(titles.items()) if title in lines},
        "shingles": sorted({_hashed(run) for run in _runs(page, 8)}),
    }


def _runs(text: object, size: int) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def _hashed(run: tuple[str, ...]) -> str:
    return hashlib.sha256(" ".join(run).encode("utf-8")).hexdigest()[:16]


@pytest.fixture(scope="module")
def seed_facts() -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(SEED_FACTS.read_text(encoding="utf-8"))
    return facts


def test_the_stored_seed_facts_are_the_seed_pages(
    records: list[dict[str, object]], seed_facts: dict[str, Any]
) -> None:
    if not SEED_PAGE.is_dir():
        pytest.skip(f"{SEED_PAGE} is not present (the tests use {SEED_FACTS.name})")
    page = "\n".join(path.read_text(encoding="utf-8") for path in sorted(SEED_PAGE.glob("*.txt")))
    assert _seed_facts(page, records) == seed_facts


def test_the_seed_pages_pieces_are_present(
    records: list[dict[str, object]], seed_facts: dict[str, Any]
) -> None:
    by_id = {str(record["id"]): record for record in records}
    for article_id, date in SEED_PIECES.items():
        assert article_id in by_id
        assert by_id[article_id]["date"] == date
        assert by_id[article_id]["title"] == seed_facts["titles"].get(article_id), article_id


def test_bodies_are_our_own_words(records: list[dict[str, object]], seed_facts: dict[str, Any]) -> None:
    """No run of eight words is shared with the seed page, nor a run of twelve between two articles.

    (Shorter runs recur naturally between articles: names of bodies, quantities such as
    "50 billion cubic metres of gas a year".)
    """
    seed = set(seed_facts["shingles"])
    assert len(seed) > 500
    owner: dict[tuple[str, ...], str] = {}
    for record in records:
        assert not {_hashed(run) for run in _runs(record["body"], 8)} & seed, record["id"]
        for shingle in _runs(record["body"], 12):
            assert owner.setdefault(shingle, str(record["id"])) == record["id"], (shingle, owner[shingle])


def test_share_of_top5_in_the_same_storyline(
    records: list[dict[str, object]], bundled_model_dir: Path, record_property: pytest.RecordProperty
) -> None:
    index = Index.load(bundled_model_dir)
    storyline = {str(record["id"]): str(record["storyline"]) for record in records}
    same = total = 0
    for article_id in index:
        for link in index.related(article_id, k=5):
            same += storyline[link.article_id] == storyline[article_id]
            total += 1
    share = same / total
    record_property("same_storyline_share_at_5", round(share, 3))
    print(f"\nshare of top-5 neighbours in the same storyline: {share:.3f} ({same}/{total})")
    assert total == 5 * len(index)
    assert share >= 0.6


def test_seed_article_links_to_the_sites_own_picks(bundled_model_dir: Path) -> None:
    links = Index.load(bundled_model_dir).related("kazakhstan-geopolitical-conundrum", k=8)
    assert len(links) == 8
    found = {link.article_id for link in links}
    picks = {"india-diplomatic-dance", "orban-diplomatic-tightrope", "sino-russian-partnership"}
    assert len(found & picks) >= 2, sorted(found)
