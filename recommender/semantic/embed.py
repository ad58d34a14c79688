"""The semantic view's vectors for articles: the text each article is embedded as, its windows, and
embedding only the windows no cache holds.

An article is embedded as its title, a full stop, and its body (:data:`RECIPE`). A long article is cut
into up to :data:`WINDOWS` consecutive windows of the model's length (256 tokens for all-MiniLM-L6-v2);
its vector is the mean of its windows' vectors weighted by their token counts, normalised, so the whole
article counts and not only its opening (measured in docs/semantic.md). A window's cache key is the
SHA-256 of its token ids, so a changed article re-embeds only the windows that changed, and nothing is
embedded twice; a text's finished vector is cached too, by a SHA-256 of the text, so an unchanged article
costs a rebuild one cache read, not a tokenisation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .cache import VectorCache
from .encoder import Encoder

__all__ = ["RECIPE", "WINDOWS", "Embedded", "article_text", "embed", "recipe", "text_keys", "window_keys"]

#: How an article becomes the text the encoder reads (recorded in a saved model).
RECIPE = "title. body"
#: The most windows of an article that are embedded (4 × 254 tokens: about 750 words).
WINDOWS = 4
#: Texts embedded between two progress reports and cache writes (their windows are held meanwhile).
BLOCK = 512


def recipe() -> dict[str, object]:
    """The recipe as a saved model records it."""
    return {"text": RECIPE, "windows": WINDOWS, "pooling": "mean of windows weighted by tokens"}


def article_text(title: str | None, body: str) -> str:
    """``"Title. Body"``: the title as a sentence before the body (no added stop after ``?`` or ``!``)."""
    title = (title or "").strip()
    if not title:
        return body
    return f"{title}{' ' if title[-1] in '.!?:;' else '. '}{body}"


def window_keys(windows: Sequence[Sequence[int]]) -> list[bytes]:
    """Each window's 32-byte cache key: the SHA-256 of its token ids."""
    return [hashlib.sha256(np.asarray(window, dtype="<i4").tobytes()).digest() for window in windows]


@dataclass(frozen=True)
class Embedded:
    """Unit float32 rows in the texts' order; how many texts needed the encoder (at least one window not
    cached) and how many windows it encoded."""

    vectors: np.ndarray
    embedded: int
    windows: int

    @property
    def reused(self) -> int:
        """How many texts came whole from the cache."""
        return int(self.vectors.shape[0]) - self.embedded


def embed(
    texts: Sequence[str],
    encoder: Encoder,
    *,
    cache: VectorCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    block: int = BLOCK,
) -> Embedded:
    """The rows of ``texts``: their windows from ``cache`` where it holds them, else encoded (and kept).

    Texts are taken ``block`` at a time (their token windows are held only for that long);
    ``progress(done, total)`` counts the texts, and each block's new windows are written to the cache as it
    finishes, so an interrupted run keeps what it did.
    """
    vectors = np.zeros((len(texts), encoder.info.dimension), dtype=np.float32)
    embedded = windows = 0
    if progress is not None:
        progress(0, len(texts))
    for start in range(0, len(texts), block):
        part = texts[start : start + block]
        vectors[start : start + len(part)], touched, encoded = _embed_block(part, encoder, cache)
        embedded += touched
        windows += encoded
        if progress is not None:
            progress(start + len(part), len(texts))
    return Embedded(vectors, embedded, windows)


def text_keys(texts: Sequence[str]) -> list[bytes]:
    """Each text's 32-byte cache key for its finished vector: a SHA-256 of the recipe's window count and
    the text (the cache folder is the encoder's own)."""
    prefix = f"text\x1f{RECIPE}\x1f{WINDOWS}\x1fmean weighted by tokens\x1f".encode()
    return [hashlib.sha256(prefix + text.encode("utf-8", "surrogatepass")).digest() for text in texts]


def _embed_block(
    texts: Sequence[str], encoder: Encoder, cache: VectorCache | None
) -> tuple[np.ndarray, int, int]:
    """One block's rows, how many of its texts needed the encoder, and how many windows it encoded.

    A text seen before is one cache read (its finished vector, by :func:`text_keys`), so a rebuild does
    not tokenise an archive again; the others are cut into windows, and only windows no cache holds are
    encoded."""
    if cache is None:
        return _embed_windows(texts, encoder, None)
    keys = text_keys(texts)
    found, vectors = cache.lookup(keys)
    missing = np.flatnonzero(~found)
    if not len(missing):
        return vectors, 0, 0
    rows, touched, encoded = _embed_windows([texts[place] for place in missing.tolist()], encoder, cache)
    vectors[missing] = rows
    cache.add([keys[place] for place in missing.tolist()], rows)
    return vectors, touched, encoded


def _embed_windows(
    texts: Sequence[str], encoder: Encoder, cache: VectorCache | None
) -> tuple[np.ndarray, int, int]:
    """The rows of ``texts`` from their windows (each read from ``cache`` or encoded and kept there)."""
    windows_of = [encoder.windows(text, WINDOWS) for text in texts]
    flat = [window for windows in windows_of for window in windows]
    owners = np.repeat(np.arange(len(texts)), [len(windows) for windows in windows_of])
    keys = window_keys(flat)
    if cache is not None:
        found, rows = cache.lookup(keys)
    else:
        found = np.zeros(len(flat), dtype=bool)
        rows = np.zeros((len(flat), encoder.info.dimension), dtype=np.float32)
    first: dict[bytes, int] = {}
    todo = []  # one place per distinct window not in the cache
    for place in np.flatnonzero(~found).tolist():
        if keys[place] not in first:
            first[keys[place]] = place
            todo.append(place)
    if todo:
        encoded = np.asarray(encoder.encode_windows([flat[place] for place in todo]), dtype=np.float32)
        rows[todo] = encoded
        if cache is not None:
            cache.add([keys[place] for place in todo], encoded)
    missing = np.flatnonzero(~found)
    for place in missing.tolist():
        rows[place] = rows[first[keys[place]]]
    return pool(rows, owners, flat, len(texts)), len(np.unique(owners[missing])), len(todo)


def pool(rows: np.ndarray, owners: np.ndarray, windows: Sequence[Sequence[int]], count: int) -> np.ndarray:
    """Each text's vector: its windows' rows weighted by their token counts, summed in window order, then
    normalised (a one-window text keeps its window's row as it is)."""
    weights = np.array([len(window) - 2 for window in windows], dtype=np.float32)
    vectors = np.zeros((count, rows.shape[1] if rows.ndim == 2 else 0), dtype=np.float32)
    single = np.bincount(owners, minlength=count) == 1
    np.add.at(vectors, owners, rows * np.maximum(weights, np.float32(1))[:, None])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1
    vectors /= norms
    alone = np.flatnonzero(single[owners])
    vectors[owners[alone]] = rows[alone]
    return vectors
