"""The LSA blend: the TF-IDF cosine mixed with the cosine of a low-rank (TruncatedSVD) projection.

The score of two articles is ``(1 - w) * cos(tfidf) + w * cos(lsa)``. Both parts are unit rows, so
stacking ``sqrt(1 - w) * tfidf`` next to ``sqrt(w) * lsa`` gives one matrix whose row dot products are
exactly that blend, and the exact neighbour search runs on it unchanged. The sparse part stays the
explainable core (shared terms); the projection adds credit for related vocabulary ("striker", "goal").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..score.blend import dense_part, lsa_part, semantic_part, term_scale

__all__ = [
    "MIN_ARTICLES_PER_DIMENSION",
    "SearchRows",
    "blend",
    "blend_rows",
    "fit_components",
    "scaled_terms",
]

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
    # float32 in, float32 out: half the time and a third of the memory of float64, components equal to
    # about 1e-4 (measured on 20 Newsgroups; docs/performance.md).
    svd.fit(sp.csr_matrix(vectors, dtype=np.float32))
    return np.ascontiguousarray(svd.components_, dtype=np.float32)


@dataclass(frozen=True)
class SearchRows:
    """The rows the neighbour search compares, kept as their two parts rather than joined.

    ``terms`` is ``sqrt(1 - w) * tfidf`` (float32 CSR, sorted), ``dense`` the ``sqrt(w)``-scaled unit LSA
    projection (float32, rows × dims) or None without a blend. :meth:`joined` is the one matrix whose
    row dot products are the blended scores; updates and the draft tables work on the parts directly.
    """

    terms: sp.csr_matrix
    dense: np.ndarray | None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the joined matrix."""
        extra = 0 if self.dense is None else self.dense.shape[1]
        return self.terms.shape[0], self.terms.shape[1] + extra

    def joined(self) -> sp.csr_matrix:
        """``[terms, dense]`` as one sorted float32 CSR matrix (zeros of the dense part not stored)."""
        if self.dense is None:
            return self.terms
        dense = self.dense
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
        return _join(self.terms, part)

    def take(self, rows: np.ndarray) -> SearchRows:
        """The given rows, in that order."""
        terms = sp.csr_matrix(self.terms[rows])
        terms.has_sorted_indices = True  # row selection keeps each row's order
        return SearchRows(terms, None if self.dense is None else self.dense[rows])

    def stack(self, other: SearchRows) -> SearchRows:
        """These rows followed by ``other``'s."""
        terms = sp.csr_matrix(sp.vstack([self.terms, other.terms], format="csr"), dtype=np.float32)
        terms.sort_indices()
        if self.dense is None or other.dense is None:
            return SearchRows(terms, None)
        return SearchRows(terms, np.concatenate([self.dense, other.dense]))


def blend_rows(
    vectors: sp.csr_matrix,
    components: np.ndarray | None,
    weight: float,
    *,
    semantic: np.ndarray | None = None,
    semantic_weight: float = 0.0,
) -> SearchRows:
    """The parts of :func:`blend`'s rows, unjoined; ``semantic`` the rows' embeddings (the semantic view,
    weighted ``semantic_weight``) or None."""
    lsa_on = components is not None and weight > 0
    semantic_on = semantic is not None and semantic_weight > 0
    if not semantic_on:
        semantic_weight = 0.0
    if not (lsa_on or semantic_on):
        if vectors.dtype == np.float32 and vectors.has_sorted_indices:
            return SearchRows(vectors, None)
        terms = sp.csr_matrix(vectors, dtype=np.float32, copy=True)
        terms.sort_indices()
        return SearchRows(terms, None)
    lsa = None
    if lsa_on and components is not None:
        lsa = lsa_part(_project(vectors, components), weight, semantic_weight)
    sem = semantic_part(semantic, semantic_weight) if semantic_on and semantic is not None else None
    return SearchRows(scaled_terms(vectors, weight if lsa_on else 0.0, semantic_weight), dense_part(lsa, sem))


def _project(vectors: sp.csr_matrix, components: np.ndarray) -> np.ndarray:
    """``vectors @ components.T`` as float64 (computed in float32, row by row, as scipy computes it).

    For a few rows only the columns they use are gathered: the product visits the same entries in the
    same order, so it is equal to the bit, without copying the whole transposed projection.
    """
    used = np.unique(vectors.indices)
    if used.size * 2 < vectors.shape[1]:
        compact = sp.csr_matrix(
            (vectors.data, np.searchsorted(used, vectors.indices), vectors.indptr),
            shape=(vectors.shape[0], used.size),
        )
        return np.asarray(compact @ np.ascontiguousarray(components[:, used].T), dtype=np.float64)
    return np.asarray(vectors @ components.T, dtype=np.float64)


def scaled_terms(vectors: sp.csr_matrix, weight: float, semantic_weight: float = 0.0) -> sp.csr_matrix:
    """The TF-IDF part of search rows: ``vectors`` times the term scale, float32 CSR with sorted indices
    (``weight`` the LSA weight in effect: 0 when no projection was fitted)."""
    terms = sp.csr_matrix(vectors * term_scale(weight, semantic_weight), dtype=np.float32)
    terms.sort_indices()
    return terms


def blend(vectors: sp.csr_matrix, components: np.ndarray | None, weight: float) -> sp.csr_matrix:
    """Rows whose dot products are ``(1 - weight) * cos(tfidf) + weight * cos(lsa)``, as float32 CSR."""
    if components is None or weight <= 0:
        return vectors
    return blend_rows(vectors, components, weight).joined()


def _join(left: sp.csr_matrix, right: sp.csr_matrix) -> sp.csr_matrix:
    """``[left, right]`` side by side as sorted float32 CSR, each row's ``left`` entries first."""
    left.sort_indices()
    right.sort_indices()
    # scipy stacks CSR blocks side by side row by row in compiled code (several times faster than
    # scattering both parts with numpy); sorted parts give sorted rows.
    joined = sp.csr_matrix(sp.hstack([left, right], format="csr", dtype=np.float32))
    joined.sort_indices()
    return joined
