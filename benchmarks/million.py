"""End to end on N synthetic articles: validate, analyse and count, TF-IDF, top-k, save; stage times and RSS.

    python -m benchmarks.million --n 1000000 [--k 10] [--output /tmp/model-1m] [--topk-share 1.0] [--json]

The stages are the ones ``Recommender.fit`` + ``save`` run, called one by one so each can be timed.
``--topk-share S`` (0 < S <= 1) computes the exact top-k tiles of only the first S of the row blocks
and extrapolates the stage's time by the share of tile work done (the rows outside that share then hold
partial lists, and the report says so). Peak RSS is sampled every 50 ms over the whole run.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import Any

import numpy as np
from recommender.common import RssSampler, Timer, machine

from recommender import synthetic


def run(n: int, *, k: int, output: str | None, topk_share: float, memory_budget: int) -> dict[str, Any]:
    """Build and save a model of ``n`` synthetic articles, timing every stage."""
    from recommender.build.counting import count_terms
    from recommender.build.neighbors import (
        _Best,
        _local_mapper,
        _resolve_kernel,
        default_threads,
        plan_tiles,
        top_k,
    )
    from recommender.recommender import Recommender, _metadata
    from recommender.score.weighting import weigh
    from recommender.sources.corpus import load_articles

    sampler = RssSampler()
    sampler.start()
    stages: dict[str, dict[str, float]] = {}

    def record(name: str, timer: Timer, **extra: float) -> None:
        stages[name] = {"seconds": round(timer.wall, 1), "cpu_seconds": round(timer.cpu, 1), **extra}
        stages[name]["rss_mb_after"] = round(sampler.current_mb())
        print(f"{name}: {stages[name]}", file=sys.stderr, flush=True)

    with Timer() as timer:
        records = list(synthetic.articles(n))
    record("generate", timer)
    stop_words = synthetic.most_frequent(300)
    # Plain TF-IDF (log tf, no LSA blend, no re-ranking): the all-pairs job the issue times.
    model = Recommender(
        k=k,
        min_df=2,
        stop_words=stop_words,
        memory_budget=memory_budget,
        tf="log",
        lsa_weight=0.0,
        hub_weight=0.0,
        hide_duplicates=False,
        language="en",
    )
    with Timer() as timer:
        frame = load_articles(records)
        del records
    record("validate", timer)
    with Timer() as timer:
        vocabulary, counts = count_terms(
            frame["body"].tolist(),
            [title or "" for title in frame["title"]],
            model.analyzer,
            title_weight=model.settings.title_weight,
            min_df=2,
        )
    record("analyse_and_count", timer)
    frame = frame.drop(columns=["body"])  # the model keeps metadata only; the text is done with
    with Timer() as timer:
        n_docs = counts.shape[0]
        document_frequency = np.bincount(counts.indices, minlength=len(vocabulary))
        idf = np.log((1.0 + n_docs) / (1.0 + document_frequency)) + 1.0
        vectors = weigh(counts, idf, tf="log", k1=1.2, b=0.75, reference_length=0.0)
        del counts
    record("tfidf", timer, nonzeros_per_article=round(vectors.nnz / n_docs, 1), terms=len(vocabulary))
    with Timer() as timer:
        if topk_share >= 1.0:
            neighbors, scores = top_k(vectors, k, memory_budget=memory_budget)
            done_share = 1.0
        else:
            threads = default_threads()
            plan = plan_tiles(vectors, memory_budget=memory_budget, threads=threads)
            pairs = list(plan.pairs())
            last_block = max(1, round(len(plan.starts) * topk_share))
            chosen = [pair for pair in pairs if pair[0] < last_block]
            best = _Best(n_docs, min(k, n_docs - 1))
            function = functools.partial(plan.candidates, width=best.width, floor=best.floor)
            for found in _local_mapper(threads)(function, chosen):
                best.merge(found)
            neighbors, scores = best.cols, best.scores
            done_share = len(chosen) / len(pairs)
    record(
        "top_k",
        timer,
        share_of_tiles_done=round(done_share, 5),
        extrapolated_seconds=round(timer.wall / done_share, 1),
        extrapolated_cpu_seconds=round(timer.cpu / done_share, 1),
    )
    if output:
        with Timer() as timer:
            ids = [str(article_id) for article_id in frame["id"]]
            model._set_state(
                ids=ids,
                metadata=_metadata(frame),
                vocabulary=vocabulary,
                idf=idf,
                vectors=vectors,
                neighbors=neighbors,
                scores=scores,
            )
            # The synthetic corpus's tokens are exactly its vocabulary's words: the draft-query tables.
            analyzer = model.analyzer
            model.forms = {
                analyzer.language: {word: analyzer.verdict(word) for word in synthetic.vocabulary()}
            }
            model.save(output)
        record("save", timer)
    peak = sampler.stop()
    total = sum(stage.get("extrapolated_seconds", stage["seconds"]) for stage in stages.values())
    return {
        "n": n,
        "k": k,
        "memory_budget_mb": memory_budget // 2**20,
        "topk_share": topk_share,
        "kernel": _resolve_kernel("auto", n),
        "stages": stages,
        "total_seconds_extrapolated": round(total, 1),
        "peak_rss_mb": round(peak),
        "machine": machine(),
        "output": output,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.million", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--output", help="model folder to write (default: do not save)")
    parser.add_argument("--topk-share", type=float, default=1.0)
    parser.add_argument("--memory-budget", type=int, default=256, metavar="MB")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(
        args.n,
        k=args.k,
        output=args.output,
        topk_share=args.topk_share,
        memory_budget=args.memory_budget * 2**20,
    )
    print(json.dumps(report, indent=2) if args.json else report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
