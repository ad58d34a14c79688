"""The argument parser: one function per command declares its arguments, help and examples.

Each command's parser stores the function that runs it (:mod:`.commands`) as ``run``; the shared flag
groups come from :mod:`.flags`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .._version import __version__
from ..sources import FORMATS
from . import commands
from .flags import add_controls, add_filters, add_settings

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The ``recommender`` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="recommender",
        description="Related-article engine: TF-IDF + cosine similarity, built once, served light.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "example:\n"
            "  recommender build corpus/geopolitics.jsonl -o models/geopolitics\n"
            "  recommender related models/geopolitics kazakhstan-geopolitical-conundrum -k 8"
        ),
    )
    parser.add_argument("--version", action="version", version=f"recommender {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for declare in (
        _build,
        _related,
        _query,
        _export,
        _audit,
        _update,
        _upgrade,
        _evaluate,
        _info,
        _serve,
        _report,
        _replay,
    ):
        declare(subparsers)
    return parser


def _command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    run: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    """A command's parser, which runs ``run``; ``epilog`` holds its examples."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def _quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no stage progress on standard error (shown on a terminal otherwise)."""
    parser.add_argument("--quiet", action="store_true", help="no progress on standard error")


def _build(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "build",
        commands.build,
        help="index a corpus and save the model folder",
        description="Index a corpus and save the model folder (with every article's top-k neighbours).",
        epilog=(
            "examples:\n"
            "  recommender build corpus/geopolitics.jsonl -o models/geopolitics -k 20\n"
            "  recommender build ../shared/seed --format page-text -o models/seed --min-df 1\n"
            "  recommender build export.xml feed.atom site/content -o models/site"
        ),
    )
    _quiet(parser)
    parser.add_argument(
        "corpus",
        metavar="SOURCE",
        nargs="+",
        help="JSONL, JSON, CSV, Parquet (.gz ok), WordPress WXR, RSS or Atom file, or a folder "
        "(text, scraped page text, HTML pages, Hugo/Jekyll Markdown)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="MODEL_DIR", help="model folder to write")
    parser.add_argument("--format", choices=FORMATS, help="source format (default: guessed per source)")
    parser.add_argument("--drafts", action="store_true", help="also read Markdown drafts")
    _reading_flags(parser)
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="compute neighbours on a Dask cluster, e.g. tcp://127.0.0.1:8786 (needs recommender[dask])",
    )
    _add_writer_flags(parser)
    add_settings(parser, "build")


def _reading_flags(parser: argparse.ArgumentParser) -> None:
    """How a command that reads a corpus treats bad records and dates it cannot read by default."""
    parser.add_argument("--skip-invalid", action="store_true", help="skip bad records, reporting each one")
    parser.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="how the corpus writes dates, if not ISO 8601, RFC 2822, 'July 24, 2024' or '24 July 2024': "
        "a strptime pattern such as %%d/%%m/%%Y, or unix",
    )


def _add_writer_flags(parser: argparse.ArgumentParser) -> None:
    """How a command that publishes a model treats another writer and old generations."""
    parser.add_argument(
        "--no-wait", action="store_true", help="fail at once if another writer holds the model"
    )
    parser.add_argument(
        "--keep", type=int, default=2, metavar="N", help="published generations kept (default 2)"
    )


def _related(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "related",
        commands.related,
        help="similar posts for one article",
        description="Print the similar posts of one article from a saved model.",
        epilog=(
            "examples:\n"
            "  recommender related models/geopolitics kazakhstan-geopolitical-conundrum -k 8 --json\n"
            "  recommender related models/geopolitics kazakhstan-geopolitical-conundrum --past-only \\\n"
            "      --half-life 365d --same-category --fill --mmr 0.7 --overrides overrides.json"
        ),
    )
    parser.add_argument("model", metavar="MODEL_DIR")
    parser.add_argument("article_ids", metavar="ARTICLE_ID", nargs="+", help="one or more article ids")
    parser.add_argument("-k", type=int, default=8, help="how many links (default 8)")
    parser.add_argument(
        "--json", action="store_true", help="print JSON (an array; an object id → links for several ids)"
    )
    add_controls(parser)
    parser.add_argument("--explain", action="store_true", help="show the shared words behind each link")


