"""Saved HTML pages: trafilatura finds the article; menus, comments, related links and footer stay out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from recommender.sources.corpus import read_articles

pytest.importorskip("trafilatura")

from recommender.sources.html import site_related

PAGES = Path(__file__).resolve().parent / "data" / "sources" / "html"


def test_html_page_article_and_metadata() -> None:
    frame = read_articles(PAGES)
    assert frame.attrs["formats"] == {str(PAGES): "html"}
    article = frame.iloc[0]
    assert article["id"] == "caspian-pipeline-talks"
    assert article["title"] == "Caspian pipeline talks stall over transit fees"
    assert article["date"] == "2024-05-14"
    assert article["url"] == "https://steppe.example/2024/05/caspian-pipeline-talks"
    assert "Okonjo" in article["author"]
    body = article["body"]
    assert body.startswith("Negotiators from Baku, Ashgabat and Astana")
    assert body.endswith("including Russia and Iran.")
    for furniture in ("Subscribe", "About us", "no comments", "Turkmen gas looks west", "rights reserved"):
        assert furniture not in body


def test_html_site_related_links() -> None:
    related = read_articles(PAGES / "caspian-pipeline-talks.html")["site_related"].iloc[0]
    assert related == [
        {
            "title": "Turkmen gas looks west as Chinese demand slows",
            "url": "https://steppe.example/2024/04/turkmen-gas-europe",
        },
        {
            "title": "Baku sells itself as Europe's energy corridor",
            "url": "https://steppe.example/2024/03/baku-energy-corridor",
        },
    ]


def test_page_without_article_text_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text((PAGES / "caspian-pipeline-talks.html").read_text(), encoding="utf-8")
    (tmp_path / "tag-index.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    frame = read_articles(tmp_path)
    assert frame["id"].tolist() == ["a"]
    [skipped] = frame.attrs["skipped"]
    assert skipped.location == str(tmp_path / "tag-index.html")
    assert "no article text" in skipped.reason
    assert not skipped.invalid


def test_an_empty_page_is_reported_without_trafilaturas_own_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "empty.html").write_text("", encoding="utf-8")
    (tmp_path / "page.html").write_text((PAGES / "caspian-pipeline-talks.html").read_text(), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        frame = read_articles(tmp_path, format="html")
    assert [record.message for record in caplog.records if record.name.startswith("trafilatura")] == []
    assert any("empty.html" in str(skipped) for skipped in frame.attrs["skipped"])


def test_site_related_without_block() -> None:
    assert site_related("<html><body><p>Nothing related here.</p></body></html>") == []
    assert site_related("") == []


def test_missing_trafilatura_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from recommender.types import CorpusError

    monkeypatch.setitem(sys.modules, "trafilatura", None)
    with pytest.raises(
        CorpusError, match=r"^reading HTML pages needs trafilatura: pip install 'recommender\[html\]'$"
    ):
        read_articles(PAGES)
