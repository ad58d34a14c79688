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
from .drafts import collect_forms
from .languages import article_languages, top_k_within
from .model import Recommender, _metadata
from .neighbors import block_rows, top_k, top_k_of
from .types import InvalidParameterError, UnknownArticleError

# Ranking levers whose lists depend on the whole corpus at once (a global projection, hub scores,
# duplicate groups); an update cannot keep them exact without a rebuild.
_GLOBAL_LEVERS = {"lsa_weight": 0.0, "hub_weight": 0.0, "hide_duplicates": False}

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


def article_languages_of(model: Recommender, frame: pd.DataFrame) -> list[str]:
    """The language of each article of ``frame``, decided as ``Recommender.fit`` decides it."""
    declared = next((frame[name] for name in ("lang", "language") if name in frame.columns), None)
    return article_languages(
        declared if declared is not None else [None] * len(frame),
        [f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True)],
        language=model.settings.language,
    )


def _identity(terms: list[str]) -> list[str]:
    return terms


def check_updatable(model: Recommender) -> None:
    """Refuse models whose ranking uses corpus-wide levers an update cannot keep exact."""
    used = [
        f"{name}={getattr(model.settings, name)!r}"
        for name, off in _GLOBAL_LEVERS.items()
        if getattr(model.settings, name) != off and (name != "lsa_weight" or model.components is not None)
    ]
    if used:
        message = (
            f"this model ranks with corpus-wide levers ({', '.join(used)}) that an incremental update "
            "cannot keep exact: rebuild it with recommender build, or build the base with "
            "--lsa-weight 0 --hub-weight 0 --keep-duplicates to update it incrementally"
        )
        raise InvalidParameterError(message)


def vectorize_frozen(
    model: Recommender, frame: pd.DataFrame, languages: Sequence[str]
) -> tuple[sp.csr_matrix, int, int]:
    """TF-IDF rows of ``frame`` in the model's vocabulary and idf, plus (unseen, total) token counts."""
    analyzers = model.analyzers
    titles = [analyzers[lang](title or "") for lang, title in zip(languages, frame["title"], strict=True)]
    bodies = [analyzers[lang](body) for lang, body in zip(languages, frame["body"], strict=True)]
    counter = CountVectorizer(analyzer=_identity, vocabulary=model.vocabulary, dtype=np.float64)
    counts = counter.transform(bodies)
    if model.settings.title_weight:
        counts = counts + model.settings.title_weight * counter.transform(titles)
    known = set(model.vocabulary)
    tokens = [term for terms in (*titles, *bodies) for term in terms]
    unseen = sum(term not in known for term in tokens)
    return model._weigh(sp.csr_matrix(counts), model.idf), unseen, len(tokens)


def _grouped(model: Recommender, languages: Sequence[str]) -> bool:
    """True when lists stay within each language (as ``fit`` does for a multi-language model)."""
    return not model.settings.cross_language and len(set(languages)) > 1


def _search(
    model: Recommender, vectors: sp.csr_matrix, languages: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    settings = model.settings
    if _grouped(model, languages):
        return top_k_within(vectors, languages, settings.k, memory_budget=settings.memory_budget)
    return top_k(vectors, settings.k, memory_budget=settings.memory_budget)


def rebuild_frozen(model: Recommender, articles: Articles) -> Recommender:
    """A full rebuild of ``articles`` that keeps ``model``'s vocabulary, idf and settings (the reference)."""
    check_updatable(model)
    frame = load_articles(articles)
    languages = article_languages_of(model, frame)
    vectors, _, _ = vectorize_frozen(model, frame, languages)
    neighbors, scores = _search(model, vectors, languages)
    result = _assemble(
        model, [str(a) for a in frame["id"]], _metadata(frame), languages, vectors, neighbors, scores
    )
    result.forms = {}
    _add_forms(result, frame, languages)
    return result


def _assemble(
    model: Recommender,
    ids: list[str],
    metadata: list[dict[str, Any]],
    languages: list[str],
    vectors: sp.csr_matrix,
    neighbors: np.ndarray,
    scores: np.ndarray,
) -> Recommender:
    result = _copy_settings(model)
    for record, lang in zip(metadata, languages, strict=True):
        record["lang"] = lang
    result._set_state(
        ids=ids,
        metadata=metadata,
        vocabulary=list(model.vocabulary),
        idf=model.idf,
        vectors=vectors,
        neighbors=neighbors,
        scores=scores,
        surface=list(model.surface),
    )
    result._set_languages(list(languages))
    result.forms = {language: dict(table) for language, table in model.forms.items()}
    return result


def _add_forms(model: Recommender, frame: pd.DataFrame, languages: Sequence[str]) -> None:
    """Add the surface forms of ``frame``'s articles to ``model``'s (what the numpy-only query reads)."""
    texts = (f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True))
    for language, table in collect_forms(texts, languages, model.analyzers).items():
        model.forms.setdefault(language, {}).update(table)


