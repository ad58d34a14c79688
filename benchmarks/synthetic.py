"""A seeded synthetic corpus: Zipf-distributed words over a fixed random vocabulary, ~400 tokens per article.

Each article mixes a Zipf background with a handful of "topic" words drawn from one of many topics, so
neighbours are meaningful and scores are not all ties. Words are random lower-case letter strings that
our analyzer keeps as they are (no digits, no stopwords, no stemming surprises matter for timing).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["articles", "texts", "vocabulary"]

VOCABULARY_SIZE = 200_000
TOKENS = 400
ZIPF_EXPONENT = 1.0
TOPICS = 2_000
TOPIC_WORDS = 40
TOPIC_SHARE = 0.15


def vocabulary(seed: int = 0, size: int = VOCABULARY_SIZE) -> list[str]:
    """``size`` distinct pseudo-words of 4 to 10 letters, the same for the same seed."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    words: dict[str, None] = {}
    while len(words) < size:
        lengths = rng.integers(4, 11, size=size)
        codes = letters[rng.integers(0, 26, size=(size, 10))]
        for length, row in zip(lengths.tolist(), codes, strict=True):
            words.setdefault(row[:length].tobytes().decode("ascii"), None)
            if len(words) == size:
                break
    return list(words)


def texts(
    n: int, *, seed: int = 0, tokens: int = TOKENS, chunk: int = 10_000, draw_seed: int | None = None
) -> Iterator[str]:
    """``n`` article bodies, deterministic for a given seed, generated ``chunk`` at a time.

    ``draw_seed`` draws other articles over the same vocabulary and topics (unpublished drafts).
    """
    words = np.array(vocabulary(seed), dtype=object)
    size = len(words)
    ranks = np.arange(1, size + 1, dtype=np.float64)
    weights = ranks**-ZIPF_EXPONENT
    cumulative = np.cumsum(weights / weights.sum())
    rng = np.random.default_rng(seed + 1)
    topic_words = rng.integers(300, size, size=(TOPICS, TOPIC_WORDS))
    if draw_seed is not None:
        rng = np.random.default_rng([seed, draw_seed])
    n_topic = int(tokens * TOPIC_SHARE)
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        background = np.searchsorted(cumulative, rng.random((count, tokens - n_topic)))
        background = np.minimum(background, size - 1)
        topics = rng.integers(0, TOPICS, size=count)
        picks = topic_words[topics[:, None], rng.integers(0, TOPIC_WORDS, size=(count, n_topic))]
        for row in np.concatenate([background, picks], axis=1):
            yield " ".join(words[row].tolist())


def articles(n: int, *, seed: int = 0, tokens: int = TOKENS) -> Iterator[dict[str, str]]:
    """``n`` article records (``id``, ``title``, ``body``) for ``Recommender.fit``."""
    for number, body in enumerate(texts(n, seed=seed, tokens=tokens)):
        yield {"id": f"synthetic-{number:07d}", "title": body[:60].rsplit(" ", 1)[0], "body": body}


def most_frequent(count: int, *, seed: int = 0) -> list[str]:
    """The ``count`` most frequent words of the corpus (its Zipf head), used as stop words."""
    return vocabulary(seed)[:count]
