from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from recommender import Index, Recommender
from recommender.serve.overrides import Overrides, load_overrides
from recommender.types import OverridesError


@pytest.fixture
def index(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> Index:
    return Index.load(Recommender(min_df=1).fit(tiny_records).save(tmp_path / "model"))


def _ids(links: list[Any]) -> list[str]:
    return [link.article_id for link in links]


def test_pins_come_first_in_order_with_reason(index: Index) -> None:
    overrides = Overrides.from_dict(
        {"pins": {"oil-prices-rise": ["voters-manifestos", "cup-final-penalties"]}}
    )
    links = index.related("oil-prices-rise", k=3, overrides=overrides)
    assert _ids(links) == ["voters-manifestos", "cup-final-penalties", "opec-output-cut"]
    assert [link.reason for link in links] == ["pinned", "pinned", "similar"]
    assert [link.rank for link in links] == [1, 2, 3]
    # Pins are not repeated as similar links, and k still bounds the list.
    assert _ids(index.related("oil-prices-rise", k=1, overrides=overrides)) == ["voters-manifestos"]
    # Without two-way pins the pinned article's own list is untouched.
    assert "oil-prices-rise" not in _ids(index.related("voters-manifestos", k=1, overrides=overrides))


def test_two_way_pins(index: Index) -> None:
    overrides = Overrides.from_dict(
        {"pins": {"oil-prices-rise": ["voters-manifestos"]}, "two_way_pins": True}
    )
    links = index.related("voters-manifestos", k=2, overrides=overrides)
    assert _ids(links)[0] == "oil-prices-rise"
    assert links[0].reason == "pinned"


def test_blocks_work_both_ways(index: Index) -> None:
    overrides = Overrides.from_dict({"blocks": [["opec-output-cut", "oil-prices-rise"]]})
    assert "opec-output-cut" not in _ids(index.related("oil-prices-rise", k=5, overrides=overrides))
    assert "oil-prices-rise" not in _ids(index.related("opec-output-cut", k=5, overrides=overrides))
    assert "opec-output-cut" in _ids(index.related("oil-prices-rise", k=5))


def test_hidden_never_shown_and_disabled_get_no_list(index: Index) -> None:
    overrides = Overrides.from_dict({"hide": ["goalkeeper-hero"], "disable": ["voters-manifestos"]})
    lists = dict(index.related_many(k=5, overrides=overrides, fill=True))
    assert "voters-manifestos" not in lists
    assert len(lists) == 5
    assert all("goalkeeper-hero" not in _ids(links) for links in lists.values())
    assert index.related("voters-manifestos", k=3, overrides=overrides) == []
    # Hidden beats pinned.
    pinned = Overrides.from_dict(
        {"pins": {"cup-final-penalties": ["goalkeeper-hero"]}, "hide": ["goalkeeper-hero"]}
    )
    assert "goalkeeper-hero" not in _ids(index.related("cup-final-penalties", k=5, overrides=pinned))


def test_unknown_ids_are_listed(index: Index) -> None:
    overrides = Overrides.from_dict(
        {"pins": {"oil-prices-rise": ["ghost-1"]}, "hide": ["ghost-2"]}, source="o.json"
    )
    with pytest.raises(OverridesError, match=r"o\.json: 2 id\(s\) not in the model: 'ghost-1', 'ghost-2'"):
        index.related("oil-prices-rise", overrides=overrides)


def test_lenient_warns_and_skips_unknown_ids(index: Index, caplog: pytest.LogCaptureFixture) -> None:
    overrides = Overrides.from_dict(
        {"pins": {"oil-prices-rise": ["ghost", "cup-final-penalties"]}}, source="o.json", lenient=True
    )
    with caplog.at_level(logging.WARNING):
        links = index.related("oil-prices-rise", k=2, overrides=overrides)
    assert _ids(links) == ["cup-final-penalties", "opec-output-cut"]
    assert "skipping 1 id(s) not in the model: 'ghost'" in caplog.text


def test_load_overrides_from_file(tmp_path: Path, index: Index) -> None:
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"pins": {"oil-prices-rise": ["voters-manifestos"]}}), encoding="utf-8")
    overrides = load_overrides(path)
    assert overrides.source == str(path)
    assert _ids(index.related("oil-prices-rise", k=1, overrides=overrides)) == ["voters-manifestos"]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], "top level must be a JSON object"),
        ({"pin": {}}, "unknown key"),
        ({"pins": ["a"]}, "pins must be an object"),
        ({"pins": {"a": "b"}}, r"pins\['a'\] must be a list"),
        ({"pins": {"a": ["a"]}}, "pins the article to itself"),
        ({"blocks": [["a"]]}, "blocks must be a list of id pairs"),
        ({"hide": "a"}, "hide must be a list"),
        ({"disable": [1]}, "disable must be a list"),
        ({"two_way_pins": "yes"}, "two_way_pins must be true or false"),
        ({"pins": {"a": ["b"]}, "blocks": [["b", "a"]]}, "both pins and blocks"),
    ],
)
def test_malformed_overrides(data: Any, match: str) -> None:
    with pytest.raises(OverridesError, match=match):
        Overrides.from_dict(data)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(OverridesError, match="cannot read overrides"):
        load_overrides(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(OverridesError, match=r"bad\.json: malformed JSON"):
        load_overrides(bad)


def test_overrides_survive_a_rebuild(tmp_path: Path, tiny_records: list[dict[str, Any]]) -> None:
    overrides = Overrides.from_dict({"pins": {"oil-prices-rise": ["voters-manifestos"]}})
    for name in ("one", "two"):
        index = Index.load(Recommender(min_df=1).fit(tiny_records).save(tmp_path / name))
        assert _ids(index.related("oil-prices-rise", k=1, overrides=overrides)) == ["voters-manifestos"]


def test_editing_keeps_the_overrides_valid_and_writes_them_atomically(tmp_path: Path) -> None:
    from recommender.serve.overrides import Overrides, load_overrides, save_overrides

    path = tmp_path / "overrides.json"
    edits = Overrides(source=str(path))
    edits = edits.edited("pin", "a", "b").edited("pin", "a", "c").edited("hide", "x").edited("disable", "y")
    assert edits.pins == {"a": ("b", "c")}
    edits = edits.edited("block", "b", "a")  # a block replaces the pin of the same pair
    assert edits.pins == {"a": ("c",)}
    assert edits.blocks == (("a", "b"),)
    edits = edits.edited("pin", "a", "b")  # and a pin replaces the block
    assert (edits.pins, edits.blocks) == ({"a": ("c", "b")}, ())
    edits = edits.edited("unpin", "a", "c").edited("unhide", "x").edited("enable", "y")
    assert (edits.pins, edits.hide, edits.disable) == ({"a": ("b",)}, frozenset(), frozenset())
    save_overrides(path, edits)
    assert load_overrides(path).to_dict() == edits.to_dict()
    assert [p.name for p in tmp_path.iterdir()] == ["overrides.json"]  # no temporary file left
    for action, second in (("wipe", None), ("pin", None), ("block", "a")):
        with pytest.raises(OverridesError):
            edits.edited(action, "a", second)


def _pin_many(path: str, prefix: str, count: int) -> None:
    from recommender.serve.overrides import edit_overrides

    for number in range(count):
        edit_overrides(path, "pin", f"{prefix}-{number}", "shared-target")


def test_editors_in_several_processes_never_lose_a_change(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "overrides.json"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_pin_many, args=(str(path), f"p{n}", 15)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    pins = load_overrides(path).pins
    assert len(pins) == 45  # every process's every change is there
    assert set(pins.values()) == {("shared-target",)}
    assert [p.name for p in tmp_path.iterdir()] == ["overrides.json"]


def test_within_drops_the_ids_a_model_lacks_as_lenient_resolve_does(index: Index) -> None:
    overrides = Overrides.from_dict(
        {
            "pins": {"oil-prices-rise": ["ghost", "cup-final-penalties"], "phantom": ["opec-output-cut"]},
            "blocks": [["ghost", "opec-output-cut"]],
            "hide": ["ghost", "goalkeeper-hero"],
            "disable": ["phantom"],
        }
    )
    known = overrides.within(index)
    assert known.ids() == {"oil-prices-rise", "cup-final-penalties", "goalkeeper-hero"}
    rows = {article_id: index.row(article_id) for article_id in index.ids}
    lenient = Overrides.from_dict(overrides.to_dict(), lenient=True)
    assert known.resolve(rows) == lenient.resolve(rows)
    assert known.resolve(rows).hidden == frozenset({rows["goalkeeper-hero"]})


def test_an_edit_in_a_missing_folder_is_a_file_error(tmp_path: Path) -> None:
    from recommender.serve.overrides import OverridesFileError, edit_overrides

    with pytest.raises(OverridesFileError, match=r"ov\.json: cannot write overrides in .*no-such-folder"):
        edit_overrides(tmp_path / "no-such-folder" / "ov.json", "hide", "a")
