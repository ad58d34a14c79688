from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from recommender.sources.corpus import FIELDS, load_articles, read_articles
from recommender.types import CorpusError, EmptyCorpusError


def _write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_reads_jsonl_with_known_columns_first(tiny_jsonl: Path) -> None:
    frame = read_articles(tiny_jsonl)
    assert list(frame.columns[: len(FIELDS)]) == list(FIELDS)
    assert frame["id"].tolist()[:2] == ["oil-prices-rise", "opec-output-cut"]
    assert frame.loc[0, "tags"] == ["oil", "opec"]
    assert frame.attrs["skipped"] == []


def test_keeps_unknown_fields_as_metadata(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "body": "text", "storyline": "x", "lang": "en"}])
    frame = read_articles(path)
    assert frame.loc[0, "storyline"] == "x"
    assert frame.loc[0, "lang"] == "en"
    assert frame.loc[0, "title"] == ""
    assert frame.loc[0, "tags"] == []


def test_reads_gzip_by_content(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    path = tmp_path / "tiny.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in tiny_records:
            handle.write(json.dumps(record) + "\n")
    assert read_articles(path)["id"].tolist() == [r["id"] for r in tiny_records]


def _damaged(data: bytes, damage: str) -> bytes:
    """``data`` gzip-compressed, then cut in half, or with a flipped byte in its stream or its checksum."""
    packed = bytearray(gzip.compress(data, mtime=0))
    if damage == "truncated":
        return bytes(packed[: len(packed) // 2])
    where = len(packed) // 2 if damage == "flipped" else len(packed) - 6  # the CRC-32 field
    packed[where] ^= 0xFF
    return bytes(packed)


def _formats(records: list[dict[str, Any]]) -> dict[str, bytes]:
    frame = pd.DataFrame(records)[["id", "title", "body"]]
    return {
        "jsonl": "".join(json.dumps(record) + "\n" for record in records).encode(),
        "json": json.dumps(records).encode(),
        "csv": frame.to_csv(index=False).encode(),
    }


@pytest.mark.parametrize("damage", ["truncated", "flipped", "crc"])
@pytest.mark.parametrize("kind", ["jsonl", "json", "csv"])
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_damaged_gzip_is_an_error_naming_the_file(
    tmp_path: Path, damage: str, kind: str, skip_invalid: bool
) -> None:
    records = [
        {"id": f"a{i}", "title": f"T {i}", "body": f"oil and grain prices, note {i} " * 40} for i in range(60)
    ]
    path = tmp_path / f"articles.{kind}.gz"
    path.write_bytes(_damaged(_formats(records)[kind], damage))
    with pytest.raises(
        CorpusError, match=r"articles\.\w+\.gz: compressed data is truncated or corrupt \(.+\)"
    ):
        read_articles(path, skip_invalid=skip_invalid)


def test_reads_json_array(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_records, indent=2), encoding="utf-8")
    frame = read_articles(path)
    assert len(frame) == len(tiny_records)


def test_json_array_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"id": "a", "body": "x"},\n  {"id": "b", "body": }\n]\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.json:3: malformed JSON"):
        read_articles(path)


def test_json_array_record_problems_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"id": "a", "body": "x"},\n\n  {"id": "b", "body": ""}\n]\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.json:4: article 'b' has an empty body"):
        read_articles(path)


def test_reads_csv_with_multiline_fields_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "body", "tags"])
        writer.writerow(["a", "T", "line one\nline two", "x; y"])
        writer.writerow(["b", "U", "body", '["p", "q"]'])
        writer.writerow(["c", "V", "", ""])
    with pytest.raises(CorpusError, match=r"a\.csv:5: article 'c' has an empty body"):
        read_articles(path)
    frame = read_articles(path, skip_invalid=True)
    assert frame["tags"].tolist() == [["x", "y"], ["p", "q"]]
    assert frame.loc[0, "body"] == "line one\nline two"


