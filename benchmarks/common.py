"""Shared helpers for the benchmarks: the TF-IDF matrix they all time, the machine, and resource use."""

from __future__ import annotations

import os
import platform
import resource
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from recommender import synthetic
from recommender.score.weighting import weigh

__all__ = ["RssSampler", "Timer", "machine", "peak_rss_mb", "tfidf_matrix"]

STOPWORDS = 300


def machine() -> dict[str, object]:
    """Cores, memory and software versions of this machine, for the record."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    import scipy
    import sklearn

    return {
        "cores": len(os.sched_getaffinity(0)),
        "ram_gb": round(pages / 2**30, 1),
        "cpu": _cpu_name(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler(threading.Thread):
    """Peak resident memory (from /proc/self/statm) sampled in the background."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = 0
        self._stop_event = threading.Event()
        self._page = 4096

    def current_mb(self) -> float:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * self._page / 2**20

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, int(self.current_mb()))
            time.sleep(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return max(float(self.peak), peak_rss_mb())


@dataclass
class Timer:
    """Wall and CPU seconds (all threads of this process) of a ``with`` block."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Timer:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def _tokens(text: str) -> list[str]:
    return text.split()


def tfidf_matrix(n: int, *, corpus: str | None = None, seed: int = 0) -> sp.csr_matrix:
    """The L2-normalised sublinear TF-IDF matrix (float32 CSR) the all-pairs peers are timed on.

    Synthetic (``n`` seeded articles) unless ``corpus`` names a file our reader accepts, of which the
    first ``n`` articles are analysed with our analyzer. The ``STOPWORDS`` most frequent terms are
    dropped and terms in fewer than 2 articles, as in the issue's reference setting.
    """
    documents: Iterable[list[str]]
    if corpus is None:
        documents = (_tokens(text) for text in synthetic.texts(n, seed=seed))
    else:
        from recommender.sources.corpus import read_articles
        from recommender.text.analyzer import Analyzer

        frame = read_articles(corpus).head(n)
        analyzer = Analyzer(stop_words=None)
        documents = (
            analyzer(f"{title or ''} {body}")
            for title, body in zip(frame["title"], frame["body"], strict=True)
        )
    counts = CountVectorizer(analyzer=lambda terms: terms, dtype=np.float32).fit_transform(documents)
    counts = sp.csr_matrix(counts)
    frequency = np.asarray(counts.sum(axis=0)).ravel()
    document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    keep = np.ones(counts.shape[1], dtype=bool)
    keep[np.argsort(-frequency, kind="stable")[:STOPWORDS]] = False
    keep &= document_frequency >= 2
    counts = sp.csr_matrix(counts[:, np.flatnonzero(keep)])
    n_docs = counts.shape[0]
    idf = np.log((1.0 + n_docs) / (1.0 + document_frequency[keep])) + 1.0
    return weigh(counts, idf, tf="log")
