"""``recommender build --scheduler``: the connection to a Dask cluster, and a build on it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..settings import Settings
from .output import report_skipped

__all__ = ["build_on_cluster", "connect"]


def connect(args: argparse.Namespace, *, shown: bool) -> tuple[Any, str]:
    """The Dask cluster of ``--scheduler`` (connected, said on a terminal with its dashboard) and the
    words the summary line adds; (None, "") without one."""
    if not args.scheduler:
        return None, ""
    from ..build.distributed import dask_mapper

    cluster = dask_mapper(args.scheduler)
    workers = cluster.workers()
    if shown:
        try:
            dashboard = f"; progress on its dashboard, {cluster.client.dashboard_link}"
        except Exception:  # a scheduler without a dashboard
            dashboard = ""
        print(
            f"building on the Dask cluster at {args.scheduler}: {workers} worker(s){dashboard}",
            file=sys.stderr,
        )
    return cluster, f", on {workers} Dask worker(s) at {args.scheduler}"


def build_on_cluster(
    args: argparse.Namespace, settings: Settings, stage: Any, *, shown: bool
) -> tuple[Any, str]:
    """The sources read on the cluster's workers and the model written at ``args.output`` as its pieces
    are fetched (``recommender.build.cluster``); the opened model and the summary line's words."""
    from ..build.cluster import build_on_cluster as build

    cluster, where = connect(args, shown=shown)
    skipped: list[Any] = []
    try:
        built = build(
            list(args.corpus),
            settings,
            cluster.client,
            reading={
                "format": args.format,
                "skip_invalid": args.skip_invalid,
                "include_drafts": args.drafts,
                "date_format": args.date_format,
            },
            skipped=skipped,
            stage=stage,
            output=args.output,
            wait=not args.no_wait,
            keep=args.keep,
        )
    finally:
        cluster.close()
    report_skipped(skipped)
    return built, where
