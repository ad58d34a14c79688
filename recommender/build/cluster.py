"""The whole build on a Dask cluster: the articles read, analysed, weighted and searched on the workers.

Each source file is one partition, read and validated on a worker (a DataFrame or records given in
memory are cut into partitions here and sent). The workers keep their partitions' text, counts, vectors
and row blocks; this process receives only what is small or what the model stores: ids and metadata,
each partition's terms and document frequencies (reduced here into the vocabulary, sent back as each
partition's column mapping), the word tables, and the candidates of each tile. The LSA projection is
fitted on one worker from every partition. Each step is the one a local build runs (the functions of
:mod:`recommender.build.analysis`, :mod:`recommender.build.neighbors`, :mod:`recommender.build.pools`)
on a partition's rows, so the model is the one a local build makes. The worker-side steps are in
:mod:`recommender.build.cluster_tasks`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import store
from ..score.weighting import Weighting, smoothed_idf
from ..settings import Settings
from ..sources.corpus import _sources, load_articles, paths_given
from ..store.memory import MemoryModel
from ..types import CorpusError
from . import cluster_tasks as tasks
from .analysis import _merge_forms, _readable, _receivers, used_words, vocabulary_of, word_table
from .assemble import Large, ModelParts, OwnWords, assemble
from .lists import pool_width, rank_pools
from .neighbors import column_order, resolve_kernel, tile_rows
from .pipeline import Stage, analyzers_for, untimed
from .pools import POOL_MARGIN, sorted_pools
from .tiles import Best

__all__ = ["build_on_cluster", "partition_sources"]

#: File suffixes that make a folder a folder of shards (each file one partition).
SHARD_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json", ".json.gz", ".csv", ".csv.gz", ".parquet")


def partition_sources(articles: Any) -> list[Any] | None:
    """The partitions' sources: one path per file of ``articles`` (a path, a folder of shard files or a
    list of paths); None when ``articles`` are not paths (they are read here and sent in parts)."""
    given = paths_given(articles)
    if given is None:
        return None
    found: list[Path] = []
    for path in given:
        shards = _shards(path) if path.is_dir() else None
        found.extend(shards if shards else [path])
    return [str(path) for path in _sources(found)]  # each exists, none given twice


def _shards(folder: Path) -> list[Path] | None:
    """The files of a folder holding only shard files (hidden ones aside), sorted; None otherwise."""
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    if files and all(p.is_file() and p.name.lower().endswith(SHARD_SUFFIXES) for p in files):
        return files
    return None


class _Cluster:
    """The client and the futures of one build; every future is released when the build ends."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, function: Any, *args: Any) -> Any:
        return self.client.submit(function, *args, pure=False)

    def each(self, function: Any, futures: Sequence[Any], *args: Any) -> list[Any]:
        return [self.submit(function, future, *args) for future in futures]

    def share(self, value: Any) -> Any:
        """``value`` sent once to every worker (for many tasks to read), packed: a task gets it as
        ``cluster_tasks.Packed``."""
        return self.client.scatter([tasks.Packed(value)], broadcast=True, hash=False)[0]

    def gather(self, futures: Sequence[Any]) -> list[Any]:
        """The futures' results, unpacked (see ``cluster_tasks.Packed``)."""
        found = self.client.gather(list(futures))
        return [value.value if isinstance(value, tasks.Packed) else value for value in found]

    def one_by_one(self, futures: list[Any]) -> Iterator[Any]:
        """Each future's result in order, fetched when asked for and let go on its worker (empties
        ``futures``)."""
        while futures:
            yield self.gather([futures.pop(0)])[0]

    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))


def build_on_cluster(
    articles: Any,
    settings: Settings,
    client: Any,
    *,
    reading: dict[str, Any] | None = None,
    skipped: list[Any] | None = None,
    stage: Stage | None = None,
    output: str | os.PathLike[str] | None = None,
    wait: bool = True,
    keep: int = 2,
) -> Any:
    """The stored model of ``articles`` (paths read on the workers, or articles sent to them), built on
    the Dask cluster of ``client``: the same model as :func:`recommender.build.pipeline.build_model`.

    ``reading`` holds ``read_articles``' options (format, skip_invalid, ...); records left out are
    appended to ``skipped``.

    With ``output`` the model is published there (``wait`` and ``keep`` as ``store.write_model``'s), its
    largest arrays fetched from the workers piece by piece as they are written, and returned opened
    (memory-mapped); without, it is gathered here into a ``MemoryModel``.
    """
    stage = stage or untimed
    cluster = _Cluster(client)
    analyzers = analyzers_for(settings)
    with stage("reading"):
        parts, described = _open(cluster, articles, settings, dict(reading or {}))
    if skipped is not None:
        skipped.extend(problem for about in described for problem in about["skipped"])
    ids = [article_id for about in described for article_id in about["ids"]]
    _check_unique(described)
    languages = [code for about in described for code in about["languages"]]
    # Where each partition's rows start in the model (the last entry: the number of articles).
    offsets = np.cumsum([0] + [len(about["ids"]) for about in described], dtype=np.int64)
    with stage("analysis"):
        # No reference to the partitions' text or chunks stays here: each is let go on its worker as
        # soon as the next step of its partition exists.
        chunks = cluster.each(tasks.read, parts, analyzers)
        del parts
        vocabulary, counted, words = _vocabulary(cluster, chunks, len(ids), settings, analyzers, languages)
    with stage("weights"):
        weighting, vectors = _weights(cluster, counted, len(ids), len(vocabulary), settings)
    with stage("lsa"):
        fitted = cluster.submit(tasks.fit, settings.lsa_dims, *vectors) if settings.lsa_weight else None
        components = None if fitted is None else cluster.gather([fitted])[0]
        search = cluster.each(tasks.blend_part, vectors, fitted, settings.lsa_weight)
    with stage("neighbours"):
        pools = _pools(cluster, search, offsets, languages, settings)
    with stage("lists"):
        records = [record for about in described for record in about["records"]]
        lengths = np.concatenate([about["lengths"] for about in described]).astype(np.int64)
        lists = rank_pools(*pools, settings, dates=[r.get("date") for r in records], lengths=lengths)
    with stage("tables"):
        parts_out = ModelParts(
            settings=settings,
            ids=ids,
            records=records,
            languages=languages,
            analyzer=analyzers.to_dict(languages),
            vocabulary=vocabulary,
            idf=weighting.idf,
            reference_length=weighting.reference_length,
            vectors=None,
            search=None,
            components=components,
            pools=pools,
            lists=lists,
            lengths=lengths,
            forms=words["forms"],
            surface=words["surface"],
            own_words=OwnWords.of(words["surface_forms"], np.zeros(0, dtype=np.int32)),
        )
        large = _large(cluster, vectors, search, counted, offsets, sorted(lists.canonical))
        content = assemble(parts_out, large).parts()
        if output is None:  # gathered here, piece by piece, into one model in memory
            content["arrays"] = {name: _whole(array) for name, array in content["arrays"].items()}
            return MemoryModel(content)
        path = store.write_model(output, **content, wait=wait, keep=keep)
        return store.open_model(path)


def _weights(
    cluster: _Cluster, counted: list[Any], n_docs: int, n_terms: int, settings: Settings
) -> tuple[Weighting, list[Any]]:
    """The term weighting (document frequencies and row lengths reduced here) and the weighted rows,
    kept on the workers."""
    frequency = np.sum(cluster.gather(cluster.each(tasks.frequency, counted, n_terms)), axis=0)
    lengths_of_rows = np.concatenate(cluster.gather(cluster.each(tasks.row_sums, counted)))
    weighting = Weighting(
        idf=smoothed_idf(frequency, n_docs),
        tf=settings.tf,
        k1=settings.bm25_k1,
        b=settings.bm25_b,
        reference_length=float(lengths_of_rows.mean()) if lengths_of_rows.size else 0.0,
    )
    return weighting, cluster.each(tasks.weigh_part, counted, weighting)


def _whole(array: np.ndarray | store.Pieces) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array
    pieces = [np.asarray(piece, dtype=array.dtype).ravel() for piece in array.pieces()]
    joined = np.concatenate(pieces) if pieces else np.zeros(0, dtype=array.dtype)
    return joined.reshape(array.shape)


def _large(
    cluster: _Cluster,
    vectors: list[Any],
    search: list[Any],
    counted: list[Any],
    starts: np.ndarray,
    hidden: list[int],
) -> Large:
    """The model's largest arrays as pieces fetched from the workers while they are written."""
    sizes = cluster.gather(cluster.each(tasks.vector_parts, vectors))
    nonzeros = sum(size for size, _ in sizes)
    lengths = np.concatenate([row_lengths for _, row_lengths in sizes])
    indptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    arrays: dict[str, np.ndarray | store.Pieces] = {
        store.VECTORS_DATA: _pieces(cluster, vectors, "data", np.float32, (nonzeros,)),
        store.VECTORS_INDICES: _pieces(cluster, vectors, "indices", np.int32, (nonzeros,)),
        store.VECTORS_INDPTR: indptr,
        store.VECTOR_FORMS: _pieces(cluster, counted, "vector_forms", np.int32, (nonzeros,)),
    }
    hidden_rows = np.asarray(hidden, dtype=np.int64)
    transposed = [
        cluster.submit(
            tasks.postings,
            part,
            hidden_rows[(hidden_rows >= starts[p]) & (hidden_rows < starts[p + 1])] - starts[p],
            int(starts[p]),
        )
        for p, part in enumerate(search)
    ]
    measured = cluster.gather(cluster.each(tasks.posting_sizes, transposed))
    per_part = np.stack([part_lengths for part_lengths, _ in measured])  # parts × terms
    maxima = np.max(np.stack([part_maxima for _, part_maxima in measured]), axis=0)
    postings_indptr = np.concatenate([[0], np.cumsum(per_part.sum(axis=0), dtype=np.int64)])
    total = int(postings_indptr[-1])
    dims = cluster.gather([cluster.submit(tasks.dense_width, search[0])])[0]
    return Large(
        arrays=arrays,
        postings=(
            _postings(cluster, transposed, per_part, postings_indptr, "data", np.float32, total),
            _postings(cluster, transposed, per_part, postings_indptr, "indices", np.int32, total),
            postings_indptr,
        ),
        maxima=maxima,
        lsa_rows=None
        if dims is None
        else _pieces(cluster, search, "dense", np.float32, (int(starts[-1]), dims)),
        nonzeros=nonzeros,
    )


def _pieces(
    cluster: _Cluster, parts: list[Any], name: str, dtype: Any, shape: tuple[int, ...]
) -> store.Pieces:
    """An array made of one attribute of each partition, fetched one partition at a time."""

    def pieces() -> Iterator[np.ndarray]:
        for part in parts:
            yield cluster.gather([cluster.submit(tasks.attribute, part, name)])[0]

    return store.Pieces(np.dtype(dtype), shape, pieces)


#: Postings fetched at once while the inverted index is written (entries).
_POSTINGS_PIECE = 1 << 24


def _postings(
    cluster: _Cluster,
    transposed: list[Any],
    per_part: np.ndarray,
    indptr: np.ndarray,
    name: str,
    dtype: Any,
    total: int,
) -> store.Pieces:
    """The rows or weights of the inverted index, a range of terms at a time: each term's postings are
    its partitions' in order (their rows ascend), as a transpose of the whole matrix orders them."""
    part_starts = np.concatenate(
        [np.zeros((per_part.shape[0], 1), dtype=np.int64), np.cumsum(per_part, axis=1)], axis=1
    )
    before = np.cumsum(per_part, axis=0) - per_part  # per term, the postings of the partitions before

    def pieces() -> Iterator[np.ndarray]:
        n_terms = per_part.shape[1]
        start = 0
        while start < n_terms:
            stop = int(np.searchsorted(indptr, indptr[start] + _POSTINGS_PIECE, side="right")) - 1
            stop = min(n_terms, max(stop, start + 1))
            piece = np.empty(int(indptr[stop] - indptr[start]), dtype=dtype)
            futures = [cluster.submit(tasks.posting_slice, part, start, stop, name) for part in transposed]
            for p, values in enumerate(cluster.gather(futures)):
                lengths = per_part[p, start:stop]
                first = np.repeat(indptr[start:stop] - indptr[start] + before[p, start:stop], lengths)
                within = np.arange(values.size) - np.repeat(
                    part_starts[p, start:stop] - part_starts[p, start], lengths
                )
                piece[first + within] = values
            yield piece
            start = stop

    return store.Pieces(np.dtype(dtype), (total,), pieces)


