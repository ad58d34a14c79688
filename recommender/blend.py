"""The LSA blend: the TF-IDF cosine mixed with the cosine of a low-rank (TruncatedSVD) projection.

The score of two articles is ``(1 - w) * cos(tfidf) + w * cos(lsa)``. Both parts are unit rows, so
stacking ``sqrt(1 - w) * tfidf`` next to ``sqrt(w) * lsa`` gives one matrix whose row dot products are
exactly that blend, and the exact neighbour search runs on it unchanged. The sparse part stays the
explainable core (shared terms); the projection adds credit for related vocabulary ("striker", "goal").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["MIN_ARTICLES_PER_DIMENSION", "blend", "fit_components", "split_blend"]

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
    dense = projected.astype(np.float32)
    # The dense part as CSR built directly (scipy's own conversion goes through COO: many times slower).
    keep = dense != 0
    part = sp.csr_matrix(
        (
            dense[keep],
            np.broadcast_to(np.arange(dense.shape[1], dtype=np.int32), dense.shape)[keep],
            np.concatenate([[0], np.cumsum(keep.sum(axis=1))]),
        ),
        shape=dense.shape,
    )
    return _join(sp.csr_matrix(vectors * np.float32(np.sqrt(1.0 - weight)), dtype=np.float32), part)


def _join(left: sp.csr_matrix, right: sp.csr_matrix) -> sp.csr_matrix:
    """``[left, right]`` side by side as sorted float32 CSR, each row's ``left`` entries first."""
    left.sort_indices()
    right.sort_indices()
    # scipy stacks CSR blocks side by side row by row in compiled code (several times faster than
    # scattering both parts with numpy); sorted parts give sorted rows.
    joined = sp.csr_matrix(sp.hstack([left, right], format="csr", dtype=np.float32))
    joined.sort_indices()
    return joined


def split_blend(search: sp.csr_matrix, n_terms: int) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Blended rows as their first ``n_terms`` columns (sparse CSR) and the rest (dense, or None).

    A blended row ends with its LSA columns, so they are read off each row's tail, much faster than
    slicing columns; rows where they are not all stored (no terms, or zeroed) are sliced.
    """
    dims = search.shape[1] - n_terms
    if dims == 0:
        return search, None
    n_rows = search.shape[0]
    lengths = np.diff(search.indptr)
    full = np.flatnonzero(lengths >= dims)
    tails = search.indptr[full + 1, None] - dims + np.arange(dims)
    whole = full[(search.indices[tails] == n_terms + np.arange(dims)).all(axis=1)]
    tails = search.indptr[whole + 1, None] - dims + np.arange(dims)
    dense = np.zeros((n_rows, dims), dtype=np.float32)
    dense[whole] = search.data[tails]
    term_counts = lengths.copy()
    term_counts[whole] -= dims
    rest = np.setdiff1d(np.arange(n_rows), whole)
    if rest.size:
        tail = sp.csr_matrix(search[rest][:, n_terms:])
        dense[rest] = tail.toarray()
        term_counts[rest] -= np.diff(tail.indptr)
    keep = np.ones(search.nnz, dtype=bool)
    keep[tails.ravel()] = False
    if rest.size:
        rest_entries = np.concatenate([np.arange(search.indptr[r], search.indptr[r + 1]) for r in rest])
        keep[rest_entries] = search.indices[rest_entries] < n_terms
    indptr = np.concatenate([[0], np.cumsum(term_counts)])
    terms = sp.csr_matrix((search.data[keep], search.indices[keep], indptr), shape=(n_rows, n_terms))
    return terms, dense
