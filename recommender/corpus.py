"""Reading and validating article sources into one pandas DataFrame.

Sources: JSON Lines, JSON arrays, CSV and Parquet files (each optionally gzip-compressed), a folder of
``.txt``/``.md`` files, a DataFrame, or an iterable of dicts. Every problem is reported with the file and
line (or record) it comes from; nothing is dropped unless ``skip_invalid`` is set, and then each skipped
record is reported in ``frame.attrs["skipped"]`` and logged.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import io
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .types import CorpusError, EmptyCorpusError

__all__ = ["FIELDS", "FORMATS", "SkippedRecord", "load_articles", "read_articles"]

log = logging.getLogger(__name__)

#: Known columns, in output order. Anything else a source carries is kept after them as metadata.
FIELDS = ("id", "title", "body", "date", "author", "category", "tags", "url")
#: Values accepted by ``format=``.
FORMATS = ("jsonl", "json", "csv", "parquet", "text")

_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_TEXT_SUFFIXES = (".txt", ".md", ".markdown")
_MAX_REPORTED = 5


@dataclass(frozen=True)
class SkippedRecord:
    """A record left out by ``skip_invalid=True``: where it was and why."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


PathLike = str | os.PathLike[str]
Articles = pd.DataFrame | PathLike | Iterable[Mapping[str, Any]]


def read_articles(path: PathLike, *, format: str | None = None, skip_invalid: bool = False) -> pd.DataFrame:
    """Read a corpus file or folder into a validated DataFrame, one row per article.

    Parameters
    ----------
    path:
        A ``.jsonl``, ``.json``, ``.csv`` or ``.parquet`` file (``.gz`` allowed), or a folder of
        ``.txt``/``.md`` files (title from front matter or the first line, id from the file name).
    format:
        One of :data:`FORMATS` to override the guess from the file name.
    skip_invalid:
        Leave out bad records instead of failing; each is listed in ``frame.attrs["skipped"]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, title, body, date, author, category, tags, url``, then any other fields.

    Raises
    ------
    CorpusError
        Naming the file and line (or record) and what is wrong.
    """
    source = Path(path)
    if not source.exists():
        message = f"{source}: no such file or folder"
        raise CorpusError(message)
    kind = format or _guess_format(source)
    if kind not in FORMATS:
        message = f"{source}: unknown format {kind!r}; use one of {', '.join(FORMATS)}"
        raise CorpusError(message)
    readers = {
        "jsonl": _read_jsonl,
        "json": _read_json,
        "csv": _read_csv,
        "parquet": _read_parquet,
        "text": _read_text_folder,
    }
    if kind == "text" and not source.is_dir():
        message = f"{source}: format 'text' expects a folder of .txt/.md files"
        raise CorpusError(message)
    if kind != "text" and source.is_dir():
        message = f"{source}: is a folder; format {kind!r} expects a file"
        raise CorpusError(message)
    return _validate(readers[kind](source), str(source), skip_invalid=skip_invalid)


def load_articles(articles: Articles, *, skip_invalid: bool = False) -> pd.DataFrame:
    """Accept what ``Recommender.fit`` accepts (a path, a DataFrame, dicts) as a validated DataFrame."""
    if isinstance(articles, str | os.PathLike):
        return read_articles(articles, skip_invalid=skip_invalid)
    if isinstance(articles, pd.DataFrame):
        rows = articles.to_dict(orient="records")
        located = ((f"row {i}", dict(row)) for i, row in enumerate(rows))
        return _validate(located, "DataFrame", skip_invalid=skip_invalid)
    if isinstance(articles, Mapping):
        message = "articles must be a path, a DataFrame or an iterable of dicts, not a single dict"
        raise CorpusError(message)
    try:
        iterator = iter(articles)
    except TypeError:
        message = (
            f"articles must be a path, a DataFrame or an iterable of dicts, not {type(articles).__name__}"
        )
        raise CorpusError(message) from None
    records = ((f"record {i}", record) for i, record in enumerate(iterator, start=1))
    return _validate(records, "articles", skip_invalid=skip_invalid)


# --- sources: each yields (location, record or error string) --------------------------------------

