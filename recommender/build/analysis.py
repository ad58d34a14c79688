"""One pass over the text: the term counts, the word forms for drafts and the readable words.

Every article's title and body are tokenised once, by the analyzer of its language. The same tokens give
the sorted vocabulary and the counts ``body + title_weight × title`` (terms within ``min_df`` / ``max_df``,
as scikit-learn's ``CountVectorizer`` keeps them), the forms table of the numpy-only draft lookup (every
surface token per language and the term it becomes) and the readable words explanations show (each
article's own written word for each of its terms, and the corpus' most frequent one per term).

Large corpora are cut into chunks that worker processes (``recommender.build.workers``) read against
local vocabularies; the
parent merges the chunks, so the result does not depend on how the work was split. :func:`analyse_frozen`
reads new articles against a model's vocabulary, as an update does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, compress
from math import ceil
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from ..text.analyzer import Analyzer, tokens_of
from .neighbors import default_threads
from .reading import ByLanguage, Chunk, Written, read_chunk
from .workers import run_in_workers, spans

__all__ = ["MIN_PARALLEL", "Analysis", "ChunkMapper", "analyse", "analyse_frozen"]

#: Corpora with fewer articles than this are read in this process (workers cost ~1 s to start).
MIN_PARALLEL = 5_000
_MAX_CHUNK = 50_000
#: Fewer tokens than this to read in other languages' rules are read in this process.
_MIN_PARALLEL_FORMS = 20_000
#: A language gets the other languages' tokens when it holds at least this share of the articles: drafts
#: in a language the corpus barely has are rare, and its table would cost a reading of every other word.
_CROSS_SHARE = 0.01


@dataclass(frozen=True)
class Analysis:
    """What one pass over the articles gives.

    Attributes
    ----------
    vocabulary:
        The terms, sorted (for :func:`analyse_frozen`, the vocabulary given): the columns of ``counts``.
    counts:
        float64 CSR, articles × terms, ``body + title_weight × title``, indices sorted.
    forms:
        Per language (sorted), every surface token (sorted) and the term it becomes, "" when dropped.
    surface_forms:
        The distinct readable words, sorted.
    vector_forms:
        int32, one per entry of ``counts`` (CSR order): the row in ``surface_forms`` of the word the
        article writes for that term (its most frequent one, ties to the first; "a b" for a pair term).
    words:
        One readable word per vocabulary term: its most frequent written form in the corpus (ties to the
        first in code point order), the term itself when no article writes it. Empty from
        :func:`analyse_frozen`: an update keeps the base model's words.
    tokens:
        Terms counted in titles and bodies (with ``ngrams=2``, pairs too).
    unseen:
        How many of those are not in ``vocabulary`` (pruned by ``min_df``/``max_df``, or new to it).
    """

    vocabulary: list[str]
    counts: sp.csr_matrix
    forms: dict[str, dict[str, str]]
    surface_forms: list[str]
    vector_forms: np.ndarray
    words: list[str]
    tokens: int
    unseen: int


def analyse(
    bodies: Sequence[str],
    titles: Sequence[str] | None,
    analyzer: Analyzer | ByLanguage,
    *,
    languages: Sequence[str] | None = None,
    title_weight: float = 1.0,
    min_df: int | float = 1,
    max_df: int | float = 1.0,
    n_jobs: int | None = None,
    min_parallel: int = MIN_PARALLEL,
    cluster: ChunkMapper | None = None,
) -> Analysis:
    """Read every article once: vocabulary, counts, forms and readable words (see :class:`Analysis`).

    With ``languages`` (one code per article), ``analyzer`` gives each language's analyzer and every
    article is read by its own. Document frequency counts an article once whether a term is in its
    title, body or both. ``cluster`` reads the chunks on other machines' workers (a Dask build): the
    result is the same however the work is split. Raises ``ValueError`` when no term is left (an empty
    vocabulary, or none within ``min_df``/``max_df``).
    """
    parts = _read(bodies, titles, analyzer, languages, None, n_jobs, min_parallel, cluster)
    vocabulary, columns = vocabulary_of(
        [part.terms for part in parts], [chunk_frequency(part) for part in parts], len(bodies), min_df, max_df
    )
    return _assemble(parts, columns, vocabulary, analyzer, title_weight, n_jobs, _receivers(languages))


def chunk_frequency(part: Chunk) -> np.ndarray:
    """How many of a chunk's articles have each of its terms (in title, body or both)."""
    # The words have one entry per term an article has in its title, body or both.
    return np.bincount(part.words.indices, minlength=len(part.terms))


