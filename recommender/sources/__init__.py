"""Readers for what publishers actually have: scraped pages, static sites, WordPress exports, feeds.

Each module turns one kind of source into ``(location, record)`` pairs (see :mod:`._base`);
:func:`recommender.sources.corpus.read_articles` picks the reader and validates the records. This package root
stays light (no pandas) so the command line can list the formats cheaply.
"""

from __future__ import annotations

__all__ = ["FORMATS"]

#: Values accepted by ``format=`` / ``--format``.
FORMATS = (
    "jsonl", "json", "csv", "parquet", "text", "page-text", "html", "markdown", "wxr", "rss", "atom",
)  # fmt: skip
