"""Reading and validating article sources into one pandas DataFrame (or a stream of records).

Sources: JSON Lines, JSON arrays, CSV and Parquet files (each optionally gzip-compressed), a folder of
``.txt``/``.md`` files, and the publisher formats of :mod:`recommender.sources` (scraped page text, HTML
pages, Hugo/Jekyll Markdown, WordPress WXR, RSS and Atom), a DataFrame, or an iterable of dicts. Every
problem is reported with the file and line (or record) it comes from; nothing is dropped unless
``skip_invalid`` is set, and then each skipped record is reported in ``frame.attrs["skipped"]``. Records a
source leaves out on purpose (drafts, unpublished posts, list pages) are reported there too.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..types import CorpusError
from . import FORMATS, tabular
from ._base import Located, Skip, open_bytes
from .validate import FIELDS, SkippedRecord, still_valid, validate, validated

__all__ = [
    "FIELDS",
    "FORMATS",
    "SkippedRecord",
    "iter_articles",
    "load_articles",
    "paths_given",
    "read_articles",
]

log = logging.getLogger(__name__)

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

PathLike = str | os.PathLike[str]
Sources = PathLike | Sequence[PathLike]
Articles = pd.DataFrame | PathLike | Iterable[Mapping[str, Any]]


def read_articles(
    path: Sources,
    *,
    format: str | None = None,
    skip_invalid: bool = False,
    include_drafts: bool = False,
    date_format: str | None = None,
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
    date_format:
        How the corpus writes dates when not in a format read by default (ISO 8601, RFC 2822,
        "July 24, 2024", "24 July 2024"): a ``strptime`` pattern such as ``%d/%m/%Y``, or ``unix``.
        A date read by neither is an error naming the record (or a skipped record with ``skip_invalid``).

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
    where = ", ".join(map(str, sources))
    frame = validate(located, where, skip_invalid=skip_invalid, date_format=date_format)
    frame.attrs["formats"] = {str(source): kind for source, kind in kinds.items()}
    return frame


def iter_articles(
    path: Sources,
    *,
    format: str | None = None,
    skip_invalid: bool = False,
    include_drafts: bool = False,
    skipped: list[SkippedRecord] | None = None,
    date_format: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream validated articles (dicts with the :data:`FIELDS` and any extras), one at a time.

    Memory holds one article plus the ids seen so far (to catch duplicates), so a corpus of any size can
    be read. Records left out are appended to ``skipped`` when given. Unless ``skip_invalid``, a
    :class:`CorpusError` listing the bad records is raised once the whole source has been read.
    """
    sources = _sources(path)
    kinds = {source: _resolve_format(source, format) for source in sources}
    located = _all_located(kinds, include_drafts=include_drafts)
    where = ", ".join(map(str, sources))
    yield from validated(located, where, skip_invalid=skip_invalid, skipped=skipped, date_format=date_format)


def load_articles(
    articles: Articles, *, skip_invalid: bool = False, date_format: str | None = None
) -> pd.DataFrame:
    """Accept what ``Recommender.fit`` accepts (a path, a DataFrame, dicts) as a validated DataFrame."""
    paths = paths_given(articles)
    if paths is not None:
        return read_articles(paths, skip_invalid=skip_invalid, date_format=date_format)
    if isinstance(articles, pd.DataFrame):
        if still_valid(articles):
            return articles  # read and validated here already (read_articles), and unchanged since
        rows = articles.to_dict(orient="records")
        located = ((f"row {i}", dict(row)) for i, row in enumerate(rows))
        return validate(located, "DataFrame", skip_invalid=skip_invalid, date_format=date_format)
    if isinstance(articles, Mapping):
        message = "articles must be a path, a DataFrame or an iterable of dicts, not a single dict"
        raise CorpusError(message)
    assert not isinstance(articles, str | os.PathLike)  # read above, as paths
    try:
        iterator = iter(articles)
    except TypeError:
        message = (
            f"articles must be a path, a DataFrame or an iterable of dicts, not {type(articles).__name__}"
        )
        raise CorpusError(message) from None
    records = ((f"record {i}", record) for i, record in enumerate(iterator, start=1))
    return validate(records, "articles", skip_invalid=skip_invalid, date_format=date_format)