def test_csv_header_must_name_id_and_body(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("slug,text\na,b\n", encoding="utf-8")
    with pytest.raises(
        CorpusError, match=r"a\.csv:1: the header has no 'id' or 'body' column \(found: slug, text\)"
    ):
        read_articles(path)


def test_csv_rows_with_wrong_column_count(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,body\na,b\nc,d,e\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"a\.csv:3: expected 2 columns as in the header, found 3"):
        read_articles(path)


def test_reads_parquet(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "tiny.parquet"
    pd.DataFrame(tiny_records).to_parquet(path)
    frame = read_articles(path)
    assert frame.loc[0, "tags"] == ["oil", "opec"]
    assert len(frame) == len(tiny_records)


def test_reads_text_folder_with_front_matter(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / "first-post.md").write_text(
        '---\ntitle: "Front title"\ndate: 2024-01-02\ntags: [a, b]\ncategories:\n  - Europe\n---\n'
        "Body of the first post.\n",
        encoding="utf-8",
    )
    (folder / "sub" / "second.txt").write_text("# Plain title\n\nBody two.\n", encoding="utf-8")
    (folder / ".hidden.md").write_text("ignored", encoding="utf-8")
    (folder / "notes.pdf").write_bytes(b"%PDF")
    frame = read_articles(folder)
    assert frame["id"].tolist() == ["first-post", "second"]
    assert frame["title"].tolist() == ["Front title", "Plain title"]
    assert frame["body"].tolist() == ["Body of the first post.", "Body two."]
    assert frame.loc[0, "tags"] == ["a", "b"]
    assert frame.loc[0, "categories"] == ["Europe"]
    assert frame.loc[0, "date"] == "2024-01-02"


def test_unclosed_front_matter_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "a.md").write_text("---\ntitle: x\nbody\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"a\.md: front matter .* never closed"):
        read_articles(folder)


def test_format_override(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "export.dat", [{"id": "a", "body": "x"}])
    with pytest.raises(CorpusError, match="cannot tell the format"):
        read_articles(path)
    assert read_articles(path, format="jsonl")["id"].tolist() == ["a"]


def test_skip_invalid_reports_each_record(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"id": "a", "body": "fine"}\n{oops\n{"id": "a", "body": "again"}\n{"id": "c", "body": "  "}\n',
        encoding="utf-8",
    )
    frame = read_articles(path, skip_invalid=True)
    assert frame["id"].tolist() == ["a"]
    skipped = frame.attrs["skipped"]
    assert [s.location for s in skipped] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert "duplicate id 'a'" in skipped[1].reason


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            b'{"id": "a", "body": "x"}\n{"id": "b", "body": "y"\n',
            r"x\.jsonl:2: malformed JSON: Expecting ',' delimiter at the end of the line",
        ),
        (b'{"id": "a", "body": x}\n', r"x\.jsonl:1: malformed JSON: Expecting value at column 21"),
        (b'{"title": "t", "body": "x"}\n', r"x\.jsonl:1: missing 'id'"),
        (b'{"id": "", "body": "x"}\n', r"x\.jsonl:1: empty 'id'"),
        (b'{"id": "a"}\n', r"x\.jsonl:1: article 'a' has no 'body'"),
        (b'{"id": "a", "body": "   "}\n', r"x\.jsonl:1: article 'a' has an empty body"),
        (b'{"id": "a", "body": 5}\n', r"'body' must be text"),
        (b'{"id": ["a"], "body": "x"}\n', r"'id' must be a string"),
        (b'{"id": "a", "body": "x", "tags": 3}\n', r"'tags' must be a list"),
        (b'["a", "b"]\n', r"x\.jsonl:1: expected an article object"),
        (
            b'{"id": "a", "body": "x"}\n{"id": "a", "body": "y"}\n',
            r"duplicate id\(s\): 'a' at .*x\.jsonl:1, .*:2",
        ),
        (b'{"id": "a", "body": "caf\xe9"}\n', r"x\.jsonl:1: undecodable bytes at byte offset 24"),
        (b"", r"x\.jsonl: no articles found"),
        (b"\n\n", r"no articles found"),
    ],
)
def test_bad_jsonl_gets_clear_errors(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=match):
        read_articles(path)


