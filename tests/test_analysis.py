"""One analysis pass: counts equal scikit-learn's, forms and readable words equal plain references."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from recommender.build.analysis import Analysis, analyse, analyse_frozen
from recommender.text.analyzer import Analyzer, tokens_of
from recommender.text.languages import Analyzers, article_languages

from .conftest import BUNDLED, TINY, shared_sample

MULTILINGUAL = BUNDLED.parents[1] / "tests" / "data" / "multilingual.jsonl"
BODIES = [record["body"] for record in TINY] * 3 + ["", "Oil oil OIL and the goalkeeper"]
TITLES = [record["title"] for record in TINY] * 3 + ["Empty body", ""]


@dataclass(frozen=True)
class Corpus:
    """Titles, bodies and each article's language."""

    titles: list[str]
    bodies: list[str]
    languages: list[str]

    @classmethod
    def of(cls, records: Sequence[dict[str, Any]]) -> Corpus:
        titles = [str(record.get("title") or "") for record in records]
        bodies = [str(record["body"]) for record in records]
        texts = [f"{title}\n{body}" for title, body in zip(titles, bodies, strict=True)]
        return cls(titles, bodies, article_languages([record.get("lang") for record in records], texts))

    def only(self, language: str) -> Corpus:
        keep = [lang == language for lang in self.languages]
        return Corpus(
            *([item for item, kept in zip(column, keep, strict=True) if kept] for column in astuple(self))
        )

    def __add__(self, other: Corpus) -> Corpus:
        return Corpus(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))

    def texts(self) -> list[str]:
        return [f"{title}\n{body}" for title, body in zip(self.titles, self.bodies, strict=True)]

    def rows(self) -> list[tuple[str, str, str]]:
        """(language, title, body) of each article."""
        return list(zip(self.languages, self.titles, self.bodies, strict=True))


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def bundled() -> Corpus:
    return Corpus.of(_records(BUNDLED))


@pytest.fixture(scope="module")
def multilingual() -> Corpus:
    corpus = Corpus.of(_records(MULTILINGUAL))
    assert set(corpus.languages) == {"en", "fr", "ru"}
    return corpus


@pytest.fixture(scope="module")
def real_sample() -> Corpus:
    """Every 40th 20 Newsgroups article among the first 6,000, and every one with non-ASCII text."""
    return Corpus.of(shared_sample("20newsgroups_bydate.jsonl.gz", every=40, first=6_000))


def _analyse(corpus: Corpus, **settings: Any) -> tuple[Analysis, Analyzers]:
    analyzers = Analyzers(stop_words="english", stem=True, ngrams=settings.pop("ngrams", 1))
    result = analyse(
        corpus.bodies, corpus.titles, analyzers, languages=corpus.languages, n_jobs=1, **settings
    )
    return result, analyzers


# --- references, written the plain way ----------------------------------------------------------


def _reference_counts(
    corpus: Corpus, analyzers: Analyzers, vocabulary: Sequence[str], title_weight: float
) -> sp.csr_matrix:
    """scikit-learn's CountVectorizer over each article's terms, by its own language's analyzer."""
    titles = [analyzers[lang](title) for lang, title, _ in corpus.rows()]
    bodies = [analyzers[lang](body) for lang, _, body in corpus.rows()]
    counter = CountVectorizer(analyzer=lambda terms: terms, vocabulary=vocabulary, dtype=np.float64)
    counts = counter.transform(bodies)
    if title_weight:
        counts = counts + title_weight * counter.transform(titles)
    return sp.csr_matrix(counts)


def _reference_forms(corpus: Corpus, analyzers: Analyzers) -> dict[str, dict[str, str]]:
    """Every surface token of each article's text by language; with several languages, each language
    also reads the tokens only other languages have."""
    seen: dict[str, set[str]] = {}
    for language, title, body in corpus.rows():
        seen.setdefault(language, set()).update(tokens_of(f"{title}\n{body}", language))
    everything = set().union(*seen.values())
    for language, tokens in seen.items():
        for token in everything - tokens if len(seen) > 1 else ():
            tokens.update(tokens_of(token, language))
    return {
        language: {token: analyzers[language].verdict(token) for token in sorted(tokens)}
        for language, tokens in sorted(seen.items())
    }


_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def _plain_words(texts: Sequence[str], analyzer: Analyzer, vocabulary: Sequence[str]) -> list[str]:
    """Per term, the most frequent word of the texts that is that term alone (ties: first A-Z)."""
    counts = Counter(word for text in texts for word in _WORD.findall(text))
    best: dict[str, tuple[int, str]] = {}
    for word, count in counts.items():
        terms = analyzer.terms(word)
        if len(terms) != 1:
            continue
        current = best.get(terms[0])
        if current is None or (-count, word) < (-current[0], current[1]):
            best[terms[0]] = (count, word)
    return [
        " ".join(best[part][1] if part in best else part for part in term.split(" ")) for term in vocabulary
    ]


