"""The all-pairs tiles on a real Dask cluster (2 worker processes on loopback) equal a local build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Recommender
from recommender.cli import main
from recommender.types import InvalidParameterError

from .conftest import BUNDLED, ROOT, modules_after

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as local_cluster:
        yield local_cluster


def test_build_on_a_cluster_equals_a_local_build(cluster: Any) -> None:
    # A small memory budget cuts the matrix into many tiles, so many tasks run on both workers.
    settings = {"k": 8, "memory_budget": 2**20}
    local = Recommender(**settings).fit(BUNDLED)
    with distributed.Client(cluster) as client:
        remote = Recommender(**settings).fit(BUNDLED, scheduler=client)
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(remote.neighbors, local.neighbors)
    np.testing.assert_array_equal(remote.scores, local.scores)


def test_cli_build_with_a_scheduler_address(
    cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["build", str(BUNDLED), "-o", str(tmp_path / "m"), "--scheduler", cluster.scheduler_address])
        == 0
    )
    assert "built" in capsys.readouterr().out
    local = Recommender.load(tmp_path / "m")
    expected = Recommender().fit(BUNDLED)
    np.testing.assert_array_equal(local.neighbors, expected.neighbors)


def test_a_build_of_several_languages_on_a_scheduler_address(cluster: Any) -> None:
    """One connection serves every language group: a client the build opened from an address stays open
    until the build ends (it was closed after the first group: "IOLoop is closed")."""
    corpus = ROOT / "tests" / "data" / "multilingual.jsonl"
    local = Recommender(k=3).fit(corpus)
    assert len(set(local.languages)) >= 2
    remote = Recommender(k=3).fit(corpus, scheduler=cluster.scheduler_address)
    np.testing.assert_array_equal(remote.neighbors, local.neighbors)
    np.testing.assert_array_equal(remote.scores, local.scores)


def test_unreachable_or_bad_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import recommender.build.distributed

    monkeypatch.setattr(recommender.build.distributed, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(InvalidParameterError, match="cannot reach the Dask scheduler"):
        Recommender().fit(BUNDLED, scheduler="tcp://127.0.0.1:9")
    with pytest.raises(InvalidParameterError, match="scheduler must be an address"):
        Recommender().fit(BUNDLED, scheduler=42)


def test_dask_is_imported_only_when_asked() -> None:
    assert "dask" not in modules_after("import recommender.recommender, recommender.cli")
