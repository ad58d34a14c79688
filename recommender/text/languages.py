"""More than one language: which language each article is in, and one analyzer per language.

An article's language is its declared ``lang`` (or ``language``) field when it has one, else detected
offline from its first 4,000 characters, in two steps with one rule for a single text and a corpus.

1. A cheap check settles the clear cases (most articles of a corpus) from the first 1,000 characters.
   Its evidence is function words as written (lower case; tokens split at white space and at the
   punctuation that wraps words): for English, French and German the words of a bundled stopword list
   that no other bundled list has (en "the", fr "les", de "und"), for Russian its bundled list, and,
   as evidence against, common function words of languages that share some with those but have no
   list (es "los", it "della", pt "não", ca "amb", ro "pentru", nl "het", sv "och", da "ikke",
   no "jeg", pl "się", cs "jsou", la "quod", bg "това"). The language with the most such words is
   taken only when the evidence is overwhelming: at least three different words of it, making at
   least a tenth of the tokens, all other counted words together at most a fifth as many, and no
   letter in the 4,000 characters outside its alphabet (ASCII and the accented letters of French and
   German, or ASCII and the Russian alphabet: an ñ, å, ł, ș or і leaves the text in doubt).
2. Every other text is in doubt. When py3langid is installed (extra ``langid``: a small naive-Bayes
   model shipped in the package, about 1 ms an article), its guess among the Snowball languages is
   taken if it is at least 90% sure. Else (or without it) Cyrillic script means Russian, and otherwise
   the language whose own function words (as above, written in lower case) occur most often wins, when
   at least three of them occur; failing that, the default language (English) is assumed. (Counting
   words as written keeps a table's "LA" or "DE" from passing for French; three, not two, keeps the
   "en" of an NHL score sheet from doing the same.) Without py3langid only
   English, Russian, French and German are told apart (a Spanish text would pass for French: declare
   ``lang`` or install the extra).

The first step never overrules the second: on all 47,679 articles of four English corpora it gives the
second step's answer or none (97% settled on 20 Newsgroups), and it leaves paragraphs written for the
tests in languages close to the bundled ones (Spanish, Catalan, Dutch, Danish, Polish…) in doubt.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..types import InvalidParameterError
from .analyzer import SNOWBALL, Analyzer
from .stopwords import BY_LANGUAGE

__all__ = [
    "Analyzers",
    "article_languages",
    "cancel_warm",
    "detect_language",
    "detector",
    "detector_held",
    "first_step",
    "language_code",
    "load_detector",
    "ready_to_fork",
    "second_step",
    "settle",
    "warm_detector",
]

DEFAULT_LANGUAGE = "en"
_NAMES = {name: code for code, name in SNOWBALL.items()}
_CODE = re.compile(r"^[a-z]{2,3}$")
# ISO 639-2 (and 639-3) codes of the Snowball languages, for the ISO 639-1 codes used here ("eng" -> "en").
_THREE_LETTERS = {
    "ara": "ar", "dan": "da", "deu": "de", "ger": "de", "eng": "en", "spa": "es", "fin": "fi", "fra": "fr",
    "fre": "fr", "hun": "hu", "ita": "it", "nld": "nl", "dut": "nl", "nor": "no", "nob": "no", "nno": "no",
    "por": "pt", "ron": "ro", "rum": "ro", "rus": "ru", "swe": "sv",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_SAMPLE = 4000  # characters of an article looked at; enough to tell, cheap on long texts
_MIN_HITS = 3
_LANGID_CONFIDENCE = 0.9

# The cheap first step (module docstring): how overwhelming the evidence must be.
_CLEAR_SAMPLE = 1000  # characters the first step reads (some 150 words): enough when the case is clear
_MIN_DISTINCT = 3  # different function words of the language
_MIN_SHARE = 0.1  # of the sample's tokens
_MAX_AGAINST = 0.2  # every other counted word together, per function word of the language


def _own_words() -> dict[str, frozenset[str]]:
    """Each Latin-script language's function words that no other bundled list has (en "a"/fr "a"…)."""
    latin = {code: words for code, words in BY_LANGUAGE.items() if code != "ru"}
    own: dict[str, frozenset[str]] = {}
    for code, words in latin.items():
        others = set().union(*(other for name, other in latin.items() if name != code))
        own[code] = frozenset(word for word in words if word not in others and len(word) > 1)
    return own


