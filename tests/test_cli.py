from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from recommender.cli import main

from .conftest import BUNDLED, ROOT, model_files

SEED = "kazakhstan-geopolitical-conundrum"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "model"
    assert main(["build", str(BUNDLED), "-o", str(path), "-k", "10"]) == 0
    return path


def test_build_reports_counts(tmp_path: Path, tiny_jsonl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(tiny_jsonl), "-o", str(tmp_path / "m"), "--min-df", "1", "--bigrams"]) == 0
    out = capsys.readouterr().out
    assert "6 articles" in out
    assert (model_files(tmp_path / "m") / "manifest.json").is_file()


def test_truncated_gzip_corpus_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = gzip.compress(BUNDLED.read_bytes())
    corpus = tmp_path / "t.jsonl.gz"
    corpus.write_bytes(packed[: len(packed) // 2])
    assert main(["build", str(corpus), "-o", str(tmp_path / "x")]) == 1
    error = capsys.readouterr().err.strip()
    assert error == f"error: {corpus}: compressed data is truncated or corrupt " + (
        "(Compressed file ended before the end-of-stream marker was reached)"
    )
    assert not (tmp_path / "x").exists()


def test_related_prints_eight_links(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["related", str(model_dir), SEED, "-k", "8"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 8
    assert lines[0].split()[0] == "1"


def test_related_json(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["related", str(model_dir), SEED, "-k", "3", "--json"]) == 0
    links = json.loads(capsys.readouterr().out)
    assert [link["rank"] for link in links] == [1, 2, 3]
    assert set(links[0]) == {"article_id", "rank", "score", "similarity", "title", "date", "url", "reason"}


def test_query_from_text_file_and_stdin(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = "Houthi missiles force container ships away from the Red Sea and the Suez Canal."
    assert main(["query", str(model_dir), draft, "--json", "-k", "3"]) == 0
    from_text = json.loads(capsys.readouterr().out)
    (tmp_path / "draft.txt").write_text(draft, encoding="utf-8")
    assert main(["query", str(model_dir), "--file", str(tmp_path / "draft.txt"), "--json", "-k", "3"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    monkeypatch.setattr(sys, "stdin", io.StringIO(draft))
    assert main(["query", str(model_dir), "-", "--json", "-k", "3"]) == 0
    from_stdin = json.loads(capsys.readouterr().out)
    assert from_text == from_file == from_stdin
    assert len(from_text) == 3


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_export_formats(
    model_dir: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / f"related.{fmt}"
    assert main(["export", str(model_dir), "-o", str(output), "-k", "4"]) == 0
    assert output.stat().st_size > 0
    assert f"({fmt}," in capsys.readouterr().out


def test_info(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert "recommender-model v2" in out
    assert "k = 10" in out
    # Every "name: value" line has a space after the colon, values in one column.
    labelled = [line for line in out.splitlines() if not line.startswith("  ")]
    assert {line.split(":")[0] for line in labelled} >= {
        "model",
        "generation",
        "format",
        "articles",
        "duplicates",
    }
    columns = {len(re.match(r"\w+:\s+", line).group(0)) for line in labelled}  # type: ignore[union-attr]
    assert len(columns) == 1
    assert all(re.match(r"\w+: +\S", line) for line in labelled)
    assert main(["info", str(model_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["k"] == 10


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["related", "{model}", "kazakhstan-geopolitical"], "unknown article id .* did you mean"),
        (["related", "{tmp}/missing", SEED], "no such model folder"),
        (["related", "{tmp}/dup.jsonl", SEED], r"dup\.jsonl: is a file, not a model folder"),
        (["related", "{tmp}/dup.jsonl/x", SEED], "no such model folder"),
        (["related", "{model}", SEED, "--min-score", "nan"], "min_score must be a finite number"),
        (["query", "{model}", "oil", "--min-score", "inf"], "min_score must be a finite number"),
        (["related", "{tmp}", SEED], "not a recommender model"),
        (["query", "{model}"], "give the query TEXT"),
        (["query", "{model}", "x", "--file", "{tmp}/f.txt"], "not both"),
        (["query", "{model}", "--file", "{tmp}/nope.txt"], "No such file"),
        (["query", "{model}", "  "], "query text is empty"),
        (["build", "{tmp}/bad.jsonl", "-o", "{tmp}/m"], r"bad\.jsonl:2: malformed JSON"),
        (["build", "{tmp}/dup.jsonl", "-o", "{tmp}/m"], r"duplicate id\(s\): 'a'"),
        (["build", "{tmp}/empty.jsonl", "-o", "{tmp}/m"], "no articles found"),
    ],
)
def test_errors_are_one_line_with_exit_code_1(
    args: list[str], match: str, model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "body": "x"}\n{"id": \n', encoding="utf-8")
    (tmp_path / "dup.jsonl").write_text(
        '{"id": "a", "body": "x"}\n{"id": "a", "body": "y"}\n', encoding="utf-8"
    )
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    argv = [arg.format(model=model_dir, tmp=tmp_path) for arg in args]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1
    import re

    assert re.search(match, err), err


@pytest.mark.parametrize(
    "args",
    [
        ["related", "{model}", SEED, "-k", "0"],
        ["query", "{model}", "oil", "-k", "-2"],
        ["export", "{model}", "-o", "{tmp}/x.json", "-k", "0"],
        ["build", str(BUNDLED), "-o", "{tmp}/m", "-k", "0"],
    ],
)
def test_bad_k_is_a_one_line_error(
    args: list[str], model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([arg.format(model=model_dir, tmp=tmp_path) for arg in args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: k must be a positive integer")
    assert len(err.strip().splitlines()) == 1


def test_skip_invalid_reports_each_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        '{"id": "a", "body": "oil prices"}\n{"id": "b", "body": "oil markets"}\n{"id": "c"}\n{bad\n',
        encoding="utf-8",
    )
    assert main(["build", str(corpus), "-o", str(tmp_path / "m"), "--min-df", "1", "--skip-invalid"]) == 0
    err = capsys.readouterr().err
    assert f"skipped: {corpus}:3: article 'c' has no 'body'" in err
    assert f"skipped: {corpus}:4: malformed JSON" in err
    assert "skipped 2 invalid record(s)" in err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from recommender.types import ModelFormatError

    with pytest.raises(ModelFormatError):
        main(["--debug", "related", str(tmp_path / "missing"), SEED])


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "recommender", "--help"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "recommender build corpus/geopolitics.jsonl" in result.stdout


def test_cli_package_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "recommender.cli", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    assert result.stdout.startswith("recommender ")


def test_related_with_controls_and_overrides(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"pins": {SEED: ["ghost", "ukraine-trek-to-peace"]}}), encoding="utf-8")
    args = ["related", str(model_dir), SEED, "-k", "5", "--json", "--past-only", "--half-life", "365d"]
    args += ["--exclude-tags", "russia", "--min-relative", "0.9", "--fill", "--mmr", "0.7"]
    assert main([*args, "--overrides", str(overrides)]) == 1
    assert "1 id(s) not in the model: 'ghost'" in capsys.readouterr().err
    assert main([*args, "--overrides", str(overrides), "--lenient"]) == 0
    assert "skipping 1 id(s) not in the model: 'ghost'" in caplog.text
    links = json.loads(capsys.readouterr().out)
    assert len(links) == 5
    assert links[0]["article_id"] == "ukraine-trek-to-peace"
    assert links[0]["reason"] == "pinned"
    assert {link["reason"] for link in links[1:]} <= {"similar", "fill:recent-category", "fill:recent"}
    assert all({"article_id", "rank", "score", "reason"} <= set(link) for link in links)


def test_related_several_ids_with_max_exposure(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = [SEED, "sino-russian-partnership", "india-diplomatic-dance"]
    assert main(["related", str(model_dir), *ids, "-k", "5", "--json", "--max-exposure", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ids
    shown = [link["article_id"] for links in data.values() for link in links]
    assert len(shown) == len(set(shown))
    assert main(["related", str(model_dir), *ids[:2], "-k", "2"]) == 0
    assert f"== {SEED}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "produced"),
    [
        (["-o", "out/related.jsonl"], "out/related.jsonl"),
        (["-o", "site", "--format", "hugo"], "site/data/related/kazakhstan-geopolitical-conundrum.json"),
        (["-o", "site", "--format", "jekyll"], "site/_data/related/kazakhstan-geopolitical-conundrum.json"),
        (["-o", "fragments", "--per-article"], "fragments/kazakhstan-geopolitical-conundrum.html"),
    ],
)
def test_export_cli_formats(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], produced: str
) -> None:
    args = [a if not a.startswith(("out", "site", "fragments")) else str(tmp_path / a) for a in args]
    assert main(["export", str(model_dir), *args, "--fill", "--max-exposure", "20"]) == 0
    assert (tmp_path / produced).is_file()
    assert "wrote" in capsys.readouterr().out
    assert main(["export", str(model_dir), *args, "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_export_to_standard_output(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(model_dir), "-o", str(tmp_path / "links.csv"), "--quiet"]) == 0
    assert main(["export", str(model_dir), "-o", "-", "--format", "csv"]) == 0
    assert capsys.readouterr().out == (tmp_path / "links.csv").read_text(encoding="utf-8")
    assert not Path("-").exists()
    assert main(["export", str(model_dir), "-o", "-"]) == 0  # json when no suffix tells
    assert len(json.loads(capsys.readouterr().out)) == 136
    assert main(["export", str(model_dir), "-o", "-", "--per-article"]) == 1
    assert "--per-article writes a folder" in capsys.readouterr().err
    assert main(["export", str(model_dir), "-o", "-", "--format", "hugo"]) == 1
    assert "a hugo export is a folder" in capsys.readouterr().err


def test_a_reader_that_stops_early_is_not_an_error(model_dir: Path) -> None:
    """``recommender … | head -1``: the closed pipe ends the command quietly (141), no error line."""
    command = [sys.executable, "-m", "recommender", "export", str(model_dir), "-o", "-", "--format", "csv"]
    # Buffered standard output, as a terminal user has it (an unbuffered one drops a short write unseen).
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        error = process.stderr.read().decode()
        assert process.wait(timeout=60) == 141, error
    assert "error" not in error
    assert "Traceback" not in error


def test_audit_cli(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(model_dir), "--json", "-k", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["articles"] == report["lists"] == 136
    assert report["links"] == 5 * 136
    assert 0 <= report["gini"] < 1
    assert main(["audit", str(model_dir), "--against", str(model_dir), "--max-exposure", "8"]) == 0
    out = capsys.readouterr().out
    assert "Gini" in out
    assert "0 links added" in out


def test_evaluate_json_and_compare(
    tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(tiny_jsonl), "-k", "1", "--min-df", "1", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["n"] == 6
    assert first["precision_at_k"] == 1.0
    assert first["settings"]["min_df"] == 1
    (tmp_path / "a.json").write_text(json.dumps(first), encoding="utf-8")
    assert main(["evaluate", str(tiny_jsonl), "-k", "1", "--min-df", "1", "--hub-weight", "0", "--json"]) == 0
    (tmp_path / "b.json").write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "a.json" in out
    assert "precision@k" in out
    assert "paired over 6 articles" in out
    assert "95% bootstrap interval" in out
    compared = ["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "a.json"), "--json"]
    assert main(compared) == 0
    same = json.loads(capsys.readouterr().out)["comparison"]
    assert set(same) == {"precision_at_k", "ndcg_at_k", "mrr"}
    assert same["precision_at_k"]["difference"] == 0.0
    assert same["precision_at_k"]["p_value"] == 1.0
    first.pop("per_article")  # a report saved before per-article values were kept
    (tmp_path / "old.json").write_text(json.dumps(first), encoding="utf-8")
    assert main(["evaluate", "--compare", str(tmp_path / "old.json"), str(tmp_path / "b.json")]) == 0
    assert "evaluate it again for intervals" in capsys.readouterr().out
    assert main(["evaluate", str(tiny_jsonl), "--min-df", "1"]) == 0
    assert "Politics" in capsys.readouterr().out


def test_evaluate_errors(tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate"]) == 1
    assert "give the CORPUS" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("[]", encoding="utf-8")
    assert main(["evaluate", "--compare", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 1
    assert "not an evaluation report" in capsys.readouterr().err
    assert main(["evaluate", str(tiny_jsonl), "--label", "topic"]) == 1
    assert "no field 'topic'" in capsys.readouterr().err


def test_build_from_several_publisher_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = ROOT / "tests" / "data" / "sources"
    argv = ["build", str(sources / "wordpress.xml"), str(sources / "feed.rss"), str(sources / "hugo")]
    assert main([*argv, "-o", str(tmp_path / "m"), "--min-df", "1"]) == 0
    captured = capsys.readouterr()
    assert "6 articles" in captured.out
    wordpress = sources / "wordpress.xml"
    assert f"skipped: {wordpress}: item 2 (about): post type 'page', not a post" in captured.err
    assert "left out 5 non-article record(s)" in captured.err
    assert "invalid" not in captured.err
    assert main(["build", *argv[1:], "--drafts", "-o", str(tmp_path / "d"), "--min-df", "1"]) == 0
    assert "7 articles" in capsys.readouterr().out


def test_build_page_text_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = ROOT.parent / "shared" / "seed"
    if not seed.is_dir():
        pytest.skip(f"{seed} is not present")
    corpus = tmp_path / "more.jsonl"
    corpus.write_text('{"id": "other", "body": "Kazakhstan sanctions and Russia"}\n', encoding="utf-8")
    argv = ["build", str(seed), str(corpus), "--format", "page-text", "-o", str(tmp_path / "m")]
    assert main(argv) == 1  # one --format for every source: the JSONL file is not a page
    assert "error:" in capsys.readouterr().err
    assert main(["build", str(seed), str(corpus), "-o", str(tmp_path / "m"), "--min-df", "1"]) == 0
    capsys.readouterr()
    assert main(["related", str(tmp_path / "m"), "000_18dd2e4469e66e77", "--json"]) == 0
    links = json.loads(capsys.readouterr().out)
    assert [link["article_id"] for link in links] == ["other"]


def test_query_on_a_model_without_draft_tables_uses_the_build_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    golden = ROOT / "tests" / "data" / "golden"
    assert main(["query", str(golden), "Crude oil prices and OPEC output", "--json", "-k", "2"]) == 0
    links = json.loads(capsys.readouterr().out)
    from recommender import Recommender

    expected = Recommender.load(golden).query("Crude oil prices and OPEC output", k=2)
    assert [link["article_id"] for link in links] == [link.article_id for link in expected]
    assert links[0]["article_id"] in {"oil-prices-rise", "opec-output-cut"}


def test_query_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m"
    assert main(["build", str(BUNDLED), "-o", str(model)]) == 0
    capsys.readouterr()
    assert main(["query", str(model), "Caspian pipelines and Kazakh oil", "--json", "-k", "3"]) == 0
    first = json.loads(capsys.readouterr().out)[0]["article_id"]
    assert (
        main(["query", str(model), "Caspian pipelines and Kazakh oil", "--json", "--exclude-ids", first]) == 0
    )
    assert first not in {link["article_id"] for link in json.loads(capsys.readouterr().out)}
    # A model written before the word-form tables takes filters too (its analyzer reads the draft).
    golden = str(ROOT / "tests" / "data" / "golden")
    assert main(["query", golden, "oil", "--json", "--min-score", "0.9"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["query", golden, "oil", "--json", "--exclude-ids", "oil-prices-rise"]) == 0
    found = {link["article_id"] for link in json.loads(capsys.readouterr().out)}
    assert found
    assert "oil-prices-rise" not in found


def _command_names(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The commands the parser offers, from its own "invalid choice" message."""
    with pytest.raises(SystemExit):
        main(["no-such-command"])
    listed = re.search(r"choose from (.*)\)", capsys.readouterr().err)
    assert listed is not None
    return re.findall(r"'([a-z-]+)'", listed.group(1))


def test_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    expected = [
        "build",
        "related",
        "query",
        "export",
        "audit",
        "update",
        "upgrade",
        "evaluate",
        "info",
        "serve",
        "report",
        "replay",
    ]
    assert _command_names(capsys) == expected


@pytest.mark.parametrize(
    "command",
    ["build", "related", "query", "export", "audit", "update", "upgrade", "evaluate", "info", "serve"],
)
def test_every_command_help_exits_0_and_shows_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: recommender {command} ")
    examples = out[out.index("\nexample") :]
    assert f"\n  recommender {command} " in examples or f"| recommender {command} " in examples


# For each settings flag of `build`: the arguments given and the manifest parameter they must produce.
FLAG_CASES: dict[str, tuple[list[str], str, Any]] = {
    "--title-weight": (["--title-weight", "3"], "title_weight", 3.0),
    "--min-df": (["--min-df", "1"], "min_df", 1),
    "--max-df": (["--max-df", "0.9"], "max_df", 0.9),
    "--bigrams": (["--bigrams"], "ngrams", 2),
    "--stop-words": (["--stop-words", "none"], "stop_words", None),
    "--no-stem": (["--no-stem"], "stem", False),
    "-k": (["-k", "3"], "k", 3),
    "--memory-budget": (["--memory-budget", "64"], "memory_budget", 64 * 1024 * 1024),
    "--lsa-weight": (["--lsa-weight", "0.2"], "lsa_weight", 0.2),
    "--lsa-dims": (["--lsa-dims", "3"], "lsa_dims", 3),
    "--keep-duplicates": (["--keep-duplicates"], "hide_duplicates", False),
    "--hub-weight": (["--hub-weight", "0.5"], "hub_weight", 0.5),
    "--tf": (["--tf", "bm25"], "tf", "bm25"),
    "--language": (["--language", "en-GB"], "language", "en"),
    "--cross-language": (["--cross-language"], "cross_language", True),
    "--semantic": (["--semantic", "TINY_ENCODER"], "semantic", "TINY_ENCODER"),
    "--semantic-weight": (
        ["--semantic", "TINY_ENCODER", "--semantic-weight", "0.5"],
        "semantic_weight",
        0.5,
    ),
}


def test_every_build_settings_flag_has_a_case() -> None:
    from recommender.settings import SETTINGS, Switch, ValueFlag

    flags = {
        setting.flag.name
        for setting in SETTINGS
        if isinstance(setting.flag, ValueFlag | Switch) and "build" in setting.flag.commands
    }
    assert flags == set(FLAG_CASES)


@pytest.mark.parametrize("flag", list(FLAG_CASES))
def test_build_settings_flags_reach_the_model(
    flag: str, tmp_path: Path, tiny_jsonl: Path, tiny_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recommender.settings import Settings

    args, name, expected = FLAG_CASES[flag]
    args = [str(tiny_encoder) if arg == "TINY_ENCODER" else arg for arg in args]
    expected = str(tiny_encoder) if expected == "TINY_ENCODER" else expected
    assert main(["build", str(tiny_jsonl), "-o", str(tmp_path / "m"), *args]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "m"), "--json"]) == 0
    parameters = json.loads(capsys.readouterr().out)["parameters"]
    assert parameters[name] == expected
    assert type(parameters[name]) is type(expected)
    also_set = {"semantic"} if flag == "--semantic-weight" else set()  # the weight needs the view
    untouched = {key: value for key, value in Settings().to_dict().items() if key not in {name, *also_set}}
    assert {key: parameters[key] for key in untouched} == untouched


def test_settings_flags_reach_evaluate(tiny_jsonl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--min-df", "1", "--tf", "log", "--keep-duplicates", "--language", "French", "--cross-language"]
    assert main(["evaluate", str(tiny_jsonl), "-k", "2", *args, "--json"]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert settings["min_df"] == 1
    assert settings["tf"] == "log"
    assert settings["hide_duplicates"] is False
    assert settings["language"] == "fr"
    assert settings["cross_language"] is True
    assert (
        settings["k"] == 2
    )  # evaluate's -k is the length of the lists scored, and the model stores that many


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-df", "many"], "argument --min-df: not a number: 'many'"),
        (["--lsa-dims", "x"], "argument --lsa-dims: invalid int value: 'x'"),
        (["--stop-words", "klingon"], "argument --stop-words: invalid choice: 'klingon'"),
        (["--tf", "raw"], "argument --tf: invalid choice: 'raw'"),
    ],
)
def test_unreadable_settings_flags_are_usage_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["build", "corpus.jsonl", "-o", str(tmp_path / "m"), *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_bad_setting_is_refused_before_the_corpus_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "m"), "--min-df", "0"]) == 1
    err = capsys.readouterr().err
    assert err == "error: min_df must be an int count >= 1 or a float share in (0, 1], got 0\n"
    assert not (tmp_path / "m").exists()


STAGES = ("read", "languages", "analysis", "weights", "lsa", "neighbours", "lists", "tables", "save")


def _stage_lines(err: str) -> list[str]:
    return re.findall(r"^  (\w+) +\d+\.\d s$", err.replace("\r", "\n"), flags=re.MULTILINE)


def test_long_commands_show_their_stages_on_a_terminal_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["build", str(BUNDLED), "-o", str(tmp_path / "quiet")]) == 0  # not a terminal: silent
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["build", str(BUNDLED), "-o", str(tmp_path / "m")]) == 0
    captured = capsys.readouterr()
    assert _stage_lines(captured.err) == list(STAGES)
    assert captured.out.startswith("built ")
    assert len(captured.out.strip().splitlines()) == 1
    assert main(["build", str(BUNDLED), "-o", str(tmp_path / "m"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    (tmp_path / "gone.txt").write_text(f"{SEED}\n", encoding="utf-8")
    assert main(["update", str(tmp_path / "m"), "--remove", str(tmp_path / "gone.txt"), "--json"]) == 0
    captured = capsys.readouterr()
    assert _stage_lines(captured.err) == ["open", "update", "publish"]
    assert json.loads(captured.out)["removed"] == 1  # standard output holds the JSON alone
    argv = ["evaluate", str(BUNDLED), "--label", "category", "-k", "5", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert _stage_lines(captured.err)[:2] == ["read", "languages"]
    assert json.loads(captured.out)["k"] == 5
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_related_json_scores_never_increase(
    bundled_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's check: the list is ordered by the score it shows; the plain cosine is its own field."""
    assert main(["related", str(bundled_model_dir), SEED, "-k", "8", "--json"]) == 0
    links = json.loads(capsys.readouterr().out)
    assert len(links) == 8
    assert {link["reason"] for link in links} == {"similar"}
    scores = [link["score"] for link in links]
    assert scores == sorted(scores, reverse=True)
    assert all(link["score"] < link["similarity"] for link in links)  # the default discounts hubs
