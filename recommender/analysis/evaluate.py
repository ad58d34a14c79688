"""Measuring related-article quality: label agreement, graded judgments and link-graph health.

``evaluate(articles, settings, label="category", k=10)`` builds a model in memory and scores its top-k
lists. A neighbour is relevant to an article when their labels intersect (a label is a string or a list
of strings). Articles without a label are indexed and can be neighbours, but are never scored, and an
unlabelled neighbour counts as not relevant.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..settings import check_k
from ..sources.corpus import Articles, load_articles
from ..types import InvalidParameterError
from .judgments import judgment_pairs, judgment_scores, roc_auc
from .saved import checked_fields, checked_per_article

if TYPE_CHECKING:
    from ..build.pipeline import Stage

__all__ = [
    "METRICS",
    "Report",
    "Scores",
    "evaluate",
    "evaluate_model",
    "graph_health",
    "judgment_scores",
    "label_scores",
    "label_values",
    "roc_auc",
]

#: The per-article ranking metrics, in the order ``label_values`` gives them.
METRICS = ("precision_at_k", "recall_at_k", "ndcg_at_k", "mrr")


@dataclass(frozen=True)
class Scores:
    """Mean ranking metrics over ``n`` scored articles."""

    n: int
    precision_at_k: float
    recall_at_k: float
    ndcg_at_k: float
    mrr: float


@dataclass(frozen=True)
class Report:
    """One evaluation run: metrics, link-graph health, judgments (when present) and build time.

    ``by_label`` maps each label value to the metrics of the articles carrying it. ``pearson``,
    ``spearman`` and ``auc`` are None where undefined (constant scores, or every pair on one side of the
    threshold). ``judgments_left_out`` counts judged pairs with an article left out by ``exclude``.
    """

    n: int
    k: int
    precision_at_k: float
    recall_at_k: float
    ndcg_at_k: float
    mrr: float
    coverage: float
    max_in_degree: int
    gini_in_degree: float
    intra_list_similarity: float
    seconds: float
    articles: int = 0
    label: str = "category"
    by_label: Mapping[str, Scores] = field(default_factory=dict)
    pearson: float | None = None
    spearman: float | None = None
    auc: float | None = None
    judgments: int = 0
    judgments_left_out: int = 0
    excluded: int = 0
    hidden_duplicates: int = 0
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: Each scored article's id and metric values (lists by key: ``id`` and the ``METRICS``).
    per_article: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (what ``recommender evaluate --json`` prints); judgment keys only when scored."""
        data = asdict(self)
        if not self.judgments:
            for name in ("pearson", "spearman", "auc"):
                data.pop(name)
        data["by_label"] = {value: asdict(scores) for value, scores in self.by_label.items()}
        data["settings"] = dict(self.settings)
        data["per_article"] = {key: list(values) for key, values in self.per_article.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "report") -> Report:
        """A report from :meth:`to_dict`'s output (``recommender evaluate --json``); ``source`` names it
        in errors."""
        known = {name for name in cls.__dataclass_fields__}
        missing = sorted({"n", "k", *METRICS} - set(data))
        if missing:
            message = f"{source}: not an evaluation report (no {', '.join(missing)})"
            raise InvalidParameterError(message)
        fields = {key: value for key, value in checked_fields(data, source, METRICS).items() if key in known}
        checked_per_article(fields.get("per_article") or {}, source, METRICS)
        fields["by_label"] = {
            value: Scores(**scores) for value, scores in dict(data.get("by_label") or {}).items()
        }
        return cls(**fields)

    def per_article_frame(self) -> pd.DataFrame:
        """Each scored article's P@k, recall@k, nDCG@k and MRR, indexed by id (what the means average)."""
        checked_per_article(self.per_article, "report", METRICS)
        if not self.per_article:
            return pd.DataFrame(columns=list(METRICS), index=pd.Index([], name="id"), dtype=float)
        frame = pd.DataFrame({key: list(values) for key, values in self.per_article.items()})
        return frame.set_index("id")[list(METRICS)]

    def to_frame(self) -> pd.DataFrame:
        """Metrics as a DataFrame: an ``(all)`` row, then one row per label value (for notebooks)."""
        rows = [
            {"label": "(all)", **asdict(Scores(self.n, *_metric_values(self)))},
            *({"label": value, **asdict(scores)} for value, scores in sorted(self.by_label.items())),
        ]
        return pd.DataFrame(rows).set_index("label")


