"""Fitting the TF-IDF model, finding every article's exact neighbours, and saving it.

Weights: term counts from the title (times ``title_weight``) plus the body, sublinear tf
``1 + ln(tf)``, smoothed idf ``ln((1 + n) / (1 + df)) + 1``, rows L2-normalised, stored as float32.
Similarity is the cosine (dot product of rows).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import store as fmt
from .build.blend import SearchRows, blend, blend_rows, fit_components
from .build.counting import count_terms
from .build.duplicates import hide_rows
from .build.fit import pool_width, rank_pools, rows_in, search_pools
from .build.neighbors import top_k_of
from .build.tables import StoredForms, collect_forms, draft_tables
from .score.rerank import candidate_width, rerank
from .score.weighting import average_length, weigh
from .serve.drafts import DOCUMENT as DRAFTS_DOCUMENT
from .serve.drafts import stored_languages, stored_lsa
from .serve.explain import explain_links, surface_words
from .serve.index import Index, make_links, suggest
from .serve.overrides import Overrides
from .settings import Settings, check_k
from .sources.corpus import Articles, load_articles
from .text.analyzer import Analyzer
from .text.languages import Analyzers, article_languages, detect_language, language_code
from .types import (
    CorpusError,
    InvalidParameterError,
    ModelFormatError,
    Neighbor,
    RecommenderError,
    UnknownArticleError,
)

__all__ = ["Recommender"]

log = logging.getLogger(__name__)

_METADATA_FIELDS = ("title", "date", "url", "category", "author", "tags")


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
        self.reference_length = 0.0
        # Per language, every surface token of the corpus and its term: the numpy-only lookup's analyzer.
        self._articles: pd.DataFrame | None = None
        self._forms: dict[str, dict[str, str]] | None = {}
        self._stored_forms: StoredForms | None = None
        self._added_forms: dict[str, dict[str, str]] = {}

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
        self.reference_length = average_length(counts)
        vectors = self._weigh(sp.csr_matrix(counts), idf)
        ids: list[str] = [str(article_id) for article_id in frame["id"]]
        empty = [ids[i] for i in np.flatnonzero(np.diff(vectors.indptr) == 0)]
        if empty:
            shown = ", ".join(repr(article_id) for article_id in empty[:5])
            log.warning("%d article(s) have no indexed terms and get no related posts: %s", len(empty), shown)
        mapper = None
        if scheduler is not None:
            from .build.distributed import dask_mapper

            mapper = dask_mapper(scheduler)
        components = fit_components(vectors, settings.lsa_dims) if settings.lsa_weight else None
        parts = blend_rows(vectors, components, settings.lsa_weight)
        search = parts.joined()
        pool_neighbors, pool_scores = search_pools(search, languages, settings, mapper=mapper)
        metadata = _metadata(frame)
        for record, lang in zip(metadata, languages, strict=True):
            record["lang"] = lang
        lengths = np.array([len(body) for body in frame["body"]], dtype=np.int64)
        lists = rank_pools(
            pool_neighbors, pool_scores, settings, dates=[m.get("date") for m in metadata], lengths=lengths
        )
        self._set_state(
            ids=ids,
            metadata=metadata,
            vocabulary=vocabulary,
            idf=idf,
            vectors=vectors,
            neighbors=lists.neighbors,
            scores=lists.scores,
            components=components,
            hubs=lists.hubs,
            duplicates={ids[row]: ids[keep] for row, keep in sorted(lists.canonical.items())},
            pools=(pool_neighbors, pool_scores),
            lengths=lengths,
            search=parts,
            surface=surface_words(
                (f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True)),
                self.analyzer.terms,
                vocabulary,
            ),
        )
        self._articles = frame
        self.empty_ids = empty
        self._set_languages(languages)
        self.forms = collect_forms(
            (f"{title or ''}\n{body}" for title, body in zip(frame["title"], frame["body"], strict=True)),
            languages,
            self.analyzers,
        )
        return self

    def _set_languages(self, languages: list[str]) -> None:
        self.languages = languages
        self._language_candidates = {}

    def _set_state(
        self,
        *,
        ids: list[str],
        metadata: Sequence[dict[str, Any]],
        vocabulary: list[str],
        idf: np.ndarray,
        vectors: sp.csr_matrix,
        neighbors: np.ndarray,
        scores: np.ndarray,
        components: np.ndarray | None = None,
        surface: list[str] | None = None,
        duplicates: dict[str, str] | None = None,
        hubs: np.ndarray | None = None,
        pools: tuple[np.ndarray, np.ndarray] | None = None,
        lengths: np.ndarray | None = None,
        search: SearchRows | None = None,
    ) -> None:
        """Install a fitted state. ``pools`` are the raw candidate pools (see :func:`rank_pools`); when
        the settings gather no wider pool than ``k`` they are the lists themselves. ``lengths`` are the
        body lengths that pick a duplicate group's canonical article; ``search`` the blended rows as
        their two parts, when already computed (otherwise made on first use, as is the joined matrix)."""
        self.ids = ids
        self._rows = {article_id: row for row, article_id in enumerate(ids)}
        self._metadata = metadata
        self.vocabulary = vocabulary
        self._terms: dict[str, int] | None = None
        self.idf = idf
        self.vectors = vectors
        self.components = components
        self.surface = surface if surface is not None else vocabulary
        self.duplicates: dict[str, str] = dict(duplicates or {})
        self.hubs = hubs
        if pools is None and pool_width(self.settings) == self.settings.k:
            pools = (neighbors, scores)
        self.pools = pools
        self.lengths = lengths
        self._parts: SearchRows | None = search
        self._joined: sp.csr_matrix | None = None
        self._stored_lsa: tuple[np.ndarray, np.ndarray] | None = None
        self._transposed: sp.csr_matrix | None = None
        self.neighbors = neighbors
        self.scores = scores
        self._lookup: Index | None = None
        self._fitted = True

    # --- asking ------------------------------------------------------------------------------------

    def related(
        self,
        article_id: str,
        *,
        k: int = 8,
        explain: bool = False,
        overrides: Overrides | None = None,
        **controls: Any,
    ) -> list[Neighbor]:
        """The ``k`` articles most similar to ``article_id``, best first, as ``Neighbor`` objects.

        Ranking ``controls`` and editorial ``overrides`` work as in ``Index.related``; ``explain=True``
        adds each link's top shared terms (readable words) and their share of the score.
        """
        k = check_k(k)
        row = self._row(article_id)
        if overrides is not None or controls:
            links = self.index().related(article_id, k=k, overrides=overrides, **controls)
        elif k <= self.neighbors.shape[1]:
            rows, scores = self.neighbors[row, :k], self.scores[row, :k]
            links = make_links(rows, scores, self.ids, self._metadata)
        elif self.settings.cross_language or len(set(self.languages)) < 2:
            width = candidate_width(k) if self.hubs is not None else k
            found, found_scores = top_k_of(
                self._search[row], self._candidates(), width, exclude=np.array([row])
            )
            links = self._cut(found, found_scores, k)
        else:
            links = self._links_in(self.languages[row], self._search[row], k, exclude_row=row)
        if not explain:
            return links
        vectors = self.vectors
        return explain_links(
            links,
            row,
            self._rows,
            (vectors.data, vectors.indices, vectors.indptr),
            self.surface,
            weight=1.0 - self.settings.lsa_weight if self.components is not None else 1.0,
        )

    def index(self) -> Index:
        """A numpy-only ``Index`` over this model's arrays (shares memory, no copy)."""
        self._require_fitted()
        if self._lookup is not None:
            return self._lookup
        vectors = self.vectors
        self._lookup = Index.from_arrays(
            ids=self.ids,
            metadata=self._metadata,
            neighbors=self.neighbors,
            scores=self.scores,
            vectors=(vectors.data, vectors.indices, vectors.indptr),
            cross_language=self.settings.cross_language,
        )
        return self._lookup

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
        vector = blend(
            self.vectorize(text, title=title, lang=language), self.components, self.settings.lsa_weight
        )
        if self.settings.cross_language or len(set(self.languages)) < 2:
            rows, scores = top_k_of(
                vector, self._candidates(), candidate_width(k) if self.hubs is not None else k
            )
            return self._cut(rows, scores, k)
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
            hidden = [self._rows[article_id] for article_id in self.duplicates]
            search = hide_rows(self._search, hidden) if hidden else self._search
            cached = (members, search[members].T.tocsr())
            self._language_candidates[language] = cached
        members, candidates = cached
        exclude = None if exclude_row is None else np.searchsorted(members, [exclude_row])
        width = candidate_width(k) if self.hubs is not None else k
        found, scores = top_k_of(vector, candidates, width, exclude=exclude)
        rows = np.where(found >= 0, members[np.where(found >= 0, found, 0)], -1)
        return self._cut(rows, scores, k)

    def _cut(self, rows: np.ndarray, scores: np.ndarray, k: int) -> list[Neighbor]:
        """Links from one candidate row, hub-discounted when the model uses it, cut to ``k``."""
        if self.hubs is not None:
            rows, scores = rerank(rows, scores, self.hubs, hub_weight=self.settings.hub_weight, k=k)
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
        return self._weigh(counts, self.idf)

    def _weigh(self, counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
        settings = self.settings
        return weigh(
            counts,
            idf,
            tf=settings.tf,
            k1=settings.bm25_k1,
            b=settings.bm25_b,
            reference_length=self.reference_length,
        )

    def similarity(self, article_ids: Sequence[str]) -> np.ndarray:
        """Pairwise similarity (the ranking score) among the given articles, as a ``len × len`` array."""
        if isinstance(article_ids, str):
            message = "similarity() takes a list of article ids, not one string"
            raise InvalidParameterError(message)
        rows = [self._row(article_id) for article_id in article_ids]
        block = self._search[rows]
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

    @property
    def articles(self) -> pd.DataFrame:
        """The indexed articles: the corpus after ``fit``; ids and stored metadata after ``load``."""
        self._require_fitted()
        if self._articles is None:
            records = list(self._metadata)
            columns = {name: [record.get(name) for record in records] for name in _METADATA_FIELDS}
            self._articles = pd.DataFrame({"id": self.ids, **columns})
        return self._articles

    @property
    def _search(self) -> sp.csr_matrix:
        """The blended rows joined into one matrix (what lookups and the neighbour search compare)."""
        if self._joined is None:
            self._joined = self._search_rows.joined()
        return self._joined

    @property
    def _search_rows(self) -> SearchRows:
        """The blended rows as their term and LSA parts (what updates and the draft tables use)."""
        if self._parts is None:
            self._parts = blend_rows(
                self.vectors, self.components, self.settings.lsa_weight, known=self._stored_lsa
            )
        return self._parts

    def _candidates(self) -> sp.csr_matrix:
        if self._transposed is None:
            hidden = [self._rows[article_id] for article_id in self.duplicates]
            self._transposed = (hide_rows(self._search, hidden) if hidden else self._search).T.tocsr()
        return self._transposed

    def _require_fitted(self) -> None:
        if not self._fitted:
            message = "this Recommender is not fitted yet: call fit(articles) or Recommender.load(path)"
            raise RecommenderError(message)

    # --- storage -----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, lineage: dict[str, Any] | None = None) -> Path:
        """Write the model folder (atomically) for ``Index.load`` / ``Recommender.load``.

        ``lineage`` (base build and updates, see ``recommender.build.update``) goes in the manifest.
        """
        self._require_fitted()
        vectors = self.vectors
        extra = (
            {} if self.components is None else {fmt.LSA_COMPONENTS: np.asarray(self.components, np.float32)}
        )
        if self.hubs is not None:
            extra[fmt.HUBS] = np.asarray(self.hubs, dtype=np.float32)
        if self.pools is not None and pool_width(self.settings) != self.settings.k:
            # The raw pools an incremental update starts from (without levers they are the lists).
            extra[fmt.POOL_NEIGHBORS] = np.asarray(self.pools[0], dtype=np.int32)
            extra[fmt.POOL_SCORES] = np.asarray(self.pools[1], dtype=np.float32)
        if self.lengths is not None:
            extra[fmt.LENGTHS] = np.asarray(self.lengths, dtype=np.int64)
        documents: dict[str, Any] = {}
        if self._forms or self._stored_forms is not None or self._added_forms:
            tables, documents[DRAFTS_DOCUMENT] = self._draft_tables()
            extra.update(tables)
        return fmt.write_model(
            path,
            arrays={
                **extra,
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
                fmt.SURFACE: list(self.surface),
                fmt.DUPLICATES: self.duplicates,
                fmt.WEIGHTING: {"reference_length": self.reference_length},
                **documents,
            },
            parameters=self.settings.to_dict(),
            counts={
                "articles": len(self.ids),
                "terms": len(self.vocabulary),
                "k": int(self.neighbors.shape[1]),
                "nonzeros": int(vectors.nnz),
                "duplicates": len(self.duplicates),
            },
            extra={"lineage": lineage} if lineage else None,
        )

    def _draft_tables(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The tables ``Index.query`` scores drafts with (see recommender/drafts.py)."""
        hidden = [self._rows[article_id] for article_id in self.duplicates]
        parts = self._search_rows
        term_part = hide_rows(parts.terms, hidden) if hidden else parts.terms
        lsa_rows = parts.dense
        if lsa_rows is not None and hidden:
            lsa_rows = lsa_rows.copy()
            lsa_rows[hidden] = 0.0
        transposed = sp.csr_matrix(term_part.T.tocsr(), dtype=np.float32)
        transposed.sort_indices()
        return draft_tables(
            forms=self._forms_to_save(),
            vocabulary=self.vocabulary,
            candidates=(transposed.data, transposed.indices, transposed.indptr),
            lsa_rows=lsa_rows,
            row_languages=self.languages or [self.analyzer.language] * len(self.ids),
            hidden_rows=hidden,
            settings={**self.settings.to_dict(), "reference_length": self.reference_length},
        )

    def _forms_to_save(self) -> dict[str, dict[str, str]] | StoredForms:
        """The forms for the draft tables: the stored tables grown by the new forms, when they can be."""
        if self._forms is None and self._stored_forms is not None:
            merged = self._stored_forms.merged(self._added_forms, bigrams=self.settings.ngrams == 2)
            if merged is not None:
                return merged
        return self.forms

    @property
    def forms(self) -> dict[str, dict[str, str]]:
        """Per language, every surface token of the corpus and the term it becomes ("" when dropped).

        What the numpy-only ``Index.query`` looks tokens up in. A loaded model decodes its stored tables
        on first use; an update only adds to them (see :meth:`add_forms`).
        """
        if self._forms is None:
            forms = self._stored_forms.to_forms() if self._stored_forms is not None else {}
            _add_to(forms, self._added_forms)
            self._forms, self._stored_forms, self._added_forms = forms, None, {}
        return self._forms

    @forms.setter
    def forms(self, forms: dict[str, dict[str, str]]) -> None:
        self._forms, self._stored_forms, self._added_forms = forms, None, {}

    def add_forms(self, forms: dict[str, dict[str, str]]) -> None:
        """Add surface forms (language -> token -> term), keeping stored tables undecoded."""
        _add_to(self._forms if self._forms is not None else self._added_forms, forms)

    def copy_forms(self, other: Recommender) -> None:
        """Take ``other``'s forms as this model's (stored tables are read-only, so they are shared)."""
        if other._forms is not None:
            self.forms = {language: dict(table) for language, table in other._forms.items()}
        else:
            self._forms, self._stored_forms = None, other._stored_forms
            self._added_forms = {language: dict(table) for language, table in other._added_forms.items()}

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
        if f"{fmt.WEIGHTING}.json" in folder.manifest["files"]:
            model.reference_length = float(folder.document(fmt.WEIGHTING).get("reference_length", 0.0))
        ids: list[str] = folder.document(fmt.IDS)
        vocabulary: list[str] = folder.document(fmt.VOCABULARY)
        metadata: Sequence[dict[str, Any]] = fmt.Records.read(folder)  # decoded when asked for
        languages = stored_languages(folder)
        if languages is None or len(languages) != len(ids):
            # Written before the draft tables: records may lack their language; give each one.
            languages = [str(meta.get("lang") or model.analyzer.language) for meta in metadata]
            metadata = [{**meta, "lang": lang} for meta, lang in zip(metadata, languages, strict=True)]
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
            duplicates=folder.document(fmt.DUPLICATES)
            if f"{fmt.DUPLICATES}.json" in folder.manifest["files"]
            else None,
            surface=folder.document(fmt.SURFACE)
            if f"{fmt.SURFACE}.json" in folder.manifest["files"]
            else None,
            hubs=folder.array(fmt.HUBS) if f"{fmt.HUBS}.npy" in folder.manifest["files"] else None,
            pools=(folder.array(fmt.POOL_NEIGHBORS), folder.array(fmt.POOL_SCORES))
            if f"{fmt.POOL_NEIGHBORS}.npy" in folder.manifest["files"]
            else None,
            lengths=folder.array(fmt.LENGTHS) if folder.has(fmt.LENGTHS) else None,
            components=folder.array(fmt.LSA_COMPONENTS)
            if f"{fmt.LSA_COMPONENTS}.npy" in folder.manifest["files"]
            else None,
        )
        model.empty_ids = [ids[i] for i in np.flatnonzero(np.diff(vectors.indptr) == 0)]
        model._set_languages(languages)
        model._stored_forms = StoredForms.read(folder)
        model._forms = None if model._stored_forms is not None else {}
        model._stored_lsa = stored_lsa(folder)
        return model

    def __repr__(self) -> str:
        state = f"articles={len(self.ids)}, terms={len(self.vocabulary)}" if self._fitted else "not fitted"
        return f"Recommender({state}, settings={self.settings})"


def _metadata(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """What a link needs to show each article, JSON-ready."""
    records: list[dict[str, Any]] = []
    columns: Iterable[str] = [c for c in _METADATA_FIELDS if c in frame.columns]
    for row in frame[list(columns)].itertuples(index=False):
        # pandas turns a missing value in a partly filled column into NaN; JSON needs None.
        record = {name: None if _missing(getattr(row, name)) else getattr(row, name) for name in columns}
        record["tags"] = list(record.get("tags") or [])
        records.append(record)
    return records


def _add_to(forms: dict[str, dict[str, str]], more: Mapping[str, Mapping[str, str]]) -> None:
    """Add the surface forms ``more`` (language -> token -> term) to ``forms``, in place."""
    for language, table in more.items():
        forms.setdefault(language, {}).update(table)


def _missing(value: object) -> bool:
    return isinstance(value, float) and value != value  # NaN is the only value unequal to itself