def vocabulary_of(
    term_lists: Sequence[Sequence[str]],
    frequencies: Sequence[np.ndarray],
    n_docs: int,
    min_df: int | float,
    max_df: int | float,
) -> tuple[list[str], list[np.ndarray]]:
    """The kept terms (sorted), from each chunk's terms and their document frequencies, and per chunk
    the column each of its terms moves to (``len(vocabulary)``, cut off, for a dropped one)."""
    terms = list(dict.fromkeys(sorted(chain.from_iterable(term_lists))))
    if not terms:
        message = "empty vocabulary; perhaps the documents only contain stop words"
        raise ValueError(message)
    position = dict(zip(terms, range(len(terms)), strict=True))
    to_global = [
        np.fromiter(map(position.__getitem__, chunk), dtype=np.int64, count=len(chunk))
        for chunk in term_lists
    ]
    document_frequency = np.zeros(len(terms), dtype=np.int64)
    for mapping, frequency in zip(to_global, frequencies, strict=True):
        document_frequency[mapping] += frequency  # a chunk's terms are distinct: no index repeats
    high = max_df if isinstance(max_df, int) else max_df * n_docs
    low = min_df if isinstance(min_df, int) else min_df * n_docs
    if high < low:
        message = "max_df corresponds to < documents than min_df"
        raise ValueError(message)
    keep = (document_frequency <= high) & (document_frequency >= low)
    kept = int(keep.sum())
    if kept == 0:
        message = "After pruning, no terms remain. Try a lower min_df or a higher max_df."
        raise ValueError(message)
    new_column = np.full(len(terms), kept, dtype=np.int64)  # dropped terms go to a column cut off
    new_column[keep] = np.arange(kept)
    return list(compress(terms, keep.tolist())), [new_column[mapping] for mapping in to_global]


def analyse_frozen(
    bodies: Sequence[str],
    titles: Sequence[str] | None,
    analyzer: Analyzer | ByLanguage,
    *,
    vocabulary: Sequence[str],
    languages: Sequence[str] | None = None,
    title_weight: float = 1.0,
    n_jobs: int | None = None,
    min_parallel: int = MIN_PARALLEL,
) -> Analysis:
    """Read new articles against a fixed ``vocabulary`` (an update): terms outside it are not counted.

    The forms and readable words are those of these articles; ``unseen`` counts their terms that the
    vocabulary lacks (the drift an update reports).
    """
    fixed = dict(zip(vocabulary, range(len(vocabulary)), strict=True))
    parts = _read(bodies, titles, analyzer, languages, fixed, n_jobs, min_parallel)
    # Columns past the vocabulary (terms new to it) go to a column cut off, as pruned ones do in analyse.
    columns = [np.minimum(np.arange(len(part.terms), dtype=np.int64), len(vocabulary)) for part in parts]
    return _assemble(
        parts,
        columns,
        list(vocabulary),
        analyzer,
        title_weight,
        n_jobs,
        _receivers(languages),
        readable=False,
    )


