"""Builds on a real Dask cluster (2 worker processes on loopback) equal a local build, file for file."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import Recommender, store
from recommender.cli import main
from recommender.types import CorpusError, InvalidParameterError

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
    assert f"on 2 Dask worker(s) at {cluster.scheduler_address}" in capsys.readouterr().out
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


def test_the_analysis_on_the_workers_equals_the_local_one(cluster: Any) -> None:
    """Every chunk read on a worker: vocabulary, counts, word forms and readable words as a local read."""
    from recommender.build.analysis import analyse
    from recommender.build.distributed import dask_mapper
    from recommender.build.pipeline import analyzers_for
    from recommender.sources.corpus import read_articles

    frame = read_articles(ROOT / "tests" / "data" / "multilingual.jsonl")
    local_model = Recommender().fit(frame)
    analyzers = analyzers_for(local_model.settings)
    languages = local_model.languages
    inputs = (frame["body"].tolist(), frame["title"].tolist(), analyzers)
    local = analyse(*inputs, languages=languages, title_weight=2.0, n_jobs=1)
    with distributed.Client(cluster) as client:
        mapper = dask_mapper(client)
        remote = analyse(*inputs, languages=languages, title_weight=2.0, n_jobs=1, cluster=mapper)
        assert mapper.workers() == 2
    assert remote.vocabulary == local.vocabulary
    assert (remote.counts != local.counts).nnz == 0
    assert remote.forms == local.forms
    assert remote.surface_forms == local.surface_forms
    np.testing.assert_array_equal(remote.vector_forms, local.vector_forms)
    assert remote.words == local.words


def _shards(tmp_path: Path, count: int = 3) -> Path:
    """The multilingual test corpus cut into ``count`` JSONL shards in a folder."""
    lines = (ROOT / "tests" / "data" / "multilingual.jsonl").read_text(encoding="utf-8").splitlines()
    folder = tmp_path / "shards"
    folder.mkdir()
    for number in range(count):
        part = lines[number::count]
        (folder / f"part-{number}.jsonl").write_text("\n".join(part) + "\n", encoding="utf-8")
    return folder


def _files(path: Path) -> dict[str, Any]:
    """Each file of the current generation of a model folder and its checksum."""
    with store.open_model(path) as folder:
        return {name: entry["sha256"] for name, entry in folder.manifest["files"].items()}


def test_a_sharded_corpus_of_several_languages_builds_the_same_model_file_for_file(
    cluster: Any, tmp_path: Path
) -> None:
    """Shards read, analysed, weighted and searched on the workers; the model is written here piece by
    piece and equals a local build's in every byte of every file (and gathered in memory, every array)."""
    shards = _shards(tmp_path)
    paths = sorted(str(path) for path in shards.iterdir())
    local = Recommender(k=3).fit(paths, output=tmp_path / "local")
    assert len(set(local.languages)) >= 2
    with distributed.Client(cluster) as client:
        built = Recommender(k=3).fit(shards, scheduler=client, output=tmp_path / "cluster")
        in_memory = Recommender(k=3).fit(paths, scheduler=client)
    assert _files(tmp_path / "cluster") == _files(tmp_path / "local")
    assert built.ids == local.ids
    assert built.related(local.ids[0]) == local.related(local.ids[0])
    local_arrays, memory_arrays = local.stored.parts()["arrays"], in_memory.stored.parts()["arrays"]
    assert sorted(memory_arrays) == sorted(local_arrays)
    for name, array in local_arrays.items():
        np.testing.assert_array_equal(memory_arrays[name], array, err_msg=name)


