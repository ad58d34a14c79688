"""Incremental updates: add, edit and remove articles with the model's frozen vocabulary and IDF.

New (and edited) articles are vectorised with the stored vocabulary and idf and get exact lists;
every surviving list is merged with the new articles' scores (reverse refresh), and lists that held a
removed article are recomputed. The result equals :func:`rebuild_frozen` on the same articles: a full
neighbour search with the same vocabulary and idf. The manifest's ``lineage`` records the base build
and every update, and the report measures vocabulary drift.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from . import format as fmt
from .corpus import Articles, load_articles, read_articles
from .model import Recommender, _identity, _metadata, _weigh
from .neighbors import block_rows, top_k, top_k_of
from .types import InvalidParameterError, UnknownArticleError

__all__ = ["UpdateReport", "apply_update", "read_ids", "rebuild_frozen", "update_model", "vectorize_frozen"]


@dataclass(frozen=True)
class UpdateReport:
    """What an update did and how far the model has drifted from its last full build."""

    path: str
    articles: int
    added: int
    edited: int
    removed: int
    refreshed: int
    recomputed: int
    unseen_token_share: float
    added_share: float
    rebuild_recommended: bool
    advice: str

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data."""
        return asdict(self)

    def to_text(self) -> str:
        """A short human-readable report."""
        return (
            f"updated {self.path}: {self.articles} articles ({self.added} added, {self.edited} edited, "
            f"{self.removed} removed); {self.refreshed} existing lists gained new articles (reverse "
            f"refresh), {self.recomputed} recomputed after removals\n"
            f"drift: {self.unseen_token_share:.1%} of the new articles' tokens are not in the vocabulary; "
            f"{self.added_share:.1%} of articles were added or edited since the last full build\n"
            f"{self.advice}"
        )


def read_ids(path: str | os.PathLike[str]) -> list[str]:
    """Article ids from a text file, one per line (blank lines and ``#`` comments ignored)."""
    file_path = Path(path)
    try:
        lines = file_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        message = f"{file_path}: cannot read the ids file ({error})"
        raise InvalidParameterError(message) from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def vectorize_frozen(model: Recommender, frame: pd.DataFrame) -> tuple[sp.csr_matrix, int, int]:
    """TF-IDF rows of ``frame`` in the model's vocabulary and idf, plus (unseen, total) token counts."""
    titles = [model.analyzer(title or "") for title in frame["title"]]
    bodies = [model.analyzer(body) for body in frame["body"]]
    counter = CountVectorizer(analyzer=_identity, vocabulary=model.vocabulary, dtype=np.float64)
    counts = counter.transform(bodies)
    if model.settings.title_weight:
        counts = counts + model.settings.title_weight * counter.transform(titles)
    known = set(model.vocabulary)
    tokens = [term for terms in (*titles, *bodies) for term in terms]
    unseen = sum(term not in known for term in tokens)
    return _weigh(sp.csr_matrix(counts), model.idf), unseen, len(tokens)


def rebuild_frozen(model: Recommender, articles: Articles) -> Recommender:
    """A full rebuild of ``articles`` that keeps ``model``'s vocabulary, idf and settings (the reference)."""
    frame = load_articles(articles)
    vectors, _, _ = vectorize_frozen(model, frame)
    neighbors, scores = top_k(vectors, model.settings.k, memory_budget=model.settings.memory_budget)
    result = _copy_settings(model)
    result._set_state(
        ids=[str(article_id) for article_id in frame["id"]],
        metadata=_metadata(frame),
        vocabulary=list(model.vocabulary),
        idf=model.idf,
        vectors=vectors,
        neighbors=neighbors,
        scores=scores,
    )
    return result


def _copy_settings(model: Recommender) -> Recommender:
    result = Recommender(**{name: getattr(model.settings, name) for name in model.settings.to_dict()})
    result.analyzer = model.analyzer
    return result


@dataclass(frozen=True)
class _Counts:
    added: int
    edited: int
    removed: int
    refreshed: int
    recomputed: int
    unseen: int
    tokens: int


