"""WordPress exports: published posts only, with their metadata, HTML and shortcodes removed."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from recommender.sources.corpus import read_articles
from recommender.types import CorpusError

EXPORT = Path(__file__).resolve().parent / "data" / "sources" / "wordpress.xml"


def test_published_posts_with_metadata() -> None:
    frame = read_articles(EXPORT)
    assert frame.attrs["formats"] == {str(EXPORT): "wxr"}
    assert frame["id"].tolist() == ["uzbek-gold-partners", "kyrgyz-tajik-border"]
    post = frame.iloc[0]
    assert post["title"] == "Uzbekistan opens its gold mines to foreign partners"
    assert post["author"] == "R. Nurlan"  # display name, not the login
    assert post["date"] == "2024-04-09"
    assert post["url"] == "https://steppe.example/2024/04/uzbek-gold-partners/"
    assert post["category"] == "Asia"
    assert post["tags"] == ["mining", "Uzbekistan"]
    assert post["post_id"] == "101"
    assert post["excerpt"] == "Tashkent opens gold tenders."


def test_content_html_is_stripped() -> None:
    body = read_articles(EXPORT).iloc[0]["body"]
    assert body == (
        "Tashkent invited foreign mining companies to bid for stakes in three gold deposits, the first such "
        "tender since independence.\n\nThe state miner will keep a majority, but officials said outside "
        "capital and technology are needed to lift output & modernise the refineries."
    )


def test_pages_drafts_and_attachments_are_reported() -> None:
    skipped = read_articles(EXPORT).attrs["skipped"]
    assert [(s.location.rsplit(": ", 1)[1], s.reason) for s in skipped] == [
        ("item 2 (about)", "post type 'page', not a post"),
        ("item 3 (103)", "status 'draft', not published"),
        ("item 4 (mine)", "post type 'attachment', not a post"),
    ]


def test_gzipped_export_and_broken_xml(tmp_path: Path) -> None:
    packed = tmp_path / "export.xml.gz"
    packed.write_bytes(gzip.compress(EXPORT.read_bytes()))
    assert len(read_articles(packed)) == 2
    broken = tmp_path / "broken.xml"
    broken.write_text(EXPORT.read_text(encoding="utf-8").replace("</item>", "", 1), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"broken\.xml:\d+: malformed XML at column \d+"):
        read_articles(broken)


def test_unknown_xml_asks_for_a_format(tmp_path: Path) -> None:
    path = tmp_path / "sitemap.xml"
    path.write_text('<?xml version="1.0"?><urlset><url><loc>x</loc></url></urlset>', encoding="utf-8")
    with pytest.raises(CorpusError, match="neither a WordPress export, an RSS nor an Atom feed"):
        read_articles(path)


def test_an_empty_feed_file_is_called_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.rss"
    path.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"empty\.rss: the file is empty"):
        read_articles(path)
