"""Incremental updates: add, edit and remove articles without a full rebuild, with exactly its lists.

Frozen at the base build and kept by every update: the vocabulary, the idf, BM25's reference length,
the LSA components (or their absence: a base under 400 articles keeps plain TF-IDF however far it
grows), the analyzers, the settings and the surface words. Recomputed on the new article set exactly as
``Recommender.fit`` computes them: each article's raw candidate pool (its top ``pool_width`` blended
scores, within its language unless ``cross_language``), and from all the pools the near-duplicate groups
(which article of each is kept), the hub scores, the hub re-rank and the stored top-``k`` lists
(``recommender.recommender.rank_pools``). :func:`rebuild_frozen` is that definition as code: a full rebuild of
the new article set with the frozen parts.

:func:`apply_update` gets the same result incrementally. Only the pools cost ``O(N²)`` from scratch, so
the model stores them (``pool_neighbors.npy``, ``pool_scores.npy``, and the body ``lengths.npy`` that
pick a duplicate group's kept article). New and edited articles are scored against all (``O(new × N)``);
every other pool is merged with its scores against the new articles (reverse refresh, ``O(new × N)``);
pools that held a removed or edited article are searched again in full; then ``rank_pools`` reruns over
all ``N`` pools (``O(N × width)``). Pool scores are canonical (``recommender.build.pools``), so the result
equals the frozen rebuild bit for bit.

What a loaded model stores moves forward as stored: the article records as bytes (``format.Records``),
the LSA rows from the draft tables, the word-form tables grown in place. The fixed cost of an update is
then reading and writing the arrays, not decoding and deriving them again.

Models that rank with hubs or hidden duplicates but were saved before the pools were stored must be
rebuilt once. The manifest's ``lineage`` records the base build and every update, and the report
measures vocabulary drift.
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

from .. import store as fmt
from .blend import SearchRows, blend_rows
from ..sources.corpus import Articles, load_articles, read_articles
from .tables import collect_forms
from ..text.languages import article_languages
from .fit import Lists, pool_width, rank_pools, search_pools
from ..recommender import Recommender, _metadata
from .pools import POOL_MARGIN, canonical_scores, settle_rows
from ..types import InvalidParameterError, ModelFormatError, UnknownArticleError

__all__ = [
    "UpdateReport", "apply_update", "check_updatable", "read_ids", "rebuild_frozen", "update_model",
    "vectorize_frozen",
]  # fmt: skip


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
            f"{self.removed} removed); {self.refreshed} existing candidate pools gained new articles "
            f"(reverse refresh), {self.recomputed} searched again after removals and edits\n"
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


def check_updatable(
    model: Recommender, *, path: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The raw candidate pools an exact update starts from; refuses a model saved without them."""
    if model.pools is not None and (model.lengths is not None or not model.settings.hide_duplicates):
        return model.pools
    where = f"{path}: " if path is not None else ""
    target = path if path is not None else "MODEL_DIR"
    message = (
        f"{where}this model ranks with hub scores or hidden near-duplicates but was saved by an older "
        "version, without the raw candidate pools an exact update starts from; rebuild it once with "
        f"this version (recommender build CORPUS -o {target}), then update it incrementally"
    )
    raise ModelFormatError(message)


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


def _blend(model: Recommender, vectors: sp.csr_matrix) -> SearchRows:
    """The rows the neighbour search compares: TF-IDF blended with the frozen LSA projection, if any."""
    return blend_rows(vectors, model.components, model.settings.lsa_weight)


def _grouped(model: Recommender, languages: Sequence[str]) -> bool:
    """True when lists stay within each language (as ``fit`` does for a multi-language model)."""
    return not model.settings.cross_language and len(set(languages)) > 1


def rebuild_frozen(model: Recommender, articles: Articles) -> Recommender:
    """A full rebuild of ``articles`` with ``model``'s frozen parts (the reference an update equals).

    Vocabulary, idf, BM25 reference length, LSA components, analyzers and settings come from ``model``;
    the raw candidate pools, near-duplicate groups, hub scores and lists are computed from scratch on
    ``articles``, in their order, exactly as ``Recommender.fit`` computes them.
    """
    frame = load_articles(articles)
    languages = article_languages_of(model, frame)
    vectors, _, _ = vectorize_frozen(model, frame, languages)
    search = _blend(model, vectors)
    pools = search_pools(search.joined(), languages, model.settings)
    lengths = np.array([len(body) for body in frame["body"]], dtype=np.int64)
    result = _assemble(
        model,
        [str(a) for a in frame["id"]],
        _records(frame, languages),
        languages,
        (vectors, search),
        pools,
        lengths,
    )
    result.forms = {}
    _add_forms(result, frame, languages)
    return result


