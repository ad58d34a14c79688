"""Benchmark: add 100 articles to a 100,000-article model with `update` versus a full rebuild.

Both models use the default settings of the code that runs it (now log tf, the LSA blend, the hub discount,
hidden near-duplicates; the stored results were taken when the default was BM25).

The 100,000 base articles come from the real corpora in ../shared/data (20 Newsgroups, Reuters-21578,
AG News, BBC News: 47,679 articles). To reach 100,000 distinct texts, each article also appears as two
cut-down variants (its first 60 % and its last 60 % of words, new ids), which keeps the vocabulary and
the neighbour structure realistic. The 100 added articles are real articles held out of the base.

Both sides are timed end to end, side by side in one run: the rebuild is ``Recommender().fit(corpus)
.save(folder)`` on all 100,100 articles; the update is ``update_model(base, add=new, output=folder)``
(load, vectorise with the frozen vocabulary, reverse refresh of the raw pools, duplicate groups, hub
scores and re-rank of all lists, save). Wall and CPU seconds are recorded (CPU: this process's threads
plus its worker processes). Run from the repository root:

    .venv/bin/python benchmarks/bench_update.py [--base 100000] [--add 100] [--verify]

``--semantic MODEL_FOLDER`` builds every model with the semantic view (the base build embeds every base
article once, into the vector cache; the update must embed only the added ones: ``embedded`` in the
result).

``--verify`` also checks the updated model against ``rebuild_frozen`` (a full rebuild with the base
build's vocabulary, IDF, BM25 reference length and LSA components): same ids, pools, duplicate groups,
hub scores, lists, and scores to 1e-6.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recommender import Recommender
from recommender.build.update import rebuild_frozen, update_model

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SOURCES = ("20newsgroups_bydate", "reuters21578", "ag_news_test", "bbc_news")


def _records() -> list[dict[str, object]]:
    records = []
    for name in SOURCES:
        with gzip.open(DATA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                category = row.get("category")
                records.append(
                    {
                        "id": row["id"],
                        "title": row["title"],
                        "body": row["body"],
                        "date": row.get("date"),
                        "category": category if isinstance(category, str) else None,
                    }
                )
    return records


def _variant(record: dict[str, object], part: str) -> dict[str, object]:
    words = str(record["body"]).split()
    cut = max(1, int(len(words) * 0.6))
    body = " ".join(words[:cut] if part == "head" else words[-cut:])
    return {**record, "id": f"{record['id']}#{part}", "body": body}


def _cpu_seconds() -> float:
    """CPU seconds of this process (all threads), its reaped children and its live worker processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + children.ru_utime + children.ru_stime
    ticks = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _timed(step: Callable[[], Any]) -> tuple[Any, float, float]:
    """``step()``'s result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = step()
    return result, time.perf_counter() - wall, _cpu_seconds() - cpu


def _progress(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", type=int, default=100_000)
    parser.add_argument("--add", type=int, default=100)
    parser.add_argument("--verify", action="store_true")
    parser.add_argument(
        "--keep", metavar="DIR", help="keep the corpora and models in DIR (default: a temp dir)"
    )
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "update.json"))
    parser.add_argument("--semantic", metavar="MODEL", help="build with the semantic view of this encoder")
    args = parser.parse_args()
    settings = {"semantic": args.semantic} if args.semantic else {}

    real = _records()
    held_out, real = real[-args.add :], real[: -args.add]  # the newest lines of the last corpus
    pool = real + [_variant(r, "head") for r in real] + [_variant(r, "tail") for r in real]
    base = pool[: args.base]
    if len(base) < args.base:
        print(f"only {len(base)} base articles available", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-update-") as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        base_path = _write(folder / "base.jsonl", base)
        new_path = _write(folder / "new.jsonl", held_out)
        full_path = _write(folder / "full.jsonl", base + held_out)

        _, base_build, base_cpu = _timed(
            lambda: Recommender(**settings).fit(base_path).save(folder / "base-model")
        )
        _progress(f"base build: {base_build:.1f} s wall, {base_cpu:.1f} s CPU")
        report, update_seconds, update_cpu = _timed(
            lambda: update_model(folder / "base-model", add=new_path, output=folder / "updated")
        )
        _progress(f"update: {update_seconds:.2f} s wall, {update_cpu:.2f} s CPU")
        _, rebuild_seconds, rebuild_cpu = _timed(
            lambda: Recommender(**settings).fit(full_path).save(folder / "rebuilt")
        )
        _progress(f"rebuild: {rebuild_seconds:.1f} s wall, {rebuild_cpu:.1f} s CPU")
        model = Recommender.load(folder / "base-model")
        lsa = model.components is not None
        verified = None
        if args.verify:
            reference = rebuild_frozen(model, base + held_out)
            verified = _equal(Recommender.load(folder / "updated"), reference)

    result = {
        "base_articles": len(base),
        "added_articles": len(held_out),
        "settings": {"semantic": Path(args.semantic).name} if args.semantic else "defaults",
        "embedded_by_update": report.embedded,
        "lsa_blend": lsa,
        "hidden_duplicates": len(model.duplicates),
        "base_build_seconds": round(base_build, 2),
        "base_build_cpu_seconds": round(base_cpu, 2),
        "update_seconds": round(update_seconds, 2),
        "update_cpu_seconds": round(update_cpu, 2),
        "rebuild_seconds": round(rebuild_seconds, 2),
        "rebuild_cpu_seconds": round(rebuild_cpu, 2),
        "speedup": round(rebuild_seconds / update_seconds, 1),
        "cpu_speedup": round(rebuild_cpu / update_cpu, 1),
        "lists_refreshed": report.refreshed,
        "unseen_token_share": round(report.unseen_token_share, 4),
        "equal_to_frozen_rebuild": verified,
        "machine": f"{platform.machine()}, {platform.python_version()}, {os.cpu_count()} cores",
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


def _equal(updated: Recommender, reference: Recommender) -> bool:
    """Same ids, raw pools, duplicate groups, hub scores and lists; scores equal to 1e-6."""
    pools, expected = updated.pools, reference.pools
    hubs, expected_hubs = updated.hubs, reference.hubs
    return bool(
        updated.ids == reference.ids
        and pools is not None
        and expected is not None
        and np.array_equal(pools[0], expected[0])
        and np.allclose(pools[1], expected[1], rtol=0, atol=1e-6)
        and updated.duplicates == reference.duplicates
        and (hubs is None) == (expected_hubs is None)
        and (hubs is None or expected_hubs is None or np.allclose(hubs, expected_hubs, rtol=0, atol=1e-6))
        and np.array_equal(updated.neighbors, reference.neighbors)
        and np.allclose(updated.scores, reference.scores, rtol=0, atol=1e-6)
    )


if __name__ == "__main__":
    sys.exit(main())
