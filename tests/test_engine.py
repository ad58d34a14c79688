"""One ranking engine: the library and a loaded index agree for every k and equal a brute-force reference.

The reference is computed here from the definition, with scipy: the search rows' full score matrix (a sparse
product adds each pair's products in column order: the canonical score), then per article the candidates a
list may hold (same language, no hidden near-duplicate, not the article nor the one it duplicates), the best
``candidate_width(k)`` of them by ``(-score, row)``, re-ranked by the hub discount, cut to ``k``. Up to the
width of the build's pool (``candidate_width(stored k)``) a list is drawn from that pool, taken before
duplicates go, so lists of different lengths agree; a draft's pool has that width too.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import numpy as np
import pytest

from recommender import Index, Recommender
from recommender.build.blend import blend_rows
from recommender.score.rerank import candidate_width, rerank

from .conftest import ROOT, SHARED_DATA

MULTILINGUAL = ROOT / "tests" / "data" / "multilingual.jsonl"


def _bbc_sample() -> list[dict[str, Any]]:
    path = SHARED_DATA / "bbc_news.jsonl.gz"
    if not path.is_file():
        pytest.skip("../shared/data/bbc_news.jsonl.gz is not present")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for number, line in enumerate(handle) if number % 3 == 0][:600]
    return [{key: row.get(key) for key in ("id", "title", "body", "date", "category")} for row in rows]


@pytest.fixture(scope="module", params=["bbc-600-defaults", "multilingual"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Recommender, Index]:
    if request.param == "multilingual":
        records = [json.loads(line) for line in MULTILINGUAL.read_text(encoding="utf-8").splitlines()]
        model = Recommender(min_df=1, k=5).fit(records)
    else:
        model = Recommender().fit(_bbc_sample())
        assert model.components is not None  # 600 articles: the LSA blend is on
        assert model.duplicates  # and some near-duplicates are hidden
        assert model.hubs is not None
    folder = model.save(tmp_path_factory.mktemp("engine") / request.param)
    return model, Index.load(folder)


class _Reference:
    """Every list computed from the definition (see the module docstring)."""

    def __init__(self, model: Recommender) -> None:
        search = blend_rows(model.vectors, model.components, model.settings.lsa_weight).joined()
        self.scores = np.asarray((search @ search.T).toarray(), dtype=np.float32)
        self.hubs = model.hubs
        self.hub_weight = model.settings.hub_weight
        rows = {article_id: row for row, article_id in enumerate(model.ids)}
        self.duplicates = {rows[a]: rows[b] for a, b in model.duplicates.items()}
        languages = np.asarray(model.languages, dtype=object)
        self.same_language = languages[:, None] == languages[None, :]
        self.stored_k = model.neighbors.shape[1]

    def draft(self, row: int, k: int, hidden: set[int]) -> tuple[list[int], list[float]]:
        """The list of a draft whose search row is article ``row``'s (so it may list the article itself)."""
        scores = self.scores[row]
        allowed = self.same_language[row].copy()
        allowed[list(hidden)] = False
        candidates = np.flatnonzero(allowed & (scores > 0))
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        order = order[: self._width(k) if self.hubs is not None else k]
        return self._ranked(order, scores, k)

    def _width(self, k: int) -> int:
        """The pool a list of ``k`` is drawn from: the build's, for any ``k`` it covers."""
        pool = candidate_width(self.stored_k)
        return pool if k <= pool else candidate_width(k)

    def _ranked(self, order: np.ndarray, scores: np.ndarray, k: int) -> tuple[list[int], list[float]]:
        """The best ``k`` of ``order`` and the scores they show (the similarity less the hub discount)."""
        if self.hubs is None:
            chosen = order[:k]
            return chosen.tolist(), scores[chosen].tolist()
        ranked, _ = rerank(
            order[None, :].astype(np.int32),
            scores[order][None, :],
            self.hubs,
            hub_weight=self.hub_weight,
            k=k,
        )
        rows = ranked[0][ranked[0] >= 0]
        shown = scores[rows] - np.float32(self.hub_weight) * self.hubs[rows]
        return rows.tolist(), shown.tolist()

    def similarity(self, row: int, others: list[int]) -> list[float]:
        return self.scores[row, others].tolist()

    def related(self, row: int, k: int) -> tuple[list[int], list[float]]:
        scores = self.scores[row]
        allowed = self.same_language[row].copy()
        allowed[row] = False
        pooled_first = k <= (candidate_width(self.stored_k) if self.hubs is not None else self.stored_k)
        if not pooled_first:  # past the build's pool: hidden rows never compete
            allowed[list(self.duplicates)] = False
            allowed[self.duplicates.get(row, row)] = False
        candidates = np.flatnonzero(allowed & (scores > 0))
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        width = self.stored_k if pooled_first else k
        order = order[: candidate_width(width) if self.hubs is not None else width]
        if pooled_first:  # the build's pool: cut first, then duplicates (and the own kept one) leave it
            kept = [r for r in order.tolist() if r not in self.duplicates and r != self.duplicates.get(row)]
            order = np.array(kept, dtype=np.int64)
        return self._ranked(order, scores, k)


