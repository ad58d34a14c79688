"""A small deterministic sample of a real corpus from ../shared/data, read through the gzip JSONL path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from recommender import Index, Recommender, read_articles

from .conftest import SHARED_DATA

BBC = SHARED_DATA / "bbc_news.jsonl.gz"


@pytest.fixture(scope="module")
def bbc_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fifth BBC News article (all five categories), duplicates left out, as a .jsonl.gz file."""
    if not BBC.exists():
        pytest.skip(f"{BBC} is not present")
    path = tmp_path_factory.mktemp("bbc") / "bbc_sample.jsonl.gz"
    with gzip.open(BBC, "rt", encoding="utf-8") as source, gzip.open(path, "wt", encoding="utf-8") as sink:
        for number, line in enumerate(source):
            if number % 5 == 0 and not json.loads(line).get("duplicate_of"):
                sink.write(line)
    return path


def test_bbc_sample_links_stay_within_the_category(bbc_sample: Path, tmp_path: Path) -> None:
    articles = read_articles(bbc_sample)
    assert len(articles) > 400
    assert set(articles["category"]) == {"business", "entertainment", "politics", "sport", "tech"}
    index = Index.load(Recommender().fit(articles).save(tmp_path / "bbc"))
    category = dict(zip(articles["id"], articles["category"], strict=True))
    hits = [
        category[link.article_id] == category[article_id]
        for article_id in index
        for link in index.related(article_id, k=5)
    ]
    precision = sum(hits) / len(hits)
    print(f"\nBBC sample ({len(articles)} articles): precision@5 by category {precision:.3f}")
    assert precision >= 0.85
