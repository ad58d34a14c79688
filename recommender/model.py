"""Fitting the TF-IDF model, finding every article's exact neighbours, and saving it.

Weights: term counts from the title (times ``title_weight``) plus the body, sublinear tf
``1 + ln(tf)``, smoothed idf ``ln((1 + n) / (1 + df)) + 1``, rows L2-normalised, stored as float32.
Similarity is the cosine (dot product of rows).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import format as fmt
from .analyzer import Analyzer
from .corpus import Articles, load_articles
from .counting import count_terms
from .languages import Analyzers, article_languages, detect_language, language_code, rows_in, top_k_within
from .lookup import check_k, make_links, suggest
from .neighbors import DEFAULT_MEMORY_BUDGET, top_k, top_k_of
from .types import (
    CorpusError,
    InvalidParameterError,
    ModelFormatError,
    Neighbor,
    RecommenderError,
    UnknownArticleError,
)

__all__ = ["Recommender", "Settings"]

log = logging.getLogger(__name__)

_METADATA_FIELDS = ("title", "date", "url", "category", "author", "tags")


@dataclass(frozen=True)
class Settings:
    """Build settings; every one is recorded in the model's manifest.

    Attributes
    ----------
    title_weight: how many times a title's terms count relative to the body's (0 ignores titles).
    min_df: drop terms in fewer articles than this (an int count, or a float share of articles).
    max_df: drop terms in more articles than this (an int count, or a float share, 1.0 keeps all).
    ngrams: 1 for single terms, 2 to add adjacent term pairs ("north korea").
    stop_words: "english" (bundled list), "nltk" (only if installed), None, or a list of words.
    stem: reduce words to Snowball stems.
    k: neighbours stored per article (``related`` on a saved model returns at most this many).
    memory_budget: bytes the neighbour search may use for one block of scores.
    language: "auto" (each article's ``lang`` field, else detected) or one code for all ("en", "ru"…).
    cross_language: let articles link to articles in other languages (default: same language only).
    """

    title_weight: float = 2.0
    min_df: int | float = 2
    max_df: int | float = 1.0
    ngrams: int = 1
    stop_words: str | tuple[str, ...] | None = "english"
    stem: bool = True
    k: int = 20
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    language: str = "auto"
    cross_language: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.stop_words, list):
            object.__setattr__(self, "stop_words", tuple(self.stop_words))
        if not isinstance(self.title_weight, int | float) or self.title_weight < 0:
            _bad("title_weight", self.title_weight, "a number >= 0")
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                _bad(name, value, "an int count or a float share in (0, 1]")
            if isinstance(value, float) and not 0.0 < value <= 1.0:
                _bad(name, value, "a float share in (0, 1] (or an int count)")
            if isinstance(value, int) and value < 1:
                _bad(name, value, "an int count >= 1 (or a float share)")
        if self.ngrams not in (1, 2):
            _bad("ngrams", self.ngrams, "1 or 2")
        check_k(self.k)
        if (
            isinstance(self.memory_budget, bool)
            or not isinstance(self.memory_budget, int)
            or self.memory_budget < 1
        ):
            _bad("memory_budget", self.memory_budget, "a positive number of bytes")
        if self.language != "auto":
            object.__setattr__(self, "language", language_code(self.language))
        if not isinstance(self.cross_language, bool):
            _bad("cross_language", self.cross_language, "True or False")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        data = asdict(self)
        if isinstance(self.stop_words, tuple):
            data["stop_words"] = list(self.stop_words)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Settings from :meth:`to_dict` output, ignoring keys this version does not know."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def _bad(name: str, value: object, expected: str) -> None:
    message = f"{name} must be {expected}, got {value!r}"
    raise InvalidParameterError(message)


class Recommender:
    """TF-IDF + cosine related-article engine: fit on a corpus, ask for related posts, save, load.

    Examples
    --------
    >>> rec = Recommender(k=5).fit("corpus/geopolitics.jsonl")  # doctest: +SKIP
    >>> rec.related("kazakhstan-geopolitical-conundrum", k=3)  # doctest: +SKIP
    >>> rec.save("models/geopolitics")  # doctest: +SKIP
    """

    def __init__(self, **settings: Any) -> None:
        known = {field.name for field in fields(Settings)}
        unknown = sorted(set(settings) - known)
        if unknown:
            message = f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            raise InvalidParameterError(message)
        self.settings = Settings(**settings)
        self.analyzers = Analyzers(
            stop_words=self.settings.stop_words, stem=self.settings.stem, ngrams=self.settings.ngrams
        )
        self.analyzer: Analyzer = self.analyzers["en"]  # the English one; others in self.analyzers
        self.languages: list[str] = []
        self._language_candidates: dict[str, tuple[np.ndarray, sp.csr_matrix]] = {}
        self._fitted = False

    # --- building ----------------------------------------------------------------------------------

    def fit(self, articles: Articles, *, skip_invalid: bool = False, scheduler: Any = None) -> Recommender:
        """Index ``articles`` (a path, a DataFrame or dicts with at least ``id`` and ``body``).

        ``scheduler`` (a Dask scheduler address or ``dask.distributed.Client``; needs the ``dask``
        extra) computes the all-pairs neighbours on that cluster; the result is identical.
        """
        frame = load_articles(articles, skip_invalid=skip_invalid)
        settings = self.settings
        declared = next((frame[name] for name in ("lang", "language") if name in frame.columns), None)
        languages = article_languages(
            declared if declared is not None else [None] * len(frame),
            [f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True)],
            language=settings.language,
        )
        try:
            vocabulary, counts = count_terms(
                frame["body"].tolist(),
                [title or "" for title in frame["title"]],
                self.analyzers,
                languages=languages,
                title_weight=settings.title_weight,
                min_df=settings.min_df,
                max_df=settings.max_df,
            )
        except ValueError as error:
            message = (
                f"no terms left to index ({error}); the corpus has {len(frame)} article(s): "
                f"lower min_df (now {settings.min_df}) or raise max_df (now {settings.max_df})"
            )
            raise CorpusError(message) from None
        n_docs = counts.shape[0]
        document_frequency = np.bincount(counts.indices, minlength=len(vocabulary))
        idf = np.log((1.0 + n_docs) / (1.0 + document_frequency)) + 1.0
        vectors = _weigh(sp.csr_matrix(counts), idf)
        ids: list[str] = [str(article_id) for article_id in frame["id"]]
        empty = [ids[i] for i in np.flatnonzero(np.diff(vectors.indptr) == 0)]
        if empty:
            shown = ", ".join(repr(article_id) for article_id in empty[:5])
            log.warning("%d article(s) have no indexed terms and get no related posts: %s", len(empty), shown)
        mapper = None
        if scheduler is not None:
            from .distributed import dask_mapper

            mapper = dask_mapper(scheduler)
        if settings.cross_language or len(set(languages)) < 2:
            neighbors, scores = top_k(
                vectors, settings.k, memory_budget=settings.memory_budget, mapper=mapper
            )
        else:
            neighbors, scores = top_k_within(
                vectors, languages, settings.k, memory_budget=settings.memory_budget, mapper=mapper
            )
        metadata = _metadata(frame)
        for record, lang in zip(metadata, languages, strict=True):
            record["lang"] = lang
        self._set_state(
            ids=ids,
            metadata=metadata,
            vocabulary=vocabulary,
            idf=idf,
            vectors=vectors,
            neighbors=neighbors,
            scores=scores,
        )
        self.articles = frame
        self.empty_ids = empty
        self._set_languages(languages)
        return self

    def _set_languages(self, languages: list[str]) -> None:
        self.languages = languages
        self._language_candidates = {}

    def _set_state(
        self,
        *,
        ids: list[str],
        metadata: list[dict[str, Any]],
        vocabulary: list[str],
        idf: np.ndarray,
        vectors: sp.csr_matrix,
        neighbors: np.ndarray,
        scores: np.ndarray,
    ) -> None:
        self.ids = ids
        self._rows = {article_id: row for row, article_id in enumerate(ids)}
        self._metadata = metadata
        self.vocabulary = vocabulary
        self._terms: dict[str, int] | None = None
        self.idf = idf
        self.vectors = vectors
        self._transposed: sp.csr_matrix | None = None
        self.neighbors = neighbors
        self.scores = scores
        self._fitted = True

    # --- asking ------------------------------------------------------------------------------------

    def related(self, article_id: str, *, k: int = 8) -> list[Neighbor]:
        """The ``k`` articles most similar to ``article_id``, best first, as ``Neighbor`` objects."""
        k = check_k(k)
        row = self._row(article_id)
        if k <= self.neighbors.shape[1]:
            return make_links(self.neighbors[row, :k], self.scores[row, :k], self.ids, self._metadata)
        if self.settings.cross_language or len(set(self.languages)) < 2:
            rows, scores = top_k_of(self.vectors[row], self._candidates(), k, exclude=np.array([row]))
            return make_links(rows[0], scores[0], self.ids, self._metadata)
        return self._links_in(self.languages[row], self.vectors[row], k, exclude_row=row)

    def query(self, text: str, *, k: int = 8, title: str = "", lang: str | None = None) -> list[Neighbor]:
        """The ``k`` indexed articles most similar to an unpublished draft (``title`` weighs as in fit).

        The draft is analysed as ``lang`` (default: detected, or the model's one language) and, unless
        the model was built with ``cross_language=True``, matched against articles in that language only.
        """
        k = check_k(k)
        if not isinstance(text, str) or not (text.strip() or title.strip()):
            message = "query text is empty"
            raise InvalidParameterError(message)
        language = self.query_language(f"{title}\n{text}", lang=lang)
        vector = self.vectorize(text, title=title, lang=language)
        if self.settings.cross_language or len(set(self.languages)) < 2:
            rows, scores = top_k_of(vector, self._candidates(), k)
            return make_links(rows[0], scores[0], self.ids, self._metadata)
        return self._links_in(language, vector, k)

    def query_language(self, text: str, *, lang: str | None = None) -> str:
        """The language a query is analysed in: ``lang``, else the model's only language, else detected."""
        if lang is not None:
            return language_code(lang)
        if self.settings.language != "auto":
            return self.settings.language
        present = set(self.languages)
        if len(present) == 1:
            return present.pop()
        return detect_language(text)

    def _links_in(
        self, language: str, vector: sp.csr_matrix, k: int, *, exclude_row: int | None = None
    ) -> list[Neighbor]:
        """The ``k`` articles in ``language`` most similar to ``vector`` (leaving out ``exclude_row``)."""
        cached = self._language_candidates.get(language)
        if cached is None:
            members = rows_in(self.languages, language)
            cached = (members, self.vectors[members].T.tocsr())
            self._language_candidates[language] = cached
        members, candidates = cached
        exclude = None if exclude_row is None else np.searchsorted(members, [exclude_row])
        found, scores = top_k_of(vector, candidates, k, exclude=exclude)
        rows = np.where(found >= 0, members[np.where(found >= 0, found, 0)], -1)
        return make_links(rows[0], scores[0], self.ids, self._metadata)

    def vectorize(self, text: str, *, title: str = "", lang: str = "en") -> sp.csr_matrix:
        """The L2-normalised TF-IDF row vector of a text in language ``lang``, in this model's vocabulary."""
        self._require_fitted()
        if self._terms is None:
            self._terms = {term: column for column, term in enumerate(self.vocabulary)}
        weights: dict[int, float] = {}
        analyzer = self.analyzers[language_code(lang)]
        for terms, weight in ((analyzer(text), 1.0), (analyzer(title), self.settings.title_weight)):
            for term in terms:
                column = self._terms.get(term)
                if column is not None and weight:
                    weights[column] = weights.get(column, 0.0) + weight
        columns = np.array(sorted(weights), dtype=np.int32)
        values = np.array([weights[c] for c in columns.tolist()], dtype=np.float64)
        counts = sp.csr_matrix(
            (values, columns, np.array([0, len(columns)])), shape=(1, len(self.vocabulary))
        )
        return _weigh(counts, self.idf)

    def similarity(self, article_ids: Sequence[str]) -> np.ndarray:
        """Pairwise cosine similarity among the given articles, as a ``len × len`` float array."""
        if isinstance(article_ids, str):
            message = "similarity() takes a list of article ids, not one string"
            raise InvalidParameterError(message)
        rows = [self._row(article_id) for article_id in article_ids]
        block = self.vectors[rows]
        return np.asarray((block @ block.T).toarray(), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids) if self._fitted else 0

    def __contains__(self, article_id: object) -> bool:
        return self._fitted and article_id in self._rows

    def _row(self, article_id: str) -> int:
        self._require_fitted()
        try:
            return self._rows[article_id]
        except (KeyError, TypeError):
            raise UnknownArticleError(str(article_id), suggest(str(article_id), self.ids)) from None

    def _candidates(self) -> sp.csr_matrix:
        if self._transposed is None:
            self._transposed = self.vectors.T.tocsr()
        return self._transposed

    def _require_fitted(self) -> None:
        if not self._fitted:
            message = "this Recommender is not fitted yet: call fit(articles) or Recommender.load(path)"
            raise RecommenderError(message)

    # --- storage -----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model folder (atomically) for ``Index.load`` / ``Recommender.load``."""
        self._require_fitted()
        vectors = self.vectors
        return fmt.write_model(
            path,
            arrays={
                fmt.IDF: np.asarray(self.idf, dtype=np.float64),
                fmt.VECTORS_DATA: np.asarray(vectors.data, dtype=np.float32),
                fmt.VECTORS_INDICES: np.asarray(vectors.indices, dtype=np.int32),
                fmt.VECTORS_INDPTR: np.asarray(vectors.indptr, dtype=np.int64),
                fmt.NEIGHBORS: np.asarray(self.neighbors, dtype=np.int32),
                fmt.SCORES: np.asarray(self.scores, dtype=np.float32),
            },
            documents={
                fmt.IDS: self.ids,
                fmt.ARTICLES: self._metadata,
                fmt.VOCABULARY: self.vocabulary,
                fmt.ANALYZER: self.analyzers.to_dict(self.languages),
            },
            parameters=self.settings.to_dict(),
            counts={
                "articles": len(self.ids),
                "terms": len(self.vocabulary),
                "k": int(self.neighbors.shape[1]),
                "nonzeros": int(vectors.nnz),
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, verify: bool = True) -> Recommender:
        """A fitted Recommender from a saved model folder (article bodies are not stored)."""
        folder = fmt.open_model(path, verify=verify)
        try:
            settings = Settings.from_dict(folder.parameters)
        except (TypeError, InvalidParameterError) as error:
            message = f"{folder.path}: manifest parameters are invalid ({error}); rebuild the model"
            raise ModelFormatError(message) from None
        model = cls(**{f.name: getattr(settings, f.name) for f in fields(Settings)})
        model.analyzer = model.analyzers.restore(folder.document(fmt.ANALYZER))
        ids: list[str] = folder.document(fmt.IDS)
        vocabulary: list[str] = folder.document(fmt.VOCABULARY)
        metadata: list[dict[str, Any]] = folder.document(fmt.ARTICLES)
        vectors = sp.csr_matrix(
            (
                folder.array(fmt.VECTORS_DATA),
                folder.array(fmt.VECTORS_INDICES),
                folder.array(fmt.VECTORS_INDPTR),
            ),
            shape=(len(ids), len(vocabulary)),
        )
        model._set_state(
            ids=ids,
            metadata=metadata,
            vocabulary=vocabulary,
            idf=np.asarray(folder.array(fmt.IDF)),
            vectors=vectors,
            neighbors=folder.array(fmt.NEIGHBORS),
            scores=folder.array(fmt.SCORES),
        )
        model.articles = pd.DataFrame(
            {"id": ids, **{name: [meta.get(name) for meta in metadata] for name in _METADATA_FIELDS}}
        )
        model.empty_ids = [ids[i] for i in np.flatnonzero(np.diff(vectors.indptr) == 0)]
        model._set_languages([str(meta.get("lang") or model.analyzer.language) for meta in metadata])
        return model

    def __repr__(self) -> str:
        state = f"articles={len(self.ids)}, terms={len(self.vocabulary)}" if self._fitted else "not fitted"
        return f"Recommender({state}, settings={self.settings})"


def _weigh(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf times idf, rows L2-normalised, as sorted float32 CSR (shared by fit and query)."""
    weighted = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    weighted.sort_indices()
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    weighted.data /= np.repeat(norms, np.diff(weighted.indptr))
    result = sp.csr_matrix(weighted, dtype=np.float32)
    result.sort_indices()
    return result


def _metadata(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """What a link needs to show each article, JSON-ready."""
    records: list[dict[str, Any]] = []
    columns: Iterable[str] = [c for c in _METADATA_FIELDS if c in frame.columns]
    for row in frame[list(columns)].itertuples(index=False):
        record = {name: getattr(row, name) for name in columns}
        record["tags"] = list(record.get("tags") or [])
        records.append(record)
    return records