def _metric_values(report: Report) -> tuple[float, float, float, float]:
    return report.precision_at_k, report.recall_at_k, report.ndcg_at_k, report.mrr


def evaluate(
    articles: Articles,
    settings: Mapping[str, Any] | None = None,
    *,
    label: str = "category",
    k: int = 10,
    exclude: str | None = "duplicate_of",
    threshold: float | None = None,
    stage: Stage | None = None,
) -> Report:
    """Build a model on ``articles`` with ``settings`` in memory and score its top-``k`` lists.

    Parameters
    ----------
    articles: a path, DataFrame or dicts, as for ``Recommender.fit``.
    settings: ``Recommender`` settings (``k`` is raised to at least the evaluated ``k``).
    label: the field holding each article's label (a string or a list of strings).
    k: the length of the related lists scored.
    exclude: a field; articles where it is set (BBC's ``duplicate_of``) are left out before building.
    threshold: judgment score at or above which a pair counts as related for the AUC
        (default: halfway between the lowest and highest judgment score).
    stage: wraps each build stage, as for ``Recommender.fit``.
    """
    from ..recommender import Recommender

    k = check_k(k)
    frame = load_articles(articles)
    if label not in frame.columns:
        message = (
            f"no field {label!r} in the articles; choose one with --label (fields: {list(frame.columns)})"
        )
        raise InvalidParameterError(message)
    # A field named for exclude must exist, as the label must; only the default (BBC's) may be absent.
    if exclude and exclude not in frame.columns and exclude != "duplicate_of":
        message = (
            f"no field {exclude!r} in the articles to leave out by; choose one with --exclude, or '' to keep "
            f"all (fields: {list(frame.columns)})"
        )
        raise InvalidParameterError(message)
    frame, left_out, left_out_judgments = _leave_out(frame, exclude)
    _check_scorable(frame, label)
    chosen = dict(settings or {})
    chosen["k"] = max(k, int(chosen.get("k", k)))
    started = time.perf_counter()
    model = Recommender(**chosen).fit(frame, stage=stage)
    seconds = time.perf_counter() - started
    report = evaluate_model(model, frame, label=label, k=k, threshold=threshold, excluded=left_out)
    return Report(
        **{
            **asdict(report),
            "by_label": report.by_label,
            "seconds": seconds,
            "excluded": len(left_out),
            "judgments_left_out": report.judgments_left_out + left_out_judgments,
            "settings": model.settings.to_dict(),
            "per_article": report.per_article,
        }
    )


def _leave_out(frame: pd.DataFrame, exclude: str | None) -> tuple[pd.DataFrame, frozenset[str], int]:
    """``frame`` without the articles whose ``exclude`` field is set, their ids, and how many judgments
    those articles made (left out with them)."""
    if not exclude or exclude not in frame.columns:
        return frame, frozenset(), 0
    dropped = frame[exclude].map(_is_set).astype(bool)
    if dropped.all():
        message = f"every article has {exclude!r} set; nothing left to evaluate (--exclude '' keeps them all)"
        raise InvalidParameterError(message)
    judged = frame.loc[dropped, "judgments"] if "judgments" in frame.columns else pd.Series([], dtype=object)
    made = sum(len(judgments) for judgments in judged if isinstance(judgments, list))
    ids = frozenset(str(article_id) for article_id in frame.loc[dropped, "id"])
    return frame[~dropped].reset_index(drop=True), ids, made


def _is_set(value: Any) -> bool:
    """Whether an ``exclude`` field holds something: None, NaN, False, 0, 0.0 and blank text are unset."""
    if isinstance(value, str):
        return bool(value.strip())
    if pd.api.types.is_scalar(value):
        return not pd.isna(value) and bool(value)
    return bool(_label_set(value))


def _check_scorable(frame: pd.DataFrame, label: str) -> None:
    """Refuse a label no two articles share: every article would be left unscored (all metrics 0)."""
    counts = Counter(value for labels in frame[label] for value in _label_set(labels))
    if not counts:
        message = f"no article has a {label!r} value; nothing to score: choose another --label"
        raise InvalidParameterError(message)
    if max(counts.values()) < 2:
        message = (
            f"no article shares a {label!r} value with another ({len(counts)} distinct values), so none "
            "can be scored: choose another --label"
        )
        raise InvalidParameterError(message)


