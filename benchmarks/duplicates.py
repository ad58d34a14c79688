"""Near-duplicate suppression on BBC News: groups found versus the known ``duplicate_of`` records.

Run from the repository root: ``python -m benchmarks.duplicates``. Builds the full BBC corpus (all
2,225 articles, duplicates included) with the default settings and checks every top-10 list.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

from recommender import Recommender, read_articles

from .quality import DATA


def main() -> int:
    articles = read_articles(DATA / "bbc_news.jsonl.gz")
    known = {
        article_id: original
        for article_id, original in zip(articles["id"], articles["duplicate_of"], strict=True)
        if isinstance(original, str) and original
    }
    started = time.perf_counter()
    model = Recommender().fit(articles)
    seconds = time.perf_counter() - started
    groups: dict[str, list[str]] = defaultdict(list)
    for article_id, canonical in model.duplicates.items():
        groups[canonical].append(article_id)
    known_groups = {original for original in known.values()}
    pairs = {frozenset(pair) for pair in known.items()}
    shown = 0
    for article_id in model.ids:
        for link in model.related(article_id, k=10):
            if frozenset((article_id, link.article_id)) in pairs:
                shown += 1
    found_pairs = {frozenset(pair) for pair in model.duplicates.items()}
    print(f"built {len(model)} articles in {seconds:.1f} s (threshold {model.settings.duplicate_threshold})")
    print(f"known: {len(known)} duplicate articles in {len(known_groups)} groups")
    print(f"found: {len(model.duplicates)} hidden articles in {len(groups)} groups")
    print(f"known pairs found as a (duplicate, canonical) pair: {len(pairs & found_pairs)} of {len(pairs)}")
    extra = sorted(set(model.duplicates) - set(known) - set(known.values()))
    print(f"hidden articles outside the known pairs: {len(extra)} {extra[:10]}")
    print(f"known duplicate pairs appearing in any top-10 list: {shown}")
    return 0 if shown == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
