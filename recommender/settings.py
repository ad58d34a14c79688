"""Build settings, declared once: each field of ``Settings`` is one row of the settings table.

A row names the setting (the field), its type, default, allowed values, the value that reproduces models
saved before it existed, its help and its command-line flag. Validation, the ``build``/``evaluate``
flags, the manifest's ``parameters`` and the table in docs/settings.md are all derived from the rows
(scikit-learn's ``_parameter_constraints`` is the model). Standard library only, and light to import.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final

from .validation import Allowed, Boolean, Interval, Options, Path_, Words, validated

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "LIBRARY_ONLY",
    "SETTINGS",
    "TF_SCHEMES",
    "Setting",
    "Settings",
    "Switch",
    "ValueFlag",
    "check_k",
    "count_or_share",
    "settings_table",
]

#: Bytes the score blocks may use during the all-pairs search.
DEFAULT_MEMORY_BUDGET = 256 * 2**20
#: Term-frequency weightings (see recommender.score.weighting).
TF_SCHEMES = ("log", "bm25")


class Language(Allowed):
    """``"auto"``, or a language as a code, locale or name, stored as its ISO 639 code."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, str)

    def convert(self, value: Any) -> Any:
        if value == "auto":
            return value
        from .text.languages import language_code  # the bundled stopword tables load only when needed

        return language_code(value)

    def terms(self) -> list[str]:
        return ["'auto' or a language code, locale or name"]


_POSITIVE_INT: Final = Interval("int", low=1, text="a positive integer")


def check_k(k: int) -> int:
    """``k`` as an int, or a clear error when it is not a positive integer."""
    value: int = validated("k", k, (_POSITIVE_INT,))
    return value


# --- command-line flags ----------------------------------------------------------------------------------

_BOTH: Final = ("build", "evaluate")


