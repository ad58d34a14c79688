"""Shared fixtures: a tiny corpus whose right answers are obvious, and the bundled corpus."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "corpus" / "geopolitics.jsonl"
SHARED_DATA = ROOT.parent / "shared" / "data"
GOLDEN = Path(__file__).resolve().parent / "data" / "golden"

TINY: list[dict[str, Any]] = [
    {
        "id": "oil-prices-rise",
        "title": "Oil prices climb as OPEC trims output",
        "body": "Crude oil prices rose after OPEC producers agreed to cut output. Brent crude traded higher "
        "and refiners warned that fuel prices would follow the oil market upward.",
        "date": "2024-01-05",
        "url": "https://example.org/2024/01/oil-prices-rise",
        "category": "Energy",
        "tags": ["oil", "opec"],
    },
    {
        "id": "opec-output-cut",
        "title": "OPEC output cut lifts crude",
        "body": "The OPEC cartel announced a further output cut. Crude oil and Brent futures gained while "
        "refiners and fuel importers braced for dearer oil.",
        "date": "2024-01-07",
        "url": "https://example.org/2024/01/opec-output-cut",
        "category": "Energy",
        "tags": ["oil"],
    },
    {
        "id": "cup-final-penalties",
        "title": "Cup final decided on penalties",
        "body": "The football cup final ended level and went to penalties. The goalkeeper saved two kicks "
        "and the captain lifted the trophy before the fans.",
        "date": "2024-02-01",
        "url": "https://example.org/2024/02/cup-final-penalties",
        "category": "Sport",
        "tags": ["football"],
    },
    {
        "id": "goalkeeper-hero",
        "title": "Goalkeeper the hero of the football final",
        "body": "A goalkeeper saved penalties in the football final, and fans cheered as the captain "
        "raised the trophy after the cup match.",
        "date": "2024-02-02",
        "url": "https://example.org/2024/02/goalkeeper-hero",
        "category": "Sport",
        "tags": ["football"],
    },
    {
        "id": "parliament-election-called",
        "title": "Snap parliament election called",
        "body": "The prime minister called a snap election. Parliament will be dissolved and voters will "
        "choose a new government as parties publish manifestos.",
        "date": "2024-03-01",
        "url": "https://example.org/2024/03/parliament-election-called",
        "category": "Politics",
        "tags": ["election"],
    },
    {
        "id": "voters-manifestos",
        "title": "Voters weigh party manifestos before the election",
        "body": "Ahead of the election, voters compared party manifestos. The prime minister and the "
        "opposition campaigned to form the next government after parliament was dissolved.",
        "date": "2024-03-04",
        "url": "javascript:alert(1)",
        "category": "Politics",
        "tags": ["election"],
    },
]


def shared_sample(name: str, *, every: int, first: int) -> list[dict[str, Any]]:
    """Every ``every``-th article among the ``first`` of a ../shared/data corpus, and each one with
    non-ASCII text; the test is skipped when the corpus is not there."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not present")
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(islice(lines, first)):
            record = json.loads(line)
            if number % every == 0 or not f"{record.get('title') or ''}{record.get('body') or ''}".isascii():
                records.append(record)
    return records


@pytest.fixture
def tiny_records() -> list[dict[str, Any]]:
    """Six articles in three obvious pairs (oil, football, election)."""
    return [dict(record) for record in TINY]


@pytest.fixture
def tiny_jsonl(tmp_path: Path) -> Path:
    """The tiny corpus as a JSON Lines file."""
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in TINY), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def _vector_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vector-cache")


@pytest.fixture(autouse=True)
def _no_home_cache(_vector_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Embeddings are cached in the session's temporary folder, never in the user's home."""
    monkeypatch.setenv("RECOMMENDER_CACHE", str(_vector_cache))


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small BERT folder with seeded random weights and a vocabulary of the bundled and tiny corpora's
    words: the deterministic encoder of the semantic tests (no PyTorch, no download)."""
    from .tiny_bert import corpus_vocabulary, write_tiny_bert

    texts = [f"{record['title']} {record['body']}" for record in TINY]
    with BUNDLED.open(encoding="utf-8") as lines:
        texts += [f"{record.get('title') or ''} {record['body']}" for record in map(json.loads, lines)]
    folder = tmp_path_factory.mktemp("encoders") / "tiny-bert"
    write_tiny_bert(
        folder, corpus_vocabulary(texts), hidden=16, inner=32, positions=128, max_length=128, seed=11
    )
    return folder


@pytest.fixture(scope="session")
def bundled_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus built once per test session with default settings."""
    from recommender import Recommender

    path = tmp_path_factory.mktemp("models") / "geopolitics"
    Recommender().fit(BUNDLED).save(path)
    return path


def model_files(path: Path) -> Path:
    """The folder holding a model's manifest and files: its current generation (or a legacy flat folder)."""
    from recommender import store as fmt

    generation = fmt.current_generation(path)
    return path if generation is None else path / generation


def refresh_checksums(model_dir: Path) -> None:
    """Re-record sizes and checksums after a test edits a file of the current generation on purpose."""
    from recommender import store as fmt

    model_dir = model_files(model_dir)
    manifest_path = model_dir / fmt.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"] = {
        name: {"bytes": (model_dir / name).stat().st_size, "sha256": fmt.sha256(model_dir / name)}
        for name in manifest["files"]
    }
    write_manifest(manifest_path, manifest)


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write a manifest a test changed on purpose, with its own checksum re-recorded to match."""
    from recommender.store.layout import MANIFEST_DIGEST, manifest_digest

    if MANIFEST_DIGEST in manifest:
        manifest = {**manifest, MANIFEST_DIGEST: manifest_digest(manifest)}
    path.write_text(json.dumps(manifest), encoding="utf-8")


#: The training stack: what a serving process must not load.
HEAVY = frozenset({"sklearn", "scipy", "pandas", "nltk", "joblib"})


def modules_after(code: str) -> set[str]:
    """Every module loaded after running ``code`` in a fresh interpreter (what an import pulls in)."""
    script = f"{code}\nimport sys\nprint(','.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(result.stdout.strip().splitlines()[-1].split(","))


#: The exit code of a child process stopped at a filesystem step (see :func:`killed_at`).
KILLED = 75


def recorded_steps(action: Callable[[], object]) -> list[str]:
    """The labels of the filesystem steps ``action`` takes, in order."""
    from recommender.store import steps

    labels: list[str] = []
    previous = steps.set_hook(labels.append)
    try:
        action()
    finally:
        steps.set_hook(previous)
    return labels


def killed_at(number: int, action: Callable[[], object]) -> int:
    """Run ``action`` in a forked child that ends itself just before its filesystem step ``number`` (from
    0), as a kill would; the child's exit code: ``KILLED`` when it got there, 0 done, 1 on an error."""
    from recommender.store import steps

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: it never returns into pytest
        code = 1
        try:
            seen = 0

            def hook(label: str) -> None:
                nonlocal seen
                if seen == number:
                    os._exit(KILLED)
                seen += 1

            steps.set_hook(hook)
            action()
            code = 0
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
