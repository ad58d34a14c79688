"""Incremental updates: add, edit and remove articles without a full rebuild, with exactly its lists.

Frozen at the base build and kept by every update: the vocabulary, the idf, BM25's reference length,
the LSA components (or their absence: a base under 400 articles keeps plain TF-IDF however far it
grows), the analyzers, the settings and the per-term readable words. Recomputed on the new article set
exactly as a build computes them: each article's raw candidate pool (its top ``pool_width`` blended
scores, within its language unless ``cross_language``), and from all the pools the near-duplicate groups,
the hub scores, the hub re-rank and the stored top-``k`` lists (``recommender.build.lists.rank_pools``).
:func:`rebuild_frozen` is that definition as code: a full rebuild of the new article set with the frozen
parts. :func:`apply_update` gets the same result incrementally (``recommender.build.incremental``).

What a stored model holds moves forward as stored: the article records as bytes, the LSA rows, the
word-form tables grown in place. :func:`update_model` holds the model path's writer lock from reading the
current generation to publishing the next, so concurrent updates apply one after the other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .. import store
from ..recommender import Recommender
from ..sources.corpus import Articles, load_articles, read_articles
from ..types import InvalidParameterError, ModelFormatError, UnknownArticleError
from .assemble import ModelParts, OwnWords, assemble, records_of
from .blend import SearchRows
from .frozen import NewRows, analyse_frozen_rows, frozen_weighting, stored_search_rows
from .incremental import incremental_pools
from .lists import pool_width, rank_pools, search_pools
from .pipeline import Stage, untimed
from .tables import StoredForms
from .unchanged import unchanged_rows

__all__ = ["UpdateReport", "apply_update", "check_updatable", "read_ids", "rebuild_frozen", "update_model"]


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
    embedded: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data."""
        return asdict(self)

    def to_text(self) -> str:
        """A short human-readable report."""
        return (
            f"updated {self.path}: {self.articles} articles ({self.added} added, {self.edited} edited, "
            f"{self.removed} removed{f', {self.unchanged} unchanged' if self.unchanged else ''}); "
            f"{self.refreshed} existing candidate pools gained new articles "
            f"(reverse refresh), {self.recomputed} searched again after removals and edits\n"
            f"drift: {self.unseen_token_share:.1%} of the new articles' tokens are not in the vocabulary; "
            f"{self.added_share:.1%} of articles were added or edited since the last full build\n"
            f"{self.advice}"
        ) + (f"\nsemantic view: embedded {self.embedded} article(s)" if self.embedded else "")


@dataclass(frozen=True)
class Counts:
    """What an update changed, and the new articles' tokens outside the vocabulary."""

    added: int
    edited: int
    removed: int
    refreshed: int
    recomputed: int
    unseen: int
    tokens: int
    embedded: int = 0
    unchanged: int = 0


