"""What every source reader shares: the located-record protocol, byte opening, decoding, HTML to text.

A reader is a generator of ``(location, item)`` pairs. ``item`` is an article dict, a :class:`Problem`
(the record is broken: an error unless ``skip_invalid``) or a :class:`Skip` (left out on purpose, such as
a draft or an attachment: always reported, never an error). Readers hold one article at a time.
"""

from __future__ import annotations

import gzip
import html
import io
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

from ..types import CorpusError

__all__ = [
    "Located", "Problem", "Skip", "decode", "html_to_text", "iter_xml", "open_bytes", "per_file",
    "problem_text", "read_bytes", "undecodable",
]  # fmt: skip

Located = Iterator[tuple[str, Any]]


class Problem(str):
    """A record that could not be parsed; carries the reason instead of a record."""


class Skip(str):
    """A record left out on purpose (draft, unpublished, attachment…); carries the reason."""


def open_bytes(source: Path) -> IO[bytes]:
    """The file's bytes, gunzipped when it starts with the gzip magic; works on pipes (one open)."""
    try:
        raw = source.open("rb")
    except OSError as error:
        message = f"{source}: cannot read: {error}"
        raise CorpusError(message) from error
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return _Gunzipped(source, buffered)  # type: ignore[return-value]
    return buffered


def _named(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` with gzip's and zlib's errors for a damaged file turned into a CorpusError naming it."""

    def call(self: _Gunzipped, *args: Any) -> Any:
        try:
            return method(self, *args)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            message = f"{self.source}: compressed data is truncated or corrupt ({error})"
            raise CorpusError(message) from None

    return call


class _Gunzipped(gzip.GzipFile):
    """A gzip-compressed source: a truncated or corrupt stream is a CorpusError naming the file, wherever
    a reader meets it (the first bytes, a line in the middle, the checksum at the end)."""

    def __init__(self, source: Path, fileobj: IO[bytes]) -> None:
        super().__init__(fileobj=fileobj, mode="rb")
        self.source = source

    read = _named(gzip.GzipFile.read)
    read1 = _named(gzip.GzipFile.read1)
    readinto = _named(gzip.GzipFile.readinto)
    readinto1 = _named(gzip.GzipFile.readinto1)
    readline = _named(gzip.GzipFile.readline)
    peek = _named(gzip.GzipFile.peek)
    seek = _named(gzip.GzipFile.seek)


def read_bytes(source: Path) -> bytes:
    """The whole (gunzipped) file; for formats whose records are small files."""
    try:
        with open_bytes(source) as handle:
            data: bytes = handle.read()
    except (OSError, EOFError) as error:
        message = f"{source}: cannot read: {error}"
        raise CorpusError(message) from error
    return data


def decode(data: bytes, source: Path, *, base_offset: int = 0, line: int | None = None) -> str:
    """UTF-8 text, or a ``CorpusError`` naming the file, line and byte offset of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        where = f"{source}:{line}" if line is not None else str(source)
        raise CorpusError(undecodable(where, base_offset + error.start, error)) from None


def undecodable(where: str, offset: int, error: UnicodeDecodeError) -> str:
    """The message for bytes that are not UTF-8: where (file and line), the byte offset and the bytes."""
    bad = error.object[error.start : error.start + 4]
    return f"{where}: undecodable bytes at byte offset {offset} ({bad!r}); the file must be UTF-8"


def problem_text(error: CorpusError) -> str:
    """The reason part of a located error message (drops the leading ``location: ``)."""
    return str(error).split(": ", 1)[-1]


_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head"})


_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


class _TextCollector(HTMLParser):
    """Collects the visible text of an HTML fragment, with a line break at every block boundary."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            # A blank line is a paragraph break (WordPress stores paragraphs so); one line break is a space.
            paragraphs = _BLANK_LINE.split(data)
            self.parts.append("\n".join(paragraph.replace("\n", " ") for paragraph in paragraphs))


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (post content, feed entry): tags dropped, one paragraph a line.

    This strips markup from content that is already the article (WordPress, feeds); it does not look
    for the article inside a whole page (that is :mod:`recommender.sources.html`'s job).
    """
    if "<" not in fragment:
        return _tidy(html.unescape(fragment))
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return _tidy("".join(collector.parts))


def _tidy(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.replace("\xa0", " ").splitlines())
    return "\n\n".join(line for line in lines if line)


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    """``{namespace}name`` -> ``namespace`` (empty when there is none)."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def iter_xml(source: Path, wanted: frozenset[str]) -> Iterator[tuple[str, Any]]:
    """Stream ``(event, element)`` for the elements whose local name is in ``wanted``, once each is
    complete, then drop it from the tree, so memory holds one record (plus the document's header).

    Also yields ``("root", element)`` first, for the document element.
    """
    from xml.etree.ElementTree import ParseError, iterparse

    handle = open_bytes(source)
    stack: list[Any] = []
    try:
        with handle:
            for event, element in iterparse(handle, events=("start", "end")):
                if event == "start":
                    if not stack:
                        yield "root", element
                    stack.append(element)
                    continue
                stack.pop()
                if local_name(element.tag) in wanted:
                    yield "end", element
                    if stack:
                        stack[-1].remove(element)
    except ParseError as error:
        line, column = error.position
        message = f"{source}:{line}: malformed XML at column {column + 1}: {error.msg}"
        raise CorpusError(message) from None
    except (LookupError, UnicodeError) as error:  # an encoding the declaration names but Python lacks
        message = f"{source}: unreadable XML text ({error})"
        raise CorpusError(message) from None


def per_file(files: Iterable[Path], parse: Callable[[str, Path], Any]) -> Located:
    """One record per file: each file decoded as UTF-8 and given to ``parse(text, path)``; a file that
    cannot be read, or whose ``parse`` raises ``ValueError``, becomes a :class:`Problem` at its path."""
    for path in files:
        location = str(path)
        try:
            text = decode(read_bytes(path), path).lstrip("\ufeff")
            yield location, parse(text, path)
        except CorpusError as error:
            yield location, Problem(problem_text(error))
        except ValueError as error:
            yield location, Problem(str(error))
