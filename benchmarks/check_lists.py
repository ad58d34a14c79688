"""Check a saved model's stored lists against exact brute force on sampled rows.

    python -m benchmarks.check_lists MODEL_DIR [--rows 300] [--seed 1] [--json]

For each sampled article, every score ``X[row] @ X.T`` is computed from the stored TF-IDF rows, its own
column left out, and the top ``k`` taken by ``(-score, row)``; the stored neighbours must be the same
list and the stored scores within float32 rounding. For models without an LSA blend or hub re-rank
(such as ``benchmarks.million``'s), whose stored lists are the plain top-k.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import scipy.sparse as sp

from recommender import store


def check(model: str, *, rows: int, seed: int) -> dict[str, object]:
    """Compare ``rows`` sampled stored lists of ``model`` with brute force."""
    folder = store.open_model(model, verify=False)
    indptr = folder.array("vectors_indptr")
    n_rows = len(indptr) - 1
    n_terms = len(folder.array("idf"))
    vectors = sp.csr_matrix(
        (folder.array("vectors_data"), folder.array("vectors_indices"), indptr), shape=(n_rows, n_terms)
    )
    neighbors, scores = folder.array("neighbors"), folder.array("scores")
    chosen = np.sort(np.random.default_rng(seed).choice(n_rows, size=min(rows, n_rows), replace=False))
    started = time.perf_counter()
    block = (vectors[chosen] @ vectors.T.tocsr()).toarray().astype(np.float32)
    identical, largest = 0, 0.0
    order_ties = np.arange(n_rows)
    for position, row in enumerate(chosen.tolist()):
        values = block[position]
        values[row] = -np.inf
        width = neighbors.shape[1]
        top = np.lexsort((order_ties, -values))[:width]
        top = np.where(values[top] > 0, top, -1)
        identical += bool(np.array_equal(top, neighbors[row]))
        kept = top >= 0
        if kept.any():
            largest = max(largest, float(np.abs(values[top[kept]] - scores[row][kept]).max()))
    return {
        "model": model,
        "articles": n_rows,
        "rows_checked": int(chosen.size),
        "identical_lists": identical,
        "max_score_difference": largest,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.check_lists", description=__doc__.split("\n")[0]
    )
    parser.add_argument("model", help="a model folder")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = check(args.model, rows=args.rows, seed=args.seed)
    print(json.dumps(report) if args.json else "\n".join(f"{key}: {value}" for key, value in report.items()))
    return 0 if report["identical_lists"] == report["rows_checked"] else 1


if __name__ == "__main__":
    sys.exit(main())
