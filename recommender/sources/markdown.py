"""Static-site content: Hugo or Jekyll Markdown files with YAML (``---``) or TOML (``+++``) front matter.

Front matter gives ``title``, ``date``, ``tags``, ``categories`` (the first becomes ``category``), ``slug``,
``author``/``authors``, ``lang`` and ``draft``. Drafts (``draft: true``, Jekyll's ``published: false`` or
the ``_drafts`` folder) and Hugo list pages (``_index.md``) are skipped and reported. The id is the
``slug``, else the page bundle's folder name (``post/name/index.md``), else the file name without a
Jekyll ``YYYY-MM-DD-`` prefix (whose date is used when front matter has none). Markdown syntax, HTML,
shortcodes and code blocks are removed from the body, leaving its prose.

YAML is read with PyYAML when it is installed (extra ``markdown``), else with the built-in reader of the
``key: value`` / ``[a, b]`` / ``- item`` subset. TOML is read with :mod:`tomllib`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..types import CorpusError
from ._base import Located, Skip, html_to_text, per_file
from .dates import day_of

__all__ = ["markdown_to_text", "parse_front_matter", "parse_yaml", "parse_yaml_subset", "read_markdown"]

MARKDOWN_SUFFIXES = (".md", ".markdown")
_JEKYLL_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.+)$")
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_SHORTCODE = re.compile(r"\{\{[<%].*?[%>]\}\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\[[^\]]*\]")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+.*$", re.MULTILINE)
_LINE_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.MULTILINE)
_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$|^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`+|~~)(?=\S)(.+?)(?<=\S)\1")
_TRUE = {"true", "yes", "on", "1"}


def markdown_to_text(markdown: str) -> str:
    """The prose of a Markdown body: code, shortcodes, images, link targets and markup removed."""
    text = _FENCE.sub("", markdown)
    text = _SHORTCODE.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = _REFERENCE.sub("", text)
    text = _RULE.sub("", text)
    text = _LINE_MARKS.sub("", text)
    text = _EMPHASIS.sub(r"\2", text).replace("|", " ")
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(" ".join(html_to_text(p).split()) for p in paragraphs if html_to_text(p).strip())


def parse_yaml_subset(lines: list[str], *, first_line: int = 2) -> dict[str, Any]:
    """The ``key: value`` subset of YAML front matter: scalars, ``[a, b]`` lists, ``- item`` lists, and
    mappings nested by indentation (``seo:`` then ``  title: …``), kept nested so they never overwrite a
    top-level key."""
    data: dict[str, Any] = {}
    parents: list[tuple[int, dict[str, Any]]] = [(-1, data)]  # open mappings, with the indent of their key
    last: tuple[int, dict[str, Any], str] | None = None  # the last key: its indent, its mapping, its name
    for number, line in enumerate(lines, start=first_line):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        stripped = line.strip()
        if stripped.startswith("- ") and last is not None:
            _, mapping, name = last
            items = mapping.get(name)
            if not isinstance(items, list):
                items = []
            items.append(_unquote(stripped[2:]))
            mapping[name] = items
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            message = f"line {number}: front matter line is not 'key: value': {line.strip()!r}"
            raise ValueError(message)
        indent = len(line) - len(line.lstrip())
        if last is not None and indent > last[0]:
            if last[1][last[2]] is not None:
                message = (
                    f"line {number}: front matter nested under {last[2]!r} in a way the built-in reader "
                    "does not follow (install PyYAML: pip install 'recommender[markdown]')"
                )
                raise ValueError(message)
            nested: dict[str, Any] = {}
            last[1][last[2]] = nested
            parents.append((last[0], nested))
        while indent <= parents[-1][0]:
            parents.pop()
        mapping = parents[-1][1]
        name = key.strip()
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            mapping[name] = [_unquote(item) for item in value[1:-1].split(",") if item.strip()]
        else:
            mapping[name] = _unquote(value) if value else None
        last = (indent, mapping, name)
    return data


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split a page into its front matter (YAML ``---`` or TOML ``+++``) and its body."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() not in ("---", "+++"):
        return {}, text
    fence = lines[0].strip()
    closers = ("---", "...") if fence == "---" else ("+++",)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in closers)
    except StopIteration:
        message = f"front matter opened with {fence!r} on line 1 is never closed"
        raise ValueError(message) from None
    inner = lines[1:end]
    body = "\n".join(lines[end + 1 :])
    return (_toml(inner) if fence == "+++" else _yaml(inner)), body


def parse_yaml(lines: list[str]) -> dict[str, Any]:
    """YAML front matter as a mapping with dates as ISO days: read with PyYAML when it is installed, else
    with :func:`parse_yaml_subset`."""
    return {key: _plain(value) for key, value in _yaml(lines).items()}


def _yaml(lines: list[str]) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        return parse_yaml_subset(lines)
    try:
        data = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 2}: " if mark is not None else ""
        message = f"{where}front matter is not valid YAML: {getattr(error, 'problem', error)}"
        raise ValueError(message) from None
    except ValueError as error:  # PyYAML builds dates itself: "2024-13-01" fails as a date, not as YAML
        message = (
            f"front matter holds a date that is not a real day ({error}); correct it, or quote the value "
            "to keep it as text"
        )
        raise ValueError(message) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        message = "front matter must be a mapping of keys to values"
        raise ValueError(message)
    return {str(key): value for key, value in data.items()}


def _toml(lines: list[str]) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
        except ImportError:
            message = "TOML front matter on Python 3.10 needs tomli: pip install 'recommender[markdown]'"
            raise CorpusError(message) from None
    try:
        return tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError as error:
        message = f"front matter is not valid TOML: {error}"
        raise ValueError(message) from None


def page_record(text: str, *, path: Path, root: Path, include_drafts: bool = False) -> dict[str, Any] | Skip:
    """One article from a Markdown page, or a :class:`Skip` saying why it is not one."""
    meta, body = parse_front_matter(text)
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    if path.name.startswith("_index."):
        return Skip("Hugo section list page (_index), not an article")
    if not include_drafts:
        if _truthy(meta.get("draft")):
            return Skip("draft: true (pass include_drafts=True / --drafts to read drafts)")
        if "published" in meta and not _truthy(meta.get("published")):
            return Skip("published: false (pass include_drafts=True / --drafts to read it)")
        if "_drafts" in relative.parts:
            return Skip("in Jekyll's _drafts folder (pass include_drafts=True / --drafts to read it)")
    stem = path.parent.name if path.stem == "index" and path.parent != root else path.stem
    jekyll = _JEKYLL_NAME.match(stem)
    record: dict[str, Any] = {
        key: _plain(value) for key, value in meta.items() if key not in ("draft", "published")
    }
    record["id"] = str(meta.get("slug") or (jekyll["slug"] if jekyll else stem))
    record["title"] = str(meta.get("title") or "")
    record["date"] = _date(meta.get("date")) or (jekyll["date"] if jekyll else None)
    record["tags"] = _list(meta.get("tags"))
    categories = _list(meta.get("categories"))
    if categories:
        record["categories"] = categories
        record.setdefault("category", categories[0])
    authors = _list(meta.get("authors"))
    if not meta.get("author") and authors:
        record["author"] = ", ".join(authors)
    record["body"] = markdown_to_text(body)
    record.pop("slug", None)
    return record


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def _plain(value: Any) -> Any:
    if isinstance(value, _dt.datetime | _dt.date):
        return _date(value)
    return value


def _date(value: Any) -> str | None:
    return day_of(value)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [str(item).strip() for item in value if str(item).strip()]
    return [str(value)]


def read_markdown(files: list[Path], *, root: Path, include_drafts: bool = False) -> Located:
    """Articles from Markdown pages under ``root``, in the order given."""
    return per_file(
        files, lambda text, path: page_record(text, path=path, root=root, include_drafts=include_drafts)
    )
