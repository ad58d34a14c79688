"""Agreement with people: graded judgments of article pairs read from the corpus, and the correlation and
ROC AUC of our similarity against them (``recommender evaluate`` on records with ``judgments``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..types import CorpusError, InvalidParameterError

__all__ = ["judgment_pairs", "judgment_scores", "roc_auc"]


def judgment_scores(
    ours: Sequence[float], theirs: Sequence[float], *, threshold: float | None = None
) -> tuple[float | None, float | None, float | None]:
    """Pearson and Spearman of our scores against judged scores, and ROC AUC for ``judged >= threshold``.

    Each is None where it is undefined: a correlation when either side's scores are all equal, the AUC
    when every pair falls on one side of the threshold."""
    ours_array = np.asarray(ours, dtype=np.float64)
    theirs_array = np.asarray(theirs, dtype=np.float64)
    if ours_array.size < 2:
        message = "judgments need at least two scored pairs"
        raise InvalidParameterError(message)
    if not (np.isfinite(ours_array).all() and np.isfinite(theirs_array).all()):
        message = "judgment scores must be finite numbers"
        raise InvalidParameterError(message)
    if threshold is None:
        threshold = (theirs_array.min() + theirs_array.max()) / 2.0
    pearson = spearman = None
    if np.ptp(ours_array) and np.ptp(theirs_array):
        with warnings.catch_warnings():  # nearly constant scores: the value is shown, without the warning
            warnings.simplefilter("ignore", stats.NearConstantInputWarning)
            pearson = _defined(stats.pearsonr(ours_array, theirs_array)[0])
            spearman = _defined(stats.spearmanr(ours_array, theirs_array)[0])
    return pearson, spearman, _defined(roc_auc(ours_array, theirs_array >= threshold))


def _defined(value: Any) -> float | None:
    """``value`` as a float, or None when it is NaN (undefined)."""
    number = float(value)
    return None if math.isnan(number) else number


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN when one class is missing."""
    positive = np.asarray(positive, dtype=bool)
    n_positive = int(positive.sum())
    n_negative = positive.size - n_positive
    if n_positive == 0 or n_negative == 0:
        return float("nan")
    ranks = stats.rankdata(scores)
    return float((ranks[positive].sum() - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative))


def judgment_pairs(
    frame: pd.DataFrame, model: Any, excluded: frozenset[str] = frozenset()
) -> tuple[list[tuple[float, float]], int]:
    """(our score, judged score) for every judged pair, and how many pairs named an ``excluded`` article
    (skipped); a malformed judgment names its article.

    Our score is the ranking's similarity (the blend of TF-IDF, LSA and the semantic view, as a link's
    ``similarity``), so a lever of any part shows in the agreement with people."""
    rows = {article_id: row for row, article_id in enumerate(model.ids)}
    engine = model.index().engine
    pairs: list[tuple[float, float]] = []
    skipped = 0
    for article_id, judgments in zip(frame["id"], frame["judgments"], strict=True):
        if judgments is None or (isinstance(judgments, float) and math.isnan(judgments)):
            continue
        if not isinstance(judgments, list):
            message = f"article {article_id!r}: 'judgments' must be a list of {{other_id, score}} objects"
            raise CorpusError(message)
        others: list[int] = []
        judged: list[float] = []
        for number, judgment in enumerate(judgments, start=1):
            other, score = _judgment(article_id, number, judgment)
            if other in excluded:
                skipped += 1
                continue
            if other not in rows:
                message = f"article {article_id!r}: judgment {number} names unknown article {other!r}"
                raise CorpusError(message)
            others.append(rows[other])
            judged.append(score)
        if others:
            ours = engine.similarity(rows[article_id], others)
            pairs.extend(zip(ours.tolist(), judged, strict=True))
    return pairs, skipped


def _judgment(article_id: Any, number: int, judgment: Any) -> tuple[str, float]:
    """A judgment's other article and its finite score; anything else is an error naming the article."""
    if not isinstance(judgment, Mapping) or "other_id" not in judgment or "score" not in judgment:
        message = f"article {article_id!r}: judgment {number} needs 'other_id' and 'score'"
        raise CorpusError(message)
    other = str(judgment["other_id"])
    if other == str(article_id):
        message = f"article {article_id!r}: judgment {number} judges the article against itself"
        raise CorpusError(message)
    score = judgment["score"]
    if isinstance(score, bool) or not isinstance(score, int | float):
        message = f"article {article_id!r}: judgment {number} score must be a number, got {score!r}"
        raise CorpusError(message)
    if not math.isfinite(score):
        message = f"article {article_id!r}: judgment {number} score must be a finite number, got {score!r}"
        raise CorpusError(message)
    return other, float(score)