def read_ids(path: str | os.PathLike[str]) -> list[str]:
    """Article ids from a text file, one per line (blank lines and ``#`` comments ignored).

    A byte-order mark is dropped, and lines end only at a line feed (a carriage return before it is
    dropped): ``splitlines`` would also cut an id at a Unicode line or paragraph separator.
    """
    file_path = Path(path)
    try:
        with file_path.open(encoding="utf-8-sig", newline="") as handle:
            lines = [line.removesuffix("\r") for line in handle.read().split("\n")]
    except (OSError, UnicodeDecodeError) as error:
        message = f"{file_path}: cannot read the ids file ({error})"
        raise InvalidParameterError(message) from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def check_updatable(
    model: Recommender, *, path: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The raw candidate pools an exact update starts from; refuses a model saved without them."""
    pools = model.pools
    if pools is not None and (model.lengths is not None or not model.settings.hide_duplicates):
        return pools
    where = f"{path}: " if path is not None else ""
    target = path if path is not None else "MODEL_DIR"
    message = (
        f"{where}this model ranks with hub scores or hidden near-duplicates but was saved by an older "
        "version, without the raw candidate pools an exact update starts from; rebuild it once with "
        f"this version (recommender build CORPUS -o {target}), then update it incrementally"
    )
    raise ModelFormatError(message)


def _grouped(model: Recommender, languages: Sequence[str]) -> bool:
    """True when lists stay within each language (as a build does for a multi-language model)."""
    return not model.settings.cross_language and len(set(languages)) > 1


def rebuild_frozen(model: Recommender, articles: Articles) -> Recommender:
    """A full rebuild of ``articles`` with ``model``'s frozen parts (the reference an update equals)."""
    new = analyse_frozen_rows(model, load_articles(articles))
    pools = search_pools(new.search, new.languages, model.settings)
    lengths = np.array([len(body) for body in new.frame["body"]], dtype=np.int64)
    records = records_of(new.frame, new.languages)
    rows = (new.vectors, new.search)
    return _assembled(
        model, new.ids, records, new.languages, rows, pools, lengths, (new.forms, new.own_words)
    )


def _assembled(
    model: Recommender,
    ids: list[str],
    records: Sequence[dict[str, Any]] | store.Records,
    languages: list[str],
    rows: tuple[sp.csr_matrix, SearchRows],
    pools: tuple[np.ndarray, np.ndarray],
    lengths: np.ndarray,
    words: tuple[Any, OwnWords],
) -> Recommender:
    """A model from the raw pools: duplicates, hubs and lists derived as a build derives them; ``words``
    are the word-form tables and each article's own words."""
    forms, own_words = words
    dates = records.column("date") if isinstance(records, store.Records) else [r.get("date") for r in records]
    lists = rank_pools(*pools, model.settings, dates=dates, lengths=lengths)
    vectors, search = rows
    stored = model.stored
    parts = ModelParts(
        settings=model.settings,
        ids=ids,
        records=records,
        languages=languages,
        analyzer=dict(stored.document(store.ANALYZER)),
        vocabulary=model.vocabulary,
        idf=model.idf,
        reference_length=frozen_weighting(model).reference_length,
        vectors=vectors,
        search=search,
        components=model.components,
        pools=pools,
        lists=lists,
        lengths=lengths,
        forms=forms,
        surface=list(model.term_words),
        own_words=own_words,
        semantic=stored.document(store.SEMANTIC) if stored.has(store.SEMANTIC) else None,
    )
    return Recommender.from_stored(assemble(parts))


def _carried_words(model: Recommender, survivors: np.ndarray, new: NewRows | None) -> OwnWords:
    """Each surviving article's own words as stored (a model saved before them gets one word per term),
    then the new articles'."""
    stored, indptr = model.stored, np.asarray(model.vectors.indptr, dtype=np.int64)
    if stored.has(store.VECTOR_FORMS):
        name = store.SURFACE_FORMS
        table = (
            np.asarray(stored.array(f"{name}_bytes")),
            np.asarray(stored.array(f"{name}_offsets"), np.int64),
        )
        forms = np.asarray(stored.array(store.VECTOR_FORMS))
    else:
        table = store.StringTable.encode(model.term_words)
        forms = np.asarray(model.vectors.indices)
    lengths = np.diff(indptr)[survivors]
    entries = np.arange(int(lengths.sum())) + np.repeat(
        indptr[survivors] - (np.cumsum(lengths) - lengths), lengths
    )
    rows = forms[entries]
    if new is None:
        return OwnWords(table, rows.astype(np.int32))
    more_bytes, more_offsets = new.own_words.words
    joined = (
        np.concatenate([table[0], np.asarray(more_bytes)]).astype(np.uint8),
        np.concatenate([table[1], np.asarray(more_offsets[1:], np.int64) + table[1][-1]]),
    )
    shifted = np.asarray(new.own_words.rows, dtype=np.int64) + (len(table[1]) - 1)
    return OwnWords(joined, np.concatenate([rows, shifted]).astype(np.int32))


def apply_update(
    model: Recommender, *, add: Articles | None = None, remove: Iterable[str] = ()
) -> tuple[Recommender, Counts]:
    """A new model: ``model`` without ``remove``, with ``add`` (new or same-id edited) appended; added
    articles the model holds exactly as given are left in place (``Counts.unchanged``).

    Equal to :func:`rebuild_frozen` of the surviving articles (in model order) followed by ``add``.
    """
    stored_pools = check_updatable(model)
    frame = load_articles(add) if add is not None else None
    new_ids = [str(article_id) for article_id in frame["id"]] if frame is not None else []
    removed = _checked_removals(model, remove, new_ids)
    unchanged = checked_embedded = 0
    if frame is not None:  # articles the model holds exactly as given stay where they are
        same, checked_embedded = unchanged_rows(model, frame)
        unchanged = int(same.sum())
        frame = frame[~same].reset_index(drop=True) if unchanged < len(frame) else None
        new_ids = [article_id for article_id, kept in zip(new_ids, same.tolist(), strict=True) if not kept]
    edited = [article_id for article_id in new_ids if article_id in model]
    index = model.index()
    dropped = {index.row(article_id) for article_id in (*removed, *edited)}
    n_old = len(model)
    alive = np.ones(n_old, dtype=bool)
    alive[list(dropped)] = False
    survivors = np.flatnonzero(alive).astype(np.int64)
    old_to_new = np.full(n_old, -1, dtype=np.int64)
    old_to_new[survivors] = np.arange(len(survivors))
    new = analyse_frozen_rows(model, frame) if frame is not None else None
    vocabulary_width = len(model.vocabulary)
    added_vectors = new.vectors if new is not None else _empty_rows(vocabulary_width)
    vectors = _stack(model.vectors[survivors], added_vectors)
    kept = stored_search_rows(model).take(survivors)
    added_search = new.search if new is not None else kept.take(np.zeros(0, dtype=np.int64))
    search = kept.stack(added_search)
    old_languages = model.languages
    new_languages = new.languages if new is not None else []
    languages = [old_languages[row] for row in survivors.tolist()] + new_languages
    old_ids = model.ids
    ids = [old_ids[row] for row in survivors.tolist()] + new_ids
    records = _stored_records(model).take(survivors)
    if frame is not None:
        records = records.concat(store.Records.encode(records_of(frame, new_languages)))
    pools, refreshed, recomputed = _pools(
        model, stored_pools, search, survivors, old_to_new, languages, old_languages
    )
    fresh = [len(body) for body in frame["body"]] if frame is not None else []
    # Models saved before lengths were stored never hide duplicates (the only use of lengths).
    old_lengths = model.lengths if model.lengths is not None else np.zeros(n_old, dtype=np.int64)
    lengths = np.concatenate([old_lengths[survivors], np.array(fresh, dtype=np.int64)])
    forms = _forms(model, new.forms if new is not None else {})
    words = (forms, _carried_words(model, survivors, new))
    updated = _assembled(model, ids, records, languages, (vectors, search), pools, lengths, words)
    counts = Counts(
        len(new_ids) - len(edited),
        len(edited),
        len(removed),
        refreshed,
        recomputed,
        new.unseen if new is not None else 0,
        new.tokens if new is not None else 0,
        checked_embedded + (new.embedded if new is not None else 0),
        unchanged,
    )
    return updated, counts


def _stored_records(model: Recommender) -> store.Records:
    """The model's records as stored bytes; records written before they held a language get theirs."""
    records = store.Records.read(model.stored)
    if len(records) and "lang" not in records[0]:
        languages = model.languages
        records = store.Records.encode(
            [{**record, "lang": lang} for record, lang in zip(records, languages, strict=True)]
        )
    return records


def _no_single_id(remove: Iterable[str]) -> None:
    """An error for one id given as ``remove`` (iterating it would remove each of its characters)."""
    if isinstance(remove, str):
        message = f"remove takes a list of article ids, not one string: give [{remove!r}]"
        raise InvalidParameterError(message)


def _checked_removals(model: Recommender, remove: Iterable[str], new_ids: list[str]) -> list[str]:
    _no_single_id(remove)
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
    return removed


def _pools(
    model: Recommender,
    stored_pools: tuple[np.ndarray, np.ndarray],
    search: SearchRows,
    survivors: np.ndarray,
    old_to_new: np.ndarray,
    languages: list[str],
    old_languages: list[str],
) -> tuple[tuple[np.ndarray, np.ndarray], int, int]:
    """The new article set's raw pools: merged incrementally, or searched in full when the shape changed."""
    n_new = search.shape[0]
    width = min(pool_width(model.settings), max(n_new - 1, 0))
    grouped = _grouped(model, languages)
    if width != stored_pools[0].shape[1] or width == 0 or grouped != _grouped(model, old_languages):
        # The stored pools do not fit the new shape (size or language grouping): search in full.
        return search_pools(search, languages, model.settings), 0, len(survivors)
    labels = np.asarray(languages, dtype=object) if grouped else np.zeros(n_new, dtype=object)
    return incremental_pools(
        stored_pools, search, survivors, old_to_new, labels, width, model.settings.memory_budget
    )


def _forms(model: Recommender, added: dict[str, dict[str, str]]) -> Any:
    """The word-form tables grown by the new articles' forms (in place, when the term table can stay)."""
    stored_forms = StoredForms.read(model.stored)
    if stored_forms is not None:
        merged = stored_forms.merged(added, bigrams=model.settings.ngrams == 2)
        if merged is not None:
            return merged
        forms = stored_forms.to_forms()
    else:
        forms = {}
    for language, table in added.items():
        forms.setdefault(language, {}).update(table)
    return forms


def _empty_rows(width: int) -> sp.csr_matrix:
    empty = (np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64))
    return sp.csr_matrix(empty, shape=(0, width))


