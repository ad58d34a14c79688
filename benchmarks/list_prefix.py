"""Whether a longer list continues a shorter one: related lists at k = 20, 21 and 40, drafts at k = 5, 15
and 40, on a corpus built with the defaults.

    python -m benchmarks.list_prefix CORPUS [--first N] [--articles 600] [--drafts 200]

A list "disagrees" when the shorter one is not the start of the longer one. Run it on an older checkout
(``PYTHONPATH=OLD_CHECKOUT``) to compare.
"""

from __future__ import annotations

import argparse
import json

from recommender import Recommender
from recommender.sources.corpus import read_articles


def run(corpus: str, first: int | None, articles: int, drafts: int) -> dict[str, int]:
    """How many related lists and drafts disagree between lengths."""
    frame = read_articles(corpus)
    if first:
        frame = frame.head(first)
    model = Recommender().fit(frame)

    def ids(links: list) -> list[str]:  # type: ignore[type-arg]
        return [link.article_id for link in links]

    lists = 0
    for article_id in model.ids[:articles]:
        short, one_more, long = (ids(model.related(article_id, k=k)) for k in (20, 21, 40))
        lists += short != one_more[:20] or one_more != long[:21]
    queries = 0
    for body in list(frame["body"])[:drafts]:
        five, fifteen, forty = (ids(model.query(body[:600], k=k)) for k in (5, 15, 40))
        queries += five != fifteen[:5] or fifteen != forty[:15]
    return {
        "articles": min(articles, len(model.ids)),
        "lists_disagreeing": lists,
        "drafts": min(drafts, len(frame)),
        "drafts_disagreeing": queries,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.list_prefix", description=__doc__)
    parser.add_argument("corpus")
    parser.add_argument("--first", type=int, help="build on the first N articles only")
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--drafts", type=int, default=200)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.corpus, args.first, args.articles, args.drafts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
