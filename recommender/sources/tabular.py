"""Readers of tabular and plain-text corpora: JSON Lines, JSON arrays, CSV, Parquet, folders of text files.

Each yields ``(location, record)`` pairs (see :mod:`._base`), a :class:`Problem` in place of a record it
cannot read, so that validation can report every bad record with its file and line.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..types import CorpusError
from ._base import Located, Problem, decode, open_bytes, per_file, problem_text

__all__ = ["read_csv", "read_json", "read_jsonl", "read_parquet", "read_text_files"]


def read_jsonl(source: Path) -> Located:
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
                record = json.loads(text)
            except json.JSONDecodeError as error:
                where = (
                    "the end of the line"
                    if error.pos >= len(text.rstrip("\r\n"))
                    else f"column {error.colno}"
                )
                yield location, Problem(f"malformed JSON: {error.msg} at {where}")
                continue
            yield location, record


_JSON_CHUNK = 1 << 18


def read_json(source: Path) -> Located:
    """A JSON array of articles, decoded one element at a time from a sliding buffer."""
    with open_bytes(source) as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8")
        yield from _JsonArrayReader(stream, source)


class _JsonArrayReader:
    """Walks a JSON array element by element, holding one element plus one chunk of text."""

    def __init__(self, stream: io.TextIOWrapper, source: Path) -> None:
        self.stream = stream
        self.source = source
        self.text = ""
        self.position = 0
        self.line = 1  # line number of self.position
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.stream.read(_JSON_CHUNK)
        except UnicodeDecodeError as error:
            message = f"{self.source}: undecodable bytes ({error.reason}); the file must be UTF-8"
            raise CorpusError(message) from None
        if not chunk:
            self.eof = True
            return False
        self.text = self.text[self.position :] + chunk
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
        if self._skip_space() == "]":
            return
        while True:
            self._skip_space()
            record, end = self._decode_one()
            yield f"{self.source}:{self.line}", record
            self.line += self.text.count("\n", self.position, end)
            self.position = end
            following = self._skip_space()
            if following == ",":
                self.position += 1
                continue
            if following == "]":
                return
            message = f"{self.source}:{self.line}: malformed JSON: expected ',' or ']' after an article"
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


def read_csv(source: Path) -> Located:
    csv.field_size_limit(2**31 - 1)
    with open_bytes(source) as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            yield from _csv_rows(csv.reader(stream), source)
        except UnicodeDecodeError as error:
            message = f"{source}: undecodable bytes ({error.reason}); the file must be UTF-8"
            raise CorpusError(message) from None


def _csv_rows(reader: Any, source: Path) -> Located:
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
            yield location, Problem(f"expected {len(names)} columns as in the header, found {len(row)}")
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
    from .markdown import parse_yaml_subset

    record: dict[str, Any] = {"id": default_id}
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
        except StopIteration:
            message = "front matter opened with '---' on line 1 is never closed"
            raise ValueError(message) from None
        record.update(parse_yaml_subset(lines[1:end]))
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
