"""How much the numpy-only draft query loses on words the corpus never contains (held-out drafts).

    python -m benchmarks.drafts [--corpus ../shared/data/bbc_news.jsonl.gz] [--train 2000] [--drafts 200]

Shuffles the corpus (seed 0), builds a model (default settings) on the first ``--train`` articles, and
asks for the 8 links of the next ``--drafts`` articles as unpublished drafts, with ``Index.query`` (no
stemmer: unseen words match nothing) and with ``Recommender.query`` (stems every word). Prints the share
of draft tokens the model's surface-form table lacks, how many lists are identical, and their mean
overlap.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile


def main(argv: list[str] | None = None) -> int:
    from recommender import Index, Recommender
    from recommender.text.analyzer import tokens_of

    parser = argparse.ArgumentParser(prog="python -m benchmarks.drafts", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="../shared/data/bbc_news.jsonl.gz")
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--drafts", type=int, default=200)
    args = parser.parse_args(argv)
    with gzip.open(args.corpus, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    random.Random(0).shuffle(records)
    train, drafts = records[: args.train], records[args.train : args.train + args.drafts]
    with tempfile.TemporaryDirectory() as folder:
        path = Recommender().fit(train).save(f"{folder}/model")
        index, model = Index.load(path), Recommender.load(path)
        forms = model.forms
        tokens = unseen = same = 0
        overlap = 0.0
        for record in drafts:
            language = index._drafts.language(record["body"], None) if index._drafts else "en"
            found = tokens_of(f"{record['title']}\n{record['body']}", language)
            tokens += len(found)
            unseen += sum(token not in forms.get(language, {}) for token in found)
            fast = [link.article_id for link in index.query(record["body"], title=record["title"], k=8)]
            full = [link.article_id for link in model.query(record["body"], title=record["title"], k=8)]
            same += fast == full
            overlap += len(set(fast) & set(full)) / max(len(full), 1)
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


if __name__ == "__main__":
    sys.exit(main())
