"""Arrays written piece by piece: a model too large for the writing process is saved without ever being
held whole (a cluster build gathers each piece from its workers as the file is written)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import prod
from typing import IO

import numpy as np

from ..types import RecommenderError

__all__ = ["Pieces", "write_npy"]


@dataclass(frozen=True)
class Pieces:
    """An array given as its dtype, its shape and a function yielding its pieces in order (C order: the
    pieces' elements, one after the other, fill the array); the pieces are asked for once per save."""

    dtype: np.dtype
    shape: tuple[int, ...]
    pieces: Callable[[], Iterable[np.ndarray]]


def write_npy(handle: IO[bytes], array: np.ndarray | Pieces) -> None:
    """``array`` as a ``.npy`` file on ``handle``: what ``np.save`` writes, from pieces too."""
    if isinstance(array, np.ndarray):
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
        return
    dtype = np.dtype(array.dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": array.shape}
    np.lib.format.write_array_header_1_0(handle, header)
    expected, written = prod(array.shape), 0
    for piece in array.pieces():
        piece = np.ascontiguousarray(piece, dtype=dtype)
        written += piece.size
        if written > expected:
            break
        handle.write(piece.tobytes())
    if written != expected:
        message = (
            f"an array of shape {array.shape} was given {written} element(s) in pieces; nothing was published"
        )
        raise RecommenderError(message)
