"""Related links for every article of a saved model, as JSON, CSV or HTML "Similar posts" blocks.

Works from a loaded ``Index`` (numpy and stdlib only), so a publishing server can export without the
training stack. Output is deterministic and written atomically.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from .lookup import Index, check_k
from .types import InvalidParameterError, Neighbor

__all__ = ["EXPORT_FORMATS", "export_links", "iter_links", "render_html", "safe_url"]

EXPORT_FORMATS = ("json", "csv", "html")
CSV_COLUMNS = ("article_id", "rank", "related_id", "score", "title", "date", "url")


def iter_links(index: Index, *, k: int = 8, explain: bool = False) -> Iterator[tuple[str, list[Neighbor]]]:
    """Every article id with its related links (with shared terms when ``explain``), in model order."""
    k = check_k(k)
    for article_id in index:
        yield article_id, index.related(article_id, k=k, explain=explain)


def export_links(
    index: Index, path: str | os.PathLike[str], *, format: str = "json", k: int = 8, explain: bool = False
) -> Path:
    """Write every article's related links to ``path`` in ``format`` (json, csv or html).

    ``explain=True`` (JSON only) adds each link's ``terms``: shared words and their share of the score.
    """
    if format not in EXPORT_FORMATS:
        message = f"unknown export format {format!r}; use one of {', '.join(EXPORT_FORMATS)}"
        raise InvalidParameterError(message)
    if explain and format != "json":
        message = f"explanations are exported as JSON only, not {format}; use --format json"
        raise InvalidParameterError(message)
    links = list(iter_links(index, k=k, explain=explain))
    if format == "json":
        text = _to_json(links)
    elif format == "csv":
        text = _to_csv(links)
    else:
        text = render_html(index, links)
    return _write_atomically(Path(path), text)


def _to_json(links: list[tuple[str, list[Neighbor]]]) -> str:
    data = {article_id: [_link_dict(link) for link in related] for article_id, related in links}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _link_dict(link: Neighbor) -> dict[str, object]:
    data = link.to_dict()
    data["score"] = round(link.score, 6)
    return data


def _to_csv(links: list[tuple[str, list[Neighbor]]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for article_id, related in links:
        for link in related:
            writer.writerow(
                [
                    article_id,
                    link.rank,
                    link.article_id,
                    f"{link.score:.6f}",
                    link.title,
                    link.date or "",
                    link.url or "",
                ]
            )
    return buffer.getvalue()


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else ``None`` (never link ``javascript:`` and the like)."""
    if not url:
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


def render_html(index: Index, links: list[tuple[str, list[Neighbor]]]) -> str:
    """A standalone HTML page holding one "Similar posts" block per article, every text escaped."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><title>Similar posts</title></head>',
        "<body>",
    ]
    for article_id, related in links:
        title = index.article(article_id).get("title") or article_id
        parts.append(
            f'<section class="similar-posts" data-article-id="{html.escape(article_id, quote=True)}">'
        )
        parts.append(f"  <!-- {html.escape(title).replace('--', '- -')} -->")
        parts.append("  <h2>Similar posts</h2>")
        parts.append("  <ul>")
        for link in related:
            parts.append("    " + _html_item(link))
        parts.append("  </ul>")
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _html_item(link: Neighbor) -> str:
    text = html.escape(link.title or link.article_id)
    url = safe_url(link.url)
    anchor = f'<a href="{html.escape(url, quote=True)}">{text}</a>' if url else f"<span>{text}</span>"
    date = ""
    if link.date:
        shown = html.escape(_display_date(link.date))
        date = f' <time datetime="{html.escape(link.date, quote=True)}">{shown}</time>'
    return f'<li data-article-id="{html.escape(link.article_id, quote=True)}">{anchor}{date}</li>'


def _write_atomically(path: Path, text: str) -> Path:
    if path.is_dir():
        message = f"{path}: is a folder; give a file name for the export"
        raise InvalidParameterError(message)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
