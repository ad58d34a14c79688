from __future__ import annotations

import pickle
import sys

import pytest

from recommender.analyzer import Analyzer, resolve_stop_words
from recommender.types import InvalidParameterError


def test_normalises_folds_accents_and_possessives() -> None:
    analyzer = Analyzer()
    assert analyzer("Orbán’s VETO, Orban's veto") == ["orban", "veto", "orban", "veto"]


def test_stems_inflections_together() -> None:
    analyzer = Analyzer()
    terms = analyzer("sanction sanctions sanctioned sanctioning")
    assert len(set(terms)) == 1


def test_drops_stopwords_digits_and_short_tokens() -> None:
    assert Analyzer()("The 2024 a of x Kazakhstan") == ["kazakhstan"]


def test_without_stemming_or_stopwords_keeps_words() -> None:
    analyzer = Analyzer(stem=False, stop_words=None)
    assert analyzer("The sanctions") == ["the", "sanctions"]


def test_bigrams_are_adjacent_kept_terms() -> None:
    analyzer = Analyzer(ngrams=2, stem=False)
    assert analyzer("North Korea missiles") == [
        "north",
        "korea",
        "missiles",
        "north korea",
        "korea missiles",
    ]


def test_tokenises_unicode_letters() -> None:
    assert Analyzer(stem=False)("Санкции против Москвы") == ["санкции", "против", "москвы"]


def test_custom_stop_words_are_normalised() -> None:
    analyzer = Analyzer(stop_words=["Russia", "  "], stem=False)
    assert analyzer("Russia and China") == ["and", "china"]


def test_round_trips_through_dict() -> None:
    analyzer = Analyzer(stop_words=["foo"], stem=True, ngrams=2, min_length=3)
    again = Analyzer.from_dict(analyzer.to_dict())
    text = "Foo bars barred at the bar by the foo"
    assert again(text) == analyzer(text)
    assert again.to_dict() == analyzer.to_dict()


def test_stem_cache_is_per_instance_and_not_pickled() -> None:
    analyzer = Analyzer()
    analyzer("sanctions")
    assert analyzer._cache
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy._cache == {}
    assert copy("sanctions") == analyzer("sanctions")


def test_nltk_stop_words_need_installed_corpus() -> None:
    try:
        from nltk.corpus import stopwords

        stopwords.words("english")
    except LookupError:
        with pytest.raises(InvalidParameterError, match="not installed here"):
            resolve_stop_words("nltk")
    else:
        assert "the" in resolve_stop_words("nltk")


def test_nltk_stop_words_missing_corpus_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    def missing(*args: object) -> list[str]:
        message = "Resource stopwords not found."
        raise LookupError(message)

    fake = types.ModuleType("nltk.corpus")
    fake.stopwords = types.SimpleNamespace(words=missing)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nltk.corpus", fake)
    with pytest.raises(InvalidParameterError, match="use stop_words='english'"):
        resolve_stop_words("nltk")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stop_words": "klingon"}, "unknown stop_words"),
        ({"ngrams": 3}, "ngrams must be 1 or 2"),
        ({"min_length": 0}, "min_length"),
    ],
)
def test_rejects_bad_settings(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        Analyzer(**kwargs)  # type: ignore[arg-type]
