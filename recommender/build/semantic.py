"""The semantic view's build stage: articles embedded by the settings' encoder, embedding only what the
cache does not hold, and the record a saved model keeps of that encoder.

On a Dask cluster the windows are encoded on the workers (:class:`ClusterEncoder`); the texts are cut
into windows and the vector cache is kept here, so the vectors are the ones a local build makes.

A model records its encoder's name, fingerprint, dimension, window and text recipe (the ``semantic``
document). An update, a frozen rebuild or a draft embedded for it must use an encoder with the same
fingerprint: vectors of two models are not comparable, so a mismatch is an error, never a silent mix.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..semantic.cache import VectorCache, default_folder
from ..semantic.embed import BLOCK, article_text, embed, recipe
from ..semantic.encoder import BATCH_SIZE, Encoder, EncoderInfo, load_encoder
from ..settings import Settings
from ..types import InvalidParameterError

__all__ = [
    "ClusterEncoder",
    "Embedding",
    "check_encoder",
    "embed_articles",
    "embed_draft",
    "encoder_of",
    "semantic_document",
    "uses_semantic",
]

_ENCODERS: dict[tuple[str, float], Encoder] = {}
#: Encoder batches per task sent to a worker (each task also carries its windows' token ids).
TASK_BATCHES = 8


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
    mapper: Any = None,
) -> Embedding:
    """The articles' embeddings by ``settings.semantic`` (``recorded``: the encoder a model recorded, which
    this one must be), through the vector cache (``$RECOMMENDER_CACHE``; ``off`` disables it); ``mapper``
    (a Dask mapper with ``map_chunks``) encodes the windows on its workers."""
    assert settings.semantic is not None
    encoder = encoder_of(settings.semantic)
    if recorded is not None:
        check_encoder(recorded, encoder, what=str(settings.semantic))
    texts = [article_text(title, body) for title, body in zip(titles, bodies, strict=True)]
    cache = None
    if os.environ.get("RECOMMENDER_CACHE", "").lower() != "off":
        cache = VectorCache(default_folder(), encoder.info.fingerprint, encoder.info.dimension)
    block = BLOCK
    if mapper is not None:
        encoder = ClusterEncoder(encoder, settings.semantic, mapper)
        block = BLOCK * mapper.workers()  # enough windows per round to keep every worker busy
    done = embed(texts, encoder, cache=cache, progress=progress, block=block)
    return Embedding(done.vectors, semantic_document(encoder.info), done.embedded)


def embed_draft(recorded: Mapping[str, Any], semantic: str, text: str, title: str = "") -> np.ndarray:
    """A draft's embedding (of ``"Title. Body"``) by the encoder at ``semantic``, which must be the one a
    model ``recorded``: the ``vector`` ``Index.query`` takes."""
    encoder = encoder_of(semantic)
    check_encoder(recorded, encoder, what=semantic)
    return np.asarray(embed([article_text(title, text)], encoder).vectors[0], dtype=np.float32)


class ClusterEncoder:
    """An encoder whose windows are encoded on a cluster's workers, each loading the model from the same
    folder; texts are cut into windows here. Tasks are runs of whole batches in the order a local encoder
    batches them, so each window is encoded in the same batch as locally and gets the same row."""

    def __init__(self, local: Encoder, folder: str, mapper: Any) -> None:
        self.info = local.info
        self._local = local
        self._folder = str(Path(folder).expanduser().resolve())
        self._mapper = mapper
        self._batch = int(getattr(local, "batch_size", BATCH_SIZE))

    def windows(self, text: str, count: int) -> list[list[int]]:
        """``text`` as up to ``count`` windows, cut here by the local encoder."""
        return self._local.windows(text, count)

    def encode_windows(self, windows: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit rows of ``windows`` in their order, encoded on the workers."""
        out = np.zeros((len(windows), self.info.dimension), dtype=np.float32)
        if not windows:
            return out
        order = np.argsort([-len(window) for window in windows], kind="stable")
        step = self._batch * TASK_BATCHES
        runs = [order[start : start + step] for start in range(0, len(order), step)]
        tasks = [(self._folder, self.info.fingerprint, [list(windows[row]) for row in run]) for run in runs]
        for run, rows in zip(runs, self._mapper.map_chunks(_encode_task, tasks), strict=True):
            out[run] = rows
        return out


def _encode_task(task: tuple[str, str, list[list[int]]]) -> np.ndarray:
    """One task on a worker: its windows' rows by the encoder at the client's folder, which must be the
    client's model (same fingerprint)."""
    folder, expected, windows = task
    where = f"Dask worker on {socket.gethostname()}"
    try:
        encoder = encoder_of(folder)
    except InvalidParameterError as error:
        message = f"{where}: {error} (the semantic model folder must be at the same path on every worker)"
        raise InvalidParameterError(message) from None
    if encoder.info.fingerprint != expected:
        message = (
            f"{where}: the semantic model at {folder} has fingerprint {encoder.info.fingerprint[:12]}…, the "
            f"client's {expected[:12]}…; install the same model files on every worker"
        )
        raise InvalidParameterError(message)
    return np.asarray(encoder.encode_windows(windows), dtype=np.float32)
