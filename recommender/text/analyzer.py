"""The one text analyzer shared by build and query: normalise, tokenise, drop stopwords, stem.

Build and query must turn text into terms identically, so the analyzer's settings (including the language
and the full stopword list actually used) are saved in the model and restored from it. One analyzer serves
one language; :mod:`recommender.text.languages` keeps one per language of a corpus.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, pairwise
from operator import itemgetter
from typing import Any, TypeVar

from ..types import InvalidParameterError
from .stemmers import snowball_stemmer
from .stopwords import BY_LANGUAGE

__all__ = [
    "SNOWBALL", "Analyzer", "ascii_token", "ascii_written", "is_dropped", "resolve_stop_words", "tokens_of",
]  # fmt: skip

#: Languages with a Snowball stemmer in NLTK (no data download needed), by ISO 639-1 code.
SNOWBALL = {
    "ar": "arabic", "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish",
    "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
}  # fmt: skip
# French elided articles and pronouns: l'état -> état, qu'il -> il.
_ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"})
# Scripts whose letters keep their marks: folding would merge distinct Cyrillic letters (й -> и).
_KEEP_MARKS = frozenset({"ru", "ar"})

#: Every combining mark (general category M) of Unicode 14.0, as hex code points and ranges (generated from
#: unicodedata; tests/test_analyzer.py checks it against the running Python's Unicode version).
_MARK_RANGES = (
    "300-36F 483-489 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 6D6-6DC 6DF-6E4 6E7-6E8 6EA-6ED "
    "711 730-74A 7A6-7B0 7EB-7F3 7FD 816-819 81B-823 825-827 829-82D 859-85B 898-89F 8CA-8E1 8E3-903 "
    "93A-93C 93E-94F 951-957 962-963 981-983 9BC 9BE-9C4 9C7-9C8 9CB-9CD 9D7 9E2-9E3 9FE A01-A03 A3C "
    "A3E-A42 A47-A48 A4B-A4D A51 A70-A71 A75 A81-A83 ABC ABE-AC5 AC7-AC9 ACB-ACD AE2-AE3 AFA-AFF B01-B03 "
    "B3C B3E-B44 B47-B48 B4B-B4D B55-B57 B62-B63 B82 BBE-BC2 BC6-BC8 BCA-BCD BD7 C00-C04 C3C C3E-C44 "
    "C46-C48 C4A-C4D C55-C56 C62-C63 C81-C83 CBC CBE-CC4 CC6-CC8 CCA-CCD CD5-CD6 CE2-CE3 D00-D03 D3B-D3C "
    "D3E-D44 D46-D48 D4A-D4D D57 D62-D63 D81-D83 DCA DCF-DD4 DD6 DD8-DDF DF2-DF3 E31 E34-E3A E47-E4E EB1 "
    "EB4-EBC EC8-ECD F18-F19 F35 F37 F39 F3E-F3F F71-F84 F86-F87 F8D-F97 F99-FBC FC6 102B-103E 1056-1059 "
    "105E-1060 1062-1064 1067-106D 1071-1074 1082-108D 108F 109A-109D 135D-135F 1712-1715 1732-1734 "
    "1752-1753 1772-1773 17B4-17D3 17DD 180B-180D 180F 1885-1886 18A9 1920-192B 1930-193B 1A17-1A1B "
    "1A55-1A5E 1A60-1A7C 1A7F 1AB0-1ACE 1B00-1B04 1B34-1B44 1B6B-1B73 1B80-1B82 1BA1-1BAD 1BE6-1BF3 "
    "1C24-1C37 1CD0-1CD2 1CD4-1CE8 1CED 1CF4 1CF7-1CF9 1DC0-1DFF 20D0-20F0 2CEF-2CF1 2D7F 2DE0-2DFF "
    "302A-302F 3099-309A A66F-A672 A674-A67D A69E-A69F A6F0-A6F1 A802 A806 A80B A823-A827 A82C A880-A881 "
    "A8B4-A8C5 A8E0-A8F1 A8FF A926-A92D A947-A953 A980-A983 A9B3-A9C0 A9E5 AA29-AA36 AA43 AA4C-AA4D "
    "AA7B-AA7D AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAEB-AAEF AAF5-AAF6 ABE3-ABEA ABEC-ABED FB1E "
    "FE00-FE0F FE20-FE2F 101FD 102E0 10376-1037A 10A01-10A03 10A05-10A06 10A0C-10A0F 10A38-10A3A 10A3F "
    "10AE5-10AE6 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 11000-11002 11038-11046 11070 "
    "11073-11074 1107F-11082 110B0-110BA 110C2 11100-11102 11127-11134 11145-11146 11173 11180-11182 "
    "111B3-111C0 111C9-111CC 111CE-111CF 1122C-11237 1123E 112DF-112EA 11300-11303 1133B-1133C "
    "1133E-11344 11347-11348 1134B-1134D 11357 11362-11363 11366-1136C 11370-11374 11435-11446 1145E "
    "114B0-114C3 115AF-115B5 115B8-115C0 115DC-115DD 11630-11640 116AB-116B7 1171D-1172B 1182C-1183A "
    "11930-11935 11937-11938 1193B-1193E 11940 11942-11943 119D1-119D7 119DA-119E0 119E4 11A01-11A0A "
    "11A33-11A39 11A3B-11A3E 11A47 11A51-11A5B 11A8A-11A99 11C2F-11C36 11C38-11C3F 11C92-11CA7 "
    "11CA9-11CB6 11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 11D8A-11D8E 11D90-11D91 11D93-11D97 "
    "11EF3-11EF6 16AF0-16AF4 16B30-16B36 16F4F 16F51-16F87 16F8F-16F92 16FE4 16FF0-16FF1 1BC9D-1BC9E "
    "1CF00-1CF2D 1CF30-1CF46 1D165-1D169 1D16D-1D172 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD 1D242-1D244 "
    "1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E000-1E006 1E008-1E018 1E01B-1E021 "
    "1E023-1E024 1E026-1E02A 1E130-1E136 1E2AE 1E2EC-1E2EF 1E8D0-1E8D6 1E944-1E94A E0100-E01EF "
)


def _mark_class(astral: bool) -> str:
    """The marks of ``_MARK_RANGES`` in the Basic Multilingual Plane, or beyond it, for a regex class."""
    items = [item.split("-") for item in "".join(_MARK_RANGES).split()]
    return "".join(
        "-".join(f"\\U{int(code, 16):08x}" for code in item)
        for item in items
        if (int(item[-1], 16) > 0xFFFF) == astral
    )


_MARKS = _mark_class(astral=False)
_ASTRAL_MARKS = _mark_class(astral=True)
# Invisible characters inside a word that are not part of its spelling: a soft hyphen (&shy; in web
# pages), zero-width space, word joiner and byte-order mark. They are deleted, so the word matches its
# plain spelling.
_INVISIBLE = "\u00ad\u200b\u2060\ufeff"
# Letters and digits with their combining marks (a Devanagari vowel sign, a Hebrew point or an Arabic
# vowel continues the word: without them such words fell apart), with inner apostrophes kept (don't,
# o'neill); underscores never join tokens (the translation below turns them into spaces first).
# A class of the plane's marks matches as fast as \w alone; marks beyond it (Brahmi, Chakma…) would slow
# every match down, so texts holding no character beyond the plane use the first pattern.
_TOKEN = re.compile(rf"[\w{_MARKS}]+(?:'[\w{_MARKS}]+)*")
_ASTRAL_TOKEN = re.compile(rf"(?:[\w{_MARKS}]|[{_ASTRAL_MARKS}])+(?:'(?:[\w{_MARKS}]|[{_ASTRAL_MARKS}])+)*")
_APOSTROPHES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "_": " "}
    | dict.fromkeys(map(ord, _INVISIBLE))
)
# Distinct tokens (or pieces of text) an analyzer remembers; beyond this the memory restarts (bounded).
_CACHE_LIMIT = 2_000_000
_log = logging.getLogger(__name__)
_T = TypeVar("_T")


def _ascii_table() -> dict[int, str]:
    """For ASCII text, the tokens of ``_TOKEN`` after ``_surface`` with one translate and one split.

    Normalisation changes no ASCII character and case-folding is lower-casing, so it is enough to
    lower-case letters, write ` as ', and turn every other character but letters, digits and ' into a space.
    """
    table: dict[int, str] = {}
    for code in range(128):
        char = chr(code)
        if char.isupper():
            table[code] = char.lower()
        elif not (char.isalnum() or char == "'"):
            table[code] = "'" if char == "`" else " "
    return table