def evaluate_model(
    model: Any,
    frame: pd.DataFrame,
    *,
    label: str = "category",
    k: int = 10,
    threshold: float | None = None,
    excluded: Collection[str] = (),
) -> Report:
    """Score a fitted ``Recommender`` whose rows are ``frame``'s rows (no build time measured).

    Judgments naming an ``excluded`` id (an article left out before building) are skipped and counted."""
    labels = [_label_set(value) for value in frame[label]]
    neighbors = np.asarray(model.neighbors)[:, :k]
    overall, by_label = label_scores(neighbors, labels, k=k)
    rows, values = label_values(neighbors, labels, k=k)
    ids = [str(model.ids[row]) for row in rows.tolist()]
    per_article = {"id": ids, **{name: values[:, column].tolist() for column, name in enumerate(METRICS)}}
    duplicates = getattr(model, "duplicates", {})
    hidden = [row for row, article_id in enumerate(model.ids) if article_id in duplicates]
    coverage, max_in_degree, gini = graph_health(neighbors, len(labels), hidden=hidden)
    intra = intra_list_similarity(*_ranking_rows(model), neighbors)
    pearson = spearman = auc = None
    count = skipped = 0
    if "judgments" in frame.columns:
        pairs, skipped = judgment_pairs(frame, model, frozenset(excluded))
        if pairs:
            count = len(pairs)
            pearson, spearman, auc = judgment_scores(
                [ours for ours, _ in pairs], [theirs for _, theirs in pairs], threshold=threshold
            )
    return Report(
        n=overall.n,
        k=k,
        precision_at_k=overall.precision_at_k,
        recall_at_k=overall.recall_at_k,
        ndcg_at_k=overall.ndcg_at_k,
        mrr=overall.mrr,
        coverage=coverage,
        max_in_degree=max_in_degree,
        gini_in_degree=gini,
        intra_list_similarity=intra,
        seconds=0.0,
        articles=len(labels),
        label=label,
        by_label=by_label,
        pearson=pearson,
        spearman=spearman,
        auc=auc,
        judgments=count,
        judgments_left_out=skipped,
        hidden_duplicates=len(hidden),
        per_article=per_article,
    )


def _label_set(value: Any) -> frozenset[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return frozenset()
    if isinstance(value, str):
        return frozenset([value.strip()]) if value.strip() else frozenset()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, Iterable):
        return frozenset(text for text in (str(item).strip() for item in value) if text)
    return frozenset([str(value).strip()])


def label_scores(
    neighbors: np.ndarray, labels: Sequence[frozenset[str]], *, k: int
) -> tuple[Scores, dict[str, Scores]]:
    """P@k, recall@k, nDCG@k and MRR over articles with a label and at least one other relevant article.

    ``neighbors`` holds row numbers (``-1`` for an empty slot); missing slots count as not relevant.
    Recall divides the hits by all other relevant articles; nDCG's ideal list has
    ``min(k, relevant)`` hits; MRR is the reciprocal rank of the first hit in the top ``k`` (0 if none).
    """
    rows, values = label_values(neighbors, labels, k=k)
    members = sorted({value for labelset in labels for value in labelset})
    by_label = {
        value: _mean_scores(values[[value in labels[row] for row in rows.tolist()]]) for value in members
    }
    return _mean_scores(values), {value: scores for value, scores in by_label.items() if scores.n}


