"""Cheap structural checks of a model's arrays, made when an array is first read.

A model opened with ``verify=False`` skips the SHA-256 pass, so a damaged file could otherwise reach
numpy as an absurd index pointer (a 512 TiB allocation) or an index past the end of an array. These
checks cost one pass over an array, far less than hashing it: shapes and kinds against the manifest's
counts, index pointers that start at 0 and never fall, and indices inside the table they point into.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .names import (
    HUBS,
    IDF,
    NEIGHBORS,
    QUERY_POSTINGS_INDPTR,
    QUERY_POSTINGS_ROWS,
    SCORES,
    SURFACE_FORMS,
    VECTOR_FORMS,
    VECTORS_DATA,
    VECTORS_INDICES,
    VECTORS_INDPTR,
)

__all__ = ["problem_of"]

_Check = Callable[[np.ndarray, Mapping[str, int]], str | None]


def _rows_of(count: str, *, ndim: int) -> _Check:
    def check(array: np.ndarray, counts: Mapping[str, int]) -> str | None:
        if array.ndim != ndim:
            return f"{array.ndim} dimensions where {ndim} are expected"
        if count in counts and array.shape[0] != counts[count]:
            return f"{array.shape[0]} rows where the manifest counts {counts[count]} {count}"
        return None

    return check


def _pointer(rows: str, total: str | None) -> _Check:
    """An index pointer: one more entry than ``rows``, from 0, never falling, ending at ``total``."""

    def check(array: np.ndarray, counts: Mapping[str, int]) -> str | None:
        if array.ndim != 1 or array.dtype.kind not in "iu":
            return "not a one-dimensional integer array"
        if rows in counts and array.shape[0] != counts[rows] + 1:
            return f"{array.shape[0]} entries where {counts[rows] + 1} are expected"
        if array.shape[0] and int(array[0]) != 0:
            return "does not start at 0"
        if array.shape[0] > 1 and bool(np.any(array[1:] < array[:-1])):
            return "falls somewhere (an index pointer never decreases)"
        if total is not None and total in counts and array.shape[0] and int(array[-1]) != counts[total]:
            return f"ends at {int(array[-1])} where the manifest counts {counts[total]} {total}"
        return None

    return check


def _entries(total: str) -> _Check:
    """As many entries as the manifest counts ``total``."""

    def check(array: np.ndarray, counts: Mapping[str, int]) -> str | None:
        if total in counts and array.size != counts[total]:
            return f"{array.size} entries where the manifest counts {counts[total]} {total}"
        return None

    return check


def _indices(bound: str, *, low: int = 0) -> _Check:
    """Integers in ``[low, counts[bound])``."""

    def check(array: np.ndarray, counts: Mapping[str, int]) -> str | None:
        if array.dtype.kind not in "iu":
            return "not an integer array"
        if array.size and bound in counts:
            smallest, largest = int(array.min()), int(array.max())
            if smallest < low or largest >= counts[bound]:
                return f"holds {smallest if smallest < low else largest}, outside [{low}, {counts[bound]})"
        return None

    return check


def _both(*checks: _Check) -> _Check:
    def check(array: np.ndarray, counts: Mapping[str, int]) -> str | None:
        return next((problem for one in checks if (problem := one(array, counts)) is not None), None)

    return check


def _floats(array: np.ndarray, counts: Mapping[str, int]) -> str | None:
    return None if array.dtype.kind == "f" else "not a float array"


_CHECKS: dict[str, _Check] = {
    NEIGHBORS: _both(_rows_of("articles", ndim=2), _indices("articles", low=-1)),
    SCORES: _both(_rows_of("articles", ndim=2), _floats),
    HUBS: _both(_rows_of("articles", ndim=1), _floats),
    IDF: _both(_rows_of("terms", ndim=1), _floats),
    VECTORS_INDPTR: _pointer("articles", "nonzeros"),
    VECTORS_INDICES: _both(_entries("nonzeros"), _indices("terms")),
    VECTORS_DATA: _both(_entries("nonzeros"), _floats),
    VECTOR_FORMS: _both(_entries("nonzeros"), _indices(SURFACE_FORMS)),
    QUERY_POSTINGS_INDPTR: _pointer("terms", None),
    QUERY_POSTINGS_ROWS: _indices("articles"),
}


def problem_of(name: str, array: np.ndarray, counts: Mapping[str, int]) -> str | None:
    """What is structurally wrong with the array ``name`` (None: nothing found, or no check for it).

    ``counts`` are the manifest's, plus the rows of the surface-form table under its name."""
    check = _CHECKS.get(name)
    return None if check is None else check(array, counts)