def _query(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "query",
        commands.query,
        help="similar posts for a draft text",
        description="Print the indexed articles most similar to a text that is not in the model.",
        epilog=(
            "examples:\n"
            "  recommender query models/geopolitics 'Kazakhstan oil exports and sanctions'\n"
            "  recommender query models/geopolitics --file draft.txt --json\n"
            "  cat draft.txt | recommender query models/geopolitics -\n"
            "  recommender query models/geopolitics 'Caspian pipelines' --exclude-ids post-1,post-2\n"
            "numpy only (no NLTK) when the model holds draft tables; older models use the build stack"
        ),
    )
    parser.add_argument("model", metavar="MODEL_DIR")
    parser.add_argument("text", metavar="TEXT", nargs="?", help="the text, or - to read standard input")
    parser.add_argument("--file", metavar="PATH", help="read the text from a file")
    parser.add_argument("--title", default="", help="a title for the draft (weighted like article titles)")
    parser.add_argument("--lang", metavar="CODE", help="the draft's language (default: detected)")
    parser.add_argument("-k", type=int, default=8, help="how many links (default 8)")
    parser.add_argument("--json", action="store_true", help="print one JSON array of links")
    parser.add_argument(
        "--semantic",
        metavar="MODEL",
        help="the encoder folder of a semantic model, if it moved since the build (same fingerprint)",
    )
    add_filters(parser.add_argument_group("filters (models with draft tables)"))


def _export(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..outputs.export import EXPORT_FORMATS

    parser = _command(
        subparsers,
        "export",
        commands.export,
        help="related links for every article: json, jsonl, csv, html, hugo or jekyll",
        description=(
            "Write every article's related links from a saved model.\n"
            "hugo and jekyll write one data file per article under SITE/data/related/ or\n"
            "SITE/_data/related/ (-o is the site root); html --per-article writes one fragment per\n"
            "article into the folder -o. Per-article file names are made safe (an id never escapes)."
        ),
        epilog=(
            "examples:\n"
            "  recommender export models/geopolitics -o out/related.html -k 8\n"
            "  recommender export models/geopolitics -o out/related.csv --fill --max-exposure 10\n"
            "  recommender export models/geopolitics -o out/site --format hugo --overrides overrides.json\n"
            "  recommender export models/geopolitics -o out/fragments --format html --per-article"
        ),
    )
    parser.add_argument("model", metavar="MODEL_DIR")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="file (or folder) to write; - for standard output",
    )
    parser.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        help="default: from the file name (.jsonl, .csv, .html), else json",
    )
    parser.add_argument("-k", type=int, default=8, help="links per article (default 8)")
    parser.add_argument("--explain", action="store_true", help="add each link's shared words (JSON only)")
    parser.add_argument(
        "--per-article", action="store_true", help="html: one fragment file per article in the folder -o"
    )
    parser.add_argument("--template", metavar="FILE", help="string.Template file for the html block")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_controls(parser, batch=True)


