"""How the commands print: link lists, skipped records and evaluation reports side by side."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from ..text.printable import json_escaped, printable
from ..types import Neighbor

__all__ = ["print_comparison", "print_json", "print_links", "print_reports", "report_skipped", "stages"]

_SHOWN_SKIPS = 10

#: The rows of an evaluation report, in print order: (key in ``Report.to_dict()``, caption).
_REPORT_ROWS = (
    ("n", "articles scored"),
    ("k", "k"),
    ("precision_at_k", "precision@k"),
    ("recall_at_k", "recall@k"),
    ("ndcg_at_k", "nDCG@k"),
    ("mrr", "MRR"),
    ("pearson", "Pearson (judgments)"),
    ("spearman", "Spearman (judgments)"),
    ("auc", "ROC AUC (judgments)"),
    ("coverage", "coverage"),
    ("max_in_degree", "max in-degree"),
    ("gini_in_degree", "Gini of in-degrees"),
    ("intra_list_similarity", "intra-list similarity"),
    ("hidden_duplicates", "near-duplicates hidden"),
    ("seconds", "build seconds"),
)
#: The rows of statistics of judgments: shown as n/a when a run with judgments could not define them.
_JUDGED = frozenset({"pearson", "spearman", "auc"})


def print_json(data: Any, *, strict: bool = False) -> None:
    """``data`` as indented JSON, non-ASCII text kept readable; ``strict``: a NaN or infinite number
    (which JSON cannot hold) is written as null, never as the ``NaN`` JSON readers refuse."""
    if strict:
        data = _finite(data)
    print(json_escaped(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=not strict)))


def _finite(data: Any) -> Any:
    """``data`` with each NaN or infinite float replaced by None, in nested dicts and lists too."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def print_links(links: list[Neighbor], *, as_json: bool) -> None:
    """One link a line (rank, score, date, id, title, reason; shared words with --explain), or JSON."""
    if as_json:
        print_json([link.to_dict() for link in links])
        return
    if not links:
        print("no similar posts")
        return
    for link in links:
        reason = "" if link.reason == "similar" else f"  [{link.reason}]"
        date = link.date or ""
        line = f"{link.rank:>3}  {link.score:.3f}  {date:<10}  {link.article_id}  {link.title}{reason}"
        print(printable(line))
        if link.terms is not None:
            shown = ", ".join(f"{shared.term} {shared.share:.0%}" for shared in link.terms)
            words = shown or "(no shared words)"
            print(printable(f"{'':>5}similarity {link.similarity:.3f}, shared: {words}"))


def stages(shown: bool) -> Callable[[str], AbstractContextManager[Callable[[int, int], None] | None]]:
    """A stage reporter for long commands: each stage's name while it runs, then its time, on standard
    error (``shown``: a terminal and no ``--quiet``); nothing is written otherwise."""

    @contextmanager
    def stage(name: str) -> Iterator[Callable[[int, int], None] | None]:
        if not shown:
            yield None
            return
        print(f"  {name} …", end="\r", file=sys.stderr, flush=True)
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            """A stage's progress line: done of total, rate and time left."""
            seconds = time.perf_counter() - started
            rate = done / seconds if seconds > 0 else 0.0
            left = f", {(total - done) / rate:.0f} s left" if rate > 0 and done < total else ""
            print(
                f"  {name} {done:,}/{total:,} ({rate:.1f}/s{left}) …",
                end="\r",
                file=sys.stderr,
                flush=True,
            )

        yield progress
        print(f"  {name:<12}{time.perf_counter() - started:8.1f} s", file=sys.stderr, flush=True)

    return stage


def report_skipped(skipped: Sequence[Any]) -> None:
    """Each record left out (the first few when there are many), then counts of invalid and left-out."""
    for problem in skipped[:_SHOWN_SKIPS]:
        print(printable(f"skipped: {problem}"), file=sys.stderr)
    if len(skipped) > _SHOWN_SKIPS:
        print(f"skipped: … and {len(skipped) - _SHOWN_SKIPS} more", file=sys.stderr)
    invalid = sum(1 for problem in skipped if problem.invalid)
    if invalid:
        print(f"skipped {invalid} invalid record(s)", file=sys.stderr)
    if len(skipped) - invalid:
        print(f"left out {len(skipped) - invalid} non-article record(s) (drafts, pages…)", file=sys.stderr)


def print_comparison(rows: dict[str, dict[str, Any]], scored: dict[str, int] | None = None) -> None:
    """Two runs compared article by article (``analysis.compare.compare`` as records by metric; ``scored``:
    how many articles A and B scored, and both). A p-value under 0.001 shows as ``<0.001``: with R
    resamples it is at least 1/(R + 1), never 0."""
    captions = dict(_REPORT_ROWS)
    count = int(next(iter(rows.values()))["n"]) if rows else 0
    if scored and not scored["a"] == scored["b"] == scored["shared"]:
        print(
            f"A scored {scored['a']:,} articles and B {scored['b']:,}; {scored['shared']:,} are in both, "
            "and only those are paired"
        )
    print(f"paired over {count:,} articles: B − A, its 95% bootstrap interval, randomization test p")
    print(f"{'':<24}{'A':>8}{'B':>8}{'B − A':>10}   {'95% interval':<22}{'p':>7}")
    for metric, row in rows.items():
        interval = f"[{row['low']:+.4f}, {row['high']:+.4f}]"
        means = f"{row['a']:>8.3f}{row['b']:>8.3f}{row['difference']:>+10.4f}"
        p_value = "<0.001" if row["p_value"] < 0.001 else f"{row['p_value']:.3f}"
        print(f"{captions.get(metric, metric):<24}{means}   {interval:<22}{p_value:>7}")


def print_reports(runs: list[dict[str, Any]], names: list[str]) -> None:
    """Evaluation reports (``Report.to_dict()``) in columns headed by ``names`` (control characters
    escaped); rows no run has are left out, and a value a run lacks or could not define shows as n/a."""
    width = max(12, *(len(printable(name)) for name in names))
    print(f"{'':<24}" + "".join(f"{printable(name):>{width + 2}}" for name in names))
    for key, caption in _REPORT_ROWS:
        judged = any(run.get("judgments") for run in runs)  # a statistic of judgments may be undefined
        if all(run.get(key) is None for run in runs) and not (judged and key in _JUDGED):
            continue
        cells = []
        for run in runs:
            value = run.get(key)
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                value = "n/a"
            cells.append(
                f"{value:>{width + 2}.3f}" if isinstance(value, float) else f"{value!s:>{width + 2}}"
            )
        print(f"{caption:<24}" + "".join(cells))
