"""Ways of combining the three parts of the score beyond the shipped linear blend, on full similarity
matrices, for issue 14's P@10 targets.

Run from the repository root: ``python -m benchmarks.blend_levers --semantic MODEL_FOLDER [--only bbc,ag]
[--output docs/quality.md]``. Each corpus is built once with the defaults and the semantic view; its parts
are then taken apart (the unit TF-IDF rows, their LSA projection, the embeddings from the vector cache) and
recombined in numpy: each part alone, other linear weights, a transformed embedding (centred, whitened),
per-article standardised scores, and query expansion (Rocchio on the blended rows). Every variant is scored
as the lists are ordered: exact top 10 of ``similarity − hub_weight × (the candidate's mean top-10
similarity)``, the candidate's own part of the hub discount. Near-duplicates are not hidden here, so the
shipped blend scores a little above the library's own P@10 (both are in the table). Peaked at 14.7 GB
of memory on 20 Newsgroups (several dense 18,811² float32 matrices at once).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from recommender import Recommender, read_articles
from recommender.analysis.evaluate import evaluate_model
from recommender.build.semantic import embed_articles
from recommender.settings import Settings

from .quality import CORPORA, DATA, ROOT, TARGETS, _replace_block

K = 10
#: The shipped settings' weights, which every variant but the first ones keeps.
DEFAULTS = Settings()
HUB = DEFAULTS.hub_weight


@dataclass(frozen=True)
class Parts:
    """One corpus's cosine matrices per part, its label matrix and the library's own P@10."""

    terms: np.ndarray
    lsa: np.ndarray
    semantic: np.ndarray
    embeddings: np.ndarray
    labels: np.ndarray
    library: float
    lengths: np.ndarray


def _labels(values: list[object]) -> np.ndarray:
    """A 0/1 matrix (articles × label values): two articles are related when their rows share a 1."""
    sets = [set(value) if isinstance(value, list) else {value} for value in values]
    names = sorted({name for labels in sets for name in labels}, key=str)
    place = {name: column for column, name in enumerate(names)}
    matrix = np.zeros((len(sets), len(names)), dtype=np.float32)
    for row, labels in enumerate(sets):
        matrix[row, [place[name] for name in labels]] = 1.0
    return matrix


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(rows / norms, dtype=np.float32)


def parts_of(frame: pd.DataFrame, semantic: str) -> Parts:
    """Build ``frame`` with the defaults and the semantic view; take its parts apart."""
    if "duplicate_of" in frame.columns:
        keep = frame["duplicate_of"].map(lambda value: not isinstance(value, str) or not value)
        frame = frame[keep].reset_index(drop=True)
    model = Recommender(semantic=semantic, k=K).fit(frame)
    library = evaluate_model(model, frame, label="category", k=K).precision_at_k
    terms = model.vectors
    assert model.components is not None, "the corpus is too small for LSA"
    lsa = _unit(np.asarray(terms @ model.components.T, dtype=np.float64))
    titles = frame["title"].tolist() if "title" in frame.columns else [None] * len(frame)
    embedded = embed_articles(titles, frame["body"].tolist(), Settings(semantic=semantic))
    embeddings = _unit(embedded.vectors)
    return Parts(
        terms=np.asarray((terms @ terms.T).toarray(), dtype=np.float32),
        lsa=lsa @ lsa.T,
        semantic=embeddings @ embeddings.T,
        embeddings=embeddings,
        labels=_labels(frame["category"].tolist()),
        library=library,
        lengths=np.diff(terms.indptr),
    )


def _top(scores: np.ndarray) -> np.ndarray:
    """Each row's top ``K`` columns, itself left out (``scores`` is changed)."""
    np.fill_diagonal(scores, -np.inf)
    return np.argpartition(-scores, K, axis=1)[:, :K]


