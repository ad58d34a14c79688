"""Related links for every article of a saved model: JSON, JSON Lines, CSV, HTML and static-site data.

Works from a loaded ``Index`` (numpy and stdlib only), so a publishing server can export without the
training stack. Output is deterministic (same model, settings and overrides give the same bytes) and
written atomically; per-article files get safe names that never leave the output folder. Folder exports
replace only the files they wrote (see ``export_files``): the user's own files there are never touched.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import html
import io
import json
import os
import re
import string
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..serve.index import Index
from ..serve.overrides import Overrides
from ..settings import check_k
from ..text.printable import CONTROL, json_escaped, printable
from ..types import InvalidParameterError, Neighbor
from .export_files import write_file, write_folder

__all__ = [
    "DEFAULT_TEMPLATE",
    "EXPORT_FORMATS",
    "export_links",
    "iter_links",
    "load_template",
    "render_block",
    "render_html",
    "render_links",
    "safe_file_name",
    "safe_url",
]

EXPORT_FORMATS = ("json", "jsonl", "csv", "html", "hugo", "jekyll")
# "similarity" came last (after 0.1.0), so that readers of the older columns by position still work.
CSV_COLUMNS = ("article_id", "rank", "related_id", "score", "reason", "title", "url", "date", "similarity")
#: Data folder of each static-site generator, relative to the site root given as the output path.
SITE_FOLDERS = {"hugo": Path("data") / "related", "jekyll": Path("_data") / "related"}
#: The default "Similar posts" block; ``$article_id``, ``$title`` and ``$links`` are filled in.
DEFAULT_TEMPLATE = """<section class="similar-posts" data-article-id="$article_id">
  <!-- $title -->
  <h2>Similar posts</h2>
  <ul>
$links
  </ul>
</section>"""
TEMPLATE_FIELDS = ("article_id", "title", "url", "date", "links", "count")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def iter_links(
    index: Index, *, k: int = 8, explain: bool = False, overrides: Overrides | None = None, **controls: Any
) -> Iterator[tuple[str, list[Neighbor]]]:
    """Every article id with its related links, in model order (disabled articles left out).

    ``explain=True`` adds each link's shared terms and their share of the score.
    """
    return index.related_many(k=check_k(k), explain=explain, overrides=overrides, **controls)


def export_links(
    index: Index,
    path: str | os.PathLike[str],
    *,
    format: str = "json",
    k: int = 8,
    explain: bool = False,
    overrides: Overrides | None = None,
    per_article: bool = False,
    template: str | os.PathLike[str] | None = None,
    progress: bool = False,
    **controls: Any,
) -> Path:
    """Write every article's related links to ``path`` and return it.

    ``format`` is json (one object id → links), jsonl, csv (long), html (one page, or with
    ``per_article`` one fragment per article in the folder ``path``), hugo or jekyll (``path`` is the
    site root; files go to ``data/related/`` or ``_data/related/``; a folder export refuses to overwrite
    a file it did not write and removes only its own files that are no longer produced). ``template`` is a
    ``string.Template`` file for the HTML block. Ranking ``controls`` and ``overrides`` apply as in
    ``Index.related``; ``progress`` shows a progress bar on standard error. ``explain=True`` (json and
    jsonl only) adds each link's ``terms``: shared words and their share of the score.
    """
    _check_export(format, explain=explain, per_article=per_article, template=template)
    target = Path(path)
    if format not in SITE_FOLDERS and not per_article:
        text = render_links(
            index,
            format=format,
            k=k,
            explain=explain,
            overrides=overrides,
            template=template,
            progress=progress,
            **controls,
        )
        return write_file(target, text)
    block = _template(template)
    links = _all_links(index, progress, k=k, explain=explain, overrides=overrides, **controls)
    if format in SITE_FOLDERS:
        files = {f"{safe_file_name(a)}.json": _site_json(a, related) for a, related in links}
        return write_folder(target / SITE_FOLDERS[format], files, export_format=format)
    files = {f"{safe_file_name(a)}.html": _block(index, a, related, block) + "\n" for a, related in links}
    return write_folder(target, files, export_format="html")


def render_links(
    index: Index,
    *,
    format: str = "json",
    k: int = 8,
    explain: bool = False,
    overrides: Overrides | None = None,
    template: str | os.PathLike[str] | None = None,
    progress: bool = False,
    **controls: Any,
) -> str:
    """Every article's related links as the text :func:`export_links` writes to one file (json, jsonl,
    csv or html): for standard output or a caller's own storage."""
    _check_export(format, explain=explain, per_article=False, template=template)
    if format in SITE_FOLDERS:
        message = f"a {format} export is a folder of files, not one text; give a site folder to write to"
        raise InvalidParameterError(message)
    block = _template(template)
    links = _all_links(index, progress, k=k, explain=explain, overrides=overrides, **controls)
    if format == "json":
        return _to_json(links)
    if format == "jsonl":
        return "".join(
            _json_text({"article_id": a, "links": [_link_dict(x) for x in related]}, indent=None) + "\n"
            for a, related in links
        )
    if format == "csv":
        return _to_csv(links)
    return render_html(index, links, template=block)


def _check_export(
    format: str, *, explain: bool, per_article: bool, template: str | os.PathLike[str] | None
) -> None:
    """A clear error for a format and options that do not go together, before any work."""
    if format not in EXPORT_FORMATS:
        message = f"unknown export format {format!r}; use one of {', '.join(EXPORT_FORMATS)}"
        raise InvalidParameterError(message)
    if explain and format not in ("json", "jsonl"):
        message = f"explanations are exported as JSON only, not {format}; use --format json or jsonl"
        raise InvalidParameterError(message)
    if per_article and format != "html":
        message = "per_article applies to the html format (hugo and jekyll always write one file per article)"
        raise InvalidParameterError(message)
    if template is not None and format != "html":
        message = "a template applies to the html format; add format='html' (--format html)"
        raise InvalidParameterError(message)


