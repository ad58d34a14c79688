"""Term weights: sublinear tf (``1 + ln tf``) or BM25-style saturation with length normalisation, times idf.

BM25's tf part is ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average_length))``: repeats count less
and less, and long articles' counts are scaled down. Either way rows are L2-normalised afterwards, so the
score of two articles stays a cosine.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["TF_SCHEMES", "average_length", "weigh"]

TF_SCHEMES = ("log", "bm25")


def average_length(counts: sp.csr_matrix) -> float:
    """Mean (weighted) term count per article, the reference length of BM25's normalisation."""
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    return float(lengths.mean()) if lengths.size else 0.0


def weigh(
    counts: sp.csr_matrix,
    idf: np.ndarray,
    *,
    tf: str = "log",
    k1: float = 1.2,
    b: float = 0.75,
    reference_length: float = 0.0,
) -> sp.csr_matrix:
    """tf weight times idf, rows L2-normalised, as sorted float32 CSR (shared by fit and query)."""
    weighted = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    weighted.sort_indices()
    if tf == "bm25":
        lengths = np.repeat(np.asarray(weighted.sum(axis=1)).ravel(), np.diff(weighted.indptr))
        scale = 1.0 - b + b * lengths / reference_length if reference_length > 0 else 1.0
        weighted.data = weighted.data * (k1 + 1.0) / (weighted.data + k1 * scale)
    else:
        weighted.data = 1.0 + np.log(weighted.data)
    weighted.data *= idf[weighted.indices]
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    weighted.data /= np.repeat(norms, np.diff(weighted.indptr))
    result = sp.csr_matrix(weighted, dtype=np.float32)
    result.sort_indices()
    return result
