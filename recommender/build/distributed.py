"""Running the all-pairs tiles on a Dask distributed cluster (the optional ``dask`` extra).

The tile plan (the matrix cut into row blocks) is sent to every worker once; each tile is one task
that returns its candidate neighbours; the results are merged here exactly as a local build merges
them, so the lists are identical. Dask is imported only when a scheduler is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..types import InvalidParameterError
from .neighbors import TileMapper
from .tiles import Found, TilePlan

__all__ = ["dask_mapper"]

_INSTALL = "pip install 'recommender[dask]'"
#: How long to wait for a scheduler address to answer.
CONNECT_TIMEOUT = "10s"


def dask_mapper(scheduler: Any) -> TileMapper:
    """A tile mapper for ``top_k`` that runs on ``scheduler``: an address or a ``dask.distributed.Client``.

    Examples
    --------
    >>> Recommender().fit(articles, scheduler="tcp://127.0.0.1:8786")  # doctest: +SKIP
    """
    try:
        from dask.distributed import Client, as_completed
    except ImportError as error:
        message = (
            f"a Dask scheduler was given but Dask is not installed ({error}); install it with: {_INSTALL}"
        )
        raise InvalidParameterError(message) from None
    if isinstance(scheduler, Client):
        client, owned = scheduler, False
    elif isinstance(scheduler, str) and scheduler.strip():
        try:
            client, owned = Client(scheduler, timeout=CONNECT_TIMEOUT), True
        except (OSError, TimeoutError) as error:
            message = (
                f"cannot reach the Dask scheduler at {scheduler!r} ({error}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or leave scheduler unset"
            )
            raise InvalidParameterError(message) from None
    else:
        message = (
            f"scheduler must be an address such as 'tcp://host:8786' or a dask Client, got {scheduler!r}"
        )
        raise InvalidParameterError(message)

    def run(plan: TilePlan, pairs: list[tuple[int, int]], width: int) -> Iterator[Found]:
        try:
            shared = client.scatter(plan, broadcast=True)
            futures = [client.submit(_tile, shared, pair, width, pure=False) for pair in pairs]
            for future in as_completed(futures):
                found: Found = future.result()
                future.release()
                yield found
        finally:
            if owned:
                client.close()

    return run


def _tile(plan: TilePlan, pair: tuple[int, int], width: int) -> Found:
    """One task: the candidates of one tile (runs on a worker)."""
    return plan.candidates(pair, width)
