"""Intervals of one evaluation run and two runs compared article by article (analysis.compare)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from recommender import InvalidParameterError
from recommender.analysis.compare import compare, intervals
from recommender.analysis.evaluate import METRICS, Report, evaluate, label_scores, label_values


def _lists(n: int, seed: int) -> tuple[np.ndarray, list[frozenset[str]]]:
    """``n`` articles of 6 labels, each listing 10 others of which about 8 share its label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 6, size=n)
    neighbors = np.empty((n, 10), dtype=np.int64)
    for row in range(n):
        same = np.flatnonzero((labels == labels[row]) & (np.arange(n) != row))
        other = np.flatnonzero(labels != labels[row])
        picks = np.where(rng.random(10) < 0.8, rng.choice(same, 10), rng.choice(other, 10))
        neighbors[row] = picks
    return neighbors, [frozenset([f"label-{value}"]) for value in labels.tolist()]


def _report(neighbors: np.ndarray, labels: list[frozenset[str]], ids: list[str] | None = None) -> Report:
    rows, values = label_values(neighbors, labels, k=10)
    names = ids or [f"a{row}" for row in range(len(labels))]
    overall, _ = label_scores(neighbors, labels, k=10)
    per_article = {"id": [names[row] for row in rows.tolist()]}
    per_article.update({name: values[:, column].tolist() for column, name in enumerate(METRICS)})
    return Report(
        n=overall.n, k=10, precision_at_k=overall.precision_at_k, recall_at_k=overall.recall_at_k,
        ndcg_at_k=overall.ndcg_at_k, mrr=overall.mrr, coverage=1.0, max_in_degree=0, gini_in_degree=0.0,
        intra_list_similarity=0.0, seconds=0.0, per_article=per_article,
    )  # fmt: skip


def test_per_article_values_average_to_the_reported_means() -> None:
    neighbors, labels = _lists(300, 1)
    report = _report(neighbors, labels)
    frame = report.per_article_frame()
    assert list(frame.columns) == list(METRICS)
    assert len(frame) == report.n
    assert frame["precision_at_k"].mean() == pytest.approx(report.precision_at_k)
    assert frame["mrr"].mean() == pytest.approx(report.mrr)


def test_identical_runs_differ_by_nothing() -> None:
    neighbors, labels = _lists(400, 2)
    a, b = _report(neighbors, labels), _report(neighbors, labels)
    result = compare(a, b, resamples=2_000)
    assert (result["difference"] == 0).all()
    assert ((result["low"] <= 0) & (result["high"] >= 0)).all()
    assert (result["p_value"] == 1.0).all()


def test_labels_permuted_for_a_third_of_the_articles_is_a_real_loss() -> None:
    neighbors, labels = _lists(600, 3)
    rng = np.random.default_rng(0)
    shifted = list(labels)
    chosen = rng.choice(600, size=200, replace=False)
    for row, source in zip(chosen.tolist(), rng.permutation(chosen).tolist(), strict=True):
        shifted[row] = labels[source]
    result = compare(_report(neighbors, labels), _report(neighbors, shifted), resamples=2_000)
    assert (result["difference"] < 0).all()
    assert (result["high"] < 0).all()
    assert (result["p_value"] < 0.01).all()


def test_a_tiny_change_is_not_significant() -> None:
    neighbors, labels = _lists(600, 4)
    changed = neighbors.copy()
    changed[:3, -1] = changed[3:6, -1]  # three articles' last link changed
    result = compare(_report(neighbors, labels), _report(changed, labels), resamples=2_000)
    assert (result["p_value"] > 0.05).all()
    assert ((result["low"] <= 0) & (result["high"] >= 0)).all()


def test_comparison_and_intervals_are_seeded() -> None:
    neighbors, labels = _lists(300, 5)
    a = _report(neighbors, labels)
    b = _report(np.roll(neighbors, 1, axis=1), labels)
    first, again = compare(a, b, resamples=500, seed=7), compare(a, b, resamples=500, seed=7)
    assert first.equals(again)
    other = compare(a, b, resamples=500, seed=8)
    assert not first[["low", "high"]].equals(other[["low", "high"]])
    assert intervals(a, resamples=500).equals(intervals(a, resamples=500))


def test_intervals_hold_the_mean() -> None:
    report = _report(*_lists(300, 6))
    result = intervals(report, resamples=1_000)
    assert list(result.index) == list(METRICS)
    assert ((result["low"] <= result["mean"]) & (result["mean"] <= result["high"])).all()
    assert (result["high"] - result["low"] > 0).all()
    assert result.loc["precision_at_k", "mean"] == pytest.approx(report.precision_at_k)


def test_only_articles_both_runs_scored_are_paired() -> None:
    neighbors, labels = _lists(300, 7)
    a = _report(neighbors, labels)
    ids = [f"a{row}" if row < 200 else f"b{row}" for row in range(300)]
    b = _report(neighbors, labels, ids)
    result = compare(a, b, resamples=200)
    assert (result["n"] == 200).all()
    assert (result["difference"] == 0).all()


