"""Feeds: RSS 2.0 (``<rss><channel><item>``) and Atom (``<feed><entry>``), streamed entry by entry.

The body is the full content when the feed carries it (``content:encoded`` in RSS, ``<content>`` in
Atom), else the summary (``<description>`` / ``<summary>``), with HTML removed. The id is the path of
the entry's link (``https://site/2024/05/post/`` -> ``2024/05/post``), with its query when that names the
post (``https://site/?p=12`` -> ``site/?p=12``, ``index.php?p=12``), else its ``guid`` / ``<id>``.
Dates become ISO dates; categories become ``tags`` (the first also ``category``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._base import Located, Problem, html_to_text, iter_xml, local_name, namespace
from .dates import day_of

__all__ = ["read_atom", "read_rss"]

_ATOM = "http://www.w3.org/2005/Atom"


def read_rss(source: Path) -> Located:
    """Items of an RSS 2.0 feed, in file order."""
    number = 0
    for event, element in iter_xml(source, frozenset({"item"})):
        if event == "root":
            if local_name(element.tag) != "rss":
                message = f"the document element is <{local_name(element.tag)}>, not <rss>"
                yield str(source), Problem(message)
                return
            continue
        if namespace(element.tag):
            continue
        number += 1
        yield _rss_item(element, source, number)


def _rss_item(element: Any, source: Path, number: int) -> tuple[str, Any]:
    text: dict[str, str] = {}
    categories: list[str] = []
    for child in element:
        name = local_name(child.tag)
        uri = namespace(child.tag)
        value = (child.text or "").strip()
        if name == "category" and not uri:
            categories.append(value)
        elif name == "encoded" and "purl.org/rss/1.0/modules/content" in uri:
            text["content"] = value
        elif name == "creator" and "purl.org/dc" in uri:
            text.setdefault("author", value)
        elif not uri:
            text.setdefault(name, value)
    link = text.get("link", "")
    location = f"{source}: item {number} ({link or text.get('guid') or 'no link'})"
    article_id = _id_from(link, text.get("guid", ""))
    if article_id is None:
        return location, Problem("the item has no <link> or <guid> to use as its id")
    record: dict[str, Any] = {
        "id": article_id,
        "title": html_to_text(text.get("title", "")),
        "body": html_to_text(text.get("content") or text.get("description", "")),
        "date": _date(text.get("pubDate", "")),
        "author": text.get("author") or None,
        "url": link or None,
        "tags": categories,
        "category": categories[0] if categories else None,
    }
    return location, record


def read_atom(source: Path) -> Located:
    """Entries of an Atom feed, in file order."""
    number = 0
    for event, element in iter_xml(source, frozenset({"entry"})):
        if event == "root":
            if element.tag != f"{{{_ATOM}}}feed":
                message = f"the document element is {element.tag}, not an Atom <feed>"
                yield str(source), Problem(message)
                return
            continue
        if namespace(element.tag) != _ATOM:
            continue
        number += 1
        yield _atom_entry(element, source, number)


def _atom_entry(element: Any, source: Path, number: int) -> tuple[str, Any]:
    def child(name: str) -> Any:
        return element.find(f"{{{_ATOM}}}{name}")

    link = ""
    for candidate in element.findall(f"{{{_ATOM}}}link"):
        if candidate.get("rel", "alternate") == "alternate":
            link = candidate.get("href", "")
            break
    entry_id = (child("id").text or "").strip() if child("id") is not None else ""
    location = f"{source}: entry {number} ({link or entry_id or 'no link'})"
    article_id = _id_from(link, entry_id)
    if article_id is None:
        return location, Problem("the entry has no <link> or <id> to use as its id")
    author = element.find(f"{{{_ATOM}}}author/{{{_ATOM}}}name")
    tags = [c.get("term", "").strip() for c in element.findall(f"{{{_ATOM}}}category") if c.get("term")]
    published = child("published") if child("published") is not None else child("updated")
    content = child("content")
    if content is None or not _atom_text(content):
        content = child("summary")
    record: dict[str, Any] = {
        "id": article_id,
        "title": _atom_text(child("title")),
        "body": _atom_text(content),
        "date": _date((published.text or "") if published is not None else ""),
        "author": (author.text or "").strip() if author is not None else None,
        "url": link or None,
        "tags": tags,
        "category": tags[0] if tags else None,
    }
    return location, record


def _atom_text(element: Any) -> str:
    """An Atom text construct as plain text: ``type="text"``, ``"html"`` (escaped) or ``"xhtml"``."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        return " ".join(" ".join(element.itertext()).split())
    text = element.text or ""
    return html_to_text(text) if kind in ("html", "text/html") else " ".join(text.split())


_SCRIPT = re.compile(r"(?:^|/)[^/]+\.(?:php|asp|aspx|cgi|jsp|pl)$", re.IGNORECASE)


def _id_from(link: str, fallback: str) -> str | None:
    """The path of ``link`` without its slashes and page suffix; when the post is named by the query
    (WordPress's plain ``/?p=12``, ``index.php?p=12``), the path and query (``blog.example/?p=12``)."""
    if link:
        parts = urlsplit(link)
        path = parts.path.strip("/")
        if parts.query and (not path or _SCRIPT.search(path)):
            return f"{path}?{parts.query}" if path else f"{parts.netloc}/?{parts.query}"
        for suffix in (".html", ".htm", ".php"):
            path = path.removesuffix(suffix)
        if path:
            return path
        if parts.netloc:
            return parts.netloc
    return fallback.strip() or None


def _date(text: str) -> str | None:
    """An RFC 822 (RSS) or ISO 8601 (Atom) timestamp as an ISO date; other text is kept for validation."""
    return day_of(text)
