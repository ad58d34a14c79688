"""The semantic view's build stage: articles embedded by the settings' encoder, embedding only what the
cache does not hold, and the record a saved model keeps of that encoder.

A model records its encoder's name, fingerprint, dimension, window and text recipe (the ``semantic``
document). An update, a frozen rebuild or a draft embedded for it must use an encoder with the same
fingerprint: vectors of two models are not comparable, so a mismatch is an error, never a silent mix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..semantic.cache import VectorCache, default_folder
from ..semantic.embed import article_text, embed, recipe
from ..semantic.encoder import Encoder, EncoderInfo, load_encoder
from ..settings import Settings
from ..types import InvalidParameterError

__all__ = [
    "Embedding",
    "check_encoder",
    "embed_articles",
    "embed_draft",
    "encoder_of",
    "semantic_document",
    "uses_semantic",
]

_ENCODERS: dict[tuple[str, float], Encoder] = {}


@dataclass(frozen=True)
class Embedding:
    """Every article's embedding (unit float32 rows), the encoder's record, and how many were encoded
    (the rest came from the cache)."""

    vectors: np.ndarray
    document: dict[str, Any]
    embedded: int


def uses_semantic(settings: Settings) -> bool:
    """Whether a build with ``settings`` has the semantic view (a model folder and a positive weight; with
    weight 0 nothing is embedded, and the model is the one without the view)."""
    return settings.semantic is not None and settings.semantic_weight > 0


def encoder_of(semantic: str) -> Encoder:
    """The encoder of a model folder, loaded once per process (and again if its files change)."""
    folder = Path(semantic).expanduser()
    try:
        stamp = max((folder / name).stat().st_mtime for name in ("model.safetensors", "config.json"))
    except OSError:
        stamp = 0.0
    key = (str(folder.resolve()) if folder.exists() else semantic, stamp)
    if key not in _ENCODERS:
        _ENCODERS[key] = load_encoder(semantic)
    return _ENCODERS[key]


def semantic_document(info: EncoderInfo) -> dict[str, Any]:
    """What a model records of its encoder."""
    return {**asdict(info), "recipe": recipe()}


def check_encoder(recorded: Mapping[str, Any], encoder: Encoder, *, what: str) -> None:
    """An error unless ``encoder`` is the one the model recorded (same fingerprint and recipe)."""
    if recorded.get("fingerprint") != encoder.info.fingerprint:
        message = (
            f"{what}: the model's semantic view was built with {recorded.get('name')!r} (fingerprint "
            f"{str(recorded.get('fingerprint'))[:12]}…), not {encoder.info.name!r} (fingerprint "
            f"{encoder.info.fingerprint[:12]}…); vectors of two encoders cannot be compared: use the "
            "model's encoder, or rebuild with the new one"
        )
        raise InvalidParameterError(message)
    if recorded.get("recipe") != recipe():
        message = (
            f"{what}: the model embedded its articles as {recorded.get('recipe')!r}, this version as "
            f"{recipe()!r}; rebuild the model to embed drafts and new articles the same way"
        )
        raise InvalidParameterError(message)


def embed_articles(
    titles: Sequence[str | None],
    bodies: Sequence[str],
    settings: Settings,
    *,
    progress: Callable[[int, int], None] | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> Embedding:
    """The articles' embeddings by ``settings.semantic`` (``recorded``: the encoder a model recorded, which
    this one must be), through the vector cache (``$RECOMMENDER_CACHE``; ``off`` disables it)."""
    assert settings.semantic is not None
    encoder = encoder_of(settings.semantic)
    if recorded is not None:
        check_encoder(recorded, encoder, what=str(settings.semantic))
    texts = [article_text(title, body) for title, body in zip(titles, bodies, strict=True)]
    cache = None
    if os.environ.get("RECOMMENDER_CACHE", "").lower() != "off":
        cache = VectorCache(default_folder(), encoder.info.fingerprint, encoder.info.dimension)
    done = embed(texts, encoder, cache=cache, progress=progress)
    return Embedding(done.vectors, semantic_document(encoder.info), done.embedded)


def embed_draft(recorded: Mapping[str, Any], semantic: str, text: str, title: str = "") -> np.ndarray:
    """A draft's embedding (of ``"Title. Body"``) by the encoder at ``semantic``, which must be the one a
    model ``recorded``: the ``vector`` ``Index.query`` takes."""
    encoder = encoder_of(semantic)
    check_encoder(recorded, encoder, what=semantic)
    return np.asarray(embed([article_text(title, text)], encoder).vectors[0], dtype=np.float32)
