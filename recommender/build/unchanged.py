"""Added articles a model already holds exactly as given, which an update leaves where they are.

A feed or an archive export read again brings back articles the model has. Re-adding one as it is would
move it to the end, search it again, and count it as an edit toward the advice to rebuild. An added article
is unchanged when everything the model stores of it would be the same: its record (title, date, url,
category, author, tags, language), its length, its weighted terms (from which the LSA part follows), its
embedding with the semantic view, and the words it writes for its terms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import store
from ..recommender import Recommender
from .assemble import records_of
from .frozen import NewRows, analyse_frozen_rows
from .semantic import uses_semantic

__all__ = ["unchanged_rows"]


def unchanged_rows(model: Recommender, frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Per row of ``frame``, whether the model holds that article exactly as given (see the module), and
    how many of the held ones the semantic view's encoder embedded to tell (the others came from the
    vector cache)."""
    ids = [str(article_id) for article_id in frame["id"]]
    same = np.zeros(len(ids), dtype=bool)
    places = [place for place, article_id in enumerate(ids) if article_id in model]
    if not places or model.lengths is None or not model.stored.has(store.VECTOR_FORMS):
        return same, 0  # nothing held, or a model saved before lengths and own words: treated as edits
    index = model.index()
    rows = np.array([index.row(ids[place]) for place in places], dtype=np.int64)
    subset = frame.iloc[places].reset_index(drop=True)
    new = analyse_frozen_rows(model, subset)
    # The search rows' terms and LSA part follow from the vectors; only the embedding is compared apart.
    search = index.engine.search
    dense = search.rows.dense if search is not None and uses_semantic(model.settings) else None
    held = None if dense is None else dense[rows]
    records = store.Records.read(model.stored)
    fresh = records_of(subset, new.languages)
    old_words, new_words = _words(model, rows), _new_words(new)
    for position, (place, row) in enumerate(zip(places, rows.tolist(), strict=True)):
        record = dict(records[row])
        record.setdefault("lang", model.languages[row])
        same[place] = (
            record == fresh[position]
            and int(model.lengths[row]) == len(subset["body"][position])
            and _same_row(model.vectors, row, new.vectors, position)
            and (held is None or _same_dense(held, new.search.dense, position))
            and old_words[position] == new_words[position]
        )
    return same, new.embedded


def _same_row(first: sp.csr_matrix, row: int, second: sp.csr_matrix, other: int) -> bool:
    """Whether row ``row`` of ``first`` equals row ``other`` of ``second``, entry for entry."""
    a0, a1 = int(first.indptr[row]), int(first.indptr[row + 1])
    b0, b1 = int(second.indptr[other]), int(second.indptr[other + 1])
    return bool(
        np.array_equal(first.indices[a0:a1], second.indices[b0:b1])
        and np.array_equal(first.data[a0:a1], second.data[b0:b1])
    )


def _same_dense(first: np.ndarray | None, second: np.ndarray | None, row: int) -> bool:
    """Whether both have no dense part, or the same dense row ``row``."""
    if first is None or second is None:
        return first is None and second is None
    return bool(np.array_equal(first[row], second[row]))


def _words(model: Recommender, rows: np.ndarray) -> list[list[str]]:
    """The words each of ``rows`` writes for its terms, as the model stores them."""
    table = model.stored.strings(store.SURFACE_FORMS)
    forms = np.asarray(model.stored.array(store.VECTOR_FORMS))
    indptr = np.asarray(model.vectors.indptr, dtype=np.int64)
    return [[table[int(entry)] for entry in forms[indptr[row] : indptr[row + 1]]] for row in rows.tolist()]


def _new_words(new: NewRows) -> list[list[str]]:
    """The words each newly analysed article writes for its terms."""
    table = store.StringTable(*new.own_words.words)
    indptr = np.asarray(new.vectors.indptr, dtype=np.int64)
    rows = new.own_words.rows
    return [[table[int(entry)] for entry in rows[indptr[r] : indptr[r + 1]]] for r in range(len(indptr) - 1)]
