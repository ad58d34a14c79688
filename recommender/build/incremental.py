"""Exact candidate pools after an update without the all-pairs search: searched where needed, else merged.

New and edited articles are scored against all (``O(new × N)``); every other pool is merged with its
scores against the new articles (the reverse refresh, ``O(new × N)``); pools that held a removed or edited
article are searched again in full. Pool scores are canonical (``recommender.build.pools``), so the result
equals a full search of the new article set bit for bit.
"""

from __future__ import annotations

import numpy as np

from .blend import SearchRows
from .pools import POOL_MARGIN, canonical_scores, settle_rows

__all__ = ["incremental_pools"]


def incremental_pools(
    stored_pools: tuple[np.ndarray, np.ndarray],
    search: SearchRows,
    survivors: np.ndarray,
    old_to_new: np.ndarray,
    labels: np.ndarray,
    width: int,
    budget: int,
) -> tuple[tuple[np.ndarray, np.ndarray], int, int]:
    """Exact raw pools: a full search for new rows and broken pools, a merge for all others.

    One product of every row against the rows to search (new and broken) serves both directions: its
    columns are those rows' scores against all (their search), and its new-row columns are every other
    pool's scores against the new articles (the reverse refresh). ``labels`` groups rows (by language
    when lists stay within a language); candidates never cross groups, exactly as the full search does.
    Returns ``((neighbors, scores), refreshed, recomputed)``.
    """
    sparse, dense = search.terms, search.dense
    n_new = search.shape[0]
    n_kept = len(survivors)
    stored = np.asarray(stored_pools[0])[survivors]
    stored_scores = np.asarray(stored_pools[1])[survivors]
    remapped = np.where(stored >= 0, old_to_new[np.maximum(stored, 0)], -1)
    # A pool that held a removed (or edited) article has a gap only a full search can fill.
    broken = ((stored >= 0) & (remapped < 0)).any(axis=1)
    neighbors = np.full((n_new, width), -1, dtype=np.int32)
    scores = np.zeros((n_new, width), dtype=np.float32)
    exact = np.zeros(n_new, dtype=bool)
    exact[np.flatnonzero(broken)] = True
    exact[n_kept:] = True
    kept = np.flatnonzero(~exact)
    neighbors[kept] = remapped[kept]
    scores[kept] = np.where(remapped[kept] >= 0, stored_scores[kept], 0.0)
    refreshed = 0
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        searched = members[exact[members]]
        if searched.size == 0:
            continue
        added_columns = np.flatnonzero(searched >= n_kept)
        searched_transposed = sparse[searched].T.tocsr()
        searched_dense = None if dense is None else dense[searched].T.copy()
        reach = min(width + POOL_MARGIN, len(members) - 1)
        best_rows = np.full((searched.size, 0), -1, dtype=np.int64)
        best_scores = np.zeros((searched.size, 0), dtype=np.float32)
        step = max(1, budget // (_BYTES_PER_SCORE * searched.size))
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            block = np.asarray((sparse[chunk] @ searched_transposed).toarray(), dtype=np.float32)
            if dense is not None and searched_dense is not None:
                block += dense[chunk] @ searched_dense
            local = np.searchsorted(chunk, searched)
            own = local < chunk.size
            own[own] = chunk[local[own]] == searched[own]
            block[local[own], np.flatnonzero(own)] = -np.inf  # a row is not its own candidate
            best_rows, best_scores = _keep_best(best_rows, best_scores, chunk, block.T, reach)
            stays = ~exact[chunk]
            if added_columns.size and stays.any():
                rows = chunk[stays]
                block_neighbors, block_scores, changed = _merge(
                    search,
                    rows,
                    block[stays][:, added_columns],
                    searched[added_columns],
                    neighbors[rows],
                    scores[rows],
                )
                neighbors[rows], scores[rows] = block_neighbors, block_scores
                refreshed += changed
        found = np.where(best_scores > 0, best_rows, -1)
        settled, settled_scores = settle_rows(search, searched, found, width)
        neighbors[searched, : settled.shape[1]] = settled
        scores[searched, : settled.shape[1]] = settled_scores
    return (neighbors, scores), refreshed, int(broken.sum())


def _keep_best(
    best_rows: np.ndarray, best_scores: np.ndarray, chunk: np.ndarray, columns: np.ndarray, reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``reach`` best rows so far per searched row, adding ``columns`` (its scores against ``chunk``).

    Scores here come from the quick product; ``settle_rows`` scores the survivors canonically.
    """
    take = min(reach, chunk.size)
    if take < chunk.size:
        picked = np.argpartition(-columns, take - 1, axis=1)[:, :take]
    else:
        picked = np.broadcast_to(np.arange(chunk.size), (columns.shape[0], chunk.size))
    rows = np.concatenate([best_rows, chunk[picked]], axis=1)
    values = np.concatenate([best_scores, np.take_along_axis(columns, picked, axis=1)], axis=1)
    if rows.shape[1] > reach:
        order = np.argpartition(-values, reach - 1, axis=1)[:, :reach]
        rows = np.take_along_axis(rows, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
    return rows, values


def _merge(
    search: SearchRows,
    rows: np.ndarray,
    fresh: np.ndarray,
    added: np.ndarray,
    old_rows: np.ndarray,
    old_scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The pools of ``rows`` together with the ``added`` rows, cut to width by ``(-score, row)``.

    ``fresh`` (the quick product) finds the added rows that may enter a pool (above zero and within
    rounding of its last score); only those are scored canonically and merged, so most pools are kept.
    """
    width = old_rows.shape[1]
    entering = (fresh > 0) & (fresh >= old_scores[:, width - 1, None] - _ROUNDING)
    block_neighbors = old_rows.astype(np.int32)
    block_scores = old_scores.astype(np.float32)
    hit = np.flatnonzero(entering.any(axis=1))
    if hit.size == 0:
        return block_neighbors, block_scores, 0
    pair_rows, pair_cols = np.nonzero(entering[hit])
    candidates = np.full((hit.size, added.size), -1, dtype=np.int64)
    candidates[pair_rows, pair_cols] = added[pair_cols]
    candidate_scores = np.zeros((hit.size, added.size), dtype=np.float32)
    candidate_scores[pair_rows, pair_cols] = canonical_scores(search, rows[hit][pair_rows], added[pair_cols])
    all_rows = np.concatenate([old_rows[hit], candidates], axis=1)
    all_scores = np.concatenate([old_scores[hit], candidate_scores], axis=1)
    valid = (all_rows >= 0) & (all_scores > 0)
    keys_score = np.where(valid, -all_scores, np.inf)
    keys_row = np.where(valid, all_rows, np.iinfo(np.int64).max)
    order = np.lexsort((keys_row, keys_score), axis=-1)[:, :width]
    chosen = np.take_along_axis(all_rows, order, axis=1)
    chosen_scores = np.take_along_axis(all_scores, order, axis=1)
    chosen_valid = np.take_along_axis(valid, order, axis=1)
    block_neighbors[hit] = np.where(chosen_valid, chosen, -1)
    block_scores[hit] = np.where(chosen_valid, chosen_scores, 0.0)
    changed = int((block_neighbors[hit] != old_rows[hit]).any(axis=1).sum())
    return block_neighbors, block_scores, changed


# Far above the rounding differences between the quick product and the canonical score.
_ROUNDING = 1e-5
# A float32 score and the masks and copies made from it, as the neighbour search counts them.
_BYTES_PER_SCORE = 12
