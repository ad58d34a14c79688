"""Saved article pages (``.html``): the article found by trafilatura, the site's related links by lxml.

trafilatura (optional extra ``html``) is a maintained main-content extractor: it drops menus, sidebars,
comment sections and footers, and reads title, author, date and canonical URL from the page's metadata.
It uses lxml, which we then use to keep the page's own "similar posts" block as ``site_related``
(``[{"title": …, "url": …}, …]``), found by its heading. The id is the file name without its extension.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ..types import CorpusError
from ._base import Located, Skip, per_file

__all__ = ["extract_page", "read_html"]

_RELATED_HEADING = re.compile(
    r"^\s*(?:similar posts?|related (?:posts?|articles?|stories)|you may also like|read more|more stories)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
#: Pages whose extracted text is shorter than this are not articles (tag pages, indexes, error pages).
MIN_WORDS = 20
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong", "header")


def _trafilatura() -> Any:
    try:
        import trafilatura
    except ImportError:
        message = "reading HTML pages needs trafilatura: pip install 'recommender[html]'"
        raise CorpusError(message) from None
    # Its own messages ("discarding data: None") name no file and ask nothing of the user; a page that
    # yields no article is reported by the reader, with its file. Left alone if the caller set a level.
    own = logging.getLogger("trafilatura")
    if own.level == logging.NOTSET:
        own.setLevel(logging.CRITICAL)
    return trafilatura


def extract_page(page: str, *, article_id: str) -> dict[str, Any] | None:
    """One article from a whole HTML page, or ``None`` when it holds no article (under ``MIN_WORDS``)."""
    trafilatura = _trafilatura()
    document = trafilatura.bare_extraction(
        page,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
        deduplicate=False,
    )
    if document is None or len((document.text or "").split()) < MIN_WORDS:
        return None
    title = document.title or ""
    body = document.text.strip()
    if title and body.startswith(title + "\n"):  # the page's <h1> repeats the title
        body = body[len(title) + 1 :].lstrip()
    record: dict[str, Any] = {"id": article_id, "title": title, "body": body}
    for name in ("author", "date", "url"):
        value = getattr(document, name, None)
        if value:
            record[name] = value
    if document.categories:
        record["category"] = document.categories[0]
    if document.tags:
        record["tags"] = list(document.tags)
    related = site_related(page)
    if related:
        record["site_related"] = related
    return record


def site_related(page: str) -> list[dict[str, str]]:
    """The links listed under the page's "similar posts" heading, each URL once, in page order."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(page)
    except (etree.LxmlError, ValueError):  # an empty or unparsable document
        return []
    for element in tree.iter(*_HEADINGS):
        if len(element) or not _RELATED_HEADING.match(element.text_content() or ""):
            continue
        container = element.getparent()
        while container is not None and not container.xpath(".//a[@href]"):
            container = container.getparent()
        if container is None:
            return []
        links: list[dict[str, str]] = []
        seen: set[str] = set()
        for anchor in container.xpath(".//a[@href]"):
            title = " ".join(anchor.text_content().split())
            url = anchor.get("href", "")
            if title and url not in seen:
                seen.add(url)
                links.append({"title": title, "url": url})
        return links
    return []


def read_html(files: list[Path]) -> Located:
    """Articles from saved HTML pages, one per file, in the order given."""
    _trafilatura()  # fail once, with the install hint, rather than once per page
    return per_file(files, _page_record)


def _page_record(page: str, path: Path) -> dict[str, Any] | Skip:
    record = extract_page(page, article_id=path.stem)
    if record is None:
        return Skip(f"no article text found (under {MIN_WORDS} words: an index, tag or empty page?)")
    return record
