"""Embed once: the text recipe, the keys, and the vector cache (shards, merging, concurrent writers)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from recommender.semantic import cache as cache_module
from recommender.semantic.cache import VectorCache, default_folder
from recommender.semantic.embed import Embedded, article_text, embed, text_keys
from recommender.semantic.encoder import EncoderInfo, load_encoder


class CountingEncoder:
    """A deterministic encoder that records what it was asked to encode."""

    def __init__(self, dimension: int = 4) -> None:
        self.info = EncoderInfo("counting", "f" * 64, dimension, 32)
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        rows = np.array([[len(text), text.count("a"), text.count("e"), 1.0] for text in texts], np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_article_text_puts_the_title_first_as_a_sentence() -> None:
    assert article_text("Oil prices rise", "Brent rose.") == "Oil prices rise. Brent rose."
    assert article_text("Why did oil rise?", "Brent rose.") == "Why did oil rise? Brent rose."
    assert article_text(None, "Brent rose.") == "Brent rose."
    assert article_text("  ", "Brent rose.") == "Brent rose."


def test_keys_depend_on_the_text_and_the_window() -> None:
    a, b = text_keys(["one", "two"], 128)
    assert len(a) == 32
    assert a != b
    assert text_keys(["one"], 128) == [a]
    assert text_keys(["one"], 256) != [a]


def test_embed_without_cache_encodes_each_distinct_text_once() -> None:
    encoder = CountingEncoder()
    done = embed(["alpha", "beta", "alpha"], encoder)
    assert encoder.seen == ["alpha", "beta"]
    assert done.embedded == 2
    assert done.reused == 1
    np.testing.assert_array_equal(done.vectors[0], done.vectors[2])
    np.testing.assert_allclose(done.vectors, encoder.encode(["alpha", "beta", "alpha"]))


def test_a_second_run_reads_the_cache_and_encodes_only_new_or_changed_texts(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    cache = VectorCache(tmp_path, encoder.info.fingerprint, encoder.info.dimension)
    first = embed(["alpha", "beta", "gamma"], encoder, cache=cache)
    assert first.embedded == 3
    encoder.seen.clear()
    reports: list[tuple[int, int]] = []
    second = embed(
        ["alpha", "beta (edited)", "gamma", "delta"],
        encoder,
        cache=cache,
        progress=lambda done, total: reports.append((done, total)),
    )
    assert encoder.seen == ["beta (edited)", "delta"]
    assert (second.embedded, second.reused) == (2, 2)
    assert reports == [(0, 2), (2, 2)]
    np.testing.assert_array_equal(second.vectors[[0, 2]], first.vectors[[0, 2]])
    # Another encoder (another fingerprint) shares nothing.
    other = CountingEncoder()
    other.info = EncoderInfo("other", "e" * 64, 4, 32)
    assert embed(["alpha"], other, cache=VectorCache(tmp_path, "e" * 64, 4)).embedded == 1


def test_shards_are_merged_and_only_the_merged_shards_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "_MAX_SHARDS", 3)
    cache = VectorCache(tmp_path, "a" * 64, 2)
    keys = text_keys([f"text {n}" for n in range(10)], 8)
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
        cache.add(text_keys([f"text {n}"], 8), np.array([[n, 0.0]], np.float32))


def test_concurrent_writers_lose_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(str(tmp_path), start)) for start in (0, 100, 200)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    numbers = [n for start in (0, 100, 200) for n in range(start, start + 20)]
    found, vectors = VectorCache(tmp_path, "b" * 64, 2).lookup(text_keys([f"text {n}" for n in numbers], 8))
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
    texts = ["Oil prices rose.", "The goalkeeper saved a penalty.", "Voters chose a parliament."]
    cache = VectorCache(tmp_path, encoder.info.fingerprint, encoder.info.dimension)
    fresh = embed(texts, encoder, cache=cache)
    again = embed(texts, encoder, cache=cache)
    assert isinstance(again, Embedded)
    assert again.embedded == 0
    np.testing.assert_array_equal(fresh.vectors, again.vectors)
    np.testing.assert_allclose(np.linalg.norm(fresh.vectors, axis=1), 1.0, rtol=1e-5)