def _template(template: str | os.PathLike[str] | None) -> string.Template:
    return load_template(template) if template is not None else string.Template(DEFAULT_TEMPLATE)


def _all_links(index: Index, progress: bool, **options: Any) -> list[tuple[str, list[Neighbor]]]:
    """Every article's links (:func:`iter_links` with ``options``), with a progress bar if asked."""
    return list(_progress(iter_links(index, **options), len(index), progress))


def _progress(items: Iterator[Any], total: int, enabled: bool) -> Iterable[Any]:
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # the progress bar is an optional extra: pip install 'recommender[progress]'
        return items
    bar: Iterable[Any] = tqdm(items, total=total, unit="article", file=sys.stderr, leave=False)
    return bar


def safe_file_name(article_id: str) -> str:
    """A file name (no extension) for ``article_id`` that stays inside its folder.

    Letters, digits, ``.``, ``_`` and ``-`` are kept; anything else (``/``, ``..``, spaces) is replaced,
    and a changed name gets a short hash of the id so that distinct ids never share a file.
    """
    cleaned = _UNSAFE.sub("_", article_id).lstrip(".")[:100]
    if cleaned == article_id and cleaned:
        return cleaned
    digest = hashlib.sha256(article_id.encode("utf-8")).hexdigest()[:10]
    return f"{cleaned or 'article'}-{digest}"


def load_template(path: str | os.PathLike[str]) -> string.Template:
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = f"{file_path}: cannot read the template ({error})"
        raise InvalidParameterError(message) from None
    template = string.Template(text)
    bad = sorted(set(template.get_identifiers()) - set(TEMPLATE_FIELDS)) if template.is_valid() else None
    if bad is None or bad:
        problem = f"unknown placeholder(s) ${', $'.join(bad)}" if bad else "invalid placeholder syntax"
        message = f"{file_path}: {problem}; use $$ for a dollar sign and only ${', $'.join(TEMPLATE_FIELDS)}"
        raise InvalidParameterError(message)
    return template


def _site_json(article_id: str, related: list[Neighbor]) -> str:
    data = {"article_id": article_id, "links": [_link_dict(link) for link in related]}
    return _json_text(data, indent=2) + "\n"


def _to_json(links: list[tuple[str, list[Neighbor]]]) -> str:
    data = {article_id: [_link_dict(link) for link in related] for article_id, related in links}
    return _json_text(data, indent=2) + "\n"


def _link_dict(link: Neighbor) -> dict[str, object]:
    data = link.to_dict()
    data["score"] = round(link.score, 6)
    data["similarity"] = round(link.similarity, 6)
    return data


def _to_csv(links: list[tuple[str, list[Neighbor]]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for article_id, related in links:
        for link in related:
            writer.writerow(
                [
                    printable(article_id),
                    link.rank,
                    printable(link.article_id),
                    f"{link.score:.6f}",
                    link.reason,
                    printable(link.title),
                    printable(link.url or ""),
                    printable(link.date or ""),
                    f"{link.similarity:.6f}",
                ]
            )
    return buffer.getvalue()


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else ``None`` (never link ``javascript:`` and the like)."""
    if not url or CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def _display_date(date: str | None) -> str:
    """``2024-07-22`` as ``Jul 22 2024``, the way the seed page shows dates; other text unchanged."""
    if not date:
        return ""
    try:
        return _dt.date.fromisoformat(date[:10]).strftime("%b %d %Y")
    except ValueError:
        return date


def render_html(
    index: Index, links: list[tuple[str, list[Neighbor]]], *, template: string.Template | None = None
) -> str:
    """A standalone HTML page holding one "Similar posts" block per article, every text escaped."""
    block = template or string.Template(DEFAULT_TEMPLATE)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><title>Similar posts</title></head>',
        "<body>",
    ]
    parts += [_block(index, article_id, related, block) for article_id, related in links]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render_block(
    index: Index, article_id: str, related: list[Neighbor], *, template: string.Template | None = None
) -> str:
    """One article's "Similar posts" block, as ``export --format html`` writes it (every text escaped)."""
    return _block(index, article_id, related, template or string.Template(DEFAULT_TEMPLATE))


def _block(index: Index, article_id: str, related: list[Neighbor], template: string.Template) -> str:
    meta = index.article(article_id)
    title = meta.get("title") or article_id
    return template.substitute(
        article_id=_html(article_id),
        title=_html(title).replace("--", "- -"),
        url=_html(safe_url(meta.get("url")) or ""),
        date=_html(meta.get("date") or ""),
        links="\n".join("    " + _html_item(link) for link in related),
        count=str(len(related)),
    )


def _html_item(link: Neighbor) -> str:
    text = _html(link.title or link.article_id)
    url = safe_url(link.url)
    anchor = f'<a href="{_html(url)}">{text}</a>' if url else f"<span>{text}</span>"
    date = ""
    if link.date:
        date = f' <time datetime="{_html(link.date)}">{_html(_display_date(link.date))}</time>'
    item = f'<li data-article-id="{_html(link.article_id)}" data-reason="{_html(link.reason)}">'
    return f"{item}{anchor}{date}</li>"


def _json_text(data: Any, *, indent: int | None) -> str:
    """``data`` as JSON, non-ASCII text readable, no control character raw (see ``json_escaped``)."""
    return json_escaped(json.dumps(data, ensure_ascii=False, indent=indent))


def _html(text: str) -> str:
    """Text or an attribute value for HTML: markup escaped, control characters shown as escapes."""
    return html.escape(printable(text), quote=True)
