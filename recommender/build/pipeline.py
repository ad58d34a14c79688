"""The build, stage by stage: articles in, the stored model out.

Languages, one analysis pass (term counts, the word forms drafts are looked up in, readable words), term
weights, the LSA projection, the blended search rows, every article's candidate pool (the all-pairs
search), and the lists made from the pools; then :func:`recommender.build.assemble.assemble` lays them
out. ``update`` runs the same stages on the new articles with the base model's frozen parts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..score.weighting import Weighting, average_length, smoothed_idf, weigh_rows
from ..settings import Settings
from ..store.memory import MemoryModel
from ..text.languages import (
    Analyzers,
    article_languages,
    detector_held,
    first_step,
    load_detector,
    ready_to_fork,
    second_step,
    settle,
    warm_detector,
)
from ..types import CorpusError, InvalidParameterError
from .analysis import MIN_PARALLEL, Analysis, ChunkMapper, analyse
from .assemble import ModelParts, OwnWords, assemble, records_of
from .blend import blend_rows, fit_components
from .lists import rank_pools, search_pools
from .neighbors import default_threads
from .semantic import embed_articles, uses_semantic
from .workers import run_in_workers, spans

__all__ = [
    "Stage",
    "analyzers_for",
    "build_model",
    "languages_of",
    "texts_of",
    "untimed",
    "warm_languages",
    "weigh",
]

log = logging.getLogger(__name__)


def analyzers_for(settings: Settings) -> Analyzers:
    """One analyzer per language, with the settings' stop words, stemming and n-grams."""
    return Analyzers(stop_words=settings.stop_words, stem=settings.stem, ngrams=settings.ngrams)


def texts_of(frame: pd.DataFrame) -> Iterator[str]:
    """Each article's title and body as one text (what language detection reads), one at a time."""
    return (f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True))


def languages_of(
    frame: pd.DataFrame, settings: Settings, *, n_jobs: int | None = None, min_parallel: int = MIN_PARALLEL
) -> list[str]:
    """Each article's language: the setting for all, else its declared ``lang``, else detected (in forked
    workers for a large corpus: each article is judged on its own, so the split does not matter)."""
    declared_column = next((frame[name] for name in ("lang", "language") if name in frame.columns), None)
    declared = list(declared_column) if declared_column is not None else [None] * len(frame)
    jobs = default_threads() if n_jobs is None else max(1, int(n_jobs))
    if settings.language != "auto" or jobs < 2 or len(frame) < max(min_parallel, 2):
        return article_languages(declared, texts_of(frame), language=settings.language)
    # Workers take the cheap first step while this process loads py3langid's model (mostly LZMA
    # decompression, which runs beside them); the articles left in doubt (a few percent) are judged
    # here, or by workers that inherit the loaded model when there are many.
    undeclared = not all(isinstance(value, str) and value.strip() for value in declared)
    ready_to_fork()
    with detector_held():
        parts = run_in_workers(
            _span_first_step,
            (frame, declared),
            spans(len(frame), jobs),
            jobs,
            meanwhile=load_detector if undeclared else None,
        )
        doubtful = [sample for _, samples in parts for sample in samples]
        if len(doubtful) >= _MIN_PARALLEL_DOUBT:
            found = run_in_workers(_second_step, doubtful, spans(len(doubtful), jobs), jobs)
        else:
            found = [second_step(doubtful)]
        return settle([code for codes, _ in parts for code in codes], chain.from_iterable(found))


#: Fewer articles in doubt than this are judged in this process.
_MIN_PARALLEL_DOUBT = 2_000


def _span_first_step(
    inputs: tuple[pd.DataFrame, list[Any]], span: tuple[int, int]
) -> tuple[list[str | None], list[str]]:
    """The first detection step over one span of articles (in a worker)."""
    frame, declared = inputs
    start, stop = span
    return first_step(declared[start:stop], texts_of(frame.iloc[start:stop]))


def _second_step(samples: list[str], span: tuple[int, int]) -> list[str]:
    """The second detection step over one span of the samples in doubt (in a worker)."""
    start, stop = span
    return second_step(samples[start:stop])


#: Sources at least this large (bytes, compressed or not) are read while the language model loads.
_WARM_BYTES = 2 << 20


def warm_languages(settings: Settings, sources: object) -> None:
    """Start loading the language detector's model while a large corpus is read (it is needed soon,
    and its loading runs beside the reading); nothing for small corpora or a fixed language."""
    if settings.language != "auto":
        return
    paths = [sources] if isinstance(sources, str | os.PathLike) else sources
    if not isinstance(paths, list | tuple):
        return
    size = 0
    for path in paths:
        if isinstance(path, str | os.PathLike) and os.path.isfile(path):
            size += os.path.getsize(path)
    if size >= _WARM_BYTES:
        warm_detector()


