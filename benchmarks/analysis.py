"""Analysis throughput: our analyzer (with stemming) against scikit-learn's default analyzer.

    python -m benchmarks.analysis [--corpus ../shared/data/20newsgroups_bydate.jsonl.gz] [--repeat 3] [--json]

Throughput is the corpus's scikit-learn tokens (default ``CountVectorizer`` analyzer: lower-case,
``\\b\\w\\w+\\b``, no stop words, no stemming) divided by seconds, the same numerator for every method, so
ratios are ratios of time. Methods: scikit-learn's analyzer (one core), ours on one core, and our
counting step ``count_terms`` (analysis plus counting, both cores through joblib) that ``fit`` uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .common import Timer, machine

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "20newsgroups_bydate.jsonl.gz"
)


def run(corpus: str, *, repeat: int, jobs: int) -> dict[str, Any]:
    """Time each method ``repeat`` times over the corpus's titles and bodies; keep the best."""
    from sklearn.feature_extraction.text import CountVectorizer

    from recommender.analyzer import Analyzer
    from recommender.corpus import read_articles
    from recommender.counting import count_terms

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

    def ours_counting() -> None:
        count_terms(texts, None, Analyzer(), n_jobs=jobs, min_parallel=0)

    methods: dict[str, dict[str, float]] = {}
    for name, function in (
        ("sklearn_default", sklearn_run),
        ("ours_1_core", ours_run),
        (f"ours_count_terms_{jobs}_jobs", ours_counting),
    ):
        best = None
        for _ in range(repeat):
            with Timer() as timer:
                function()
            best = timer if best is None or timer.wall < best.wall else best
        assert best is not None
        methods[name] = {"seconds": round(best.wall, 3), "tokens_per_second": round(tokens / best.wall)}
    base = methods["sklearn_default"]["tokens_per_second"]
    for result in methods.values():
        result["ratio_to_sklearn"] = round(result["tokens_per_second"] / base, 2)
    return {
        "corpus": str(corpus),
        "articles": len(texts),
        "characters": characters,
        "sklearn_tokens": tokens,
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
        f"(machine: {report['machine']['cores']} cores)"
    )
    print(f"{'method':<26}{'seconds':>10}{'tokens/s':>12}{'÷ sklearn':>11}")
    for name, result in report["methods"].items():
        print(
            f"{name:<26}{result['seconds']:>10.2f}{result['tokens_per_second']:>12,}"
            f"{result['ratio_to_sklearn']:>11.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
