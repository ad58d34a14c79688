"""Every article's exact top-k: ours against the peers, on one TF-IDF matrix, each in its own process.

    python -m benchmarks.allpairs --n 20000 [--corpus PATH] [--k 10] [--json] [--only ours,sparse_dot_topn]

Methods: ``ours`` (``recommender.build.neighbors.top_k``, with the compiled kernel of the ``fast`` extra when
numba is installed, pruned where its cost model expects a gain), ``ours_unpruned`` (the same without the
pruning of ``recommender.build.pruning``), ``ours_scipy`` (the same search on the scipy kernel, as
installed without numba), ``naive`` (scikit-learn ``linear_kernel`` over row blocks, dense,
``np.argpartition``), ``sparse_dot_topn`` (``sp_matmul_topn``, 2 threads, top_n=k+1) and
``nearest_neighbors`` (``NearestNeighbors(metric="cosine", algorithm="brute")``). Each runs in a fresh
subprocess; its RSS is sampled every 20 ms while it runs (``peak_rss_mb``), next to the RSS just before
it starts, with the matrix loaded (``baseline_rss_mb``).
Lists are compared with exact brute force (ties by row) on all rows, or on ``--check-rows`` sampled rows
for large N. ``--fraction`` times the slow peers on that share of rows and extrapolates (marked).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .common import RssSampler, Timer, machine, tfidf_matrix

METHODS = ("ours", "ours_unpruned", "ours_scipy", "sparse_dot_topn", "naive", "nearest_neighbors")
THREADS = 2


def _ours(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from recommender.build.neighbors import top_k

    return top_k(matrix, k, threads=THREADS, kernel="auto")


def _ours_unpruned(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from recommender.build.neighbors import top_k

    return top_k(matrix, k, threads=THREADS, kernel="auto", prune="off")


def _ours_scipy(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from recommender.build.neighbors import top_k

    return top_k(matrix, k, threads=THREADS, kernel="scipy")


def _naive(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics.pairwise import linear_kernel

    neighbors = np.full((rows.size, k), -1, dtype=np.int32)
    scores = np.zeros((rows.size, k), dtype=np.float32)
    step = max(1, (256 * 2**20) // (matrix.shape[0] * 8))
    for start in range(0, rows.size, step):
        chosen = rows[start : start + step]
        block = linear_kernel(matrix[chosen], matrix).astype(np.float32)
        block[np.arange(chosen.size), chosen] = -np.inf
        top = np.argpartition(-block, k, axis=1)[:, :k]
        top_scores = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        neighbors[start : start + step] = np.take_along_axis(top, order, axis=1)
        scores[start : start + step] = np.take_along_axis(top_scores, order, axis=1)
    return neighbors, scores


def _sparse_dot_topn(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sparse_dot_topn import sp_matmul_topn

    product = sp_matmul_topn(matrix, matrix.T.tocsr(), top_n=k + 1, n_threads=THREADS, sort=True)
    return _drop_self(sp.csr_matrix(product), k)


def _nearest_neighbors(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    search = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute", n_jobs=THREADS)
    distances, found = search.fit(matrix).kneighbors(matrix[rows])
    neighbors = np.full((rows.size, k), -1, dtype=np.int32)
    scores = np.zeros((rows.size, k), dtype=np.float32)
    for i, row in enumerate(rows.tolist()):
        keep = found[i] != row
        chosen = found[i][keep][:k]
        neighbors[i, : chosen.size] = chosen
        scores[i, : chosen.size] = 1.0 - distances[i][keep][:k]
    return neighbors, scores


def _drop_self(product: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    n_rows = product.shape[0]
    neighbors = np.full((n_rows, k), -1, dtype=np.int32)
    scores = np.zeros((n_rows, k), dtype=np.float32)
    for row in range(n_rows):
        start, stop = product.indptr[row], product.indptr[row + 1]
        cols, values = product.indices[start:stop], product.data[start:stop]
        keep = (cols != row) & (values > 0)
        cols, values = cols[keep][:k], values[keep][:k]
        neighbors[row, : cols.size] = cols
        scores[row, : cols.size] = values
    return neighbors, scores


_RUNNERS = {
    "ours": _ours,
    "ours_unpruned": _ours_unpruned,
    "ours_scipy": _ours_scipy,
    "naive": _naive,
    "sparse_dot_topn": _sparse_dot_topn,
    "nearest_neighbors": _nearest_neighbors,
}
_FULL_ONLY = {
    "ours",
    "ours_unpruned",
    "ours_scipy",
    "sparse_dot_topn",
}  # these compute every row at once; the others can take a share


def reference(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact brute force for ``rows``: dense scores, every tie broken by the lower row number."""
    from recommender.build.neighbors import top_k_of

    transposed = matrix.T.tocsr()
    parts = [
        top_k_of(matrix[rows[start : start + 500]], transposed, k, exclude=rows[start : start + 500])
        for start in range(0, rows.size, 500)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _child(args: argparse.Namespace) -> None:
    matrix = sp.load_npz(args.matrix).tocsr()
    sampler = RssSampler(interval=0.02)
    baseline = sampler.current_mb()
    sampler.start()
    n = matrix.shape[0]
    fraction = 1.0 if args.child in _FULL_ONLY else args.fraction
    rows = np.arange(0, n, dtype=np.int64)[: max(1, round(n * fraction))]
    with Timer() as timer:
        neighbors, scores = _RUNNERS[args.child](matrix, rows, args.k)
    sampler.stop()
    out = Path(args.out)
    np.save(out / f"{args.child}_neighbors.npy", neighbors)
    np.save(out / f"{args.child}_scores.npy", scores)
    result = {
        "seconds": timer.wall / fraction,
        "cpu_seconds": timer.cpu / fraction,
        "measured_seconds": timer.wall,
        "rows_timed": int(rows.size),
        "extrapolated": fraction < 1.0,
        "peak_rss_mb": round(float(sampler.peak), 1),
        "baseline_rss_mb": round(baseline, 1),
    }
    print(json.dumps(result))


def run(
    n: int,
    *,
    corpus: str | None,
    k: int,
    methods: list[str],
    fraction: float,
    check_rows: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Build the matrix, run each method in a subprocess, check lists, and return the report."""
    with Timer() as build:
        matrix = tfidf_matrix(n, corpus=corpus, seed=seed)
    n = matrix.shape[0]
    report: dict[str, Any] = {
        "n": n,
        "k": k,
        "corpus": corpus or "synthetic",
        "terms": int(matrix.shape[1]),
        "nonzeros_per_article": round(matrix.nnz / max(1, n), 1),
        "tfidf_seconds": round(build.wall, 2),
        "threads": THREADS,
        "machine": machine(),
        "methods": {},
    }
    rng = np.random.default_rng(seed)
    checked = np.arange(n) if check_rows >= n else np.sort(rng.choice(n, size=check_rows, replace=False))
    expected_neighbors, expected_scores = reference(matrix, checked, k)
    report["rows_checked"] = int(checked.size)
    with tempfile.TemporaryDirectory(prefix="allpairs-") as folder:
        path = Path(folder) / "matrix.npz"
        sp.save_npz(path, matrix, compressed=False)
        for method in methods:
            command = [sys.executable, "-m", "benchmarks.allpairs", "--child", method, "--matrix", str(path)]
            command += ["--k", str(k), "--fraction", str(fraction), "--out", folder]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                report["methods"][method] = {"error": done.stderr.strip().splitlines()[-1:]}
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            neighbors = np.load(Path(folder) / f"{method}_neighbors.npy")
            scores = np.load(Path(folder) / f"{method}_scores.npy")
            timed = result["rows_timed"]
            mask = checked < timed
            rows = checked[mask]
            result["exact"] = bool(np.array_equal(neighbors[rows], expected_neighbors[mask]))
            result["scores_match"] = bool(np.allclose(scores[rows], expected_scores[mask], atol=1e-5))
            result["rows_compared"] = int(rows.size)
            report["methods"][method] = result
    ours = report["methods"].get("ours", {}).get("seconds")
    for result in report["methods"].values():
        if ours and "seconds" in result:
            result["ratio_to_ours"] = round(result["seconds"] / ours, 2)
    return report


def _print_table(report: dict[str, Any]) -> None:
    print(
        f"n={report['n']} k={report['k']} corpus={report['corpus']} terms={report['terms']} "
        f"nnz/article={report['nonzeros_per_article']} rows checked={report['rows_checked']} "
        f"(machine: {report['machine']['cores']} cores, {report['machine']['ram_gb']} GB)"
    )
    header = (
        f"{'method':<18}{'wall s':>10}{'CPU s':>10}{'peak MB':>10}{'base MB':>10}{'exact':>7}{'÷ ours':>8}"
    )
    print(header)
    for name, result in report["methods"].items():
        if "error" in result:
            print(f"{name:<18} error: {result['error']}")
            continue
        mark = "*" if result["extrapolated"] else ""
        print(
            f"{name:<18}{result['seconds']:>9.2f}{mark:1}{result['cpu_seconds']:>10.2f}"
            f"{result['peak_rss_mb']:>10.0f}{result['baseline_rss_mb']:>10.0f}"
            f"{'yes' if result['exact'] else 'no':>7}{result.get('ratio_to_ours', float('nan')):>8.2f}"
        )
    if any(r.get("extrapolated") for r in report["methods"].values()):
        print("* timed on a share of the rows and extrapolated to all rows")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.allpairs", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="articles (default 20000)")
    parser.add_argument("--corpus", help="a corpus file instead of the synthetic one")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", help=f"comma-separated methods among {', '.join(METHODS)}")
    parser.add_argument("--fraction", type=float, default=None, help="share of rows for naive/NN")
    parser.add_argument("--check-rows", type=int, default=None, help="rows compared with brute force")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--matrix", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    methods = list(METHODS) if not args.only else [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}; choose among {', '.join(METHODS)}")
    fraction = args.fraction if args.fraction is not None else (1.0 if args.n <= 20_000 else 0.1)
    check_rows = args.check_rows if args.check_rows is not None else (args.n if args.n <= 20_000 else 2_000)
    report = run(
        args.n,
        corpus=args.corpus,
        k=args.k,
        methods=methods,
        fraction=fraction,
        check_rows=check_rows,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
