"""WordPress exports (WXR ``.xml``): published posts with categories, tags, author, date and permalink.

Streamed item by item. Only ``post_type`` *post* with ``status`` *publish* is read; pages, attachments,
menu items, drafts, private and trashed posts are skipped and reported. The id is the post's slug
(``wp:post_name``), else ``post-<wp:post_id>``. The author is the display name from the export's author
list (else the login). The body is ``content:encoded`` with HTML, block comments and shortcodes removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._base import Located, Skip, html_to_text, iter_xml, local_name, namespace

__all__ = ["is_wxr", "read_wxr"]

_SHORTCODE = re.compile(r"\[/?[a-zA-Z][\w-]*(?:\s[^\]]*)?\]")


def is_wxr(head: str) -> bool:
    """Whether the start of an XML file declares the WordPress export namespace."""
    return "wordpress.org/export/" in head


def _key(tag: str) -> str:
    """Namespace-prefixed name as WordPress writes it: ``wp:post_type``, ``content:encoded``…"""
    uri = namespace(tag)
    name = local_name(tag)
    if "wordpress.org/export" in uri:
        return f"excerpt:{name}" if uri.rstrip("/").endswith("excerpt") else f"wp:{name}"
    if "purl.org/rss/1.0/modules/content" in uri:
        return f"content:{name}"
    if "purl.org/dc/elements" in uri:
        return f"dc:{name}"
    return name


def read_wxr(source: Path) -> Located:
    """Published posts of a WordPress export, in file order."""
    authors: dict[str, str] = {}
    number = 0
    for event, element in iter_xml(source, frozenset({"item", "author"})):
        if event != "end":
            continue
        if _key(element.tag) == "wp:author":
            fields = _fields(element)
            login = fields.get("wp:author_login", "")
            if login:
                authors[login] = fields.get("wp:author_display_name") or login
            continue
        if element.tag != "item":
            continue
        number += 1
        yield from _item(element, source, number, authors)


def _fields(element: Any) -> dict[str, str]:
    return {_key(child.tag): (child.text or "").strip() for child in element}


def _item(element: Any, source: Path, number: int, authors: dict[str, str]) -> Iterator[tuple[str, Any]]:
    fields = _fields(element)
    slug = fields.get("wp:post_name") or ""
    post_id = fields.get("wp:post_id") or ""
    location = f"{source}: item {number} ({slug or post_id or 'no slug'})"
    post_type = fields.get("wp:post_type", "post")
    if post_type != "post":
        yield location, Skip(f"post type {post_type!r}, not a post")
        return
    status = fields.get("wp:status", "publish")
    if status != "publish":
        yield location, Skip(f"status {status!r}, not published")
        return
    categories = [
        (child.text or "").strip()
        for child in element
        if child.tag == "category" and child.get("domain") == "category"
    ]
    tags = [
        (child.text or "").strip()
        for child in element
        if child.tag == "category" and child.get("domain") == "post_tag"
    ]
    login = fields.get("dc:creator", "")
    date = fields.get("wp:post_date", "")
    if not date or date.startswith("0000"):
        date = fields.get("wp:post_date_gmt", "")
    record: dict[str, Any] = {
        "id": slug or (f"post-{post_id}" if post_id else None),
        "title": fields.get("title", ""),
        "body": html_to_text(_SHORTCODE.sub("", fields.get("content:encoded", ""))),
        "date": date[:10] if date and not date.startswith("0000") else None,
        "author": authors.get(login, login) or None,
        "category": categories[0] if categories else None,
        "categories": categories,
        "tags": tags,
        "url": fields.get("link") or None,
        "post_id": post_id or None,
    }
    excerpt = html_to_text(fields.get("excerpt:encoded", ""))
    if excerpt:
        record["excerpt"] = excerpt
    yield location, record
