"""A BERT sentence encoder (all-MiniLM-L6-v2 and its kin) run in numpy: no PyTorch, no ONNX Runtime.

It reads a sentence-transformers model folder as published (``config.json``, ``model.safetensors``,
``vocab.txt``, ``sentence_bert_config.json``, ``1_Pooling/config.json``), computes the same forward pass
in float32 on BLAS, mean-pools the tokens and normalises: vectors equal the reference implementation's
to a cosine of 0.9999999 (docs/performance.md). Work is done in cache-sized pieces (attention one
sequence at a time, the feed-forward layer in row blocks), which is what makes numpy competitive here.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .wordpiece import WordPiece

__all__ = ["BertEncoder", "read_safetensors"]

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
#: Rows of the feed-forward layer computed at once (its 4x-wide activations then fit in cache).
_FEED_FORWARD_ROWS = 128
# Abramowitz & Stegun 7.1.26: erf(x) = 1 - t (a1 + t (a2 + ...)) exp(-x²), t = 1 / (1 + p x), x >= 0,
# absolute error at most 1.5e-7, below float32's resolution of the activations.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file (an 8-byte header length, a JSON header, raw little-endian
    data), memory-mapped and without pickle."""
    with path.open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            message = f"{path}: tensor {name!r} has dtype {entry['dtype']}, which this reader does not handle"
            raise ValueError(message)
        start, end = entry["data_offsets"]
        data = raw[8 + size + start : 8 + size + end].view(np.dtype(dtype).newbyteorder("<"))
        tensors[name] = data.reshape(entry["shape"])
    return tensors


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # hidden × 3·hidden, query | key | value
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    inner: np.ndarray
    inner_bias: np.ndarray
    outer: np.ndarray
    outer_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    """LayerNorm over the last axis, in place."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.mean(np.square(x), axis=-1, keepdims=True)
    variance += np.float32(eps)
    np.sqrt(variance, out=variance)
    x /= variance
    x *= norm[0]
    x += norm[1]
    return x


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU (the exact, erf form BERT uses), in place: x (1 + erf(x/√2)) / 2 = (x + |x| erf(|x|/√2)) / 2."""
    magnitude = np.abs(x)
    z = magnitude * np.float32(1 / np.sqrt(2))
    t = z * _ERF_P
    t += 1
    np.reciprocal(t, out=t)
    erf = np.full_like(t, _ERF_A[0])
    for coefficient in _ERF_A[1:]:
        erf *= t
        erf += coefficient
    erf *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    erf *= z
    np.subtract(np.float32(1), erf, out=erf)  # erf(|x|/√2)
    erf *= magnitude
    x += erf
    x *= np.float32(0.5)
    return x