def _audit(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "audit",
        commands.audit,
        help="audit the link graph: orphans, exposure, Gini, fill share, changes",
        description=(
            "Audit the lists a model gives (with the same controls and overrides as export): orphans\n"
            "(never recommended), most exposed articles, in-degree distribution and Gini, share of\n"
            "lists with a fill link; with --against, links added and removed per article."
        ),
        epilog=(
            "examples:\n"
            "  recommender audit models/geopolitics\n"
            "  recommender audit models/geopolitics-new --against models/geopolitics --json"
        ),
    )
    parser.add_argument("model", metavar="MODEL_DIR")
    parser.add_argument("--against", metavar="OLD_MODEL_DIR", help="compare with an older model's lists")
    parser.add_argument("-k", type=int, default=8, help="links per article (default 8)")
    parser.add_argument("--top", type=int, default=10, help="how many articles to list (default 10)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_controls(parser, batch=True)


def _update(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "update",
        commands.update,
        help="add, edit and remove articles without a full rebuild",
        description=(
            "Add new articles (and replace edited ones: same id, new text) with the model's frozen\n"
            "vocabulary, IDF and LSA projection, remove articles, and refresh every list a new article now\n"
            "belongs in; duplicate groups, hub scores and lists come out exactly as a build of the new\n"
            "article set with those frozen parts. Writes a complete model atomically and reports drift."
        ),
        epilog=(
            "examples:\n"
            "  recommender update models/geopolitics --add new.jsonl -o models/geopolitics-2\n"
            "  recommender update models/geopolitics --remove gone.txt"
        ),
    )
    _quiet(parser)
    parser.add_argument("model", metavar="MODEL_DIR")
    parser.add_argument("--add", metavar="NEW_CORPUS", help="articles to add or replace (any corpus format)")
    parser.add_argument("--remove", metavar="IDS_FILE", help="a file of article ids to remove, one per line")
    parser.add_argument("-o", "--output", metavar="NEW_MODEL_DIR", help="default: replace MODEL_DIR")
    parser.add_argument("--format", choices=FORMATS, help="format of NEW_CORPUS (default: guessed)")
    parser.add_argument(
        "--max-unseen", type=float, default=0.2, help="recommend a rebuild past this unseen-token share"
    )
    parser.add_argument(
        "--max-added", type=float, default=0.3, help="recommend a rebuild past this share of added articles"
    )
    parser.add_argument("--json", action="store_true", help="print the update report as JSON")
    parser.add_argument(
        "--semantic",
        metavar="MODEL",
        help="the encoder folder of a semantic model, if it moved since the build (same fingerprint)",
    )
    _reading_flags(parser)
    _add_writer_flags(parser)


def _upgrade(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "upgrade",
        commands.upgrade,
        help="rewrite a model saved by an older version in the current format and layout",
        description=(
            "Rewrite a model folder saved by an older version (a flat folder, or an older format\n"
            "version) as a generation of the current format, in place, without re-fitting: the\n"
            "previous files stay readable until the new generation is current, then only they go."
        ),
        epilog="example:\n  recommender upgrade models/geopolitics",
    )
    parser.add_argument("model", metavar="MODEL_DIR")
    _add_writer_flags(parser)


def _evaluate(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "evaluate",
        commands.evaluate,
        help="measure related-list quality against labels",
        description=(
            "Build a model in memory and score its top-k lists: precision, recall, nDCG and MRR by a label "
            "field, judgment correlations when records carry 'judgments', link-graph health, build time."
        ),
        epilog=(
            "examples:\n"
            "  recommender evaluate ../shared/data/bbc_news.jsonl.gz -k 10 --json > base.json\n"
            "  recommender evaluate ../shared/data/bbc_news.jsonl.gz --max-df 0.5 --json > cut.json\n"
            "  recommender evaluate --compare base.json cut.json"
        ),
    )
    _quiet(parser)
    parser.add_argument("corpus", metavar="CORPUS", nargs="?", help="corpus file or folder, as for build")
    parser.add_argument("--format", choices=FORMATS, help="source format (default: guessed)")
    _reading_flags(parser)
    parser.add_argument("--label", default="category", help="field whose shared value means related")
    parser.add_argument("-k", type=int, default=10, help="length of the lists scored (default 10)")
    parser.add_argument(
        "--exclude",
        default="duplicate_of",
        metavar="FIELD",
        help="leave out articles where FIELD is set (default duplicate_of; '' keeps all)",
    )
    parser.add_argument("--threshold", type=float, help="judgment score counted as related for the AUC")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--compare", nargs=2, metavar=("A.json", "B.json"), help="print two saved --json runs side by side"
    )
    add_settings(parser, "evaluate")


def _info(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "info",
        commands.info,
        help="describe a saved model",
        description="Print a saved model's format, counts and build settings.",
        epilog="example:\n  recommender info models/geopolitics",
    )
    parser.add_argument("model", metavar="MODEL_DIR")
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")


