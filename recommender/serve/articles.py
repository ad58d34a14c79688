"""The articles of a stored model as a serving process reads them: ids to rows, and what a link shows.

A version-2 model finds ids through its stored hash table and decodes only the rows a call needs, so
opening does not grow with the model; version 1 kept ids and records as JSON lists, read at open.
numpy and the standard library only.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import store
from ..types import ModelFormatError, Neighbor, UnknownArticleError

__all__ = ["ArticleTable", "suggest"]


def suggest(article_id: str, ids: Sequence[str]) -> list[str]:
    """Up to three ids that look like ``article_id`` (for "did you mean" messages)."""
    return difflib.get_close_matches(article_id, list(ids), n=3, cutoff=0.6)


def _not_a_string(article_id: object, held: bool, ids: Sequence[str]) -> UnknownArticleError:
    """The error for an id that is not a string (fit() stores ``0`` as ``'0'``): it says so, and suggests
    the id as a string when the model holds it. Still an ``UnknownArticleError``, which callers handle."""
    text = str(article_id)
    error = UnknownArticleError(text, [text] if held else suggest(text, ids))
    message = f"article ids are strings: got {type(article_id).__name__} {article_id!r}"
    if error.suggestions:
        message += "; did you mean " + ", ".join(repr(s) for s in error.suggestions) + "?"
    error.args = (message,)
    return error


class ArticleTable:
    """Ids, rows and stored metadata (title, date, url, category, author, tags, lang) of a model."""

    def __init__(self, stored: Any) -> None:
        self._id_list: list[str] | None = None
        self._rows: dict[str, int] | None = None
        self._metadata: Sequence[dict[str, Any]] | None = None
        self._path = stored.path
        if stored.version >= 2:
            self._strings = stored.strings(store.IDS)
            self._table = store.IdTable(self._strings, stored.array(store.ID_TABLE))
            self._columns = [
                stored.strings(name) for name in (store.TITLES, store.DATES, store.URLS, store.ARTICLES)
            ]
            count = len(self._strings)
            consistent = all(len(column) == count for column in self._columns)
        else:
            ids = stored.document(store.IDS)
            metadata = stored.document(store.ARTICLES)
            count = len(ids) if isinstance(ids, list) else -1
            consistent = isinstance(metadata, list) and len(metadata) == count
            if consistent:
                self._id_list = [str(article_id) for article_id in ids]
                self._metadata = metadata
                self._rows = {article_id: row for row, article_id in enumerate(self._id_list)}
        if count < 0 or not consistent:
            message = f"{stored.path}: model parts disagree in size; rebuild it with: recommender build"
            raise ModelFormatError(message)
        self.count = count

    def ids(self) -> list[str]:
        """Every id in model order (decoded once)."""
        if self._id_list is None:
            self._id_list = self._strings.to_list()
        return self._id_list

    def id(self, row: int) -> str:
        """The id of ``row``."""
        return self._id_list[row] if self._id_list is not None else self._strings[row]

    def find(self, article_id: str) -> int | None:
        """The row of ``article_id``, or None."""
        if self._rows is not None:
            return self._rows.get(article_id)
        return self._table.row(article_id)

    def row(self, article_id: str) -> int:
        """The row of ``article_id``; an unknown id raises ``UnknownArticleError`` with suggestions."""
        if not isinstance(article_id, str):
            raise _not_a_string(article_id, self.find(str(article_id)) is not None, self.ids())
        row = self.find(article_id)
        if row is None:
            raise UnknownArticleError(article_id, suggest(article_id, self.ids()))
        return row

    def row_map(self) -> dict[str, int]:
        """Id -> row for every article (built once)."""
        if self._rows is None:
            self._rows = {article_id: row for row, article_id in enumerate(self.ids())}
        return self._rows

    def metadata(self, row: int) -> dict[str, Any]:
        """The stored record of one article."""
        if self._metadata is not None:
            return dict(self._metadata[row])
        return self._record(self._columns[3][row], row)

    def _record(self, text: str, row: int) -> dict[str, Any]:
        """One stored record decoded; damaged bytes (a model loaded without verifying its checksums) are a
        ``ModelFormatError`` naming the file and the row, as any other damage is."""
        try:
            record = json.loads(text)
        except ValueError as error:
            record = error
        if not isinstance(record, dict):
            message = (
                f"{self._path}: {store.ARTICLES} of row {row} is not a record ({record}); the model is "
                "damaged: load it with verify=True to check every file, or rebuild it"
            )
            raise ModelFormatError(message)
        return record

    def all_metadata(self) -> list[dict[str, Any]]:
        """Every article's record (decoded once, on the first call that filters or fills)."""
        if self._metadata is None:
            self._metadata = [self._record(text, row) for row, text in enumerate(self._columns[3].to_list())]
        elif not isinstance(self._metadata, list):
            self._metadata = list(self._metadata)  # stored records decode on access: decode them once
        return self._metadata

    def link(
        self, row: int, score: float, rank: int, reason: str = "similar", *, similarity: float
    ) -> Neighbor:
        """The ``Neighbor`` a list shows for ``row``."""
        if self._metadata is not None:
            meta = self._metadata[row]
            title, date, url = meta.get("title") or "", meta.get("date"), meta.get("url")
        else:
            titles, dates, urls, _ = self._columns
            title, date, url = titles[row], dates[row] or None, urls[row] or None
        return Neighbor(
            article_id=self.id(row),
            score=score,
            rank=rank,
            title=title,
            date=date,
            url=url,
            reason=reason,
            similarity=similarity,
        )

    def links(self, rows: np.ndarray, scores: np.ndarray, similarities: np.ndarray) -> list[Neighbor]:
        """Links for rows, the scores they show and their similarities, in order (``-1`` padding
        skipped), ranked from 1."""
        triples = zip(
            np.asarray(rows).tolist(),
            np.asarray(scores).tolist(),
            np.asarray(similarities).tolist(),
            strict=True,
        )
        if self._metadata is not None:
            return [
                self.link(row, score, rank, similarity=similarity)
                for rank, (row, score, similarity) in enumerate(_kept(triples), 1)
            ]
        # The serving path: read straight from the string tables (this loop is most of a lookup's time).
        ids, (titles, dates, urls, _) = self._strings, self._columns
        return [
            Neighbor(
                article_id=ids[row],
                score=score,
                rank=rank,
                title=titles[row],
                date=dates[row] or None,
                url=urls[row] or None,
                similarity=similarity,
            )
            for rank, (row, score, similarity) in enumerate(_kept(triples), 1)
        ]


def _kept(triples: Iterable[tuple[int, float, float]]) -> Iterator[tuple[int, float, float]]:
    """The (row, score, similarity) triples of real rows (``-1`` pads a short list)."""
    return (triple for triple in triples if triple[0] >= 0)