def _copy_settings(model: Recommender) -> Recommender:
    result = Recommender(**{name: getattr(model.settings, name) for name in model.settings.to_dict()})
    result.analyzers = model.analyzers
    result.analyzer = model.analyzer
    result.reference_length = model.reference_length  # BM25's length normalisation stays frozen
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
    check_updatable(model)
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
    new_languages: list[str] = []
    if frame is not None:
        new_languages = article_languages_of(model, frame)
        added_vectors, unseen, tokens = vectorize_frozen(model, frame, new_languages)
    else:
        added_vectors = sp.csr_matrix(np.zeros((0, len(model.vocabulary)), dtype=np.float32))
    stacked = sp.vstack([model.vectors[survivors], added_vectors], format="csr")
    vectors = sp.csr_matrix(stacked, dtype=np.float32)
    vectors.sort_indices()
    n_new = vectors.shape[0]
    old_languages = list(model.languages) or [model.analyzer.language] * n_old
    languages = [old_languages[row] for row in survivors.tolist()] + new_languages
    width = min(model.settings.k, max(n_new - 1, 0))
    ids = [model.ids[row] for row in survivors.tolist()] + new_ids
    metadata = [dict(model._metadata[row]) for row in survivors.tolist()]
    metadata += _metadata(frame) if frame is not None else []
    grouped = _grouped(model, languages)
    if width != model.neighbors.shape[1] or n_new == 0 or grouped != _grouped(model, old_languages):
        # The stored lists do not fit the new shape (size or language grouping): search in full.
        neighbors, scores = _search(model, vectors, languages)
        refreshed, recomputed = 0, len(survivors)
    else:
        labels = np.asarray(languages, dtype=object) if grouped else np.zeros(n_new, dtype=object)
        neighbors, scores, refreshed, recomputed = _incremental(
            model, vectors, survivors, old_to_new, labels, width
        )
    result = _assemble(model, ids, metadata, languages, vectors, neighbors, scores)
    if frame is not None:
        _add_forms(result, frame, new_languages)
    counts = _Counts(
        len(new_ids) - len(edited), len(edited), len(removed), refreshed, recomputed, unseen, tokens
    )
    return result, counts


def _incremental(
    model: Recommender,
    vectors: sp.csr_matrix,
    survivors: np.ndarray,
    old_to_new: np.ndarray,
    labels: np.ndarray,
    width: int,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Exact lists for new rows and broken lists; a merge with the new rows' scores for all others.

    ``labels`` groups rows (by language when lists stay within a language); candidates never cross
    groups, exactly as the full search does.
    """
    budget = model.settings.memory_budget
    n_new = vectors.shape[0]
    n_kept = len(survivors)
    stored = np.asarray(model.neighbors)[survivors]
    stored_scores = np.asarray(model.scores)[survivors]
    remapped = np.where(stored >= 0, old_to_new[np.maximum(stored, 0)], -1)
    # A list that held a removed (or edited) article has a gap only a full search can fill.
    broken = ((stored >= 0) & (remapped < 0)).any(axis=1)
    neighbors = np.full((n_new, width), -1, dtype=np.int32)
    scores = np.zeros((n_new, width), dtype=np.float32)
    exact = np.zeros(n_new, dtype=bool)
    exact[np.flatnonzero(broken)] = True
    exact[n_kept:] = True
    refreshed = 0
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        group = vectors[members]
        transposed = group.T.tocsr()
        rows = members[exact[members]]
        step = block_rows(len(members), budget)
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            local = np.searchsorted(members, chunk)
            found, found_scores = top_k_of(vectors[chunk], transposed, width, exclude=local)
            found = np.where(found >= 0, members[np.maximum(found, 0)], -1)
            neighbors[chunk, : found.shape[1]] = found
            scores[chunk, : found.shape[1]] = found_scores
        # Reverse refresh: every other surviving list in the group is merged with the new rows' scores.
        added = members[members >= n_kept]
        added_transposed = vectors[added].T.tocsr()
        keep = members[(members < n_kept) & ~exact[members]]
        step = block_rows(max(len(added), 1), budget)
        for start in range(0, len(keep), step):
            chunk = keep[start : start + step]
            block, changed = _merge(
                vectors[chunk], added_transposed, added, remapped[chunk], stored_scores[chunk], width
            )
            neighbors[chunk], scores[chunk] = block
            refreshed += changed
    return neighbors, scores, refreshed, int(broken.sum())


def _merge(
    queries: sp.csr_matrix,
    added_transposed: sp.csr_matrix,
    added: np.ndarray,
    old_rows: np.ndarray,
    old_scores: np.ndarray,
    width: int,
) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """Top ``width`` of each stored list together with the added rows, by ``(-score, row)``."""
    old_scores = np.where(old_rows >= 0, old_scores, 0.0).astype(np.float32)
    fresh = np.asarray((queries @ added_transposed).toarray(), dtype=np.float32)
    columns = np.broadcast_to(added, fresh.shape)
    all_rows = np.concatenate([old_rows, columns], axis=1)
    all_scores = np.concatenate([old_scores, fresh], axis=1)
    valid = (all_rows >= 0) & (all_scores > 0)
    keys_score = np.where(valid, -all_scores, np.inf)
    keys_row = np.where(valid, all_rows, np.iinfo(np.int64).max)
    order = np.lexsort((keys_row, keys_score), axis=-1)[:, :width]
    chosen = np.take_along_axis(all_rows, order, axis=1)
    chosen_scores = np.take_along_axis(all_scores, order, axis=1)
    chosen_valid = np.take_along_axis(valid, order, axis=1)
    block_neighbors = np.where(chosen_valid, chosen, -1).astype(np.int32)
    block_scores = np.where(chosen_valid, chosen_scores, 0.0).astype(np.float32)
    changed = int((block_neighbors != old_rows[:, :width]).any(axis=1).sum())
    return (block_neighbors, block_scores), changed


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
