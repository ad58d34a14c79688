"""Command-line input a user gets wrong: each is a clear usage or ``error:`` line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommender.cli import main

from .conftest import BUNDLED

SEED = "kazakhstan-geopolitical-conundrum"


def _usage_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "eighty"])
def test_a_port_out_of_range_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["serve", "models/none", "--port", port], capsys)
    assert f"argument --port: a port is a whole number from 0 to 65535, got '{port}'" in err


def test_the_port_range_ends_are_accepted() -> None:
    from recommender.cli.parser import build_parser

    for port in (0, 65535):
        assert build_parser().parse_args(["serve", "m", "--port", str(port)]).port == port


@pytest.mark.parametrize("address", ["garbage", "tcp://host:abc", "foo://host:8786"])
def test_an_unreadable_scheduler_address_is_an_error_line(
    address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("dask.distributed")
    args = ["build", str(BUNDLED), "-o", str(tmp_path / "m"), "--scheduler", address, "--quiet"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: scheduler must be an address such as 'tcp://host:8786', got {address!r} (")
    assert err.count("\n") == 1


@pytest.mark.parametrize("budget", ["0", "-3"])
def test_a_bad_memory_budget_is_told_in_megabytes(
    budget: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(
        ["build", "corpus.jsonl", "-o", str(tmp_path / "m"), "--memory-budget", budget], capsys
    )
    assert f"argument --memory-budget: must be a positive number of MB, got '{budget}'" in err
    assert "bytes" not in err
    err = _usage_error(["build", "corpus.jsonl", "-o", str(tmp_path / "m"), "--memory-budget", "x"], capsys)
    assert "argument --memory-budget: invalid int value: 'x'" in err


def test_lenient_without_overrides_is_an_error(
    bundled_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["related", str(bundled_model_dir), SEED, "--lenient"]) == 1
    assert capsys.readouterr().err == (
        "error: --lenient applies to the ids in --overrides: give --overrides FILE too, or drop --lenient\n"
    )
    assert main(["related", str(bundled_model_dir), SEED, "-k", "3", "--json", "--past-only"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_an_ids_file_with_a_byte_order_mark_removes_its_articles(
    bundled_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "gone.txt"
    ids.write_text(f"\ufeff{SEED}\r\n", encoding="utf-8")
    output = tmp_path / "updated"
    assert main(["update", str(bundled_model_dir), "--remove", str(ids), "-o", str(output), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == 1


def test_a_semantic_weight_without_the_semantic_view_is_an_error(
    tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(tiny_jsonl), "-o", str(tmp_path / "m"), "--semantic-weight", "0.5"]) == 1
    assert "--semantic-weight weighs the semantic view: give --semantic MODEL" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
