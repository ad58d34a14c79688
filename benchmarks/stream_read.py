"""Read a lazily generated JSONL corpus of a given size through a named pipe and report peak memory.

    python benchmarks/stream_read.py --gigabytes 1

Nothing is written to disk: a child process writes the JSONL into a pipe that ``iter_articles`` reads.
The reported peak resident memory is the reader's, and should not grow with ``--gigabytes``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from recommender.sources.corpus import iter_articles

_WORDS = ("caspian", "pipeline", "sanctions", "grain", "corridor", "tariff", "election", "border", "oil")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--article-kb", type=int, default=8)
    args = parser.parse_args()
    words = max(1, args.article_kb * 1024 // 9)
    bodies = [" ".join(_WORDS[(n + i) % len(_WORDS)] for i in range(words)) for n in range(len(_WORDS))]
    line_bytes = len(json.dumps({"id": "a0000000", "body": bodies[0]})) + 1
    count = int(args.gigabytes * 2**30 // line_bytes)
    with tempfile.TemporaryDirectory() as folder:
        pipe = Path(folder) / "corpus.jsonl"
        os.mkfifo(pipe)
        child = os.fork()
        if child == 0:  # the writer: generates the corpus lazily
            with pipe.open("w", encoding="utf-8") as handle:
                for number in range(count):
                    handle.write(
                        json.dumps({"id": f"a{number:07d}", "body": bodies[number % len(bodies)]}) + "\n"
                    )
            os._exit(0)
        started = time.perf_counter()
        total = 0
        for article in iter_articles(pipe, format="jsonl"):
            total += len(article["body"])
        os.waitpid(child, 0)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gigabytes = total / 2**30
    print(f"read {count} articles, {gigabytes:.2f} GiB of text in {seconds:.1f} s; peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