def _assemble(
    model: Recommender,
    ids: list[str],
    metadata: Sequence[dict[str, Any]],
    languages: list[str],
    rows: tuple[sp.csr_matrix, SearchRows],
    pools: tuple[np.ndarray, np.ndarray],
    lengths: np.ndarray | None,
) -> Recommender:
    """A fitted model from the raw pools: duplicates, hubs and lists derived as ``fit`` derives them."""
    vectors, search = rows
    lists: Lists = rank_pools(
        *pools,
        model.settings,
        dates=_dates(metadata),
        lengths=lengths if lengths is not None else np.zeros(len(ids), dtype=np.int64),
    )
    result = _copy_settings(model)
    result._set_state(
        ids=ids,
        metadata=metadata,
        vocabulary=list(model.vocabulary),
        idf=model.idf,
        vectors=vectors,
        neighbors=lists.neighbors,
        scores=lists.scores,
        components=model.components,
        surface=list(model.surface),
        duplicates={ids[row]: ids[keep] for row, keep in sorted(lists.canonical.items())},
        hubs=lists.hubs,
        pools=pools,
        lengths=lengths,
        search=search,
    )
    result._set_languages(list(languages))
    result.copy_forms(model)
    return result


def _dates(metadata: Sequence[dict[str, Any]]) -> list[str | None]:
    """Each record's date (stored records read it from their date column, without decoding)."""
    if isinstance(metadata, fmt.Records):
        return metadata.column("date")
    return [record.get("date") for record in metadata]


def _records(frame: pd.DataFrame, languages: Sequence[str]) -> list[dict[str, Any]]:
    """The stored record of each article of ``frame``: its metadata and language."""
    records = _metadata(frame)
    for record, lang in zip(records, languages, strict=True):
        record["lang"] = lang
    return records


def _add_forms(model: Recommender, frame: pd.DataFrame, languages: Sequence[str]) -> None:
    """Add the surface forms of ``frame``'s articles to ``model``'s (what the numpy-only query reads)."""
    texts = (f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True))
    model.add_forms(collect_forms(texts, languages, model.analyzers))


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
    """A new fitted model: ``model`` without ``remove``, with ``add`` (new or same-id edited) appended.

    Equal to :func:`rebuild_frozen` of the surviving articles (in model order) followed by ``add``.
    """
    stored = check_updatable(model)
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
    alive = np.ones(n_old, dtype=bool)
    alive[list(dropped)] = False
    survivors = np.flatnonzero(alive).astype(np.int64)
    old_to_new = np.full(n_old, -1, dtype=np.int64)
    old_to_new[survivors] = np.arange(len(survivors))
    unseen = tokens = 0
    new_languages: list[str] = []
    if frame is not None:
        new_languages = article_languages_of(model, frame)
        added_vectors, unseen, tokens = vectorize_frozen(model, frame, new_languages)
    else:
        added_vectors = sp.csr_matrix(np.zeros((0, len(model.vocabulary)), dtype=np.float32))
    vectors = _stack(model.vectors[survivors], added_vectors)
    # Blending is row by row, so the surviving rows keep the blended rows the model already holds.
    search = model._search_rows.take(survivors).stack(_blend(model, added_vectors))
    n_new = vectors.shape[0]
    old_languages = list(model.languages) or [model.analyzer.language] * n_old
    languages = [old_languages[row] for row in survivors.tolist()] + new_languages
    width = min(pool_width(model.settings), max(n_new - 1, 0))
    ids = [model.ids[row] for row in survivors.tolist()] + new_ids
    added = _records(frame, new_languages) if frame is not None else []
    metadata: Sequence[dict[str, Any]]
    if isinstance(model._metadata, fmt.Records):  # a loaded model: records move as stored bytes
        metadata = model._metadata.take(survivors).concat(fmt.Records.encode(added))
    else:
        metadata = [dict(model._metadata[row]) for row in survivors.tolist()] + added
    grouped = _grouped(model, languages)
    if width != stored[0].shape[1] or width == 0 or grouped != _grouped(model, old_languages):
        # The stored pools do not fit the new shape (size or language grouping): search in full.
        pools = search_pools(search.joined(), languages, model.settings)
        refreshed, recomputed = 0, len(survivors)
    else:
        labels = np.asarray(languages, dtype=object) if grouped else np.zeros(n_new, dtype=object)
        pools, refreshed, recomputed = _incremental(
            stored,
            search,
            survivors,
            old_to_new,
            labels,
            width,
            model.settings.memory_budget,
        )
    lengths = None
    if model.lengths is not None:
        fresh = [len(body) for body in frame["body"]] if frame is not None else []
        lengths = np.concatenate([np.asarray(model.lengths)[survivors], np.array(fresh, dtype=np.int64)])
    result = _assemble(model, ids, metadata, languages, (vectors, search), pools, lengths)
    if frame is not None:
        _add_forms(result, frame, new_languages)
    counts = _Counts(
        len(new_ids) - len(edited), len(edited), len(removed), refreshed, recomputed, unseen, tokens
    )
    return result, counts