def score(similarity: np.ndarray, labels: np.ndarray, hub_weight: float = HUB) -> dict[str, float]:
    """P@10, coverage and the largest in-degree of lists ordered by the hub-discounted ``similarity``."""
    ordered = similarity.copy()
    if hub_weight:
        top = _top(ordered)
        hubs = np.take_along_axis(ordered, top, axis=1).mean(axis=1)
        ordered = similarity - np.float32(hub_weight) * hubs[None, :].astype(np.float32)
    top = _top(ordered)
    related = (labels[top] * labels[:, None, :]).sum(axis=2) > 0
    degree = np.bincount(top.ravel(), minlength=len(labels))
    return {"p10": float(related.mean()), "coverage": float((degree > 0).mean()), "max_in": int(degree.max())}


def _blend(parts: Parts, terms: float, lsa: float, semantic: float) -> np.ndarray:
    return terms * parts.terms + lsa * parts.lsa + semantic * parts.semantic


def _shipped(parts: Parts) -> np.ndarray:
    """The shipped weights: (1 − s) · ((1 − w) · terms + w · LSA) + s · embedding (0.42, 0.18, 0.4)."""
    s, w = DEFAULTS.semantic_weight, DEFAULTS.lsa_weight
    return _blend(parts, (1 - s) * (1 - w), (1 - s) * w, s)


def _with_embedding(parts: Parts, rows: np.ndarray) -> np.ndarray:
    rows = _unit(rows)
    return _shipped(replace(parts, semantic=rows @ rows.T))


def _centred(embeddings: np.ndarray) -> np.ndarray:
    return np.asarray(embeddings.astype(np.float64) - embeddings.mean(axis=0), dtype=np.float32)


def _whitened(embeddings: np.ndarray, power: float) -> np.ndarray:
    """Centred, rotated onto the principal axes, and each axis divided by its singular value ** power."""
    centred = _centred(embeddings).astype(np.float64)
    _, values, axes = np.linalg.svd(centred, full_matrices=False)
    return np.asarray(centred @ (axes.T / values**power), dtype=np.float32)


def _by_length(parts: Parts, short: int, weights: tuple[float, float]) -> np.ndarray:
    """Semantic weight per article, ``weights[0]`` under ``short`` distinct terms, else ``weights[1]``; a
    pair's parts weigh the geometric mean of its two articles' weights (as rows scaled per article would)."""
    weight = np.where(parts.lengths < short, weights[0], weights[1]).astype(np.float32)
    words = np.sqrt(np.outer(1 - weight, 1 - weight))
    lsa = DEFAULTS.lsa_weight
    similarity: np.ndarray = words * ((1 - lsa) * parts.terms + lsa * parts.lsa)
    similarity += np.sqrt(np.outer(weight, weight)) * parts.semantic
    return similarity


def _standardised(parts: Parts) -> np.ndarray:
    """Each part's scores standardised per article (mean 0, deviation 1 over all others), then blended."""

    def z(matrix: np.ndarray) -> np.ndarray:
        centred = matrix - matrix.mean(axis=1, keepdims=True)
        return np.asarray(centred / matrix.std(axis=1, keepdims=True), dtype=np.float32)

    return _shipped(replace(parts, terms=z(parts.terms), lsa=z(parts.lsa), semantic=z(parts.semantic)))


def _expanded(parts: Parts, neighbours: int, beta: float) -> np.ndarray:
    """Rocchio on the blended rows: each article's row plus ``beta`` × the mean of its nearest rows', so
    its scores gain ``beta`` × its neighbours' mean score."""
    blended = _shipped(parts)
    near = blended.copy()
    np.fill_diagonal(near, -np.inf)
    top = np.argpartition(-near, neighbours, axis=1)[:, :neighbours]
    expanded = blended.copy()
    for start in range(0, len(top), 1024):
        expanded[start : start + 1024] += beta * blended[top[start : start + 1024]].mean(axis=1)
    return expanded


