from __future__ import annotations

import functools
import json
import logging
import pickle
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from nltk.stem.snowball import SnowballStemmer

from recommender import Recommender
from recommender.text.analyzer import (
    SNOWBALL,
    Analyzer,
    ascii_token,
    ascii_written,
    raw_tokens,
    resolve_stop_words,
)
from recommender.types import InvalidParameterError

from .conftest import BUNDLED, shared_sample

MULTILINGUAL = BUNDLED.parents[1] / "tests" / "data" / "multilingual.jsonl"


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
    analyzer.written_tokens("Санкции")
    assert analyzer._pieces
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy._cache == {}
    assert copy._pieces == {}
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
    fake.stopwords = types.SimpleNamespace(words=missing, fileids=missing)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nltk.corpus", fake)
    with pytest.raises(InvalidParameterError, match="use stop_words='english'"):
        resolve_stop_words("nltk")


def test_a_language_the_nltk_corpus_has_no_list_for_keeps_every_word(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An installed corpus without a language's list: that language has no stop words (as most have none
    in the bundled lists), with a warning; the build goes on."""
    import types

    def words(name: str) -> list[str]:
        return {"english": ["the", "a"]}[name]

    fake = types.ModuleType("nltk.corpus")
    fake.stopwords = types.SimpleNamespace(words=words, fileids=lambda: ["english"])  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nltk.corpus", fake)
    assert resolve_stop_words("nltk") == ("a", "the")
    with caplog.at_level(logging.WARNING):
        assert resolve_stop_words("nltk", "pl") == ()
    assert "no list for pl" in caplog.text
    records = [
        {"id": "en1", "body": "The pipeline crosses the sea.", "lang": "en"},
        {"id": "en2", "body": "The pipeline reaches the port.", "lang": "en"},
        {"id": "pl1", "body": "Gazociąg przecina morze.", "lang": "pl"},
    ]
    model = Recommender(stop_words="nltk", min_df=1).fit(records)
    assert "pipelin" in model.vocabulary


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


# The analyzer's rules written out the plain way (normalise the whole text, one regular expression, then
# every token through possessive/elision, length, stop word, digits and Snowball, with no fast path and
# no memory), to check the fast paths (ASCII translate + split, remembered verdicts) against.
_REFERENCE_TOKEN = re.compile(r"\w+(?:'\w+)*")
_ELIDED = {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}


def _strip_marks(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@functools.cache
def _stemmer(language: str) -> SnowballStemmer:
    return SnowballStemmer(SNOWBALL[language])


def _reference_terms(text: str, *, language: str = "en", stem: bool = True, min_length: int = 2) -> list[str]:
    text = _strip_marks(text) if language == "en" else unicodedata.normalize("NFKC", text)
    for apostrophe in "\u2019\u2018\u02bc\u2032`":
        text = text.replace(apostrophe, "'")
    text = text.replace("_", " ").casefold()
    if language == "ru":
        text = text.replace("ё", "е")
    stop = set(resolve_stop_words("english", language))
    stemmer = _stemmer(language) if stem and language in SNOWBALL else None
    terms = []
    for token in _REFERENCE_TOKEN.findall(text):
        if language == "en":
            token = token.removesuffix("'s") if token.endswith("'s") else token
        elif language == "fr" and token.split("'")[0] in _ELIDED and "'" in token:
            token = token.split("'", 1)[1]  # the rest keeps its own apostrophes: aujourd'hui
        else:
            token = token.replace("'", "")
        if len(token) < min_length or token in stop or token.isdigit():
            continue
        term = stemmer.stem(token) if stemmer is not None else token
        if language not in ("en", "ru", "ar"):
            term = _strip_marks(term)
        terms.append(term)
    return terms


EDGE_CASES = [
    "a''b 'tis rock'n'roll don`t foo_bar x's's O'Neill's ''quoted'' it's' Orbán’s 'S",
    "TAB\tand\x0bform\x0cfeed; 3.14 2024 e-mail C++ i'm I'M ß straße ﬁne ① x²",
    "Sanctions were sanctioned; Orbán's veto. Кыргызстан, санкций.",
    "l'économie d'État qu'il jusqu'à l'aujourd'hui",
    "",
    "'",
    "''",
    "a",
    "_",
    "`",
    "x'",
    "'x",
    "ab'cd'",
    "''ab''cd''",
]


@pytest.mark.parametrize("language", ["en", "fr", "ru", "de"])
def test_edge_cases_match_the_reference(language: str) -> None:
    analyzer = Analyzer(language=language)
    for text in EDGE_CASES:
        assert analyzer(text) == _reference_terms(text, language=language), text


def _records(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Words as written: apostrophes of every kind, possessives, elisions, ß, ligatures, combining accents
# (precomposed or not, joining their letter or not), Cyrillic ё, digits, underscores, case.
WRITTEN_CASES = [
    "Orbán’s VETO, Orban's veto; don`t rock'n'roll x's's 'tis O'Neill's ‘quoted’ it’s",
    "l'économie d'État qu'il jusqu'à l'aujourd'hui L’Union D'ÉTAT",
    "Straße STRASSE ﬁne ﬂow Œuvre ǅemal",
    "cafe\u0301s Orba\u0301n e\u0301te\u0301 x\u0301y \u0301lone",
    "Ёлка ёж Москвы, санкций. Е\u0308ж ЁЛКА",
    "2024 3.14 x² ① covid19 A4 ١٢٣",
    "foo_bar __init__ snake_case_word _x_",
    "İstanbul Brand™ ㎞ NAÏVE \u1100\u1161\u11a8",
]


def _assert_written(analyzer: Analyzer, text: str) -> None:
    """Raw tokens as ``tokens`` gives them; each written word verbatim in ``text`` (in order) and, read
    alone, that token."""
    tokens, written = analyzer.written_tokens(text)
    assert tokens == analyzer.tokens(text), text
    assert len(written) == len(tokens), text
    position = 0
    for token, word in zip(tokens, written, strict=True):
        position = text.index(word, position) + len(word)
        assert raw_tokens(word, analyzer.language) == [token], (text, word)


@pytest.mark.parametrize("language", ["en", "fr", "ru", "de"])
def test_written_tokens_align_with_raw_tokens(language: str) -> None:
    analyzer = Analyzer(language=language)
    for text in EDGE_CASES + WRITTEN_CASES:
        _assert_written(analyzer, text)
        _assert_written(analyzer, text)  # again, from the remembered pieces


def test_written_tokens_keep_case_and_accents() -> None:
    _, english = Analyzer().written_tokens("Orbán’s Straße, L’Union ﬁne")
    assert english == ["Orbán’s", "Straße", "L’Union", "ﬁne"]
    tokens, french = Analyzer(language="fr").written_tokens("L'État x\u0301y İ")
    assert french == ["L'État", "x\u0301y", "İ"]
    assert tokens == ["l'état", "x\u0301y", "i"]  # a mark continues its word, in tokens as in words


def test_a_character_read_as_several_tokens_is_written_for_each() -> None:
    tokens, written = Analyzer().written_tokens("½ cup")
    assert tokens == ["1", "2", "cup"]
    assert written == ["½", "½", "cup"]


def test_ascii_words_give_their_raw_tokens() -> None:
    for text in [text for text in EDGE_CASES + WRITTEN_CASES if text.isascii()]:
        written = ascii_written(text)
        assert [ascii_token(word) for word in written] == raw_tokens(text, "en"), text
        assert Analyzer(language="fr").written_tokens(text)[1] == written


def test_bundled_and_multilingual_corpora_match_the_reference() -> None:
    labelled = [("en", record) for record in _records(BUNDLED)]
    labelled += [(record["id"][:2], record) for record in _records(MULTILINGUAL)]  # en-, fr-, ru- ids
    analyzers: dict[str, Analyzer] = {}
    for language, record in labelled:
        analyzer = analyzers.setdefault(language, Analyzer(language=language))
        text = f"{record.get('title') or ''}\n{record['body']}"
        expected = _reference_terms(text, language=language)
        assert analyzer(text) == expected, record["id"]
        assert analyzer(text) == expected  # again, from the remembered verdicts
        _assert_written(analyzer, text)
    assert set(analyzers) == {"en", "fr", "ru"}


@pytest.mark.parametrize("name", ["bbc_news.jsonl.gz", "20newsgroups_bydate.jsonl.gz"])
def test_real_corpus_sample_matches_the_reference(name: str) -> None:
    """Every 20th article of a real corpus, plus every article with non-ASCII text among the first 3,000."""
    records = shared_sample(name, every=20, first=3_000)
    texts = [f"{record.get('title') or ''}\n{record.get('body') or ''}" for record in records]
    assert any(not text.isascii() for text in texts)
    analyzer = Analyzer()
    for text in texts:
        assert analyzer(text) == _reference_terms(text)
        _assert_written(analyzer, text)


def test_each_distinct_token_is_stemmed_once() -> None:
    analyzer = Analyzer()
    calls: list[str] = []
    stemmer = analyzer._stemmer

    class Counting:
        def stem(self, word: str) -> str:
            calls.append(word)
            return str(stemmer.stem(word))

    analyzer._stemmer = Counting()
    text = "Sanctions, sanctions and the nation's sanctions; the NATION'S nations."
    expected = ["sanction", "sanction", "nation", "sanction", "nation", "nation"]
    assert analyzer(text) == analyzer(text) == expected
    assert sorted(calls) == ["nation", "nations", "sanctions"]  # "nation's" shares the verdict of "nation"


@pytest.mark.parametrize(
    ("language", "text", "terms"),
    [
        ("hi", "हिन्दी भाषा हिन्दी", ["हिनदी", "भाषा", "हिनदी"]),  # vowel signs and virama stay in the word
        ("he", "שָׁלוֹם שלום", ["שלום", "שלום"]),  # vowelled and plain spelling are one term
        ("ar", "كَتَبَ كتب", ["كتب", "كتب"]),
        ("ru", "за́мок замок", ["замок", "замок"]),  # a stress mark is not part of the spelling
        ("tr", "İzmir izmir", ["izmir", "izmir"]),  # casefold writes İ as i and a combining dot
        ("en", "inter\u00adnational international", ["intern", "intern"]),  # a soft hyphen (&shy;)
        ("en", "Ka\u200bzakhstan Kazakh\u2060stan Kazakhstan\ufeff", ["kazakhstan"] * 3),
        (
            "en",
            "\U00011013\U00011038\U00011022 \U00011013\U00011038\U00011022",
            ["\U00011013\U00011038\U00011022"] * 2,
        ),
    ],
)
def test_marks_and_invisible_characters_never_split_a_word(
    language: str, text: str, terms: list[str]
) -> None:
    analyzer = Analyzer(language=language, stem=language in ("en", "ru", "ar"))
    assert analyzer(text) == terms
    tokens, written = analyzer.written_tokens(text)
    assert len(tokens) == len(written) == len(text.split())


def test_the_mark_table_is_every_combining_mark() -> None:
    from recommender.text import analyzer as module

    if unicodedata.unidata_version != "14.0.0":
        pytest.skip(f"the table is of Unicode 14.0; this Python has {unicodedata.unidata_version}")
    table = re.compile(f"[{module._MARKS}{module._ASTRAL_MARKS}]")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert bool(table.match(char)) == unicodedata.category(char).startswith("M"), hex(code)


def test_stop_words_with_an_apostrophe_match_their_tokens() -> None:
    assert Analyzer(language="fr")("aujourd'hui la France") == ["franc"]
    assert Analyzer(stop_words=["o'neill"])("O'Neill spoke") == ["spoke"]
