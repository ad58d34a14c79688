"""A whole build on a Dask cluster against the same build on this machine alone: client memory and time.

    python -m benchmarks.scale_out --n 300000 [--shards 8] [--memory-limit 5GB] [--cap-gb 3]
        [--builds local,2,1,capped] [--json]

N synthetic articles (``benchmarks.synthetic``) are written as JSONL shards, then built four ways, each
in its own process: locally; on a cluster of 1 and of 2 Dask workers (``dask scheduler`` and ``dask
worker --nthreads 1 --memory-limit M``, started as separate processes as a user would); and, with
``--cap-gb``, locally and on 2 workers with every process's data segment capped (``ulimit -d``, Linux's
RLIMIT_DATA, which bounds the heap and private mappings numpy allocates from). Each build writes its
model (``fit(..., output=)``); the peak RSS of the building (client) process is sampled every 50 ms, the
workers' from ``/proc`` by this process. The settings are ``benchmarks.million``'s (plain TF-IDF).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import synthetic
from .common import RssSampler, machine

SETTINGS: dict[str, Any] = {
    "k": 10,
    "min_df": 2,
    "tf": "log",
    "lsa_weight": 0.0,
    "hub_weight": 0.0,
    "hide_duplicates": False,
    "language": "en",
}


def write_shards(n: int, shards: int, folder: Path) -> list[str]:
    """``n`` synthetic articles as ``shards`` JSONL files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-n // shards)
    paths = [folder / f"shard-{number:03d}.jsonl" for number in range(shards)]
    handles = [path.open("w") for path in paths]
    try:
        for number, article in enumerate(synthetic.articles(n)):
            handles[number // per].write(json.dumps(article) + "\n")
    finally:
        for handle in handles:
            handle.close()
    return [str(path) for path in paths]


def _build(paths: list[str], output: str, scheduler: str | None) -> dict[str, Any]:
    """One build in this process (the ``--run`` child): wall time and this process's peak RSS."""
    from recommender import Recommender

    settings = dict(SETTINGS, stop_words=tuple(synthetic.most_frequent(300)))
    sampler = RssSampler()
    sampler.start()
    stages: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def stage(name: str) -> Iterator[None]:
        before, sampler.peak = sampler.peak, 0
        began = time.perf_counter()
        yield
        stages[name] = {"seconds": round(time.perf_counter() - began, 1), "peak_rss_mb": sampler.peak}
        sampler.peak = max(before, sampler.peak)

    started = time.perf_counter()
    model = Recommender(**settings).fit(paths, scheduler=scheduler, output=output, stage=stage)
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "children_peak_rss_mb": round(children),
        "articles": len(model),
        "stages": stages,
    }


def _limited(cap_gb: float | None) -> Any:
    if cap_gb is None:
        return None
    limit = int(cap_gb * 2**30)
    return lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _run(paths: list[str], output: str, scheduler: str | None, cap_gb: float | None) -> dict[str, Any]:
    """One build in a child process; its result, or how it failed."""
    command = [sys.executable, "-m", "benchmarks.scale_out", "--run", output, *paths]
    if scheduler:
        command += ["--scheduler", scheduler]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=_limited(cap_gb), check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"failed": True, "returncode": done.returncode, "error": last[:300]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


class _Cluster:
    """``dask scheduler`` and ``dask worker`` processes on this machine, and their workers' peak RSS."""

    def __init__(self, workers: int, memory_limit: str, folder: Path, cap_gb: float | None) -> None:
        self.file = folder / f"scheduler-{workers}-{time.monotonic_ns()}.json"
        dask = str(Path(sys.executable).parent / "dask")
        log = (folder / f"dask-{workers}.log").open("w")
        # No heartbeat deadline: on a shared virtual machine the clock can jump, and the scheduler would
        # restart healthy workers ("failed to heartbeat for 456s" after 20 s of work).
        environment = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL="None")
        quiet = {"stdout": log, "stderr": log, "env": environment}
        self.scheduler = subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--scheduler-file",
                str(self.file),
                "--port",
                "0",
                "--dashboard-address",
                ":0",
            ],
            **quiet,
        )
        while not self.file.exists():
            time.sleep(0.2)
        address = json.loads(self.file.read_text())["address"]
        self.worker = subprocess.Popen(
            [
                dask,
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nworkers",
                str(workers),
                "--nthreads",
                "1",
                "--memory-limit",
                memory_limit,
                "--no-dashboard",
            ],
            preexec_fn=_limited(cap_gb),
            **quiet,
        )
        self.address, self.count = address, workers
        self._wait_for_workers()
        self.sampler = _TreeSampler(self.worker.pid)
        self.sampler.start()

    def _wait_for_workers(self) -> None:
        from dask.distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(self.count, timeout=120)

    def close(self) -> float:
        peak = self.sampler.stop()
        for process in (self.worker, self.scheduler):
            process.terminate()
            process.wait(timeout=60)
        return peak