class BertEncoder:
    """A sentence-transformers BERT model folder, run in numpy: texts to unit float32 vectors."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu":
            message = (
                f"{folder}: config.json describes a {config.get('model_type')!r} model with "
                f"{config.get('hidden_act')!r} activation; the numpy encoder runs BERT with gelu"
            )
            raise ValueError(message)
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        sentence = _json(
            folder / "sentence_bert_config.json", {"max_seq_length": 256, "do_lower_case": False}
        )
        self.max_length = int(sentence.get("max_seq_length") or 256)
        pooling = _json(folder / "1_Pooling" / "config.json", {"pooling_mode_mean_tokens": True})
        if not pooling.get("pooling_mode_mean_tokens", False):
            message = f"{folder}: only mean pooling is implemented (1_Pooling/config.json asks otherwise)"
            raise ValueError(message)
        tokenizer = _json(folder / "tokenizer_config.json", {"do_lower_case": True})
        self.tokenizer = WordPiece.read(
            folder / "vocab.txt", lowercase=bool(tokenizer.get("do_lower_case", True))
        )
        weights = read_safetensors(folder / "model.safetensors")
        self._embeddings = self._read_embeddings(weights)
        self._layers = [
            self._read_layer(weights, number) for number in range(int(config["num_hidden_layers"]))
        ]
        self.dimension = int(config["hidden_size"])

    @staticmethod
    def _read_embeddings(weights: dict[str, np.ndarray]) -> dict[str, Any]:
        get = _getter(weights, "embeddings.")
        return {
            "words": get("word_embeddings.weight"),
            "positions": get("position_embeddings.weight"),
            "types": get("token_type_embeddings.weight")[0],
            "norm": (get("LayerNorm.weight"), get("LayerNorm.bias")),
        }

    @staticmethod
    def _read_layer(weights: dict[str, np.ndarray], number: int) -> _Layer:
        get = _getter(weights, f"encoder.layer.{number}.")
        parts = ("attention.self.query", "attention.self.key", "attention.self.value")
        return _Layer(
            qkv=np.ascontiguousarray(np.concatenate([get(f"{part}.weight") for part in parts]).T),
            qkv_bias=np.concatenate([get(f"{part}.bias") for part in parts]),
            attention_out=np.ascontiguousarray(get("attention.output.dense.weight").T),
            attention_out_bias=get("attention.output.dense.bias"),
            attention_norm=(get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias")),
            inner=np.ascontiguousarray(get("intermediate.dense.weight").T),
            inner_bias=get("intermediate.dense.bias"),
            outer=np.ascontiguousarray(get("output.dense.weight").T),
            outer_bias=get("output.dense.bias"),
            output_norm=(get("output.LayerNorm.weight"), get("output.LayerNorm.bias")),
        )

    def tokenize(self, text: str) -> list[int]:
        """The token ids the model reads for ``text`` (cut to the model's window)."""
        return self.tokenizer.encode(text, max_length=self.max_length)

    def windows(self, text: str, count: int) -> list[list[int]]:
        """``text`` as up to ``count`` windows of token ids, each ``[CLS] … [SEP]`` and at most the model's
        window long, one after the other; the first is :meth:`tokenize`'s."""
        inner = self.max_length - 2
        tokenizer = self.tokenizer
        ids = tokenizer.encode(text, max_length=inner * count + 2)[1:-1]
        return [
            [tokenizer.first, *ids[start : start + inner], tokenizer.last]
            for start in range(0, max(len(ids), 1), inner)
        ]

    def encode_ids(self, batch: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit float32 vectors of token-id sequences, one forward pass (pad to the longest)."""
        rows, length = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((rows, length), dtype=np.int64)
        lengths = np.array([len(sequence) for sequence in batch])
        for row, sequence in enumerate(batch):
            ids[row, : len(sequence)] = sequence
        table = self._embeddings
        x = table["words"][ids] + table["positions"][:length] + table["types"]
        x = _layer_norm(x.reshape(rows * length, -1).astype(np.float32, copy=False), table["norm"], self.eps)
        for layer in self._layers:
            x = self._layer(x, layer, rows, length, lengths)
        hidden = x.reshape(rows, length, -1)
        mask = np.arange(length)[None, :] < lengths[:, None]
        pooled: np.ndarray = np.einsum("rld,rl->rd", hidden, mask.astype(np.float32))
        pooled /= lengths[:, None].astype(np.float32)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled

    def _layer(self, x: np.ndarray, layer: _Layer, rows: int, length: int, lengths: np.ndarray) -> np.ndarray:
        hidden = x.shape[1]
        size = hidden // self.heads
        scale = np.float32(1 / np.sqrt(size))
        qkv = x @ layer.qkv
        qkv += layer.qkv_bias
        qkv = qkv.reshape(rows, length, 3, self.heads, size)
        context = np.empty((rows, length, self.heads, size), dtype=np.float32)
        for row in range(rows):
            used = int(lengths[row])  # padding is masked out of every row, so it is left out here
            query = np.ascontiguousarray(qkv[row, :used, 0].transpose(1, 0, 2)) * scale
            key = np.ascontiguousarray(qkv[row, :used, 1].transpose(1, 2, 0))
            value = np.ascontiguousarray(qkv[row, :used, 2].transpose(1, 0, 2))
            scores = query @ key
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context[row, :used] = (scores @ value).transpose(1, 0, 2)
            context[row, used:] = 0
        attended = context.reshape(rows * length, hidden) @ layer.attention_out
        attended += layer.attention_out_bias
        attended += x
        x = _layer_norm(attended, layer.attention_norm, self.eps)
        out = np.empty_like(x)
        for start in range(0, x.shape[0], _FEED_FORWARD_ROWS):
            block = x[start : start + _FEED_FORWARD_ROWS]
            inner = block @ layer.inner
            inner += layer.inner_bias
            _gelu(inner)
            outer = out[start : start + _FEED_FORWARD_ROWS]
            np.matmul(inner, layer.outer, out=outer)
            outer += layer.outer_bias
            outer += block
        return _layer_norm(out, layer.output_norm, self.eps)


def _json(path: Path, default: dict[str, Any]) -> dict[str, Any]:
    if not path.exists():
        return default
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _getter(weights: dict[str, np.ndarray], prefix: str) -> Callable[[str], np.ndarray]:
    def get(name: str) -> np.ndarray:
        for key in (prefix + name, "bert." + prefix + name):
            if key in weights:
                return np.ascontiguousarray(weights[key], dtype=np.float32)
        message = f"model.safetensors has no tensor {prefix + name!r}"
        raise ValueError(message)

    return get
