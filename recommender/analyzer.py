"""The one text analyzer shared by build and query: normalise, tokenise, drop stopwords, stem.

Build and query must turn text into terms identically, so the analyzer's settings (including the full
stopword list actually used) are saved in the model and restored from it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

from .stopwords import ENGLISH
from .types import InvalidParameterError

__all__ = ["Analyzer", "resolve_stop_words"]

# Letters and digits, with inner apostrophes kept (don't, o'neill); underscores never join tokens.
# (_normalise turns underscores into spaces first, so plain \w is as strict and faster to match.)
_TOKEN = re.compile(r"\w+(?:'\w+)*")
# Distinct tokens whose verdict is remembered; beyond this the cache restarts (bounded memory).
_CACHE_LIMIT = 2_000_000
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "_": " "})


def resolve_stop_words(stop_words: str | Iterable[str] | None) -> tuple[str, ...]:
    """Turn a stop-word setting into a sorted tuple of lower-case words.

    ``"english"`` is the bundled list; ``"nltk"`` is NLTK's English corpus, only if it is installed
    (it is never downloaded); ``None`` means none; any iterable is used as given (normalised).
    """
    if stop_words is None:
        return ()
    if isinstance(stop_words, str):
        if stop_words == "english":
            return tuple(sorted(ENGLISH))
        if stop_words == "nltk":
            return tuple(sorted(_nltk_stop_words()))
        message = f"unknown stop_words {stop_words!r}: use 'english', 'nltk', None or a list of words"
        raise InvalidParameterError(message)
    words = {_normalise(str(word)).strip() for word in stop_words}
    return tuple(sorted(word for word in words if word))


def _nltk_stop_words() -> list[str]:
    try:
        from nltk.corpus import stopwords

        words: list[str] = stopwords.words("english")
    except LookupError as error:
        message = (
            "stop_words='nltk' needs NLTK's stopwords corpus, which is not installed here; "
            "use stop_words='english' (the bundled list) instead"
        )
        raise InvalidParameterError(message) from error
    return [_normalise(word) for word in words]


def _normalise(text: str) -> str:
    """Compatibility-decompose, fold accents (Orbán -> orban), unify apostrophes, case-fold.

    Underscores become spaces: they never join tokens.
    """
    text = unicodedata.normalize("NFKD", text)
    if not text.isascii():
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_APOSTROPHES).casefold()


class Analyzer:
    """Text to terms: Unicode normalisation, lower-casing, regex tokens, stopwords, Snowball stems.

    Parameters
    ----------
    stop_words:
        ``"english"`` (bundled list, default), ``"nltk"``, ``None`` or a list of words.
    stem:
        Reduce words to Snowball (English) stems so that "sanction", "sanctions", "sanctioned" meet.
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
        self.stop_words: tuple[str, ...] = resolve_stop_words(stop_words)
        self.stem = bool(stem)
        self.ngrams = ngrams
        self.min_length = min_length
        self._stop = frozenset(self.stop_words)
        self._cache: dict[str, str] = {}
        self._stemmer: Any = None
        if self.stem:
            from nltk.stem.snowball import SnowballStemmer

            self._stemmer = SnowballStemmer("english")

    def __call__(self, text: str) -> list[str]:
        """The features of ``text``: its terms, plus adjacent pairs when ``ngrams == 2``."""
        terms = self.terms(text)
        if self.ngrams == 2 and len(terms) > 1:
            terms = terms + [f"{a} {b}" for a, b in pairwise(terms)]
        return terms

    def terms(self, text: str) -> list[str]:
        """The single terms of ``text`` in order: normalised, stop words removed, stemmed."""
        # Every distinct token is judged once (stop word? digits? stem?) and the verdict cached, so the
        # per-token work is one dict lookup; "" marks a token that is dropped.
        verdicts = self._cache
        tokens = _TOKEN.findall(_normalise(text))
        try:
            return list(filter(None, map(verdicts.__getitem__, tokens)))
        except KeyError:
            judge = self._judge
            if len(verdicts) >= _CACHE_LIMIT:
                verdicts.clear()
            for token in tokens:
                if token not in verdicts:
                    verdicts[token] = judge(token)
            return list(filter(None, map(verdicts.__getitem__, tokens)))

    def _judge(self, token: str) -> str:
        """The term a token becomes, or "" when it is dropped."""
        if token.endswith("'s"):
            token = token[:-2]
        if len(token) < self.min_length or token in self._stop or token.isdigit():
            return ""
        if self._stemmer is not None:
            stemmed: str = self._stemmer.stem(token)
            return stemmed
        return token

    def to_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready data, with the full stopword list, so a saved model can rebuild it."""
        return {
            "stop_words": list(self.stop_words),
            "stem": self.stem,
            "stemmer": "snowball-english" if self.stem else None,
            "ngrams": self.ngrams,
            "min_length": self.min_length,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analyzer:
        """The analyzer described by :meth:`to_dict` output."""
        stop_words: Sequence[str] = data.get("stop_words", [])
        return cls(
            stop_words=list(stop_words),
            stem=bool(data.get("stem", True)),
            ngrams=int(data.get("ngrams", 1)),
            min_length=int(data.get("min_length", 2)),
        )

    def __getstate__(self) -> dict[str, Any]:
        # The stem cache is rebuilt on demand; shipping it to worker processes costs more than it saves.
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def __repr__(self) -> str:
        return (
            f"Analyzer(stop_words=<{len(self.stop_words)} words>, stem={self.stem}, "
            f"ngrams={self.ngrams}, min_length={self.min_length})"
        )
