"""Validation of article records: every record checked and cleaned, every problem named with its place.

Nothing is dropped unless ``skip_invalid`` is set, and then each skipped record is listed; records a source
leaves out on purpose (drafts, unpublished posts, list pages) are listed too.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..text.languages import language_code
from ..text.printable import CONTROL
from ..types import CorpusError, EmptyCorpusError, InvalidParameterError
from ._base import Problem, Skip
from .dates import DateError, check_date_format, parse_date

__all__ = ["FIELDS", "SkippedRecord", "still_valid", "validate", "validated"]

log = logging.getLogger(__name__)

# The mark ``validate`` leaves in a frame's attrs (its row count then).
_VALIDATED = "recommender_validated"

#: Known columns, in output order. Anything else a source carries is kept after them as metadata.
FIELDS = ("id", "title", "body", "date", "author", "category", "tags", "url")
_MAX_REPORTED = 5
_SHOWN_INVALID = 3  # problems named when every record was invalid


@dataclass(frozen=True)
class SkippedRecord:
    """A record left out: where it was and why (``invalid`` is False for drafts and other non-articles)."""

    location: str
    reason: str
    invalid: bool = True

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


def validated(
    located: Iterable[tuple[str, Any]],
    source: str,
    *,
    skip_invalid: bool,
    skipped: list[SkippedRecord] | None = None,
    date_format: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Clean rows, one at a time; problems are collected and raised at the end unless ``skip_invalid``.

    Dates become ISO 8601 (see :mod:`recommender.sources.dates`; ``date_format`` declares another).
    """
    date_format = check_date_format(date_format)
    problems: list[SkippedRecord] = []
    left_out = skipped if skipped is not None else []
    seen: dict[str, str] = {}
    duplicates: dict[str, list[str]] = {}
    count = 0
    for location, record in located:
        if isinstance(record, Skip):
            left_out.append(SkippedRecord(location, str(record), invalid=False))
            continue
        try:
            row = _clean_record(record, date_format)
        except ValueError as error:
            problems.append(SkippedRecord(location, str(error)))
            continue
        first = seen.get(row["id"])
        if first is not None:
            duplicates.setdefault(row["id"], [first]).append(location)
            problems.append(SkippedRecord(location, f"duplicate id {row['id']!r} (first at {first})"))
            continue
        seen[row["id"]] = location
        count += 1
        yield row
    if problems and not skip_invalid:
        raise CorpusError(_summarise(source, problems, duplicates))
    left_out.extend(problems)
    for problem in left_out:
        log.debug("skipped %s", problem)
    if not count:
        message = f"{source}: no articles found" if not problems else f"{source}: every record was invalid"
        if problems:
            shown = "; ".join(str(problem) for problem in problems[:_SHOWN_INVALID])
            more = f"; and {len(problems) - _SHOWN_INVALID} more" if len(problems) > _SHOWN_INVALID else ""
            message += f" ({len(problems)}: {shown}{more})"
        elif left_out:
            message += f" ({len(left_out)} left out, first: {left_out[0]})"
        raise EmptyCorpusError(message)


def validate(
    located: Iterable[tuple[str, Any]], source: str, *, skip_invalid: bool, date_format: str | None = None
) -> pd.DataFrame:
    """The valid records as a DataFrame (``attrs``: the source, the records left out, and a mark of this
    validation, so that the frame is not validated again: see :func:`still_valid`)."""
    skipped: list[SkippedRecord] = []
    records = validated(located, source, skip_invalid=skip_invalid, skipped=skipped, date_format=date_format)
    rows = list(records)
    frame = _to_frame(rows)
    frame.attrs["source"] = source
    frame.attrs["skipped"] = skipped
    frame.attrs[_VALIDATED] = len(frame)
    return frame


def still_valid(frame: pd.DataFrame) -> bool:
    """Whether a frame :func:`validate` made still holds what validation guarantees, by a quick vectorised
    check (as many rows, unique ids, every id, title and body text, ids trimmed, bodies not blank), so that
    it is used as it is rather than validated and copied again; any doubt means a full validation."""
    if frame.attrs.get(_VALIDATED) != len(frame) or not {"id", "title", "body"} <= set(frame.columns):
        return False
    ids, titles, bodies = frame["id"], frame["title"], frame["body"]
    texts = all(all(isinstance(value, str) for value in column) for column in (ids, titles, bodies))
    return bool(
        texts
        and ids.is_unique
        and ids.str.strip().eq(ids).all()
        and not ids.str.contains("\n", regex=False).any()
        and ids.ne("").all()
        and bodies.str.strip().ne("").all()
    )


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


def _clean_record(record: Any, date_format: str | None) -> dict[str, Any]:
    if isinstance(record, Problem):
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
    control = CONTROL.search(article_id)
    if control:
        message = (
            f"id {article_id!r} holds a control character (U+{ord(control.group(0)):04X}); ids must be "
            "printable"
        )
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
    row["date"] = _date_field(record.get("date"), article_id, date_format)
    row["tags"] = _tags_field(record.get("tags"), article_id)
    for name in ("lang", "language"):
        _check_language(record.get(name), name, article_id)
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


def _check_language(value: Any, name: str, article_id: str) -> None:
    """A declared language must be one the analysis can read (checked here, where the record is known)."""
    if value is None or value is pd.NA or (isinstance(value, str) and not value.strip()):
        return
    if not isinstance(value, str):
        message = f"article {article_id!r}: {name!r} must be a language code such as 'en', found {value!r}"
        raise ValueError(message)
    try:
        language_code(value)
    except InvalidParameterError as error:
        message = f"article {article_id!r}: {error}"
        raise ValueError(message) from None


def _date_field(value: Any, article_id: str, date_format: str | None) -> str | None:
    """The date as ISO 8601; no date (missing or blank) is None, a date that cannot be read an error."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_date(value, date_format)
    except DateError as error:
        message = f"article {article_id!r}: date {value!r} {error}"
        raise ValueError(message) from None


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
    # Object columns keep a missing value as None (pandas 3 would turn it into NaN in a text column).
    return pd.DataFrame(data, columns=columns, dtype=object)
