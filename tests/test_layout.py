"""The package's shape: the serving side never imports the build side, modules and functions stay readable,
and benchmarks use public names only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import HEAVY, ROOT, modules_after

PACKAGE = ROOT / "recommender"
SERVING = ("store", "text", "score", "serve")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def _imported(path: Path) -> set[str]:
    """Absolute names of the recommender modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("recommender")}


@pytest.mark.parametrize("side", SERVING)
def test_the_serving_side_never_imports_the_build_side(side: str) -> None:
    for path in _modules(PACKAGE / side):
        wrong = sorted(
            name
            for name in _imported(path)
            if name.startswith(("recommender.build", "recommender.recommender", "recommender.cli"))
            or name.startswith(("recommender.sources", "recommender.outputs", "recommender.analysis"))
        )
        assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"


def test_serving_a_model_loads_no_build_module_nor_the_training_stack(bundled_model_dir: Path) -> None:
    code = (
        "from recommender.lookup import Index\n"
        f"index = Index.load({str(bundled_model_dir)!r})\n"
        "first = index.ids[0]\n"
        "index.related(first, k=50, explain=True)\n"
        "index.related(first, k=5, past_only=True, mmr=0.7)\n"
        "index.query('oil and gas pipelines in central asia', k=5)\n"
    )
    loaded = modules_after(code)
    assert not {name for name in loaded if name.startswith("recommender.build")}
    assert not {name.split(".")[0] for name in loaded} & (HEAVY - {"nltk"})


@pytest.mark.parametrize("path", _modules(PACKAGE), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_modules_and_functions_stay_readable(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{node.name} has {length} lines"


@pytest.mark.parametrize("path", _modules(ROOT / "benchmarks"), ids=lambda path: path.name)
def test_benchmarks_import_public_names_only(path: Path) -> None:
    private = sorted(
        name
        for name in _imported(path)
        if any(part.startswith("_") and part != "__init__" for part in name.split("."))
    )
    assert not private, f"{path.name} imports {private}"


@pytest.mark.parametrize("path", _modules(ROOT / "benchmarks"), ids=lambda path: path.name)
def test_benchmarks_import(path: Path) -> None:
    """A benchmark that no longer imports is found here, not on the day it is needed."""
    import importlib

    importlib.import_module(f"benchmarks.{path.stem}")
