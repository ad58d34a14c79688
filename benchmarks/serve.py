"""The HTTP API under load while new generations are published: throughput, latency, failed requests.

    python -m benchmarks.serve --model /tmp/model-100k [--seconds 60] [--connections 32] [--updates 10]

The model folder is copied to a temporary folder, where the generations are published. A server
(``recommender serve COPY --no-verify --quiet``: uvicorn, one process) listens on 127.0.0.1 only; the load
generator (httpx2 over asyncio, in this process) keeps ``--connections`` requests in flight against
``GET /related/{random id}?k=8`` for ``--seconds``, and on until the last generation has been served for
3 s. Meanwhile ``recommender update COPY --add FILE --keep N`` publishes ``--updates`` generations,
evenly spaced where they fit (each adds 10 synthetic articles); right after each
publish this process opens that generation (``Index.load``), so every generation's own answers can be
computed afterwards. Each answer names the generation that gave it (``X-Recommender-Generation``); every
answer is then compared with that generation's ``Index.related(id, k=8)``. The report: requests, failed
requests (a status other than 200 or a connection error), throughput, latency percentiles, generations
seen, answers that equal no generation's. It is printed as markdown (JSON with ``--json``) and saved to
``benchmarks/results/serve.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import machine
from benchmarks.synthetic import articles

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "serve.json"
K = 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_until_up(client: Any, base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            message = f"the server stopped (exit {server.returncode}) before answering"
            raise RuntimeError(message)
        try:
            if (await client.get(f"{base}/healthz")).status_code == 200:
                return
        except Exception:
            pass
        await asyncio.sleep(0.1)
    message = "the server did not answer within 60 s"
    raise RuntimeError(message)


async def _load(
    client: Any, base: str, ids: list[str], until: float, published: asyncio.Event, seed: int
) -> list[tuple[Any, ...]]:
    """One connection's requests until ``until`` and every update published: (id, status, generation,
    body, seconds) each."""
    rng = random.Random(seed)
    answers: list[tuple[Any, ...]] = []
    while time.perf_counter() < until or not published.is_set():
        article_id = ids[rng.randrange(len(ids))]
        started = time.perf_counter()
        try:
            response = await client.get(f"{base}/related/{article_id}", params={"k": K})
            status, body = response.status_code, response.content
            generation = response.headers.get("x-recommender-generation")
        except Exception as error:
            status, body, generation = 0, repr(error).encode(), None
        answers.append((article_id, status, generation, body, time.perf_counter() - started))
    return answers


async def _publish(
    copy: Path, updates: int, seconds: float, started: float, indexes: dict[str, Any]
) -> list[float]:
    """``updates`` generations, evenly spaced over the run; each opened here right after its publish."""
    from recommender import Index

    durations = []
    for number in range(1, updates + 1):
        await asyncio.sleep(max(0.0, started + number * seconds / (updates + 1) - time.perf_counter()))
        new = copy.parent / f"new-{number:02d}.jsonl"
        records = [
            {**record, "id": f"live-{number:02d}-{record['id']}"} for record in articles(10, seed=number)
        ]
        new.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
        began = time.perf_counter()
        command = [sys.executable, "-m", "recommender", "update", str(copy), "--add", str(new), "--quiet"]
        process = await asyncio.create_subprocess_exec(
            *command, "--keep", str(updates + 2), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, error = await process.communicate()
        new.unlink()
        if process.returncode != 0:
            message = f"update {number} failed: {error.decode(errors='replace')}"
            raise RuntimeError(message)
        durations.append(time.perf_counter() - began)
        index = await asyncio.to_thread(Index.load, copy, verify=False)
        indexes[str(index.generation)] = index
    return durations


async def _run(copy: Path, seconds: float, connections: int, updates: int) -> dict[str, Any]:
    import httpx2

    from recommender import Index

    first = Index.load(copy, verify=False)
    indexes: dict[str, Any] = {str(first.generation): first}
    ids = list(first.ids)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "recommender", "serve", str(copy), "--port", str(port)]
    server = subprocess.Popen([*command, "--no-verify", "--quiet"], stderr=subprocess.PIPE)
    try:
        limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx2.AsyncClient(limits=limits, timeout=30.0) as client:
            await _wait_until_up(client, base, server)
            started = time.perf_counter()
            until, published = started + seconds, asyncio.Event()

            async def publish() -> list[float]:
                try:
                    return await _publish(copy, updates, seconds, started, indexes)
                finally:
                    await asyncio.sleep(3.0)  # the server takes the last generation within a second
                    published.set()

            loads = [_load(client, base, ids, until, published, seed) for seed in range(connections)]
            results = await asyncio.gather(publish(), *loads)
            wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    update_seconds, answers = results[0], [answer for part in results[1:] for answer in part]
    return _report(answers, indexes, wall, update_seconds)


def _report(
    answers: list[tuple[Any, ...]], indexes: dict[str, Any], wall: float, update_seconds: list[float]
) -> dict[str, Any]:
    """Counts, latency and the comparison of every answer with its generation's own."""
    failed = [answer for answer in answers if answer[1] != 200]
    latency = np.array([answer[4] for answer in answers]) * 1000
    mismatched = unknown = 0
    for article_id, status, generation, body, _ in answers:
        if status != 200:
            continue
        index = indexes.get(str(generation))
        if index is None:
            unknown += 1
            continue
        expected = [link.to_dict() for link in index.related(article_id, k=K)]
        mismatched += json.loads(body) != expected
    seen = sorted({str(answer[2]) for answer in answers if answer[1] == 200})
    return {
        "requests": len(answers),
        "failed": len(failed),
        "failed_examples": [f"{a[0]}: {a[1]} {a[3][:200]!r}" for a in failed[:5]],
        "seconds": round(wall, 1),
        "requests_per_second": round(len(answers) / wall, 1),
        "latency_ms": {f"p{q}": round(float(np.percentile(latency, q)), 2) for q in (50, 90, 99)},
        "generations_published": len(update_seconds),
        "update_seconds": [round(value, 1) for value in update_seconds],
        "generations_seen": len(seen),
        "answers_checked": len(answers) - len(failed) - unknown,
        "answers_of_no_known_generation": unknown,
        "answers_unlike_their_generation": mismatched,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a saved model folder (copied; never changed)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        copy = Path(folder) / "model"
        shutil.copytree(args.model, copy)
        report = asyncio.run(_run(copy, args.seconds, args.connections, args.updates))
    report = {
        "benchmark": "python -m benchmarks.serve",
        "model": args.model,
        "connections": args.connections,
        "machine": machine(),
        **report,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        latency = report["latency_ms"]
        columns = ("requests", "failed", "req/s", "p50 ms", "p90 ms", "p99 ms", "generations seen", "unlike")
        values = (
            report["requests"],
            report["failed"],
            report["requests_per_second"],
            latency["p50"],
            latency["p90"],
            latency["p99"],
            report["generations_seen"],
            report["answers_unlike_their_generation"],
        )
        print("| " + " | ".join(columns) + " |")
        print("|" + "---:|" * len(columns))
        print("| " + " | ".join(map(str, values)) + " |")
    return 0 if report["failed"] == 0 and report["answers_unlike_their_generation"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
