"""Property-based fuzzing of everything that reads user files: random and mutated inputs give articles
(or overrides) or a clear error naming the source, never another exception.

Profiles: ``ci`` (default, a few seconds per reader) and ``long`` (``make fuzz``:
``HYPOTHESIS_PROFILE=long``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from recommender.serve.overrides import load_overrides  # noqa: E402
from recommender.sources.corpus import read_articles  # noqa: E402
from recommender.types import CorpusError, OverridesError  # noqa: E402

from .conftest import BUNDLED  # noqa: E402

SOURCES = Path(__file__).resolve().parent / "data" / "sources"
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=_QUIET, derandomize=True
)
settings.register_profile("long", max_examples=2_000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _samples() -> dict[str, tuple[str, bytes]]:
    """A valid input of each file format (name, bytes), the seeds that mutations start from."""
    records = [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines()[:4]]
    frame = pd.DataFrame(records)[["id", "title", "date", "body"]]
    return {
        "jsonl": ("a.jsonl", "".join(json.dumps(r) + "\n" for r in records).encode()),
        "json": ("a.json", json.dumps(records).encode()),
        "csv": ("a.csv", frame.to_csv(index=False).encode()),
        "wxr": ("a.xml", (SOURCES / "wordpress.xml").read_bytes()),
        "rss": ("a.rss", (SOURCES / "feed.rss").read_bytes()),
        "atom": ("a.atom", (SOURCES / "feed.atom").read_bytes()),
        "markdown": (
            "post.md",
            b"---\ntitle: Oil\ndate: 2024-07-01\ntags: [energy]\n---\nOil prices rose again.\n",
        ),
        "page-text": ("page.txt", b"Oil prices\nJuly 1, 2024\n\nOil prices rose again on Monday.\n"),
    }


SAMPLES = _samples()
FOLDER_FORMATS = {"markdown", "page-text"}


def _mutated(data: bytes, edits: list[tuple[int, int, int]], cut: int | None) -> bytes:
    """``data`` with byte edits (position, kind, value: replace, insert or delete), then cut short."""
    out = bytearray(data)
    for position, kind, value in edits:
        if not out:
            out.append(value)
            continue
        where = position % len(out)
        if kind == 0:
            out[where] = value
        elif kind == 1:
            out.insert(where, value)
        else:
            del out[where]
    return bytes(out[: cut % (len(out) + 1)] if cut is not None else out)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 2), st.integers(0, 255)), max_size=8)


def _reads_or_names_the_source(fmt: str, data: bytes) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        name = SAMPLES[fmt][0]
        (folder / name).write_bytes(data)
        target = folder if fmt in FOLDER_FORMATS else folder / name
        for skip_invalid in (False, True):
            message = ""
            try:
                frame = read_articles(target, format=fmt, skip_invalid=skip_invalid)
            except CorpusError as error:
                message = str(error)
            else:
                assert frame["id"].is_unique
            assert not message or str(folder) in message or "no articles" in message, message
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_mutated_sources_give_articles_or_a_located_error(fmt: str) -> None:
    @given(edits=EDITS, cut=st.none() | st.integers(0, 1 << 20))
    def check(edits: list[tuple[int, int, int]], cut: int | None) -> None:
        _reads_or_names_the_source(fmt, _mutated(SAMPLES[fmt][1], edits, cut))

    check()


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_random_bytes_give_articles_or_a_located_error(fmt: str) -> None:
    @given(data=st.binary(max_size=400))
    def check(data: bytes) -> None:
        _reads_or_names_the_source(fmt, data)

    check()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
OVERRIDE_KEYS = st.sampled_from(["pins", "blocks", "hide", "disable", "version", "x"])


@given(
    document=st.dictionaries(OVERRIDE_KEYS, JSON_VALUES, max_size=4) | JSON_VALUES,
    raw=st.none() | st.binary(max_size=60),
)
def test_overrides_give_overrides_or_an_error_naming_the_file(document: object, raw: bytes | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        path = folder / "overrides.json"
        path.write_bytes(raw if raw is not None else json.dumps(document).encode())
        message = ""
        try:
            load_overrides(path)
        except OverridesError as error:
            message = str(error)
        assert not message or str(path) in message, message
    finally:
        shutil.rmtree(folder)


_DATE_PIECES = st.sampled_from(
    [
        "2024",
        "07",
        "24",
        "7",
        "13",
        "45",
        "Jul",
        "July",
        "Sept.",
        "Wed,",
        "T",
        "10:00",
        ":",
        "Z",
        "+02:00",
        "/",
        "-",
        ".",
        ",",
        " ",
        "GMT",
        "th",
        "0",
        "99999999999",
        "nan",
        "é",
        "\x00",
    ]
)


@given(text=st.text(max_size=40) | st.lists(_DATE_PIECES, max_size=8).map("".join))
def test_any_date_text_is_read_into_iso_8601_or_refused_with_a_reason(text: str) -> None:
    from recommender.sources.dates import DateError, parse_date

    for declared in (None, "%d/%m/%Y", "unix"):
        try:
            found = parse_date(text, declared)
        except DateError as error:
            reason = str(error)
            found = None
        if found is None:
            assert reason  # a refusal always says why
        else:  # what is stored reads back as itself: a date read once is never misread later
            assert parse_date(found) == found


# --- the model loader ---------------------------------------------------------------------------------------

_MODEL_DRAFT = "Gas pipelines, sanctions and the Caspian route to Europe"


def _answers(path: Path, *, verify: bool) -> list[list[tuple[str, int]]]:
    """Every kind of answer a model gives (stored lists, past them, a draft, explanations, a batch)."""
    from recommender import Index

    index = Index.load(path, verify=verify)
    ids = index.ids
    lists = [index.related(article_id, k=8) for article_id in ids[:5]]
    lists.append(index.related(ids[0], k=40))
    lists.append(index.related(ids[1], k=5, explain=True))
    lists.append(index.query(_MODEL_DRAFT, k=5))
    lists.extend(links for _, links in index.related_many(None, k=3))
    return [[(link.article_id, link.rank) for link in links] for links in lists]


@pytest.fixture(scope="module")
def model_files_list(bundled_model_dir: Path) -> list[str]:
    from .conftest import model_files

    return sorted(path.name for path in model_files(bundled_model_dir).iterdir() if path.is_file())


def test_damaged_model_files_give_a_format_error_or_an_answer(
    bundled_model_dir: Path, model_files_list: list[str]
) -> None:
    from recommender.types import RecommenderError

    from .conftest import model_files

    reference = _answers(bundled_model_dir, verify=True)
    ids = set(_ids(bundled_model_dir))

    @given(
        name=st.sampled_from(model_files_list),
        where=st.integers(0, 1 << 24),
        bit=st.integers(0, 7),
        truncate=st.booleans(),
    )
    def damaged(name: str, where: int, bit: int, truncate: bool) -> None:
        work = Path(tempfile.mkdtemp()) / "model"
        try:
            shutil.copytree(bundled_model_dir, work)
            target = model_files(work) / name
            data = bytearray(target.read_bytes())
            if truncate:
                del data[where % max(len(data), 1) :]
            elif data:
                data[where % len(data)] ^= 1 << bit
            target.write_bytes(bytes(data))
            # Checked against the manifest's sizes and SHA-256: every change is caught.
            with pytest.raises(RecommenderError):
                _answers(work, verify=True)
            # Without checksums: an error, or an answer made of the model's own articles (a changed
            # value, such as one score's bits, is what only the checksums can tell).
            try:
                answers = _answers(work, verify=False)
            except RecommenderError:
                return
            assert len(answers) == len(reference)
            for links in answers:
                assert [rank for _, rank in links] == list(range(1, len(links) + 1))
                assert {article_id for article_id, _ in links} <= ids or name.startswith("ids")
        finally:
            shutil.rmtree(work.parent, ignore_errors=True)

    damaged()


def _ids(path: Path) -> list[str]:
    from recommender import Index

    return Index.load(path).ids