#: label, how the similarity is made, and the hub weight its lists are ordered with (query expansion adds
#: β × a neighbour mean to every score, so a heavier discount keeps the hubs' share the same).
VARIANTS: tuple[tuple[str, Callable[[Parts], np.ndarray], float], ...] = (
    ("TF-IDF alone (no hub discount)", lambda p: p.terms, 0.0),
    ("LSA alone (no hub discount)", lambda p: p.lsa, 0.0),
    ("embedding alone (no hub discount)", lambda p: p.semantic, 0.0),
    ("**shipped blend** 0.42 · TF-IDF + 0.18 · LSA + 0.4 · embedding", _shipped, HUB),
    ("equal thirds", lambda p: _blend(p, 1 / 3, 1 / 3, 1 / 3), HUB),
    ("0.3 · TF-IDF + 0.3 · LSA + 0.4 · embedding", lambda p: _blend(p, 0.3, 0.3, 0.4), HUB),
    ("0.25 · TF-IDF + 0.25 · LSA + 0.5 · embedding", lambda p: _blend(p, 0.25, 0.25, 0.5), HUB),
    ("embedding centred (corpus mean removed)", lambda p: _with_embedding(p, _centred(p.embeddings)), HUB),
    ("embedding whitened (power 0.5)", lambda p: _with_embedding(p, _whitened(p.embeddings, 0.5)), HUB),
    ("each part standardised per article", _standardised, HUB),
    ("semantic weight 0.6 under 30 terms, else 0.4", lambda p: _by_length(p, 30, (0.6, 0.4)), HUB),
    ("semantic weight 0.7 under 50 terms, else 0.3", lambda p: _by_length(p, 50, (0.7, 0.3)), HUB),
    ("query expansion, 5 neighbours, β = 0.5", lambda p: _expanded(p, 5, 0.5), HUB),
    ("query expansion, 5 neighbours, β = 1", lambda p: _expanded(p, 5, 1.0), HUB),
    ("query expansion, 10 neighbours, β = 0.5", lambda p: _expanded(p, 10, 0.5), HUB),
    ("query expansion, 5 neighbours, β = 0.5, hub discount 0.5", lambda p: _expanded(p, 5, 0.5), 0.5),
    ("query expansion, 5 neighbours, β = 1, hub discount 0.75", lambda p: _expanded(p, 5, 1.0), 0.75),
)  # fmt: skip


def table(
    names: list[str], results: dict[str, dict[str, dict[str, float]]], library: dict[str, float]
) -> str:
    """The markdown table: one row per variant, P@10 / coverage / max in-degree per corpus."""
    header = "| variant | " + " | ".join(CORPORA[name][2].split(" (")[0] for name in names) + " |"
    lines = [header, "|---|" + "---:|" * len(names)]
    lines.append("| the library's own P@10 (shipped settings, near-duplicates hidden) | "
                 + " | ".join(f"{library[name]:.4f}" for name in names) + " |")  # fmt: skip
    for label, _, _ in VARIANTS:
        cells = [results[name][label] for name in names]
        lines.append(f"| {label} | " + " | ".join(
            f"{c['p10']:.4f} / {c['coverage']:.3f} / {c['max_in']}" for c in cells) + " |")  # fmt: skip
    lines.append("| issue 14's target | " + " | ".join(f"{TARGETS[name]:.3f}" for name in names) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--semantic", required=True, help="the sentence-transformers model folder")
    parser.add_argument("--only", default=",".join(CORPORA), help="comma-separated corpora")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "quality.md")
    parser.add_argument("--json", action="store_true", help="print the results as JSON, write nothing")
    args = parser.parse_args(argv)
    names = [name for name in args.only.split(",") if name]
    started = time.perf_counter()
    results: dict[str, dict[str, dict[str, float]]] = {}
    library: dict[str, float] = {}
    for name in names:
        file_name, cut, _ = CORPORA[name]
        parts = parts_of(cut(read_articles(DATA / file_name)), args.semantic)
        library[name] = parts.library
        results[name] = {}
        for label, make, hub_weight in VARIANTS:
            results[name][label] = score(make(parts), parts.labels, hub_weight)
            print(name, label, results[name][label], file=sys.stderr, flush=True)
        del parts
    if args.json:
        print(json.dumps({"library": library, "variants": results}, indent=2))
        return 0
    body = table(names, results, library)
    seconds = time.perf_counter() - started
    footer = (
        "\n\nCells: P@10 / coverage / max in-degree. `python -m benchmarks.blend_levers --semantic MODEL`; "
        f"whole run: {seconds:.0f} s on this machine."
    )
    _replace_block(args.output, "blend-levers", body + footer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