class _TreeSampler(RssSampler):
    """The largest RSS of any one process under ``pid`` (the workers a ``dask worker`` nanny starts)."""

    def __init__(self, pid: int) -> None:
        super().__init__(interval=0.1)
        self.pid = pid

    def current_mb(self) -> float:
        import psutil

        try:
            processes = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return 0.0
        sizes = []
        for process in processes:
            try:
                sizes.append(process.memory_info().rss / 2**20)
            except psutil.Error:
                continue
        return max(sizes, default=0.0)


def run(n: int, *, shards: int, memory_limit: str, cap_gb: float | None, builds: str) -> dict[str, Any]:
    """The builds asked for (``local``, ``2`` and ``1`` workers, ``capped``: both under ``cap_gb``), in
    order, with their ratios."""
    folder = Path(tempfile.mkdtemp(prefix="scale-out-"))
    chosen = builds.split(",")
    try:
        paths = write_shards(n, shards, folder / "shards")
        report: dict[str, Any] = {"n": n, "shards": shards, "worker_memory_limit": memory_limit}
        if "local" in chosen:
            report["local"] = _run(paths, str(folder / "local"), None, None)
            print(f"local: {report['local']}", file=sys.stderr, flush=True)
        for workers in (2, 1):
            if str(workers) in chosen:
                report[f"cluster_{workers}"] = _on_cluster(paths, folder, workers, memory_limit, None)
        if cap_gb is not None and "capped" in chosen:
            report["cap_gb"] = cap_gb
            report["local_capped"] = _run(paths, str(folder / "local-capped"), None, cap_gb)
            print(f"local capped: {report['local_capped']}", file=sys.stderr, flush=True)
            report["cluster_2_capped"] = _on_cluster(paths, folder, 2, memory_limit, cap_gb)
        report["same_model"] = _same(folder / "local", folder / "cluster-2")
        report.update(_ratios(report))
        report["machine"] = machine()
        return report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _on_cluster(paths: list[str], folder: Path, workers: int, memory_limit: str, cap_gb: float | None) -> Any:
    """One build on a fresh cluster of ``workers``, with its workers' peak RSS."""
    name = f"cluster-{workers}" + ("-capped" if cap_gb is not None else "")
    cluster = _Cluster(workers, memory_limit, folder, cap_gb)
    result: dict[str, Any] = {"failed": True}
    try:
        result = _run(paths, str(folder / name), cluster.address, cap_gb)
    finally:
        result["worker_peak_rss_mb"] = round(cluster.close())
    print(f"{name}: {result}", file=sys.stderr, flush=True)
    return result


def _ratios(report: dict[str, Any]) -> dict[str, float]:
    """Client peak over local peak, wall times of 1 over 2 workers and of 2 workers over local."""
    ok = {
        name: report[name]
        for name in ("local", "cluster_2", "cluster_1")
        if not report.get(name, {"failed": 1}).get("failed")
    }
    ratios = {}
    if "local" in ok and "cluster_2" in ok:
        ratios["client_peak_over_local_peak"] = round(
            ok["cluster_2"]["peak_rss_mb"] / ok["local"]["peak_rss_mb"], 3
        )
        ratios["wall_cluster_2_over_local"] = round(ok["cluster_2"]["seconds"] / ok["local"]["seconds"], 2)
    if "cluster_1" in ok and "cluster_2" in ok:
        ratios["wall_1_over_2_workers"] = round(ok["cluster_1"]["seconds"] / ok["cluster_2"]["seconds"], 2)
    return ratios


def _same(left: Path, right: Path) -> bool | None:
    """Whether two model folders hold the same files (by the checksums of their manifests)."""
    from recommender import store

    try:
        a, b = store.open_model(left), store.open_model(right)
    except Exception:
        return None
    with a, b:
        return bool(a.manifest["files"] == b.manifest["files"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale_out", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--memory-limit", default="4GB", help="each Dask worker's memory_limit")
    parser.add_argument("--cap-gb", type=float, help="also build with every process's data segment capped")
    parser.add_argument("--builds", default="local,2,1,capped", help="which builds: local, 2, 1, capped")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--run", metavar="OUTPUT", help=argparse.SUPPRESS)
    parser.add_argument("--scheduler", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(_build(args.paths, args.run, args.scheduler)))
        return 0
    report = run(
        args.n, shards=args.shards, memory_limit=args.memory_limit, cap_gb=args.cap_gb, builds=args.builds
    )
    print(json.dumps(report, indent=2) if args.json else report)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