def _stack(top: sp.csr_matrix, bottom: sp.csr_matrix) -> sp.csr_matrix:
    stacked = sp.csr_matrix(sp.vstack([top, bottom], format="csr"), dtype=np.float32)
    stacked.sort_indices()
    return stacked


def update_model(
    path: str | os.PathLike[str],
    *,
    add: Articles | None = None,
    remove: Sequence[str] = (),
    output: str | os.PathLike[str] | None = None,
    format: str | None = None,
    max_unseen: float = 0.2,
    max_added: float = 0.3,
    wait: bool = True,
    keep: int = 2,
    stage: Stage | None = None,
    skip_invalid: bool = False,
    date_format: str | None = None,
    semantic: str | os.PathLike[str] | None = None,
) -> UpdateReport:
    """Update the model at ``path`` and publish the complete new model at ``output`` (default: ``path``).

    The writer lock of ``output`` is held from reading the current model to publishing the new one, so
    concurrent updates apply one after the other, none lost (``wait=False``: ``ModelLockedError`` when
    another writer holds it). Returns the report; ``max_unseen`` and ``max_added`` are the drift shares
    past which it recommends a full rebuild; ``keep`` is how many generations stay; ``stage`` wraps
    each step ("read", "open", "update", "publish"), as for ``Recommender.fit``; ``skip_invalid`` and
    ``date_format`` read ``add`` as ``read_articles`` does; ``semantic`` is the encoder folder of a semantic
    model that moved since the build (it must have the recorded fingerprint).
    """
    _no_single_id(remove)  # before reading anything or taking the lock
    stage = stage or untimed
    if add is not None:
        with stage("read"):
            if isinstance(add, str | os.PathLike):
                add = read_articles(add, format=format, skip_invalid=skip_invalid, date_format=date_format)
            else:
                add = load_articles(add, skip_invalid=skip_invalid, date_format=date_format)
    target = Path(output) if output is not None else Path(path)
    in_place = target.resolve() == Path(path).resolve()
    with store.writer(target, wait=wait, keep=keep) as writer:
        with stage("open"):
            base = writer.current() if in_place else store.open_model(path)  # size and SHA-256 checked
        if base is None:
            message = f"{path}: no model to update; build one with: recommender build CORPUS -o {path}"
            raise ModelFormatError(message)
        with stage("update"):
            model = Recommender.from_stored(base)
            if semantic is not None:
                model.settings = replace(model.settings, semantic=os.fspath(semantic))
            report, parts = _updated(model, add, remove, max_unseen, max_added, path)
        with stage("publish"):
            writer.publish(**parts)
    return UpdateReport(**{**report, "path": str(target)})


