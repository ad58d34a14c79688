"""BERT's tokenizer, in the standard library: basic splitting (lowercase, accents off, punctuation and CJK
characters apart) then WordPiece (longest vocabulary prefix first, ``##`` for the rest of a word).

It reads a model's ``vocab.txt`` and gives the token ids the model was trained on, equal to Hugging Face's
``BertTokenizer`` for uncased models (checked on BBC News against the reference, ``tests/test_semantic.py``).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

__all__ = ["WordPiece"]

#: Longer words are one unknown token, as in BERT.
MAX_WORD_CHARACTERS = 100
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_punctuation(character: str) -> bool:
    code = ord(character)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True  # every ASCII non-letter, non-digit symbol, as BERT counts them
    return unicodedata.category(character).startswith("P")


def _is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in _CJK)


class WordPiece:
    """Text to token ids for one vocabulary (``[CLS] … [SEP]``, cut to ``max_length``)."""

    def __init__(self, vocabulary: list[str], *, lowercase: bool = True) -> None:
        self.vocabulary = {word: number for number, word in enumerate(vocabulary)}
        self.lowercase = lowercase
        missing = [name for name in ("[UNK]", "[CLS]", "[SEP]") if name not in self.vocabulary]
        if missing:
            message = f"the vocabulary has no {', '.join(missing)} token: is it a BERT vocab.txt?"
            raise ValueError(message)
        self.unknown = self.vocabulary["[UNK]"]
        self.first = self.vocabulary["[CLS]"]
        self.last = self.vocabulary["[SEP]"]
        self._words: dict[str, list[int]] = {}

    @classmethod
    def read(cls, path: Path, *, lowercase: bool = True) -> WordPiece:
        """The tokenizer of a ``vocab.txt`` (one token per line, numbered from 0)."""
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls(lines, lowercase=lowercase)

    def words(self, text: str) -> list[str]:
        """BERT's basic split: control characters out, CJK characters apart, lowercase without accents,
        then whitespace and punctuation."""
        kept = []
        for character in text:
            code = ord(character)
            if code in (0, 0xFFFD):
                continue
            category = unicodedata.category(character)
            if character in " \t\n\r" or category == "Zs":
                kept.append(" ")
            elif category.startswith("C"):
                continue
            elif _is_cjk(code):
                kept.append(f" {character} ")
            else:
                kept.append(character)
        cleaned = "".join(kept)
        if self.lowercase:
            decomposed = unicodedata.normalize("NFD", cleaned.lower())
            cleaned = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        words: list[str] = []
        for chunk in cleaned.split():
            start = 0
            for position, character in enumerate(chunk):
                if _is_punctuation(character):
                    if position > start:
                        words.append(chunk[start:position])
                    words.append(character)
                    start = position + 1
            if start < len(chunk):
                words.append(chunk[start:])
        return words

    def pieces(self, word: str) -> list[int]:
        """One word's WordPiece ids (cached: a corpus repeats its words)."""
        known = self._words.get(word)
        if known is not None:
            return known
        pieces = [self.unknown] if len(word) > MAX_WORD_CHARACTERS else self._split(word)
        self._words[word] = pieces
        return pieces

    def _split(self, word: str) -> list[int]:
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                found = self.vocabulary.get(word[start:end] if start == 0 else "##" + word[start:end])
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unknown]  # a word with any unmatchable part is one unknown token
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text: str, *, max_length: int) -> list[int]:
        """``[CLS]``, the text's pieces, ``[SEP]``: at most ``max_length`` ids (the end of a long text is
        cut, as the model was trained)."""
        ids = [self.first]
        room = max_length - 1
        # Every whitespace-separated chunk gives at least one piece, bar the rare chunk of control
        # characters or accents alone: twice the window's chunks are plenty, and a long text is not
        # cleaned whole only to be cut.
        chunks = text.split(None, 2 * max_length)
        if len(chunks) > 2 * max_length:
            text = " ".join(chunks[: 2 * max_length])
        for word in self.words(text):
            ids.extend(self.pieces(word))
            if len(ids) >= room:
                break
        del ids[room:]
        ids.append(self.last)
        return ids