def test_lsa_bm25_and_small_write_pieces_on_the_cluster(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The LSA projection fitted on a worker, BM25's reference length reduced from the partitions, titles
    weighing 0, and the inverted index written a few postings at a time: the same files as locally."""
    import recommender.build.cluster

    monkeypatch.setattr(recommender.build.cluster, "_POSTINGS_PIECE", 50)
    settings = {"k": 5, "lsa_dims": 4, "tf": "bm25", "title_weight": 0.0, "memory_budget": 2**18}
    local = Recommender(**settings).fit(BUNDLED, output=tmp_path / "local")
    assert local.stored.has(store.LSA_COMPONENTS)
    with distributed.Client(cluster) as client:
        Recommender(**settings).fit(BUNDLED, scheduler=client, output=tmp_path / "cluster")
    assert _files(tmp_path / "cluster") == _files(tmp_path / "local")


def test_the_semantic_view_is_encoded_on_the_workers(
    cluster: Any, tiny_encoder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the semantic view the windows are encoded on the workers (each loads the model itself), in the
    local encoder's batches, so the embeddings and the lists equal a local build's."""
    monkeypatch.setenv("RECOMMENDER_CACHE", "off")  # a cached vector would never reach the workers
    monkeypatch.setattr("recommender.build.semantic.TASK_BATCHES", 1)  # many small tasks on both workers
    settings = {"k": 6, "semantic": str(tiny_encoder), "semantic_weight": 0.4, "memory_budget": 2**20}
    local = Recommender(**settings).fit(BUNDLED)
    with distributed.Client(cluster) as client:
        remote = Recommender(**settings).fit(BUNDLED, scheduler=client)
        loaded = client.run(_encoders_loaded)
    assert sum(loaded.values()) >= 1, loaded  # a worker loaded the encoder: it encoded there
    local_arrays, remote_arrays = local.stored.parts()["arrays"], remote.stored.parts()["arrays"]
    assert sorted(remote_arrays) == sorted(local_arrays)
    for name, array in local_arrays.items():  # the embeddings are in the search rows' dense part
        np.testing.assert_array_equal(remote_arrays[name], array, err_msg=name)


def _encoders_loaded() -> int:
    """How many encoders this process loaded (run on a worker)."""
    return len(getattr(sys.modules.get("recommender.build.semantic"), "_ENCODERS", ()))


def test_a_worker_without_the_clients_encoder_is_a_clear_error(tiny_encoder: Path, tmp_path: Path) -> None:
    from recommender.build.semantic import _encode_task, encoder_of

    fingerprint = encoder_of(str(tiny_encoder)).info.fingerprint
    windows = [[2, 5, 3]]
    assert _encode_task((str(tiny_encoder), fingerprint, windows)).shape == (1, 16)
    with pytest.raises(InvalidParameterError, match=r"fingerprint .* the client's") as caught:
        _encode_task((str(tiny_encoder), "0" * 64, windows))
    assert "Dask worker on" in str(caught.value)
    with pytest.raises(InvalidParameterError, match="same path on every worker"):
        _encode_task((str(tmp_path / "absent"), fingerprint, windows))


def test_an_id_in_two_shards_is_refused_naming_both(cluster: Any, tmp_path: Path) -> None:
    shards = _shards(tmp_path, 2)
    first = (shards / "part-0.jsonl").read_text(encoding="utf-8").splitlines()[0]
    with (shards / "part-1.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(first + "\n")
    with distributed.Client(cluster) as client, pytest.raises(CorpusError) as caught:
        Recommender(k=3).fit(shards, scheduler=client)
    assert "part-0.jsonl" in str(caught.value)
    assert "part-1.jsonl" in str(caught.value)
    assert "duplicate id" in str(caught.value)


def test_a_scheduler_and_workers_started_as_a_user_would(tmp_path: Path) -> None:
    """``dask scheduler`` and ``dask worker --nworkers 2`` as separate processes on loopback (the issue's
    setup), a corpus of several languages built with ``--scheduler``: the model equals a local build."""
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("the dask command is not installed next to this Python")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [str(dask), "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        shards = sorted(str(path) for path in _shards(tmp_path).iterdir())
        assert main(["build", *shards, "-o", str(tmp_path / "m"), "--scheduler", address, "-k", "3"]) == 0
        assert main(["build", *shards, "-o", str(tmp_path / "local"), "-k", "3"]) == 0
        assert _files(tmp_path / "m") == _files(tmp_path / "local")
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_or_bad_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import recommender.build.distributed

    monkeypatch.setattr(recommender.build.distributed, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(InvalidParameterError, match="cannot reach the Dask scheduler"):
        Recommender().fit(BUNDLED, scheduler="tcp://127.0.0.1:9")
    with pytest.raises(InvalidParameterError, match="scheduler must be an address"):
        Recommender().fit(BUNDLED, scheduler=42)


def test_dask_is_imported_only_when_asked() -> None:
    assert "dask" not in modules_after("import recommender.recommender, recommender.cli")
