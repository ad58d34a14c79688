"""The LSA blend's arithmetic: how a TF-IDF row and its low-rank projection become one search row (numpy).

The score of two articles is ``(1 - w) * cos(tfidf) + w * cos(lsa)``. Both parts are unit rows, so the
search row is ``sqrt(1 - w) * tfidf`` beside ``sqrt(w) * lsa / |lsa|``: its dot products are exactly that
blend. The build applies these functions to every article (``recommender.build.blend``), the serving side
to a draft, so both make the same bits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lsa_part", "project_row", "term_scale"]


def term_scale(lsa_weight: float) -> np.float32:
    """The factor of a search row's TF-IDF part, ``sqrt(1 - w)`` in float32 (1 without a blend)."""
    return np.float32(np.sqrt(1.0 - lsa_weight)) if lsa_weight > 0 else np.float32(1.0)


def lsa_part(projected: np.ndarray, lsa_weight: float) -> np.ndarray:
    """Projected rows (float64, rows × dims) as a search row's LSA part: unit length times ``sqrt(w)``."""
    norms = np.linalg.norm(projected, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    part: np.ndarray = (projected * (np.sqrt(lsa_weight) / norms)).astype(np.float32)
    return part


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
