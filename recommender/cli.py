"""Command-line front end: a thin skin over the library; the only module that prints.

Library errors become one ``error: …`` line on stderr and exit code 1 (tracebacks with ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .sources import FORMATS
from .types import Neighbor, RecommenderError

__all__ = ["main"]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _number(text: str) -> int | float:
    """An int when the text is integral ("2"), else a float ("0.8")."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            message = f"not a number: {text!r}"
            raise argparse.ArgumentTypeError(message) from None


def _add_controls(parser: argparse.ArgumentParser, *, batch: bool = False) -> None:
    """The ranking-control and overrides flags, identical on every command that lists links."""
    group = parser.add_argument_group("ranking controls")
    group.add_argument("--max-age", metavar="AGE", help="drop links older than AGE before the article (365d)")
    group.add_argument("--past-only", action="store_true", help="only link articles published before it")
    group.add_argument("--half-life", metavar="AGE", help="decay scores by 0.5^(age/AGE), e.g. 180d")
    group.add_argument("--same-category", action="store_true", help="only link the same category")
    _add_filters(group)
    group.add_argument("--min-relative", type=float, metavar="R", help="drop links below R x the best score")
    group.add_argument("--fill", action="store_true", help="fill short lists with recent articles")
    group.add_argument("--mmr", type=float, metavar="LAMBDA", help="diversify (MMR lambda, e.g. 0.7)")
    group.add_argument(
        "--max-exposure",
        type=int,
        metavar="N",
        help="no article in more than N lists" + ("" if batch else " (across the ids given)"),
    )
    group.add_argument("--overrides", metavar="FILE", help="editorial overrides JSON (pins, blocks, ...)")
    group.add_argument("--lenient", action="store_true", help="warn about unknown ids in --overrides")


def _add_filters(group: Any) -> None:
    """The controls that need no subject article (also on ``query``)."""
    group.add_argument("--exclude-ids", metavar="IDS", help="comma-separated ids never linked")
    group.add_argument("--exclude-categories", metavar="NAMES", help="categories never linked (a,b)")
    group.add_argument("--exclude-tags", metavar="TAGS", help="never link articles with any of these tags")
    group.add_argument("--include-tags", metavar="TAGS", help="only link articles with one of these tags")
    group.add_argument("--min-score", type=float, metavar="S", help="drop links scoring below S")