Located = Iterator[tuple[str, Any]]


def _guess_format(source: Path) -> str:
    if source.is_dir():
        return "text"
    name = source.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    kind = _EXTENSIONS.get(Path(name).suffix)
    if kind is None:
        message = (
            f"{source}: cannot tell the format from the file name; pass format= one of {', '.join(FORMATS)}"
        )
        raise CorpusError(message)
    return kind


def _open_bytes(source: Path) -> Any:
    with source.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(source, "rb")
    return source.open("rb")


def _read_bytes(source: Path) -> bytes:
    try:
        with _open_bytes(source) as handle:
            data: bytes = handle.read()
    except (OSError, EOFError) as error:
        message = f"{source}: cannot read: {error}"
        raise CorpusError(message) from error
    return data


def _decode(data: bytes, source: Path, *, base_offset: int = 0, line: int | None = None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        where = f"{source}:{line}" if line is not None else str(source)
        message = (
            f"{where}: undecodable bytes at byte offset {base_offset + error.start} "
            f"({data[error.start : error.start + 4]!r}); the file must be UTF-8"
        )
        raise CorpusError(message) from None


def _read_jsonl(source: Path) -> Located:
    offset = 0
    try:
        handle = _open_bytes(source)
    except OSError as error:
        message = f"{source}: cannot read: {error}"
        raise CorpusError(message) from error
    with handle:
        for number, raw in enumerate(handle, start=1):
            location = f"{source}:{number}"
            start = offset
            offset += len(raw)
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
                start += 3
            try:
                text = _decode(raw, source, base_offset=start, line=number)
            except CorpusError as error:
                yield location, _Problem(str(error).split(": ", 1)[1])
                continue
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                yield location, _Problem(f"malformed JSON: {error.msg} at column {error.colno}")
                continue
            yield location, record


def _read_json(source: Path) -> Located:
    text = _decode(_read_bytes(source), source).lstrip("\ufeff")
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        message = f"{source}: a JSON corpus must be an array of article objects"
        raise CorpusError(message)
    position = _skip_space(text, position + 1)
    line = 1 + text.count("\n", 0, position)
    counted_to = position
    if text.startswith("]", position):
        return
    while True:
        line += text.count("\n", counted_to, position)
        counted_to = position
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            message = f"{source}:{error.lineno}: malformed JSON: {error.msg} at column {error.colno}"
            raise CorpusError(message) from None
        yield f"{source}:{line}", record
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
            continue
        if text.startswith("]", position):
            return
        line += text.count("\n", counted_to, position)
        message = f"{source}:{line}: malformed JSON: expected ',' or ']' after an article"
        raise CorpusError(message)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _read_csv(source: Path) -> Located:
    text = _decode(_read_bytes(source), source).lstrip("\ufeff")
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _next_csv_row(reader, source)
    if header is None:
        return
    names = [name.strip() for name in header]
    absent = [name for name in ("id", "body") if name not in names]
    if absent:
        wanted = " or ".join(repr(name) for name in absent)
        message = f"{source}:1: the header has no {wanted} column (found: {', '.join(names)})"
        raise CorpusError(message)
    previous_end = reader.line_num
    while (row := _next_csv_row(reader, source)) is not None:
        location = f"{source}:{previous_end + 1}"
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            yield location, _Problem(f"expected {len(names)} columns as in the header, found {len(row)}")
            continue
        yield (
            location,
            {name: (value if value != "" else None) for name, value in zip(names, row, strict=True)},
        )


def _next_csv_row(reader: Any, source: Path) -> list[str] | None:
    try:
        row: list[str] = next(reader)
    except StopIteration:
        return None
    except csv.Error as error:
        message = f"{source}:{reader.line_num}: malformed CSV: {error}"
        raise CorpusError(message) from None
    return row


def _read_parquet(source: Path) -> Located:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        message = f"{source}: reading Parquet needs pyarrow: pip install 'recommender[parquet]'"
        raise CorpusError(message) from None
    try:
        frame = pd.read_parquet(source)
    except Exception as error:  # pyarrow raises many types for a bad file
        message = f"{source}: cannot read Parquet: {error}"
        raise CorpusError(message) from error
    for number, row in enumerate(frame.to_dict(orient="records"), start=1):
        yield f"{source}: row {number}", row


def _read_text_folder(source: Path) -> Located:
    files = sorted(
        path
        for path in source.rglob("*")
        if path.is_file()
        and path.suffix.lower() in _TEXT_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(source).parts)
    )
    for path in files:
        location = str(path)
        try:
            text = _decode(_read_bytes(path), path).lstrip("\ufeff")
        except CorpusError as error:
            yield location, _Problem(str(error).split(": ", 1)[1])
            continue
        try:
            yield location, _parse_text_file(text, default_id=path.stem)
        except ValueError as error:
            yield location, _Problem(str(error))


