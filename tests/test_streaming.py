"""Large inputs stream: reading holds one article at a time, whatever the corpus size.

The sources are generated lazily into a named pipe by a writer thread, so no large file is ever stored;
``tracemalloc`` measures the reader's peak allocation while every record is consumed.
"""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recommender.sources.corpus import iter_articles

ARTICLES = 800
BODY_WORDS = 5_000  # about 40 KB an article, so about 32 MB a source
PEAK_LIMIT = 2 * 2**20  # a few articles' worth (and one read buffer); the source is 15 times more
_WORDS = ("caspian", "pipeline", "sanctions", "grain", "corridor", "tariff", "election", "border")
_BODIES = [" ".join(_WORDS[(n + i) % len(_WORDS)] for i in range(BODY_WORDS)) for n in range(len(_WORDS))]

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _body(number: int) -> str:
    return _BODIES[number % len(_BODIES)]


def _jsonl() -> Iterator[bytes]:
    for number in range(ARTICLES):
        record = {"id": f"a{number}", "title": f"Story {number}", "body": _body(number)}
        yield (json.dumps(record) + "\n").encode()


def _json_array() -> Iterator[bytes]:
    yield b"[\n"
    for number in range(ARTICLES):
        comma = b",\n" if number else b""
        yield comma + json.dumps({"id": f"a{number}", "body": _body(number)}).encode()
    yield b"\n]\n"


def _csv() -> Iterator[bytes]:
    yield b"id,title,body\n"
    for number in range(ARTICLES):
        yield f'a{number},"Story {number}","{_body(number)}"\n'.encode()


def _wxr() -> Iterator[bytes]:
    yield (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" '
        b'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
    )
    for number in range(ARTICLES):
        yield (
            f"<item><title>Story {number}</title><link>https://x.example/{number}</link>"
            f"<content:encoded><![CDATA[<p>{_body(number)}</p>]]></content:encoded>"
            f"<wp:post_name>a{number}</wp:post_name><wp:status>publish</wp:status>"
            "<wp:post_type>post</wp:post_type></item>"
        ).encode()
    yield b"</channel></rss>"


def _serve(path: Path, chunks: Callable[[], Iterator[bytes]]) -> threading.Thread:
    def write() -> None:
        with path.open("wb") as pipe:
            for chunk in chunks():
                pipe.write(chunk)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("format", "chunks"), [("jsonl", _jsonl), ("json", _json_array), ("csv", _csv), ("wxr", _wxr)]
)
def test_reading_a_large_generated_source_holds_one_article(
    tmp_path: Path, format: str, chunks: Callable[[], Iterator[bytes]]
) -> None:
    pipe = tmp_path / f"corpus.{format}"
    os.mkfifo(pipe)
    writer = _serve(pipe, chunks)
    count = 0
    total = 0
    tracemalloc.start()
    try:
        for article in iter_articles(pipe, format=format):
            count += 1
            total += len(article["body"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    writer.join(timeout=10)
    assert count == ARTICLES
    assert total > 15 * PEAK_LIMIT  # the source really is much larger than the limit…
    print(f"{format}: read {total / 2**20:.1f} MB of text, peak allocation {peak / 2**20:.2f} MB")
    assert peak < PEAK_LIMIT  # …and reading never held more than a few articles