_ASCII = str.maketrans(_ascii_table())
# An apostrophe joins tokens only between two word characters (as in _TOKEN); any other one separates.
# Written to start with the literal ' so that the regular expression engine jumps from one to the next.
_LOOSE_APOSTROPHE = re.compile(r"'(?:(?!\w)|(?<!\w'))")
# The same two steps keeping case and `: an ASCII text's tokens as written, one for one with those above.
_ASCII_WRITTEN = str.maketrans(
    {code: " " for code in range(128) if not (chr(code).isalnum() or chr(code) in "'`")}
)
_LOOSE_WRITTEN = re.compile(r"['`](?:(?!\w)|(?<!\w['`]))")
# A word as written: letters and digits with their combining marks and the invisible characters the
# analyzer deletes, inner apostrophes of every kind the analyzer unifies.
_LETTERS = rf"(?:[^\W_]|[{_MARKS}{_ASTRAL_MARKS}{_INVISIBLE}])+"
_WRITTEN = re.compile(rf"{_LETTERS}(?:['\u2019\u2018\u02bc\u2032`]{_LETTERS})*")


class _Remembered(dict[str, _T]):
    """Token (or piece of text) -> what ``make`` gives for it: made on first sight, then looked up in C."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[str], _T]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: str) -> _T:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        value = self[key] = self._make(key)
        return value


def resolve_stop_words(stop_words: str | Iterable[str] | None, language: str = "en") -> tuple[str, ...]:
    """Turn a stop-word setting into a sorted tuple of lower-case words for ``language``.

    ``"english"`` (the default, named so for compatibility) or ``"bundled"`` is the list shipped for the
    language (English, Russian, French, German; none for others); ``"nltk"`` is NLTK's corpus for it,
    only if installed (never downloaded); ``None`` means none; any iterable is used as given (normalised).
    """
    if stop_words is None:
        return ()
    if isinstance(stop_words, str):
        if stop_words in ("english", "bundled"):
            words: Iterable[str] = BY_LANGUAGE.get(language, ())
        elif stop_words == "nltk":
            words = _nltk_stop_words(SNOWBALL.get(language, language))
        else:
            message = f"unknown stop_words {stop_words!r}: use 'english', 'nltk', None or a list of words"
            raise InvalidParameterError(message)
    else:
        words = [str(word) for word in stop_words]
    # Shaped as tokens are (French elisions undone, possessives cut), so "aujourd'hui" matches its token.
    normalised = {shape_token(_surface(word, language).strip(), language) for word in words}
    return tuple(sorted(word for word in normalised if word))


def _nltk_stop_words(name: str) -> list[str]:
    """NLTK's list for ``name``; none (with a warning) for a language the installed corpus has no list
    for, as the bundled lists have none for most languages; an error if the corpus is not installed."""
    try:
        from nltk.corpus import stopwords

        available = stopwords.fileids()
    except (LookupError, OSError) as error:
        message = (
            "stop_words='nltk' needs NLTK's stopwords corpus, which is not installed here; "
            "use stop_words='english' (the bundled list) instead"
        )
        raise InvalidParameterError(message) from error
    if name not in available:
        _log.warning("NLTK's stopwords corpus has no list for %s: its articles keep every word", name)
        return []
    words: list[str] = stopwords.words(name)
    return words


def _normalise(text: str) -> str:
    """Compatibility-decompose, fold accents (Orbán -> orban), unify apostrophes, case-fold."""
    text = unicodedata.normalize("NFKD", text)
    if not text.isascii():
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_APOSTROPHES).casefold()


def _surface(text: str, language: str) -> str:
    """Text as the analyzer of ``language`` sees it before stemming.

    English folds accents first (as it always has). Other languages keep them for their stemmer, which
    knows é, ü or й; ё is written е, as most Russian text does.
    """
    if language == "en":
        return _normalise(text)
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    if "i\u0307" in text:  # casefold writes Turkish İ as i and a combining dot: İzmir is izmir
        text = text.replace("i\u0307", "i")
    if language == "ru":  # ё is written е, and stress marks (за́мок) are not part of the spelling
        return text.replace("ё", "е").replace("\u0301", "").replace("\u0300", "")
    return text


def _fold(term: str) -> str:
    if term.isascii():
        return term
    return "".join(ch for ch in unicodedata.normalize("NFKD", term) if not unicodedata.combining(ch))


class Analyzer:
    """Text to terms: Unicode normalisation, lower-casing, regex tokens, stopwords, Snowball stems.

    Parameters
    ----------
    language:
        ISO 639-1 code of the text's language (default ``"en"``): picks the Snowball stemmer and the
        bundled stopwords. A language without a Snowball stemmer is analysed without stemming.
    stop_words:
        ``"english"`` (default) or ``"bundled"``: the list shipped for ``language``; ``"nltk"``, ``None``
        or a list of words.
    stem:
        Reduce words to Snowball stems so that "sanction", "sanctions", "sanctioned" (or "санкции",
        "санкций") meet. In languages other than English, accents are folded after stemming.
    ngrams:
        1 for single terms; 2 adds pairs of adjacent kept terms ("north korea" -> ``north korea``).
    min_length:
        Shortest token kept, in characters.

    Examples
    --------
    >>> Analyzer()("Sanctions were sanctioned; Orbán's veto.")
    ['sanction', 'sanction', 'orban', 'veto']
    """

    def __init__(
        self,
        *,
        language: str = "en",
        stop_words: str | Iterable[str] | None = "english",
        stem: bool = True,
        ngrams: int = 1,
        min_length: int = 2,
    ) -> None:
        if ngrams not in (1, 2):
            message = f"ngrams must be 1 or 2, got {ngrams!r}"
            raise InvalidParameterError(message)
        if not isinstance(min_length, int) or min_length < 1:
            message = f"min_length must be a positive integer, got {min_length!r}"
            raise InvalidParameterError(message)
        self.language = language
        self.stop_words: tuple[str, ...] = resolve_stop_words(stop_words, language)
        self.stem = bool(stem) and language in SNOWBALL
        self.ngrams = ngrams
        self.min_length = min_length
        self._stop = frozenset(self.stop_words)
        self._cache = _Remembered(self._verdict)
        self._pieces = _Remembered(self._written_piece)
        self._stemmer: Any = snowball_stemmer(SNOWBALL[language]) if self.stem else None
        self._english = language == "en"
        self._fold_stems = not self._english and language not in _KEEP_MARKS

    def __call__(self, text: str) -> list[str]:
        """The features of ``text``: its terms, plus adjacent pairs when ``ngrams == 2``."""
        terms = self.terms(text)
        if self.ngrams == 2 and len(terms) > 1:
            terms = terms + [f"{a} {b}" for a, b in pairwise(terms)]
        return terms

    def terms(self, text: str) -> list[str]:
        """The single terms of ``text`` in order: normalised, stop words removed, stemmed."""
        # Every distinct raw token is judged once (possessive or elision, too short? stop word? digits?
        # its stem?) and the verdict remembered, so each further occurrence costs one dict lookup in C;
        # "" marks a token that is dropped.
        return list(filter(None, map(self._cache.__getitem__, self.tokens(text))))

    def tokens(self, text: str) -> list[str]:
        """The raw tokens of ``text``: normalised words before possessives, stop words and stems.

        :meth:`term` turns each into a term (or drops it); :meth:`terms` does both for a whole text.
        """
        return raw_tokens(text, self.language)

    def written_tokens(self, text: str) -> tuple[list[str], list[str]]:
        """The raw tokens of ``text`` (as :meth:`tokens` gives them) and, one for one, each as written there.

        A written token is a verbatim piece of ``text`` (case, accents and ligatures as they are) whose
        own raw token is the one it stands for (a character read as several tokens, ½, writes each): the
        readable word an explanation shows.
        """
        tokens = self.tokens(text)
        if text.isascii():
            return tokens, ascii_written(text)
        # Normalisation never joins across whitespace, so the pieces between give the text's tokens (each
        # piece read once per analyzer); checked all the same, and the raw tokens stand in if they differ.
        pieces = list(map(self._pieces.__getitem__, text.split()))
        if list(chain.from_iterable(map(itemgetter(0), pieces))) != tokens:
            return tokens, tokens
        return tokens, list(chain.from_iterable(map(itemgetter(1), pieces)))

    def _written_piece(self, piece: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return written_piece(piece, self.language)

    def term(self, token: str) -> str:
        """The term a raw token (from :meth:`tokens`) becomes, or "" when it is dropped (remembered)."""
        return self._cache[token]

    def _verdict(self, token: str) -> str:
        shaped = self._shape(token)
        if shaped is not token and "'" not in shaped:
            return self._cache[shaped]  # "nation's" shares the verdict of "nation"
        return self._judge(shaped)

    def verdict(self, token: str) -> str:
        """The term one surface token (from :func:`tokens_of`) becomes, or "" when it is dropped."""
        return self._judge(token)

    def _judge(self, token: str) -> str:
        """The term a token becomes, or "" when it is dropped."""
        if is_dropped(token, self._stop, self.min_length):
            return ""
        if self._stemmer is not None:
            stemmed: str = self._stemmer.stem(token)
            return _fold(stemmed) if self._fold_stems else stemmed
        if not self._english and language_folds(self.language):
            return _fold(token)
        return token

    def _shape(self, token: str) -> str:
        """A raw token's apostrophes dealt with: English possessives, French elisions, otherwise dropped."""
        return shape_token(token, self.language)

    def to_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready data, with the full stopword list, so a saved model can rebuild it."""
        return {
            "language": self.language,
            "stop_words": list(self.stop_words),
            "stem": self.stem,
            "stemmer": f"snowball-{SNOWBALL[self.language]}" if self.stem else None,
            "ngrams": self.ngrams,
            "min_length": self.min_length,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analyzer:
        """The analyzer described by :meth:`to_dict` output."""
        stop_words: Sequence[str] = data.get("stop_words", [])
        return cls(
            language=str(data.get("language", "en")),
            stop_words=list(stop_words),
            stem=bool(data.get("stem", True)),
            ngrams=int(data.get("ngrams", 1)),
            min_length=int(data.get("min_length", 2)),
        )

    def __getstate__(self) -> dict[str, Any]:
        # The stem cache is rebuilt on demand; shipping it to worker processes costs more than it saves.
        # The stemmer is made again on arrival (its class may have been loaded apart: see .stemmers).
        state = self.__dict__.copy()
        del state["_cache"], state["_pieces"], state["_stemmer"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = _Remembered(self._verdict)
        self._pieces = _Remembered(self._written_piece)
        self._stemmer = snowball_stemmer(SNOWBALL[self.language]) if self.stem else None

    def __repr__(self) -> str:
        return (
            f"Analyzer(language={self.language!r}, stop_words=<{len(self.stop_words)} words>, "
            f"stem={self.stem}, ngrams={self.ngrams}, min_length={self.min_length})"
        )


def raw_tokens(text: str, language: str) -> list[str]:
    """The raw tokens of ``text`` for ``language``: normalised words, apostrophes not yet dealt with."""
    if text.isascii():
        # The fast path: no normalisation needed, and str.split is much faster than a regex scan.
        text = text.translate(_ASCII)
        if "'" in text:
            text = _LOOSE_APOSTROPHE.sub(" ", text)
        return text.split()
    surface = _surface(text, language)
    tokens: list[str] = _tokens_pattern(surface).findall(surface)
    return tokens


def _tokens_pattern(text: str) -> re.Pattern[str]:
    """The token pattern for ``text``: the faster one unless it holds a character beyond the BMP."""
    return _ASTRAL_TOKEN if text and max(text) > "\uffff" else _TOKEN


def ascii_written(text: str) -> list[str]:
    """The tokens of an ASCII text as written: :func:`raw_tokens`' fast path keeping case and `.

    Each one's raw token (in any language) is :func:`ascii_token` of it.
    """
    text = text.translate(_ASCII_WRITTEN)
    if "'" in text or "`" in text:
        text = _LOOSE_WRITTEN.sub(" ", text)
    return text.split()


def ascii_token(word: str) -> str:
    """The raw token of a word :func:`ascii_written` gives: the fast path lower-cases and writes ` as '."""
    return word.lower().replace("`", "'")


