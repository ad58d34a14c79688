"""Add the draft-query tables to a big synthetic model without re-fitting it (benchmark only).

    python -m benchmarks.query_model /tmp/model-1m-v2 /tmp/model-1m-query

``Index.query`` reads the surface-form table and the inverted index that ``Recommender.save`` now writes,
never the stored neighbour lists, so a million-article model for the ``query()`` latency measurement
does not need the hours-long all-pairs step again: this loads a model written by ``benchmarks.million``
(plain TF-IDF over the seeded synthetic corpus), sets its surface forms to the synthetic vocabulary's
words (exactly the corpus's tokens) with the model's own analyzer, and saves it through
``Recommender.save`` (the real format). The cost an LSA blend adds to a query is timed on its own by
``python -m benchmarks.lookup --lsa-stage N,DIMS`` (blending a million rows here needs more memory than
the shared machine has free).
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    from recommender.recommender import Recommender

    from . import synthetic

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.query_model", description=__doc__.split("\n")[0]
    )
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = Recommender.load(args.source, verify=False)
    print(f"loaded {len(model.ids)} articles in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    analyzer = model.analyzer
    model.forms = {analyzer.language: {word: analyzer.verdict(word) for word in synthetic.vocabulary()}}
    lineage = {"benchmark": "benchmarks.query_model: draft tables added to " + args.source}
    model.save(args.target, lineage=lineage)
    print(f"wrote {args.target} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
