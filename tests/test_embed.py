"""Embed once: the text recipe, the keys, and the vector cache (shards, merging, concurrent writers)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from recommender.semantic import cache as cache_module
from recommender.semantic.cache import VectorCache, default_folder
from recommender.semantic.embed import WINDOWS, Embedded, article_text, embed, text_keys, window_keys
from recommender.semantic.encoder import EncoderInfo, load_encoder


class CountingEncoder:
    """A deterministic encoder of words as token ids, windows of 4 ids, that records what it encodes."""

    def __init__(self, dimension: int = 4) -> None:
        self.info = EncoderInfo("counting", "f" * 64, dimension, 6)
        self.seen: list[list[int]] = []
        self.tokenised: list[str] = []

    def windows(self, text: str, count: int) -> list[list[int]]:
        self.tokenised.append(text)
        ids = [sum(map(ord, word)) % 97 for word in text.split()][: 4 * count]
        return [[101, *ids[start : start + 4], 102] for start in range(0, max(len(ids), 1), 4)]

    def encode_windows(self, windows: Sequence[Sequence[int]]) -> np.ndarray:
        self.seen.extend(list(window) for window in windows)
        rows = np.array([[len(w), sum(w) % 7 + 1, max(w) % 5, 1.0] for w in windows], np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_article_text_puts_the_title_first_as_a_sentence() -> None:
    assert article_text("Oil prices rise", "Brent rose.") == "Oil prices rise. Brent rose."
    assert article_text("Why did oil rise?", "Brent rose.") == "Why did oil rise? Brent rose."
    assert article_text(None, "Brent rose.") == "Brent rose."
    assert article_text("  ", "Brent rose.") == "Brent rose."


def _keys(texts: list[str]) -> list[bytes]:
    return window_keys([[ord(c) for c in text] for text in texts])


def test_window_keys_are_the_token_ids() -> None:
    a, b = window_keys([[101, 7, 102], [101, 8, 102]])
    assert len(a) == 32
    assert a != b
    assert window_keys([[101, 7, 102]]) == [a]


def test_embed_without_cache_encodes_each_distinct_window_once() -> None:
    encoder = CountingEncoder()
    done = embed(["alpha beta", "gamma", "alpha beta"], encoder)
    assert len(encoder.seen) == 2
    assert (done.embedded, done.windows, done.reused) == (3, 2, 0)
    np.testing.assert_array_equal(done.vectors[0], done.vectors[2])
    single = encoder.encode_windows(encoder.windows("gamma", WINDOWS))
    np.testing.assert_array_equal(done.vectors[1], single[0])  # one window: its row as it is


def test_a_long_text_is_the_token_weighted_mean_of_its_windows() -> None:
    encoder = CountingEncoder()
    text = " ".join(f"w{n}" for n in range(10))  # windows of 4, 4 and 2 words
    windows = encoder.windows(text, WINDOWS)
    assert [len(window) - 2 for window in windows] == [4, 4, 2]
    rows = encoder.encode_windows(windows)
    expected = 4 * rows[0] + 4 * rows[1] + 2 * rows[2]
    np.testing.assert_allclose(
        embed([text], encoder).vectors[0], expected / np.linalg.norm(expected), rtol=1e-6
    )
    very_long = " ".join(f"w{n}" for n in range(100))
    assert len(encoder.windows(very_long, WINDOWS)) == WINDOWS  # the rest is not read


def test_an_unchanged_text_is_not_tokenised_again(tmp_path: Path) -> None:
    """A rebuild reads an unchanged article's finished vector by the text's key: no tokenising, the
    same bits as the first run."""
    encoder = CountingEncoder()
    cache = VectorCache(tmp_path, encoder.info.fingerprint, encoder.info.dimension)
    texts = ["alpha beta", "one two three four five six seven eight nine", "gamma"]
    first = embed(texts, encoder, cache=cache)
    encoder.tokenised.clear()
    again = embed(
        texts, encoder, cache=VectorCache(tmp_path, encoder.info.fingerprint, encoder.info.dimension)
    )
    assert encoder.tokenised == []
    assert (again.embedded, again.windows) == (0, 0)
    np.testing.assert_array_equal(again.vectors, first.vectors)
    assert text_keys(["alpha beta"]) != text_keys(["alpha  beta"]) != window_keys([[1, 2]])


def test_a_second_run_reads_the_cache_and_encodes_only_changed_windows(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    cache = VectorCache(tmp_path, encoder.info.fingerprint, encoder.info.dimension)
    long_text = "one two three four five six seven eight nine"
    first = embed(["alpha", long_text, "gamma"], encoder, cache=cache)
    assert (first.embedded, first.windows) == (3, 5)
    encoder.seen.clear()
    reports: list[tuple[int, int]] = []
    second = embed(
        ["alpha", long_text.replace("nine", "ten"), "gamma", "delta"],
        encoder,
        cache=cache,
        progress=lambda done, total: reports.append((done, total)),
    )
    assert len(encoder.seen) == 2  # the edited text's last window, and the new text
    assert encoder.tokenised[3:] == [long_text.replace("nine", "ten"), "delta"]  # the others: one cache read
    assert (second.embedded, second.windows, second.reused) == (2, 2, 2)
    assert reports == [(0, 4), (4, 4)]
    np.testing.assert_array_equal(second.vectors[[0, 2]], first.vectors[[0, 2]])
    # Another encoder (another fingerprint) shares nothing.
    other = CountingEncoder()
    other.info = EncoderInfo("other", "e" * 64, 4, 6)
    assert embed(["alpha"], other, cache=VectorCache(tmp_path, "e" * 64, 4)).embedded == 1


def test_shards_are_merged_and_only_the_merged_shards_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "_MAX_SHARDS", 3)
    cache = VectorCache(tmp_path, "a" * 64, 2)
    keys = _keys([f"text {n}" for n in range(10)])
    for n, key in enumerate(keys):
        cache.add([key], np.array([[n, 1.0]], np.float32))
    foreign = cache.folder / "notes.txt"
    foreign.write_text("mine")
    found, vectors = cache.lookup(keys)
    assert found.all()
    np.testing.assert_array_equal(vectors[:, 0], np.arange(10))
    assert len(list(cache.folder.glob("shard-*.keys.npy"))) <= 3
    assert foreign.read_text() == "mine"
    assert not list(cache.folder.glob(".*tmp"))


def _writer(folder: str, start: int) -> None:
    cache = VectorCache(folder, "b" * 64, 2)
    for n in range(start, start + 20):
        cache.add(_keys([f"text {n}"]), np.array([[n, 0.0]], np.float32))


def test_concurrent_writers_lose_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(str(tmp_path), start)) for start in (0, 100, 200)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    numbers = [n for start in (0, 100, 200) for n in range(start, start + 20)]
    found, vectors = VectorCache(tmp_path, "b" * 64, 2).lookup(_keys([f"text {n}" for n in numbers]))
    assert found.all()
    np.testing.assert_array_equal(vectors[:, 0], numbers)


def test_the_cache_folder_is_chosen_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "here"))
    assert default_folder() == tmp_path / "here"
    monkeypatch.delenv("RECOMMENDER_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_folder() == tmp_path / "xdg" / "recommender"


def test_a_real_encoder_through_the_cache_gives_the_same_rows(tiny_encoder: Path, tmp_path: Path) -> None:
    encoder = load_encoder(tiny_encoder)
    texts = ["Oil prices rose.", "The goalkeeper saved a penalty.", "Voters chose a parliament " * 60]
    cache = VectorCache(tmp_path, encoder.info.fingerprint, encoder.info.dimension)
    fresh = embed(texts, encoder, cache=cache)
    again = embed(texts, encoder, cache=cache)
    assert isinstance(again, Embedded)
    assert again.embedded == 0
    np.testing.assert_array_equal(fresh.vectors, again.vectors)
    np.testing.assert_allclose(np.linalg.norm(fresh.vectors, axis=1), 1.0, rtol=1e-5)
    assert len(encoder.windows(texts[2], WINDOWS)) > 1
    np.testing.assert_array_equal(fresh.vectors[:2], encoder.encode(texts[:2]))  # short: one window each


def test_blocks_give_the_same_rows_and_report_progress(tmp_path: Path) -> None:
    texts = [f"text number {n} " * (n + 1) for n in range(7)] + ["text number 0 "]
    whole = embed(texts, CountingEncoder())
    reports: list[tuple[int, int]] = []
    cache = VectorCache(tmp_path, "c" * 64, 4)
    blocked = embed(
        texts, CountingEncoder(), cache=cache, progress=lambda *step: reports.append(step), block=3
    )
    np.testing.assert_array_equal(blocked.vectors, whole.vectors)
    assert reports == [(0, 8), (3, 8), (6, 8), (8, 8)]
    assert blocked.embedded == 7  # the last text's windows were cached by the first block
    assert embed(texts, CountingEncoder(), cache=VectorCache(tmp_path, "c" * 64, 4)).embedded == 0
