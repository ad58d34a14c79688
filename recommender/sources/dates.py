"""Publication dates as publishers export them, read strictly into ISO 8601.

Read by default: ISO 8601 (``2024-07-24``, ``2024-07-24T10:00:00Z``, ``2024/07/24``), RFC 2822 as in RSS
(``Wed, 24 Jul 2024 10:00:00 +0000``) and English month names (``July 24, 2024``, ``Jul 24 2024``,
``24 July 2024``, a weekday in front allowed). A user may declare another format (a ``strptime`` pattern
such as ``%d/%m/%Y``, or ``unix`` for seconds since 1970). Everything else is an error that says why:
an impossible day, a day/month order that cannot be known (``05/07/2024``), a bare number, a word.
Dates without a time stay dates; a given time (and offset) is kept. Month names are matched here rather
than with ``%B``, whose meaning follows the machine's locale.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import math
import re

from ..types import InvalidParameterError

__all__ = ["UNIX", "DateError", "check_date_format", "day_of", "parse_date"]

#: The declared format for Unix timestamps (seconds since 1970-01-01 UTC).
UNIX = "unix"

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_NAMED = (
    re.compile(rf"^{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+{_YEAR}$", re.IGNORECASE),  # July 24, 2024
    re.compile(rf"^{_WEEKDAY}{_DAY}\s+{_MONTH},?\s+{_YEAR}$", re.IGNORECASE),  # 24 July 2024
)
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\S.*$")
_YMD = re.compile(r"^(?P<year>\d{4})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})$")
_NUMERIC_DMY = re.compile(r"^(?P<first>\d{1,2})[/.-](?P<second>\d{1,2})[/.-](?P<year>\d{2}|\d{4})$")
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_YEAR_DIRECTIVES = ("%Y", "%y", "%G", "%c", "%x")
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%f", "%z", "%X", "%c", "%T", "%R", "%p")

_KNOWN = (
    "ISO 8601 (2024-07-24), RFC 2822 (Wed, 24 Jul 2024 10:00:00 +0000), 'July 24, 2024' or '24 July 2024'"
)


class DateError(ValueError):
    """A date that cannot be read; the message says why (the caller adds which record)."""


def check_date_format(date_format: object) -> str | None:
    """``date_format`` if usable: None, ``unix`` or a ``strptime`` pattern that reads what it writes."""
    if date_format is None:
        return None
    if not isinstance(date_format, str) or not date_format.strip():
        message = f"date_format must be a strptime pattern such as %d/%m/%Y, or unix; got {date_format!r}"
        raise InvalidParameterError(message)
    if date_format == UNIX:
        return date_format
    sample = _dt.datetime(2024, 7, 24, 10, 30, 15, tzinfo=_dt.timezone.utc)
    try:
        if "%" not in date_format:
            raise ValueError
        _dt.datetime.strptime(sample.strftime(date_format), date_format)
    except ValueError:
        message = (
            f"date_format {date_format!r} is not a strptime pattern that reads back what it writes "
            "(for example %d/%m/%Y or %d.%m.%Y %H:%M), nor unix"
        )
        raise InvalidParameterError(message) from None
    if not any(directive in date_format.replace("%%", "") for directive in _YEAR_DIRECTIVES):
        # Without a year, strptime dates everything in 1900: every recency control would be wrong.
        message = f"date_format {date_format!r} has no year (%Y, %y or %G); dates without one cannot be read"
        raise InvalidParameterError(message)
    return date_format


def parse_date(value: object, date_format: str | None = None) -> str:
    """``value`` as an ISO 8601 date (or date and time, when it has one); ``DateError`` says why not.

    ``date_format`` (checked by :func:`check_date_format`) is tried first, then the formats read by
    default (they cannot be misread, so a declared format never hides them).
    """
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if date_format == UNIX and isinstance(value, int | float) and not isinstance(value, bool):
        return _from_unix(value)
    if not isinstance(value, str):
        message = f"must be a date in text, found {type(value).__name__} {value!r}"
        raise DateError(message)
    text = " ".join(value.split())
    if date_format is not None:
        declared = _declared(text, date_format)
        if declared is not None:
            return declared
    found = _standard(text)
    if found is not None:
        return found
    raise DateError(_why_not(text, date_format))


def day_of(value: object) -> str | None:
    """The ISO day of a date a reader found (feeds and front matter keep days), or the value as text when
    it cannot be read by default, so that validation reads it with a declared format or names the record;
    None for no date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_date(value)[:10]
    except DateError:
        return str(value).strip()


def _declared(text: str, date_format: str) -> str | None:
    if date_format == UNIX:
        return _from_unix(float(text)) if _NUMBER.match(text) else None
    try:
        moment = _dt.datetime.strptime(text, date_format)
    except ValueError:
        return None
    if any(directive in date_format for directive in _TIME_DIRECTIVES):
        return moment.isoformat()
    return moment.date().isoformat()


def _from_unix(seconds: float) -> str:
    try:
        if not math.isfinite(seconds):
            raise ValueError
        moment = _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        message = f"{seconds!r} is not a Unix time this machine can represent"
        raise DateError(message) from None
    return moment.isoformat()


def _standard(text: str) -> str | None:
    """``text`` read in one of the default formats, else None; an impossible day is a ``DateError``."""
    match = _YMD.match(text)
    if match:
        return _day(int(match["year"]), int(match["month"]), int(match["day"]))
    if _ISO_TIME.match(text):
        try:
            return _dt.datetime.fromisoformat(text).isoformat()
        except ValueError as error:
            message = f"is not a valid ISO 8601 date and time ({error})"
            raise DateError(message) from None
    for pattern in _NAMED:
        match = pattern.match(text)
        if match:
            return _day(int(match["year"]), _MONTHS[match["month"].lower()], int(match["day"]))
    if ":" in text and any(month in text.lower() for month in _MONTHS):
        try:
            return email.utils.parsedate_to_datetime(text).isoformat()
        except (TypeError, ValueError, IndexError) as error:
            if "out of range" in str(error) or "must be in" in str(error):
                message = f"is not a real date or time ({error})"
                raise DateError(message) from None
    return None


def _day(year: int, month: int, day: int) -> str:
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError as error:
        message = f"is not a real date ({error})"
        raise DateError(message) from None


def _why_not(text: str, date_format: str | None) -> str:
    if date_format is not None:
        return f"matches neither the declared format {date_format!r} nor {_KNOWN}"
    match = _NUMERIC_DMY.match(text)
    if match:
        first, second = int(match["first"]), int(match["second"])
        separator = text[len(match["first"])]
        year = "%Y" if len(match["year"]) == 4 else "%y"
        day_first = f"%d{separator}%m{separator}{year}"
        month_first = f"%m{separator}%d{separator}{year}"
        if first > 12 >= second:
            hint = f"if day first, declare --date-format '{day_first}'"
        elif second > 12 >= first:
            hint = f"if month first, declare --date-format '{month_first}'"
        else:
            hint = f"declare --date-format '{day_first}' or '{month_first}'"
        return f"has no known day/month order ({hint})"
    if _NUMBER.match(text):
        return "is a bare number, not a date (a Unix time? declare --date-format unix)"
    return f"is not a date in a known format ({_KNOWN}; declare another with --date-format)"
