from __future__ import annotations

import json
import re
from dataclasses import fields
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from recommender.settings import (
    LIBRARY_ONLY,
    SETTINGS,
    Settings,
    Switch,
    ValueFlag,
    check_k,
    count_or_share,
    settings_table,
)
from recommender.types import InvalidParameterError

from .conftest import HEAVY, ROOT, modules_after

# One bad value per setting (at least), with the whole message a user sees, written out by hand.
_STOP_WORDS = "stop_words must be 'english', 'bundled', 'nltk', None or a list of words"
BAD = [
    ("title_weight", -1, "title_weight must be a finite number >= 0, got -1"),
    ("title_weight", "2", "title_weight must be a finite number >= 0, got '2'"),
    ("title_weight", float("inf"), "title_weight must be a finite number >= 0, got inf"),
    ("title_weight", float("nan"), "title_weight must be a finite number >= 0, got nan"),
    ("min_df", 0, "min_df must be an int count >= 1 or a float share in (0, 1], got 0"),
    ("min_df", 1.5, "min_df must be an int count >= 1 or a float share in (0, 1], got 1.5"),
    ("min_df", "2", "min_df must be an int count >= 1 or a float share in (0, 1], got '2'"),
    ("max_df", True, "max_df must be an int count >= 1 or a float share in (0, 1], got True"),
    ("max_df", 0.0, "max_df must be an int count >= 1 or a float share in (0, 1], got 0.0"),
    ("ngrams", 3, "ngrams must be 1 or 2, got 3"),
    ("ngrams", True, "ngrams must be 1 or 2, got True"),
    ("stop_words", "klingon", f"{_STOP_WORDS}, got 'klingon'"),
    ("stop_words", ["a", 1], f"{_STOP_WORDS}, got ['a', 1]"),
    ("stem", "yes", "stem must be True or False, got 'yes'"),
    ("k", 0, "k must be a positive integer, got 0"),
    ("k", 2.0, "k must be a positive integer, got 2.0"),
    ("memory_budget", 0, "memory_budget must be a positive number of bytes, got 0"),
    ("lsa_weight", 1.0, "lsa_weight must be a number in [0, 1), got 1.0"),
    ("lsa_weight", -0.1, "lsa_weight must be a number in [0, 1), got -0.1"),
    ("lsa_dims", 1, "lsa_dims must be an int >= 2, got 1"),
    ("semantic", "", "semantic must be None or a model folder's path, got ''"),
    ("semantic", 3, "semantic must be None or a model folder's path, got 3"),
    ("semantic_weight", 1.0, "semantic_weight must be a number in [0, 1), got 1.0"),
    ("hide_duplicates", 1, "hide_duplicates must be True or False, got 1"),
    ("duplicate_threshold", 0, "duplicate_threshold must be a number in (0, 1], got 0"),
    ("hub_weight", 2, "hub_weight must be a number in [0, 1], got 2"),
    ("tf", "raw", "tf must be 'log' or 'bm25', got 'raw'"),
    ("bm25_k1", -1, "bm25_k1 must be a finite number >= 0, got -1"),
    ("bm25_k1", float("inf"), "bm25_k1 must be a finite number >= 0, got inf"),
    ("bm25_k1", np.float64("inf"), "bm25_k1 must be a finite number >= 0, got "),
    ("lsa_weight", float("nan"), "lsa_weight must be a number in [0, 1), got nan"),
    ("bm25_b", 1.5, "bm25_b must be a number in [0, 1], got 1.5"),
    ("language", 5, "language must be 'auto' or a language code, locale or name, got 5"),
    ("language", "12", "language '12' is not an ISO 639 code"),
    ("cross_language", None, "cross_language must be True or False, got None"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_bad_values_name_the_setting_what_it_must_be_and_the_value(
    name: str, value: Any, message: str
) -> None:
    with pytest.raises(InvalidParameterError, match="^" + re.escape(message)):
        Settings(**{name: value})


def test_every_setting_has_a_bad_value_case() -> None:
    assert {name for name, _, _ in BAD} == {setting.name for setting in SETTINGS}


@pytest.mark.parametrize(
    ("name", "value", "stored"),
    [
        ("language", "en-GB", "en"),
        ("language", "ru_RU", "ru"),
        ("language", "French", "fr"),
        ("language", "auto", "auto"),
        ("stop_words", ["zeta", "alpha"], ("zeta", "alpha")),
        ("stop_words", None, None),
        ("min_df", 0.5, 0.5),
        ("min_df", 3, 3),
        ("max_df", 1, 1),
        ("min_df", np.float64(0.5), 0.5),
        ("k", np.int64(5), 5),
        ("lsa_weight", 0, 0.0),
        ("duplicate_threshold", 1, 1.0),
        # numbers are stored as plain floats, which the manifest can hold (numpy scalars and Fractions not)
        ("title_weight", np.float32(2.0), 2.0),
        ("title_weight", 3, 3.0),
        ("lsa_weight", np.float32(0.5), 0.5),
        ("hub_weight", Fraction(1, 4), 0.25),
        ("bm25_k1", np.int64(2), 2.0),
    ],
)
def test_good_values_are_stored_normalised(name: str, value: Any, stored: Any) -> None:
    settings = Settings(**{name: value})
    assert getattr(settings, name) == stored
    assert type(getattr(settings, name)) is type(stored)


def test_a_number_too_big_for_a_float_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match=r"^title_weight must be a finite number >= 0, got 1000"):
        Settings(title_weight=10**400)


def test_check_k_shares_the_settings_rule() -> None:
    assert check_k(np.int32(3)) == 3
    assert type(check_k(np.int32(3))) is int
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(InvalidParameterError, match=r"^k must be a positive integer, got "):
            check_k(bad)  # type: ignore[arg-type]


def test_defaults_are_the_tables_and_valid() -> None:
    defaults = Settings()
    assert [setting.name for setting in SETTINGS] == [item.name for item in fields(Settings)]
    for setting in SETTINGS:
        assert getattr(defaults, setting.name) == setting.default
        assert setting.check(setting.default) == setting.default


def test_round_trip_through_the_manifest() -> None:
    chosen = Settings(min_df=1, stop_words=["b", "a"], ngrams=2, tf="log", language="fr", k=7)
    data = json.loads(json.dumps(chosen.to_dict()))
    assert list(data) == [setting.name for setting in SETTINGS]
    assert data["stop_words"] == ["b", "a"]
    assert Settings.from_dict(data) == chosen
    assert hash(Settings.from_dict(data)) == hash(chosen)


def test_numpy_and_fraction_values_round_trip_through_the_manifest() -> None:
    chosen = Settings(title_weight=np.float32(2.0), lsa_weight=np.float32(0.25), hub_weight=Fraction(1, 4))
    data = json.loads(json.dumps(chosen.to_dict()))
    assert (data["title_weight"], data["lsa_weight"], data["hub_weight"]) == (2.0, 0.25, 0.25)
    assert Settings.from_dict(data) == chosen


def test_old_manifests_take_the_legacy_values_and_unknown_keys_are_ignored() -> None:
    old = Settings.from_dict({"title_weight": 3.0, "k": 5, "from_a_newer_version": 1})
    assert (old.lsa_weight, old.hide_duplicates, old.hub_weight, old.tf) == (0.0, False, 0.0, "log")
    assert (old.title_weight, old.k, old.ngrams) == (3.0, 5, 1)
    with_legacy = [setting for setting in SETTINGS if setting.has_legacy]
    assert {setting.name for setting in with_legacy} == {"lsa_weight", "hide_duplicates", "hub_weight"}
    for setting in with_legacy:
        assert setting.check(setting.legacy) == setting.legacy
        assert setting.legacy != setting.default
    assert Settings.from_dict({"lsa_weight": 0.3}).lsa_weight == 0.3


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().k = 3  # type: ignore[misc]


def test_every_setting_has_a_flag_or_is_explicitly_library_only() -> None:
    library_only = {setting.name for setting in SETTINGS if setting.flag is LIBRARY_ONLY}
    assert library_only == {"duplicate_threshold", "bm25_k1", "bm25_b"}
    flagged = [setting for setting in SETTINGS if setting.flag is not LIBRARY_ONLY]
    assert all(isinstance(setting.flag, ValueFlag | Switch) for setting in flagged)
    names = [setting.flag.name for setting in flagged if isinstance(setting.flag, ValueFlag | Switch)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if isinstance(s.flag, ValueFlag)], ids=lambda setting: setting.name
)
def test_a_value_flag_writes_the_default_as_it_reads_it(setting: Any) -> None:
    flag = setting.flag
    written = flag.shown(setting.default)
    parsed = written if flag.words is not None else flag.parse(written)
    assert flag.setting_value(parsed) == setting.default


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if isinstance(s.flag, Switch)], ids=lambda setting: setting.name
)
def test_a_switch_changes_its_setting(setting: Any) -> None:
    assert setting.flag.value != setting.default
    assert setting.check(setting.flag.value) == setting.flag.value