def label_values(
    neighbors: np.ndarray, labels: Sequence[frozenset[str]], *, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each scored article's row and its P@k, recall@k, nDCG@k and MRR (one row of ``values`` each), as
    :func:`label_scores` averages them."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    rows: list[int] = []
    values: list[tuple[float, float, float, float]] = []
    relevant_count = _relevant_counts(labels)
    for row, labelset in enumerate(labels):
        total = relevant_count[row]
        if not labelset or total == 0:
            continue
        hits = np.array(
            [neighbor >= 0 and bool(labels[neighbor] & labelset) for neighbor in neighbors[row, :k].tolist()]
            + [False] * max(0, k - neighbors.shape[1]),
            dtype=bool,
        )
        found = int(hits.sum())
        ideal = float(discounts[: min(k, total)].sum())
        first = np.flatnonzero(hits)
        rows.append(row)
        values.append(
            (
                found / k,
                found / total,
                float(discounts[hits].sum()) / ideal,
                1.0 / (first[0] + 1) if first.size else 0.0,
            )
        )
    return np.asarray(rows, dtype=np.int64), np.asarray(values, dtype=np.float64).reshape(-1, len(METRICS))


def _relevant_counts(labels: Sequence[frozenset[str]]) -> list[int]:
    """For each article, how many other articles share one of its labels."""
    by_set: dict[frozenset[str], int] = {}
    for labelset in labels:
        if labelset:
            by_set[labelset] = by_set.get(labelset, 0) + 1
    counts: dict[frozenset[str], int] = {}
    for labelset in by_set:
        counts[labelset] = sum(size for other, size in by_set.items() if other & labelset) - 1
    return [counts.get(labelset, 0) if labelset else 0 for labelset in labels]


def _mean_scores(values: np.ndarray) -> Scores:
    if not len(values):
        return Scores(0, 0.0, 0.0, 0.0, 0.0)
    return Scores(len(values), *(float(value) for value in values.mean(axis=0)))


def graph_health(
    neighbors: np.ndarray, n_articles: int, *, hidden: Sequence[int] = ()
) -> tuple[float, int, float]:
    """Coverage (share of articles in at least one list), largest in-degree and Gini of in-degrees.

    ``hidden`` rows (near-duplicates kept out of lists on purpose) are left out of all three.
    """
    targets = neighbors[neighbors >= 0]
    degrees = np.bincount(targets, minlength=n_articles).astype(np.float64)
    degrees = np.delete(degrees, np.asarray(hidden, dtype=np.int64))
    if degrees.size == 0:
        return 0.0, 0, 0.0
    coverage = float((degrees > 0).mean())
    return coverage, int(degrees.max()), gini(degrees)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 when all equal, near 1 when one holds everything."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    count = ordered.size
    total = ordered.sum()
    if count == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, count + 1)
    return float((2.0 * (ranks * ordered).sum()) / (count * total) - (count + 1.0) / count)


def intra_list_similarity(vectors: sp.csr_matrix, dense: np.ndarray | None, neighbors: np.ndarray) -> float:
    """Mean pairwise similarity among the members of each related list, averaged over lists of 2 or more.

    A pair's similarity is the dot product of its rows: ``vectors`` (sparse) plus ``dense`` (or None)."""
    valid = neighbors >= 0
    sizes = valid.sum(axis=1)
    rows = np.repeat(np.arange(neighbors.shape[0]), sizes)
    members = sp.csr_matrix(
        (np.ones(rows.size), (rows, neighbors[valid])), shape=(neighbors.shape[0], vectors.shape[0])
    )
    # Sum of a list's pairwise dot products = |sum of its rows|^2 - sum of |row|^2, per part.
    sums = members @ sp.csr_matrix(vectors, dtype=np.float64)
    squared = np.asarray(sums.multiply(sums).sum(axis=1)).ravel()
    norms = np.asarray(vectors.multiply(vectors).sum(axis=1), dtype=np.float64).ravel()
    if dense is not None:
        dense64 = np.asarray(dense, dtype=np.float64)
        dense_sums = np.asarray(members @ dense64)
        squared = squared + np.einsum("ij,ij->i", dense_sums, dense_sums)
        norms = norms + np.einsum("ij,ij->i", dense64, dense64)
    self_terms = np.asarray(members @ norms).ravel()
    usable = sizes >= 2
    if not usable.any():
        return 0.0
    pairs = sizes[usable] * (sizes[usable] - 1)
    return float(((squared[usable] - self_terms[usable]) / pairs).mean())


def _ranking_rows(model: Any) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """The rows whose dot products are the ranking's similarity (TF-IDF, LSA and semantic view blended),
    as the search stores them; the TF-IDF rows for a model stored without them."""
    search = model.index().engine.search
    if search is None:
        return model.vectors, None
    rows = search.rows
    data = np.asarray(rows.data, dtype=np.float64) * float(rows.scale)
    terms = sp.csr_matrix((data, rows.indices, rows.indptr), shape=(rows.n_rows, rows.n_terms))
    return terms, rows.dense
