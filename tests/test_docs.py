"""The documentation stays short and true: README size and first screen, links, quoted code paths.

Each check is a small function that returns what it finds wrong, tested once on a deliberately broken
document (so the check can fail) and then run over README.md and every page in docs/.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from .conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
DOCUMENTS = [README, *PAGES]
MAX_README_LINES = 250
FIRST_SCREEN_LINES = 30
#: Reports kept by others (benchmark tables, the generated settings table): they open with their method,
#: not a guide's sentence and example, and the file paths they quote are left to their owners.
REPORTS = frozenset({"performance.md", "quality.md", "settings.md"})
GUIDES = [page for page in PAGES if page.name not in REPORTS]
#: Pages written on another branch: a link to one is accepted while the page does not exist yet.
PENDING: frozenset[str] = frozenset()
#: Folders of this repository whose paths the docs quote in backticks (``recommender/serve/controls.py``).
REPOSITORY_FOLDERS = ("recommender", "tests", "benchmarks", "examples", "notebooks", "corpus", "docs", ".ci")

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_LINK = re.compile(r"\]\(([^)\s]+)(?:[ \t]+\"[^\"]*\")?\)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# Not preceded by a path or a name (``recommender/recommender.py`` is a file, not a module path).
_MODULE_PATH = re.compile(r"(?<![\w/.-])recommender(?:\.[A-Za-z_]\w*)+")
_PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(recommender[\w.]*)[ \t]+import[ \t]+([\w, \t]+)|import[ \t]+(recommender[\w.]*))",
    re.MULTILINE,
)
_REPOSITORY_PATH = re.compile(
    rf"^(?:{'|'.join(re.escape(folder) for folder in REPOSITORY_FOLDERS)})/[\w.*/-]*$"
)
_BENCHMARK = re.compile(r"python -m (benchmarks\.\w+)|python (benchmarks/\w+\.py)")


def prose(text: str) -> str:
    """``text`` without its fenced code blocks (their ``#`` lines are comments, not headings)."""
    return _FENCE.sub("", text)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file (a repeated heading gets ``-1``, ``-2``… as on GitHub)."""
    found: set[str] = set()
    for match in _HEADING.finditer(prose(path.read_text(encoding="utf-8"))):
        base = slug(match.group(2))
        name, count = base, 0
        while name in found:
            count += 1
            name = f"{base}-{count}"
        found.add(name)
    return found


def broken_links(path: Path, root: Path = ROOT, pending: frozenset[str] = PENDING) -> list[str]:
    """The relative links of ``path`` whose file (or anchor in it) does not exist."""
    broken = []
    for target in _LINK.findall(_CODE_SPAN.sub("", prose(path.read_text(encoding="utf-8")))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not checked here
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            inside = destination.is_relative_to(root)
            if not (inside and destination.relative_to(root).as_posix() in pending):
                broken.append(target)
            continue
        if anchor and (destination.suffix != ".md" or anchor not in anchors(destination)):
            broken.append(target)
    return broken


def resolve(dotted: str) -> object:
    """The module or attribute named by ``dotted`` (``recommender.outputs.export.export_links``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            target: object = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is None or not name.startswith(error.name):
                raise  # a dependency of the module is missing: that is not a wrong path
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    message = f"{dotted}: not an importable name"
    raise ImportError(message)


def quoted_names(text: str) -> set[str]:
    """The ``recommender.…`` names of ``text``: in backticks, and imported in its python blocks."""
    names = {name for span in _CODE_SPAN.findall(prose(text)) for name in _MODULE_PATH.findall(span)}
    for block in _PYTHON_BLOCK.findall(text):
        for module, imported, plain in _IMPORT.findall(block):
            if plain:
                names.add(plain)
            else:
                names.update(f"{module}.{name.strip()}" for name in imported.split(",") if name.strip())
    return names


def unresolved_names(text: str) -> list[str]:
    """The quoted ``recommender.…`` names of ``text`` that do not import."""
    wrong = []
    for name in sorted(quoted_names(text)):
        try:
            resolve(name)
        except (ImportError, AttributeError):
            wrong.append(name)
    return wrong


def missing_files(text: str, root: Path = ROOT) -> list[str]:
    """Repository paths quoted in backticks, and benchmarks named in commands, that do not exist."""
    paths = [span for span in _CODE_SPAN.findall(prose(text)) if _REPOSITORY_PATH.match(span)]
    for module, script in _BENCHMARK.findall(text):
        paths.append(script or module.replace(".", "/") + ".py")
    return sorted({path for path in paths if not any(root.glob(path.rstrip("/")))})


@pytest.fixture
def broken_page(tmp_path: Path) -> Path:
    """A small docs tree with one good and one bad link of each kind, and wrong code paths."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## A section\n", encoding="utf-8")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n```sh\n# not a heading\n```\n\n## Here\n\n"
        "[ok](other.md) [ok](other.md#a-section) [ok](#here) [web](https://example.org/x)\n"
        "[bad](missing.md) [bad](other.md#no-such-section) [bad](#not-a-heading) [later](settings.md)\n"
        "`recommender.outputs.export.export_links` `recommender.export.export_links`\n"
        "`recommender/serve/controls.py` `recommender/controls.py` `python -m benchmarks.nothing`\n\n"
        "```python\nfrom recommender.build.update import apply_update, no_such_function\n```\n",
        encoding="utf-8",
    )
    return page


def test_the_link_check_finds_broken_links(broken_page: Path) -> None:
    root = broken_page.parents[1]
    assert broken_links(broken_page, root=root, pending=frozenset()) == [
        "missing.md",
        "other.md#no-such-section",
        "#not-a-heading",
        "settings.md",
    ]
    assert "settings.md" not in broken_links(broken_page, root=root, pending=frozenset({"docs/settings.md"}))


def test_the_path_checks_find_wrong_names(broken_page: Path) -> None:
    text = broken_page.read_text(encoding="utf-8")
    assert unresolved_names(text) == [
        "recommender.build.update.no_such_function",
        "recommender.export.export_links",
    ]
    assert missing_files(text) == ["benchmarks/nothing.py", "recommender/controls.py"]


def test_slug_matches_github_anchors() -> None:
    assert slug("Related posts for a draft, numpy only") == "related-posts-for-a-draft-numpy-only"
    assert slug("1. Every article's exact top-10 (`python -m benchmarks.allpairs`)") == (
        "1-every-articles-exact-top-10-python--m-benchmarksallpairs"
    )


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


def test_readme_first_screen_names_the_two_commands() -> None:
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN_LINES])
    assert "make demo" in first_screen
    assert "make test" in first_screen


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_relative_links_point_to_existing_files_and_anchors(path: Path) -> None:
    assert broken_links(path) == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_quoted_module_paths_import(path: Path) -> None:
    assert unresolved_names(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", [README, *GUIDES], ids=lambda path: path.relative_to(ROOT).as_posix())
def test_quoted_repository_paths_exist(path: Path) -> None:
    assert missing_files(path.read_text(encoding="utf-8")) == []


def test_every_page_is_linked_from_the_readme() -> None:
    targets = _LINK.findall(README.read_text(encoding="utf-8"))
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in targets}
    assert [page.name for page in PAGES if page.resolve() not in linked] == []


@pytest.mark.parametrize("page", GUIDES, ids=lambda page: page.name)
def test_a_guide_opens_with_its_purpose_and_an_example(page: Path) -> None:
    opening = page.read_text(encoding="utf-8").split("\n## ", 1)[0]
    title, _, rest = opening.partition("\n\n")
    first_paragraph, _, example = rest.partition("\n\n")
    has_example = "```" in example or "\n    " in f"\n{example}"
    assert title.startswith("# ")
    assert first_paragraph[:1].isalpha(), f"{page.name}: open with a sentence saying what the page is for"
    assert has_example, f"{page.name}: give an example before the first section"
