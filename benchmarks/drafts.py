"""What a serving install without NLTK loses on a draft's words the corpus never contains (held-out drafts).

    python -m benchmarks.drafts [--corpus ../shared/data/bbc_news.jsonl.gz] [--train 2000] [--drafts 200]

Shuffles the corpus (seed 0), builds a model (default settings) on the first ``--train`` articles, and
asks for the 8 links of the next ``--drafts`` articles as unpublished drafts, twice: with the words the
corpus never wrote stemmed by the model's analyzer (what ``Index.query`` does where NLTK is installed,
and ``Recommender.query`` always) and left unstemmed (``Index.load(path, stem_unseen=False)``: a serving
install without NLTK). Prints the share of draft tokens the word-form table lacks, how many lists are
identical, and their mean overlap.

``--semantic MODEL_FOLDER`` instead builds the model with the semantic view and compares each draft's
list with its embedding (``Recommender.query``, or ``Index.query(vector=...)``) and without it
(``Index.query`` alone: terms and LSA only): identical lists, mean overlap, and the share of links in the
draft's own category for each.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
from typing import Any


def main(argv: list[str] | None = None) -> int:
    from recommender import Index, Recommender
    from recommender.text.analyzer import tokens_of

    parser = argparse.ArgumentParser(prog="python -m benchmarks.drafts", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="../shared/data/bbc_news.jsonl.gz")
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--semantic", metavar="MODEL", help="compare drafts with and without their vector")
    args = parser.parse_args(argv)
    with gzip.open(args.corpus, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    if args.semantic:  # a draft that duplicates a training article would measure nothing
        records = [record for record in records if not record.get("duplicate_of")]
    random.Random(0).shuffle(records)
    train, drafts = records[: args.train], records[args.train : args.train + args.drafts]
    if args.semantic:
        return _semantic(args, train, drafts)
    with tempfile.TemporaryDirectory() as folder:
        path = Recommender().fit(train).save(f"{folder}/model")
        stemming, lean = Index.load(path), Index.load(path, stem_unseen=False)
        forms = Recommender.load(path).forms
        tokens = unseen = same = 0
        overlap = 0.0
        for record in drafts:
            text, title = record["body"], record["title"]
            language = stemming.query_language(f"{title}\n{text}")
            found = tokens_of(f"{title}\n{text}", language)
            tokens += len(found)
            unseen += sum(token not in forms.get(language, {}) for token in found)
            full = [link.article_id for link in stemming.query(text, title=title, k=8)]
            plain = [link.article_id for link in lean.query(text, title=title, k=8)]
            same += plain == full
            overlap += len(set(plain) & set(full)) / max(len(full), 1)
    report = {
        "corpus": args.corpus,
        "train": len(train),
        "drafts": len(drafts),
        "unseen_token_share": round(unseen / max(tokens, 1), 4),
        "identical_lists": same,
        "mean_top8_overlap": round(overlap / max(len(drafts), 1), 4),
    }
    print(json.dumps(report, indent=2))
    return 0


def _semantic(args: argparse.Namespace, train: list[dict[str, Any]], drafts: list[dict[str, Any]]) -> int:
    from recommender import Index, Recommender

    category = {str(record["id"]): record.get("category") for record in train}
    with tempfile.TemporaryDirectory() as folder:
        model = Recommender(semantic=args.semantic).fit(train)
        index = Index.load(model.save(f"{folder}/model"))
        same = 0
        overlap = with_hits = without_hits = links = 0.0
        for record in drafts:
            text, title = record["body"], record["title"]
            vector = model.embed_draft(text, title=title)
            full = [link.article_id for link in index.query(text, title=title, k=8, vector=vector)]
            plain = [link.article_id for link in index.query(text, title=title, k=8)]
            same += plain == full
            overlap += len(set(plain) & set(full)) / max(len(full), 1)
            with_hits += sum(category[found] == record.get("category") for found in full)
            without_hits += sum(category[found] == record.get("category") for found in plain)
            links += 8
    report = {
        "corpus": args.corpus,
        "train": len(train),
        "drafts": len(drafts),
        "identical_lists": same,
        "mean_top8_overlap": round(overlap / max(len(drafts), 1), 4),
        "same_category_with_vector": round(with_hits / max(links, 1), 4),
        "same_category_without_vector": round(without_hits / max(links, 1), 4),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