def _pairs(links: list[Any]) -> list[tuple[str, float]]:
    return [(link.article_id, link.score) for link in links]


def _same(first: list[Any], second: list[Any]) -> None:
    assert [link.article_id for link in first] == [link.article_id for link in second]
    assert [link.score for link in first] == pytest.approx([link.score for link in second], abs=1e-6)
    assert [link.similarity for link in first] == pytest.approx(
        [link.similarity for link in second], abs=1e-6
    )


def test_every_k_equals_the_reference_and_the_loaded_index(built: tuple[Recommender, Index]) -> None:
    model, index = built
    reference = _Reference(model)
    n = len(model)
    ids = model.ids
    chosen_rows = sorted({n - 1, *(model.index().row(a) for a in list(model.duplicates)[:1])})
    for row in chosen_rows:  # every k, for a few articles (a hidden duplicate among them when there is one)
        for k in range(1, n + 1):
            links = model.related(ids[row], k=k)
            expected_rows, expected_scores = reference.related(row, k)
            assert [link.article_id for link in links] == [ids[r] for r in expected_rows], (row, k)
            assert [link.score for link in links] == pytest.approx(expected_scores, abs=1e-6)
            assert [link.similarity for link in links] == pytest.approx(
                reference.similarity(row, expected_rows), abs=1e-6
            )
            _same(index.related(ids[row], k=k), links)
    stored_k = model.neighbors.shape[1]
    for row in range(n):  # a few k, for every article
        for k in (stored_k, stored_k + 1, n):
            links = index.related(ids[row], k=k)
            expected_rows, _ = reference.related(row, k)
            assert [link.article_id for link in links] == [ids[r] for r in expected_rows], (row, k)


@pytest.mark.parametrize(
    "controls",
    [
        {"past_only": True},
        {"max_age": "365d", "half_life": "90d"},
        {"same_category": True, "fill": True},
        {"mmr": 0.7},
        {"min_relative": 0.5, "exclude_categories": ["sport"]},
    ],
    ids=["past-only", "age-decay", "category-fill", "mmr", "relative-exclude"],
)
def test_controls_answer_alike_in_memory_and_loaded(
    built: tuple[Recommender, Index], controls: dict[str, Any]
) -> None:
    model, index = built
    n = len(model)
    for article_id in model.ids[:: max(1, n // 12)]:
        for k in (3, model.neighbors.shape[1] + 5, n):
            _same(model.related(article_id, k=k, **controls), index.related(article_id, k=k, **controls))


def test_queries_answer_alike_and_equal_the_reference(built: tuple[Recommender, Index]) -> None:
    """An article's own title and body, sent as a draft, is that article's search row: its list is the
    article's row of scores over every listable row (itself included), ranked as lists are."""
    model, index = built
    reference = _Reference(model)
    frame = model.articles
    n = len(model)
    hidden = set(reference.duplicates)
    for row in sorted({1, n // 3, n - 2}):
        title, body = frame["title"][row] or "", frame["body"][row]
        for k in sorted({1, 4, model.neighbors.shape[1] + 1, n // 2, n}):
            links = model.query(body, title=title, k=k)
            expected_rows, expected_scores = reference.draft(row, k, hidden)
            assert [link.article_id for link in links] == [model.ids[r] for r in expected_rows], (row, k)
            assert [link.score for link in links] == pytest.approx(expected_scores, abs=1e-6)
            assert [link.similarity for link in links] == pytest.approx(
                reference.similarity(row, expected_rows), abs=1e-6
            )
            _same(index.query(body, title=title, k=k), links)


def test_a_longer_list_continues_a_shorter_one(built: tuple[Recommender, Index]) -> None:
    """Asking for one more link never reorders the links before it, up to the build's pool width: lists
    of every length come from the same pool (they used to come from pools sized for each k)."""
    model, index = built
    width = candidate_width(model.neighbors.shape[1])
    changed = []
    for article_id in model.ids[::3]:
        lists = [[link.article_id for link in index.related(article_id, k=k)] for k in range(1, width + 1)]
        changed += [(article_id, k) for k in range(1, width) if lists[k][:k] != lists[k - 1]]
    assert not changed
    for article_id in model.ids[::15]:
        draft = index.article(article_id)
        text = " ".join(str(draft.get(key) or "") for key in ("title", "body"))
        lists = [[link.article_id for link in index.query(text, k=k)] for k in range(1, width + 1)]
        assert all(lists[k][:k] == lists[k - 1] for k in range(1, width)), article_id
