"""Link-graph audit: who is never recommended, who is everywhere, and what changed since an older model.

Works on the lists a model actually gives (same ``k``, controls and overrides as an export), with numpy
and the standard library only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ..serve.index import Index
from ..serve.overrides import Overrides
from ..types import InvalidParameterError

__all__ = ["Audit", "ListChange", "audit_links", "gini"]


@dataclass(frozen=True)
class ListChange:
    """How one article's list differs from the older model's."""

    article_id: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Audit:
    """The audit report; ``to_dict`` is JSON-ready and ``to_text`` is for people."""

    articles: int
    lists: int
    links: int
    orphans: tuple[str, ...]
    most_exposed: tuple[tuple[str, int], ...]
    in_degree: dict[str, float]
    gini: float
    fill_share: float
    reasons: dict[str, int]
    against: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON data."""
        data = asdict(self)
        data["orphans"] = list(self.orphans)
        data["most_exposed"] = [{"article_id": a, "lists": n} for a, n in self.most_exposed]
        return data

    def to_text(self) -> str:
        """A short human-readable report."""
        lines = [
            f"articles: {self.articles}  lists: {self.lists}  links: {self.links}",
            f"orphans (never recommended): {len(self.orphans)} "
            f"({_percent(len(self.orphans), self.articles)})",
        ]
        lines += [f"  {article_id}" for article_id in self.orphans[:10]]
        if len(self.orphans) > 10:
            lines.append(f"  ... and {len(self.orphans) - 10} more")
        degree = self.in_degree
        lines.append(
            f"in-degree: min {degree['min']:g}, median {degree['median']:g}, mean {degree['mean']:.2f}, "
            f"p90 {degree['p90']:g}, max {degree['max']:g}; Gini {self.gini:.3f}"
        )
        lines.append("most exposed:")
        lines += [f"  {count:>5}  {article_id}" for article_id, count in self.most_exposed]
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.reasons.items()))
        lines.append(f"lists with a fill link: {self.fill_share:.1%}  (links by reason: {reasons})")
        if self.against is not None:
            other = self.against
            lines.append(
                f"against {other['model']}: {other['links_added']} links added, {other['links_removed']} "
                f"removed, {other['lists_changed']} of {other['lists_compared']} lists changed; "
                f"{len(other['articles_new'])} new and {len(other['articles_gone'])} gone articles"
            )
            lines.append("lists that changed most (added/removed):")
            for change in other["changed_most"]:
                lines.append(f"  +{len(change['added'])}/-{len(change['removed'])}  {change['article_id']}")
        return "\n".join(lines)


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "0%"


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 when equal, towards 1 when one holds everything."""
    data = np.sort(np.asarray(values, dtype=np.float64))
    total = data.sum()
    if len(data) == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, len(data) + 1)
    return float((2.0 * (ranks * data).sum()) / (len(data) * total) - (len(data) + 1) / len(data))


def audit_links(
    index: Index,
    *,
    against: Index | None = None,
    k: int = 8,
    top: int = 10,
    overrides: Overrides | None = None,
    **controls: Any,
) -> Audit:
    """Audit the lists ``index`` gives (optionally compared with the older model ``against``)."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        message = f"top must be a positive integer, got {top!r}"
        raise InvalidParameterError(message)
    lists = dict(index.related_many(k=k, overrides=overrides, **controls))
    degree: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    with_fill = 0
    for related in lists.values():
        degree.update(link.article_id for link in related)
        reasons.update(link.reason for link in related)
        with_fill += any(link.reason.startswith("fill:") for link in related)
    counts = np.array([degree.get(article_id, 0) for article_id in index], dtype=np.int64)
    orphans = tuple(article_id for article_id in index if degree.get(article_id, 0) == 0)
    ranked = sorted(degree.items(), key=lambda item: (-item[1], index.row(item[0])))[:top]
    comparison = None
    if against is not None:
        old_lists = dict(against.related_many(k=k, overrides=_known(overrides, against), **controls))
        comparison = _compare(lists, old_lists, index, against, top)
    return Audit(
        articles=len(index),
        lists=len(lists),
        links=int(counts.sum()),
        orphans=orphans,
        most_exposed=tuple(ranked),
        in_degree={
            "min": float(counts.min()) if len(counts) else 0.0,
            "median": float(np.median(counts)) if len(counts) else 0.0,
            "mean": float(counts.mean()) if len(counts) else 0.0,
            "p90": float(np.percentile(counts, 90)) if len(counts) else 0.0,
            "max": float(counts.max()) if len(counts) else 0.0,
        },
        gini=gini(counts),
        fill_share=with_fill / len(lists) if lists else 0.0,
        reasons=dict(sorted(reasons.items())),
        against=comparison,
    )


def _known(overrides: Overrides | None, index: Index) -> Overrides | None:
    """The overrides for an older model: ids it does not hold yet are expected, so never an error."""
    if overrides is None:
        return None
    return replace(overrides, lenient=True) if overrides.ids() - set(index) else overrides


def _compare(
    new: dict[str, list[Any]], old: dict[str, list[Any]], new_index: Index, old_index: Index, top: int
) -> dict[str, Any]:
    changes: list[ListChange] = []
    for article_id, related in new.items():
        if article_id not in old:
            continue
        now = [link.article_id for link in related]
        before = [link.article_id for link in old[article_id]]
        added = tuple(a for a in now if a not in set(before))
        removed = tuple(a for a in before if a not in set(now))
        changes.append(ListChange(article_id, added, removed))
    changed = [change for change in changes if change.added or change.removed]
    most = sorted(changed, key=lambda c: -(len(c.added) + len(c.removed)))[:top]
    return {
        "model": str(old_index.path),
        "lists_compared": len(changes),
        "lists_changed": len(changed),
        "links_added": sum(len(c.added) for c in changes),
        "links_removed": sum(len(c.removed) for c in changes),
        "articles_new": sorted(set(new_index) - set(old_index)),
        "articles_gone": sorted(set(old_index) - set(new_index)),
        "changed_most": [asdict(change) for change in most],
        "per_article": {c.article_id: {"added": list(c.added), "removed": list(c.removed)} for c in changed},
    }
