"""Evaluation metrics against hand-computed values on tiny examples, and the evaluate() entry point."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import CorpusError, InvalidParameterError
from recommender.analysis.evaluate import (
    evaluate,
    gini,
    graph_health,
    intra_list_similarity,
    judgment_scores,
    label_scores,
    roc_auc,
)

# Four articles labelled A, A, B and {A, B}; two-slot lists, one slot left empty (-1).
LABELS = [frozenset("A"), frozenset("A"), frozenset("B"), frozenset("AB")]
NEIGHBORS = np.array([[1, 2], [2, 3], [3, -1], [0, 2]])


def test_label_scores_match_hand_computed_values() -> None:
    overall, by_label = label_scores(NEIGHBORS, LABELS, k=2)
    # P@2: 1/2, 1/2, 1/2, 2/2.  Recall: 1/2, 1/2, 1/1, 2/3.  MRR: 1, 1/2, 1, 1.
    # nDCG@2: 1/(1 + 1/log2 3), (1/log2 3)/(1 + 1/log2 3), 1, 1 -> the first two sum to 1.
    assert overall.n == 4
    assert overall.precision_at_k == pytest.approx(0.625)
    assert overall.recall_at_k == pytest.approx((0.5 + 0.5 + 1 + 2 / 3) / 4)
    assert overall.ndcg_at_k == pytest.approx(0.75)
    assert overall.mrr == pytest.approx(0.875)
    assert by_label["A"].n == 3
    assert by_label["A"].precision_at_k == pytest.approx(2 / 3)
    assert by_label["B"].precision_at_k == pytest.approx(0.75)


def test_unlabelled_articles_are_not_scored_and_never_relevant() -> None:
    labels = [frozenset("A"), frozenset(), frozenset("A")]
    overall, _ = label_scores(np.array([[1, 2], [0, 2], [1, 0]]), labels, k=2)
    assert overall.n == 2
    assert overall.precision_at_k == pytest.approx(0.5)
    assert overall.mrr == pytest.approx((0.5 + 0.5) / 2)


def test_graph_health_and_gini() -> None:
    coverage, max_in_degree, gini_value = graph_health(NEIGHBORS, 4)
    assert coverage == 1.0
    assert max_in_degree == 3
    assert gini_value == pytest.approx(0.25)  # in-degrees 1, 1, 3, 2
    assert gini(np.array([0, 0, 0, 4])) == pytest.approx(0.75)
    assert gini(np.array([2, 2, 2])) == pytest.approx(0.0)
    assert graph_health(np.array([[1], [0], [0]]), 3)[0] == pytest.approx(2 / 3)
    # Row 2 is a hidden near-duplicate: it is not counted as an article that should be reached.
    assert graph_health(np.array([[1], [0], [0]]), 3, hidden=[2]) == (1.0, 2, pytest.approx(1 / 6))


def test_intra_list_similarity() -> None:
    vectors = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [1.0, 0.0]]))
    neighbors = np.array([[0, 1, 2], [0, 2, -1], [3, -1, -1]])
    # list 1: cosines 0, 0.6, 0.8 -> 0.4667; list 2: 0.6; list 3 has one member and is skipped.
    assert intra_list_similarity(vectors, None, neighbors) == pytest.approx((1.4 / 3 + 0.6) / 2)
    # A dense part adds its own dot products: rows 0, 1, 2 gain 0.5, 0.5, -0.5 in one extra column.
    dense = np.array([[0.5], [0.5], [-0.5], [0.0]])
    # list 1: 0 + 0.25, 0.6 - 0.25, 0.8 - 0.25 -> 1.15 / 3; list 2: 0.6 - 0.25.
    assert intra_list_similarity(vectors, dense, neighbors) == pytest.approx((1.15 / 3 + 0.35) / 2)
    assert intra_list_similarity(vectors, None, np.array([[0, -1], [1, -1]])) == 0.0


def test_roc_auc_and_correlations() -> None:
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])) == 0.75
    assert roc_auc(np.array([0.5, 0.5]), np.array([True, False])) == 0.5
    assert np.isnan(roc_auc(np.array([0.5, 0.6]), np.array([True, True])))
    pearson, spearman, auc = judgment_scores([1.0, 2.0, 3.0], [1.0, 4.0, 9.0], threshold=4.0)
    assert spearman == pytest.approx(1.0)
    assert pearson == pytest.approx(np.corrcoef([1, 2, 3], [1, 4, 9])[0, 1])
    assert auc == 1.0
    with pytest.raises(InvalidParameterError, match="at least two"):
        judgment_scores([1.0], [1.0])


def test_evaluate_tiny_corpus(tiny_records: list[dict[str, Any]]) -> None:
    report = evaluate(tiny_records, {"min_df": 1}, k=1)
    assert report.n == 6
    assert report.precision_at_k == 1.0
    assert report.coverage == 1.0
    assert report.max_in_degree == 1
    assert report.seconds > 0
    assert report.pearson is None
    data = report.to_dict()
    assert {"n", "k", "precision_at_k", "ndcg_at_k", "mrr", "coverage", "max_in_degree"} <= set(data)
    assert "pearson" not in data
    frame = report.to_frame()
    assert list(frame.index) == ["(all)", "Energy", "Politics", "Sport"]
    assert frame.loc["Sport", "precision_at_k"] == 1.0


def test_evaluate_with_judgments_and_exclusions(tiny_records: list[dict[str, Any]]) -> None:
    tiny_records[0]["judgments"] = [
        {"other_id": "opec-output-cut", "score": 4},
        {"other_id": "cup-final-penalties", "score": 1},
    ]
    tiny_records[2]["judgments"] = [{"other_id": "goalkeeper-hero", "score": 3.5}]
    tiny_records[5]["duplicate_of"] = "parliament-election-called"
    report = evaluate(tiny_records, {"min_df": 1}, k=1)
    assert report.excluded == 1
    assert report.articles == 5
    assert report.judgments == 3
    assert report.auc == 1.0
    assert report.spearman is not None
    assert -1.0 <= report.spearman <= 1.0
    assert "auc" in report.to_dict()


@pytest.mark.parametrize(
    ("judgments", "match"),
    [
        ([{"other_id": "nope", "score": 1}], "unknown article 'nope'"),
        ([{"score": 1}], "needs 'other_id' and 'score'"),
        ([{"other_id": "opec-output-cut", "score": "high"}], "must be a number"),
        ("bad", "must be a list"),
    ],
)
def test_bad_judgments_name_the_article(
    tiny_records: list[dict[str, Any]], judgments: object, match: str
) -> None:
    tiny_records[0]["judgments"] = judgments
    with pytest.raises(CorpusError, match=match):
        evaluate(tiny_records, {"min_df": 1}, k=1)


def test_unknown_label_field(tiny_records: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidParameterError, match="no field 'topic'"):
        evaluate(tiny_records, {"min_df": 1}, label="topic")


def test_unknown_exclude_field_is_an_error_like_an_unknown_label(tiny_records: list[dict[str, Any]]) -> None:
    with pytest.raises(
        InvalidParameterError, match=r"^no field 'nosuchfield' in the articles to leave out by"
    ):
        evaluate(tiny_records, {"min_df": 1}, exclude="nosuchfield")
    # The default field is optional (most corpora have no duplicate_of), and '' or None keeps every article.
    for exclude in ("duplicate_of", "", None):
        assert evaluate(tiny_records, {"min_df": 1}, k=1, exclude=exclude).excluded == 0


def test_list_labels_intersect(tiny_records: list[dict[str, Any]]) -> None:
    for record, labels in zip(tiny_records, [["x", "y"], ["y"], ["z"], ["z", "x"], [], ["w"]], strict=True):
        record["category"] = labels
    report = evaluate(tiny_records, {"min_df": 1}, k=1)
    assert report.n == 4  # the unlabelled article and the lone "w" have nothing to find
    assert report.precision_at_k == 1.0


def test_judgment_scores_are_none_where_undefined() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's ConstantInputWarning must not reach the user
        assert judgment_scores([0.1, 0.2, 0.3], [2.0, 2.0, 2.0]) == (None, None, None)
        pearson, spearman, auc = judgment_scores([0.1, 0.1, 0.1], [1.0, 2.0, 3.0])
    assert pearson is None
    assert spearman is None
    assert auc == 0.5
    with pytest.raises(InvalidParameterError, match="finite"):
        judgment_scores([0.1, 0.2], [1.0, float("nan")])


def test_a_judged_score_that_is_not_finite_names_its_article(tiny_records: list[dict[str, Any]]) -> None:
    for bad in (float("nan"), float("inf")):
        tiny_records[0]["judgments"] = [{"other_id": "opec-output-cut", "score": bad}]
        with pytest.raises(CorpusError, match=r"'oil-prices-rise': judgment 1 score must be a finite"):
            evaluate(tiny_records, {"min_df": 1}, k=1)


def test_constant_judged_scores_leave_the_statistics_undefined(tiny_records: list[dict[str, Any]]) -> None:
    tiny_records[0]["judgments"] = [
        {"other_id": "opec-output-cut", "score": 3},
        {"other_id": "cup-final-penalties", "score": 3},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = evaluate(tiny_records, {"min_df": 1}, k=1)
    assert report.judgments == 2
    assert (report.pearson, report.spearman, report.auc) == (None, None, None)
    data = report.to_dict()
    assert data["pearson"] is None
    json.dumps(data, allow_nan=False)


def test_judgments_touching_an_excluded_article_are_left_out_and_counted(
    tiny_records: list[dict[str, Any]],
) -> None:
    tiny_records[5]["duplicate_of"] = "parliament-election-called"
    excluded = tiny_records[5]["id"]
    tiny_records[0]["judgments"] = [
        {"other_id": "opec-output-cut", "score": 4},
        {"other_id": "cup-final-penalties", "score": 1},
        {"other_id": excluded, "score": 2},
    ]
    tiny_records[5]["judgments"] = [{"other_id": "oil-prices-rise", "score": 1}]
    report = evaluate(tiny_records, {"min_df": 1}, k=1)
    assert report.excluded == 1
    assert report.judgments == 2
    assert report.judgments_left_out == 2  # one naming the excluded article, one made by it
    assert report.to_dict()["judgments_left_out"] == 2
    # An article the corpus does not hold stays an error, with or without exclusions.
    tiny_records[0]["judgments"].append({"other_id": "nowhere", "score": 1})
    with pytest.raises(CorpusError, match="judgment 4 names unknown article 'nowhere'"):
        evaluate(tiny_records, {"min_df": 1}, k=1)


def test_a_self_judgment_is_refused(tiny_records: list[dict[str, Any]]) -> None:
    tiny_records[0]["judgments"] = [{"other_id": "oil-prices-rise", "score": 5}]
    with pytest.raises(CorpusError, match="article 'oil-prices-rise': judgment 1 judges the article against"):
        evaluate(tiny_records, {"min_df": 1}, k=1)


def test_a_label_no_two_articles_share_is_refused(tiny_records: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidParameterError, match=r"no article shares a 'title' value.*choose another"):
        evaluate(tiny_records, {"min_df": 1}, k=1, label="title")
    for record in tiny_records:
        record["category"] = " "
    with pytest.raises(InvalidParameterError, match=r"no article has a 'category' value"):
        evaluate(tiny_records, {"min_df": 1}, k=1)


@pytest.mark.parametrize("unset", [None, float("nan"), False, 0, 0.0, "", " ", []])
def test_falsy_exclude_values_keep_the_article(tiny_records: list[dict[str, Any]], unset: object) -> None:
    for record in tiny_records:
        record["retired"] = unset
    tiny_records[5]["retired"] = 1
    report = evaluate(tiny_records, {"min_df": 1}, k=1, exclude="retired")
    assert report.excluded == 1
    assert report.articles == 5


def test_excluding_every_article_is_a_clear_error(tiny_records: list[dict[str, Any]]) -> None:
    for record in tiny_records:
        record["duplicate_of"] = "elsewhere"
    with pytest.raises(InvalidParameterError, match=r"every article has 'duplicate_of' set; nothing left"):
        evaluate(tiny_records, {"min_df": 1}, k=1)


def test_labels_are_stripped(tiny_records: list[dict[str, Any]]) -> None:
    for record in tiny_records[::2]:
        record["category"] = f" {record['category']} "
    tiny_records[1]["category"] = [" Energy", "Energy "]
    report = evaluate(tiny_records, {"min_df": 1}, k=1)
    assert sorted(report.by_label) == ["Energy", "Politics", "Sport"]
    assert report.n == 6
    assert report.precision_at_k == 1.0
