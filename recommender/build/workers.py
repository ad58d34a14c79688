"""Work spread over worker processes that see this process's memory, so inputs are never copied to them.

On systems that can fork, the workers are forked from this process after it sets the shared inputs
aside: a worker reads the articles where they already are (no pickling, no import, no second copy), and
only each task's small description and its result cross between processes. The pool is closed when the
work is done, so no idle worker keeps its memory. Elsewhere (no ``fork``), joblib's processes are used,
with the inputs sent to them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from math import ceil
from typing import Any, TypeVar

__all__ = ["run_in_workers", "spans"]

_Task = TypeVar("_Task")
_Result = TypeVar("_Result")

# What the forked workers run: (function, shared inputs), set just before the pool starts.
_work: tuple[Callable[[Any, Any], Any], Any] | None = None


def spans(count: int, jobs: int, *, most: int | None = None) -> list[tuple[int, int]]:
    """``[start, stop)`` spans cutting ``count`` items into ``jobs`` near-equal parts, none over ``most``."""
    size = max(1, ceil(count / max(jobs, 1)))
    size = size if most is None else min(most, size)
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def run_in_workers(
    function: Callable[[Any, _Task], _Result],
    shared: Any,
    tasks: Sequence[_Task],
    jobs: int,
    *,
    meanwhile: Callable[[], object] | None = None,
) -> list[_Result]:
    """``[function(shared, task) for task in tasks]``, computed by ``jobs`` worker processes, in order;
    ``meanwhile()`` runs in this process while they work (the workers never see what it does)."""
    global _work
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not on Linux
        from joblib import Parallel, delayed

        if meanwhile is not None:
            meanwhile()
        results: list[_Result] = Parallel(n_jobs=jobs)(delayed(function)(shared, task) for task in tasks)
        return results
    _work = (function, shared)
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(tasks))) as pool:
            pending = pool.map_async(_run, tasks, chunksize=1)
            if meanwhile is not None:
                meanwhile()
            return pending.get()
    finally:
        _work = None


def _run(task: Any) -> Any:
    """One task, in a forked worker."""
    assert _work is not None
    function, shared = _work
    return function(shared, task)