def _stack(top: sp.csr_matrix, bottom: sp.csr_matrix) -> sp.csr_matrix:
    stacked = sp.csr_matrix(sp.vstack([top, bottom], format="csr"), dtype=np.float32)
    stacked.sort_indices()
    return stacked


def _incremental(
    stored_pools: tuple[np.ndarray, np.ndarray],
    search: SearchRows,
    survivors: np.ndarray,
    old_to_new: np.ndarray,
    labels: np.ndarray,
    width: int,
    budget: int,
) -> tuple[tuple[np.ndarray, np.ndarray], int, int]:
    """Exact raw pools: a full search for new rows and broken pools, a merge for all others.

    One product of every row against the rows to search (new and broken) serves both directions: its
    columns are those rows' scores against all (their search), and its new-row columns are every other
    pool's scores against the new articles (the reverse refresh). ``labels`` groups rows (by language
    when lists stay within a language); candidates never cross groups, exactly as the full search does.
    Returns ``((neighbors, scores), refreshed, recomputed)``.
    """
    sparse, dense = search.terms, search.dense
    n_new = search.shape[0]
    n_kept = len(survivors)
    stored = np.asarray(stored_pools[0])[survivors]
    stored_scores = np.asarray(stored_pools[1])[survivors]
    remapped = np.where(stored >= 0, old_to_new[np.maximum(stored, 0)], -1)
    # A pool that held a removed (or edited) article has a gap only a full search can fill.
    broken = ((stored >= 0) & (remapped < 0)).any(axis=1)
    neighbors = np.full((n_new, width), -1, dtype=np.int32)
    scores = np.zeros((n_new, width), dtype=np.float32)
    exact = np.zeros(n_new, dtype=bool)
    exact[np.flatnonzero(broken)] = True
    exact[n_kept:] = True
    kept = np.flatnonzero(~exact)
    neighbors[kept] = remapped[kept]
    scores[kept] = np.where(remapped[kept] >= 0, stored_scores[kept], 0.0)
    refreshed = 0
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        searched = members[exact[members]]
        if searched.size == 0:
            continue
        added_columns = np.flatnonzero(searched >= n_kept)
        searched_transposed = sparse[searched].T.tocsr()
        searched_dense = None if dense is None else dense[searched].T.copy()
        reach = min(width + POOL_MARGIN, len(members) - 1)
        best_rows = np.full((searched.size, 0), -1, dtype=np.int64)
        best_scores = np.zeros((searched.size, 0), dtype=np.float32)
        step = max(1, budget // (_BYTES_PER_SCORE * searched.size))
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            block = np.asarray((sparse[chunk] @ searched_transposed).toarray(), dtype=np.float32)
            if dense is not None and searched_dense is not None:
                block += dense[chunk] @ searched_dense
            local = np.searchsorted(chunk, searched)
            own = local < chunk.size
            own[own] = chunk[local[own]] == searched[own]
            block[local[own], np.flatnonzero(own)] = -np.inf  # a row is not its own candidate
            best_rows, best_scores = _keep_best(best_rows, best_scores, chunk, block.T, reach)
            stays = ~exact[chunk]
            if added_columns.size and stays.any():
                rows = chunk[stays]
                block_neighbors, block_scores, changed = _merge(
                    search,
                    rows,
                    block[stays][:, added_columns],
                    searched[added_columns],
                    neighbors[rows],
                    scores[rows],
                )
                neighbors[rows], scores[rows] = block_neighbors, block_scores
                refreshed += changed
        found = np.where(best_scores > 0, best_rows, -1)
        settled, settled_scores = settle_rows(search, searched, found, width)
        neighbors[searched, : settled.shape[1]] = settled
        scores[searched, : settled.shape[1]] = settled_scores
    return (neighbors, scores), refreshed, int(broken.sum())


def _keep_best(
    best_rows: np.ndarray, best_scores: np.ndarray, chunk: np.ndarray, columns: np.ndarray, reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``reach`` best rows so far per searched row, adding ``columns`` (its scores against ``chunk``).

    Scores here come from the quick product; ``settle_rows`` scores the survivors canonically.
    """
    take = min(reach, chunk.size)
    if take < chunk.size:
        picked = np.argpartition(-columns, take - 1, axis=1)[:, :take]
    else:
        picked = np.broadcast_to(np.arange(chunk.size), (columns.shape[0], chunk.size))
    rows = np.concatenate([best_rows, chunk[picked]], axis=1)
    values = np.concatenate([best_scores, np.take_along_axis(columns, picked, axis=1)], axis=1)
    if rows.shape[1] > reach:
        order = np.argpartition(-values, reach - 1, axis=1)[:, :reach]
        rows = np.take_along_axis(rows, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
    return rows, values


def _merge(
    search: SearchRows,
    rows: np.ndarray,
    fresh: np.ndarray,
    added: np.ndarray,
    old_rows: np.ndarray,
    old_scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The pools of ``rows`` together with the ``added`` rows, cut to width by ``(-score, row)``.

    ``fresh`` (the quick product) finds the added rows that may enter a pool (above zero and within
    rounding of its last score); only those are scored canonically and merged, so most pools are kept.
    """
    width = old_rows.shape[1]
    entering = (fresh > 0) & (fresh >= old_scores[:, width - 1, None] - _ROUNDING)
    block_neighbors = old_rows.astype(np.int32)
    block_scores = old_scores.astype(np.float32)
    hit = np.flatnonzero(entering.any(axis=1))
    if hit.size == 0:
        return block_neighbors, block_scores, 0
    pair_rows, pair_cols = np.nonzero(entering[hit])
    candidates = np.full((hit.size, added.size), -1, dtype=np.int64)
    candidates[pair_rows, pair_cols] = added[pair_cols]
    candidate_scores = np.zeros((hit.size, added.size), dtype=np.float32)
    candidate_scores[pair_rows, pair_cols] = canonical_scores(search, rows[hit][pair_rows], added[pair_cols])
    all_rows = np.concatenate([old_rows[hit], candidates], axis=1)
    all_scores = np.concatenate([old_scores[hit], candidate_scores], axis=1)
    valid = (all_rows >= 0) & (all_scores > 0)
    keys_score = np.where(valid, -all_scores, np.inf)
    keys_row = np.where(valid, all_rows, np.iinfo(np.int64).max)
    order = np.lexsort((keys_row, keys_score), axis=-1)[:, :width]
    chosen = np.take_along_axis(all_rows, order, axis=1)
    chosen_scores = np.take_along_axis(all_scores, order, axis=1)
    chosen_valid = np.take_along_axis(valid, order, axis=1)
    block_neighbors[hit] = np.where(chosen_valid, chosen, -1)
    block_scores[hit] = np.where(chosen_valid, chosen_scores, 0.0)
    changed = int((block_neighbors[hit] != old_rows[hit]).any(axis=1).sum())
    return block_neighbors, block_scores, changed


# Far above the rounding differences between the quick product and the canonical score.
_ROUNDING = 1e-5
# A float32 score and the masks and copies made from it, as the neighbour search counts them.
_BYTES_PER_SCORE = 12


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
    model = Recommender.load(path)  # checks every file's size and SHA-256
    folder = fmt.open_model(path, verify=False)  # the manifest, for the lineage
    check_updatable(model, path=path)
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
