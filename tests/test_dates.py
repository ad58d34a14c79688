"""Dates: the formats publishers export are read, everything else is an error that names record and value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from recommender import Recommender, read_articles
from recommender.cli import main
from recommender.sources.dates import DateError, check_date_format, day_of, parse_date
from recommender.types import CorpusError, InvalidParameterError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-24", "2024-07-24"),
        ("2024-7-4", "2024-07-04"),
        ("2024/07/24", "2024-07-24"),
        ("2024-07-24T10:00:00Z", "2024-07-24T10:00:00+00:00"),
        ("2024-07-24 10:00", "2024-07-24T10:00:00"),
        ("2024-07-24T10:00:00.5+02:00", "2024-07-24T10:00:00.500000+02:00"),
        ("Wed, 24 Jul 2024 10:00:00 +0000", "2024-07-24T10:00:00+00:00"),
        ("24 Jul 2024 10:00:00 GMT", "2024-07-24T10:00:00+00:00"),
        ("Wed, 24 Jul 2024", "2024-07-24"),
        ("July 24, 2024", "2024-07-24"),
        ("July 24 2024", "2024-07-24"),
        ("Jul 24 2024", "2024-07-24"),
        ("24 July 2024", "2024-07-24"),
        ("24 jul. 2024", "2024-07-24"),
        ("Sept. 3, 2024", "2024-09-03"),
        ("Wednesday, July 24, 2024", "2024-07-24"),
        ("  July   24,  2024 ", "2024-07-24"),
    ],
)
def test_the_formats_publishers_export_are_read(text: str, expected: str) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2024-13-45", "not a real date"),
        ("February 30, 2024", "not a real date"),
        ("Wed, 31 Feb 2024 10:00:00 +0000", "not a real date"),
        ("2024-07-24T25:00", "not a valid ISO 8601 date and time"),
        ("1721779200", "bare number"),
        ("24/07/2024", "no known day/month order (if day first, declare --date-format '%d/%m/%Y')"),
        ("07/24/2024", "if month first, declare --date-format '%m/%d/%Y'"),
        ("05.07.24", "declare --date-format '%d.%m.%y' or '%m.%d.%y'"),
        ("yesterday", "not a date in a known format"),
        ("July 2024", "not a date in a known format"),
    ],
)
def test_impossible_ambiguous_and_unknown_dates_say_why(text: str, why: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(text)
    assert why in str(caught.value)


@pytest.mark.parametrize(
    ("value", "date_format", "expected"),
    [
        ("24/07/2024", "%d/%m/%Y", "2024-07-24"),
        ("05/07/2024", "%d/%m/%Y", "2024-07-05"),
        ("05/07/2024", "%m/%d/%Y", "2024-05-07"),
        ("24.07.2024 10:30", "%d.%m.%Y %H:%M", "2024-07-24T10:30:00"),
        ("1721779200", "unix", "2024-07-24T00:00:00+00:00"),
        (1721779200, "unix", "2024-07-24T00:00:00+00:00"),
        ("2024-07-24", "%d/%m/%Y", "2024-07-24"),  # the default formats cannot be misread: still read
    ],
)
def test_a_declared_format(value: object, date_format: str, expected: str) -> None:
    assert parse_date(value, check_date_format(date_format)) == expected


def test_a_value_matching_neither_the_declared_nor_a_known_format() -> None:
    with pytest.raises(DateError, match=r"matches neither the declared format '%d/%m/%Y' nor ISO 8601"):
        parse_date("07-24-2024", "%d/%m/%Y")


@pytest.mark.parametrize("date_format", ["", "dd/mm/yyyy", "%Q", 5])
def test_a_format_that_cannot_read_dates_is_refused(date_format: object) -> None:
    with pytest.raises(InvalidParameterError, match="date_format"):
        check_date_format(date_format)


@pytest.mark.parametrize("date_format", ["%m/%d", "%d %B", "%H:%M", "%%Y %m %d"])
def test_a_format_without_a_year_is_refused(date_format: str) -> None:
    with pytest.raises(InvalidParameterError, match=r"has no year \(%Y, %y or %G\)"):
        check_date_format(date_format)
    assert check_date_format("%G-W%V-%u") == "%G-W%V-%u"


def test_numbers_and_dates_of_other_types() -> None:
    assert parse_date(dt.date(2024, 7, 24)) == "2024-07-24"
    assert parse_date(dt.datetime(2024, 7, 24, 10, 0)) == "2024-07-24T10:00:00"
    with pytest.raises(DateError, match="must be a date in text, found int"):
        parse_date(20240724)
    assert day_of("Wed, 24 Jul 2024 10:00:00 +0000") == "2024-07-24"
    assert day_of("24/07/2024") == "24/07/2024"  # left for validation (and a declared format) to read
    assert day_of("  ") is None


# --- in a corpus ------------------------------------------------------------------------------------------


_BODIES = [
    "Grain barges crowd the Danube ports as exports shift from the Black Sea.",
    "Danube ports widen channels for grain barges and river exports.",
    "River exports of grain grow through Danube ports despite low water.",
    "Grain exports by rail rise while barges wait at the ports.",
    "Ports and barges carry grain exports down the river to the sea.",
]


def _corpus(tmp_path: Path, dates: list[Any]) -> Path:
    path = tmp_path / "dated.jsonl"
    records = [
        {"id": f"a{i}", "title": f"Grain story {i}", "body": _BODIES[i], "date": date}
        for i, date in enumerate(dates)
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_a_date_that_cannot_be_read_is_an_error_naming_record_and_value(tmp_path: Path) -> None:
    path = _corpus(tmp_path, ["2024-07-22", "July 24, 2024", "2024-13-45", "yesterday"])
    with pytest.raises(CorpusError) as caught:
        read_articles(path)
    message = str(caught.value)
    assert "2 invalid records" in message
    assert f"{path}:3: article 'a2': date '2024-13-45' is not a real date" in message
    assert f"{path}:4: article 'a3': date 'yesterday' is not a date" in message
    with pytest.raises(CorpusError, match=r"'a2': date '2024-13-45'"):
        Recommender(min_df=1).fit(path)


def test_skip_invalid_leaves_out_and_lists_the_bad_dates(tmp_path: Path) -> None:
    path = _corpus(tmp_path, ["2024-07-22", "July 24, 2024", "24/07/2024", None, ""])
    frame = read_articles(path, skip_invalid=True)
    assert frame["date"].tolist() == ["2024-07-22", "2024-07-24", None, None]
    assert [str(skip) for skip in frame.attrs["skipped"]] == [
        f"{path}:3: article 'a2': date '24/07/2024' has no known day/month order "
        "(if day first, declare --date-format '%d/%m/%Y')"
    ]


def test_a_declared_format_reads_the_whole_corpus(tmp_path: Path) -> None:
    path = _corpus(tmp_path, ["22/07/2024", "05/07/2024", "2024-07-01"])
    frame = read_articles(path, date_format="%d/%m/%Y")
    assert frame["date"].tolist() == ["2024-07-22", "2024-07-05", "2024-07-01"]
    model = Recommender(min_df=1).fit(path, date_format="%d/%m/%Y")
    # The dates are real now, so recency controls see them (an unread date used to switch them off).
    assert [link.article_id for link in model.related("a1", k=2, past_only=True)] == ["a2"]
    assert {link.article_id for link in model.related("a1", k=2)} == {"a0", "a2"}


def test_the_cli_names_the_record_and_reads_a_declared_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _corpus(tmp_path, ["2024-07-22", "24/07/2024", "23/07/2024"])
    assert main(["build", str(path), "-o", str(tmp_path / "m1"), "--min-df", "1", "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "article 'a1': date '24/07/2024' has no known day/month order" in error
    assert "--skip-invalid" in error
    assert not (tmp_path / "m1").exists()
    assert main(["build", str(path), "-o", str(tmp_path / "m2"), "--min-df", "1", "--skip-invalid"]) == 0
    assert "skipped 2 invalid record(s)" in capsys.readouterr().err
    built = main(
        ["build", str(path), "-o", str(tmp_path / "m3"), "--min-df", "1", "--date-format", "%d/%m/%Y"]
    )
    assert built == 0
    capsys.readouterr()
    assert main(["related", str(tmp_path / "m3"), "a0", "--json"]) == 0
    links = json.loads(capsys.readouterr().out)
    assert {link["date"] for link in links} == {"2024-07-24", "2024-07-23"}
    assert main(["build", str(path), "-o", str(tmp_path / "m4"), "--date-format", "dd/mm/yyyy"]) == 1
    assert "date_format 'dd/mm/yyyy' is not a strptime pattern" in capsys.readouterr().err


def test_update_and_evaluate_read_dates_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _corpus(tmp_path, ["2024-07-20", "2024-07-21", "2024-07-22"])
    model = tmp_path / "model"
    assert main(["build", str(base), "-o", str(model), "--min-df", "1", "--quiet"]) == 0
    new = tmp_path / "new.jsonl"
    record = {
        "id": "n1",
        "title": "Barges",
        "body": "Grain barges and exports at Danube ports.",
        "date": "25/07/2024",
    }
    new.write_text(json.dumps(record) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["update", str(model), "--add", str(new), "--quiet"]) == 1
    assert "article 'n1': date '25/07/2024'" in capsys.readouterr().err
    assert main(["update", str(model), "--add", str(new), "--quiet", "--date-format", "%d/%m/%Y"]) == 0
    capsys.readouterr()
    assert main(["related", str(model), "a0", "--json", "-k", "3"]) == 0
    dates = {link["article_id"]: link["date"] for link in json.loads(capsys.readouterr().out)}
    assert dates.get("n1") == "2024-07-25"
    assert main(["evaluate", str(new), "--quiet"]) == 1
    assert "date '25/07/2024'" in capsys.readouterr().err
