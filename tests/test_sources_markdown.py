"""Hugo and Jekyll content folders: YAML and TOML front matter, drafts, page bundles, Markdown stripped."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.sources.corpus import read_articles
from recommender.sources.markdown import markdown_to_text, parse_front_matter, parse_yaml_subset
from recommender.types import CorpusError

SOURCES = Path(__file__).resolve().parent / "data" / "sources"


def test_hugo_site_yaml_and_toml_front_matter() -> None:
    frame = read_articles(SOURCES / "hugo")
    assert frame.attrs["formats"] == {str(SOURCES / "hugo"): "markdown"}
    assert frame["id"].tolist() == ["baltic-grid-sync", "danube-grain-corridor"]  # bundle folder, slug
    baltic, danube = frame.iloc[0], frame.iloc[1]
    assert baltic["date"] == "2024-02-08"
    assert baltic["tags"] == ["energy", "baltics"]
    assert danube["title"] == "Danube grain corridor keeps Ukrainian exports moving"
    assert danube["date"] == "2024-03-11"
    assert danube["author"] == "M. Ilieva"
    assert danube["category"] == "Europe"
    assert danube["categories"] == ["Europe", "Trade"]
    assert danube["tags"] == ["grain", "ukraine", "shipping"]


def test_markdown_body_is_prose_only() -> None:
    body = read_articles(SOURCES / "hugo").iloc[1]["body"]
    assert body.startswith("Barges loaded with Ukrainian wheat now queue at Izmail and Reni")
    assert "Romania has dredged the Sulina channel to let larger vessels through" in body
    assert body.endswith("What comes next\n\nTraders expect the corridor to stay busy while shipping through "
                         "the Black Sea remains uncertain.")  # fmt: skip
    for markup in ("**", "{{", "figure", "https://", "tonnage", "##", "```"):
        assert markup not in body


def test_drafts_and_list_pages_are_reported_not_read() -> None:
    frame = read_articles(SOURCES / "hugo")
    reasons = {Path(s.location).name: s.reason for s in frame.attrs["skipped"]}
    assert set(reasons) == {"_index.md", "moldova-gas-draft.md"}
    assert reasons["moldova-gas-draft.md"].startswith("draft: true")
    assert not any(s.invalid for s in frame.attrs["skipped"])
    with_drafts = read_articles(SOURCES / "hugo", include_drafts=True)
    assert "moldova-gas-draft" in with_drafts["id"].tolist()
    assert "draft" not in with_drafts.columns


def test_jekyll_posts_names_and_drafts() -> None:
    frame = read_articles(SOURCES / "jekyll")
    assert frame["id"].tolist() == ["caspian-ferry-link"]
    post = frame.iloc[0]
    assert post["date"] == "2024-06-03"  # from the file name
    assert post["category"] == "Asia"
    assert post["tags"] == ["logistics", "kazakhstan"]
    assert "include" not in post["body"]
    assert post["body"].endswith("between China and Europe.")
    reasons = sorted(s.reason.split(" (")[0] for s in frame.attrs["skipped"])
    assert reasons == ["in Jekyll's _drafts folder", "published: false"]
    assert len(read_articles(SOURCES / "jekyll", include_drafts=True)) == 3


def test_bad_front_matter_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "post.md").write_text("+++\ntitle = \n+++\nBody text.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"post\.md: front matter is not valid TOML"):
        read_articles(tmp_path, format="markdown")


def test_a_date_that_is_not_a_real_day_says_so(tmp_path: Path) -> None:
    pytest.importorskip("yaml")  # PyYAML makes dates itself; the built-in reader keeps the text
    (tmp_path / "post.md").write_text("---\ntitle: T\ndate: 2024-13-01\n---\nBody text.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"post\.md: front matter holds a date that is not a real day"):
        read_articles(tmp_path, format="markdown")


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("# Title\n\nSome *emphasis* and `code`.", "Title\n\nSome emphasis and code."),
        ("See [the map][1] and ![a photo](x.jpg).\n\n[1]: https://x.example", "See the map and ."),
        ("> quoted\n- item one\n- item two", "quoted item one item two"),
        ("Text with <span>inline</span> HTML &amp; an entity.", "Text with inline HTML & an entity."),
    ],
)
def test_markdown_to_text(markdown: str, text: str) -> None:
    assert markdown_to_text(markdown) == text


def test_front_matter_without_fences_is_body() -> None:
    assert parse_front_matter("Just text\n") == ({}, "Just text\n")


_NESTED = [
    "title: Real title",
    "seo:",
    "  title: SEO override",
    "  image:",
    "    url: x.png",
    "date: 2024-01-02",
]


def test_built_in_yaml_keeps_nested_keys_nested() -> None:
    data = parse_yaml_subset([*_NESTED, "tags:", "  - a", "  - b"])
    assert data["title"] == "Real title"
    assert data["seo"] == {"title": "SEO override", "image": {"url": "x.png"}}
    assert data["date"] == "2024-01-02"
    assert data["tags"] == ["a", "b"]
    with pytest.raises(ValueError, match=r"line 3: front matter nested under 'title'"):
        parse_yaml_subset(["title: T", "  url: x"])


def test_text_file_front_matter_nested_keys_do_not_overwrite(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("---\n" + "\n".join(_NESTED) + "\n---\nThe body.\n", encoding="utf-8")
    frame = read_articles(tmp_path)
    assert frame.loc[0, "title"] == "Real title"
    assert frame.loc[0, "seo"]["title"] == "SEO override"
    assert frame.loc[0, "date"] == "2024-01-02"
