"""Control characters from an untrusted corpus: refused in ids, shown escaped on terminals and in exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, Recommender, read_articles
from recommender.cli import main
from recommender.outputs.export import export_links, safe_url
from recommender.text.printable import CONTROL, printable
from recommender.types import CorpusError

# What an attacker's title could hold: set the window title (OSC), clear the screen, reverse the line.
HOSTILE = "Oil \x1b]0;owned\x07 prices \x1b[2J fall \u202etxt.exe\x00 again"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # tabs and line breaks aside


def test_printable_escapes_every_control_character_and_keeps_the_rest() -> None:
    assert printable(HOSTILE) == "Oil \\x1b]0;owned\\x07 prices \\x1b[2J fall \\u202etxt.exe\\x00 again"
    assert printable("Zürich – «Kyiv» 東京 👍") == "Zürich – «Kyiv» 東京 👍"
    assert printable("a\tb\nc") == "a\\x09b\\x0ac"
    every = "".join(map(chr, range(0x00, 0xA0))) + "\u202a\u202e\u2066\u2069"
    assert not CONTROL.search(printable(every))


@pytest.mark.parametrize("article_id", ["a\x00b", "a\x1b[31mb", "a\u202eb", "a\x85b", "a\x7fb"])
def test_an_id_with_a_control_character_is_refused_naming_the_record(tmp_path: Path, article_id: str) -> None:
    path = tmp_path / "articles.jsonl"
    lines = [{"id": "fine", "body": "oil prices"}, {"id": article_id, "body": "gas prices"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    code = f"U+{ord(CONTROL.search(article_id).group(0)):04X}"  # type: ignore[union-attr]
    expected = (
        rf"articles\.jsonl:2: id .* holds a control character \({re.escape(code)}\); ids must be printable"
    )
    with pytest.raises(CorpusError, match=expected):
        read_articles(path)
    frame = read_articles(path, skip_invalid=True)
    assert frame["id"].tolist() == ["fine"]
    assert "control character" in str(frame.attrs["skipped"][0])


@pytest.fixture
def hostile_model(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> Path:
    for record in tiny_records:
        record["title"] = HOSTILE + " " + str(record["id"])
    tiny_records[1]["url"] = "https://example.org/\x1b[2Jx"
    return Recommender(min_df=1).fit(tiny_records).save(tmp_path / "model")


def test_terminal_output_shows_control_characters_escaped(
    hostile_model: Path, tiny_records: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    subject = str(tiny_records[0]["id"])
    for argv in (
        ["related", str(hostile_model), subject, "-k", "3", "--explain"],
        ["query", str(hostile_model), "oil prices and gas", "-k", "3"],
        ["related", str(hostile_model), subject, "a\x1b[2Jb", "-k", "1"],
        ["related", str(hostile_model), "nope\x1b]0;x\x07"],
    ):
        main(argv)
        captured = capsys.readouterr()
        assert not RAW.search(captured.out + captured.err), argv
        assert "\\x1b" in captured.out + captured.err, argv
    main(["related", str(hostile_model), subject, "-k", "3", "--json"])
    out = capsys.readouterr().out
    assert not CONTROL.search(out.replace("\n", ""))
    links = json.loads(out)  # escaped, and the text as it was once decoded
    assert links[0]["title"].startswith(HOSTILE)


@pytest.mark.parametrize("fmt", ["csv", "html", "json", "jsonl"])
def test_exports_never_carry_control_characters_raw(hostile_model: Path, tmp_path: Path, fmt: str) -> None:
    path = export_links(Index.load(hostile_model), tmp_path / f"related.{fmt}", format=fmt, k=3)
    text = path.read_text(encoding="utf-8")
    assert not RAW.search(text)
    assert ("\\x1b" if fmt in ("csv", "html") else "\\u001b") in text


def test_a_url_with_control_characters_is_not_linked() -> None:
    assert safe_url("https://example.org/\x1b[2Jx") is None
    assert safe_url("https://example.org/x") == "https://example.org/x"
