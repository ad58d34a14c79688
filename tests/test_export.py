from __future__ import annotations

import csv
import html.parser
import json
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, Recommender
from recommender.export import export_links, safe_url
from recommender.types import InvalidParameterError


@pytest.fixture
def index(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> Index:
    tiny_records[0]["title"] = 'Oil <script>alert("x")</script> & "gas"'
    return Index.load(Recommender(min_df=1).fit(tiny_records).save(tmp_path / "model"))


def test_json_export_lists_every_article(tmp_path: Path, index: Index) -> None:
    path = export_links(index, tmp_path / "out" / "related.json", k=2)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == index.ids
    for article_id, links in data.items():
        assert links == [
            {**link.to_dict(), "score": round(link.score, 6)} for link in index.related(article_id, k=2)
        ]
        assert set(links[0]) == {"article_id", "rank", "score", "title", "date", "url", "reason"}


def test_csv_export_is_long_format(tmp_path: Path, index: Index) -> None:
    path = export_links(index, tmp_path / "related.csv", format="csv", k=2)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = sum(len(index.related(article_id, k=2)) for article_id in index)
    assert len(rows) == expected
    first = rows[0]
    assert first["article_id"] == index.ids[0]
    assert first["related_id"] == index.related(index.ids[0], k=1)[0].article_id
    assert first["rank"] == "1"


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.sections = 0
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"] or "")
        self.sections += tag == "section"
        self.scripts += tag == "script"


def test_html_export_escapes_text_and_links_only_http(tmp_path: Path, index: Index) -> None:
    path = export_links(index, tmp_path / "related.html", format="html", k=3)
    text = path.read_text(encoding="utf-8")
    collector = _Collector()
    collector.feed(text)
    assert collector.sections == len(index)
    assert collector.scripts == 0
    assert "&lt;script&gt;" in text
    assert all(href.startswith(("http://", "https://")) for href in collector.hrefs)
    assert "javascript:" not in text
    assert "<span>Voters weigh party manifestos before the election</span>" in text
    assert "Jan 07 2024" in text


def test_export_is_deterministic(tmp_path: Path, index: Index) -> None:
    for fmt in ("json", "csv", "html"):
        one = export_links(index, tmp_path / f"a.{fmt}", format=fmt).read_bytes()
        two = export_links(index, tmp_path / f"b.{fmt}", format=fmt).read_bytes()
        assert one == two


def test_export_errors(tmp_path: Path, index: Index) -> None:
    with pytest.raises(InvalidParameterError, match="unknown export format 'xml'"):
        export_links(index, tmp_path / "x.xml", format="xml")
    with pytest.raises(InvalidParameterError, match="is a folder"):
        export_links(index, tmp_path)
    with pytest.raises(InvalidParameterError, match="k must be"):
        export_links(index, tmp_path / "x.json", k=0)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("HTTP://example.org", "HTTP://example.org"),
        ("javascript:alert(1)", None),
        ("//example.org/a", None),
        ("/relative", None),
        ("data:text/html,hi", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected
