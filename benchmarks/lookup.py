"""Serving latency of a saved model: ``Index.load``, ``related()`` and ``query()`` percentiles.

    python -m benchmarks.lookup --model /tmp/model-1m [--lookups 5000] [--queries 200] [--json]

Loads use ``verify=False`` (sizes checked, no SHA-256 pass: the serving start) and are repeated; each
``related`` asks for a random stored article's 10 links; each ``query`` scores a fresh synthetic draft
(~400 tokens over the synthetic corpus's vocabulary) or, with ``--queries-from``, the bodies of a corpus.
The module imports only ``recommender.lookup`` for the timings; the report says which heavy modules were
loaded in the process (there should be none).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np


def _percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"p50_us": float("nan"), "p90_us": float("nan"), "p99_us": float("nan"), "count": 0}
    values = np.array(seconds) * 1e6
    return {
        "p50_us": round(float(np.percentile(values, 50)), 1),
        "p90_us": round(float(np.percentile(values, 90)), 1),
        "p99_us": round(float(np.percentile(values, 99)), 1),
        "count": len(seconds),
    }


def run(
    model: str, *, lookups: int, queries: int, queries_from: str | None, k: int, compare: int = 0
) -> dict[str, Any]:
    """Time loading, related() and query() on the model folder ``model``."""
    from recommender.serve.index import Index

    load_times = []
    for _ in range(7):
        started = time.perf_counter()
        index = Index.load(model, verify=False)
        load_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    Index.load(model, verify=True)
    verified_load = time.perf_counter() - started
    n = len(index)
    rng = np.random.default_rng(0)
    rows = rng.integers(0, n, size=lookups)
    ids_table = index._strings if hasattr(index, "_strings") else None
    chosen = [ids_table[row] if ids_table is not None else index.ids[row] for row in rows.tolist()]
    related_times = []
    for article_id in chosen:
        started = time.perf_counter()
        index.related(article_id, k=k)
        related_times.append(time.perf_counter() - started)
    query_times: list[float] = []
    query_cpu: list[float] = []  # CPU seconds: what a loaded machine inflates less than wall time
    first_query = float("nan")
    if hasattr(index, "query"):  # numpy-only queries are not in every version of the lookup
        drafts = _drafts(queries, queries_from)
        started = time.perf_counter()
        index.query(drafts[0], k=k)
        first_query = time.perf_counter() - started
        for text in drafts:
            started, cpu_started = time.perf_counter(), time.process_time()
            index.query(text, k=k)
            query_times.append(time.perf_counter() - started)
            query_cpu.append(time.process_time() - cpu_started)
    heavy = [name for name in ("sklearn", "scipy", "pandas", "joblib", "nltk") if name in sys.modules]
    compared = _compare(model, index, _drafts(compare, queries_from)[:compare], k) if compare else None
    return {
        "model": model,
        "articles": n,
        "k": k,
        "format_version": index.manifest["format_version"],
        "model_bytes": sum(entry["bytes"] for entry in index.manifest["files"].values()),
        "load_ms": {
            "median_verify_false": round(float(np.median(load_times)) * 1e3, 2),
            "first_verify_false": round(load_times[0] * 1e3, 2),
            "verify_true": round(verified_load * 1e3, 1),
        },
        "related": _percentiles(related_times),
        "query": _percentiles(query_times),
        "query_cpu": _percentiles(query_cpu),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "first_query_ms": round(first_query * 1e3, 1),
        "heavy_modules_loaded": heavy,
        "query_equals_recommender": compared,
        "cores": len(os.sched_getaffinity(0)),
    }


def _compare(model: str, index: Any, drafts: list[str], k: int) -> dict[str, Any]:
    """Check ``Index.query`` against ``Recommender.query`` (the build stack) on ``drafts``; after timing."""
    from recommender.recommender import Recommender

    full = Recommender.load(model, verify=False)
    same = 0
    largest = 0.0
    for text in drafts:
        fast, slow = index.query(text, k=k), full.query(text, k=k)
        if [link.article_id for link in fast] == [link.article_id for link in slow]:
            same += 1
        largest = max([largest, *(abs(a.score - b.score) for a, b in zip(fast, slow, strict=False))])
    return {"drafts": len(drafts), "same_links": same, "largest_score_difference": largest}


def lsa_stage(n: int, dims: int, *, repeats: int = 20) -> dict[str, Any]:
    """Time what an LSA blend adds to ``Index.query`` at ``n`` articles: the dense ``n × dims`` float32
    scores (memory-mapped, as ``query_lsa.npy`` is) and the threshold over them (random stand-in values)."""
    import tempfile

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "lsa.npy")
        array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dims))
        for start in range(0, n, 100_000):
            block = rng.standard_normal((min(100_000, n - start), dims)).astype(np.float32)
            array[start : start + block.shape[0]] = block / np.linalg.norm(block, axis=1, keepdims=True)
        array.flush()
        del array
        rows = np.load(path, mmap_mode="r").view(np.ndarray)
        times, cpu = [], []
        for _ in range(repeats):
            query = rng.standard_normal(dims).astype(np.float32)
            started, cpu_started = time.perf_counter(), time.process_time()
            scores = np.asarray(rows @ query, dtype=np.float32)
            np.partition(scores, n - 30)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        del rows
    return {
        "articles": n,
        "dims": dims,
        "wall": _percentiles(times),
        "cpu": _percentiles(cpu),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def _drafts(count: int, queries_from: str | None) -> list[str]:
    if queries_from:
        import gzip

        texts = []
        with gzip.open(queries_from, "rt", encoding="utf-8") as handle:
            for line in handle:
                texts.append(json.loads(line)["body"])
                if len(texts) == count:
                    break
        return texts
    from . import synthetic

    return list(synthetic.texts(count, draw_seed=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lookup", description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model folder (recommender build / benchmarks.million)")
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--queries-from", help="a .jsonl.gz corpus whose bodies are the queries")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument(
        "--compare",
        type=int,
        default=0,
        metavar="N",
        help="after timing, check N drafts against Recommender.query (loads the build stack)",
    )
    parser.add_argument(
        "--lsa-stage", metavar="N,DIMS", help="only time the dense LSA stage of a query at N articles"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.lsa_stage:
        n, dims = (int(part) for part in args.lsa_stage.split(","))
        print(json.dumps(lsa_stage(n, dims), indent=2))
        return 0
    if not args.model:
        parser.error("--model is required (or --lsa-stage N,DIMS)")
    report = run(
        args.model,
        lookups=args.lookups,
        queries=args.queries,
        queries_from=args.queries_from,
        k=args.k,
        compare=args.compare,
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['model']}: {report['articles']} articles, format v{report['format_version']}")
    load = report["load_ms"]
    print(
        f"Index.load: {load['median_verify_false']} ms (verify=False, median); "
        f"{load['verify_true']} ms verified"
    )
    for name in ("related", "query", "query_cpu"):
        p = report[name]
        print(f"{name}(): p50 {p['p50_us']} µs, p90 {p['p90_us']} µs, p99 {p['p99_us']} µs over {p['count']}")
    print(f"first query (opens the draft tables): {report['first_query_ms']} ms")
    print(f"heavy modules loaded: {report['heavy_modules_loaded'] or 'none'}")
    if report["query_equals_recommender"]:
        print(f"query() against Recommender.query: {report['query_equals_recommender']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
