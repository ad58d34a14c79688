"""Readers' events under load: every valid event stored exactly once, the invalid refused, and what the
events cost the related lists' latency.

    python -m benchmarks.events [--model MODEL] [--events 20000] [--senders 8] [--batch 50] [--json]

A server (``recommender serve MODEL --events DB --events-rate 0 --quiet``: uvicorn, one process) listens on
127.0.0.1. Two phases, side by side in one run:

1. **related only**: ``--readers`` connections keep ``GET /related/{random id}?k=8`` in flight for
   ``--seconds``;
2. **related + events**: the same readers, while ``--senders`` concurrent clients send ``--events`` events
   in batches of ``--batch`` (one batch in twenty holds an invalid event, so it is refused whole with
   422; one in ten is sent twice, as a page retrying a batch it believes lost, with the same batch id).

Then the database is read: the stored count must equal the events of the accepted batches, once each,
and the server's ``recommender_events_rejected_total`` the events of the refused ones. The report gives
both phases' related latency percentiles (p99 side by side, as a ratio), the events' throughput and
their own latency. Without ``--model`` the bundled corpus is built into a temporary folder. Saved to
``benchmarks/results/events.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import machine
from benchmarks.serve import _free_port, _wait_until_up

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "events.json"
K = 8


async def _readers(
    client: Any, base: str, ids: list[str], done: Callable[[], bool], seed: int
) -> list[float]:
    """One connection's ``/related`` latencies (seconds) until ``done()``; a failure is an error."""
    rng = random.Random(seed)
    latencies = []
    while not done():
        started = time.perf_counter()
        response = await client.get(f"{base}/related/{ids[rng.randrange(len(ids))]}", params={"k": K})
        if response.status_code != 200:
            message = f"/related answered {response.status_code}: {response.text[:200]}"
            raise RuntimeError(message)
        latencies.append(time.perf_counter() - started)
    return latencies


