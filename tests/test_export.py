from __future__ import annotations

import csv
import html.parser
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, Recommender
from recommender.cli import main
from recommender.outputs.export import export_links, safe_file_name, safe_url
from recommender.outputs.export_files import RECORD
from recommender.types import InvalidParameterError

from .conftest import KILLED, TINY, killed_at, recorded_steps


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
            {**link.to_dict(), "score": round(link.score, 6), "similarity": round(link.similarity, 6)}
            for link in index.related(article_id, k=2)
        ]
        assert set(links[0]) == {
            "article_id",
            "rank",
            "score",
            "similarity",
            "title",
            "date",
            "url",
            "reason",
        }


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
    columns = ["article_id", "rank", "related_id", "score", "reason", "title", "url", "date", "similarity"]
    assert list(rows[0]) == columns  # similarity came last, so older columns keep their positions
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
    assert files == sorted([RECORD, *(f"{article_id}.json" for article_id in index.ids)])
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
    names = sorted(path.name for path in (out / "fragments").iterdir() if path.name != RECORD)
    assert len(names) == len(set(names)) == 6
    assert "a_b.html" in names
    assert not (tmp_path / "deep" / "x.html").exists()


def test_per_article_html_fragments(tmp_path: Path, index: Index) -> None:
    folder = export_links(index, tmp_path / "fragments", format="html", per_article=True, k=2)
    text = (folder / "oil-prices-rise.html").read_text(encoding="utf-8")
    assert text.startswith('<section class="similar-posts" data-article-id="oil-prices-rise">')
    assert "<h2>Similar posts</h2>" in text
    assert "<html" not in text
    # A second export rewrites its own files; other files in the folder are left alone.
    (tmp_path / "fragments" / "notes.txt").write_text("mine", encoding="utf-8")
    export_links(index, tmp_path / "fragments", format="html", per_article=True, k=1)
    assert (tmp_path / "fragments" / "notes.txt").read_text(encoding="utf-8") == "mine"
    fresh = export_links(index, tmp_path / "fresh", format="html", per_article=True, k=1)
    assert {p.name: p.read_bytes() for p in fresh.glob("*.html")} == {
        p.name: p.read_bytes() for p in folder.glob("*.html")
    }


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


# Folder exports never touch the user's files ------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A folder export: where the user points it, where its files land, and one file of the user's there."""

    format: str
    folder: str  # relative to the output path
    suffix: str
    user_file: str  # relative to the output path

    def export(self, model: Path, output: Path) -> Path:
        index = Index.load(model)
        return export_links(index, output, format=self.format, per_article=self.format == "html", k=2)

    def name(self, article_id: str) -> str:
        return safe_file_name(article_id) + self.suffix


