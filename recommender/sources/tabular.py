"""Readers of tabular and plain-text corpora: JSON Lines, JSON arrays, CSV, Parquet, folders of text files.

Each yields ``(location, record)`` pairs (see :mod:`._base`), a :class:`Problem` in place of a record it
cannot read, so that validation can report every bad record with its file and line.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..types import CorpusError
from ._base import Located, Problem, decode, open_bytes, per_file, problem_text, undecodable

__all__ = ["read_csv", "read_json", "read_jsonl", "read_parquet", "read_text_files"]


def read_jsonl(source: Path) -> Located:
    decoder = _Decoder()
    offset = 0
    with open_bytes(source) as handle:
        for number, raw in enumerate(handle, start=1):
            location = f"{source}:{number}"
            start = offset
            offset += len(raw)
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
                start += 3
            try:
                text = decode(raw, source, base_offset=start, line=number)
            except CorpusError as error:
                yield location, Problem(problem_text(error))
                continue
            if not text.strip():
                continue
            try:
                record = decoder.decode(text)
            except json.JSONDecodeError as error:
                where = (
                    "the end of the line"
                    if error.pos >= len(text.rstrip("\r\n"))
                    else f"column {error.colno}"
                )
                yield location, Problem(f"malformed JSON: {error.msg} at {where}")
                continue
            except RecursionError:
                yield location, Problem(_TOO_DEEP)
                continue
            yield location, decoder.checked(record)


_TOO_DEEP = "JSON nested too deeply"
#: Fields that hold text: a NaN or Infinity there is a mistake, not a missing value.
_TEXT_FIELDS = ("id", "title", "body", "date", "author", "category", "tags", "url", "lang", "language")


class _Decoder:
    """JSON decoding that catches what ``json`` lets pass silently: a key given twice in an object (the
    last value would win) and NaN or Infinity in a text field (they would become "" or "inf")."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []
        self.decoder = json.JSONDecoder(object_pairs_hook=self._object)

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        record = dict(pairs)
        if len(record) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.duplicates.append(key)
                seen.add(key)
        return record

    def decode(self, text: str) -> Any:
        self.duplicates.clear()
        return self.decoder.decode(text)

    def raw_decode(self, text: str, position: int) -> tuple[Any, int]:
        self.duplicates.clear()
        return self.decoder.raw_decode(text, position)

    def checked(self, record: Any) -> Any:
        """``record``, or a :class:`Problem` naming a repeated key or a text field that is not a number."""
        if self.duplicates:
            return Problem(f"key {self.duplicates[0]!r} appears more than once in the record")
        if isinstance(record, dict):
            for name in _TEXT_FIELDS:
                value = record.get(name)
                if isinstance(value, float) and not math.isfinite(value):
                    token = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
                    return Problem(f"{name!r} is {token}, which is not text (write null for no value)")
        return record


_JSON_CHUNK = 1 << 18


def read_json(source: Path) -> Located:
    """A JSON array of articles, decoded one element at a time from a sliding buffer."""
    with open_bytes(source) as raw:
        yield from _JsonArrayReader(raw, source)


class _JsonArrayReader:
    """Walks a JSON array element by element, holding one element plus one chunk of text."""

    def __init__(self, raw: IO[bytes], source: Path) -> None:
        self.raw = raw
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.read = 0  # bytes read so far
        self.source = source
        self.text = ""
        self.position = 0
        self.line = 1  # line number of self.position
        self.eof = False
        self.decoder = _Decoder()

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.raw.read(_JSON_CHUNK)
        try:
            text = self.utf8.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            # error.object is the bytes held back from the last chunk (a cut character) plus this chunk.
            before = self.text.count("\n", self.position) + error.object.count(b"\n", 0, error.start)
            line = self.line + before
            offset = self.read - (len(error.object) - len(chunk)) + error.start
            raise CorpusError(undecodable(f"{self.source}:{line}", offset, error)) from None
        self.read += len(chunk)
        if not chunk:
            self.eof = True
            return False
        self.text = self.text[self.position :] + text
        self.position = 0
        return True

    def _skip_space(self) -> str:
        """The next non-space character (buffer refilled as needed), or '' at the end of the file."""
        while True:
            while self.position < len(self.text) and self.text[self.position] in " \t\r\n":
                if self.text[self.position] == "\n":
                    self.line += 1
                self.position += 1
            if self.position < len(self.text):
                return self.text[self.position]
            if not self._more():
                return ""

    def __iter__(self) -> Located:
        if self._skip_space() == "\ufeff":
            self.position += 1
        if self._skip_space() != "[":
            message = f"{self.source}: a JSON corpus must be an array of article objects"
            raise CorpusError(message)
        self.position += 1
        following = self._skip_space()
        while following != "]":
            self._skip_space()
            record, end = self._decode_one()
            yield f"{self.source}:{self.line}", self.decoder.checked(record)
            self.line += self.text.count("\n", self.position, end)
            self.position = end
            following = self._skip_space()
            if following == ",":
                self.position += 1
            elif following != "]":
                message = f"{self.source}:{self.line}: malformed JSON: expected ',' or ']' after an article"
                raise CorpusError(message)
        self.position += 1
        if self._skip_space():
            message = f"{self.source}:{self.line}: malformed JSON: extra data after the array"
            raise CorpusError(message)

    def _decode_one(self) -> tuple[Any, int]:
        while True:
            try:
                return self.decoder.raw_decode(self.text, self.position)
            except json.JSONDecodeError as error:
                # Most likely an element cut by the end of the buffer: read on and try again.
                if self._more():
                    continue
                line = self.line + self.text.count("\n", self.position, error.pos)
                column = error.pos - (self.text.rfind("\n", 0, error.pos) + 1) + 1
                message = f"{self.source}:{line}: malformed JSON: {error.msg} at column {column}"
                raise CorpusError(message) from None
            except RecursionError:
                message = f"{self.source}:{self.line}: {_TOO_DEEP}"
                raise CorpusError(message) from None