def _entry_words(result: Analysis) -> list[list[tuple[str, str]]]:
    """Per article, (term, readable word) of each of its entries."""
    counts = result.counts
    return [
        [
            (result.vocabulary[counts.indices[entry]], result.surface_forms[result.vector_forms[entry]])
            for entry in range(counts.indptr[row], counts.indptr[row + 1])
        ]
        for row in range(counts.shape[0])
    ]


def _assert_same(first: Analysis, second: Analysis) -> None:
    for field in fields(Analysis):
        one, other = getattr(first, field.name), getattr(second, field.name)
        if isinstance(one, sp.csr_matrix):
            for part in ("data", "indices", "indptr"):
                np.testing.assert_array_equal(getattr(one, part), getattr(other, part))
        elif isinstance(one, np.ndarray):
            np.testing.assert_array_equal(one, other)
        else:
            assert one == other, field.name


# --- counts --------------------------------------------------------------------------------------


def _counted(
    min_df: int | float, max_df: int | float, title_weight: float, ngrams: int = 1
) -> tuple[list[str], np.ndarray]:
    """scikit-learn's CountVectorizer with min_df/max_df over our analyzer's terms."""
    analyzer = Analyzer(ngrams=ngrams)
    titles = [analyzer(text) for text in TITLES]
    bodies = [analyzer(text) for text in BODIES]
    counter = CountVectorizer(analyzer=lambda terms: terms, min_df=min_df, max_df=max_df)
    counter.fit([t + b for t, b in zip(titles, bodies, strict=True)])
    counts = counter.transform(bodies) + title_weight * counter.transform(titles)
    return counter.get_feature_names_out().tolist(), counts.toarray()


@pytest.mark.parametrize(("min_df", "max_df", "title_weight"), [(1, 1.0, 2.0), (2, 0.5, 0.0), (0.1, 8, 1.5)])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("ngrams", [1, 2])
def test_counts_equal_scikit_learn(
    min_df: int | float, max_df: int | float, title_weight: float, n_jobs: int, ngrams: int
) -> None:
    result = analyse(
        BODIES,
        TITLES,
        Analyzer(ngrams=ngrams),
        title_weight=title_weight,
        min_df=min_df,
        max_df=max_df,
        n_jobs=n_jobs,
        min_parallel=0,
    )
    expected_vocabulary, expected_counts = _counted(min_df, max_df, title_weight, ngrams)
    assert result.vocabulary == expected_vocabulary
    np.testing.assert_array_equal(result.counts.toarray(), expected_counts)
    assert result.counts.has_sorted_indices
    assert result.counts.dtype == np.float64
    terms = sum(len(Analyzer(ngrams=ngrams)(text)) for text in (*TITLES, *BODIES))
    assert result.tokens == terms
    assert result.unseen == terms - int(_counted(min_df, max_df, 1.0, ngrams)[1].sum())


@pytest.mark.parametrize("corpus_name", ["bundled", "multilingual", "real_sample"])
@pytest.mark.parametrize(("ngrams", "title_weight"), [(1, 1.5), (2, 0.0)])
def test_counts_and_forms_equal_the_references(
    corpus_name: str, ngrams: int, title_weight: float, request: pytest.FixtureRequest
) -> None:
    corpus: Corpus = request.getfixturevalue(corpus_name)
    result, analyzers = _analyse(corpus, ngrams=ngrams, title_weight=title_weight, min_df=2)
    expected = _reference_counts(corpus, analyzers, result.vocabulary, title_weight)
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(result.counts, part), getattr(expected, part))
    fresh = Analyzers(stop_words="english", stem=True, ngrams=ngrams)
    assert result.forms == _reference_forms(corpus, fresh)
    assert list(result.forms) == sorted(result.forms)