def test_count_or_share() -> None:
    assert count_or_share("2") == 2
    assert type(count_or_share("2")) is int
    assert count_or_share("0.8") == 0.8
    assert count_or_share("1.0") == 1.0
    assert type(count_or_share("1.0")) is float
    with pytest.raises(ValueError, match="not a number: 'two'"):
        count_or_share("two")


def test_memory_budget_flag_is_in_megabytes() -> None:
    flag = next(s.flag for s in SETTINGS if s.name == "memory_budget")
    assert isinstance(flag, ValueFlag)
    assert flag.setting_value(64) == 64 * 1024 * 1024
    assert flag.shown(256 * 1024 * 1024) == "256"


def test_docs_settings_table_is_the_rendered_one() -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- settings:begin[^>]*-->\n(.*?)<!-- settings:end -->", text, re.DOTALL)
    assert found is not None, "docs/settings.md lost its settings:begin/end markers"
    assert found.group(1) == settings_table(), (
        "docs/settings.md's table differs from the code: paste the output of "
        "python -c \"from recommender.settings import settings_table; print(settings_table(), end='')\""
    )


def test_rendered_table_has_a_row_per_setting_with_its_flag_and_default() -> None:
    rows = settings_table().splitlines()[2:]
    assert len(rows) == len(SETTINGS)
    for row, setting in zip(rows, SETTINGS, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[0] == f"`{setting.name}`"
        shown = "(library only)" if setting.flag is LIBRARY_ONLY else setting.flag.name  # type: ignore[union-attr]
        assert shown in cells[1]
        assert cells[2].startswith(f"`{setting.default!r}`")
        assert cells[3] == setting.help


def test_settings_module_is_standard_library_only() -> None:
    # Load recommender.settings without the package root (which imports the numpy-based Index).
    code = (
        "import sys, types; package = types.ModuleType('recommender'); "
        f"package.__path__ = [{str(ROOT / 'recommender')!r}]; sys.modules['recommender'] = package; "
        "import recommender.settings as s; s.Settings(k=3); s.settings_table()"
    )
    assert not modules_after(code) & (HEAVY | {"numpy"})