_OWN_WORDS = _own_words()
_WORD_LANGUAGE = {word: code for code, words in _OWN_WORDS.items() for word in words}

# Common function words of languages that share some with the bundled lists but have none of their own,
# chosen to be in no bundled list and rare as English words: evidence against the cheap step's answer.
_NEIGHBOURS = {
    "es": "el los las del por una para pero como más está están muy fue este esta estos estas cuando "
    "desde hasta porque según todo todos otro otra ellos donde también había",
    "it": "che di della delle dei degli gli nel nella sono anche questo questa molto più alla dalla è "
    "perché cui stato loro",
    "pt": "não uma pelo pela ao aos às foi são também já muito ele ela eles isso isto esse essa",
    "ca": "els dels amb és però molt més aquest aquesta seva pel pels també",
    "ro": "și şi în pentru sunt este sau dar fost acest această după foarte",
    "nl": "het een niet zijn ook maar naar bij uit aan deze wordt worden werd heeft hebben geen omdat "
    "zoals tussen nog",
    "sv": "och är på det inte ett också eller efter från när mycket hade vara detta dessa sitt sina skulle",
    "da": "og ikke af som har kan ved fra også eller efter når meget være havde blev bliver hvor hvad "
    "skal deres dette disse",
    "no": "etter mye hadde ble blir hva jeg",
    "pl": "się że jest jak przez dla tylko oraz jego jej który ktory która ktora które ktore być byc "
    "będzie bedzie już juz też tez więc wiec",
    "cs": "že protože protoze jsou jako který ktery která ktera které ktere jeho podle byl bylo nebo aby "
    "také",
    "la": "ut cum quod enim atque etiam autem esse nec quae quam eius ita vel quia",
    "bg": "се че са ще това този тази които който която във със след беше бъде също нея",
}


def _evidence() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """The cheap step's words of each bundled language, and every counted word with its language."""
    ours = {**_OWN_WORDS, "ru": frozenset(word for word in BY_LANGUAGE["ru"] if len(word) > 1)}
    counted = {word: code for code, words in _NEIGHBOURS.items() for word in words.split()}
    counted.update((word, code) for code, words in ours.items() for word in words)
    return ours, counted


_CLEAR_WORDS, _COUNTED = _evidence()
_COUNTED_WORD = {word: word for word in _COUNTED}  # the token itself when counted (one lookup a token)
# Punctuation that wraps or joins words, and rules drawn with it, becomes a space; other marks (``.``,
# ``@``, ``/``, digits) stay, so that host names, paths and numbers are single tokens that count as no word.
_WRAPPERS = str.maketrans(dict.fromkeys(",;:!?\"'()[]{}<>|*-=_+#~^\u2018\u2019\u201c\u201d\u00ab\u00bb", " "))
# The letters beyond ASCII each bundled language writes with (one Latin set for the three: names cross).
_FRENCH_GERMAN = frozenset("àâæçéèêëîïôœùûüÿäöß")
_ALPHABETS = {
    "en": _FRENCH_GERMAN,
    "fr": _FRENCH_GERMAN,
    "de": _FRENCH_GERMAN,
    "ru": frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя"),
}


def language_code(value: str) -> str:
    """An ISO 639-1 code from a code, a locale or a language name: ``"en-GB"``, ``"ru_RU"``, ``"French"``,
    ``"eng"`` (the three-letter codes of the Snowball languages are mapped to theirs)."""
    text = str(value).strip().lower().replace("_", "-")
    if text in _NAMES:
        return _NAMES[text]
    code = text.split("-", 1)[0]
    if not _CODE.match(code):
        message = f"language {value!r} is not an ISO 639 code (like 'en', 'ru', 'fr') or a Snowball name"
        raise InvalidParameterError(message)
    return _THREE_LETTERS.get(code, code)