def read_csv(source: Path) -> Located:
    csv.field_size_limit(2**31 - 1)
    with open_bytes(source) as raw:
        # Strict: a quote left open is an error at the end of the file, not a field swallowing every row.
        yield from _csv_rows(csv.reader(_text_lines(raw, source), strict=True), source)


_LINE_BREAK = re.compile(r"(?<=\r)(?!\n)")  # after a lone carriage return (old Mac line ends)


def _text_lines(raw: IO[bytes], source: Path) -> Iterator[str]:
    """The file's lines as text with their line ends, a byte that is not UTF-8 an error naming its line
    and byte offset."""
    offset = 0
    for number, line in enumerate(raw, start=1):
        start = offset
        offset += len(line)
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[3:]
            start += 3
        text = decode(line, source, base_offset=start, line=number)
        if "\r" in text[:-2]:
            yield from _LINE_BREAK.split(text)
        else:
            yield text


_SHOWN = 80  # characters of a header line shown in an error


def _csv_rows(reader: Any, source: Path) -> Located:
    header = _next_csv_row(reader, source, 1)
    if header is None:
        return
    names = _header_names(header, source)
    previous_end = reader.line_num
    while (row := _next_csv_row(reader, source, previous_end + 1)) is not None:
        location = f"{source}:{previous_end + 1}"
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            yield location, Problem(f"expected {len(names)} columns as in the header, found {len(row)}")
            continue
        unnamed = [i for i, (name, value) in enumerate(zip(names, row, strict=True), 1) if not name and value]
        if unnamed:
            yield location, Problem(f"a value in column {unnamed[0]}, which has no name in the header")
            continue
        yield (
            location,
            {name: (value if value != "" else None) for name, value in zip(names, row, strict=True) if name},
        )


def _header_names(header: list[str], source: Path) -> list[str]:
    """The header's column names (stripped); an error if 'id' or 'body' is missing or a name repeats.
    A column without a name is allowed (spreadsheets add empty ones) as long as it stays empty."""
    names = [name.strip() for name in header]
    absent = [name for name in ("id", "body") if name not in names]
    if absent:
        wanted = " or ".join(repr(name) for name in absent)
        found = ", ".join(names)
        if len(found) > _SHOWN:
            found = found[:_SHOWN] + "…"
        message = f"{source}:1: the header has no {wanted} column (found: {found})"
        raise CorpusError(message)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            message = f"{source}:1: column {name!r} appears twice in the header"
            raise CorpusError(message)
        if name:
            seen.add(name)
    return names


def _next_csv_row(reader: Any, source: Path, start: int) -> list[str] | None:
    """The next row (which starts on line ``start``), or None at the end of the file."""
    try:
        row: list[str] = next(reader)
    except StopIteration:
        return None
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            message = f"{source}:{start}: malformed CSV: a quoted field opened in this row is never closed"
        else:
            message = f"{source}:{reader.line_num}: malformed CSV: {error}"
        raise CorpusError(message) from None
    return row


def read_parquet(source: Path) -> Located:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        message = f"{source}: reading Parquet needs pyarrow: pip install 'recommender[parquet]'"
        raise CorpusError(message) from None
    try:
        batches = pq.ParquetFile(source).iter_batches(batch_size=256)
        number = 0
        for batch in batches:
            for row in batch.to_pylist():
                number += 1
                yield f"{source}: row {number}", row
    except (OSError, ValueError) as error:  # pyarrow's errors derive from these
        message = f"{source}: cannot read Parquet: {error}"
        raise CorpusError(message) from error


def read_text_files(files: list[Path]) -> Located:
    return per_file(files, lambda text, path: _parse_text_file(text, default_id=path.stem))


def _parse_text_file(text: str, *, default_id: str) -> dict[str, Any]:
    """One article from a text file: optional ``---`` front matter, else the first line is the title."""
    from .markdown import parse_yaml

    record: dict[str, Any] = {"id": default_id}
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
        except StopIteration:
            message = "front matter opened with '---' on line 1 is never closed"
            raise ValueError(message) from None
        record.update(parse_yaml(lines[1:end]))
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