def _batches(total: int, size: int, ids: list[str], seed: int) -> list[tuple[dict[str, Any], bool]]:
    """(body, valid) for every batch: ``total`` events, one batch in twenty spoiled by one bad event."""
    rng = random.Random(seed)
    batches = []
    for number in range(total // size):
        article_id = ids[rng.randrange(len(ids))]
        events = []
        for place in range(size):
            rank = place % K + 1
            events.append(
                {
                    "type": "click" if rng.random() < 0.05 else "impression",
                    "article_id": article_id,
                    "link_id": ids[rng.randrange(len(ids))],
                    "rank": rank,
                    "reason": "similar",
                    "visitor": f"reader-{rng.randrange(5000)}",
                }
            )
        valid = number % 20 != 19
        if not valid:
            events[rng.randrange(size)]["rank"] = 0
        batches.append(({"batch": f"load-{seed}-{number:06d}", "events": events}, valid))
    return batches


async def _sender(client: Any, base: str, batches: list[tuple[dict[str, Any], bool]]) -> dict[str, Any]:
    """Send ``batches`` one after another (every tenth twice); count what the server said."""
    counts = {"accepted": 0, "stored": 0, "refused": 0, "unexpected": 0, "repeats": 0}
    latencies = []
    for number, (body, valid) in enumerate(batches):
        for attempt in range(2 if number % 10 == 0 else 1):
            started = time.perf_counter()
            response = await client.post(f"{base}/events", content=json.dumps(body))
            latencies.append(time.perf_counter() - started)
            if response.status_code == 200:
                data = response.json()
                counts["stored"] += data["stored"]
                counts["repeats"] += bool(data["duplicate"])
                counts["accepted"] += len(body["events"]) if attempt == 0 else 0
                counts["unexpected"] += not valid
            elif response.status_code == 422:
                counts["refused"] += len(body["events"]) if attempt == 0 else 0
                counts["unexpected"] += valid
            else:
                counts["unexpected"] += 1
    return {"counts": counts, "latencies": latencies}


async def _run(model: Path, database: Path, args: argparse.Namespace) -> dict[str, Any]:
    import httpx2

    from recommender import Index

    ids = list(Index.load(model).ids)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "recommender", "serve", str(model), "--port", str(port), "--quiet"]
    command += ["--events", str(database), "--events-rate", "0"]
    server = subprocess.Popen(command, stderr=subprocess.PIPE)
    connections = args.readers + args.senders
    try:
        limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx2.AsyncClient(limits=limits, timeout=60.0) as client:
            await _wait_until_up(client, base, server)
            warm = time.perf_counter() + 2.0
            await _readers(client, base, ids, lambda: time.perf_counter() > warm, seed=-1)
            until = time.perf_counter() + args.seconds
            alone = await asyncio.gather(
                *[
                    _readers(client, base, ids, lambda: time.perf_counter() > until, seed)
                    for seed in range(args.readers)
                ]
            )
            plans = [
                _batches(args.events // args.senders, args.batch, ids, seed) for seed in range(args.senders)
            ]
            started = time.perf_counter()
            senders = asyncio.ensure_future(asyncio.gather(*[_sender(client, base, plan) for plan in plans]))
            beside = await asyncio.gather(
                *[_readers(client, base, ids, senders.done, seed) for seed in range(args.readers)]
            )
            sent = await senders
            events_seconds = time.perf_counter() - started
            metrics = (await client.get(f"{base}/metrics")).text
    finally:
        server.terminate()
        server.wait(timeout=30)
    connection = sqlite3.connect(database)
    stored_rows = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    connection.close()
    return _report(alone, beside, sent, events_seconds, stored_rows, metrics, plans)


def _report(
    alone: list[list[float]],
    beside: list[list[float]],
    sent: list[dict[str, Any]],
    events_seconds: float,
    stored_rows: int,
    metrics: str,
    plans: list[Any],
) -> dict[str, Any]:
    def percentiles(latencies: list[float]) -> dict[str, float]:
        values = np.array(latencies) * 1000
        return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 90, 99)}

    totals = {name: sum(run["counts"][name] for run in sent) for name in sent[0]["counts"]}
    valid = sum(len(body["events"]) for plan in plans for body, ok in plan if ok)
    invalid = sum(len(body["events"]) for plan in plans for body, ok in plan if not ok)
    rejected = next(
        (
            int(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith("recommender_events_rejected_total")
        ),
        0,
    )
    related_alone = percentiles([value for run in alone for value in run])
    related_beside = percentiles([value for run in beside for value in run])
    return {
        "events_sent": valid + invalid,
        "valid_events": valid,
        "invalid_events": invalid,
        "stored": stored_rows,
        "stored_equals_valid": stored_rows == valid,
        "rejected_by_server": rejected,
        "rejected_equals_invalid": rejected == invalid,
        "repeated_batches_not_stored_again": totals["repeats"],
        "unexpected_answers": totals["unexpected"],
        "events_seconds": round(events_seconds, 2),
        "events_per_second": round((valid + invalid) / events_seconds, 1),
        "events_latency_ms": percentiles([value for run in sent for value in run["latencies"]]),
        "related_alone_ms": related_alone,
        "related_with_events_ms": related_beside,
        "related_p99_ratio": round(related_beside["p99"] / related_alone["p99"], 2),
        "related_requests": {
            "alone": sum(map(len, alone)),
            "with_events": sum(map(len, beside)),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a saved model folder (default: the bundled corpus, built here)")
    parser.add_argument("--events", type=int, default=20_000, help="events sent in all")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--readers", type=int, default=4, help="connections asking /related meanwhile")
    parser.add_argument("--seconds", type=float, default=10.0, help="the related-only phase's length")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-events-") as folder:
        model = Path(args.model) if args.model else Path(folder) / "model"
        if not args.model:
            from recommender import Recommender

            Recommender().fit(ROOT / "corpus" / "geopolitics.jsonl").save(model)
        report = asyncio.run(_run(model, Path(folder) / "events.db", args))
    report = {
        "benchmark": "python -m benchmarks.events",
        "model": args.model or "corpus/geopolitics.jsonl",
        "senders": args.senders,
        "batch": args.batch,
        "readers": args.readers,
        "machine": machine(),
        **report,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, value in report.items():
            if name != "machine":
                print(f"{name}: {value}")
    return 0 if report["stored_equals_valid"] and report["rejected_equals_invalid"] else 1


if __name__ == "__main__":
    sys.exit(main())
