"""A small BERT sentence-transformers folder with seeded random weights: the deterministic encoder the
semantic plumbing is tested with (no PyTorch, no download; milliseconds per batch)."""

from __future__ import annotations

import json
import re
import struct
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """``tensors`` as a float32 ``.safetensors`` file."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_tiny_bert(
    folder: Path,
    vocabulary: list[str],
    *,
    hidden: int = 8,
    heads: int = 2,
    layers: int = 2,
    inner: int = 16,
    positions: int = 32,
    max_length: int = 16,
    seed: int = 7,
) -> dict[str, np.ndarray]:
    """Write a BERT folder with random weights (seeded); returns the weights as float64."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tensors = {
        "embeddings.word_embeddings.weight": rng.normal(size=(len(vocabulary), hidden)),
        "embeddings.position_embeddings.weight": rng.normal(size=(positions, hidden)),
        "embeddings.token_type_embeddings.weight": rng.normal(size=(2, hidden)),
        "embeddings.LayerNorm.weight": 1 + 0.1 * rng.normal(size=hidden),
        "embeddings.LayerNorm.bias": 0.1 * rng.normal(size=hidden),
    }
    shapes = {
        "attention.self.query": (hidden, hidden),
        "attention.self.key": (hidden, hidden),
        "attention.self.value": (hidden, hidden),
        "attention.output.dense": (hidden, hidden),
        "intermediate.dense": (inner, hidden),
        "output.dense": (hidden, inner),
    }
    for layer in range(layers):
        prefix = f"encoder.layer.{layer}."
        for name, shape in shapes.items():
            tensors[f"{prefix}{name}.weight"] = rng.normal(size=shape) / np.sqrt(shape[1])
            tensors[f"{prefix}{name}.bias"] = 0.1 * rng.normal(size=shape[0])
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{prefix}{norm}.weight"] = 1 + 0.1 * rng.normal(size=hidden)
            tensors[f"{prefix}{norm}.bias"] = 0.1 * rng.normal(size=hidden)
    write_safetensors(folder / "model.safetensors", tensors)
    config = {
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "intermediate_size": inner,
        "layer_norm_eps": 1e-12,
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_length}))
    return {name: np.asarray(array, dtype=np.float64) for name, array in tensors.items()}


def corpus_vocabulary(texts: Iterable[str], size: int = 600) -> list[str]:
    """The special tokens, then the ``size`` commonest lowercase words of ``texts`` (a toy WordPiece
    vocabulary: every other word is one unknown token)."""
    counts = Counter(word for text in texts for word in re.findall(r"[a-z]+", text.lower()))
    return SPECIAL + [word for word, _ in counts.most_common(size)] + [".", ","]