def written_piece(piece: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The raw tokens of a piece of text without whitespace, and each as written in it.

    Usually the words of the piece, read one by one, give its tokens; otherwise (a mark that joins no
    letter, a character that normalises to several) each token is traced back to the letters it came from.
    """
    tokens = raw_tokens(piece, language)
    words = _WRITTEN.findall(piece)
    if len(words) != len(tokens) or any(
        raw_tokens(word, language) != [token] for word, token in zip(words, tokens, strict=True)
    ):
        words = _traced(piece, language)
    return tuple(tokens), tuple(words)


def _traced(piece: str, language: str) -> list[str]:
    """Each token of a non-ASCII piece as the letters (with their marks) it was normalised from.

    A character normalised into several tokens (½ into 1 and 2) is the written form of each. When
    normalisation joins letters (conjoining Hangul jamo), the whole piece is.
    """
    starts = [at for at, char in enumerate(piece) if at == 0 or not unicodedata.combining(char)]
    ends = [*starts[1:], len(piece)]
    letters = [_surface(piece[start:end], language) for start, end in zip(starts, ends, strict=True)]
    if "".join(letters) != _surface(piece, language):
        starts, ends, letters = [0], [len(piece)], [_surface(piece, language)]
    owner = [number for number, letter in enumerate(letters) for _ in letter]
    return [
        piece[starts[owner[match.start()]] : ends[owner[match.end() - 1]]]
        for match in _tokens_pattern("".join(letters)).finditer("".join(letters))
    ]


def shape_token(token: str, language: str) -> str:
    """A raw token's apostrophes dealt with: English possessives cut, French elisions undone, else removed."""
    if "'" not in token:
        return token
    if language == "en":
        return token[:-2] if token.endswith("'s") else token
    if language == "fr":
        return _unelide(token)
    return token.replace("'", "")


def tokens_of(text: str, language: str) -> list[str]:
    """The surface tokens of ``text`` as the analyzer of ``language`` reads them, before stop words and stems.

    Normalised (Unicode, case, apostrophes; accents folded in English), English possessives cut, French
    elisions undone, other apostrophes removed. Shared with the numpy-only draft lookup.
    """
    return [shape_token(token, language) for token in raw_tokens(text, language)]


def is_dropped(token: str, stop_words: frozenset[str], min_length: int) -> bool:
    """Whether a surface token is dropped before stemming: too short, a stop word, or only digits."""
    return len(token) < min_length or token in stop_words or token.isdigit()


def language_folds(language: str) -> bool:
    """Whether terms of ``language`` have their accents folded (all but Cyrillic and Arabic script)."""
    return language not in _KEEP_MARKS


def _unelide(token: str) -> str:
    head, sep, tail = token.partition("'")
    return tail if sep and head in _ELISIONS and tail else token.replace("'", "")