def _read(
    bodies: Sequence[str],
    titles: Sequence[str] | None,
    analyzer: Analyzer | ByLanguage,
    languages: Sequence[str] | None,
    fixed: dict[str, int] | None,
    n_jobs: int | None,
    min_parallel: int,
    cluster: ChunkMapper | None = None,
) -> list[Chunk]:
    """The chunks read, in article order: on the cluster when there is one, else in worker processes when
    the corpus is large enough."""
    n_docs = len(bodies)
    if cluster is not None and n_docs:
        # Each task carries only its own articles; a few tasks per worker balance uneven chunks.
        tasks = [
            (
                analyzer,
                bodies[start:stop],
                None if titles is None else titles[start:stop],
                None if languages is None else languages[start:stop],
                fixed,
            )
            for start, stop in spans(n_docs, 4 * cluster.workers(), most=_MAX_CHUNK)
        ]
        return cluster.map_chunks(_read_task, tasks)
    jobs = default_threads() if n_jobs is None else max(1, int(n_jobs))
    if jobs > 1 and n_docs >= max(min_parallel, 2):
        # One chunk per worker when it fits: each chunk stems its distinct words once.
        chunks = spans(n_docs, jobs, most=_MAX_CHUNK)
        if languages is not None and not isinstance(analyzer, Analyzer):
            for language in sorted(set(languages)):
                analyzer[language]  # made here (NLTK imported once), so every worker starts with them
        return run_in_workers(_read_span, (analyzer, bodies, titles, languages, fixed), chunks, jobs)
    return [read_chunk(analyzer, bodies, titles, languages, fixed)]


def _read_task(task: tuple[Any, ...]) -> Chunk:
    """One chunk sent whole to a cluster's worker."""
    return read_chunk(*task)


class ChunkMapper(Protocol):
    """Where a cluster build reads its chunks (``recommender.build.distributed.DaskMapper``)."""

    def workers(self) -> int: ...

    def map_chunks(self, function: Callable[[Any], Chunk], tasks: Sequence[Any]) -> list[Chunk]: ...


def _read_span(inputs: tuple[Any, ...], span: tuple[int, int]) -> Chunk:
    """One chunk of the shared inputs (in a worker)."""
    analyzer, bodies, titles, languages, fixed = inputs
    start, stop = span
    return read_chunk(
        analyzer,
        bodies[start:stop],
        None if titles is None else titles[start:stop],
        None if languages is None else languages[start:stop],
        fixed,
    )


def _remap(matrix: sp.csr_matrix, columns: np.ndarray, kept: int) -> sp.csr_matrix:
    """``matrix`` with column ``c`` moved to ``columns[c]``; those moved to ``kept`` or past it cut off."""
    moved = columns[matrix.indices]
    keep = moved < kept
    ends = np.concatenate([[0], np.cumsum(keep)])[matrix.indptr]
    return sp.csr_matrix(
        (matrix.data[keep], moved[keep].astype(np.int32), ends), shape=(matrix.shape[0], kept)
    )


def _assemble(
    parts: list[Chunk],
    columns: list[np.ndarray],
    vocabulary: list[str],
    analyzer: Analyzer | ByLanguage,
    title_weight: float,
    n_jobs: int | None,
    receivers: frozenset[str] | None,
    *,
    readable: bool = True,
) -> Analysis:
    """The analysis from the chunks, each chunk's column ``c`` moved to ``columns[c]`` (cut past the end);
    ``receivers`` are the languages given the other languages' tokens (None: all); ``readable``: whether
    to derive one readable word per term."""
    kept = len(vocabulary)
    counted = [
        chunk_counts(part, mapping, kept, title_weight) for part, mapping in zip(parts, columns, strict=True)
    ]
    counts = sp.csr_matrix(sp.vstack([chunk for chunk, _ in counted], format="csr"), dtype=np.float64)
    counts.has_sorted_indices = True  # each chunk's are
    read = sum(_total(part.body) + _total(part.title) for part in parts)
    used = [chunk_words(part, mapping, kept) for part, mapping in zip(parts, columns, strict=True)]
    table = word_table([names for _, names in used])
    position = dict(zip(table, range(len(table)), strict=True))
    entries = [
        chunk_entries(len(part.word_table), block, names, position, chunk)
        for part, (block, names), (chunk, _) in zip(parts, used, counted, strict=True)
    ]
    surface_forms, renumbered = used_words(table, entries)
    words = _readable([part.written for part in parts], vocabulary) if readable else []
    return Analysis(
        vocabulary=vocabulary,
        counts=counts,
        forms=_merge_forms([part.forms for part in parts], analyzer, n_jobs, receivers),
        surface_forms=surface_forms,
        vector_forms=np.concatenate([renumbered[chunk] for chunk in entries]).astype(np.int32),
        words=words,
        tokens=read,
        unseen=read - sum(number for _, number in counted),
    )


