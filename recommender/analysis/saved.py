"""Checks on a saved evaluation report (what ``recommender evaluate --json`` wrote) as it is read back.

A report edited by hand, cut short or written by something else is refused with one message naming the
file and the field, rather than failing later inside pandas or the comparison with a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..types import InvalidParameterError

__all__ = ["checked_fields", "checked_per_article"]

#: Numeric fields of a report, besides the metrics; None allowed for the judgment statistics only.
_NUMBERS = ("coverage", "gini_in_degree", "intra_list_similarity", "seconds")
_COUNTS = ("n", "k", "max_in_degree", "articles", "judgments", "judgments_left_out", "excluded")
_OPTIONAL = ("pearson", "spearman", "auc")


def _wrong(source: str, problem: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"{source}: {problem}; not a report as recommender evaluate --json writes it (evaluate again)"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_fields(data: Mapping[str, Any], source: str, metrics: Sequence[str]) -> dict[str, Any]:
    """``data``'s top-level fields checked (numbers where numbers belong, the label a string); undefined
    judgment statistics (NaN in reports of older versions) become None."""
    fields = dict(data)
    for name in (*metrics, *_NUMBERS, *_COUNTS):
        if name in fields and not _is_number(fields[name]):
            raise _wrong(source, f"{name!r} must be a number, got {fields[name]!r}")
    for name in _COUNTS:
        if name in fields and not float(fields[name]).is_integer():
            raise _wrong(source, f"{name!r} must be a whole number, got {fields[name]!r}")
    if fields["k"] < 1:
        raise _wrong(source, f"'k' must be at least 1, got {fields['k']!r}")
    for name in _OPTIONAL:
        value = fields.get(name)
        if value is not None and not _is_number(value):
            raise _wrong(source, f"{name!r} must be a number or null, got {value!r}")
        if value is not None and not math.isfinite(value):
            fields[name] = None
    if not isinstance(fields.get("label", ""), str):
        raise _wrong(source, f"'label' must be a string, got {fields['label']!r}")
    for name in ("by_label", "settings", "per_article"):
        if not isinstance(fields.get(name) or {}, Mapping):
            raise _wrong(source, f"{name!r} must be an object")
    for value, scores in dict(fields.get("by_label") or {}).items():
        wanted = ("n", *metrics)
        if not isinstance(scores, Mapping) or set(scores) != set(wanted):
            raise _wrong(source, f"by_label {value!r} must hold exactly {', '.join(wanted)}")
        bad = [name for name in wanted if not _is_number(scores[name])]
        if bad:
            raise _wrong(source, f"by_label {value!r}: {bad[0]!r} must be a number, got {scores[bad[0]]!r}")
    return fields


def checked_per_article(per_article: Mapping[str, Any], source: str, metrics: Sequence[str]) -> None:
    """Refuse per-article values that are not an ``id`` list and one list of numbers per metric, all of
    one length (empty means a report saved before they were kept)."""
    if not per_article:
        return
    missing = [name for name in ("id", *metrics) if name not in per_article]
    if missing:
        raise _wrong(source, f"'per_article' has no {', '.join(missing)}")
    lists = {name: per_article[name] for name in ("id", *metrics)}
    for name, values in lists.items():
        if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
            raise _wrong(source, f"'per_article' {name!r} must be a list")
    lengths = {name: len(values) for name, values in lists.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {length}" for name, length in lengths.items())
        raise _wrong(source, f"the 'per_article' lists differ in length ({shown})")
    for position, article_id in enumerate(lists["id"], start=1):
        if not isinstance(article_id, str):
            raise _wrong(source, f"'per_article' id {position} must be a string, got {article_id!r}")
    for name in metrics:
        for article_id, value in zip(lists["id"], lists[name], strict=True):
            if not _is_number(value) or not math.isfinite(value):
                problem = f"'per_article' {name!r} of {article_id!r} must be a number, got {value!r}"
                raise _wrong(source, problem)
