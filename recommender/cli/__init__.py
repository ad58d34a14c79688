"""Command-line front end: a thin skin over the library; the only package that prints.

:mod:`.parser` declares each command's arguments, :mod:`.flags` the flag groups several commands share
(ranking controls, filters, and the build settings from :data:`recommender.settings.SETTINGS`),
:mod:`.commands` what each command runs and :mod:`.output` how results are printed. Library errors become
one ``error: …`` line on stderr and exit code 1 (tracebacks with ``--debug``); a closed standard output
(``| head``) ends the command quietly with 141, as a shell reports it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from ..text.printable import printable
from ..types import RecommenderError
from .parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="warning: %(message)s")
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # a reader that went away shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        # The reader of standard output stopped early (``| head``): not an error of ours. Standard output
        # is pointed at /dev/null so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # 128 + SIGPIPE, as a shell reports a command its pipe closed
    except (RecommenderError, OSError) as error:
        if args.debug:
            raise
        print(printable(f"error: {error}"), file=sys.stderr)
        return 1