def _total(counts: sp.csr_matrix | None) -> int:
    return 0 if counts is None else int(counts.data.sum(dtype=np.int64))


def chunk_counts(
    part: Chunk, mapping: np.ndarray, kept: int, title_weight: float
) -> tuple[sp.csr_matrix, int]:
    """A chunk's counts over the vocabulary (``body + title_weight × title``, float64, sorted) and how
    many of its tokens they count."""
    body = _remap(part.body, mapping, kept)
    counts = sp.csr_matrix(body, dtype=np.float64)
    counted = _total(body)
    if part.title is not None:
        title = _remap(part.title, mapping, kept)
        counted += _total(title)
        if title_weight:
            counts = sp.csr_matrix(counts + title_weight * title)
    counts.sort_indices()
    return counts, counted


def chunk_words(part: Chunk, mapping: np.ndarray, kept: int) -> tuple[sp.csr_matrix, list[str]]:
    """A chunk's word matrix over the vocabulary and, sorted by their numbers there, the words it uses."""
    block = _remap(part.words, mapping, kept)
    return block, list(map(part.word_table.__getitem__, np.unique(block.data).tolist()))


def word_table(names: Sequence[Sequence[str]]) -> list[str]:
    """Every chunk's used words, sorted: the rows :func:`chunk_entries` numbers entries by."""
    return sorted(set().union(*names))


def chunk_entries(
    table_size: int,
    block: sp.csr_matrix,
    names: Sequence[str],
    position: Mapping[str, int],
    counts: sp.csr_matrix,
) -> np.ndarray:
    """For each entry of a chunk's ``counts``, the row of the word its article writes in the word table
    (``position``: each word's row there; ``table_size``: how many words the chunk's own table has)."""
    rows = np.zeros(table_size, dtype=np.int32)
    numbers = np.unique(block.data)
    rows[numbers] = np.fromiter(map(position.__getitem__, names), dtype=np.int32, count=len(names))
    entries = rows[block.data]
    if not (np.array_equal(block.indptr, counts.indptr) and np.array_equal(block.indices, counts.indices)):
        # Counts hold fewer entries than the words (titles weigh 0): find each one's (row, column).
        width = np.int64(counts.shape[1])
        keys = _rows(block) * width + block.indices
        entries = entries[np.searchsorted(keys, _rows(counts) * width + counts.indices)]
    return np.asarray(entries)


def used_words(table: Sequence[str], entries: Sequence[np.ndarray]) -> tuple[list[str], np.ndarray]:
    """The words of ``table`` some entry uses, and each table row's number among them."""
    used_rows = np.zeros(len(table), dtype=bool)
    for chunk in entries:
        used_rows[chunk] = True
    renumbered = (np.cumsum(used_rows, dtype=np.int64) - 1).astype(np.int32)
    return list(compress(table, used_rows.tolist())), renumbered


def _rows(matrix: sp.csr_matrix) -> np.ndarray:
    """The row of every entry of a CSR matrix."""
    return np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))


def _readable(parts: Iterable[Written], vocabulary: Sequence[str]) -> list[str]:
    """One word per term, counted over all languages (see :class:`Analysis`); ``parts`` are read once,
    in order (a cluster build fetches each as it is needed)."""
    everywhere: Counter[tuple[str, str]] = Counter()
    for written in parts:
        for counts in written.values():
            everywhere.update(counts)
    return _words_for(everywhere, vocabulary)


