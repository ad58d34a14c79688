"""A semantic build on a Dask cluster against the same build here: wall time of each, alternating, with an
empty vector cache each time (so every window is encoded), and whether the two models are the same.

    python -m benchmarks.semantic_cluster --semantic MODEL [--n 400] [--rounds 2] [--workers 2] [--json]

On one machine the cluster has the same cores as a local build, so the ratio says what the encoding
costs to ship (token ids out, rows back) rather than what more machines would gain.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender import Recommender

from .common import machine

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc_news.jsonl.gz"


def _articles(n: int) -> pd.DataFrame:
    with gzip.open(BBC, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in itertools.islice(lines, n)]
    return pd.DataFrame({key: [record.get(key) for record in records] for key in ("id", "title", "body")})


def _timed_build(frame: pd.DataFrame, settings: dict[str, Any], scheduler: Any) -> tuple[float, Recommender]:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["RECOMMENDER_CACHE"] = cache  # empty: every window is encoded
        started = time.perf_counter()
        model = Recommender(**settings).fit(frame, scheduler=scheduler)
        return time.perf_counter() - started, model


def run(model_folder: str, n: int, rounds: int, workers: int) -> dict[str, Any]:
    """Alternate local and cluster builds of ``n`` BBC articles (after one small untimed build each, which
    loads the encoder in every process); times, ratio and equality."""
    from dask.distributed import Client, LocalCluster

    frame = _articles(n)
    settings = {"semantic": model_folder}
    times: dict[str, list[float]] = {"local": [], "cluster": []}
    same = True
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        for scheduler in (None, client):  # untimed: each side loads the encoder once
            _timed_build(frame.head(20), settings, scheduler)
        for _ in range(rounds):
            seconds, local = _timed_build(frame, settings, None)
            times["local"].append(seconds)
            seconds, remote = _timed_build(frame, settings, client)
            times["cluster"].append(seconds)
            arrays, remote_arrays = local.stored.parts()["arrays"], remote.stored.parts()["arrays"]
            same = same and all(np.array_equal(remote_arrays[name], array) for name, array in arrays.items())
    best = {name: min(values) for name, values in times.items()}
    return {
        "articles": n,
        "workers": workers,
        "seconds": times,
        "cluster_over_local": round(best["cluster"] / best["local"], 3),
        "same_model": same,
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.semantic_cluster", description=__doc__)
    parser.add_argument("--semantic", required=True, help="a sentence-transformers model folder")
    parser.add_argument("--n", type=int, default=400, help="BBC News articles to build")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (1 thread each)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.semantic, args.n, args.rounds, args.workers)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, values in result["seconds"].items():
            print(f"{name:8} " + "  ".join(f"{value:6.1f} s" for value in values))
        ratio, same = result["cluster_over_local"], result["same_model"]
        print(f"cluster / local (best of each): {ratio}; same model: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
