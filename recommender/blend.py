"""The LSA blend: the TF-IDF cosine mixed with the cosine of a low-rank (TruncatedSVD) projection.

The score of two articles is ``(1 - w) * cos(tfidf) + w * cos(lsa)``. Both parts are unit rows, so
stacking ``sqrt(1 - w) * tfidf`` next to ``sqrt(w) * lsa`` gives one matrix whose row dot products are
exactly that blend, and the exact neighbour search runs on it unchanged. The sparse part stays the
explainable core (shared terms); the projection adds credit for related vocabulary ("striker", "goal").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["MIN_ARTICLES_PER_DIMENSION", "blend", "fit_components"]

#: The projection is fitted only when the corpus has at least this many articles per dimension.
MIN_ARTICLES_PER_DIMENSION = 2


def fit_components(vectors: sp.csr_matrix, dims: int) -> np.ndarray | None:
    """The ``dims × terms`` float32 projection of a seeded TruncatedSVD of ``vectors``.

    None (no projection) when the corpus has fewer than ``MIN_ARTICLES_PER_DIMENSION * dims`` articles.
    """
    from sklearn.decomposition import TruncatedSVD

    # A projection needs many more articles than dimensions to generalise; on small corpora it would only
    # add noise (links between articles that share nothing), so they keep the plain TF-IDF cosine.
    if vectors.shape[0] < MIN_ARTICLES_PER_DIMENSION * dims:
        return None
    dims = min(dims, vectors.shape[1] - 1)
    if dims < 2:
        return None
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=5, random_state=0)
    svd.fit(sp.csr_matrix(vectors, dtype=np.float64))
    return np.ascontiguousarray(svd.components_, dtype=np.float32)


def blend(vectors: sp.csr_matrix, components: np.ndarray | None, weight: float) -> sp.csr_matrix:
    """Rows whose dot products are ``(1 - weight) * cos(tfidf) + weight * cos(lsa)``, as float32 CSR."""
    if components is None or weight <= 0:
        return vectors
    projected = np.asarray(vectors @ components.T, dtype=np.float64)
    norms = np.linalg.norm(projected, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    projected *= np.sqrt(weight) / norms
    stacked = sp.hstack([vectors * np.float32(np.sqrt(1.0 - weight)), sp.csr_matrix(projected)], format="csr")
    result = sp.csr_matrix(stacked, dtype=np.float32)
    result.sort_indices()
    return result