def _open(
    cluster: _Cluster, articles: Any, settings: Settings, reading: dict[str, Any]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """The partitions (futures on the workers) and what each says about itself (ids, records, ...);
    ``reading``: ``read_articles``' options."""
    sources = partition_sources(articles)
    if sources is None:
        options = {name: reading[name] for name in ("skip_invalid", "date_format") if name in reading}
        frame = load_articles(articles, **options)
        sources = list(_frame_parts(frame, 4 * cluster.workers()))
    parts = [cluster.submit(tasks.open_part, source, settings, reading) for source in sources]
    described = cluster.gather(cluster.each(tasks.describe, parts))
    if not any(about["ids"] for about in described):
        message = "no articles to index: every source is empty"
        raise CorpusError(message)
    return parts, described


def _frame_parts(frame: pd.DataFrame, count: int) -> Iterator[pd.DataFrame]:
    size = max(1, -(-len(frame) // max(1, count)))
    for start in range(0, len(frame), size):
        part = frame.iloc[start : start + size]
        part.attrs = dict(frame.attrs)
        part.attrs["skipped"] = frame.attrs.get("skipped", []) if start == 0 else []
        yield part


def _check_unique(described: list[dict[str, Any]]) -> None:
    """Refuse an id that two partitions hold (each partition checked its own)."""
    seen: dict[str, str] = {}
    for about in described:
        for article_id in about["ids"]:
            other = seen.setdefault(article_id, about["source"])
            if other != about["source"]:
                message = (
                    f"{about['source']}: duplicate id {article_id!r}, also in {other}; ids must be unique"
                )
                raise CorpusError(message)


def _vocabulary(
    cluster: _Cluster,
    chunks: list[Any],
    n_docs: int,
    settings: Settings,
    analyzers: Any,
    languages: list[str],
) -> tuple[list[str], list[Any], dict[str, Any]]:
    """The vocabulary (reduced here from each chunk's terms), the counted partitions on the workers and
    the word tables (forms, readable words, the words entries use). Empties ``chunks``."""
    summaries = cluster.gather(cluster.each(tasks.terms, chunks))
    try:
        vocabulary, columns = vocabulary_of(
            [terms for terms, _ in summaries],
            [frequency for _, frequency in summaries],
            n_docs,
            settings.min_df,
            settings.max_df,
        )
    except ValueError as error:
        message = (
            f"no terms left to index ({error}); the corpus has {n_docs} article(s): "
            f"lower min_df (now {settings.min_df}) or raise max_df (now {settings.max_df})"
        )
        raise CorpusError(message) from None
    del summaries
    written = cluster.each(tasks.written, chunks)
    forms = cluster.each(tasks.forms, chunks)
    counted = [
        cluster.submit(tasks.count, chunk, mapping, len(vocabulary), settings.title_weight)
        for chunk, mapping in zip(chunks, columns, strict=True)
    ]
    chunks.clear()  # the caller's list too: each chunk is let go on its worker once counted
    table = word_table(cluster.gather(cluster.each(tasks.names, counted)))
    shared = cluster.share(dict(zip(table, range(len(table)), strict=True)))
    used = cluster.gather(cluster.each(tasks.entry_rows, counted, shared))
    surface_forms, renumbered = used_words(table, used)
    counted = cluster.each(tasks.with_forms, counted, shared, cluster.share(renumbered))
    # Each chunk's tables fetched as they are merged, so that only one is here beside the merge.
    words = {
        "forms": _merge_forms(cluster.one_by_one(forms), analyzers, None, _receivers(languages)),
        "surface": _readable(cluster.one_by_one(written), vocabulary),
        "surface_forms": surface_forms,
    }
    return vocabulary, counted, words


def _pools(
    cluster: _Cluster, search: list[Any], offsets: np.ndarray, languages: list[str], settings: Settings
) -> tuple[np.ndarray, np.ndarray]:
    """Every article's raw candidate pool, as ``search_pools`` finds it: tiles on the workers, where their
    row blocks are; the candidates merged here and scored canonically on the workers (``offsets``: where
    each partition's rows start)."""
    width = pool_width(settings)
    n_rows = int(offsets[-1])
    labels = np.asarray(languages, dtype=object)
    groups = [np.arange(n_rows)]
    if not settings.cross_language and len(set(languages)) > 1:
        groups = [np.flatnonzero(labels == language) for language in sorted(set(languages))]
    k = width + POOL_MARGIN
    found = np.full((n_rows, min(k, max(n_rows - 1, 0))), -1, dtype=np.int32)
    for rows in groups:
        group = _group_top_k(cluster, search, offsets, rows, k, settings)
        hit = group >= 0
        found[rows, : group.shape[1]] = np.where(hit, rows[np.where(hit, group, 0)], -1)
    scores = _canonical(cluster, search, offsets, found)
    return sorted_pools(found, scores, width)


def _group_top_k(
    cluster: _Cluster, search: list[Any], offsets: np.ndarray, rows: np.ndarray, k: int, settings: Settings
) -> np.ndarray:
    """The top-k of one group of rows among themselves (group-local numbers), as ``top_k`` finds them."""
    n_group = rows.size
    width = min(k, max(n_group - 1, 0))
    best = Best(n_group, width)
    if width == 0:
        return best.cols
    where = np.searchsorted(offsets, rows, side="right") - 1
    local = [rows[where == p] - offsets[p] for p in range(len(search))]
    counts = cluster.gather(
        [
            cluster.submit(tasks.column_counts, part, part_rows)
            for part, part_rows in zip(search, local, strict=True)
        ]
    )
    order, dense_count = column_order(np.sum(counts, axis=0), n_group)
    rank = cluster.share(order)
    side = tile_rows(n_group, settings.memory_budget, threads=1)
    kernel = resolve_kernel("auto", n_group)
    blocks = []
    for start in range(0, n_group, side):
        span_where, span_rows = where[start : start + side], rows[start : start + side]
        pieces = [
            (search[p], span_rows[span_where == p] - offsets[p]) for p in np.unique(span_where).tolist()
        ]
        blocks.append(cluster.submit(tasks.row_block, start, rank, dense_count, *pieces))
    futures = [
        cluster.submit(tasks.tile, blocks[r], blocks[c], width, kernel)
        for r in range(len(blocks))
        for c in range(r, len(blocks))
    ]
    for future in _as_completed(futures):
        best.merge(future.result())
        future.release()
    return best.cols


def _canonical(cluster: _Cluster, search: list[Any], offsets: np.ndarray, found: np.ndarray) -> np.ndarray:
    """The canonical score of every (row, candidate) of ``found``, each pair of partitions on a worker."""
    flat = np.zeros(found.size, dtype=np.float32)
    subject = np.repeat(np.arange(found.shape[0], dtype=np.int64), found.shape[1])
    candidate = found.ravel().astype(np.int64)
    present = np.flatnonzero(candidate >= 0)
    part_of = np.searchsorted(offsets, np.stack([subject[present], candidate[present]]), side="right") - 1
    pending = {}
    for p in range(len(search)):
        for q in range(len(search)):
            chosen = present[(part_of[0] == p) & (part_of[1] == q)]
            if chosen.size:
                pending[
                    cluster.submit(
                        tasks.pair_scores,
                        search[p],
                        search[q],
                        subject[chosen] - offsets[p],
                        candidate[chosen] - offsets[q],
                        p == q,
                    )
                ] = chosen
    for future in _as_completed(list(pending)):
        flat[pending.pop(future)] = future.result()
        future.release()
    return flat.reshape(found.shape)


def _as_completed(futures: list[Any]) -> Iterator[Any]:
    """Futures as they finish (Dask's ``as_completed``, imported with the cluster)."""
    from dask.distributed import as_completed

    found: Iterator[Any] = as_completed(futures)  # type: ignore[no-untyped-call]
    return found
