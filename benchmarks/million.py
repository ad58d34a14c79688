"""End to end on N synthetic articles: the real build, stage by stage, with wall, CPU and RSS per stage.

    python -m benchmarks.million --n 1000000 [--k 10] [--output /tmp/model-1m] [--json]

The build is ``recommender.build.pipeline.build_model`` (what ``recommender build`` runs) on plain TF-IDF
settings (log tf, no LSA blend, no hub discount, near-duplicates kept, the 300 most frequent synthetic
words as stop words), then ``store.write_model`` when ``--output`` is given. Peak RSS is sampled every
50 ms over the whole run (this process; the analysis workers are sampled apart, see ``children_peak``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from recommender import store
from recommender.build.neighbors import resolve_kernel
from recommender.build.pipeline import build_model
from recommender.settings import Settings
from recommender.sources.corpus import load_articles

from . import synthetic
from .common import RssSampler, Timer, machine


class _Stages:
    """Times each stage (wall, CPU of this process, RSS after) and prints it as it ends."""

    def __init__(self, sampler: RssSampler) -> None:
        self.sampler = sampler
        self.stages: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with Timer() as timer:
            yield
        self.record(name, timer)

    def record(self, name: str, timer: Timer) -> None:
        self.stages[name] = {
            "seconds": round(timer.wall, 1),
            "cpu_seconds": round(timer.cpu, 1),
            "rss_mb_after": round(self.sampler.current_mb()),
        }
        print(f"{name}: {self.stages[name]}", file=sys.stderr, flush=True)


def run(n: int, *, k: int, output: str | None, memory_budget: int) -> dict[str, Any]:
    """Build (and save) a model of ``n`` synthetic articles, timing every stage."""
    sampler = RssSampler()
    sampler.start()
    stages = _Stages(sampler)
    with stages.stage("generate"):
        records = list(synthetic.articles(n))
    settings = Settings(
        k=k,
        min_df=2,
        stop_words=tuple(synthetic.most_frequent(300)),
        memory_budget=memory_budget,
        tf="log",
        lsa_weight=0.0,
        hub_weight=0.0,
        hide_duplicates=False,
        language="en",
    )
    with stages.stage("validate"):
        frame = load_articles(records)
        del records
    model = build_model(frame, settings, stage=stages.stage)
    del frame
    if output:
        with stages.stage("save"):
            store.write_model(output, **model.parts())
    peak = sampler.stop()
    return {
        "n": n,
        "k": k,
        "memory_budget_mb": memory_budget // 2**20,
        "kernel": resolve_kernel("auto", n),
        "stages": stages.stages,
        "total_seconds": round(sum(stage["seconds"] for stage in stages.stages.values()), 1),
        "peak_rss_mb": round(peak),
        "machine": machine(),
        "output": output,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.million", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--output", help="model folder to write (default: do not save)")
    parser.add_argument("--memory-budget", type=int, default=256, metavar="MB")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.n, k=args.k, output=args.output, memory_budget=args.memory_budget * 2**20)
    print(json.dumps(report, indent=2) if args.json else report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