def test_undecodable_offset_counts_from_file_start(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    first = b'{"id": "a", "body": "x"}\n'
    path.write_bytes(first + b'{"id": "b", "body": "\xff"}\n')
    with pytest.raises(CorpusError, match=rf"x\.jsonl:2: undecodable bytes at byte offset {len(first) + 21}"):
        read_articles(path)


def test_many_problems_are_summarised(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "x.jsonl", [{"id": f"a{i}"} for i in range(8)])
    with pytest.raises(
        CorpusError, match=r"8 invalid records: .*and 3 more \(skip them with --skip-invalid\)"
    ):
        read_articles(path)


def test_every_record_invalid_is_empty_corpus(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "x.jsonl", [{"id": "a"}])
    with pytest.raises(EmptyCorpusError, match="every record was invalid"):
        read_articles(path, skip_invalid=True)


def test_every_record_invalid_says_why(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "x.jsonl", [{"id": f"a{i}"} for i in range(5)])
    with pytest.raises(
        EmptyCorpusError,
        match=r"x\.jsonl: every record was invalid \(5: .*x\.jsonl:1: article 'a0' has no 'body'; .*:2: "
        r"article 'a1' has no 'body'; .*:3: article 'a2' has no 'body'; and 2 more\)",
    ):
        read_articles(path, skip_invalid=True)


def test_missing_path_and_wrong_kind(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no such file or folder"):
        read_articles(tmp_path / "nope.jsonl")
    with pytest.raises(CorpusError, match="format 'text' expects a folder"):
        read_articles(_write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "body": "x"}]), format="text")
    with pytest.raises(CorpusError, match="unknown format"):
        read_articles(tmp_path, format="docx")


def test_load_articles_accepts_frames_dicts_and_paths(
    tiny_records: list[dict[str, Any]], tiny_jsonl: Path
) -> None:
    from_dicts = load_articles(tiny_records)
    from_frame = load_articles(pd.DataFrame(tiny_records))
    from_path = load_articles(tiny_jsonl)
    assert from_dicts["id"].tolist() == from_frame["id"].tolist() == from_path["id"].tolist()
    assert from_frame.loc[0, "tags"] == ["oil", "opec"]


def test_load_articles_names_the_record(tiny_records: list[dict[str, Any]]) -> None:
    tiny_records[2]["body"] = ""
    with pytest.raises(CorpusError, match="record 3: article 'cup-final-penalties' has an empty body"):
        load_articles(tiny_records)
    with pytest.raises(CorpusError, match="row 2: article 'cup-final-penalties'"):
        load_articles(pd.DataFrame(tiny_records))


def test_load_articles_rejects_non_collections() -> None:
    with pytest.raises(CorpusError, match="not a single dict"):
        load_articles({"id": "a", "body": "x"})
    with pytest.raises(CorpusError, match="not int"):
        load_articles(5)  # type: ignore[arg-type]


def test_integer_ids_become_strings(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "a.jsonl", [{"id": 7, "body": "x"}])
    assert read_articles(path)["id"].tolist() == ["7"]


SOURCES = Path(__file__).resolve().parent / "data" / "sources"


def test_several_sources_are_read_in_order_with_their_formats() -> None:
    paths = [SOURCES / "wordpress.xml", SOURCES / "feed.rss", SOURCES / "feed.atom", SOURCES / "jekyll"]
    frame = read_articles(paths)
    assert len(frame) == 7
    assert list(frame.attrs["formats"].values()) == ["wxr", "rss", "atom", "markdown"]
    assert frame["id"].iloc[0] == "uzbek-gold-partners"
    assert frame["id"].iloc[-1] == "caspian-ferry-link"
    assert len(frame.attrs["skipped"]) == 5  # 3 from WordPress, 2 from Jekyll


def test_duplicate_ids_across_sources_are_reported(tmp_path: Path) -> None:
    first = _write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "body": "one"}])
    second = _write_jsonl(tmp_path / "b.jsonl", [{"id": "x", "body": "two"}])
    with pytest.raises(CorpusError, match=r"1 duplicate id\(s\): 'x' at .*a\.jsonl:1, .*b\.jsonl:1"):
        read_articles([first, second])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hugo", "markdown"),
        ("jekyll", "markdown"),
        ("html", "html"),
        ("feed.rss", "rss"),
        ("feed.atom", "atom"),
    ],
)
def test_format_is_guessed_from_names_and_content(name: str, expected: str) -> None:
    assert read_articles(SOURCES / name).attrs["formats"] == {str(SOURCES / name): expected}


def test_xml_extension_is_told_apart_by_content(tmp_path: Path) -> None:
    for source, expected in (("feed.rss", "rss"), ("feed.atom", "atom"), ("wordpress.xml", "wxr")):
        copy = tmp_path / f"{expected}.xml"
        copy.write_bytes((SOURCES / source).read_bytes())
        assert read_articles(copy).attrs["formats"] == {str(copy): expected}