def test_a_report_survives_its_json(tiny_records: list[dict[str, Any]]) -> None:
    report = evaluate(tiny_records, {"min_df": 1}, k=2)
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.per_article_frame().equals(report.per_article_frame())
    assert again.by_label == report.by_label
    assert (compare(report, again, resamples=100)["p_value"] == 1.0).all()


def test_bad_comparisons_are_clear_errors() -> None:
    neighbors, labels = _lists(100, 8)
    a = _report(neighbors, labels)
    with pytest.raises(InvalidParameterError, match="share no scored article"):
        compare(a, _report(neighbors, labels, [f"x{row}" for row in range(100)]))
    old = Report(**{**a.to_dict(), "by_label": {}, "per_article": {}})
    with pytest.raises(InvalidParameterError, match="no per-article values"):
        compare(old, a)
    with pytest.raises(InvalidParameterError, match="unknown metric"):
        compare(a, a, metrics=["accuracy"])
    with pytest.raises(InvalidParameterError, match="not an evaluation report"):
        Report.from_dict({"n": 3}, source="runs/a.json")


def test_a_metric_reads_the_same_whichever_others_are_asked_for() -> None:
    neighbors, labels = _lists(300, 9)
    a = _report(neighbors, labels)
    b = _report(np.roll(neighbors, 1, axis=1), labels)
    together = compare(a, b, resamples=500, metrics=["precision_at_k", "ndcg_at_k", "mrr"])
    for metric in ("precision_at_k", "mrr"):
        alone = compare(a, b, resamples=500, metrics=[metric])
        assert alone.loc[metric].equals(together.loc[metric])
        assert (
            intervals(a, resamples=500, metrics=[metric])
            .loc[metric]
            .equals(intervals(a, resamples=500).loc[metric])
        )


def test_runs_of_another_label_are_refused() -> None:
    neighbors, labels = _lists(100, 10)
    a = _report(neighbors, labels)
    b = Report(**{**a.to_dict(), "by_label": {}, "label": "topic"})
    with pytest.raises(InvalidParameterError, match=r"label 'category' and .* label 'topic'"):
        compare(a, b)
    longer = Report(**{**a.to_dict(), "by_label": {}, "k": a.k + 5})
    with pytest.raises(InvalidParameterError, match=r"has k 10 and .* k 15: runs of a different k"):
        compare(a, longer)


def test_how_many_articles_each_run_scored_is_kept() -> None:
    neighbors, labels = _lists(300, 7)
    ids = [f"a{row}" if row < 200 else f"b{row}" for row in range(300)]
    result = compare(_report(neighbors, labels), _report(neighbors, labels, ids), resamples=100)
    assert result.attrs["scored"] == {"a": 300, "b": 300, "shared": 200}


def test_a_run_that_scored_nothing_is_not_called_old() -> None:
    a = _report(*_lists(100, 11))
    empty = Report(
        **{**a.to_dict(), "by_label": {}, "per_article": {"id": [], **{name: [] for name in METRICS}}}
    )
    with pytest.raises(InvalidParameterError, match="scored no article"):
        compare(empty, a)


def _saved(report: Report, **changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(report.to_dict()))
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda data: data["per_article"]["mrr"].pop(), r"'per_article' lists differ in length \(.*mrr 99\)"),
        (lambda data: data["per_article"]["precision_at_k"].__setitem__(0, "x"), r"'precision_at_k' of 'a0'"),
        (lambda data: data["per_article"].pop("ndcg_at_k"), "'per_article' has no ndcg_at_k"),
        (lambda data: data["per_article"].__setitem__("mrr", "1.0"), "'mrr' must be a list"),
        (lambda data: data["per_article"]["id"].__setitem__(0, 7), "id 1 must be a string"),
        (lambda data: data.__setitem__("by_label", {"x": {"n": 1}}), "by_label 'x' must hold exactly"),
        (
            lambda data: data.__setitem__("by_label", {"x": {**dict.fromkeys(METRICS, 0.5), "n": "1"}}),
            "'n' must",
        ),
        (lambda data: data.__setitem__("k", None), "'k' must be a number"),
        (lambda data: data.__setitem__("n", 2.5), "'n' must be a whole number"),
        (lambda data: data.__setitem__("label", 3), "'label' must be a string"),
        (lambda data: data.__setitem__("pearson", "high"), "'pearson' must be a number or null"),
    ],
)
def test_a_malformed_saved_report_names_its_file(change: Any, match: str) -> None:
    data = _saved(_report(*_lists(100, 12)))
    change(data)
    with pytest.raises(InvalidParameterError, match=rf"^runs/a\.json: .*{match}"):
        Report.from_dict(data, source="runs/a.json")


def test_undefined_judgment_statistics_of_older_reports_read_as_none() -> None:
    data = _saved(_report(*_lists(100, 13)), judgments=2, pearson=float("nan"), auc=0.75)
    report = Report.from_dict(data, source="old.json")
    assert report.pearson is None
    assert report.auc == 0.75
