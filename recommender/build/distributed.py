"""Running the all-pairs tiles on a Dask distributed cluster (the optional ``dask`` extra).

The tile plan (the matrix cut into row blocks) is sent to every worker once; each tile is one task
that returns its candidate neighbours; the results are merged here exactly as a local build merges
them, so the lists are identical. Dask is imported only when a scheduler is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..types import InvalidParameterError
from .tiles import Found, TilePlan

__all__ = ["DaskMapper", "dask_mapper"]

_INSTALL = "pip install 'recommender[dask]'"
#: How long to wait for a scheduler address to answer.
CONNECT_TIMEOUT = "10s"


class DaskMapper:
    """A tile mapper for ``top_k`` on a Dask cluster, called once per language group of a build.

    A client it opened itself (from an address) lives until :meth:`close`, after the whole build: closing
    it after the first group, as an earlier version did, left the next group with a closed connection.
    """

    def __init__(self, client: Any, *, owned: bool) -> None:
        self.client, self._owned = client, owned

    def __call__(self, plan: TilePlan, pairs: list[tuple[int, int]], width: int) -> Iterator[Found]:
        from dask.distributed import as_completed

        shared = self.client.scatter(plan, broadcast=True)
        try:
            futures = [self.client.submit(_tile, shared, pair, width, pure=False) for pair in pairs]
            for future in as_completed(futures):
                found: Found = future.result()
                future.release()
                yield found
        finally:
            shared.release()  # the next group's plan replaces this one on every worker

    def workers(self) -> int:
        """How many workers the cluster has now (at least 1)."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def map_chunks(self, function: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        """``[function(task) for task in tasks]`` on the workers, in order (each task sent once)."""
        futures = self.client.map(function, tasks, pure=False)
        try:
            results: list[Any] = self.client.gather(futures)
        finally:
            for future in futures:
                future.release()
        return results

    def close(self) -> None:
        """Close the client if this mapper opened it (a caller's own client stays open)."""
        if self._owned:
            self.client.close()


def dask_mapper(scheduler: Any) -> DaskMapper:
    """A tile mapper for ``top_k`` that runs on ``scheduler``: an address or a ``dask.distributed.Client``;
    :meth:`DaskMapper.close` it after the build.

    Examples
    --------
    >>> Recommender().fit(articles, scheduler="tcp://127.0.0.1:8786")  # doctest: +SKIP
    """
    try:
        from dask.distributed import Client
    except ImportError as error:
        message = (
            f"a Dask scheduler was given but Dask is not installed ({error}); install it with: {_INSTALL}"
        )
        raise InvalidParameterError(message) from None
    if isinstance(scheduler, Client):
        return DaskMapper(scheduler, owned=False)
    if isinstance(scheduler, str) and scheduler.strip():
        try:
            return DaskMapper(Client(scheduler, timeout=CONNECT_TIMEOUT), owned=True)
        except ValueError as error:  # an address Dask cannot parse ("missing port number")
            message = f"scheduler must be an address such as 'tcp://host:8786', got {scheduler!r} ({error})"
            raise InvalidParameterError(message) from None
        except (OSError, TimeoutError) as error:
            message = (
                f"cannot reach the Dask scheduler at {scheduler!r} ({error}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or leave scheduler unset"
            )
            raise InvalidParameterError(message) from None
    message = f"scheduler must be an address such as 'tcp://host:8786' or a dask Client, got {scheduler!r}"
    raise InvalidParameterError(message)


def _tile(plan: TilePlan, pair: tuple[int, int], width: int) -> Found:
    """One task: the candidates of one tile (runs on a worker)."""
    return plan.candidates(pair, width)
