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
from recommender.build.tables import StoredForms
from recommender.build.update import update_model
from recommender.serve.drafts import DraftAnalyzer

from .conftest import BUNDLED, SHARED_DATA


def _drafts(folder: Path) -> DraftAnalyzer:
    return DraftAnalyzer(fmt.open_model(folder), languages=["en"])


def _counts_agree(records: list[dict[str, Any]], folder: Path, model: Recommender) -> int:
    """Every text analysed by the draft tables counts the terms the build's analyzer counts."""
    drafts = DraftAnalyzer(fmt.open_model(folder), languages=model.languages)
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


def test_unseen_words_are_stemmed_when_nltk_is_there(
    tmp_path: Path, tiny_records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Recommender(min_df=1).fit(tiny_records)
    folder = model.save(tmp_path / "m")
    drafts = _drafts(folder)
    column = model.vocabulary.index("cheer")
    assert drafts._columns("fans cheered", "en").count(column) == 1  # "cheered" is in the corpus
    # "cheering" stems to the same term, but the corpus never wrote it: the stored analyzer stems it.
    assert model.analyzer("cheering") == ["cheer"]
    assert drafts._columns("cheering", "en") == [column]
    # Without NLTK (a serving install) it is the documented loss: a kept word that matches nothing.
    from recommender.text import analyzer as analyzer_module

    def missing_nltk(*args: Any, **kwargs: Any) -> Any:
        message = "No module named 'nltk'"
        raise ImportError(message)

    monkeypatch.setattr(analyzer_module.Analyzer, "from_dict", missing_nltk)
    lean = _drafts(folder)
    assert lean._columns("fans cheered", "en").count(column) == 1
    assert column not in lean._columns("cheering", "en")
    monkeypatch.undo()
    # A serving process may ask for that behaviour whatever is installed.
    from recommender import Index

    assert Index.load(folder).query("cheering fans", k=1) != Index.load(folder, stem_unseen=False).query(
        "cheering", k=1
    )
    assert Index.load(folder, stem_unseen=False).query("cheering", k=3) == []


def test_stored_tables_grow_unless_a_bigram_model_meets_a_new_term(tmp_path: Path) -> None:
    records = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()][:60]
    path = Recommender(ngrams=2).fit(records).save(tmp_path / "m")
    stored = StoredForms.read(fmt.open_model(path))
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
