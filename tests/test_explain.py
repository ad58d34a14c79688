"""Explanations: readable shared words and their share of a link's score, in library, lookup and CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Index, InvalidParameterError, Recommender
from recommender.cli import main
from recommender.outputs.export import export_links
from recommender.serve.explain import shared_terms
from recommender.types import SharedTerm

from .conftest import GOLDEN, ROOT


def test_shared_terms_hand_computed() -> None:
    first = (np.array([0, 2, 5]), np.array([0.6, 0.8, 0.0]), ["a", "Cs", "f"])
    second = (np.array([2, 3, 5]), np.array([0.5, 0.5, 0.7]), ["c", "d", "f"])
    # Only term 2 contributes: 0.8 * 0.5 = 0.4 of a 0.4 score; term 5 has weight 0 and is left out.
    # The word shown is the first row's own word for the term.
    assert shared_terms(first, second, score=0.4) == (SharedTerm("Cs", 1.0),)
    assert shared_terms(first, second, score=0.8, weight=0.5) == (SharedTerm("Cs", 0.25),)
    assert shared_terms(second, first, score=0.4) == (SharedTerm("c", 1.0),)
    assert shared_terms(first, (np.array([1]), np.array([1.0]), ["b"]), score=0.3) == ()


def test_library_and_lookup_explain_alike(tiny_records: list[dict[str, Any]], tmp_path: Path) -> None:
    model = Recommender(min_df=1).fit(tiny_records)
    links = model.related("oil-prices-rise", k=2, explain=True)
    assert links[0].article_id == "opec-output-cut"
    assert links[0].terms is not None
    words = [shared.term for shared in links[0].terms]
    assert "OPEC" in words  # the word as written, not the stem "opec"
    assert "oil" in words
    total = sum(shared.share for shared in links[0].terms)
    assert 0 < total <= 1.0 + 1e-6
    index = Index.load(model.save(tmp_path / "m"))
    assert index.related("oil-prices-rise", k=2, explain=True) == links
    assert index.related("oil-prices-rise", k=2)[0].terms is None
    assert "terms" in links[0].to_dict()
    assert "terms" not in index.related("oil-prices-rise", k=1)[0].to_dict()


def test_golden_model_explains_with_its_vocabulary() -> None:
    index = Index.load(GOLDEN)
    first = index.ids[0]
    links = index.related(first, k=2, explain=True)
    vocabulary = set(json.loads((GOLDEN / "vocabulary.json").read_text(encoding="utf-8")))
    assert links
    for link in links:
        assert link.terms is not None
        assert {shared.term for shared in link.terms} <= vocabulary


def test_cli_and_export_explain(tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model_dir = tmp_path / "m"
    assert main(["build", str(tiny_jsonl), "-o", str(model_dir), "--min-df", "1"]) == 0
    capsys.readouterr()
    assert main(["related", str(model_dir), "cup-final-penalties", "-k", "1", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "shared:" in out
    assert "goalkeeper" in out
    assert main(["related", str(model_dir), "cup-final-penalties", "-k", "1", "--explain", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["terms"][0]["share"] > 0
    path = export_links(Index.load(model_dir), tmp_path / "links.json", k=1, explain=True)
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert all("terms" in links[0] for links in exported.values())
    with pytest.raises(InvalidParameterError, match="JSON only"):
        export_links(Index.load(model_dir), tmp_path / "links.csv", format="csv", explain=True)


def test_every_explained_word_is_written_in_one_of_the_two_articles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Russian and French links explain with the words their articles use, not with stems."""
    corpus = ROOT / "tests" / "data" / "multilingual.jsonl"
    records = {r["id"]: r for r in map(json.loads, corpus.read_text(encoding="utf-8").splitlines())}
    model_dir = tmp_path / "m"
    assert main(["build", str(corpus), "-o", str(model_dir), "--min-df", "1"]) == 0
    capsys.readouterr()
    assert main(["related", str(model_dir), *records, "-k", "5", "--explain", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    checked = 0
    for article_id, links in found.items():
        for link in links:
            texts = [f"{records[a]['title']}\n{records[a]['body']}" for a in (article_id, link["article_id"])]
            for shared in link["terms"]:
                assert any(shared["term"] in text for text in texts), (article_id, link["article_id"], shared)
                checked += 1
    assert checked > 50
    assert {article_id[:2] for article_id in found if found[article_id]} == {"ru", "fr", "en"}
