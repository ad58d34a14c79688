"""Reading and validating article sources into one pandas DataFrame (or a stream of records).

Sources: JSON Lines, JSON arrays, CSV and Parquet files (each optionally gzip-compressed), a folder of
``.txt``/``.md`` files, and the publisher formats of :mod:`recommender.sources` (scraped page text, HTML
pages, Hugo/Jekyll Markdown, WordPress WXR, RSS and Atom), a DataFrame, or an iterable of dicts. Every
problem is reported with the file and line (or record) it comes from; nothing is dropped unless
``skip_invalid`` is set, and then each skipped record is reported in ``frame.attrs["skipped"]``. Records a
source leaves out on purpose (drafts, unpublished posts, list pages) are reported there too.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..types import CorpusError, EmptyCorpusError
from . import FORMATS
from ._base import Located, Problem, Skip, decode, open_bytes, per_file, problem_text

__all__ = ["FIELDS", "FORMATS", "SkippedRecord", "iter_articles", "load_articles", "read_articles"]

log = logging.getLogger(__name__)

#: Known columns, in output order. Anything else a source carries is kept after them as metadata.
FIELDS = ("id", "title", "body", "date", "author", "category", "tags", "url")
#: Formats read from a folder of files (one article a file); a single such file is read too.
_FILE_PER_ARTICLE = {
    "text": (".txt", ".md", ".markdown"),
    "page-text": (".txt",),
    "html": (".html", ".htm"),
    "markdown": (".md", ".markdown"),
}
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rss": "rss",
    ".atom": "atom",
}
_SITE_MARKERS = (
    "config.toml",
    "hugo.toml",
    "hugo.yaml",
    "config.yaml",
    "_config.yml",
    "_posts",
    "archetypes",
)
_MAX_REPORTED = 5


@dataclass(frozen=True)
class SkippedRecord:
    """A record left out: where it was and why (``invalid`` is False for drafts and other non-articles)."""

    location: str
    reason: str
    invalid: bool = True

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


PathLike = str | os.PathLike[str]
Sources = PathLike | Sequence[PathLike]
Articles = pd.DataFrame | PathLike | Iterable[Mapping[str, Any]]


def read_articles(
    path: Sources, *, format: str | None = None, skip_invalid: bool = False, include_drafts: bool = False
) -> pd.DataFrame:
    """Read one or more corpus files or folders into a validated DataFrame, one row per article.

    Parameters
    ----------
    path:
        A file or folder, or a list of them (read in order, ids unique across all). Files: ``.jsonl``,
        ``.json``, ``.csv``, ``.parquet`` (``.gz`` allowed), ``.html``, ``.md``, ``.xml`` (WordPress WXR,
        RSS or Atom, told apart by content), ``.rss``, ``.atom``. Folders: ``.txt``/``.md`` files, scraped
        page text dumps, saved ``.html`` pages or a Hugo/Jekyll content folder (told apart by content).
    format:
        One of :data:`FORMATS` to override the guess, for every source given.
    skip_invalid:
        Leave out bad records instead of failing; each is listed in ``frame.attrs["skipped"]``.
    include_drafts:
        Read Markdown drafts (``draft: true``, ``published: false``, ``_drafts/``) too.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, title, body, date, author, category, tags, url``, then any other fields.
        ``attrs["skipped"]`` lists every :class:`SkippedRecord`; ``attrs["formats"]`` maps each source
        to the format read.

    Raises
    ------
    CorpusError
        Naming the file and line (or record) and what is wrong.
    """
    sources = _sources(path)
    kinds = {source: _resolve_format(source, format) for source in sources}
    located = _all_located(kinds, include_drafts=include_drafts)
    frame = _validate(located, ", ".join(map(str, sources)), skip_invalid=skip_invalid)
    frame.attrs["formats"] = {str(source): kind for source, kind in kinds.items()}
    return frame


def iter_articles(
    path: Sources,
    *,
    format: str | None = None,
    skip_invalid: bool = False,
    include_drafts: bool = False,
    skipped: list[SkippedRecord] | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream validated articles (dicts with the :data:`FIELDS` and any extras), one at a time.

    Memory holds one article plus the ids seen so far (to catch duplicates), so a corpus of any size can
    be read. Records left out are appended to ``skipped`` when given. Unless ``skip_invalid``, a
    :class:`CorpusError` listing the bad records is raised once the whole source has been read.
    """
    sources = _sources(path)
    kinds = {source: _resolve_format(source, format) for source in sources}
    located = _all_located(kinds, include_drafts=include_drafts)
    yield from _validated(located, ", ".join(map(str, sources)), skip_invalid=skip_invalid, skipped=skipped)


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


# --- sources: each yields (location, record, Problem or Skip) ---------------------------------------


def _sources(path: Sources) -> list[Path]:
    paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
    if not paths:
        message = "no corpus given: pass a file or folder"
        raise CorpusError(message)
    for number, source in enumerate(paths):
        if not source.exists():
            message = f"{source}: no such file or folder"
            raise CorpusError(message)
        if source in paths[:number]:
            message = f"{source}: given twice; list each source once"
            raise CorpusError(message)
    return paths