def test_only_drafts_is_an_empty_corpus_that_says_why(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\ndraft: true\n---\nBody.\n", encoding="utf-8")
    with pytest.raises(
        EmptyCorpusError, match=r"no articles found \(1 left out, first: .*a\.md: draft: true"
    ):
        read_articles(tmp_path)


def test_large_json_array_is_read_in_chunks(tmp_path: Path) -> None:
    # Articles longer than the reader's chunk, and lines counted across chunk boundaries.
    records = [{"id": f"a{i}", "body": ("word " * 150_000) + str(i)} for i in range(3)]
    path = tmp_path / "big.json"
    path.write_text(
        "[\n" + ",\n".join(json.dumps(r) for r in records) + ',\n  {"id": 5}\n]\n', encoding="utf-8"
    )
    with pytest.raises(CorpusError, match=r"big\.json:5: article '5' has no 'body'"):
        read_articles(path)
    frame = read_articles(path, skip_invalid=True)
    assert frame["id"].tolist() == ["a0", "a1", "a2"]
    assert frame["body"].iloc[2].endswith("word 2")


def test_one_text_file_and_a_source_given_twice(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("A plain title\n\nA plain body.\n", encoding="utf-8")
    frame = read_articles(note)
    assert frame.attrs["formats"] == {str(note): "text"}
    assert frame["title"].tolist() == ["A plain title"]
    with pytest.raises(CorpusError, match=r"note\.txt: given twice"):
        read_articles([note, note])


def test_a_blank_date_is_no_date() -> None:
    frame = load_articles(
        [{"id": "a", "body": "Text.", "date": "   "}, {"id": "b", "body": "Text.", "date": " 2024-01-02 "}]
    )
    assert frame["date"].tolist() == [None, "2024-01-02"]


def test_csv_quote_left_open_is_an_error_not_one_long_field(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        'id,title,body\na,A,"he said hello world\nb,B,second article body\nc,C,third body\n', encoding="utf-8"
    )
    with pytest.raises(CorpusError, match=r"t\.csv:2: malformed CSV: a quoted field .* never closed"):
        read_articles(path)
    path.write_text('id,title,body\na,A,"x"y\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"t\.csv:2: malformed CSV: ',' expected after '\"'"):
        read_articles(path)


def test_csv_quoted_line_breaks_and_old_mac_line_ends_still_read(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b'\xef\xbb\xbfid,title,body\r\na,A,"two\r\nlines"\r\nb,B,"say ""hi"""\r\n')
    assert read_articles(path)["body"].tolist() == ["two\r\nlines", 'say "hi"']
    path.write_bytes(b"id,title,body\ra,A,one\rb,B,two\r")
    assert read_articles(path)["body"].tolist() == ["one", "two"]


def test_json_array_with_data_after_it_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    for extra in (' [{"id": "b", "body": "y"}]', "\n\n garbage", ", 3"):
        path.write_text('[{"id": "a", "body": "x"}]' + extra, encoding="utf-8")
        with pytest.raises(CorpusError, match=r"t\.json:\d: malformed JSON: extra data after the array"):
            read_articles(path)
    path.write_text('\n[{"id": "a", "body": "x"}]  \n\n', encoding="utf-8")
    assert read_articles(path)["id"].tolist() == ["a"]


def test_csv_header_names_repeated_or_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,title,body, body\na,A,one,two\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"t\.csv:1: column 'body' appears twice in the header"):
        read_articles(path)
    # An unnamed column (a spreadsheet's trailing comma) is fine while empty; a value in it is not.
    path.write_text("id,title,body,\na,A,one,\nb,B,two,lost\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"t\.csv:3: a value in column 4, which has no name"):
        read_articles(path)
    assert read_articles(path, skip_invalid=True)["id"].tolist() == ["a"]


def test_csv_header_error_shows_a_short_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("slug," + ",".join(f"column{i}" for i in range(1000)) + "\na\n", encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        read_articles(path)
    assert str(caught.value).endswith("…)")
    assert len(str(caught.value).split("(found: ")[1]) < 100


def test_json_nested_too_deeply_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "a", "body": "x"}\n' + "[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"t\.jsonl:2: JSON nested too deeply"):
        read_articles(path)
    assert read_articles(path, skip_invalid=True)["id"].tolist() == ["a"]
    array = tmp_path / "t.json"
    array.write_text('[{"id": "a", "body": "x"},\n' + "[" * 100_000, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"t\.json:2: JSON nested too deeply"):
        read_articles(array)


def test_undecodable_json_and_csv_name_the_line_and_offset(tmp_path: Path) -> None:
    array = tmp_path / "t.json"
    first = b'[{"id": "a", "body": "x"},\n'
    array.write_bytes(first + b'{"id": "b", "body": "\xff"}]\n')
    with pytest.raises(CorpusError, match=rf"t\.json:2: undecodable bytes at byte offset {len(first) + 21}"):
        read_articles(array)
    table = tmp_path / "t.csv"
    table.write_bytes(b"id,title,body\na,A,one\nb,B,t\xffwo\n")
    with pytest.raises(CorpusError, match=r"t\.csv:3: undecodable bytes at byte offset 27"):
        read_articles(table)


def test_json_array_reads_characters_cut_by_its_chunks(tmp_path: Path) -> None:
    # "é" is two bytes: one of them falls at the reader's chunk boundary, which is no error.
    records = [{"id": f"a{i}", "body": "é" * (100_000 + i)} for i in range(4)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert read_articles(path)["body"].str.len().tolist() == [100_000 + i for i in range(4)]


def test_json_nan_in_a_text_field_and_repeated_keys_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"id": "a", "body": "x", "date": NaN}\n{"id": "b", "body": "x", "author": -Infinity}\n'
        '{"id": "c", "body": "x", "title": "T", "title": "U"}\n{"id": "d", "body": "x", "views": NaN}\n',
        encoding="utf-8",
    )
    frame = read_articles(path, skip_invalid=True)
    assert frame["id"].tolist() == ["d"]  # NaN outside the text fields is a missing number, as before
    assert [str(record) for record in frame.attrs["skipped"]] == [
        f"{path}:1: 'date' is NaN, which is not text (write null for no value)",
        f"{path}:2: 'author' is -Infinity, which is not text (write null for no value)",
        f"{path}:3: key 'title' appears more than once in the record",
    ]
    array = tmp_path / "t.json"
    array.write_text('[{"id": "a", "body": "x", "tags": {"k": 1, "k": 2}}]', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"t\.json:1: key 'k' appears more than once"):
        read_articles(array)


def test_folder_lists_files_of_other_formats_as_left_out(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A\n\nThe first body.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n\nThe second body.\n", encoding="utf-8")
    (tmp_path / "c.html").write_text("<html><body><p>Third.</p></body></html>", encoding="utf-8")
    _write_jsonl(tmp_path / "d.jsonl", [{"id": "d", "body": "x"}])
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")  # not a corpus file: not listed
    frame = read_articles(tmp_path)
    assert frame["id"].tolist() == ["a", "b"]
    skipped = frame.attrs["skipped"]
    assert [record.location for record in skipped] == [str(tmp_path / "c.html"), str(tmp_path / "d.jsonl")]
    assert all(not record.invalid and "read as 'text'" in record.reason for record in skipped)


def test_folder_with_nothing_to_read_says_what_it_holds(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "d.jsonl", [{"id": "d", "body": "x"}])
    with pytest.raises(
        EmptyCorpusError,
        match=r"no articles found \(2 left out, first: .*: no \.txt, \.md, \.markdown file to read as "
        r"'text'; the folder holds 1 \.jsonl\)",
    ):
        read_articles(tmp_path)


def test_declared_language_is_checked_with_the_record(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "x.jsonl",
        [
            {"id": "a", "body": "x", "lang": "englsh"},
            {"id": "b", "body": "x", "language": 5},
            {"id": "c", "body": "x", "lang": "eng"},
            {"id": "d", "body": "x", "lang": "ru-RU"},
        ],
    )
    with pytest.raises(CorpusError, match=r"x\.jsonl:1: article 'a': language 'englsh' is not an ISO 639"):
        read_articles(path)
    frame = read_articles(path, skip_invalid=True)
    assert frame["id"].tolist() == ["c", "d"]
    assert [str(record) for record in frame.attrs["skipped"]] == [
        f"{path}:1: article 'a': language 'englsh' is not an ISO 639 code (like 'en', 'ru', 'fr') or a "
        "Snowball name",
        f"{path}:2: article 'b': 'language' must be a language code such as 'en', found 5",
    ]
