"""The server's counters in the Prometheus text format: requests by endpoint and status, a latency
histogram per endpoint, and the generation answering."""

from __future__ import annotations

import threading
from collections import Counter

from ..serve.index import Index

__all__ = ["Metrics"]

#: Upper bounds (seconds) of the latency histogram's buckets.
_TOTALS = {
    "events_stored": "Readers' events stored.",
    "events_rejected": "Readers' events rejected as invalid (422).",
    "events_limited": "Event batches refused by the rate limit (429).",
    "events_duplicate_batches": "Event batches sent again and not stored twice.",
}
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Counts of answered requests, safe to update from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, int]] = Counter()
        self._latency: dict[str, list[float]] = {}  # per endpoint: a count per bucket, +Inf, then the sum
        self._totals: Counter[str] = Counter()

    def add(self, name: str, amount: int) -> None:
        """Add ``amount`` to the counter ``recommender_{name}_total`` (events stored, rejected…)."""
        with self._lock:
            self._totals[name] += amount

    def count(self, name: str, status: int, seconds: float) -> None:
        """One request to endpoint ``name`` answered with ``status`` in ``seconds``."""
        with self._lock:
            self._requests[(name, status)] += 1
            counts = self._latency.setdefault(name, [0.0] * (len(BUCKETS) + 2))
            for position, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[position] += 1
            counts[-2] += 1
            counts[-1] += seconds

    def text(self, index: Index) -> str:
        """Everything counted so far, and ``index``'s generation and size, as Prometheus text."""
        lines = [
            "# HELP recommender_requests_total Requests answered, by endpoint and status.",
            "# TYPE recommender_requests_total counter",
        ]
        with self._lock:
            requests = dict(self._requests)
            latency = {name: list(counts) for name, counts in self._latency.items()}
            totals = dict(self._totals)
        for (name, status), count in sorted(requests.items()):
            lines.append(f'recommender_requests_total{{endpoint="{name}",status="{status}"}} {count}')
        lines += [
            "# HELP recommender_request_seconds Time to answer a request, by endpoint.",
            "# TYPE recommender_request_seconds histogram",
        ]
        for name, counts in sorted(latency.items()):
            for bound, below in zip((*map(str, BUCKETS), "+Inf"), counts, strict=False):
                lines.append(
                    f'recommender_request_seconds_bucket{{endpoint="{name}",le="{bound}"}} {below:.0f}'
                )
            lines.append(f'recommender_request_seconds_sum{{endpoint="{name}"}} {counts[-1]:.6f}')
            lines.append(f'recommender_request_seconds_count{{endpoint="{name}"}} {counts[-2]:.0f}')
        for name, total in sorted(totals.items()):
            lines += [
                f"# HELP recommender_{name}_total {_TOTALS.get(name, name)}",
                f"# TYPE recommender_{name}_total counter",
                f"recommender_{name}_total {total}",
            ]
        lines += [
            "# HELP recommender_model_info The generation answering now.",
            "# TYPE recommender_model_info gauge",
            f'recommender_model_info{{generation="{index.generation or ""}"}} 1',
            "# HELP recommender_model_articles Articles in the generation answering now.",
            "# TYPE recommender_model_articles gauge",
            f"recommender_model_articles {len(index)}",
        ]
        return "\n".join(lines) + "\n"