def apply_update(
    model: Recommender, *, add: Articles | None = None, remove: Iterable[str] = ()
) -> tuple[Recommender, _Counts]:
    """A new fitted model: ``model`` without ``remove``, with ``add`` (new or same-id edited) appended."""
    frame = load_articles(add) if add is not None else None
    new_ids = [str(article_id) for article_id in frame["id"]] if frame is not None else []
    removed = list(dict.fromkeys(remove))
    unknown = [article_id for article_id in removed if article_id not in model]
    if unknown:
        shown = ", ".join(repr(article_id) for article_id in unknown[:10])
        message = f"{len(unknown)} id(s) to remove are not in the model: {shown}; fix the ids file"
        if len(unknown) == 1:
            raise UnknownArticleError(unknown[0])
        raise InvalidParameterError(message)
    both = sorted(set(removed) & set(new_ids))
    if both:
        message = f"ids both added and removed: {', '.join(map(repr, both[:10]))}; keep them in one list"
        raise InvalidParameterError(message)
    edited = [article_id for article_id in new_ids if article_id in model]
    dropped = {model._rows[article_id] for article_id in (*removed, *edited)}
    n_old = len(model.ids)
    survivors = np.array([row for row in range(n_old) if row not in dropped], dtype=np.int64)
    old_to_new = np.full(n_old, -1, dtype=np.int64)
    old_to_new[survivors] = np.arange(len(survivors))
    unseen = tokens = 0
    if frame is not None:
        added_vectors, unseen, tokens = vectorize_frozen(model, frame)
    else:
        added_vectors = sp.csr_matrix(np.zeros((0, len(model.vocabulary)), dtype=np.float32))
    vectors = sp.csr_matrix(
        sp.vstack([model.vectors[survivors], added_vectors], format="csr"), dtype=np.float32
    )
    vectors.sort_indices()
    n_new = vectors.shape[0]
    width = min(model.settings.k, max(n_new - 1, 0))
    old_width = model.neighbors.shape[1]
    ids = [model.ids[row] for row in survivors.tolist()] + new_ids
    metadata = [model._metadata[row] for row in survivors.tolist()] + (
        _metadata(frame) if frame is not None else []
    )
    result = _copy_settings(model)
    budget = model.settings.memory_budget
    if width != old_width or n_new == 0:
        # The stored lists have the wrong width for the new size: nothing to reuse, search in full.
        neighbors, scores = top_k(vectors, model.settings.k, memory_budget=budget)
        refreshed, recomputed = 0, len(survivors)
    else:
        neighbors, scores, refreshed, recomputed = _incremental(
            model, vectors, survivors, old_to_new, width, budget
        )
    result._set_state(
        ids=ids,
        metadata=metadata,
        vocabulary=list(model.vocabulary),
        idf=model.idf,
        vectors=vectors,
        neighbors=neighbors,
        scores=scores,
    )
    counts = _Counts(
        len(new_ids) - len(edited), len(edited), len(removed), refreshed, recomputed, unseen, tokens
    )
    return result, counts