def paths_given(articles: object) -> list[Path] | None:
    """The sources when ``articles`` is a path or a non-empty list or tuple of paths, else None."""
    if isinstance(articles, str | os.PathLike):
        return [Path(articles)]
    if (
        isinstance(articles, list | tuple)
        and articles
        and all(isinstance(item, str | os.PathLike) for item in articles)
    ):
        return [Path(item) for item in articles]
    return None


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
        files, left_out = _folder(source, kind) if source.is_dir() else ([source], [])
        yield from left_out
        root = source if source.is_dir() else source.parent
        if kind == "page-text":
            yield from pagetext.read_page_text(files)
        elif kind == "html":
            yield from html.read_html(files)
        elif kind == "markdown":
            yield from markdown.read_markdown(files, root=root, include_drafts=include_drafts)
        else:
            yield from tabular.read_text_files(files)
        return
    readers = {
        "jsonl": tabular.read_jsonl,
        "json": tabular.read_json,
        "csv": tabular.read_csv,
        "parquet": tabular.read_parquet,
        "wxr": wxr.read_wxr,
        "rss": feeds.read_rss,
        "atom": feeds.read_atom,
    }
    yield from readers[kind](source)


def _files(folder: Path, suffixes: tuple[str, ...] | None) -> list[Path]:
    """Files under ``folder`` with one of ``suffixes`` (None: any), sorted, skipping hidden files and
    folders."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and (suffixes is None or path.suffix.lower() in suffixes)
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _folder(folder: Path, kind: str) -> tuple[list[Path], list[tuple[str, Skip]]]:
    """The files ``kind`` reads in ``folder``, and the others left out, each with the reason, so that
    none vanishes silently: every corpus file of another format, and the folder itself when ``kind``
    finds nothing in it (saying what it holds)."""
    suffixes = _FILE_PER_ARTICLE[kind]
    reads = ", ".join(suffixes)
    everything = _files(folder, None)
    files = [path for path in everything if path.suffix.lower() in suffixes]
    left_out = [
        (str(path), Skip(f"not read: the folder is read as {kind!r}, which reads {reads} files only"))
        for path in everything
        if path.suffix.lower() not in suffixes and _corpus_suffix(path)
    ]
    if not files:
        held = Counter(path.suffix.lower() or "without extension" for path in everything)
        listing = ", ".join(f"{count} {suffix}" for suffix, count in held.most_common()) or "no files"
        reason = f"no {reads} file to read as {kind!r}; the folder holds {listing}"
        left_out.insert(0, (str(folder), Skip(reason)))
    return files, left_out


def _corpus_suffix(path: Path) -> bool:
    """Whether a file's name ends like a corpus file (``.jsonl``, ``.txt``, ``.xml.gz``…)."""
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix in {*_EXTENSIONS, ".txt", ".xml"}


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
            f"{source}: cannot tell the format from the file name; give it (--format, or format= in Python): "
            f"one of {', '.join(FORMATS)}"
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
    if not head.strip():
        message = f"{source}: the file is empty: no feed or export to read"
        raise CorpusError(message)
    message = (
        f"{source}: XML that is neither a WordPress export, an RSS nor an Atom feed; "
        "give the format (--format, or format= in Python) wxr, rss or atom if it is one"
    )
    raise CorpusError(message)


def _head(source: Path, size: int = 8192) -> str:
    """The first ``size`` bytes of a file as text (for sniffing its format)."""
    with open_bytes(source) as handle:
        return handle.read(size).decode("utf-8", errors="replace")
