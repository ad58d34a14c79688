"""What each command runs: read its arguments, call the library, print the result.

Each function takes the parsed arguments and returns the exit code; library errors propagate to
:func:`recommender.cli.main`, which prints them. Heavy modules are imported inside the functions, so
``recommender --help`` stays quick.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..text.printable import printable
from ..types import InvalidParameterError
from .cluster import build_on_cluster, connect
from .flags import controls_given, settings_given
from .output import print_comparison, print_json, print_links, print_reports, report_skipped, stages

__all__ = [
    "audit",
    "build",
    "evaluate",
    "export",
    "info",
    "query",
    "related",
    "replay",
    "report",
    "serve",
    "update",
    "upgrade",
]


def build(args: argparse.Namespace) -> int:
    """``recommender build``: read the sources, fit, save, and say what was built."""
    from ..build.pipeline import warm_languages
    from ..recommender import Recommender
    from ..sources.corpus import read_articles
    from ..store import check_target

    started = time.perf_counter()
    recommender = Recommender(**settings_given(args, "build"))  # a bad setting is refused before reading
    check_target(args.output)  # so is a folder that is not a model
    stage = stages(_shown(args))
    if args.scheduler and not recommender.settings.semantic:
        built, where = build_on_cluster(args, recommender.settings, stage, shown=_shown(args))
        _say_built(Path(args.output), type(recommender).from_stored(built), started, where)
        return 0
    warm_languages(recommender.settings, args.corpus)
    with stage("read"):
        articles = read_articles(
            args.corpus,
            format=args.format,
            skip_invalid=args.skip_invalid,
            include_drafts=args.drafts,
            date_format=args.date_format,
        )
    report_skipped(articles.attrs.get("skipped", []))
    cluster, where = connect(args, shown=_shown(args))
    try:
        model = recommender.fit(articles, scheduler=cluster and cluster.client, stage=stage)
    finally:
        if cluster is not None:
            cluster.close()
    with stage("save"):
        path = model.save(args.output, wait=not args.no_wait, keep=args.keep)
    _say_built(path, model, started, where)
    return 0


def _say_built(path: Path, model: Any, started: float, where: str) -> None:
    seconds = time.perf_counter() - started
    counts = Counter(model.languages)
    languages = ", ".join(f"{lang} {count}" for lang, count in sorted(counts.items()))
    print(
        f"built {path}: {len(model)} articles ({languages}), {len(model.vocabulary)} terms, "
        f"{model.neighbors.shape[1]} neighbours each, in {seconds:.2f} s{where}"
    )


def related(args: argparse.Namespace) -> int:
    """``recommender related``: the links of one article, or of several under a heading each."""
    from ..serve.index import Index

    index = Index.load(args.model)
    options = controls_given(args)
    overrides = options.get("overrides")
    disabled = overrides.disable if overrides is not None else frozenset()
    found = dict(index.related_many(args.article_ids, k=args.k, explain=args.explain, **options))
    if len(args.article_ids) == 1:
        print_links(found.get(args.article_ids[0], []), as_json=args.json)
        return 0
    if args.json:
        print_json({a: [link.to_dict() for link in found.get(a, [])] for a in args.article_ids})
        return 0
    for article_id in args.article_ids:
        print(printable(f"== {article_id}") + (" (disabled by overrides)" if article_id in disabled else ""))
        print_links(found.get(article_id, []), as_json=False)
    return 0


def query(args: argparse.Namespace) -> int:
    """``recommender query``: the articles most similar to a draft text."""
    from ..serve.index import Index

    text = _draft_text(args)
    index = Index.load(args.model)
    vector = None
    recorded = index.engine.semantic
    if recorded is not None and index.engine.semantic_weight > 0:  # the model's encoder embeds the draft
        from ..build.semantic import embed_draft

        semantic = args.semantic or index.manifest["parameters"].get("semantic")
        vector = embed_draft(recorded, str(semantic), text, args.title)
    links = index.query(
        text, k=args.k, title=args.title, lang=args.lang, vector=vector, **controls_given(args)
    )
    print_links(links, as_json=args.json)
    return 0


def _draft_text(args: argparse.Namespace) -> str:
    """The draft from the TEXT argument, ``--file`` or standard input (``-``)."""
    if args.file and args.text:
        message = "give the text or --file, not both"
        raise InvalidParameterError(message)
    if args.file:
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            message = f"{args.file}: undecodable bytes at byte offset {error.start}; the file must be UTF-8"
            raise InvalidParameterError(message) from None
    if args.text == "-":
        return sys.stdin.read()
    if args.text is not None:
        return str(args.text)
    message = "give the query TEXT, --file PATH, or - to read standard input"
    raise InvalidParameterError(message)


_EXPORT_SUFFIXES = {".csv": "csv", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def export(args: argparse.Namespace) -> int:
    """``recommender export``: every article's links into a file or a site's data folder."""
    from ..outputs.export import export_links, render_links
    from ..serve.index import Index

    output = Path(args.output)
    guessed = "html" if args.per_article else _EXPORT_SUFFIXES.get(output.suffix.lower(), "json")
    chosen = args.format or guessed
    index = Index.load(args.model)
    options: dict[str, Any] = {
        "format": chosen,
        "k": args.k,
        "explain": args.explain,
        "template": args.template,
        "progress": not args.quiet and sys.stderr.isatty(),
        **controls_given(args),
    }
    if args.output == "-":  # standard output carries the export alone
        if args.per_article:
            message = "--per-article writes a folder of files; give a folder with -o, not '-'"
            raise InvalidParameterError(message)
        sys.stdout.write(render_links(index, **options))
        return 0
    written = export_links(index, output, per_article=args.per_article, **options)
    if not args.quiet:
        print(f"wrote {written} ({chosen}, {len(index)} articles, up to {args.k} links each)")
    return 0


def audit(args: argparse.Namespace) -> int:
    """``recommender audit``: the link graph's health, optionally against an older model."""
    from ..outputs.audit import audit_links
    from ..serve.index import Index

    options = controls_given(args)
    report = audit_links(
        Index.load(args.model),
        against=Index.load(args.against) if args.against else None,
        k=args.k,
        top=args.top,
        **options,
    )
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.to_text())
    return 0


