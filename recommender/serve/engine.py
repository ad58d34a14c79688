"""The one ranking engine: every related list and every draft's list, from a stored model's arrays.

An article's list up to the stored ``k`` is read from the stored top-k (made by the build from each
article's candidate pool: near-duplicates left out, hubs discounted). Past it, and for drafts, the engine
searches the stored search rows exactly (:mod:`recommender.serve.search`) among the rows a list may hold:
not the article itself, no hidden near-duplicate (nor, for a duplicate, the article it duplicates), and
within the article's language unless the model links across languages. It takes the best
``candidate_width(k)`` rows by score when the model discounts hubs (else ``k``), re-ranks them by
``score - hub_weight * hub`` and cuts to ``k``: the same steps the build takes for the stored lists. That
discounted score is what a list shows (:meth:`Engine.shown`); the similarity is kept beside it. numpy only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .. import store
from ..score.blend import dense_part, lsa_part, project_row, semantic_part, term_scale
from ..score.canonical import Query, RowArrays
from ..score.rerank import candidate_width, discounted, discounts, rerank
from ..score.weighting import Weighting, weigh_rows
from ..types import InvalidParameterError, ModelFormatError
from .search import Postings, Search

__all__ = ["Engine"]

# How many rows past the stored list a ranking-control stream searches first (then four times more).
_STREAM_WIDTH = 64


class Engine:
    """Ranked rows for an article or a draft, from a stored model (see the module docstring)."""

    def __init__(
        self, stored: Any, *, languages: tuple[np.ndarray, list[str]], duplicates: Mapping[int, int]
    ) -> None:
        """``languages`` is each row's language number into the sorted codes, and those codes."""
        parameters = stored.parameters
        self.neighbors = np.asarray(stored.array(store.NEIGHBORS)).view(np.ndarray)
        self.scores = np.asarray(stored.array(store.SCORES)).view(np.ndarray)
        self.n_rows = int(self.neighbors.shape[0])
        self.hubs = stored.array(store.HUBS).view(np.ndarray) if stored.has(store.HUBS) else None
        self.hub_weight = float(parameters.get("hub_weight", 0.0))
        self.discounts = discounts(self.hubs, self.hub_weight)
        self.components = (
            stored.array(store.LSA_COMPONENTS).view(np.ndarray) if stored.has(store.LSA_COMPONENTS) else None
        )
        self.lsa_weight = float(parameters.get("lsa_weight", 0.0)) if self.components is not None else 0.0
        self.semantic: dict[str, Any] | None = (
            dict(stored.document(store.SEMANTIC)) if stored.has(store.SEMANTIC) else None
        )
        self.semantic_weight = float(parameters.get("semantic_weight", 0.0)) if self.semantic else 0.0
        self.duplicates = dict(duplicates)  # hidden row -> the row it duplicates
        self.hidden = np.asarray(sorted(self.duplicates), dtype=np.int64)
        self.row_languages, self.languages = languages
        self.partitioned = not bool(parameters.get("cross_language", False)) and len(self.languages) > 1
        self.search = _search(stored, self) if stored.has(store.VECTORS_DATA) else None
        self._weighting: Weighting | None = None
        self._pools: tuple[np.ndarray, np.ndarray] | None = None
        self._stored = stored
        self._masks: dict[str, np.ndarray | None] = {}

    # --- lists for articles ----------------------------------------------------------------------------

    def related(self, row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows for article ``row`` and their scores."""
        stored_k = self.neighbors.shape[1]
        if k <= stored_k or self.search is None:
            rows, scores = self.neighbors[row, :k], self.scores[row, :k]
            keep = rows >= 0
            return rows[keep], scores[keep]
        if self.hubs is not None and k <= self.pool_neighbors.shape[1]:
            return self._from_pool(row, k)
        return self._ranked(self.search.rows.query(row), k, self.allowed(self.language_of(row), row))

    @property
    def pool_neighbors(self) -> np.ndarray:
        """Each article's candidate pool as the build gathered it (empty columns for a model without)."""
        if self._pools is None:
            stored = self._stored
            if stored.has(store.POOL_NEIGHBORS):
                neighbors = np.asarray(stored.array(store.POOL_NEIGHBORS)).view(np.ndarray)
                self._pools = (neighbors, np.asarray(stored.array(store.POOL_SCORES)).view(np.ndarray))
            else:
                self._pools = (np.zeros((self.n_rows, 0), np.int32), np.zeros((self.n_rows, 0), np.float32))
        return self._pools[0]

    def _from_pool(self, row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of the article's stored pool, ranked as the build ranks it: a list longer than
        the stored one continues it, up to the pool's width."""
        assert self._pools is not None
        assert self.hubs is not None
        rows, scores = self._pools[0][row], self._pools[1][row]
        keep = (rows >= 0) & ~np.isin(rows, self.hidden) & (rows != self.duplicates.get(row, -2))
        ranked, ranked_scores = rerank(
            rows[keep][None, :], scores[keep][None, :], self.hubs, hub_weight=self.hub_weight, k=k
        )
        found = ranked[0] >= 0
        return ranked[0][found], ranked_scores[0][found]

    def shown(self, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """The scores a list of ``rows`` shows and is ordered by: ``scores`` less the hub discount."""
        return np.asarray(discounted(rows, scores, self.hubs, hub_weight=self.hub_weight))

    def discount(self, rows: Sequence[int]) -> np.ndarray:
        """The hub discount of each of ``rows`` (float32, as lists are ordered; zeros without hubs)."""
        if self.discounts is None:
            return np.zeros(len(rows), dtype=np.float32)
        return np.asarray(self.discounts[np.asarray(rows, dtype=np.int64)])

    def stream(self, row: int) -> Iterator[tuple[int, float]]:
        """Candidates for ranking controls, best first: the stored list, a ``(-1, 0.0)`` marker, then every
        other allowed row by score (searched lazily, in growing batches)."""
        stored = self.neighbors[row]
        seen = {row}
        for other, score in zip(stored.tolist(), self.scores[row].tolist(), strict=True):
            if other >= 0:
                seen.add(other)
                yield other, float(score)
        if self.search is None:
            return
        yield -1, 0.0
        query = self.search.rows.query(row)
        allowed = self.allowed(self.language_of(row), row)
        width, done = max(_STREAM_WIDTH, 4 * len(seen)), 0
        while True:
            rows, scores = self.search.best(query, width, allowed)
            for other, score in zip(rows[done:].tolist(), scores[done:].tolist(), strict=True):
                if other not in seen:
                    yield other, float(score)
            if rows.size < width:
                return
            done, width = rows.size, width * 4

    def similarity(self, row: int, rows: Sequence[int]) -> np.ndarray:
        """Scores of article ``row`` with each of ``rows`` (float64)."""
        if self.search is None:
            stored = dict(zip(self.neighbors[row].tolist(), self.scores[row].tolist(), strict=True))
            return np.array([stored.get(other, 0.0) for other in rows], dtype=np.float64)
        query = self.search.rows.query(row)
        return self.search.scores(query, np.asarray(rows, dtype=np.int64)).astype(np.float64)

    def pair_similarity(self, rows: Sequence[int]) -> np.ndarray:
        """The score matrix among ``rows`` (float64; for diversity re-ranking, where the last bit of a
        score does not matter, so it is one dense product rather than canonical sums)."""
        if self.search is None:
            return np.eye(len(rows))
        search_rows = self.search.rows
        which = np.asarray(rows, dtype=np.int64)
        starts, stops = search_rows.indptr[which], search_rows.indptr[which + 1]
        owners = np.repeat(np.arange(which.size), stops - starts)
        entries = np.concatenate(
            [np.arange(a, b) for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
            or [np.zeros(0, np.int64)]
        )
        columns, place = np.unique(search_rows.indices[entries], return_inverse=True)
        block = np.zeros((which.size, columns.size), dtype=np.float64)
        block[owners, place] = np.asarray(search_rows.data[entries], dtype=np.float64) * float(
            search_rows.scale
        )
        matrix: np.ndarray = block @ block.T
        if search_rows.dense is not None:
            dense = np.asarray(search_rows.dense[which], dtype=np.float64)
            matrix += dense @ dense.T
        return matrix

    # --- lists for drafts ------------------------------------------------------------------------------

    @property
    def weighting(self) -> Weighting:
        """How the model weighs term counts (its idf, tf scheme and BM25 reference length)."""
        if self._weighting is None:
            self._weighting = _weighting(self._stored)
        return self._weighting

    def weigh(self, columns: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """A draft's term counts weighed as the build weighs an article's (float32 unit row)."""
        values, _, _ = weigh_rows(counts, columns, np.array([0, columns.size]), self.weighting)
        return values

    @property
    def term_share(self) -> float:
        """The share of a score that comes from shared terms (the rest from the dense parts)."""
        return (1.0 - self.lsa_weight) * (1.0 - self.semantic_weight)

    def draft_query(self, columns: np.ndarray, counts: np.ndarray, vector: np.ndarray | None = None) -> Query:
        """A draft's term counts (and, for a model with the semantic view, its embedding ``vector``) as a
        search row: weighed as the build weighs articles, then blended.

        Without ``vector`` a semantic model scores the draft by its other parts alone, at their own
        relative weights: the query's parts are scaled by ``1 / (1 - s)`` and its semantic part is zero.
        """
        values = self.weigh(columns, counts)
        lsa_weight, semantic_weight = self.lsa_weight, self.semantic_weight
        lsa = None
        if self.components is not None and lsa_weight > 0:
            if columns.size:
                lsa = lsa_part(project_row(columns, values, self.components), lsa_weight, semantic_weight)[0]
            else:
                lsa = np.zeros(len(self.components), dtype=np.float32)
        semantic = None
        scale = term_scale(lsa_weight, semantic_weight)
        if self.semantic is not None and semantic_weight > 0:
            dimension = int(self.semantic["dimension"])
            if vector is None:
                semantic = np.zeros(dimension, dtype=np.float32)
                factor = np.float32(1.0 / (1.0 - semantic_weight))
                scale = np.float32(scale * factor)
                lsa = None if lsa is None else (lsa * factor).astype(np.float32)
            else:
                semantic = semantic_part(_checked_vector(vector, dimension), semantic_weight)[0]
        elif vector is not None:
            message = "this model has no semantic view: a query vector cannot be used (build with --semantic)"
            raise InvalidParameterError(message)
        dense = dense_part(
            None if lsa is None else lsa[None, :], None if semantic is None else semantic[None, :]
        )
        return Query(np.asarray(columns, np.int64), values * scale, None if dense is None else dense[0])

    def draft(
        self, query: Query, language: str, k: int, *, blocked: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows for a draft in ``language`` (rows ``blocked`` left out before ranking)."""
        if self.search is None:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        allowed = self.allowed(language)
        if blocked is not None:
            allowed = ~blocked if allowed is None else allowed & ~blocked
        return self._ranked(query, k, allowed)

    # --- shared ----------------------------------------------------------------------------------------

    def has_rows(self, language: str) -> bool:
        """Whether a list in ``language`` may hold any article at all."""
        allowed = self.allowed(language)
        return self.n_rows > 0 if allowed is None else bool(allowed.any())

    def language_of(self, row: int) -> str:
        """The language code of article ``row``."""
        return self.languages[int(self.row_languages[row])]

    def allowed(self, language: str, subject: int | None = None) -> np.ndarray | None:
        """Rows a list in ``language`` may hold (None: every row): not hidden, in the language when lists
        stay within one; for an article, not itself nor the article it duplicates."""
        key = language if self.partitioned else ""
        if key not in self._masks:
            mask = None
            if self.partitioned:
                code = self.languages.index(language) if language in self.languages else -1
                mask = self.row_languages == code
            if self.hidden.size:
                mask = np.ones(self.n_rows, dtype=bool) if mask is None else mask
                mask[self.hidden] = False
            self._masks[key] = mask
        mask = self._masks[key]
        if subject is None:
            return mask
        mask = np.ones(self.n_rows, dtype=bool) if mask is None else mask.copy()
        mask[subject] = False
        if subject in self.duplicates:
            mask[self.duplicates[subject]] = False
        return mask

    def _ranked(self, query: Query, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` rows for a query after the hub discount, chosen among its top rows by similarity:
        as many as an article's stored pool for any ``k`` the pool covers, so that a draft's lists of
        different lengths agree (a longer one continues a shorter one), else a pool sized for ``k``."""
        assert self.search is not None
        stored_width = candidate_width(self.neighbors.shape[1])
        width = k if self.hubs is None else stored_width if k <= stored_width else candidate_width(k)
        rows, scores = self.search.best(query, width, allowed)
        if self.hubs is None:
            return rows[:k], scores[:k]
        ranked_rows, ranked_scores = rerank(
            rows[None, :], scores[None, :], self.hubs, hub_weight=self.hub_weight, k=k
        )
        return ranked_rows[0], ranked_scores[0]


def _checked_vector(vector: Any, dimension: int) -> np.ndarray:
    """A caller's draft embedding as one float32 row, or a clear error."""
    try:
        row = np.asarray(vector, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError):
        message = f"vector must be {dimension} numbers (the model's embedding), got {type(vector).__name__}"
        raise InvalidParameterError(message) from None
    if row.size != dimension:
        message = f"vector has {row.size} numbers; this model's embeddings have {dimension}"
        raise InvalidParameterError(message)
    if not np.all(np.isfinite(row)):
        message = "vector holds NaN or infinite values"
        raise InvalidParameterError(message)
    return row[None, :]


def _weighting(stored: Any) -> Weighting:
    parameters = stored.parameters
    reference = 0.0
    if stored.has(store.WEIGHTING):
        reference = float(stored.document(store.WEIGHTING).get("reference_length", 0.0))
    return Weighting(
        idf=np.asarray(stored.array(store.IDF), dtype=np.float64),
        tf=str(parameters.get("tf", "log")),
        k1=float(parameters.get("bm25_k1", 1.2)),
        b=float(parameters.get("bm25_b", 0.75)),
        reference_length=reference,
    )


def _search(stored: Any, engine: Engine) -> Search:
    """The search over the stored rows (and their inverted index, when the model has one)."""
    indptr = np.asarray(stored.array(store.VECTORS_INDPTR)).view(np.ndarray)
    indices = stored.array(store.VECTORS_INDICES).view(np.ndarray)
    data = stored.array(store.VECTORS_DATA).view(np.ndarray)
    n_terms = int(np.asarray(stored.array(store.IDF)).shape[0])
    dense = None
    if engine.semantic is not None and engine.semantic_weight > 0:
        if not stored.has(store.QUERY_LSA):
            message = f"{stored.path}: the model's semantic view has no stored rows; rebuild it"
            raise ModelFormatError(message)
        dense = stored.array(store.QUERY_LSA).view(np.ndarray)
        width = int(engine.semantic["dimension"]) + (
            len(engine.components) if engine.components is not None and engine.lsa_weight > 0 else 0
        )
        if dense.shape != (engine.n_rows, width):
            message = (
                f"{stored.path}: {store.QUERY_LSA}.npy holds {dense.shape}, not the {engine.n_rows} × "
                f"{width} dense rows the model's LSA and semantic parts need; rebuild it"
            )
            raise ModelFormatError(message)
    elif engine.components is not None and engine.lsa_weight > 0:
        dense = _lsa_rows(stored, engine, (indptr, indices, data))
    scale = term_scale(engine.lsa_weight, engine.semantic_weight)
    rows = RowArrays(indptr, indices, data, scale, dense, n_terms)
    postings = None
    if stored.has(store.QUERY_POSTINGS_INDPTR):
        postings = Postings(
            np.asarray(stored.array(store.QUERY_POSTINGS_INDPTR)).view(np.ndarray),
            stored.array(store.QUERY_POSTINGS_ROWS).view(np.ndarray),
            stored.array(store.QUERY_POSTINGS_WEIGHTS).view(np.ndarray),
            stored.array(store.QUERY_MAX_WEIGHT).view(np.ndarray),
        )
    return Search(rows, postings)


def _lsa_rows(stored: Any, engine: Engine, vectors: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Every row's LSA part: stored with the draft tables (older models zeroed hidden rows there: those
    rows are projected again), or projected here for a model that stores none."""
    indptr, indices, data = vectors
    components = engine.components
    assert components is not None

    def redo(row: int) -> np.ndarray:
        span = slice(int(indptr[row]), int(indptr[row + 1]))
        part: np.ndarray = lsa_part(project_row(indices[span], data[span], components), engine.lsa_weight)
        return np.asarray(part[0])

    if stored.has(store.QUERY_LSA):
        dense = stored.array(store.QUERY_LSA).view(np.ndarray)
        zeroed = [
            row for row in engine.hidden.tolist() if indptr[row + 1] > indptr[row] and not np.any(dense[row])
        ]
        if not zeroed:
            return np.asarray(dense)
        dense = np.array(dense)
        for row in zeroed:
            dense[row] = redo(row)
        return np.asarray(dense)
    if not engine.n_rows:
        return np.zeros((0, len(components)), dtype=np.float32)
    return np.vstack([redo(row) for row in range(engine.n_rows)])