def _parse_text_file(text: str, *, default_id: str) -> dict[str, Any]:
    """One article from a text file: optional ``---`` front matter, else the first line is the title."""
    record: dict[str, Any] = {"id": default_id}
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
        except StopIteration:
            message = "front matter opened with '---' on line 1 is never closed"
            raise ValueError(message) from None
        record.update(_parse_front_matter(lines[1:end]))
        body_lines = lines[end + 1 :]
    else:
        body_lines = lines
    if not record.get("title"):
        while body_lines and not body_lines[0].strip():
            body_lines = body_lines[1:]
        if body_lines:
            record["title"] = body_lines[0].strip().lstrip("#").strip()
            body_lines = body_lines[1:]
    record["body"] = "\n".join(body_lines).strip()
    return record


def _parse_front_matter(lines: list[str]) -> dict[str, Any]:
    """The ``key: value`` subset of YAML front matter: scalars, ``[a, b]`` lists and ``- item`` lists."""
    data: dict[str, Any] = {}
    current: str | None = None
    for number, line in enumerate(lines, start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        stripped = line.strip()
        if stripped.startswith("- ") and current is not None:
            items = data.get(current)
            if not isinstance(items, list):
                items = []
            items.append(_unquote(stripped[2:]))
            data[current] = items
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            message = f"line {number}: front matter line is not 'key: value': {line.strip()!r}"
            raise ValueError(message)
        current = key.strip()
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            data[current] = [_unquote(item) for item in value[1:-1].split(",") if item.strip()]
        else:
            data[current] = _unquote(value) if value else None
    return data


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


# --- validation -------------------------------------------------------------------------------------


class _Problem(str):
    """A record that could not even be parsed; carries the reason instead of a record."""


def _validate(located: Iterable[tuple[str, Any]], source: str, *, skip_invalid: bool) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    where: list[str] = []
    problems: list[SkippedRecord] = []
    seen: dict[str, str] = {}
    duplicates: dict[str, list[str]] = {}
    for location, record in located:
        try:
            row = _clean_record(record)
        except ValueError as error:
            problems.append(SkippedRecord(location, str(error)))
            continue
        first = seen.get(row["id"])
        if first is not None:
            duplicates.setdefault(row["id"], [first]).append(location)
            problems.append(SkippedRecord(location, f"duplicate id {row['id']!r} (first at {first})"))
            continue
        seen[row["id"]] = location
        rows.append(row)
        where.append(location)
    if problems and not skip_invalid:
        raise CorpusError(_summarise(source, problems, duplicates))
    for problem in problems:
        log.warning("skipped %s", problem)
    if not rows:
        message = f"{source}: no articles found" if not problems else f"{source}: every record was invalid"
        raise EmptyCorpusError(message)
    frame = _to_frame(rows)
    frame.attrs["source"] = source
    frame.attrs["skipped"] = problems
    return frame


def _summarise(source: str, problems: list[SkippedRecord], duplicates: dict[str, list[str]]) -> str:
    if all(problem.reason.startswith("duplicate id") for problem in problems):
        listed = "; ".join(
            f"{article_id!r} at {', '.join(places)}"
            for article_id, places in list(duplicates.items())[:_MAX_REPORTED]
        )
        more = f" and {len(duplicates) - _MAX_REPORTED} more" if len(duplicates) > _MAX_REPORTED else ""
        return f"{source}: {len(duplicates)} duplicate id(s): {listed}{more}"
    if len(problems) == 1:
        return str(problems[0])
    shown = "; ".join(str(problem) for problem in problems[:_MAX_REPORTED])
    more = f"; and {len(problems) - _MAX_REPORTED} more" if len(problems) > _MAX_REPORTED else ""
    return f"{len(problems)} invalid records: {shown}{more} (skip them with --skip-invalid)"


def _clean_record(record: Any) -> dict[str, Any]:
    if isinstance(record, _Problem):
        raise ValueError(str(record))
    if not isinstance(record, Mapping):
        message = f"expected an article object, found {type(record).__name__}"
        raise ValueError(message)
    record = {str(key): _missing_to_none(value) for key, value in record.items()}
    raw_id = record.get("id")
    if raw_id is None:
        message = "missing 'id'"
        raise ValueError(message)
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        message = f"'id' must be a string, found {type(raw_id).__name__} {raw_id!r}"
        raise ValueError(message)
    article_id = str(raw_id)
    if not article_id.strip():
        message = "empty 'id'"
        raise ValueError(message)
    if article_id != article_id.strip() or "\n" in article_id:
        message = f"id {article_id!r} has surrounding whitespace or a line break"
        raise ValueError(message)
    if "body" not in record:
        message = f"article {article_id!r} has no 'body'"
        raise ValueError(message)
    body = record["body"] if record["body"] is not None else ""
    if not isinstance(body, str):
        message = f"article {article_id!r}: 'body' must be text, found {type(body).__name__}"
        raise ValueError(message)
    if not body.strip():
        message = f"article {article_id!r} has an empty body"
        raise ValueError(message)
    row = dict(record)
    row["id"] = article_id
    row["title"] = _text_field(record.get("title"), "title", article_id) or ""
    for name in ("author", "url"):
        row[name] = _text_field(record.get(name), name, article_id)
    row["category"] = _category_field(record.get("category"), article_id)
    row["date"] = _date_field(record.get("date"), article_id)
    row["tags"] = _tags_field(record.get("tags"), article_id)
    return row


def _missing_to_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    return value


def _text_field(value: Any, name: str, article_id: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    message = f"article {article_id!r}: {name!r} must be text, found {type(value).__name__}"
    raise ValueError(message)


def _category_field(value: Any, article_id: str) -> str | list[str] | None:
    """A label, or a list of labels for multi-label corpora (Reuters topics)."""
    if hasattr(value, "tolist"):  # numpy arrays from Parquet
        value = value.tolist()
    if isinstance(value, list | tuple):
        if all(isinstance(label, str) for label in value):
            return [label.strip() for label in value if label.strip()]
        message = f"article {article_id!r}: 'category' must be text or a list of strings"
        raise ValueError(message)
    return _text_field(value, "category", article_id)


def _date_field(value: Any, article_id: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    message = f"article {article_id!r}: 'date' must be an ISO date string, found {type(value).__name__}"
    raise ValueError(message)


def _tags_field(value: Any, article_id: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                message = f"article {article_id!r}: 'tags' looks like JSON but does not parse: {text!r}"
                raise ValueError(message) from None
        else:
            separator = ";" if ";" in text else ","
            return [tag.strip() for tag in text.split(separator) if tag.strip()]
    if hasattr(value, "tolist"):  # numpy arrays from Parquet
        value = value.tolist()
    if isinstance(value, list | tuple) and all(isinstance(tag, str) for tag in value):
        return [tag.strip() for tag in value if tag.strip()]
    message = f"article {article_id!r}: 'tags' must be a list of strings or a separated string"
    raise ValueError(message)


def _to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    extras: list[str] = []
    known = set(FIELDS)
    for row in rows:
        for key in row:
            if key not in known and key not in extras:
                extras.append(key)
    columns = list(FIELDS) + extras
    data = {column: [row.get(column) for row in rows] for column in columns}
    frame = pd.DataFrame(data, columns=columns)
    for column in ("id", "title", "body"):
        frame[column] = frame[column].astype(object)
    return frame
