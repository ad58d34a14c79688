from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender
from recommender.outputs.audit import audit_links, gini
from recommender.serve.overrides import Overrides


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 1, 1, 1], 0.0), ([0, 0, 0, 4], 0.75), ([0, 0, 0, 0], 0.0), ([1, 3], 0.25), ([], 0.0)],
)
def test_gini_hand_computed(values: list[int], expected: float) -> None:
    assert gini(np.array(values)) == pytest.approx(expected)


@pytest.fixture
def index(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> Index:
    return Index.load(Recommender(min_df=1).fit(tiny_records).save(tmp_path / "model"))


def test_pairs_corpus_has_no_orphans_and_equal_exposure(index: Index) -> None:
    report = audit_links(index, k=1)
    assert report.orphans == ()
    assert report.links == 6
    assert report.gini == 0.0
    assert report.in_degree == {"min": 1.0, "median": 1.0, "mean": 1.0, "p90": 1.0, "max": 1.0}
    assert report.fill_share == 0.0
    assert report.reasons == {"similar": 6}


def test_hidden_article_is_an_orphan_and_fill_is_counted(index: Index) -> None:
    overrides = Overrides.from_dict({"hide": ["goalkeeper-hero"]})
    report = audit_links(index, k=1, overrides=overrides)
    assert report.orphans == ("goalkeeper-hero",)
    # Only the best match passes min_relative=1, so every list of two ends with a fill link.
    filled = audit_links(index, k=2, min_relative=1.0, fill=True)
    assert filled.fill_share == 1.0
    assert filled.reasons == {"fill:recent": 6, "similar": 6}
    data = report.to_dict()
    assert data["orphans"] == ["goalkeeper-hero"]
    assert "orphans (never recommended): 1" in report.to_text()


def test_against_an_older_model(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    old = Index.load(Recommender(min_df=1).fit(tiny_records[:4]).save(tmp_path / "old"))
    new = Index.load(Recommender(min_df=1).fit(tiny_records[1:]).save(tmp_path / "new"))
    report = audit_links(new, against=old, k=2)
    assert report.against is not None
    assert report.against["articles_new"] == ["parliament-election-called", "voters-manifestos"]
    assert report.against["articles_gone"] == ["oil-prices-rise"]
    per_article = report.against["per_article"]
    assert "oil-prices-rise" in per_article["opec-output-cut"]["removed"]
    assert report.against["lists_compared"] == 3
    assert report.against["links_removed"] >= 1
    assert "links added" in report.to_text()
