"""``recommender evaluate`` as a user sees it: what reaches the terminal, valid JSON, and clear errors for
runs that cannot be scored or compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recommender.cli import main

from .conftest import TINY

HOSTILE = "Energy\x1b]0;PWNED\x07\u202e"


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def _records() -> list[dict[str, Any]]:
    return [dict(record) for record in TINY]


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        message = f"invalid JSON constant {constant}"
        raise AssertionError(message)

    return json.loads(text, parse_constant=refuse)


def test_labels_and_file_names_reach_the_terminal_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records()
    for record in records:
        if record["category"] == "Energy":
            record["category"] = HOSTILE
    corpus = _write(tmp_path / "news\x1b[2J.jsonl", records)
    assert main(["evaluate", str(corpus), "-k", "1", "--min-df", "1"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "Energy\\x1b]0;PWNED\\x07\\u202e" in out
    assert "news\\x1b[2J.jsonl" in out


def test_undefined_judgment_statistics_are_null_and_n_a(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records()
    records[0]["judgments"] = [
        {"other_id": "opec-output-cut", "score": 2},
        {"other_id": "cup-final-penalties", "score": 2},
    ]
    corpus = _write(tmp_path / "judged.jsonl", records)
    assert main(["evaluate", str(corpus), "-k", "1", "--min-df", "1", "--json"]) == 0
    captured = capsys.readouterr()
    data = _strict_json(captured.out)
    assert data["judgments"] == 2
    assert data["pearson"] is None
    assert data["spearman"] is None
    assert data["auc"] is None
    assert "Warning" not in captured.err
    assert main(["evaluate", str(corpus), "-k", "1", "--min-df", "1"]) == 0
    captured = capsys.readouterr()
    pearson = next(line for line in captured.out.splitlines() if line.startswith("Pearson"))
    assert pearson.split()[-1] == "n/a"
    assert "Warning" not in captured.err


def test_judgments_left_out_with_excluded_articles_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records()
    records[5]["duplicate_of"] = records[4]["id"]
    records[0]["judgments"] = [
        {"other_id": "opec-output-cut", "score": 4},
        {"other_id": "cup-final-penalties", "score": 1},
        {"other_id": records[5]["id"], "score": 2},
    ]
    corpus = _write(tmp_path / "dup.jsonl", records)
    assert main(["evaluate", str(corpus), "-k", "1", "--min-df", "1"]) == 0
    out = capsys.readouterr().out
    assert "left out 1 article(s) with duplicate_of set" in out
    assert "left out 1 judgment(s) naming or made by an article with duplicate_of set" in out


def test_a_label_nothing_shares_is_an_error(tiny_jsonl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(tiny_jsonl), "--label", "title", "--min-df", "1"]) == 1
    assert "no article shares a 'title' value with another" in capsys.readouterr().err


def _saved_run(
    tiny_jsonl: Path, path: Path, capsys: pytest.CaptureFixture[str], *flags: str
) -> dict[str, Any]:
    assert main(["evaluate", str(tiny_jsonl), "-k", "2", "--min-df", "1", "--json", *flags]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


def test_compare_refuses_runs_it_cannot_pair(
    tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _saved_run(tiny_jsonl, tmp_path / "a.json", capsys)
    other = {**run, "label": "tags"}
    (tmp_path / "tags.json").write_text(json.dumps(other), encoding="utf-8")
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "tags.json")]) == 1
    err = capsys.readouterr().err
    assert "has label 'category'" in err
    assert "label 'tags'" in err
    nothing = {**run, "n": 0, "per_article": {key: [] for key in run["per_article"]}}
    (tmp_path / "none.json").write_text(json.dumps(nothing), encoding="utf-8")
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "none.json")]) == 1
    err = capsys.readouterr().err
    assert "none.json: the run scored no article" in err
    assert "before" not in err
    short = json.loads(json.dumps(run))
    short["per_article"]["mrr"].pop()
    (tmp_path / "short.json").write_text(json.dumps(short), encoding="utf-8")
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "short.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "short.json: the 'per_article' lists differ in length" in err
    assert "Traceback" not in err


def test_compare_says_how_many_articles_each_run_scored(
    tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _saved_run(tiny_jsonl, tmp_path / "a.json", capsys)
    fewer = json.loads(json.dumps(run))
    for values in fewer["per_article"].values():
        del values[:2]
    (tmp_path / "b.json").write_text(json.dumps(fewer), encoding="utf-8")
    paths = [str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    assert main(["evaluate", "--compare", *paths]) == 0
    out = capsys.readouterr().out
    assert "A scored 6 articles and B 4; 4 are in both" in out
    assert "paired over 4 articles" in out
    assert main(["evaluate", "--compare", *paths, "--json"]) == 0
    assert _strict_json(capsys.readouterr().out)["scored"] == {"a": 6, "b": 4, "shared": 4}


def test_a_p_value_under_a_thousandth_is_not_printed_as_zero(
    tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _saved_run(tiny_jsonl, tmp_path / "a.json", capsys)
    ids = [f"a{number}" for number in range(200)]
    low = {"id": ids, **{metric: [0.0] * 200 for metric in run["per_article"] if metric != "id"}}
    high = {"id": ids, **{metric: [1.0] * 200 for metric in run["per_article"] if metric != "id"}}
    (tmp_path / "low.json").write_text(json.dumps({**run, "per_article": low}), encoding="utf-8")
    (tmp_path / "high.json").write_text(json.dumps({**run, "per_article": high}), encoding="utf-8")
    assert main(["evaluate", "--compare", str(tmp_path / "low.json"), str(tmp_path / "high.json")]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("precision@k")]
    assert rows[-1].split()[-1] == "<0.001"