def _updated(
    model: Recommender,
    add: Articles | None,
    remove: Sequence[str],
    max_unseen: float,
    max_added: float,
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The update's report (as fields) and the new model's parts, lineage included."""
    check_updatable(model, path=path)
    lineage = _lineage(model.stored.manifest)
    updated, counts = apply_update(model, add=add, remove=remove)
    history = lineage["updates"]
    history.append(
        {"added": counts.added, "edited": counts.edited, "removed": counts.removed, "articles": len(updated)}
    )
    since = sum(step["added"] + step["edited"] for step in history)
    added_share = since / len(updated) if len(updated) else 0.0
    unseen_share = counts.unseen / counts.tokens if counts.tokens else 0.0
    history[-1]["unseen_token_share"] = round(unseen_share, 6)
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
    parts = updated.stored.parts()
    parts["extra"] = {**(parts["extra"] or {}), "lineage": lineage}
    report = {
        "articles": len(updated),
        "added": counts.added,
        "edited": counts.edited,
        "removed": counts.removed,
        "refreshed": counts.refreshed,
        "recomputed": counts.recomputed,
        "unseen_token_share": unseen_share,
        "added_share": added_share,
        "rebuild_recommended": bool(reasons),
        "advice": advice,
        "embedded": counts.embedded,
        "unchanged": counts.unchanged,
    }
    return report, parts


def _lineage(manifest: dict[str, Any]) -> dict[str, Any]:
    """The base build (carried over, or this model when it is a full build) and the updates so far."""
    previous = manifest.get("lineage")
    if isinstance(previous, dict) and "base_build" in previous:
        return {"base_build": previous["base_build"], "updates": list(previous.get("updates", []))}
    files = manifest.get("files", {})
    counts = manifest.get("counts", {})
    base = {
        "library_version": manifest.get("library_version"),
        "articles": counts.get("articles"),
        "terms": counts.get("terms"),
        "ids_sha256": files.get("ids_bytes.npy", files.get("ids.json", {})).get("sha256"),
        "idf_sha256": files.get("idf.npy", {}).get("sha256"),
    }
    return {"base_build": base, "updates": []}