def _words_for(counts: Counter[tuple[str, str]], vocabulary: Sequence[str]) -> list[str]:
    """For each term, its most frequent written word (ties: the first in code point order)."""
    best: dict[str, tuple[int, str]] = {}
    for (term, word), count in counts.items():
        current = best.get(term)
        if current is None or count > current[0] or (count == current[0] and word < current[1]):
            best[term] = (count, word)
    words = {term: word for term, (_, word) in best.items()}
    # A pair term "a b" reads as the words of a and b.
    return [
        words.get(term) or " ".join(words.get(part, part) for part in term.split(" ")) for term in vocabulary
    ]


def _receivers(languages: Sequence[str] | None) -> frozenset[str] | None:
    """The languages with at least ``_CROSS_SHARE`` of the articles (None: one language, or none given)."""
    if languages is None:
        return None
    counts = Counter(languages)
    return frozenset(code for code, count in counts.items() if count >= _CROSS_SHARE * len(languages))


def _merge_forms(
    parts: Iterable[dict[str, dict[str, str]]],
    analyzer: Analyzer | ByLanguage,
    n_jobs: int | None,
    receivers: frozenset[str] | None = None,
) -> dict[str, dict[str, str]]:
    """The chunks' forms together; with several languages, each also gets the tokens of the others.

    A draft may use words that only other languages' articles contain ("grain" in a French draft of an
    English-French corpus): every language in ``receivers`` (None: all) gets those tokens too, read by
    its own rules. (Where NLTK is installed, a draft's word missing from the tables is stemmed anyway.)
    """
    seen: dict[str, dict[str, str]] = {}
    for forms in parts:
        for language, table in forms.items():
            _merge_into(seen, language, table)
    if len(seen) > 1:
        everything = set().union(*seen.values())
        missing = [
            (language, sorted(everything.difference(table)))
            for language, table in sorted(seen.items())
            if receivers is None or language in receivers
        ]
        for language, table in _read_in(missing, analyzer, n_jobs):
            seen[language].update(table)
    # Sorted one language at a time, each unsorted table let go as soon as its copy is made.
    return {language: dict(sorted(seen.pop(language).items())) for language in sorted(seen)}


def _merge_into(merged: dict[str, Any], language: str, table: Any) -> None:
    """Add a chunk's ``table`` for ``language`` to ``merged`` (counts add up), emptying it: the first
    chunk's table is taken as it is, so that a chunk's data is not held twice."""
    if language not in merged:
        merged[language] = table
        return
    merged[language].update(table)
    table.clear()


def _read_in(
    missing: list[tuple[str, list[str]]], analyzer: Analyzer | ByLanguage, n_jobs: int | None
) -> list[tuple[str, dict[str, str]]]:
    """For each (language, tokens), the forms of those tokens read in that language (workers if many)."""

    def of(language: str) -> Analyzer:
        return analyzer if isinstance(analyzer, Analyzer) else analyzer[language]

    total = sum(len(tokens) for _, tokens in missing)
    jobs = default_threads() if n_jobs is None else max(1, int(n_jobs))
    if jobs == 1 or total < _MIN_PARALLEL_FORMS:
        return [(language, _forms_in(of(language), tokens)) for language, tokens in missing]
    size = ceil(total / (4 * jobs))  # a few tasks per worker, so that languages of any size balance
    tasks = [
        (language, tokens[start : start + size])
        for language, tokens in missing
        for start in range(0, len(tokens), size)
    ]
    found = run_in_workers(_forms_of, of, tasks, jobs)
    return [(language, table) for (language, _), table in zip(tasks, found, strict=True)]


def _forms_of(of: Callable[[str], Analyzer], task: tuple[str, list[str]]) -> dict[str, str]:
    """The forms of one task's tokens in its language (in a worker)."""
    language, tokens = task
    return _forms_in(of(language), tokens)


def _forms_in(analyzer: Analyzer, tokens: list[str]) -> dict[str, str]:
    """The surface tokens ``analyzer`` reads in ``tokens`` (from other languages) and their terms."""
    # Tokens hold no whitespace, so one text of them all reads as each of them would alone; each surface
    # token is judged once here, so the analyzer need not remember it.
    read = dict.fromkeys(tokens_of("\n".join(tokens), analyzer.language))
    return {token: analyzer.verdict(token) for token in read}
