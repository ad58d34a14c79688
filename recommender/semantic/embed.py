"""The semantic view's vectors for articles: the text each article is embedded as, and embedding only
what no cache holds.

An article is embedded as its title, a full stop, and its body (the recipe a saved model records); the
encoder reads the first ``max_tokens`` tokens of it. A text's key is the SHA-256 of the recipe, the
encoder's window and the text, so a changed article, window or recipe is embedded again and nothing else is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .cache import VectorCache
from .encoder import Encoder

__all__ = ["RECIPE", "Embedded", "article_text", "embed", "text_keys"]

#: How an article becomes the text the encoder reads (recorded in a saved model).
RECIPE = "title. body"
#: Texts sent to the encoder between two progress reports (and cache writes).
STEP = 256


def article_text(title: str | None, body: str) -> str:
    """``"Title. Body"``: the title as a sentence before the body (no added stop after ``?`` or ``!``)."""
    title = (title or "").strip()
    if not title:
        return body
    return f"{title}{' ' if title[-1] in '.!?:;' else '. '}{body}"


def text_keys(texts: Sequence[str], max_tokens: int) -> list[bytes]:
    """Each text's 32-byte cache key (recipe, window and text)."""
    prefix = f"{RECIPE}\n{max_tokens}\n".encode()
    return [hashlib.sha256(prefix + text.encode("utf-8", "surrogatepass")).digest() for text in texts]


@dataclass(frozen=True)
class Embedded:
    """Unit float32 rows in the texts' order, and how many the encoder ran on (the rest: the cache's)."""

    vectors: np.ndarray
    embedded: int

    @property
    def reused(self) -> int:
        """How many rows came from the cache."""
        return int(self.vectors.shape[0]) - self.embedded


def embed(
    texts: Sequence[str],
    encoder: Encoder,
    *,
    cache: VectorCache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Embedded:
    """The rows of ``texts``: from ``cache`` where it holds them, else encoded (and then kept there).

    ``progress(done, total)`` is called as the texts to encode are done, ``STEP`` at a time; each step is
    written to the cache as it finishes, so an interrupted run keeps what it did.
    """
    keys = text_keys(texts, encoder.info.max_tokens)
    if cache is not None:
        found, vectors = cache.lookup(keys)
    else:
        found = np.zeros(len(texts), dtype=bool)
        vectors = np.zeros((len(texts), encoder.info.dimension), dtype=np.float32)
    # A text given twice is encoded once.
    first: dict[bytes, int] = {}
    todo = []
    for place in np.flatnonzero(~found).tolist():
        if keys[place] not in first:
            first[keys[place]] = place
            todo.append(place)
    if progress is not None:
        progress(0, len(todo))
    for start in range(0, len(todo), STEP):
        chosen = todo[start : start + STEP]
        rows = np.asarray(encoder.encode([texts[place] for place in chosen]), dtype=np.float32)
        vectors[chosen] = rows
        if cache is not None:
            cache.add([keys[place] for place in chosen], rows)
        if progress is not None:
            progress(min(start + STEP, len(todo)), len(todo))
    for place in np.flatnonzero(~found).tolist():
        vectors[place] = vectors[first[keys[place]]]
    return Embedded(vectors, len(todo))
