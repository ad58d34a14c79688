"""Page text dumps: the visible text of a scraped article page, one ``.txt`` file per page.

Such a dump mixes the article with page furniture. The cleaner reads it in four parts, top to bottom:

1. **Title**: the first non-empty line.
2. **Header**: lines before the body that repeat the title, short labels ("Without comment", a section
   name), a date line (kept as ``date``) and the byline ("By: A. Mahdavi", "By A. Mahdavi", "Written
   by …", "Author: …", kept as ``author``). With a byline, the body starts right after it; without one,
   at the first line of eight words or more.
3. **Body**: every line up to the first comment prompt ("There are no comments…", "Post a comment…",
   "Leave a reply", "N comments") or "similar posts" heading ("Similar post(s)", "Related posts/articles",
   "You may also like", "Read more"), whichever comes first. Paragraphs are kept, one per line.
4. **Tail**: after the similar-posts heading, each distinct title line (titles are often printed twice)
   with the date line below it becomes ``site_related``: ``[{"title": …, "date": …}, …]``, so the site's own
   links can be compared with ours. Comment prompts and other furniture are dropped.

The id is the file name without its extension.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import dates
from ._base import Located, per_file

__all__ = ["clean_page_text", "looks_like_page_text", "read_page_text"]

_BYLINE = re.compile(r"^(?:by|written by|author)\s*[:\-–—]?\s+(?P<name>\S.{0,60})$", re.IGNORECASE)
# A comment prompt is a line of its own: a count ("3 comments", "Comments (3)") is the whole line, a phrase
# starts a short line ("There are no comments for this article"); never the start of a sentence of the body.
_COMMENT_COUNT = re.compile(r"^(?:\d+\s+comments?|comments?(?:\s*\(\d+\))?)\s*:?$", re.IGNORECASE)
_COMMENT_PHRASE = re.compile(
    r"^(?:there are no comments|no comments yet|post a comment|leave a (?:reply|comment)|add a comment)\b",
    re.IGNORECASE,
)
_RELATED_HEADING = re.compile(
    r"^(?:similar posts?|follow the similar posts|related (?:posts?|articles?|stories)|you may also like"
    r"|read more|more (?:on this|from this) (?:topic|section))\s*:?$",
    re.IGNORECASE,
)
_PARAGRAPH_WORDS = 8
_LABEL_WORDS = 4


def parse_date(line: str) -> str | None:
    """A line that is only a date (``"Jul 22 2024"``, ``"22 July 2024"``, ``"2024-07-22"``, any format
    :mod:`recommender.sources.dates` reads) as an ISO day, else ``None``."""
    try:
        return dates.parse_date(line.strip())[:10]
    except dates.DateError:
        return None


def _comment_prompt(line: str) -> bool:
    """Whether ``line`` is a comment prompt: a whole short line, not a sentence starting with the words."""
    if _COMMENT_COUNT.match(line):
        return True
    return bool(_COMMENT_PHRASE.match(line)) and len(line.split()) < _PARAGRAPH_WORDS


def looks_like_page_text(text: str) -> bool:
    """Whether a text file has the marks of a scraped page (a byline near the top, comment prompts…)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    top = lines[:12]
    return any(_BYLINE.match(line) for line in top) or any(
        _comment_prompt(line) or _RELATED_HEADING.match(line) for line in lines
    )


def clean_page_text(text: str, *, article_id: str) -> dict[str, Any]:
    """One article from a page text dump (see the module docstring for the rules)."""
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    content = [i for i, line in enumerate(lines) if line]
    if not content:
        message = "the page is empty"
        raise ValueError(message)
    title = lines[content[0]]
    record: dict[str, Any] = {"id": article_id, "title": title}
    start = _body_start(lines, content[0] + 1, title, record)
    end = len(lines)
    related_at: int | None = None
    for i in range(start, len(lines)):
        if _comment_prompt(lines[i]) or _RELATED_HEADING.match(lines[i]):
            end = i
            break
    for i in range(end, len(lines)):
        if _RELATED_HEADING.match(lines[i]):
            related_at = i
            break
    record["body"] = "\n\n".join(line for line in lines[start:end] if line)
    if related_at is not None:
        record["site_related"] = _related_block(lines[related_at + 1 :])
    return record


def _body_start(lines: list[str], first: int, title: str, record: dict[str, Any]) -> int:
    """Index of the body's first line; fills ``author`` and ``date`` from the header on the way."""
    for i in range(first, min(len(lines), first + 15)):
        match = _BYLINE.match(lines[i])
        if match is not None:
            record["author"] = match["name"].strip()
            _header_date(lines[first:i], record)
            return i + 1
    for i in range(first, len(lines)):
        line = lines[i]
        if line and line != title and len(line.split()) >= _PARAGRAPH_WORDS:
            _header_date(lines[first:i], record)
            return i
    return first


def _header_date(header: list[str], record: dict[str, Any]) -> None:
    for line in header:
        date = parse_date(line)
        if date is not None:
            record["date"] = date
            return


def _related_block(lines: list[str]) -> list[dict[str, Any]]:
    """Titles and dates of the site's similar-posts block, each title once, in page order."""
    related: list[dict[str, Any]] = []
    for line in lines:
        if not line or _RELATED_HEADING.match(line) or _comment_prompt(line):
            continue
        date = parse_date(line)
        if date is not None:
            if related and related[-1]["date"] is None:
                related[-1]["date"] = date
            continue
        if related and related[-1]["title"] == line and related[-1]["date"] is None:
            continue  # the title printed twice (image caption and link)
        related.append({"title": line, "date": None})
    return related


def read_page_text(files: list[Path]) -> Located:
    """Articles from page text dumps, one per file, in the order given."""
    return per_file(files, lambda text, path: clean_page_text(text, article_id=path.stem))
