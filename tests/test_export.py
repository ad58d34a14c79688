from __future__ import annotations

import csv
import html.parser
import json
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, Recommender
from recommender.outputs.export import export_links, safe_file_name, safe_url
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


def test_csv_has_reason_and_documented_columns(tmp_path: Path, index: Index) -> None:
    path = export_links(index, tmp_path / "related.csv", format="csv", k=5, min_relative=0.9, fill=True)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["article_id", "rank", "related_id", "score", "reason", "title", "url", "date"]
    assert {row["reason"] for row in rows} == {"similar", "fill:recent"}  # each category is one pair
    assert len(rows) == 5 * len(index)  # fill guarantees exactly k when k eligible articles exist


def test_jsonl_one_line_per_article(tmp_path: Path, index: Index) -> None:
    path = export_links(index, tmp_path / "related.jsonl", format="jsonl", k=2)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["article_id"] for line in lines] == index.ids
    assert json.loads(lines[0])["links"][0]["reason"] == "similar"


@pytest.mark.parametrize(("fmt", "folder"), [("hugo", "data/related"), ("jekyll", "_data/related")])
def test_static_site_data_files(tmp_path: Path, index: Index, fmt: str, folder: str) -> None:
    written = export_links(index, tmp_path / "site", format=fmt, k=2)
    assert written == tmp_path / "site" / folder
    files = sorted(path.name for path in written.iterdir())
    assert files == sorted(f"{article_id}.json" for article_id in index.ids)
    data = json.loads((written / "oil-prices-rise.json").read_text(encoding="utf-8"))
    assert data["article_id"] == "oil-prices-rise"
    assert data["links"][0]["article_id"] == "opec-output-cut"


@pytest.mark.parametrize("article_id", ["../x", "a/b", "..", ".hidden", "/etc/passwd", "a\\b", "ü ber", ""])
def test_safe_file_name_never_escapes(article_id: str) -> None:
    name = safe_file_name(article_id)
    assert name
    assert "/" not in name
    assert "\\" not in name
    assert not name.startswith(".")
    assert Path(name).name == name


def test_hostile_ids_stay_inside_the_output_folder(
    tmp_path: Path, tiny_records: list[dict[str, Any]]
) -> None:
    tiny_records[0]["id"] = "../x"
    tiny_records[1]["id"] = "a/b"
    tiny_records[2]["id"] = "a_b"
    model = Recommender(min_df=1).fit(tiny_records)
    index = Index.load(model.save(tmp_path / "model"))
    out = tmp_path / "deep" / "out"
    for fmt in ("hugo", "jekyll"):
        export_links(index, out / fmt, format=fmt, k=2)
    export_links(index, out / "fragments", format="html", per_article=True, k=2)
    everything = [path for path in tmp_path.rglob("*") if path.is_file() and "model" not in path.parts]
    assert all(out in path.parents for path in everything)
    names = sorted(path.name for path in (out / "fragments").iterdir())
    assert len(names) == len(set(names)) == 6
    assert "a_b.html" in names
    assert not (tmp_path / "deep" / "x.html").exists()


def test_per_article_html_fragments(tmp_path: Path, index: Index) -> None:
    folder = export_links(index, tmp_path / "fragments", format="html", per_article=True, k=2)
    text = (folder / "oil-prices-rise.html").read_text(encoding="utf-8")
    assert text.startswith('<section class="similar-posts" data-article-id="oil-prices-rise">')
    assert "<h2>Similar posts</h2>" in text
    assert "<html" not in text
    # A second export replaces the folder; a folder holding other files is refused.
    export_links(index, tmp_path / "fragments", format="html", per_article=True, k=1)
    (tmp_path / "fragments" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="holds other files"):
        export_links(index, tmp_path / "fragments", format="html", per_article=True, k=1)


def test_custom_template(tmp_path: Path, index: Index) -> None:
    template = tmp_path / "block.html"
    template.write_text('<aside id="$article_id">$count: <ol>\n$links\n</ol> $$5</aside>', encoding="utf-8")
    text = export_links(index, tmp_path / "r.html", format="html", k=2, template=template).read_text(
        encoding="utf-8"
    )
    assert '<aside id="oil-prices-rise">1: <ol>' in text  # one article shares its terms
    assert "$5</aside>" in text
    assert "&lt;script&gt;" in text
    template.write_text("<p>$nope</p>", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match=r"unknown placeholder\(s\) \$nope"):
        export_links(index, tmp_path / "r.html", format="html", template=template)
    with pytest.raises(InvalidParameterError, match="cannot read the template"):
        export_links(index, tmp_path / "r.html", format="html", template=tmp_path / "missing.html")
    with pytest.raises(InvalidParameterError, match="template applies to the html format"):
        export_links(index, tmp_path / "r.json", template=template)


def test_every_format_is_deterministic(tmp_path: Path, index: Index) -> None:
    options: dict[str, Any] = {"k": 4, "fill": True, "mmr": 0.7, "max_exposure": 3}
    for fmt in ("json", "jsonl", "csv", "html"):
        one = export_links(index, tmp_path / f"a.{fmt}", format=fmt, **options).read_bytes()
        two = export_links(index, tmp_path / f"b.{fmt}", format=fmt, **options).read_bytes()
        assert one == two
    for fmt in ("hugo", "jekyll"):
        one_dir = export_links(index, tmp_path / "s1", format=fmt, **options)
        two_dir = export_links(index, tmp_path / "s2", format=fmt, **options)
        assert {p.name: p.read_bytes() for p in one_dir.iterdir()} == {
            p.name: p.read_bytes() for p in two_dir.iterdir()
        }


def test_progress_bar_does_not_change_output(
    tmp_path: Path, index: Index, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = export_links(index, tmp_path / "q.json").read_bytes()
    shown = export_links(index, tmp_path / "p.json", progress=True).read_bytes()
    assert quiet == shown
    assert "article" in capsys.readouterr().err  # tqdm draws on standard error


def test_per_article_needs_html(tmp_path: Path, index: Index) -> None:
    with pytest.raises(InvalidParameterError, match="per_article applies to the html format"):
        export_links(index, tmp_path / "x", format="json", per_article=True)