def _resolve_format(source: Path, format: str | None) -> str:
    kind = format or _guess_format(source)
    if kind not in FORMATS:
        message = f"{source}: unknown format {kind!r}; use one of {', '.join(FORMATS)}"
        raise CorpusError(message)
    if source.is_dir() and kind not in _FILE_PER_ARTICLE:
        message = f"{source}: is a folder; format {kind!r} expects a file"
        raise CorpusError(message)
    if kind == "text" and not source.is_dir() and source.suffix.lower() not in _FILE_PER_ARTICLE["text"]:
        message = f"{source}: format 'text' expects a folder of .txt/.md files (or one such file)"
        raise CorpusError(message)
    return kind


def _all_located(kinds: dict[Path, str], *, include_drafts: bool) -> Located:
    for source, kind in kinds.items():
        yield from _located(source, kind, include_drafts=include_drafts)


def _located(source: Path, kind: str, *, include_drafts: bool) -> Located:
    from . import feeds, html, markdown, pagetext, wxr

    if kind in _FILE_PER_ARTICLE:
        files = _files(source, _FILE_PER_ARTICLE[kind]) if source.is_dir() else [source]
        root = source if source.is_dir() else source.parent
        if kind == "page-text":
            return pagetext.read_page_text(files)
        if kind == "html":
            return html.read_html(files)
        if kind == "markdown":
            return markdown.read_markdown(files, root=root, include_drafts=include_drafts)
        return _read_text_files(files)
    readers = {
        "jsonl": _read_jsonl,
        "json": _read_json,
        "csv": _read_csv,
        "parquet": _read_parquet,
        "wxr": wxr.read_wxr,
        "rss": feeds.read_rss,
        "atom": feeds.read_atom,
    }
    return readers[kind](source)


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under ``folder`` with one of ``suffixes``, sorted, skipping hidden files and folders."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _guess_format(source: Path) -> str:
    if source.is_dir():
        return _guess_folder(source)
    name = source.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in (".xml", ".rss", ".atom"):
        return _guess_xml(source)
    if suffix == ".txt":
        head = _head(source)
        from .pagetext import looks_like_page_text

        return "page-text" if looks_like_page_text(head) else "text"
    kind = _EXTENSIONS.get(suffix)
    if kind is None:
        message = (
            f"{source}: cannot tell the format from the file name; pass format= one of {', '.join(FORMATS)}"
        )
        raise CorpusError(message)
    return kind


def _guess_folder(folder: Path) -> str:
    """Hugo/Jekyll site, saved HTML pages, scraped page text, or plain text files, from what is inside."""
    if any((folder / marker).exists() for marker in _SITE_MARKERS):
        return "markdown"
    html_files = _files(folder, _FILE_PER_ARTICLE["html"])
    text_files = _files(folder, (".txt",))
    markdown_files = _files(folder, _FILE_PER_ARTICLE["markdown"])
    if html_files and not text_files and not markdown_files:
        return "html"
    if markdown_files and not text_files:
        return "markdown"
    if text_files and not markdown_files:
        from .pagetext import looks_like_page_text

        if any(looks_like_page_text(_head(path)) for path in text_files[:5]):
            return "page-text"
    return "text"


def _guess_xml(source: Path) -> str:
    from .wxr import is_wxr

    head = _head(source, 4096)
    if is_wxr(head):
        return "wxr"
    if "<rss" in head:
        return "rss"
    if "<feed" in head:
        return "atom"
    message = (
        f"{source}: XML that is neither a WordPress export, an RSS nor an Atom feed; "
        "pass format= wxr, rss or atom if it is one"
    )
    raise CorpusError(message)


def _head(source: Path, size: int = 8192) -> str:
    """The first ``size`` bytes of a file as text (for sniffing its format)."""
    with open_bytes(source) as handle:
        return handle.read(size).decode("utf-8", errors="replace")


def _read_jsonl(source: Path) -> Located:
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
                yield location, Problem(f"malformed JSON: {error.msg} at column {error.colno}")
                continue
            yield location, record


_JSON_CHUNK = 1 << 18


def _read_json(source: Path) -> Located:
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


def _read_csv(source: Path) -> Located:
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


def _read_parquet(source: Path) -> Located:
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


def _read_text_files(files: list[Path]) -> Located:
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


# --- validation -------------------------------------------------------------------------------------


def _validated(
    located: Iterable[tuple[str, Any]],
    source: str,
    *,
    skip_invalid: bool,
    skipped: list[SkippedRecord] | None = None,
) -> Iterator[dict[str, Any]]:
    """Clean rows, one at a time; problems are collected and raised at the end unless ``skip_invalid``."""
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
        count += 1
        yield row
    if problems and not skip_invalid:
        raise CorpusError(_summarise(source, problems, duplicates))
    left_out.extend(problems)
    for problem in left_out:
        log.debug("skipped %s", problem)
    if not count:
        message = f"{source}: no articles found" if not problems else f"{source}: every record was invalid"
        if left_out and not problems:
            message += f" ({len(left_out)} left out, first: {left_out[0]})"
        raise EmptyCorpusError(message)


def _validate(located: Iterable[tuple[str, Any]], source: str, *, skip_invalid: bool) -> pd.DataFrame:
    skipped: list[SkippedRecord] = []
    rows = list(_validated(located, source, skip_invalid=skip_invalid, skipped=skipped))
    frame = _to_frame(rows)
    frame.attrs["source"] = source
    frame.attrs["skipped"] = skipped
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
        return value.strip() or None  # a blank date is no date
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
    # Object columns keep a missing value as None (pandas 3 would turn it into NaN in a text column).
    return pd.DataFrame(data, columns=columns, dtype=object)
