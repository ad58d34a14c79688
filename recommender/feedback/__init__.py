"""Proof that the links work: readers' impressions and clicks, CTR reports, A/B tests and offline replay.

``recommender serve --events DB`` takes events from pages (:mod:`.events`); :func:`report` reads them
into tables (:mod:`.report`, with the statistics of :mod:`.stats`); :func:`replay` scores a candidate
model against the logged clicks before it is served.
"""

from __future__ import annotations

from .events import Event, EventsError, EventStore, InvalidEventsError, assign_variant, validate_batch
from .replay import Replay, replay
from .report import FeedbackReport, report
from .stats import Comparison, Rate, compare

__all__ = [
    "Comparison",
    "Event",
    "EventStore",
    "EventsError",
    "FeedbackReport",
    "InvalidEventsError",
    "Rate",
    "Replay",
    "assign_variant",
    "compare",
    "replay",
    "report",
    "validate_batch",
]