@pytest.mark.parametrize(("bodies", "min_df", "max_df", "match"), [
    (["the and of", "is it"], 1, 1.0, "empty vocabulary"),
    (["oil", "gas"], 2, 1.0, "no terms remain"),
    (["oil", "gas"], 2, 1, "max_df corresponds to < documents than min_df"),
])  # fmt: skip
def test_nothing_left_is_an_error(bodies: list[str], min_df: int, max_df: int | float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        analyse(bodies, None, Analyzer(), min_df=min_df, max_df=max_df, n_jobs=1)


# --- readable words ------------------------------------------------------------------------------


@pytest.mark.parametrize("corpus_name", ["bundled", "real_sample"])
def test_one_word_per_term_is_the_most_frequent_in_english(
    corpus_name: str, request: pytest.FixtureRequest
) -> None:
    corpus = request.getfixturevalue(corpus_name).only("en")
    for ngrams in (1, 2):
        result, analyzers = _analyse(corpus, ngrams=ngrams)
        expected = _plain_words(corpus.texts(), analyzers["en"], result.vocabulary)
        assert result.words == expected


def test_words_are_written_in_the_language_of_their_stem(multilingual: Corpus) -> None:
    result, _ = _analyse(multilingual)
    # A Russian stem ("санкц") reads as a word the Russian articles write ("санкции").
    russian = "\n".join(multilingual.only("ru").texts())
    stems = [column for column, term in enumerate(result.vocabulary) if re.search("[а-я]", term)]
    assert stems
    assert all(result.words[column] in russian for column in stems)


@pytest.mark.parametrize("corpus_name", ["bundled", "multilingual", "real_sample"])
@pytest.mark.parametrize("ngrams", [1, 2])
def test_each_entry_has_the_article_own_word(
    corpus_name: str, ngrams: int, request: pytest.FixtureRequest
) -> None:
    """The word occurs verbatim in the article, is that term alone, and is its most frequent (then first)."""
    corpus: Corpus = request.getfixturevalue(corpus_name)
    result, analyzers = _analyse(corpus, ngrams=ngrams, title_weight=0.0 if ngrams == 2 else 1.0)
    assert result.vector_forms.dtype == np.int32
    assert len(result.vector_forms) == result.counts.nnz
    assert result.surface_forms == sorted(set(result.surface_forms))
    assert set(result.vector_forms.tolist()) == set(range(len(result.surface_forms)))
    for row, entries in enumerate(_entry_words(result)):
        analyzer = analyzers[corpus.languages[row]]
        title, body = corpus.titles[row], corpus.bodies[row]
        written: dict[str, Counter[str]] = {}
        for word in [*_WORD.findall(title), *_WORD.findall(body)]:
            terms = analyzer.terms(word)
            if len(terms) == 1:
                written.setdefault(terms[0], Counter())[word] += 1
        for term, word in entries:
            parts = word.split(" ")
            assert all(part in title or part in body for part in parts), (row, term, word)
            assert " ".join(analyzer.terms(part)[0] for part in parts) == term
            # Counter.most_common keeps first-seen order among equal counts.
            assert word == " ".join(written[part].most_common(1)[0][0] for part in term.split(" "))


# --- how the work is split -----------------------------------------------------------------------


@pytest.mark.parametrize("ngrams", [1, 2])
def test_tiny_chunks_give_the_same_result(
    multilingual: Corpus, bundled: Corpus, ngrams: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recommender.build.analysis as analysis
    import recommender.build.reading as reading

    corpus = multilingual + Corpus(bundled.titles[:30], bundled.bodies[:30], bundled.languages[:30])
    whole, _ = _analyse(corpus, ngrams=ngrams, min_df=2)
    monkeypatch.setattr(analysis, "_MAX_CHUNK", 4)
    monkeypatch.setattr(reading, "SUB_CHUNK", 3)
    monkeypatch.setattr(analysis, "_MIN_PARALLEL_FORMS", 0)
    analyzers = Analyzers(stop_words="english", stem=True, ngrams=ngrams)
    split = analyse(
        corpus.bodies,
        corpus.titles,
        analyzers,
        languages=corpus.languages,
        min_df=2,
        n_jobs=2,
        min_parallel=0,
    )
    _assert_same(split, whole)


# --- a frozen vocabulary (updates) ---------------------------------------------------------------


def _frozen(corpus: Corpus, analyzers: Analyzers, vocabulary: list[str], **settings: Any) -> Analysis:
    return analyse_frozen(
        corpus.bodies, corpus.titles, analyzers, vocabulary=vocabulary, languages=corpus.languages, **settings
    )


def test_frozen_vocabulary_counts_new_articles(bundled: Corpus, multilingual: Corpus) -> None:
    base, _ = _analyse(bundled, min_df=2)
    analyzers = Analyzers(stop_words="english", stem=True, ngrams=1)
    new = _frozen(multilingual, analyzers, base.vocabulary, title_weight=1.5, n_jobs=1)
    assert new.vocabulary == base.vocabulary
    expected = _reference_counts(multilingual, analyzers, base.vocabulary, 1.5)
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(new.counts, part), getattr(expected, part))
    terms = [
        term for lang, title, body in multilingual.rows() for term in analyzers[lang](title + "\n" + body)
    ]
    known = set(base.vocabulary)
    assert (new.tokens, new.unseen) == (len(terms), sum(term not in known for term in terms))
    assert 0 < new.unseen < new.tokens
    assert new.forms == _reference_forms(multilingual, Analyzers(stop_words="english", stem=True, ngrams=1))
    assert len(new.vector_forms) == new.counts.nnz


@pytest.mark.parametrize("ngrams", [1, 2])
def test_frozen_on_its_own_vocabulary_repeats_the_analysis(multilingual: Corpus, ngrams: int) -> None:
    whole, analyzers = _analyse(multilingual, ngrams=ngrams, min_df=2)
    again = _frozen(multilingual, analyzers, whole.vocabulary, n_jobs=2, min_parallel=0)
    assert again.words == []  # an update keeps the base model's readable words
    _assert_same(again, replace(whole, words=[]))


def test_without_titles_is_as_with_empty_titles() -> None:
    _assert_same(
        analyse(BODIES, None, Analyzer(), n_jobs=1), analyse(BODIES, [""] * len(BODIES), Analyzer(), n_jobs=1)
    )
