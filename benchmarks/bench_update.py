"""Benchmark: add 100 articles to a 100,000-article model with `update` versus a full rebuild.

The 100,000 base articles come from the real corpora in ../shared/data (20 Newsgroups, Reuters-21578,
AG News, BBC News: 47,679 articles). To reach 100,000 distinct texts, each article also appears as two
cut-down variants (its first 60 % and its last 60 % of words, new ids), which keeps the vocabulary and
the neighbour structure realistic. The 100 added articles are real articles held out of the base.

Both sides are timed end to end, side by side in one run: the rebuild is ``Recommender().fit(corpus)
.save(folder)`` on all 100,100 articles; the update is ``update_model(base, add=new, output=folder)``
(load, vectorise with the frozen vocabulary, reverse refresh, save). Run from the repository root:

    .venv/bin/python benchmarks/bench_update.py [--base 100000] [--add 100] [--verify]

``--verify`` also checks the updated model against a full rebuild with the same vocabulary and IDF.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from recommender import Recommender
from recommender.update import rebuild_frozen, update_model

# Corpus-wide ranking levers off, so the model can be updated incrementally (see check_updatable).
UPDATABLE = {"lsa_weight": 0.0, "hub_weight": 0.0, "hide_duplicates": False}

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
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "update.json"))
    args = parser.parse_args()

    real = _records()
    held_out, real = real[-args.add :], real[: -args.add]  # the newest lines of the last corpus
    pool = real + [_variant(r, "head") for r in real] + [_variant(r, "tail") for r in real]
    base = pool[: args.base]
    if len(base) < args.base:
        print(f"only {len(base)} base articles available", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-update-") as scratch:
        folder = Path(scratch)
        base_path = _write(folder / "base.jsonl", base)
        new_path = _write(folder / "new.jsonl", held_out)
        full_path = _write(folder / "full.jsonl", base + held_out)

        started = time.perf_counter()
        Recommender(**UPDATABLE).fit(base_path).save(folder / "base-model")
        base_build = time.perf_counter() - started

        started = time.perf_counter()
        report = update_model(folder / "base-model", add=new_path, output=folder / "updated")
        update_seconds = time.perf_counter() - started

        started = time.perf_counter()
        Recommender(**UPDATABLE).fit(full_path).save(folder / "rebuilt")
        rebuild_seconds = time.perf_counter() - started

        verified = None
        if args.verify:
            model = Recommender.load(folder / "base-model")
            reference = rebuild_frozen(model, base + held_out)
            updated = Recommender.load(folder / "updated")
            verified = bool(
                updated.ids == reference.ids
                and np.array_equal(updated.neighbors, reference.neighbors)
                and np.array_equal(updated.scores, reference.scores)
            )

    result = {
        "base_articles": len(base),
        "added_articles": len(held_out),
        "base_build_seconds": round(base_build, 2),
        "update_seconds": round(update_seconds, 2),
        "rebuild_seconds": round(rebuild_seconds, 2),
        "speedup": round(rebuild_seconds / update_seconds, 1),
        "lists_refreshed": report.refreshed,
        "unseen_token_share": round(report.unseen_token_share, 4),
        "equal_to_frozen_rebuild": verified,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