def weigh(counts: sp.csr_matrix, weighting: Weighting) -> sp.csr_matrix:
    """Weighted unit rows (float32 CSR) from term counts, by the one weighting function."""
    data, indices, indptr = weigh_rows(counts.data, counts.indices, counts.indptr, weighting)
    vectors = sp.csr_matrix((data, indices, indptr), shape=counts.shape)
    vectors.has_sorted_indices = True
    return vectors


def _analyse(
    frame: pd.DataFrame,
    languages: Sequence[str],
    settings: Settings,
    analyzers: Analyzers,
    cluster: ChunkMapper | None = None,
) -> Analysis:
    try:
        return analyse(
            frame["body"].tolist(),
            [title or "" for title in frame["title"]],
            analyzers,
            languages=languages,
            title_weight=settings.title_weight,
            min_df=settings.min_df,
            max_df=settings.max_df,
            cluster=cluster,
        )
    except InvalidParameterError:
        raise  # a setting's own error (such as a stop-word list NLTK lacks), not an empty vocabulary
    except ValueError as error:
        message = (
            f"no terms left to index ({error}); the corpus has {len(frame)} article(s): "
            f"lower min_df (now {settings.min_df}) or raise max_df (now {settings.max_df})"
        )
        raise CorpusError(message) from None


#: Names the stage about to run, as a context manager around it (to time or show the stages).
Stage = Callable[[str], AbstractContextManager[object]]


def untimed(name: str) -> AbstractContextManager[object]:
    """The stage wrapper that does nothing (the default)."""
    return nullcontext()


def build_model(
    frame: pd.DataFrame, settings: Settings, *, mapper: Any = None, stage: Stage | None = None
) -> MemoryModel:
    """The stored model of a validated article frame.

    ``mapper`` runs the analysis and the all-pairs tiles elsewhere (Dask); ``stage(name)`` wraps each
    stage: "languages", "analysis", "weights", "embedding" (with the semantic view; a callable it yields
    gets ``(done, total)`` as articles are embedded), "lsa", "neighbours", "lists", "tables".
    """
    stage = stage or untimed
    analyzers = analyzers_for(settings)
    with stage("languages"):
        languages = languages_of(frame, settings)
    with stage("analysis"):
        cluster = mapper if hasattr(mapper, "map_chunks") else None  # a Dask build reads on its workers too
        analysis = _analyse(frame, languages, settings, analyzers, cluster)
    with stage("weights"):
        counts = analysis.counts
        document_frequency = np.bincount(counts.indices, minlength=len(analysis.vocabulary))
        weighting = Weighting(
            idf=smoothed_idf(document_frequency, counts.shape[0]),
            tf=settings.tf,
            k1=settings.bm25_k1,
            b=settings.bm25_b,
            reference_length=average_length(counts.data, counts.indptr),
        )
        vectors = weigh(counts, weighting)
        ids = [str(article_id) for article_id in frame["id"]]
        _warn_empty(ids, vectors)
    semantic = None
    if uses_semantic(settings):
        with stage("embedding") as progress:
            titles, bodies = list(frame["title"]), list(frame["body"])
            semantic = embed_articles(titles, bodies, settings, progress=_reporter(progress), mapper=cluster)
            log.info(
                "embedded %d article(s), %d from the cache", semantic.embedded, len(frame) - semantic.embedded
            )
    with stage("lsa"):
        components = fit_components(vectors, settings.lsa_dims) if settings.lsa_weight else None
        search = blend_rows(
            vectors,
            components,
            settings.lsa_weight,
            semantic=None if semantic is None else semantic.vectors,
            semantic_weight=settings.semantic_weight,
        )
    with stage("neighbours"):
        pools = search_pools(search, languages, settings, mapper=mapper)
    with stage("lists"):
        records = records_of(frame, languages)
        lengths = np.array([len(body) for body in frame["body"]], dtype=np.int64)
        lists = rank_pools(*pools, settings, dates=[r.get("date") for r in records], lengths=lengths)
    parts = ModelParts(
        settings=settings,
        ids=ids,
        records=records,
        languages=list(languages),
        analyzer=analyzers.to_dict(languages),
        vocabulary=analysis.vocabulary,
        idf=weighting.idf,
        reference_length=weighting.reference_length,
        vectors=vectors,
        search=search,
        components=components,
        pools=pools,
        lists=lists,
        lengths=lengths,
        forms=analysis.forms,
        surface=analysis.words,
        own_words=OwnWords.of(analysis.surface_forms, analysis.vector_forms),
        semantic=None if semantic is None else semantic.document,
    )
    with stage("tables"):
        return assemble(parts)


def _reporter(shown: object) -> Callable[[int, int], None] | None:
    """The progress callback a stage wrapper gave (``with stage(name) as progress``), if any."""
    return shown if callable(shown) else None


def _warn_empty(ids: list[str], vectors: sp.csr_matrix) -> None:
    empty = [ids[i] for i in np.flatnonzero(np.diff(vectors.indptr) == 0)]
    if empty:
        shown = ", ".join(repr(article_id) for article_id in empty[:5])
        log.warning("%d article(s) have no indexed terms and get no related posts: %s", len(empty), shown)