def count_or_share(text: str) -> int | float:
    """``min_df``/``max_df`` from text: an int count when integral ("2"), else a float share ("0.8")."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        message = f"not a number: {text!r}"
        raise ValueError(message) from None


def model_or_none(text: str) -> str | None:
    """``--semantic`` from text: a model folder, or None for "none"/"off"."""
    return None if text.strip().lower() in ("none", "off") else text


@dataclass(frozen=True)
class ValueFlag:
    """A flag that takes a value: ``--min-df 1``.

    ``parse`` reads the text; ``words`` instead lists the words accepted and the value each stands for
    (``--stop-words none`` is None); ``scale`` turns the unit given into the setting's (megabytes into
    bytes). ``help`` replaces the setting's help where the flag reads differently.
    """

    name: str
    parse: Callable[[str], Any] = str
    metavar: str | None = None
    words: Mapping[str, Any] | None = None
    scale: int = 1
    help: str = ""
    commands: tuple[str, ...] = _BOTH

    def setting_value(self, given: Any) -> Any:
        """The setting's value for what the command line gave."""
        if self.words is not None:
            return self.words[given]
        return given * self.scale if self.scale != 1 else given

    def shown(self, value: Any) -> str:
        """A setting's value as it is written on the command line."""
        if self.words is not None:
            return next(word for word, meant in self.words.items() if meant == value)
        return str(value // self.scale if self.scale != 1 else value)

    def usage(self) -> str:
        """The flag and its value as argparse shows them: ``--stop-words {english,nltk,none}``."""
        if self.words is not None:
            return f"{self.name} {{{','.join(self.words)}}}"
        return f"{self.name} {self.metavar or self.name.lstrip('-').replace('-', '_').upper()}"


@dataclass(frozen=True)
class Switch:
    """A flag without a value that sets the setting to ``value``: ``--bigrams`` is ``ngrams=2``."""

    name: str
    value: Any
    help: str
    commands: tuple[str, ...] = _BOTH

    def usage(self) -> str:
        return self.name


class _Library(enum.Enum):
    ONLY = "library only"


#: The ``flag`` of a setting given only through the library (``Recommender(bm25_k1=1.5)``).
LIBRARY_ONLY: Final = _Library.ONLY


class _Unset(enum.Enum):
    UNSET = "unset"


# --- the table --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One row of the settings table (see :data:`SETTINGS`).

    ``legacy`` is the value that reproduces a model saved before the setting existed (``_Unset.UNSET``
    when the setting was in the first release); ``flag`` its command-line flag, or :data:`LIBRARY_ONLY`.
    """

    name: str
    default: Any
    allowed: tuple[Allowed, ...]
    help: str
    flag: ValueFlag | Switch | _Library
    legacy: Any = _Unset.UNSET

    def check(self, value: Any) -> Any:
        """``value`` as stored, or an ``InvalidParameterError`` saying what the setting must be."""
        return validated(self.name, value, self.allowed)

    @property
    def has_legacy(self) -> bool:
        return self.legacy is not _Unset.UNSET


def _row(
    default: Any,
    *allowed: Allowed,
    help: str,
    flag: ValueFlag | Switch | _Library,
    legacy: Any = _Unset.UNSET,
) -> Any:
    """A ``Settings`` field carrying its row of the table (the field's name completes the row)."""
    row = {"allowed": allowed, "help": help, "flag": flag, "legacy": legacy}
    return field(default=default, metadata={"setting": row})


_SHARE_OR_COUNT = (
    Interval("int", low=1, noun="count"),
    Interval("float", 0, 1, closed="right", noun="share"),
)
_UNIT = Interval("number", 0, 1)


@dataclass(frozen=True)
class Settings:
    """Build settings; every one is recorded in the model's manifest (``parameters``).

    Each field below is one row of the settings table: its help says what it does; docs/settings.md shows
    the table with each setting's flag and default.
    """

    title_weight: float = _row(
        2.0,
        Interval("number", low=0),
        help="how many times a title's terms count relative to the body's (0 ignores titles)",
        flag=ValueFlag("--title-weight", float, help="weight of title terms"),
    )
    min_df: int | float = _row(
        2,
        *_SHARE_OR_COUNT,
        help="drop terms in fewer articles than this: an int count, or a float share of the articles",
        flag=ValueFlag("--min-df", count_or_share, help="drop rarer terms: count or share"),
    )
    max_df: int | float = _row(
        1.0,
        *_SHARE_OR_COUNT,
        help="drop terms in more articles than this: an int count, or a float share (1.0 keeps all)",
        flag=ValueFlag("--max-df", count_or_share, help="drop commoner terms: count or share"),
    )
    ngrams: int = _row(
        1,
        Options((1, 2)),
        help='1 for single terms, 2 to add adjacent term pairs ("north korea")',
        flag=Switch("--bigrams", 2, help="also index adjacent term pairs"),
    )
    stop_words: str | tuple[str, ...] | None = _row(
        "english",
        Options(("english", "bundled", "nltk", None)),
        Words(),
        help='stopwords: "english" (the bundled list of each language), "nltk" (NLTK\'s, if installed), '
        "None, or a list of words",
        flag=ValueFlag(
            "--stop-words", words={"english": "english", "nltk": "nltk", "none": None}, help="stopword list"
        ),
    )
    stem: bool = _row(
        True,
        Boolean(),
        help="reduce words to Snowball stems",
        flag=Switch("--no-stem", False, help="do not stem words"),
    )
    k: int = _row(
        20,
        _POSITIVE_INT,
        help="neighbours stored per article: the pool `related` answers from without a scan",
        flag=ValueFlag("-k", int, help="neighbours stored per article", commands=("build",)),
    )
    memory_budget: int = _row(
        DEFAULT_MEMORY_BUDGET,
        Interval("int", low=1, text="a positive number of bytes"),
        help="bytes the neighbour search may use for one block of scores",
        flag=ValueFlag(
            "--memory-budget", int, metavar="MB", scale=2**20, help="neighbour search block memory in MB"
        ),
    )
    lsa_weight: float = _row(
        0.3,
        Interval("number", 0, 1, closed="left"),
        help="share of the score from the LSA projection (0 is plain TF-IDF cosine)",
        flag=ValueFlag("--lsa-weight", float),
        legacy=0.0,
    )
    lsa_dims: int = _row(
        200,
        Interval("int", low=2),
        help="dimensions of the LSA projection",
        flag=ValueFlag("--lsa-dims", int),
    )
    semantic: str | None = _row(
        None,
        Options((None,)),
        Path_(),
        help="the semantic view: a sentence-transformers (BERT) model folder whose embeddings of "
        '"Title. Body" join the score (None is off; run in numpy, never downloaded)',
        flag=ValueFlag(
            "--semantic",
            model_or_none,
            metavar="MODEL",
            help="sentence-transformers model folder (the semantic view); none = off",
        ),
    )
    semantic_weight: float = _row(
        0.4,
        Interval("number", 0, 1, closed="left"),
        help="share of the score from the semantic view's cosine (with semantic set)",
        flag=ValueFlag("--semantic-weight", float),
    )
    hide_duplicates: bool = _row(
        True,
        Boolean(),
        help="leave near-duplicates (score >= duplicate_threshold) out of related lists, keeping one "
        "canonical article per group (the earliest, then the longest)",
        flag=Switch("--keep-duplicates", False, help="list near-duplicates too (default: hide them)"),
        legacy=False,
    )
    duplicate_threshold: float = _row(
        0.95,
        Interval("number", 0, 1, closed="right"),
        help="the score at which two articles count as near-duplicates",
        flag=LIBRARY_ONLY,
    )
    hub_weight: float = _row(
        0.25,
        _UNIT,
        help="order lists by score − hub_weight × the candidate's mean top-10 score (0 is off)",
        flag=ValueFlag("--hub-weight", float, help="discount of hub articles when ordering lists; 0 = off"),
        legacy=0.0,
    )
    tf: str = _row(
        "log",
        Options(TF_SCHEMES),
        help='term frequency: "log" for 1 + ln(tf), "bm25" for BM25 saturation and length normalisation',
        flag=ValueFlag(
            "--tf", words={scheme: scheme for scheme in TF_SCHEMES}, help="term-frequency weighting"
        ),
    )
    bm25_k1: float = _row(
        1.2,
        Interval("number", low=0),
        help='BM25\'s term-frequency saturation (with tf="bm25")',
        flag=LIBRARY_ONLY,
    )
    bm25_b: float = _row(
        0.75,
        _UNIT,
        help='BM25\'s length-normalisation strength (with tf="bm25")',
        flag=LIBRARY_ONLY,
    )
    language: str = _row(
        "auto",
        Language(),
        help='"auto" (each article\'s lang field, else detected) or one language for all, as a code, '
        'locale or name: "en", "ru", "en-GB", "French"',
        flag=ValueFlag(
            "--language",
            metavar="CODE",
            help="auto (each article's lang field, else detected) or one for all: en, ru…",
        ),
    )
    cross_language: bool = _row(
        False,
        Boolean(),
        help="let articles link to articles in other languages (else only within their own)",
        flag=Switch("--cross-language", True, help="let articles link to articles in other languages"),
    )

    def __post_init__(self) -> None:
        for setting in SETTINGS:
            object.__setattr__(self, setting.name, setting.check(getattr(self, setting.name)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        data = asdict(self)
        if isinstance(self.stop_words, tuple):
            data["stop_words"] = list(self.stop_words)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        """Settings from :meth:`to_dict` output, ignoring keys this version does not know.

        Keys missing from older manifests take the value that reproduces the old behaviour.
        """
        legacy = {setting.name: setting.legacy for setting in SETTINGS if setting.has_legacy}
        known = {key: value for key, value in data.items() if key in _BY_NAME}
        return cls(**{**legacy, **known})


#: The settings table, in the order of the fields (and of a manifest's ``parameters``).
SETTINGS: Final = tuple(
    Setting(name=item.name, default=item.default, **item.metadata["setting"]) for item in fields(Settings)
)
_BY_NAME: Final = {setting.name: setting for setting in SETTINGS}


# --- the table for people --------------------------------------------------------------------------------


def settings_table() -> str:
    """The settings as a markdown table (setting, flag, default, meaning): docs/settings.md holds a copy."""
    lines = ["| setting | flag | default | meaning |", "| --- | --- | --- | --- |"]
    for setting in SETTINGS:
        flag = setting.flag
        default = f"`{setting.default!r}`"
        if isinstance(flag, _Library):
            shown = "(library only)"
        else:
            only = "" if flag.commands == _BOTH else f" ({', '.join(flag.commands)} only)"
            shown = f"`{flag.usage()}`{only}"
            if isinstance(flag, ValueFlag) and flag.scale != 1:
                default += f" (`{flag.name} {flag.shown(setting.default)}`)"
        if setting.has_legacy and setting.legacy != setting.default:
            default += f"; older models: `{setting.legacy!r}`"
        meaning = setting.help.replace("|", "\\|")
        lines.append(f"| `{setting.name}` | {shown} | {default} | {meaning} |")
    return "\n".join(lines) + "\n"
