"""The flag groups several commands share, each defined once so that a flag means the same everywhere.

Ranking controls and overrides (``related``, ``export``, ``audit``), the filters that need no subject
article (also on ``query``), and the build settings (``build``, ``evaluate``), which come from the
settings table: a new setting with a flag in :mod:`recommender.settings` appears here by itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import Any

from ..settings import SETTINGS, Setting, Switch, ValueFlag
from ..types import InvalidParameterError

__all__ = ["add_controls", "add_filters", "add_settings", "controls_given", "settings_given"]


def add_controls(parser: argparse.ArgumentParser, *, batch: bool = False) -> None:
    """The ranking-control and overrides flags, identical on every command that lists links."""
    group = parser.add_argument_group("ranking controls")
    group.add_argument("--max-age", metavar="AGE", help="drop links older than AGE before the article (365d)")
    group.add_argument("--past-only", action="store_true", help="only link articles published before it")
    group.add_argument("--half-life", metavar="AGE", help="decay scores by 0.5^(age/AGE), e.g. 180d")
    group.add_argument("--same-category", action="store_true", help="only link the same category")
    add_filters(group)
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


def add_filters(group: argparse._ActionsContainer) -> None:
    """The controls that need no subject article (also on ``query``)."""
    group.add_argument("--exclude-ids", metavar="IDS", help="comma-separated ids never linked")
    group.add_argument("--exclude-categories", metavar="NAMES", help="categories never linked (a,b)")
    group.add_argument("--exclude-tags", metavar="TAGS", help="never link articles with any of these tags")
    group.add_argument("--include-tags", metavar="TAGS", help="only link articles with one of these tags")
    group.add_argument("--min-score", type=float, metavar="S", help="drop links scoring below S")


def controls_given(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``related_many`` from the control flags (overrides included)."""
    from ..serve.controls import CONTROL_NAMES
    from ..serve.overrides import load_overrides

    if getattr(args, "lenient", False) and not getattr(args, "overrides", None):
        message = "--lenient applies to the ids in --overrides: give --overrides FILE too, or drop --lenient"
        raise InvalidParameterError(message)
    options: dict[str, Any] = {}
    for name in CONTROL_NAMES:
        value = getattr(args, name, None)
        if value is not None and value is not False:
            options[name] = value
    if getattr(args, "overrides", None):
        options["overrides"] = load_overrides(args.overrides, lenient=args.lenient)
    return options


def _flagged(command: str) -> Iterator[tuple[Setting, ValueFlag | Switch]]:
    """The settings that have a flag on ``command``, with that flag, in the table's order."""
    for setting in SETTINGS:
        if isinstance(setting.flag, ValueFlag | Switch) and command in setting.flag.commands:
            yield setting, setting.flag


def add_settings(parser: argparse.ArgumentParser, command: str) -> None:
    """The build-settings flags of ``command``; each stores under its setting's name (None when not given)."""
    group = parser.add_argument_group("build settings (docs/settings.md)")
    for setting, flag in _flagged(command):
        if isinstance(flag, Switch):
            group.add_argument(
                flag.name, dest=setting.name, action="store_const", const=flag.value, help=_escaped(flag.help)
            )
            continue
        group.add_argument(
            flag.name,
            dest=setting.name,
            type=_argument_type(flag.parse) if flag.scale == 1 else _scaled_type(setting, flag),
            choices=tuple(flag.words) if flag.words is not None else None,
            metavar=flag.metavar,
            help=_escaped(f"{flag.help or setting.help} (default {flag.shown(setting.default)})"),
        )


def settings_given(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """``Recommender`` settings from the flags given on ``command`` (the rest keep the library defaults)."""
    chosen: dict[str, Any] = {}
    for setting, flag in _flagged(command):
        given = getattr(args, setting.name)
        if given is not None:
            chosen[setting.name] = flag.setting_value(given) if isinstance(flag, ValueFlag) else given
    if "semantic_weight" in chosen and chosen.get("semantic") is None:
        message = "--semantic-weight weighs the semantic view: give --semantic MODEL too, or drop it"
        raise InvalidParameterError(message)
    return chosen


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """argparse's ``type=`` for a table parser: its ValueError message becomes the usage error."""
    if parse in (int, float, str):
        return parse  # argparse words these itself: "invalid int value: 'x'"

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _scaled_type(setting: Setting, flag: ValueFlag) -> Callable[[str], Any]:
    """argparse's ``type=`` for a flag in another unit than its setting (``--memory-budget`` in MB, the
    setting in bytes): a bad value is a usage error in the flag's unit, not the setting's."""
    parse = _argument_type(flag.parse)

    def convert(text: str) -> Any:
        value = parse(text)
        try:
            setting.check(flag.setting_value(value))
        except InvalidParameterError:
            message = f"must be a positive number of {flag.metavar}, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None
        return value

    convert.__name__ = getattr(parse, "__name__", "convert")  # argparse's "invalid int value: 'x'"
    return convert


def _escaped(text: str) -> str:
    """Help text with argparse's ``%`` formatting escaped."""
    return text.replace("%", "%%")