def _controls(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``related_many`` from the control flags (overrides included)."""
    from .serve.controls import CONTROL_NAMES
    from .serve.overrides import load_overrides

    options: dict[str, Any] = {}
    for name in CONTROL_NAMES:
        value = getattr(args, name, None)
        if value is not None and value is not False:
            options[name] = value
    if getattr(args, "overrides", None):
        options["overrides"] = load_overrides(args.overrides, lenient=args.lenient)
    return options


def _add_settings(parser: argparse.ArgumentParser) -> None:
    """The build settings, shared by ``build`` and ``evaluate`` so a flag means the same on both."""
    parser.add_argument("--title-weight", type=float, help="weight of title terms (default 2)")
    parser.add_argument("--min-df", type=_number, help="drop rarer terms: count or share (default 2)")
    parser.add_argument("--max-df", type=_number, help="drop commoner terms: count or share (default 1.0)")
    parser.add_argument("--bigrams", action="store_true", help="also index adjacent term pairs")
    parser.add_argument(
        "--lsa-weight", type=float, help="share of the score from the LSA projection (default 0.3; 0 = off)"
    )
    parser.add_argument("--lsa-dims", type=int, help="dimensions of the LSA projection (default 200)")
    parser.add_argument("--tf", choices=("log", "bm25"), help="term-frequency weighting (default bm25)")
    parser.add_argument(
        "--hub-weight",
        type=float,
        help="discount of hub articles when ordering lists (default 0.25; 0 = off)",
    )
    parser.add_argument(
        "--keep-duplicates", action="store_true", help="list near-duplicates too (default: hide them)"
    )
    parser.add_argument("--no-stem", action="store_true", help="do not stem words")
    parser.add_argument(
        "--stop-words",
        choices=("english", "nltk", "none"),
        help="stopword list (default english)",
    )
    parser.add_argument(
        "--memory-budget", type=int, metavar="MB", help="neighbour search block memory (default 256)"
    )


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """``Recommender`` settings from the flags given (the rest keep the library defaults)."""
    chosen: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("title_weight", "min_df", "max_df", "lsa_weight", "lsa_dims", "hub_weight")
        if getattr(args, name) is not None
    }
    if args.bigrams:
        chosen["ngrams"] = 2
    if args.tf is not None:
        chosen["tf"] = args.tf
    if args.keep_duplicates:
        chosen["hide_duplicates"] = False
    if args.no_stem:
        chosen["stem"] = False
    if args.stop_words is not None:
        chosen["stop_words"] = None if args.stop_words == "none" else args.stop_words
    if args.memory_budget is not None:
        chosen["memory_budget"] = args.memory_budget * 2**20
    return chosen


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recommender",
        description="Related-article engine: TF-IDF + cosine similarity, built once, served light.",
        formatter_class=_Formatter,
        epilog=(
            "example:\n"
            "  recommender build corpus/geopolitics.jsonl -o models/geopolitics\n"
            "  recommender related models/geopolitics kazakhstan-geopolitical-conundrum -k 8"
        ),
    )
    parser.add_argument("--version", action="version", version=f"recommender {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = commands.add_parser(
        "build",
        help="index a corpus and save the model folder",
        description="Index a corpus and save the model folder (with every article's top-k neighbours).",
        formatter_class=_Formatter,
        epilog=(
            "examples:\n"
            "  recommender build corpus/geopolitics.jsonl -o models/geopolitics -k 20\n"
            "  recommender build ../shared/seed --format page-text -o models/seed --min-df 1\n"
            "  recommender build export.xml feed.atom site/content -o models/site"
        ),
    )
    build.add_argument(
        "corpus",
        metavar="SOURCE",
        nargs="+",
        help="JSONL, JSON, CSV, Parquet (.gz ok), WordPress WXR, RSS or Atom file, or a folder "
        "(text, scraped page text, HTML pages, Hugo/Jekyll Markdown)",
    )
    build.add_argument("-o", "--output", required=True, metavar="MODEL_DIR", help="model folder to write")
    build.add_argument("-k", type=int, default=20, help="neighbours stored per article (default 20)")
    build.add_argument("--format", choices=FORMATS, help="source format (default: guessed per source)")
    build.add_argument("--drafts", action="store_true", help="also read Markdown drafts")
    _add_settings(build)
    build.add_argument("--skip-invalid", action="store_true", help="skip bad records, reporting each one")
    build.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="compute neighbours on a Dask cluster, e.g. tcp://127.0.0.1:8786 (needs recommender[dask])",
    )
    build.add_argument(
        "--language",
        default="auto",
        metavar="CODE",
        help="auto (each article's lang field, else detected; default) or one code for all: en, ru, fr…",
    )
    build.add_argument(
        "--cross-language", action="store_true", help="let articles link to articles in other languages"
    )

    related = commands.add_parser(
        "related",
        help="similar posts for one article",
        description="Print the similar posts of one article from a saved model.",
        formatter_class=_Formatter,
        epilog=(
            "examples:\n"
            "  recommender related models/geopolitics kazakhstan-geopolitical-conundrum -k 8 --json\n"
            "  recommender related models/geopolitics kazakhstan-geopolitical-conundrum --past-only \\\n"
            "      --half-life 365d --same-category --fill --mmr 0.7 --overrides overrides.json"
        ),
    )
    related.add_argument("model", metavar="MODEL_DIR")
    related.add_argument("article_ids", metavar="ARTICLE_ID", nargs="+", help="one or more article ids")
    related.add_argument("-k", type=int, default=8, help="how many links (default 8)")
    related.add_argument(
        "--json",
        action="store_true",
        help="print JSON (an array; an object id → links for several ids)",
    )
    _add_controls(related)
    related.add_argument("--explain", action="store_true", help="show the shared words behind each link")

    query = commands.add_parser(
        "query",
        help="similar posts for a draft text",
        description="Print the indexed articles most similar to a text that is not in the model.",
        formatter_class=_Formatter,
        epilog=(
            "examples:\n"
            "  recommender query models/geopolitics 'Kazakhstan oil exports and sanctions'\n"
            "  recommender query models/geopolitics --file draft.txt --json\n"
            "  cat draft.txt | recommender query models/geopolitics -\n"
            "  recommender query models/geopolitics 'Caspian pipelines' --exclude-ids post-1,post-2\n"
            "numpy only (no NLTK) when the model holds draft tables; older models use the build stack"
        ),
    )
    query.add_argument("model", metavar="MODEL_DIR")
    query.add_argument("text", metavar="TEXT", nargs="?", help="the text, or - to read standard input")
    query.add_argument("--file", metavar="PATH", help="read the text from a file")
    query.add_argument("--title", default="", help="a title for the draft (weighted like article titles)")
    query.add_argument("--lang", metavar="CODE", help="the draft's language (default: detected)")
    query.add_argument("-k", type=int, default=8, help="how many links (default 8)")
    query.add_argument("--json", action="store_true", help="print one JSON array of links")
    _add_filters(query.add_argument_group("filters (models with draft tables)"))

    export = commands.add_parser(
        "export",
        help="related links for every article: json, jsonl, csv, html, hugo or jekyll",
        description=(
            "Write every article's related links from a saved model.\n"
            "hugo and jekyll write one data file per article under SITE/data/related/ or\n"
            "SITE/_data/related/ (-o is the site root); html --per-article writes one fragment per\n"
            "article into the folder -o. Per-article file names are made safe (an id never escapes)."
        ),
        formatter_class=_Formatter,
        epilog=(
            "examples:\n"
            "  recommender export models/geopolitics -o out/related.html -k 8\n"
            "  recommender export models/geopolitics -o out/related.csv --fill --max-exposure 10\n"
            "  recommender export models/geopolitics -o out/site --format hugo --overrides overrides.json\n"
            "  recommender export models/geopolitics -o out/fragments --format html --per-article"
        ),
    )
    export.add_argument("model", metavar="MODEL_DIR")
    export.add_argument("-o", "--output", required=True, metavar="PATH", help="file (or folder) to write")
    export.add_argument(
        "--format",
        choices=("json", "jsonl", "csv", "html", "hugo", "jekyll"),
        help="default: from the file name (.jsonl, .csv, .html), else json",
    )
    export.add_argument("-k", type=int, default=8, help="links per article (default 8)")
    export.add_argument("--explain", action="store_true", help="add each link's shared words (JSON only)")
    export.add_argument(
        "--per-article", action="store_true", help="html: one fragment file per article in the folder -o"
    )
    export.add_argument("--template", metavar="FILE", help="string.Template file for the html block")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_controls(export, batch=True)

    audit = commands.add_parser(
        "audit",
        help="audit the link graph: orphans, exposure, Gini, fill share, changes",
        description=(
            "Audit the lists a model gives (with the same controls and overrides as export): orphans\n"
            "(never recommended), most exposed articles, in-degree distribution and Gini, share of\n"
            "lists with a fill link; with --against, links added and removed per article."
        ),
        formatter_class=_Formatter,
        epilog=(
            "examples:\n"
            "  recommender audit models/geopolitics\n"
            "  recommender audit models/geopolitics-new --against models/geopolitics --json"
        ),
    )
    audit.add_argument("model", metavar="MODEL_DIR")
    audit.add_argument("--against", metavar="OLD_MODEL_DIR", help="compare with an older model's lists")
    audit.add_argument("-k", type=int, default=8, help="links per article (default 8)")
    audit.add_argument("--top", type=int, default=10, help="how many articles to list (default 10)")
    audit.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_controls(audit, batch=True)

    update = commands.add_parser(
        "update",
        help="add, edit and remove articles without a full rebuild",
        description=(
            "Add new articles (and replace edited ones: same id, new text) with the model's frozen\n"
            "vocabulary, IDF and LSA projection, remove articles, and refresh every list a new article now\n"
            "belongs in; duplicate groups, hub scores and lists come out exactly as a build of the new\n"
            "article set with those frozen parts. Writes a complete model atomically and reports drift."
        ),
        formatter_class=_Formatter,
        epilog=(
            "examples:\n"
            "  recommender update models/geopolitics --add new.jsonl -o models/geopolitics-2\n"
            "  recommender update models/geopolitics --remove gone.txt"
        ),
    )
    update.add_argument("model", metavar="MODEL_DIR")
    update.add_argument("--add", metavar="NEW_CORPUS", help="articles to add or replace (any corpus format)")
    update.add_argument("--remove", metavar="IDS_FILE", help="a file of article ids to remove, one per line")
    update.add_argument("-o", "--output", metavar="NEW_MODEL_DIR", help="default: replace MODEL_DIR")
    update.add_argument("--format", choices=("jsonl", "json", "csv", "parquet", "text"), help="corpus format")
    update.add_argument(
        "--max-unseen", type=float, default=0.2, help="recommend a rebuild past this unseen-token share"
    )
    update.add_argument(
        "--max-added", type=float, default=0.3, help="recommend a rebuild past this share of added articles"
    )
    update.add_argument("--json", action="store_true", help="print the update report as JSON")

    evaluate = commands.add_parser(
        "evaluate",
        help="measure related-list quality against labels",
        description=(
            "Build a model in memory and score its top-k lists: precision, recall, nDCG and MRR by a label "
            "field, judgment correlations when records carry 'judgments', link-graph health, build time."
        ),
        formatter_class=_Formatter,
        epilog=(
            "examples:\n"
            "  recommender evaluate ../shared/data/bbc_news.jsonl.gz -k 10 --json > base.json\n"
            "  recommender evaluate ../shared/data/bbc_news.jsonl.gz --max-df 0.5 --json > cut.json\n"
            "  recommender evaluate --compare base.json cut.json"
        ),
    )
    evaluate.add_argument("corpus", metavar="CORPUS", nargs="?", help="corpus file or folder, as for build")
    evaluate.add_argument("--format", choices=FORMATS, help="source format (default: guessed)")
    evaluate.add_argument("--label", default="category", help="field whose shared value means related")
    evaluate.add_argument("-k", type=int, default=10, help="length of the lists scored (default 10)")
    evaluate.add_argument(
        "--exclude",
        default="duplicate_of",
        metavar="FIELD",
        help="leave out articles where FIELD is set (default duplicate_of; '' keeps all)",
    )
    evaluate.add_argument("--threshold", type=float, help="judgment score counted as related for the AUC")
    _add_settings(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--compare", nargs=2, metavar=("A.json", "B.json"), help="print two saved --json runs side by side"
    )

    info = commands.add_parser(
        "info",
        help="describe a saved model",
        description="Print a saved model's format, counts and build settings.",
        formatter_class=_Formatter,
        epilog="example:\n  recommender info models/geopolitics",
    )
    info.add_argument("model", metavar="MODEL_DIR")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="warning: %(message)s")
    try:
        return int(_COMMANDS[args.command](args))
    except RecommenderError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1


def _build(args: argparse.Namespace) -> int:
    from .recommender import Recommender
    from .sources.corpus import read_articles

    started = time.perf_counter()
    articles = read_articles(
        args.corpus, format=args.format, skip_invalid=args.skip_invalid, include_drafts=args.drafts
    )
    _report_skipped(articles.attrs.get("skipped", []))
    model = Recommender(
        k=args.k, language=args.language, cross_language=args.cross_language, **_settings(args)
    ).fit(articles, scheduler=args.scheduler)
    path = model.save(args.output)
    seconds = time.perf_counter() - started
    counts = {lang: model.languages.count(lang) for lang in sorted(set(model.languages))}
    languages = ", ".join(f"{lang} {count}" for lang, count in counts.items())
    print(
        f"built {path}: {len(model)} articles ({languages}), {len(model.vocabulary)} terms, "
        f"{model.neighbors.shape[1]} neighbours each, in {seconds:.2f} s"
    )
    return 0


_SHOWN_SKIPS = 10


def _report_skipped(skipped: list[Any]) -> None:
    """Each record left out (the first few when there are many), then counts of invalid and left-out."""
    for problem in skipped[:_SHOWN_SKIPS]:
        print(f"skipped: {problem}", file=sys.stderr)
    if len(skipped) > _SHOWN_SKIPS:
        print(f"skipped: … and {len(skipped) - _SHOWN_SKIPS} more", file=sys.stderr)
    invalid = sum(1 for problem in skipped if problem.invalid)
    if invalid:
        print(f"skipped {invalid} invalid record(s)", file=sys.stderr)
    if len(skipped) - invalid:
        print(f"left out {len(skipped) - invalid} non-article record(s) (drafts, pages…)", file=sys.stderr)


def _print_links(links: list[Neighbor], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([link.to_dict() for link in links], ensure_ascii=False, indent=2))
        return
    if not links:
        print("no similar posts")
        return
    for link in links:
        reason = "" if link.reason == "similar" else f"  [{link.reason}]"
        date = link.date or ""
        print(f"{link.rank:>3}  {link.score:.3f}  {date:<10}  {link.article_id}  {link.title}{reason}")
        if link.terms is not None:
            shown = ", ".join(f"{shared.term} {shared.share:.0%}" for shared in link.terms)
            print(f"{'':>5}shared: {shown or '(no shared words)'}")


def _related(args: argparse.Namespace) -> int:
    from .serve.index import Index

    index = Index.load(args.model)
    options = _controls(args)
    overrides = options.get("overrides")
    disabled = overrides.disable if overrides is not None else frozenset()
    found = dict(index.related_many(args.article_ids, k=args.k, explain=args.explain, **options))
    if len(args.article_ids) == 1:
        _print_links(found.get(args.article_ids[0], []), as_json=args.json)
        return 0
    if args.json:
        data = {a: [link.to_dict() for link in found.get(a, [])] for a in args.article_ids}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for article_id in args.article_ids:
        print(f"== {article_id}" + (" (disabled by overrides)" if article_id in disabled else ""))
        _print_links(found.get(article_id, []), as_json=False)
    return 0


def _query(args: argparse.Namespace) -> int:
    from .recommender import Recommender
    from .serve.index import Index
    from .types import InvalidParameterError

    if args.file and args.text:
        message = "give the text or --file, not both"
        raise InvalidParameterError(message)
    if args.file:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            message = f"{args.file}: undecodable bytes at byte offset {error.start}; the file must be UTF-8"
            raise InvalidParameterError(message) from None
    elif args.text == "-":
        text = sys.stdin.read()
    elif args.text is not None:
        text = args.text
    else:
        message = "give the query TEXT, --file PATH, or - to read standard input"
        raise InvalidParameterError(message)
    index = Index.load(args.model)
    filters = _controls(args)
    if index.answers_drafts:
        links = index.query(text, k=args.k, title=args.title, lang=args.lang, **filters)
    elif filters:
        message = (
            f"{args.model}: filters on drafts need a model with draft tables; rebuild it with this version"
        )
        raise InvalidParameterError(message)
    else:  # a model written before the draft tables: the build stack can still analyse the draft
        links = Recommender.load(args.model).query(text, k=args.k, title=args.title, lang=args.lang)
    _print_links(links, as_json=args.json)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .outputs.export import export_links
    from .serve.index import Index

    output = Path(args.output)
    suffixes = {".csv": "csv", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".ndjson": "jsonl"}
    chosen = args.format or ("html" if args.per_article else suffixes.get(output.suffix.lower(), "json"))
    index = Index.load(args.model)
    written = export_links(
        index,
        output,
        format=chosen,
        k=args.k,
        explain=args.explain,
        per_article=args.per_article,
        template=args.template,
        progress=not args.quiet and sys.stderr.isatty(),
        **_controls(args),
    )
    if not args.quiet:
        print(f"wrote {written} ({chosen}, {len(index)} articles, up to {args.k} links each)")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from .outputs.audit import audit_links
    from .serve.index import Index

    options = _controls(args)
    report = audit_links(
        Index.load(args.model),
        against=Index.load(args.against) if args.against else None,
        k=args.k,
        top=args.top,
        **options,
    )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text())
    return 0


def _update(args: argparse.Namespace) -> int:
    from .build.update import read_ids, update_model

    if not args.add and not args.remove:
        from .types import InvalidParameterError

        message = "nothing to do: give --add NEW_CORPUS and/or --remove IDS_FILE"
        raise InvalidParameterError(message)
    started = time.perf_counter()
    report = update_model(
        args.model,
        add=args.add,
        remove=read_ids(args.remove) if args.remove else (),
        output=args.output,
        format=args.format,
        max_unseen=args.max_unseen,
        max_added=args.max_added,
    )
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text() + f"\ntook {seconds:.2f} s")
    return 0


_REPORT_ROWS = (
    ("n", "articles scored"),
    ("k", "k"),
    ("precision_at_k", "precision@k"),
    ("recall_at_k", "recall@k"),
    ("ndcg_at_k", "nDCG@k"),
    ("mrr", "MRR"),
    ("pearson", "Pearson (judgments)"),
    ("spearman", "Spearman (judgments)"),
    ("auc", "ROC AUC (judgments)"),
    ("coverage", "coverage"),
    ("max_in_degree", "max in-degree"),
    ("gini_in_degree", "Gini of in-degrees"),
    ("intra_list_similarity", "intra-list similarity"),
    ("hidden_duplicates", "near-duplicates hidden"),
    ("seconds", "build seconds"),
)


def _evaluate(args: argparse.Namespace) -> int:
    from .types import InvalidParameterError

    if args.compare:
        if args.corpus:
            message = "give a CORPUS to evaluate or --compare A.json B.json, not both"
            raise InvalidParameterError(message)
        runs = [_read_report(path) for path in args.compare]
        _print_reports(runs, [Path(path).name for path in args.compare])
        return 0
    if not args.corpus:
        message = "give the CORPUS to evaluate (or --compare A.json B.json)"
        raise InvalidParameterError(message)
    from .analysis.evaluate import evaluate
    from .sources.corpus import read_articles

    articles = read_articles(args.corpus, format=args.format)
    report = evaluate(
        articles,
        _settings(args),
        label=args.label,
        k=args.k,
        exclude=args.exclude or None,
        threshold=args.threshold,
    )
    data = report.to_dict()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    _print_reports([data], [Path(args.corpus).name])
    if report.excluded:
        print(f"left out {report.excluded} article(s) with {args.exclude} set")
    print()
    print(report.to_frame().round(3).to_string())
    return 0


def _read_report(path: str) -> dict[str, Any]:
    from .types import InvalidParameterError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        message = (
            f"{path}: cannot read an evaluation report ({error}); "
            "write one with: recommender evaluate CORPUS --json"
        )
        raise InvalidParameterError(message) from None
    if not isinstance(data, dict) or "precision_at_k" not in data:
        message = f"{path}: not an evaluation report; write one with: recommender evaluate CORPUS --json"
        raise InvalidParameterError(message)
    return data


def _print_reports(runs: list[dict[str, Any]], names: list[str]) -> None:
    width = max(12, *(len(name) for name in names))
    print(f"{'':<24}" + "".join(f"{name:>{width + 2}}" for name in names))
    for key, caption in _REPORT_ROWS:
        if all(key not in run or run[key] is None for run in runs):
            continue
        cells = []
        for run in runs:
            value = run.get(key)
            cells.append(
                f"{value:>{width + 2}.3f}" if isinstance(value, float) else f"{value!s:>{width + 2}}"
            )
        print(f"{caption:<24}" + "".join(cells))


def _info(args: argparse.Namespace) -> int:
    from .store import open_model

    folder = open_model(args.model)
    manifest: dict[str, Any] = folder.manifest
    if args.json:
        print(json.dumps(manifest, ensure_ascii=False, indent=2))
        return 0
    print(f"model:    {folder.path}")
    version = f"v{manifest['format_version']} (library {manifest.get('library_version')})"
    print(f"format:   {manifest['format']} {version}")
    for name, value in folder.counts.items():
        print(f"{name + ':':<10}{value}")
    for name, value in folder.parameters.items():
        print(f"  {name} = {value!r}")
    return 0


_COMMANDS = {
    "build": _build,
    "evaluate": _evaluate,
    "related": _related,
    "query": _query,
    "export": _export,
    "audit": _audit,
    "update": _update,
    "info": _info,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