def _serve(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "serve",
        commands.serve,
        help="answer related lists and drafts over HTTP (JSON), taking new generations live",
        description=(
            "Serve a model over HTTP: GET /related/ID (with k, explain and every ranking control),\n"
            "POST /query, GET /articles?search=, GET /healthz, GET /metrics. A generation that build or\n"
            "update publishes is taken without a restart; requests in flight finish on their own.\n"
            "An editor's page at / shows each list and, with the token, pins, blocks and hides.\n"
            "Needs the serve extra: pip install 'recommender[serve]'."
        ),
        epilog=(
            "examples:\n"
            "  recommender serve models/geopolitics --port 8000\n"
            "  curl 'http://127.0.0.1:8000/related/kazakhstan-geopolitical-conundrum?k=5&past_only=true'\n"
            "  recommender serve --variant a=models/old --variant b=models/new --split 50 --events events.db"
        ),
    )
    parser.add_argument("model", metavar="MODEL_DIR", nargs="?", help="the model (or give --variant twice)")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=MODEL",
        help="an A/B test: serve MODEL to the visitors assigned NAME (repeat for each variant)",
    )
    parser.add_argument(
        "--split",
        action="append",
        type=float,
        metavar="PERCENT",
        help="the first variant's share of visitors in percent (repeat for more variants; default: equal)",
    )
    parser.add_argument(
        "--events",
        metavar="FILE",
        help="keep readers' impressions and clicks (POST /events) in this SQLite file",
    )
    parser.add_argument(
        "--events-retention",
        default="90d",
        metavar="DAYS",
        help="delete events older than this (default 90d; 'forever' keeps them all)",
    )
    parser.add_argument(
        "--events-rate",
        type=float,
        default=5.0,
        metavar="N",
        help="event batches a second one client address may send (default 5; 0 = no limit)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--token",
        help="allows the writes: POST /reload and the editor's changes (default: $RECOMMENDER_TOKEN; "
        "without one, read-only)",
    )
    parser.add_argument("--overrides", metavar="FILE", help="editorial overrides, read again when changed")
    parser.add_argument("--template", metavar="FILE", help="the site's HTML block template (as for export)")
    parser.add_argument(
        "--cors-origin", action="append", default=[], metavar="ORIGIN", help="allow browser calls from ORIGIN"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the checksums at each load (faster)")
    parser.add_argument("--quiet", action="store_true", help="no line per request on standard error")


def _port(text: str) -> int:
    """``--port``: a TCP port number, 0 to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        message = f"a port is a whole number from 0 to 65535, got {text!r}"
        raise argparse.ArgumentTypeError(message)
    return port


def _report(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "report",
        commands.report,
        help="readers' impressions, clicks and CTR from an events file, and the A/B test's verdict",
        description=(
            "Report the events that serve --events stored: impressions, clicks and CTR overall, by rank,\n"
            "by reason and by article (best and worst), and per variant with the difference, its\n"
            "confidence interval, a significance test and the sample size still needed."
        ),
        epilog="examples:\n  recommender report events.db --since 7d\n  recommender report events.db --json",
    )
    parser.add_argument("database", metavar="EVENTS_DB")
    parser.add_argument("--since", help="only events from then on: 7d, 24h, 30m, 2w or an ISO date")
    parser.add_argument("--min-impressions", type=int, default=100, help="articles listed need this many")
    parser.add_argument("--top", type=int, default=10, help="best and worst articles listed (default 10)")
    parser.add_argument("--alpha", type=float, default=0.05, help="the test's significance level (0.05)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _replay(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subparsers,
        "replay",
        commands.replay,
        help="score a candidate model against the logged clicks before serving it",
        description=(
            "Replay logged events on a candidate model: of the links readers were shown on each page,\n"
            "those the candidate would also show, their CTR (the replay estimate), and the share of\n"
            "logged clicks it keeps. Biased towards the model that was served; an A/B test settles it."
        ),
        epilog="example:\n  recommender replay models/candidate events.db -k 8 --since 30d",
    )
    parser.add_argument("model", metavar="MODEL_DIR")
    parser.add_argument("database", metavar="EVENTS_DB")
    parser.add_argument("-k", type=int, default=8, help="links per page the candidate would show (8)")
    parser.add_argument("--since", help="only events from then on: 7d, 24h, 30m, 2w or an ISO date")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
