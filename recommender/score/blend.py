"""The blend's arithmetic: how a TF-IDF row, its low-rank projection and its sentence embedding become
one search row (numpy).

The score of two articles is ``(1 - s) * ((1 - w) * cos(tfidf) + w * cos(lsa)) + s * cos(embedding)``,
``w`` the LSA weight and ``s`` the semantic weight. Every part is a unit row, so the search row is
``sqrt((1 - s)(1 - w)) * tfidf`` beside ``sqrt((1 - s) w) * lsa / |lsa|`` beside ``sqrt(s) * embedding``:
its dot products are exactly that blend. The LSA and embedding parts together are the row's dense part.
The build applies these functions to every article (``recommender.build.blend``), the serving side to a
draft, so both make the same bits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dense_part", "lsa_part", "project_row", "semantic_part", "term_scale"]


def term_scale(lsa_weight: float, semantic_weight: float = 0.0) -> np.float32:
    """The factor of a search row's TF-IDF part, ``sqrt((1 - s)(1 - w))`` in float32 (1 without a blend)."""
    if lsa_weight <= 0 and semantic_weight <= 0:
        return np.float32(1.0)
    return np.float32(np.sqrt((1.0 - lsa_weight) * (1.0 - semantic_weight)))


def lsa_part(projected: np.ndarray, lsa_weight: float, semantic_weight: float = 0.0) -> np.ndarray:
    """Projected rows (float64, rows × dims) as a search row's LSA part: unit length times
    ``sqrt((1 - s) w)``."""
    norms = np.linalg.norm(projected, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    factor = np.sqrt(lsa_weight * (1.0 - semantic_weight))
    part: np.ndarray = (projected * (factor / norms)).astype(np.float32)
    return part


def semantic_part(embeddings: np.ndarray, semantic_weight: float) -> np.ndarray:
    """Embeddings (rows × dims) as a search row's semantic part: unit length times ``sqrt(s)``, float32.

    A zero row (an encoder's answer for nothing to read) stays zero.
    """
    rows = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True).astype(np.float32)
    norms[norms == 0] = np.float32(1.0)
    part: np.ndarray = (rows / norms) * np.float32(np.sqrt(semantic_weight))
    return part.astype(np.float32)


def dense_part(lsa: np.ndarray | None, semantic: np.ndarray | None) -> np.ndarray | None:
    """The dense part of search rows: the LSA columns, then the semantic ones (None when neither)."""
    if lsa is None or semantic is None:
        return semantic if lsa is None else lsa
    return np.ascontiguousarray(np.concatenate([lsa, semantic], axis=1), dtype=np.float32)


def project_row(columns: np.ndarray, values: np.ndarray, components: np.ndarray) -> np.ndarray:
    """One sparse row (sorted ``columns``, float32 ``values``) times ``components.T``, as a 1 × dims array.

    The products are added term by term in column order in float32, as scipy's sparse-times-dense product
    adds them, so a draft projects to the bits an article with the same row has.
    """
    total = np.zeros(components.shape[0], dtype=np.float32)
    for column, value in zip(
        np.asarray(columns).tolist(), np.asarray(values, np.float32).tolist(), strict=True
    ):
        total += np.float32(value) * components[:, column]
    return total.astype(np.float64)[None, :]
