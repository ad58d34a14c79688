"""Near-duplicates: groups, canonical choice, and their absence from related lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, InvalidParameterError, Recommender
from recommender.build.duplicates import canonical_of, duplicate_groups


def test_groups_are_connected_components_above_the_threshold() -> None:
    neighbors = np.array([[1, 2], [0, 3], [3, 0], [2, 1], [0, -1]])
    scores = np.array([[0.99, 0.5], [0.99, 0.4], [0.97, 0.3], [0.97, 0.2], [0.1, 0.0]])
    assert duplicate_groups(neighbors, scores, 0.95) == [[0, 1], [2, 3]]
    assert duplicate_groups(neighbors, scores, 0.98) == [[0, 1]]
    assert duplicate_groups(neighbors, scores, 0.45) == [[0, 1, 2, 3]]


def test_canonical_is_earliest_then_longest_then_first() -> None:
    groups = [[0, 1, 2], [3, 4], [5, 6]]
    dates = ["2024-02-01", "2024-01-01", None, None, None, "2024-01-01", "2024-01-01"]
    lengths = [10, 5, 50, 7, 9, 4, 4]
    assert canonical_of(groups, dates, lengths) == {0: 1, 2: 1, 3: 4, 6: 5}


def _with_copies(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    original = records[0]
    exact = {**original, "id": "oil-repost", "date": "2024-01-09"}
    edited = {**original, "id": "oil-edited", "date": "2024-01-01", "body": original["body"] + " Updated."}
    return [*records, exact, edited]


def test_copies_are_hidden_from_every_list(tiny_records: list[dict[str, Any]], tmp_path: Path) -> None:
    model = Recommender(min_df=1).fit(_with_copies(tiny_records))
    # The edited copy is the earliest, so it is the canonical one.
    assert model.duplicates == {"oil-prices-rise": "oil-edited", "oil-repost": "oil-edited"}
    for article_id in model.ids:
        listed = {link.article_id for link in model.related(article_id, k=7)}
        assert not listed & {"oil-prices-rise", "oil-repost"}
        if article_id in model.duplicates:
            assert model.duplicates[article_id] not in listed
    assert model.related("oil-repost", k=1)[0].article_id == "opec-output-cut"
    assert all(link.article_id != "oil-repost" for link in model.query("OPEC crude oil output", k=8))
    loaded = Recommender.load(model.save(tmp_path / "m"))
    assert loaded.duplicates == model.duplicates
    index = Index.load(tmp_path / "m")
    assert index.related("opec-output-cut", k=7) == model.related("opec-output-cut", k=7)
    assert index.manifest["counts"]["duplicates"] == 2


def test_setting_turns_it_off(tiny_records: list[dict[str, Any]]) -> None:
    model = Recommender(min_df=1, hide_duplicates=False).fit(_with_copies(tiny_records))
    assert model.duplicates == {}
    assert model.related("oil-repost", k=1)[0].article_id == "oil-prices-rise"


@pytest.mark.parametrize("threshold", [0, 1.5, "high", True])
def test_bad_threshold(threshold: object) -> None:
    with pytest.raises(InvalidParameterError, match="duplicate_threshold"):
        Recommender(duplicate_threshold=threshold)
