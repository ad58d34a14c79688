"""Add the draft-query tables to a big synthetic model without re-fitting it (benchmark only).

    python -m benchmarks.query_model /tmp/model-1m-v2 /tmp/model-1m-query [--lsa-dims 200]

``Index.query`` reads the surface-form table and the inverted index that ``Recommender.save`` now writes,
never the stored neighbour lists, so a million-article model for the ``query()`` latency measurement
does not need the hours-long all-pairs step again: this loads a model written by ``benchmarks.million``
(plain TF-IDF over the seeded synthetic corpus), sets its surface forms to the synthetic vocabulary's
words (exactly the corpus's tokens) with the model's own analyzer, and saves it through
``Recommender.save`` (the real format). ``--lsa-dims D`` also gives it an LSA blend (weight 0.3) whose
projection is a **random orthonormal stand-in** (labelled so in the manifest's lineage): fitting a real
TruncatedSVD on a million articles takes long and the query cost does not depend on the values.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from recommender.blend import blend
    from recommender.model import Recommender

    from . import synthetic

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.query_model", description=__doc__.split("\n")[0]
    )
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--lsa-dims", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = Recommender.load(args.source, verify=False)
    print(f"loaded {len(model.ids)} articles in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    analyzer = model.analyzer
    model.forms = {analyzer.language: {word: analyzer.verdict(word) for word in synthetic.vocabulary()}}
    lineage = {"benchmark": "benchmarks.query_model: draft tables added to " + args.source}
    if args.lsa_dims:
        rng = np.random.default_rng(0)
        random = rng.standard_normal((len(model.vocabulary), args.lsa_dims))
        components, _ = np.linalg.qr(random)
        model.components = np.ascontiguousarray(components.T, dtype=np.float32)
        object.__setattr__(model.settings, "lsa_weight", 0.3)
        object.__setattr__(model.settings, "lsa_dims", args.lsa_dims)
        model._search = blend(model.vectors, model.components, 0.3)
        lineage["lsa"] = f"random orthonormal stand-in projection, {args.lsa_dims} dims (not a fitted SVD)"
        print(f"blended in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    model.save(args.target, lineage=lineage)
    print(f"wrote {args.target} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