def detect_language(text: str, *, default: str = DEFAULT_LANGUAGE) -> str:
    """The language of ``text`` as an ISO 639-1 code (see the module docstring for how)."""
    sample = text[:_SAMPLE]
    return _clear_language(sample) or _likely_language(sample, default=default)


def _clear_language(sample: str) -> str | None:
    """The first step: the sample's language when its function words leave no doubt, else None."""
    tokens = sample[:_CLEAR_SAMPLE].translate(_WRAPPERS).split()
    words = [*filter(None, map(_COUNTED_WORD.get, tokens))]
    languages = [*map(_COUNTED.__getitem__, words)]
    if len(languages) < _MIN_DISTINCT:
        return None
    language = max(set(languages), key=languages.count)  # a tie leaves too much against: no answer
    hits = languages.count(language)
    if (
        language not in _CLEAR_WORDS
        or hits < _MIN_SHARE * len(tokens)
        or len(languages) - hits > _MAX_AGAINST * hits
        or len(_CLEAR_WORDS[language].intersection(words)) < _MIN_DISTINCT
    ):
        return None
    return language if _in_alphabet(sample, language) else None


def _in_alphabet(sample: str, language: str) -> bool:
    """Whether every letter of ``sample`` is ASCII or of ``language``'s alphabet."""
    if sample.isascii():
        return True
    alphabet = _ALPHABETS[language]
    return all(char.lower() in alphabet for char in set(sample) if char.isalpha() and not char.isascii())


def _likely_language(sample: str, *, default: str) -> str:
    """The second step, for a sample in doubt: py3langid when sure, else script and function words."""
    guess = _langid(sample)
    if guess is not None:
        return guess
    cyrillic = len(_CYRILLIC.findall(sample))
    if cyrillic and cyrillic >= len(_LATIN.findall(sample)):
        return "ru"
    lookup = _WORD_LANGUAGE
    counts: Counter[str | None] = Counter(
        lookup.get(word) or lookup.get(word.split("'", 1)[0])
        # As written: a table's "LA" or "DE" is not the French article (function words are lower case).
        for word in _WORD.findall(sample.replace("\u2019", "'"))
    )
    counts.pop(None, None)
    ranked = counts.most_common(2)
    if ranked and ranked[0][1] >= _MIN_HITS and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return str(ranked[0][0])
    return default


def detector() -> str:
    """Which detector :func:`detect_language` uses here (recorded in a saved model)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"clear function words, else py3langid {version('py3langid')}, then function words"
    except PackageNotFoundError:
        return "clear function words, else function words"


def _langid(sample: str) -> str | None:
    identifier = _IDENTIFIER.get("langid") or load_detector()
    if identifier is None:
        return None
    code, probability = identifier.classify(sample)
    return str(code) if probability >= _LANGID_CONFIDENCE else None


_IDENTIFIER: dict[str, Any] = {}  # loaded on first need: py3langid takes about half a second to load


def warm_detector() -> None:
    """Start loading py3langid's model in a thread (mostly LZMA decompression, which runs beside this
    process's own work, such as reading a corpus); the next detection waits for it. Join it with
    :func:`load_detector` before forking."""
    if "langid" in _IDENTIFIER or "warming" in _IDENTIFIER:
        return
    thread = threading.Thread(target=load_detector, kwargs={"wait": False}, daemon=True)
    _IDENTIFIER["warming"] = thread
    _IDENTIFIER["warmed"] = True  # for the batch to come: it lets the model go when done
    thread.start()


def cancel_warm() -> None:
    """Let a warmed model go when the batch it was warmed for will not run (reading failed)."""
    if _IDENTIFIER.get("warmed"):
        ready_to_fork()
        _IDENTIFIER.clear()


def load_detector(*, wait: bool = True) -> Any:
    """py3langid's model, loaded once (None when it is not installed); a batch lets it go when done."""
    if wait:
        ready_to_fork()
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:
        return None
    if "langid" not in _IDENTIFIER:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(sorted(set(SNOWBALL) & set(identifier.nb_classes)))
        _IDENTIFIER["langid"] = identifier
    return _IDENTIFIER["langid"]


