"""RSS 2.0 and Atom feeds: full content when present, else the summary; dates, authors, categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.sources.corpus import read_articles
from recommender.types import CorpusError

SOURCES = Path(__file__).resolve().parent / "data" / "sources"


def test_rss_items() -> None:
    frame = read_articles(SOURCES / "feed.rss")
    assert frame.attrs["formats"] == {str(SOURCES / "feed.rss"): "rss"}
    assert frame["id"].tolist() == ["2024/07/kazakh-uranium-east", "2024/06/turkmen-afghan-transit"]
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["body"].startswith("Kazatomprom signed new supply contracts")  # content:encoded wins
    assert "Short summary" not in first["body"]
    assert first["date"] == "2024-07-01"
    assert first["author"] == "R. Nurlan"
    assert first["tags"] == ["Energy", "Kazakhstan"]
    assert first["url"] == "https://steppe.example/2024/07/kazakh-uranium-east/"
    assert second["body"] == (
        "Ashgabat is extending its rail line toward Herat and offering lower tariffs to Afghan traders."
    )


def test_atom_entries() -> None:
    frame = read_articles(SOURCES / "feed.atom")
    assert frame.attrs["formats"] == {str(SOURCES / "feed.atom"): "atom"}
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["id"] == "2024/07/mongolia-third-neighbour"
    assert first["title"] == "Mongolia's third-neighbour policy under strain"
    assert first["body"].startswith(
        "Ulaanbaatar keeps courting Washington, Tokyo and Seoul as third neighbours"
    )
    assert first["date"] == "2024-07-03"  # published, not updated
    assert first["author"] == "B. Gantulga"
    assert first["tags"] == ["Asia", "Mongolia"]
    assert second["date"] == "2024-06-28"  # no published: updated
    assert second["body"] == (
        "Moscow and Beijing still disagree on the price of gas for the pipeline that would cross Mongolia."
    )


def test_feed_item_without_link_or_guid_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(
        "<rss version='2.0'><channel><item><title>Orphan</title><description>Text</description></item>"
        "<item><link>https://x.example/a</link><description>Kept</description></item></channel></rss>",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"feed\.xml: item 1 \(no link\): the item has no <link> or <guid>"):
        read_articles(path)
    assert read_articles(path, skip_invalid=True)["id"].tolist() == ["a"]


def test_format_override_checks_the_document(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not an Atom <feed>"):
        read_articles(SOURCES / "feed.rss", format="atom")


def test_an_unknown_xml_encoding_is_an_error_naming_the_file(tmp_path: Path) -> None:
    # Found by tests/test_fuzz.py: a declaration naming an encoding Python lacks raised LookupError.
    feed = tmp_path / "feed.atom"
    feed.write_bytes(
        b'<?xml version="1.0" encoding="tf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"></feed>\n'
    )
    with pytest.raises(CorpusError, match=r"feed\.atom: unreadable XML text \(unknown encoding: tf-8\)"):
        read_articles(feed, format="atom")


def test_plain_permalinks_keep_the_query_that_names_the_post(tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>Post {link}</title><link>{link}</link><description>Text {link}.</description></item>"
        for link in (
            "https://blog.example/?p=1",
            "https://blog.example/?p=2",
            "https://blog.example/index.php?p=3",
            "https://blog.example/2024/07/pretty/?utm_source=rss",
        )
    )
    path = tmp_path / "feed.rss"
    path.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>')
    frame = read_articles(path)
    assert frame["id"].tolist() == [
        "blog.example/?p=1",
        "blog.example/?p=2",
        "index.php?p=3",
        "2024/07/pretty",
    ]