SITES = [
    Site("html", "", ".html", "index.html"),
    Site("hugo", "data/related", ".json", "data/related/handmade.json"),
    Site("jekyll", "_data/related", ".json", "_data/related/handmade.json"),
]
USER_BYTES = b"<!-- the user's own file: an export must never change it -->\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model of the tiny site, and of the same site later: two articles gone, one retitled, one added."""
    root = tmp_path_factory.mktemp("models")
    later = [dict(record) for record in TINY[:4]]
    later[1]["title"] = "OPEC output cut lifts crude again"
    later.append(
        {
            "id": "tanker-rates",
            "title": "Tanker rates follow crude",
            "body": "Crude oil tanker rates rose after the OPEC output cut, and refiners paid more for fuel.",
            "date": "2024-01-09",
        }
    )
    before = Recommender(min_df=1).fit([dict(record) for record in TINY]).save(root / "before")
    after = Recommender(min_df=1).fit(later).save(root / "after")
    return before, after


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path → bytes)."""
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def _exported(site: Site, output: Path) -> dict[str, bytes]:
    """The export's own files in its folder: everything but the user's file and hidden files."""
    folder = output / site.folder
    user = output / site.user_file
    return {p.name: p.read_bytes() for p in folder.iterdir() if p != user and not p.name.startswith(".")}


def _fresh(site: Site, model: Path, tmp_path: Path) -> dict[str, bytes]:
    """What an export of ``model`` into an empty folder writes: the reference for a re-export."""
    output = tmp_path / f"fresh-{site.format}-{model.name}"
    site.export(model, output)
    return _exported(site, output)


def _with_user_file(site: Site, output: Path) -> Path:
    user = output / site.user_file
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_bytes(USER_BYTES)
    return user


@pytest.mark.parametrize("site", SITES, ids=lambda site: site.format)
def test_folder_export_leaves_the_users_files_alone(
    tmp_path: Path, models: tuple[Path, Path], site: Site
) -> None:
    before, after = models
    output = tmp_path / "out"
    user = _with_user_file(site, output)
    site.export(before, output)
    assert user.read_bytes() == USER_BYTES
    first = _exported(site, output)
    assert sorted(first) == sorted(site.name(r["id"]) for r in TINY)
    assert first == _fresh(site, before, tmp_path)
    site.export(after, output)  # two articles gone, one retitled (its neighbour's file changes), one new
    assert user.read_bytes() == USER_BYTES
    second = _exported(site, output)
    assert second == _fresh(site, after, tmp_path)
    assert site.name("voters-manifestos") not in second
    assert site.name("tanker-rates") in second
    assert second[site.name("oil-prices-rise")] != first[site.name("oil-prices-rise")]
    assert [p.name for p in (output / site.folder).iterdir() if p.name.startswith(".")] == [RECORD]


@pytest.mark.parametrize("site", SITES[:2], ids=lambda site: site.format)
def test_a_file_name_taken_by_the_user_is_refused(
    tmp_path: Path, models: tuple[Path, Path], site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = models
    output = tmp_path / "out"
    taken = output / site.folder / site.name("oil-prices-rise")
    taken.parent.mkdir(parents=True)
    taken.write_bytes(USER_BYTES)
    with pytest.raises(
        InvalidParameterError, match=r"refusing to overwrite oil-prices-rise\.\w+: not written"
    ):
        site.export(before, output)
    assert _files(output) == {str(taken.relative_to(output)): USER_BYTES}
    taken.unlink()
    site.export(before, output)
    added = output / site.folder / site.name("tanker-rates")  # new in the later model
    added.write_bytes(USER_BYTES)
    snapshot = _files(output)
    args = ["export", str(after), "-o", str(output), "--format", site.format, "-k", "2"]
    args += ["--per-article"] if site.format == "html" else []
    assert main(args) == 1
    assert f"{site.name('tanker-rates')}: not written by an earlier export" in capsys.readouterr().err
    assert _files(output) == snapshot


@pytest.mark.parametrize("site", SITES[:2], ids=lambda site: site.format)
def test_a_file_of_ours_the_user_edited_is_kept(
    tmp_path: Path, models: tuple[Path, Path], site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    before, after = models
    output = tmp_path / "out"
    site.export(before, output)
    folder = output / site.folder
    edited = folder / site.name("voters-manifestos")  # gone from the later model
    edited.write_bytes(USER_BYTES)
    with caplog.at_level(logging.WARNING, logger="recommender.outputs.export_files"):
        site.export(after, output)
    assert edited.read_bytes() == USER_BYTES
    assert "kept voters-manifestos" in caplog.text
    assert not (folder / site.name("parliament-election-called")).exists()  # unchanged, so removed
    rewritten = folder / site.name("oil-prices-rise")  # the next export would write it again
    rewritten.write_bytes(USER_BYTES)
    snapshot = _files(output)
    with pytest.raises(
        InvalidParameterError, match=r"oil-prices-rise\.\w+: not written .* \(or changed since\)"
    ):
        site.export(after, output)
    assert _files(output) == snapshot


@pytest.mark.parametrize("site", SITES[:2], ids=lambda site: site.format)
@pytest.mark.parametrize("first", [True, False], ids=["first-export", "re-export"])
def test_a_kill_at_any_step_leaves_whole_files_and_a_rerun_completes(
    tmp_path: Path, models: tuple[Path, Path], site: Site, first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # a killed process loses nothing fsync would keep
    before, after = models
    fresh = {model: _fresh(site, model, tmp_path) for model in models}
    versions: dict[str, set[bytes]] = {}  # every whole version of each exported file
    for files in fresh.values():
        for name, data in files.items():
            versions.setdefault(name, set()).add(data)

    def prepare(output: Path) -> None:
        _with_user_file(site, output)
        if not first:
            site.export(before, output)

    prepare(tmp_path / "count")
    labels = recorded_steps(lambda: site.export(after, tmp_path / "count"))
    assert any(label.startswith("export remove") for label in labels) is not first
    for number, label in enumerate(labels):
        output = tmp_path / f"kill-{number}"
        prepare(output)
        assert killed_at(number, lambda output=output: site.export(after, output)) == KILLED, label
        assert (output / site.user_file).read_bytes() == USER_BYTES
        for name, data in _exported(site, output).items():
            assert data in versions[name], f"killed before {label!r}: {name} is not a whole export"
        rerun = (after, before)[number % 2]  # the next export may be of either model
        site.export(rerun, output)
        assert _exported(site, output) == fresh[rerun], label
        assert (output / site.user_file).read_bytes() == USER_BYTES
        hidden = [p.name for p in (output / site.folder).iterdir() if p.name.startswith(".")]
        assert hidden == [RECORD], f"killed before {label!r}: left {hidden}"


def test_a_kill_during_a_single_file_export_leaves_the_old_or_new_file(
    tmp_path: Path, models: tuple[Path, Path]
) -> None:
    before, after = models
    target = tmp_path / "out" / "related.json"
    old = export_links(Index.load(before), target, k=2).read_bytes()
    new = export_links(Index.load(after), tmp_path / "new.json", k=2).read_bytes()
    labels = recorded_steps(lambda: export_links(Index.load(after), tmp_path / "count.json", k=2))
    assert labels == ["export write count.json", "export replace count.json"]
    for number in range(len(labels)):
        assert killed_at(number, lambda: export_links(Index.load(after), target, k=2)) == KILLED
        assert target.read_bytes() == old
    neighbour = tmp_path / "out" / f".other.json.{'0' * 12}.recommender-tmp"  # another target's
    neighbour.write_bytes(b"")
    export_links(Index.load(after), target, k=2)
    assert target.read_bytes() == new
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([target.name, neighbour.name])