def first_step(declared: Iterable[Any], texts: Iterable[str]) -> tuple[list[str | None], list[str]]:
    """Each article's declared language, else its language when the cheap first step is clear, else None;
    and the samples of those left in doubt, in order (for :func:`second_step`)."""
    languages: list[str | None] = []
    doubtful: list[str] = []
    for value, text in zip(declared, texts, strict=True):
        if isinstance(value, str) and value.strip():
            languages.append(language_code(value))
            continue
        sample = text[:_SAMPLE]
        code = _clear_language(sample)
        languages.append(code)
        if code is None:
            doubtful.append(sample)
    return languages, doubtful


def second_step(samples: Iterable[str], *, default: str = DEFAULT_LANGUAGE) -> list[str]:
    """The languages of the samples the first step left in doubt."""
    return [_likely_language(sample, default=default) for sample in samples]


def settle(languages: list[str | None], found: Iterable[str]) -> list[str]:
    """``languages`` with each None, in order, replaced by the next of ``found``."""
    answers = iter(found)
    return [code if code is not None else next(answers) for code in languages]


def article_languages(
    declared: Iterable[Any], texts: Iterable[str], *, language: str = "auto", default: str = DEFAULT_LANGUAGE
) -> list[str]:
    """The language of each article: ``language`` for all, or per article its declared value or a guess."""
    if language != "auto":
        code = language_code(language)
        return [code for _ in texts]
    with detector_held():
        languages, doubtful = first_step(declared, texts)
        return settle(languages, second_step(doubtful, default=default))


@contextmanager
def detector_held() -> Iterator[None]:
    """A batch of detections: py3langid's model (about 100 MB) is let go at the end unless it was loaded
    before."""
    loaded = "langid" in _IDENTIFIER and not _IDENTIFIER.get("warmed")  # warmed for this batch: let go
    try:
        yield
    finally:
        if not loaded:
            ready_to_fork()  # a warming thread, if any, is done before the model is let go
            _IDENTIFIER.clear()


def ready_to_fork() -> None:
    """Wait for a warming thread (:func:`warm_detector`) to finish: forking beside it is unsafe."""
    warming = _IDENTIFIER.get("warming")
    if warming is not None:
        warming.join()
        _IDENTIFIER.pop("warming", None)


class Analyzers:
    """One :class:`Analyzer` per language, all with the same settings, made when first needed."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self._by_language: dict[str, Analyzer] = {}

    def __getitem__(self, language: str) -> Analyzer:
        analyzer = self._by_language.get(language)
        if analyzer is None:
            analyzer = Analyzer(language=language, **self.settings)
            self._by_language[language] = analyzer
        return analyzer

    @property
    def languages(self) -> list[str]:
        """The languages analysed so far, sorted."""
        return sorted(self._by_language)

    def to_dict(self, languages: Iterable[str]) -> dict[str, Any]:
        """The analyzer document of a model: the English (or first) analyzer's settings at the top, as
        format version 1 always had them, and every language's under ``languages``."""
        chosen = sorted(set(languages)) or [DEFAULT_LANGUAGE]
        top = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in chosen else chosen[0]
        document = self[top].to_dict()
        document["languages"] = {code: self[code].to_dict() for code in chosen}
        document["detector"] = detector()
        return document

    def restore(self, data: Mapping[str, Any]) -> Analyzer:
        """Take the analyzers a saved model describes (older models: one top-level English analyzer);
        returns the top-level one."""
        top = Analyzer.from_dict(dict(data))
        self._by_language = {top.language: top}
        for code, settings in dict(data.get("languages") or {}).items():
            self._by_language[code] = Analyzer.from_dict(settings)
        return top
