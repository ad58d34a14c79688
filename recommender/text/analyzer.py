"""The one text analyzer shared by build and query: normalise, tokenise, drop stopwords, stem.

Build and query must turn text into terms identically, so the analyzer's settings (including the language
and the full stopword list actually used) are saved in the model and restored from it. One analyzer serves
one language; :mod:`recommender.text.languages` keeps one per language of a corpus.
"""

from __future__ import annotations

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

# Letters and digits, with inner apostrophes kept (don't, o'neill); underscores never join tokens (the
# translation below turns them into spaces first, so plain \w is as strict and faster to match).
_TOKEN = re.compile(r"\w+(?:'\w+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "_": " "})
# Distinct tokens (or pieces of text) an analyzer remembers; beyond this the memory restarts (bounded).
_CACHE_LIMIT = 2_000_000
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
# A word as written: letters and digits with their combining marks (normalisation joins a mark to its
# letter), inner apostrophes of every kind the analyzer unifies.
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_LETTERS = rf"(?:[^\W_]|[{_MARKS}])+"
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
    normalised = {_surface(word, language).strip() for word in words}
    return tuple(sorted(word for word in normalised if word))


def _nltk_stop_words(name: str) -> list[str]:
    try:
        from nltk.corpus import stopwords

        words: list[str] = stopwords.words(name)
    except (LookupError, OSError) as error:
        message = (
            "stop_words='nltk' needs NLTK's stopwords corpus, which is not installed here; "
            "use stop_words='english' (the bundled list) instead"
        )
        raise InvalidParameterError(message) from error
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
    return text.replace("ё", "е") if language == "ru" else text


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
    tokens: list[str] = _TOKEN.findall(_surface(text, language))
    return tokens


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
        for match in _TOKEN.finditer("".join(letters))
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