def update(args: argparse.Namespace) -> int:
    """``recommender update``: add, replace and remove articles, then report the drift."""
    from ..build.update import read_ids, update_model
    from ..sources.corpus import read_articles

    if not args.add and not args.remove:
        message = "nothing to do: give --add NEW_CORPUS and/or --remove IDS_FILE"
        raise InvalidParameterError(message)
    started = time.perf_counter()
    stage = stages(_shown(args))
    added = None
    if args.add:
        with stage("read"):
            added = read_articles(
                args.add, format=args.format, skip_invalid=args.skip_invalid, date_format=args.date_format
            )
        report_skipped(added.attrs.get("skipped", []))
    report = update_model(
        args.model,
        add=added,
        remove=read_ids(args.remove) if args.remove else (),
        output=args.output,
        format=args.format,
        max_unseen=args.max_unseen,
        max_added=args.max_added,
        wait=not args.no_wait,
        keep=args.keep,
        stage=stage,
        semantic=args.semantic,
    )
    seconds = time.perf_counter() - started
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.to_text() + f"\ntook {seconds:.2f} s")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """``recommender evaluate``: score a corpus's lists, or print two saved reports side by side."""
    if args.compare:
        if args.corpus:
            message = "give a CORPUS to evaluate or --compare A.json B.json, not both"
            raise InvalidParameterError(message)
        return _compare_runs(args)
    if not args.corpus:
        message = "give the CORPUS to evaluate (or --compare A.json B.json)"
        raise InvalidParameterError(message)
    from ..analysis.evaluate import evaluate as evaluate_articles
    from ..sources.corpus import read_articles

    stage = stages(_shown(args))
    with stage("read"):
        articles = read_articles(
            args.corpus, format=args.format, skip_invalid=args.skip_invalid, date_format=args.date_format
        )
    report_skipped(articles.attrs.get("skipped", []))
    report = evaluate_articles(
        articles,
        settings_given(args, "evaluate"),
        label=args.label,
        k=args.k,
        exclude=args.exclude or None,
        threshold=args.threshold,
        stage=stage,
    )
    data = report.to_dict()
    if args.json:
        print_json(data, strict=True)
        return 0
    print_reports([data], [Path(args.corpus).name])
    if report.excluded:
        print(printable(f"left out {report.excluded} article(s) with {args.exclude} set"))
    if report.judgments_left_out:
        print(
            printable(
                f"left out {report.judgments_left_out} judgment(s) naming or made by an article with "
                f"{args.exclude} set"
            )
        )
    print()
    print(printable(report.to_frame().round(3).to_string()))
    return 0


def _compare_runs(args: argparse.Namespace) -> int:
    """``recommender evaluate --compare A.json B.json``: two saved runs side by side, then paired."""
    runs = [_read_report(path) for path in args.compare]
    paired = _paired(runs, args.compare)
    if args.json:
        comparison = None if paired is None else paired[0]
        scored = None if paired is None else paired[1]
        data = {"a": args.compare[0], "b": args.compare[1], "scored": scored, "comparison": comparison}
        print_json(data, strict=True)
        return 0
    print_reports(runs, [Path(path).name for path in args.compare])
    print()
    if paired is None:
        print("no per-article values in a run (saved by an older version): evaluate it again for intervals")
    else:
        print_comparison(*paired)
    return 0


def _shown(args: argparse.Namespace) -> bool:
    """Whether to show progress: standard error is a terminal and ``--quiet`` was not given."""
    return not args.quiet and sys.stderr.isatty()


