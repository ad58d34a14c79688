"""More than one language: detection, per-language analysis, same-language links, saved analyzers.

tests/data/multilingual.jsonl holds two stories (EU sanctions and Central Asian re-exports; the Danube
grain route), each told twice in English, Russian and French, written for these tests.
tests/data/neighbour_languages.jsonl holds short news paragraphs written for these tests in languages
that share function words with the bundled lists (Spanish, Catalan, Dutch, Danish, Polish, Latin…, some
without their diacritics as old mail wrote them) and one each in English, French, German and Russian.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, Recommender
from recommender.cli import main
from recommender.text import languages
from recommender.text.analyzer import Analyzer
from recommender.text.languages import article_languages, detect_language, language_code
from recommender.text.stopwords import BY_LANGUAGE
from recommender.types import CorpusError, InvalidParameterError

from .conftest import SHARED_DATA, model_files

MIXED = Path(__file__).resolve().parent / "data" / "multilingual.jsonl"
NEIGHBOURS = Path(__file__).resolve().parent / "data" / "neighbour_languages.jsonl"


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in MIXED.read_text(encoding="utf-8").splitlines()]


def _paragraphs(*, bundled: bool) -> list[dict[str, str]]:
    records = [json.loads(line) for line in NEIGHBOURS.read_text(encoding="utf-8").splitlines()]
    return [record for record in records if (record["lang"] in BY_LANGUAGE) == bundled]


def _without_langid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "py3langid.langid", None)  # as if the extra were not installed


@pytest.fixture(scope="module")
def mixed() -> Recommender:
    return Recommender(min_df=1, k=5).fit(MIXED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Crude oil prices rose after the producers agreed to cut output.", "en"),
        ("Les sanctions contre la Russie ont été renforcées par l'Union européenne.", "fr"),
        ("Die Sanktionen gegen Russland wurden von der Europäischen Union verschärft.", "de"),
        ("Санкции против России усилены.", "ru"),
        ("Tokayev Astana Baku", "en"),  # no evidence: the default
    ],
)
@pytest.mark.parametrize("with_langid", [True, False])
def test_detect_language(
    text: str, expected: str, with_langid: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if with_langid:
        pytest.importorskip("py3langid")
    else:
        _without_langid(monkeypatch)
    assert detect_language(text) == expected


def test_langid_tells_languages_without_a_bundled_list() -> None:
    pytest.importorskip("py3langid")
    spanish = "Las sanciones contra Rusia fueron ampliadas por la Unión Europea en Bruselas."
    assert detect_language(spanish) == "es"
    model = Recommender(min_df=1).fit(
        [{"id": "a", "body": spanish}, {"id": "b", "body": "Sanciones a Rusia."}]
    )
    assert model.languages == ["es", "es"]
    assert model.analyzers["es"].to_dict()["stemmer"] == "snowball-spanish"


@pytest.mark.parametrize("record", _paragraphs(bundled=False), ids=lambda record: record["lang"])
def test_the_cheap_step_leaves_languages_without_a_list_in_doubt(record: dict[str, str]) -> None:
    assert languages._clear_language(record["text"]) is None


@pytest.mark.parametrize("record", _paragraphs(bundled=True), ids=lambda record: record["lang"])
def test_the_cheap_step_settles_clear_texts(record: dict[str, str]) -> None:
    assert languages._clear_language(record["text"]) == record["lang"]


def test_a_passage_in_another_language_or_script_leaves_a_text_in_doubt() -> None:
    (english,) = (record["text"] for record in _paragraphs(bundled=True) if record["lang"] == "en")
    (dutch,) = (record["text"] for record in _paragraphs(bundled=False) if record["lang"] == "nl")
    assert languages._clear_language(english) == "en"
    assert languages._clear_language(f"{english}\n\n{dutch}") is None  # Dutch function words against
    assert languages._clear_language(f"{english} The mayor met Señor Peña.") is None  # ñ: not en/fr/de
    assert languages._clear_language(english.replace("city", "сity")) is None  # a Cyrillic с
    assert languages._clear_language(f"{english} Café society in Zürich.") == "en"


@pytest.mark.parametrize("with_langid", [True, False])
def test_the_cheap_step_never_overrules_the_full_detection(
    with_langid: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if with_langid:
        pytest.importorskip("py3langid")
    else:
        _without_langid(monkeypatch)
    texts = [record["text"] for record in _paragraphs(bundled=True) + _paragraphs(bundled=False)]
    texts += [f"{record['title']}\n{record['body']}" for record in _records()]
    settled = 0
    for text in texts:
        clear = languages._clear_language(text)
        likely = languages._likely_language(text[:4000], default="en")
        assert clear in (None, likely), text[:60]
        assert detect_language(text) == (clear or likely)
        settled += clear is not None
    assert settled >= 12


def test_py3langid_is_asked_only_about_texts_in_doubt(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def langid(sample: str) -> str | None:
        asked.append(sample)
        return None

    monkeypatch.setattr(languages, "_langid", langid)
    by_language = {record["lang"]: record["text"] for record in _paragraphs(bundled=True)}
    spanish = _paragraphs(bundled=False)[0]["text"]
    texts = [by_language["en"], by_language["fr"], spanish, by_language["ru"], by_language["de"]]
    assert article_languages([None] * 5, texts) == ["en", "fr", "fr", "ru", "de"]  # no py3langid answer:
    assert asked == [spanish]  # Spanish falls back to the function words it shares with French


def test_real_corpus_sample_is_detected_as_before() -> None:
    """Every 40th article of 20 Newsgroups and the ones the full detection does not call English."""
    pytest.importorskip("py3langid")
    path = SHARED_DATA / "20newsgroups_bydate.jsonl.gz"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    foreign = (
        "misc.forsale/74798",
        "sci.space/60199",
        "talk.politics.mideast/76262",
        "rec.sport.hockey/54516",
    )
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        records = [
            json.loads(line)
            for number, line in enumerate(lines)
            if number % 40 == 0 or any(f':{name}"' in line[:80] for name in foreign)
        ]
    texts = [f"{record['title']}\n{record['body']}" for record in records]
    expected = [languages._likely_language(text[:4000], default="en") for text in texts]
    assert [detect_language(text) for text in texts] == expected
    assert {"nl", "de", "sv"} <= set(expected)
    settled = sum(languages._clear_language(text[:4000]) is not None for text in texts)
    assert settled >= 0.9 * len(texts)


@pytest.mark.parametrize(
    ("value", "code"), [("en", "en"), ("en-GB", "en"), ("ru_RU", "ru"), ("French", "fr"), ("DE", "de")]
)
def test_language_code(value: str, code: str) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [("eng", "en"), ("fre", "fr"), ("fra", "fr"), ("ger", "de"), ("rus-RU", "ru"), ("zho", "zho")],
)
def test_three_letter_codes_of_supported_languages_become_two_letter_ones(value: str, code: str) -> None:
    assert language_code(value) == code


def test_bad_language_setting_is_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="is not an ISO 639 code"):
        Recommender(language="english please")


def test_every_article_gets_its_language(mixed: Recommender) -> None:
    assert mixed.languages == [record["id"][:2] for record in _records()]


def test_russian_morphology_meets() -> None:
    russian = Analyzer(language="ru")
    assert russian("санкции") == russian("санкций") == russian("санкциями") == ["санкц"]
    assert russian("её ещё и против") == []  # bundled stopwords, ё written е
    assert Analyzer(language="fr")("l'économie des États") == ["econom", "etat"]  # elision, accents


def test_russian_articles_share_the_sanctions_term(mixed: Recommender) -> None:
    records = {r["id"]: r for r in _records()}
    assert "санкции" in records["ru-sanctions-widen"]["body"]
    assert "санкций" not in records["ru-sanctions-widen"]["body"]
    assert "санкций" in records["ru-kazakh-controls"]["body"]
    assert "санкции" not in records["ru-kazakh-controls"]["body"]
    column = mixed.vocabulary.index("санкц")
    rows = [mixed.ids.index("ru-sanctions-widen"), mixed.ids.index("ru-kazakh-controls")]
    assert (mixed.vectors[rows][:, column].toarray() > 0).all()


def test_links_stay_within_a_language_by_default(mixed: Recommender) -> None:
    for article_id, language in zip(mixed.ids, mixed.languages, strict=True):
        links = mixed.related(article_id, k=5)
        assert links, article_id
        assert {link.article_id[:2] for link in links} == {language}
        story = article_id.split("-", 1)[1]
        partner = {"sanctions-widen": "kazakh-controls", "kazakh-controls": "sanctions-widen"}.get(story)
        expected = partner or ("sulina-channel" if story == "danube-ports" else "danube-ports")
        assert links[0].article_id == f"{language}-{expected}"


def test_cross_language_links_when_asked() -> None:
    model = Recommender(min_df=1, k=5, cross_language=True).fit(MIXED)
    languages = {link.article_id[:2] for link in model.related("en-danube-ports", k=5)}
    assert languages == {"en", "fr"}  # French shares Danube, Reni, Constanta, barge, port with English
    assert model.related("en-danube-ports", k=1)[0].article_id == "en-sulina-channel"


def test_declared_language_wins(tmp_path: Path) -> None:
    records = _records()
    for record in records:
        record["lang"] = "en"  # wrongly declared: everything analysed as English
    frame_model = Recommender(min_df=1, k=3).fit(records)
    assert set(frame_model.languages) == {"en"}
    assert Recommender(min_df=1, k=3, language="ru").fit(MIXED).languages == ["ru"] * 12


def test_saved_model_keeps_per_language_analyzers(tmp_path: Path, mixed: Recommender) -> None:
    path = mixed.save(tmp_path / "mixed")
    document = json.loads((model_files(path) / "analyzer.json").read_text(encoding="utf-8"))
    assert sorted(document["languages"]) == ["en", "fr", "ru"]
    assert document["languages"]["ru"]["stemmer"] == "snowball-russian"
    assert "против" in document["languages"]["ru"]["stop_words"]
    assert document["language"] == "en"  # the top level stays the English analyzer, as in version 1
    assert document["detector"].endswith("function words")
    loaded = Recommender.load(path)
    assert loaded.languages == mixed.languages
    draft = "Вторичные санкции и экспорт электроники в Россию"
    assert [n.article_id for n in loaded.query(draft, k=2)] == [n.article_id for n in mixed.query(draft, k=2)]
    assert {n.article_id[:2] for n in loaded.query(draft, k=4)} == {"ru"}
    french = loaded.query("Les barges de céréales sur le Danube", k=2)
    assert [n.article_id[:2] for n in french] == ["fr", "fr"]
    assert Index.load(path).article("ru-danube-ports")["lang"] == "ru"


def test_query_language_can_be_given(mixed: Recommender) -> None:
    links = mixed.query("Danube", k=3, lang="fr")
    assert {link.article_id[:2] for link in links} == {"fr"}


def test_cli_build_and_query_in_russian(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(MIXED), "-o", str(tmp_path / "m"), "--min-df", "1"]) == 0
    assert "12 articles (en 4, fr 4, ru 4)" in capsys.readouterr().out
    assert main(["query", str(tmp_path / "m"), "зерно на баржах по Дунаю", "--json", "-k", "2"]) == 0
    links = json.loads(capsys.readouterr().out)
    assert {link["article_id"] for link in links} == {"ru-danube-ports", "ru-sulina-channel"}


def test_cli_cross_language_and_lang(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "x"
    assert main(["build", str(MIXED), "-o", str(model), "--min-df", "1", "--cross-language"]) == 0
    capsys.readouterr()
    assert main(["related", str(model), "fr-danube-ports", "--json", "-k", "3"]) == 0
    links = [link["article_id"] for link in json.loads(capsys.readouterr().out)]
    assert links == ["fr-sulina-channel", "en-danube-ports", "en-sulina-channel"]
    assert main(["query", str(model), "Danube Constanta", "--lang", "ru", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)  # analysed as Russian, matched across languages
    assert main(["build", str(MIXED), "-o", str(tmp_path / "y"), "--language", "klingon!"]) == 1
    assert "is not an ISO 639 code" in capsys.readouterr().err


def test_related_beyond_the_stored_k_stays_within_the_language() -> None:
    model = Recommender(min_df=1, k=1).fit(MIXED)
    links = model.related("ru-danube-ports", k=10)
    assert len(links) >= 2
    assert {link.article_id[:2] for link in links} == {"ru"}
    assert links[0].article_id == "ru-sulina-channel"


def test_single_language_model_analyses_queries_in_its_language(mixed: Recommender) -> None:
    english = Recommender(min_df=1).fit([r for r in _records() if r["id"].startswith("en-")])
    assert english.query_language("Danube") == "en"
    assert mixed.query_language("Дунай") == "ru"
    assert english.query_language("Дунай", lang="ru") == "ru"


def test_detection_split_over_workers_gives_each_article_its_own_language() -> None:
    from recommender.build.pipeline import languages_of
    from recommender.settings import Settings
    from recommender.sources.corpus import read_articles

    frame = read_articles(MIXED)
    frame["lang"] = [None] * len(frame)
    frame.loc[3, "lang"] = "de"  # a declared language wins over detection, wherever the row falls
    alone = languages_of(frame, Settings(), n_jobs=1)
    for jobs in (2, 3):
        assert languages_of(frame, Settings(), n_jobs=jobs, min_parallel=0) == alone
    assert alone[3] == "de"
    assert len(set(alone)) >= 3
    assert languages_of(frame, Settings(language="fr"), n_jobs=2, min_parallel=0) == ["fr"] * len(frame)


def test_many_doubtful_articles_are_judged_by_workers_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    from recommender.build import pipeline
    from recommender.settings import Settings
    from recommender.sources.corpus import read_articles

    frame = read_articles(MIXED)
    alone = pipeline.languages_of(frame, Settings(), n_jobs=1)
    monkeypatch.setattr(pipeline, "_MIN_PARALLEL_DOUBT", 0)  # every article in doubt goes to the workers
    assert pipeline.languages_of(frame, Settings(), n_jobs=2, min_parallel=0) == alone


def test_a_model_warmed_for_a_build_is_let_go_after_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("py3langid")
    from recommender.build import pipeline
    from recommender.settings import Settings
    from recommender.sources.corpus import read_articles

    monkeypatch.setattr(pipeline, "_WARM_BYTES", 0)  # warm for any corpus
    warmed: list[bool] = []

    def warm() -> None:
        languages.warm_detector()
        warmed.append("warming" in languages._IDENTIFIER)

    monkeypatch.setattr(pipeline, "warm_detector", warm)
    languages._IDENTIFIER.clear()
    model = Recommender(min_df=1).fit(MIXED)
    assert warmed == [True]
    assert len(set(model.languages)) >= 3
    assert not languages._IDENTIFIER  # the build let the warmed model go
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "body": "text"}\n{"id": \n', encoding="utf-8")
    with pytest.raises(CorpusError):
        Recommender(min_df=1).fit(broken)
    assert not languages._IDENTIFIER  # and so does a build whose reading failed
    languages.load_detector()  # loaded by a caller before a batch: kept after it
    pipeline.languages_of(read_articles(MIXED), Settings(), n_jobs=2, min_parallel=0)
    assert "langid" in languages._IDENTIFIER
    languages._IDENTIFIER.clear()
