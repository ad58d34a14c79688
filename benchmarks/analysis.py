"""Analysis throughput: our analyzer (with stemming) against scikit-learn's default analyzer.

    python -m benchmarks.analysis [--corpus ../shared/data/20newsgroups_bydate.jsonl.gz] [--repeat 3] [--json]

Throughput is the corpus's scikit-learn tokens (default ``CountVectorizer`` analyzer: lower-case,
``\\b\\w\\w+\\b``, no stop words, no stemming) divided by seconds, the same numerator for every method, so
ratios are ratios of time. Methods: scikit-learn's analyzer (one core), ours on one core, and the
analysis pass ``analyse`` that ``fit`` runs (tokens read once into the counts, the word forms for drafts
and the readable words), on one core and with ``--jobs`` joblib workers. The methods take turns, round
after round, so a change in the machine's load falls on all of them; each keeps its best round. CPU
seconds include the worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import machine

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "20newsgroups_bydate.jsonl.gz"
)


def _children_cpu() -> float:
    """CPU seconds used so far by this process's live child processes (joblib's workers), from /proc."""
    total = 0
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:  # fields after "(comm)": state, ppid, ..., utime (12th), stime (13th)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _measure(function: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and its children) of one call."""
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu + _children_cpu() - children


def run(corpus: str, *, repeat: int, jobs: int) -> dict[str, Any]:
    """Time each method ``repeat`` times over the corpus's titles and bodies, in turns; keep the best."""
    from sklearn.feature_extraction.text import CountVectorizer

    from recommender.build.analysis import analyse
    from recommender.sources.corpus import read_articles
    from recommender.text.analyzer import Analyzer

    frame = read_articles(corpus)
    texts = [f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True)]
    characters = sum(map(len, texts))
    sklearn_analyzer = CountVectorizer().build_analyzer()
    tokens = sum(len(sklearn_analyzer(text)) for text in texts)

    def sklearn_run() -> None:
        for text in texts:
            sklearn_analyzer(text)

    def ours_run() -> None:
        analyzer = Analyzer()  # a fresh stem cache each time: no credit for earlier passes
        for text in texts:
            analyzer(text)

    def ours_pass(n_jobs: int) -> Callable[[], object]:
        return lambda: analyse(texts, None, Analyzer(), n_jobs=n_jobs, min_parallel=0)

    # The first parallel call starts the workers (they then stay for later calls, as in a long session);
    # its extra time is reported apart from the throughput.
    cold_wall, _ = _measure(ours_pass(jobs))
    methods_to_run: dict[str, Callable[[], object]] = {
        "sklearn_default": sklearn_run,
        "ours_1_core": ours_run,
        "ours_analyse_1_job": ours_pass(1),
        f"ours_analyse_{jobs}_jobs": ours_pass(jobs),
    }
    best: dict[str, tuple[float, float]] = {}
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        for name, function in methods_to_run.items():
            wall, cpu = _measure(function)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
    load_after = os.getloadavg()[0]
    base_wall, base_cpu = best["sklearn_default"]
    methods = {
        name: {
            "seconds": round(wall, 3),
            "cpu_seconds": round(cpu, 3),
            "tokens_per_second": round(tokens / wall),
            "ratio_to_sklearn": round(base_wall / wall, 2),
            "cpu_ratio_to_sklearn": round(base_cpu / cpu, 2),
        }
        for name, (wall, cpu) in best.items()
    }
    return {
        "corpus": str(corpus),
        "articles": len(texts),
        "characters": characters,
        "sklearn_tokens": tokens,
        "repeat": repeat,
        "first_parallel_call_seconds": round(cold_wall, 3),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "machine": machine(),
        "methods": methods,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.analysis", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.corpus, repeat=args.repeat, jobs=args.jobs)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{report['corpus']}: {report['articles']} articles, {report['sklearn_tokens']} tokens "
        f"(machine: {report['machine']['cores']} cores; load average {report['load_average'][0]} before, "
        f"{report['load_average'][1]} after; best of {report['repeat']})"
    )
    print(f"{'method':<26}{'seconds':>9}{'CPU s':>8}{'tokens/s':>12}{'÷ sklearn':>11}{'CPU ÷ sk':>10}")
    for name, result in report["methods"].items():
        print(
            f"{name:<26}{result['seconds']:>9.2f}{result['cpu_seconds']:>8.2f}{result['tokens_per_second']:>12,}"
            f"{result['ratio_to_sklearn']:>11.2f}{result['cpu_ratio_to_sklearn']:>10.2f}"
        )
    print(f"first parallel call (starts the workers): {report['first_parallel_call_seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