def _incremental(
    model: Recommender,
    vectors: sp.csr_matrix,
    survivors: np.ndarray,
    old_to_new: np.ndarray,
    width: int,
    budget: int,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    n_new = vectors.shape[0]
    n_kept = len(survivors)
    stored = np.asarray(model.neighbors)[survivors]
    stored_scores = np.asarray(model.scores)[survivors]
    remapped = np.where(stored >= 0, old_to_new[np.maximum(stored, 0)], -1)
    # A list that held a removed (or edited) article has a gap only a full search can fill.
    broken = ((stored >= 0) & (remapped < 0)).any(axis=1)
    neighbors = np.full((n_new, width), -1, dtype=np.int32)
    scores = np.zeros((n_new, width), dtype=np.float32)
    transposed = vectors.T.tocsr()
    exact_rows = np.concatenate([np.flatnonzero(broken), np.arange(n_kept, n_new)])
    step = block_rows(n_new, budget)
    for start in range(0, len(exact_rows), step):
        rows = exact_rows[start : start + step]
        found, found_scores = top_k_of(vectors[rows], transposed, width, exclude=rows)
        neighbors[rows] = found
        scores[rows] = found_scores
    # Reverse refresh: every other surviving list is merged with its scores against the new articles.
    keep = np.flatnonzero(~broken)
    added = vectors[n_kept:]
    added_transposed = added.T.tocsr()
    refreshed = 0
    step = block_rows(max(n_new - n_kept, 1), budget)
    for start in range(0, len(keep), step):
        rows = keep[start : start + step]
        old_rows = remapped[rows]
        old_scores = np.where(old_rows >= 0, stored_scores[rows], 0.0).astype(np.float32)
        if n_new > n_kept:
            fresh = np.asarray((vectors[rows] @ added_transposed).toarray(), dtype=np.float32)
            columns = np.broadcast_to(np.arange(n_kept, n_new), fresh.shape)
            all_rows = np.concatenate([old_rows, columns], axis=1)
            all_scores = np.concatenate([old_scores, fresh], axis=1)
        else:
            all_rows, all_scores = old_rows, old_scores
        valid = (all_rows >= 0) & (all_scores > 0)
        keys_score = np.where(valid, -all_scores, np.inf)
        keys_row = np.where(valid, all_rows, np.iinfo(np.int64).max)
        order = np.lexsort((keys_row, keys_score), axis=-1)[:, :width]
        chosen = np.take_along_axis(all_rows, order, axis=1)
        chosen_scores = np.take_along_axis(all_scores, order, axis=1)
        chosen_valid = np.take_along_axis(valid, order, axis=1)
        block_neighbors = np.where(chosen_valid, chosen, -1).astype(np.int32)
        neighbors[rows] = block_neighbors
        scores[rows] = np.where(chosen_valid, chosen_scores, 0.0)
        refreshed += int((block_neighbors != np.where(old_rows >= 0, old_rows, -1)).any(axis=1).sum())
    return neighbors, scores, refreshed, int(broken.sum())


def update_model(
    path: str | os.PathLike[str],
    *,
    add: Articles | None = None,
    remove: Sequence[str] = (),
    output: str | os.PathLike[str] | None = None,
    format: str | None = None,
    max_unseen: float = 0.2,
    max_added: float = 0.3,
) -> UpdateReport:
    """Update the model folder ``path`` and write the complete new model to ``output`` (default: in place).

    Returns the report; ``max_unseen`` and ``max_added`` are the drift shares past which it recommends
    a full rebuild.
    """
    folder = fmt.open_model(path)
    model = Recommender.load(path)
    if isinstance(add, str | os.PathLike):
        add = read_articles(add, format=format)
    updated, counts = apply_update(model, add=add, remove=remove)
    lineage = _lineage(folder, counts, len(updated.ids))
    history = lineage["updates"]
    since = sum(step["added"] + step["edited"] for step in history)
    added_share = since / len(updated.ids) if updated.ids else 0.0
    unseen_share = counts.unseen / counts.tokens if counts.tokens else 0.0
    reasons = []
    if unseen_share > max_unseen:
        reasons.append(f"unseen tokens {unseen_share:.1%} > {max_unseen:.0%}")
    if added_share > max_added:
        reasons.append(f"added since the last build {added_share:.1%} > {max_added:.0%}")
    advice = (
        "a full rebuild is recommended (" + "; ".join(reasons) + "): recommender build CORPUS -o MODEL_DIR"
        if reasons
        else "no rebuild needed yet"
    )
    history[-1]["unseen_token_share"] = round(unseen_share, 6)
    target = Path(output) if output is not None else Path(path)
    updated.save(target, lineage=lineage)
    return UpdateReport(
        path=str(target),
        articles=len(updated.ids),
        added=counts.added,
        edited=counts.edited,
        removed=counts.removed,
        refreshed=counts.refreshed,
        recomputed=counts.recomputed,
        unseen_token_share=unseen_share,
        added_share=added_share,
        rebuild_recommended=bool(reasons),
        advice=advice,
    )


def _lineage(folder: fmt.ModelFolder, counts: _Counts, articles: int) -> dict[str, Any]:
    """The base build (carried over, or this folder when it is a full build) plus the update history."""
    previous = folder.manifest.get("lineage")
    if isinstance(previous, dict) and "base_build" in previous:
        lineage = {"base_build": previous["base_build"], "updates": list(previous.get("updates", []))}
    else:
        files = folder.manifest.get("files", {})
        lineage = {
            "base_build": {
                "library_version": folder.manifest.get("library_version"),
                "articles": folder.counts.get("articles"),
                "terms": folder.counts.get("terms"),
                "ids_sha256": files.get("ids.json", {}).get("sha256"),
                "idf_sha256": files.get("idf.npy", {}).get("sha256"),
            },
            "updates": [],
        }
    lineage["updates"].append(
        {"added": counts.added, "edited": counts.edited, "removed": counts.removed, "articles": articles}
    )
    return lineage