def _paired(
    runs: list[dict[str, Any]], paths: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, int]] | None:
    """B against A article by article (``analysis.compare``) and how many articles each run scored and
    both did, or None when a run lacks per-article values. Runs of a different label are refused."""
    from ..analysis.compare import check_comparable, compare
    from ..analysis.evaluate import Report

    reports = [Report.from_dict(run, source=path) for run, path in zip(runs, paths, strict=True)]
    check_comparable(reports[0], reports[1], names=(paths[0], paths[1]))
    for report, path in zip(reports, paths, strict=True):
        if report.per_article and not len(report.per_article.get("id", [])):
            message = f"{path}: the run scored no article (articles scored 0): there is nothing to compare"
            raise InvalidParameterError(message)
    if any(not report.per_article for report in reports):
        return None
    frame = compare(*reports)
    rows = {
        str(metric): {str(column): _plain(frame.at[metric, column]) for column in frame.columns}
        for metric in frame.index
    }
    return rows, dict(frame.attrs["scored"])


def _plain(value: Any) -> Any:
    """A numpy number as the Python number JSON writes."""
    return value.item() if hasattr(value, "item") else value


def _read_report(path: str) -> dict[str, Any]:
    """A report saved by ``evaluate --json``, or an error saying how to write one."""
    import json

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


def upgrade(args: argparse.Namespace) -> int:
    """``recommender upgrade``: an older model rewritten in the current format and layout, in place."""
    from ..store import current_generation, open_model
    from ..store import upgrade as upgrade_model

    before = current_generation(args.model)
    upgrade_model(args.model, wait=not args.no_wait, keep=args.keep)
    after = current_generation(args.model)
    with open_model(args.model) as folder:
        version = folder.version
    change = "already current" if before == after else f"now generation {after}"
    print(f"{args.model}: format version {version}, {change}")
    return 0


def info(args: argparse.Namespace) -> int:
    """``recommender info``: a saved model's format, counts and build settings."""
    from ..store import open_model

    folder = open_model(args.model)
    manifest: dict[str, Any] = folder.manifest
    if args.json:
        print_json(manifest)
        return 0
    version = f"v{manifest['format_version']} (library {manifest.get('library_version')})"
    rows = {
        "model": str(folder.path),
        "generation": folder.generation or "(a flat folder written by an older version)",
        "format": f"{manifest['format']} {version}",
        **{name: str(value) for name, value in folder.counts.items()},
    }
    width = max(map(len, rows)) + 2
    for name, value in rows.items():
        print(f"{name + ':':<{width}}{value}")
    for name, value in folder.parameters.items():
        print(f"  {name} = {value!r}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """``recommender serve``: the HTTP API over a model, until interrupted."""
    try:
        import uvicorn

        from ..web import app
    except ImportError as error:
        message = (
            f"serving over HTTP needs the serve extra ({error.name} is missing): "
            "pip install 'recommender[serve]'"
        )
        raise InvalidParameterError(message) from None
    token = args.token or os.environ.get("RECOMMENDER_TOKEN") or None
    variants: dict[str, str] = {}
    for given in args.variant:
        name, equals, path = given.partition("=")
        if not equals or not name or not path:
            message = f"--variant takes NAME=MODEL_DIR, got {given!r}"
            raise InvalidParameterError(message)
        if name in variants:
            message = f"--variant {name} is given twice"
            raise InvalidParameterError(message)
        variants[name] = path
    application = app(
        args.model,
        token=token,
        overrides=args.overrides,
        cors_origins=tuple(args.cors_origin),
        verify=not args.no_verify,
        template=args.template,
        events=args.events,
        events_retention=_days(args.events_retention),
        events_rate=args.events_rate,
        variants=variants or None,
        split=args.split,
    )
    uvicorn.run(
        application,
        host=args.host,
        port=args.port,
        log_level="warning" if args.quiet else "info",
        access_log=not args.quiet,
    )
    return 0


def _days(text: str) -> float | None:
    """``--events-retention``: days, as ``90``, ``90d``, ``12w`` or ``forever`` (None)."""
    folded = text.strip().lower()
    if folded in ("forever", "none", "never"):
        return None
    scale = {"d": 1.0, "w": 7.0}.get(folded[-1:])
    try:
        days = float(folded[:-1] if scale else folded) * (scale or 1.0)
    except ValueError:
        days = float("nan")
    if not days > 0:
        message = f"--events-retention takes days such as 90, 90d or 12w (or 'forever'), got {text!r}"
        raise InvalidParameterError(message)
    return days


def report(args: argparse.Namespace) -> int:
    """``recommender report``: the readers' events as tables, and the A/B verdict."""
    from ..feedback import report as feedback_report

    result = feedback_report(
        args.database, since=args.since, min_impressions=args.min_impressions, top=args.top, alpha=args.alpha
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.text())
    return 0


def replay(args: argparse.Namespace) -> int:
    """``recommender replay``: a candidate model against the logged clicks."""
    from ..feedback import replay as feedback_replay

    result = feedback_replay(args.model, args.database, k=args.k, since=args.since)
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.text())
    return 0
