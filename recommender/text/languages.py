"""More than one language: which language each article is in, and one analyzer per language.

An article's language is its declared ``lang`` (or ``language``) field when it has one, else detected
offline. When py3langid is installed (extra ``langid``: a small naive-Bayes model shipped in the package,
about 1 ms an article), its guess among the Snowball languages is taken if it is at least 90% sure. Else
(or without it) Cyrillic script means Russian, and otherwise the language whose own function words (those
in its bundled stopword list and in no other) occur most often wins, when at least two of them occur;
failing that, the default language (English) is assumed. Without py3langid only English, Russian, French
and German are told apart (a Spanish text would pass for French: declare ``lang`` or install the extra).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..types import InvalidParameterError
from .analyzer import SNOWBALL, Analyzer
from .stopwords import BY_LANGUAGE

if TYPE_CHECKING:  # scipy only in annotations: the numpy-only lookup imports the detection from here
    pass

__all__ = ["Analyzers", "article_languages", "detect_language", "detector", "language_code"]

DEFAULT_LANGUAGE = "en"
_NAMES = {name: code for code, name in SNOWBALL.items()}
_CODE = re.compile(r"^[a-z]{2,3}$")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_SAMPLE = 4000  # characters of an article looked at; enough to tell, cheap on long texts
_MIN_HITS = 2
_LANGID_CONFIDENCE = 0.9


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


def language_code(value: str) -> str:
    """An ISO 639-1 code from a code, a locale or a language name: ``"en-GB"``, ``"ru_RU"``, ``"French"``."""
    text = str(value).strip().lower().replace("_", "-")
    if text in _NAMES:
        return _NAMES[text]
    code = text.split("-", 1)[0]
    if not _CODE.match(code):
        message = f"language {value!r} is not an ISO 639 code (like 'en', 'ru', 'fr') or a Snowball name"
        raise InvalidParameterError(message)
    return code


def detect_language(text: str, *, default: str = DEFAULT_LANGUAGE) -> str:
    """The language of ``text`` as an ISO 639-1 code (see the module docstring for how)."""
    sample = text[:_SAMPLE]
    guess = _langid(sample)
    if guess is not None:
        return guess
    cyrillic = len(_CYRILLIC.findall(sample))
    if cyrillic and cyrillic >= len(_LATIN.findall(sample)):
        return "ru"
    lookup = _WORD_LANGUAGE
    counts: Counter[str | None] = Counter(
        lookup.get(word) or lookup.get(word.split("'", 1)[0])
        for word in _WORD.findall(sample.lower().replace("\u2019", "'"))
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
        return f"py3langid {version('py3langid')}, then function words"
    except PackageNotFoundError:
        return "function words"


def _langid(sample: str) -> str | None:
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:
        return None
    identifier = _IDENTIFIER.get("langid")
    if identifier is None:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(sorted(set(SNOWBALL) & set(identifier.nb_classes)))
        _IDENTIFIER["langid"] = identifier
    code, probability = identifier.classify(sample)
    return str(code) if probability >= _LANGID_CONFIDENCE else None


_IDENTIFIER: dict[str, Any] = {}  # loaded on first need: py3langid takes about a second to load


def article_languages(
    declared: Iterable[Any], texts: Iterable[str], *, language: str = "auto", default: str = DEFAULT_LANGUAGE
) -> list[str]:
    """The language of each article: ``language`` for all, or per article its declared value or a guess."""
    if language != "auto":
        code = language_code(language)
        return [code for _ in texts]
    languages: list[str] = []
    for value, text in zip(declared, texts, strict=True):
        if isinstance(value, str) and value.strip():
            languages.append(language_code(value))
        else:
            languages.append(detect_language(text, default=default))
    return languages


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
