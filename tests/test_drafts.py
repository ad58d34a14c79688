"""The numpy-only draft analysis gives the full analyzer's term counts for every word the corpus has."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from recommender import Recommender
from recommender import store as fmt
from recommender.build.tables import collect_forms
from recommender.build.update import update_model
from recommender.serve.drafts import Drafts

from .conftest import BUNDLED, SHARED_DATA


def _counts_agree(records: list[dict[str, Any]], folder: Path, model: Recommender) -> int:
    drafts = Drafts(fmt.open_model(folder))
    columns = {term: column for column, term in enumerate(model.vocabulary)}
    checked = 0
    for record, language in zip(records, model.languages, strict=True):
        for text in (record["body"], record.get("title") or ""):
            analyzer = model.analyzers[language]
            expected = Counter(columns[term] for term in analyzer(text) if term in columns)
            assert Counter(drafts._columns(text, language)) == expected, record["id"]
            checked += sum(expected.values())
    return checked


def test_term_counts_match_the_analyzer_on_the_bundled_corpus(tmp_path: Path) -> None:
    records = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()]
    model = Recommender(ngrams=2).fit(records)
    assert _counts_agree(records, model.save(tmp_path / "m"), model) > 10_000


def test_term_counts_match_the_analyzer_on_a_real_sample(tmp_path: Path) -> None:
    path = SHARED_DATA / "reuters21578.jsonl.gz"
    if not path.is_file():
        pytest.skip("../shared/data/reuters21578.jsonl.gz is not present")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for number, line in enumerate(handle) if number % 50 == 0][:300]
    model = Recommender(lsa_weight=0.0).fit(records)
    assert _counts_agree(records, model.save(tmp_path / "m"), model) > 10_000


def test_unseen_words_are_the_documented_loss(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    model = Recommender(min_df=1).fit(tiny_records)
    drafts = Drafts(fmt.open_model(model.save(tmp_path / "m")))
    column = model.vocabulary.index("cheer")
    assert drafts._columns("fans cheered", "en").count(column) == 1  # "cheered" is in the corpus
    # "cheering" stems to the same term, but the corpus never wrote it: without NLTK it matches nothing.
    assert model.analyzer("cheering") == ["cheer"]
    assert column not in drafts._columns("cheering", "en")


def test_forms_cover_words_of_other_languages() -> None:
    class Upper:
        def verdict(self, token: str) -> str:
            return token.upper()

    forms = collect_forms(["Économie", "économie grain"], ["en", "fr"], {"en": Upper(), "fr": Upper()})
    assert forms["en"] == {"economie": "ECONOMIE", "grain": "GRAIN"}  # English folds accents
    assert forms["fr"] == {"économie": "ÉCONOMIE", "grain": "GRAIN", "economie": "ECONOMIE"}


@pytest.mark.parametrize("dense_factor", [4, 10**9, 0], ids=["mixed", "binary-search", "scatter"])
def test_pruned_search_equals_the_full_product(
    monkeypatch: pytest.MonkeyPatch, bundled_model_dir: Path, dense_factor: int
) -> None:
    """Force every pruning stage (small models normally score all candidates at once) and compare."""
    from recommender import Index
    from recommender.serve import drafts as module

    monkeypatch.setattr(module, "_FEW", 0)
    monkeypatch.setattr(module, "_THETA_SAMPLE", 40)
    monkeypatch.setattr(module, "_DENSE_FACTOR", dense_factor)
    records = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()]
    index, model = Index.load(bundled_model_dir), Recommender.load(bundled_model_dir)
    assert module.Drafts(index._folder).best(records[0]["body"], "", None, 8)[0].size == 8  # type: ignore[arg-type]
    for record in records[:40]:
        for k in (3, 8):
            fast = index.query(record["body"], k=k)
            full = model.query(record["body"], k=k)
            assert [(link.article_id, link.score) for link in fast] == [
                (link.article_id, link.score) for link in full
            ]


def test_stored_tables_grow_unless_a_bigram_model_meets_a_new_term(tmp_path: Path) -> None:
    records = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()][:60]
    path = Recommender(ngrams=2).fit(records).save(tmp_path / "m")
    stored = Recommender.load(path)._stored_forms
    assert stored is not None
    new_word = {"en": {"zorblaxian": "zorblaxian"}}  # a term neither the vocabulary nor the tables hold
    assert stored.merged(new_word, bigrams=True) is None  # bigram term numbers would shift: write anew
    grown = stored.merged(new_word, bigrams=False)
    assert grown is not None
    assert len(grown.arrays["query_form_terms"]) == len(stored.arrays["query_form_terms"]) + 1
    known = stored.merged({"en": {"the": ""}}, bigrams=True)  # already stored: nothing to insert
    assert known is not None
    assert known.arrays["query_forms_bytes"] is stored.arrays["query_forms_bytes"]
    new = {"id": "new", "title": "Zorblaxian envoys", "body": records[0]["body"] + " Zorblaxian envoys met."}
    update_model(path, add=[new], output=tmp_path / "updated")
    updated = Recommender.load(tmp_path / "updated")
    assert updated.forms["en"]["zorblaxian"] == "zorblaxian"
    assert _counts_agree([*records, new], tmp_path / "updated", updated) > 1_000
