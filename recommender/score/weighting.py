"""Term weights: the one function that turns term counts into the rows articles and drafts are compared by.

tf is sublinear (``1 + ln tf``) or BM25's saturation with length normalisation,
``tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / reference_length))``: repeats count less and less and
long articles' counts are scaled down. Each weight is multiplied by the smoothed idf
``ln((1 + n) / (1 + df)) + 1`` and every row is L2-normalised, so the score of two rows is a cosine.
numpy only: the build weighs every article with :func:`weigh_rows` and the serving side weighs a draft
with the same function, so a draft written like an article gets that article's vector to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..settings import TF_SCHEMES

__all__ = ["TF_SCHEMES", "Weighting", "average_length", "smoothed_idf", "weigh_rows"]


@dataclass(frozen=True)
class Weighting:
    """How counts become weights: the tf scheme, BM25's constants and its reference length, and the idf."""

    idf: np.ndarray
    tf: str = "log"
    k1: float = 1.2
    b: float = 0.75
    reference_length: float = 0.0


def smoothed_idf(document_frequency: np.ndarray, n_documents: int) -> np.ndarray:
    """``ln((1 + n) / (1 + df)) + 1`` per term, as float64."""
    frequency = np.asarray(document_frequency, dtype=np.float64)
    idf: np.ndarray = np.log((1.0 + n_documents) / (1.0 + frequency)) + 1.0
    return idf


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Each row's values added in order (float64); ``bincount`` adds them one by one as they come."""
    n_rows = len(indptr) - 1
    owners = np.repeat(np.arange(n_rows), np.diff(indptr))
    sums: np.ndarray = np.bincount(owners, weights=values, minlength=n_rows)
    return sums


def average_length(data: np.ndarray, indptr: np.ndarray) -> float:
    """Mean (weighted) term count per row: BM25's reference length."""
    sums = _row_sums(np.asarray(data, dtype=np.float64), np.asarray(indptr))
    return float(sums.mean()) if sums.size else 0.0


def weigh_rows(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, weighting: Weighting
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts as CSR arrays (each row's columns sorted) to weighted unit rows ``(data, indices, indptr)``.

    The result keeps the counts' structure (every count is positive, so every weight is too) with float32
    data, int32 indices and int64 indptr.
    """
    counts = np.asarray(data, dtype=np.float64)
    indptr = np.asarray(indptr, dtype=np.int64)
    lengths = np.diff(indptr)
    if weighting.tf == "bm25":
        reference = weighting.reference_length
        scale = np.ones_like(counts)
        if reference > 0:
            scale = (
                1.0 - weighting.b + weighting.b * np.repeat(_row_sums(counts, indptr), lengths) / reference
            )
        weights = counts * (weighting.k1 + 1.0) / (counts + weighting.k1 * scale)
    else:
        weights = 1.0 + np.log(counts)
    weights *= weighting.idf[np.asarray(indices)]
    norms = np.sqrt(_row_sums(weights * weights, indptr))
    norms[norms == 0] = 1.0
    weights /= np.repeat(norms, lengths)
    return weights.astype(np.float32), np.asarray(indices, dtype=np.int32), indptr
