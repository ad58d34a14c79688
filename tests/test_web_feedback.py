"""Readers' feedback over HTTP: POST /events, the page snippet, A/B variants, limits, and a killed server."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")
import httpx2 as httpx
from starlette.testclient import TestClient

from recommender import Index, Recommender
from recommender.cli import main
from recommender.feedback import EventStore, assign_variant, report
from recommender.serve import app
from recommender.web.feedback import RateLimit

from .conftest import BUNDLED

SEED = "kazakhstan-geopolitical-conundrum"


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model of the bundled corpus with other settings: variant b."""
    path = tmp_path_factory.mktemp("variants") / "plain"
    Recommender(tf="bm25", title_weight=0.5).fit(BUNDLED).save(path)
    return path


def _shown(client: TestClient, visitor: str, k: int = 4) -> tuple[str, list[dict[str, Any]]]:
    """What a page does: fetch the list for a visitor, report an impression per link."""
    response = client.get(f"/related/{SEED}?k={k}&visitor={visitor}")
    assert response.status_code == 200
    variant = response.headers.get("x-recommender-variant", "")
    events = [
        {
            "type": "impression",
            "article_id": SEED,
            "link_id": link["article_id"],
            "rank": rank,
            "reason": link["reason"],
            "variant": variant or None,
            "visitor": visitor,
        }
        for rank, link in enumerate(response.json(), start=1)
    ]
    return variant, events


def test_events_are_stored_and_counted(bundled_model_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "events.db"
    client = TestClient(app(bundled_model_dir, events=database, events_rate=0))
    _, events = _shown(client, "reader-1")
    # A beacon sends text/plain (a simple request, no CORS preflight): the body is read as JSON all the same.
    sent = client.post("/events", content=json.dumps({"batch": "view-000001", "events": events}))
    assert sent.status_code == 200
    assert sent.json() == {"stored": 4, "duplicate": False}
    again = client.post("/events", json={"batch": "view-000001", "events": events})
    assert again.json() == {"stored": 0, "duplicate": True}
    bad = client.post("/events", json=[events[0], {**events[1], "rank": 0}, {**events[2], "type": "hover"}])
    assert bad.status_code == 422
    assert [problem.split(":")[0] for problem in bad.json()["problems"]] == ["event 1", "event 2"]
    assert client.post("/events", content=b"{not json").status_code == 422
    assert sent.headers["cache-control"] == "no-store"
    metrics = client.get("/metrics").text
    assert "recommender_events_stored_total 4" in metrics
    assert "recommender_events_rejected_total 4" in metrics  # three of a bad batch, one body not JSON
    assert "recommender_events_duplicate_batches_total 1" in metrics
    assert EventStore(database).count() == 4


def test_a_server_without_an_events_file_says_how_to_keep_them(bundled_model_dir: Path) -> None:
    response = TestClient(app(bundled_model_dir)).post("/events", json=[])
    assert response.status_code == 404
    assert "--events FILE" in response.json()["error"]


def test_batches_beyond_the_rate_are_refused_with_retry_after(
    bundled_model_dir: Path, tmp_path: Path
) -> None:
    client = TestClient(app(bundled_model_dir, events=tmp_path / "events.db", events_rate=1.0))
    _, events = _shown(client, "reader-2")
    statuses = [client.post("/events", json=events).status_code for _ in range(8)]
    assert statuses[:4] == [200] * 4  # a burst of four times the rate
    assert 429 in statuses
    refused = client.post("/events", json=events)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "recommender_events_limited_total" in client.get("/metrics").text


def test_the_rate_limit_refills_and_forgets_old_clients() -> None:
    limit = RateLimit(rate=1000.0, burst=1.0, keys=2)
    assert limit.wait("a") == 0.0
    assert 0 < limit.wait("a") <= 0.001
    time.sleep(0.002)
    assert limit.wait("a") == 0.0
    limit.wait("b")
    limit.wait("c")
    assert "a" not in limit._buckets  # the least recently seen client is forgotten
    assert RateLimit(rate=0).wait("anyone") == 0.0


def test_each_visitor_sees_one_variant(bundled_model_dir: Path, other_model: Path, tmp_path: Path) -> None:
    variants = {"a": bundled_model_dir, "b": other_model}
    client = TestClient(app(None, variants=variants, split=[50, 50], events=tmp_path / "e.db", events_rate=0))
    lists = {
        name: [link.to_dict() for link in Index.load(path).related(SEED, k=4)]
        for name, path in variants.items()
    }
    assert lists["a"] != lists["b"]
    seen = {}
    for number in range(40):
        visitor = f"reader-{number}"
        for _ in range(2):
            response = client.get(f"/related/{SEED}?k=4&visitor={visitor}")
            variant = response.headers["x-recommender-variant"]
            assert variant == assign_variant(visitor, ["a", "b"], [50.0, 50.0])
            assert response.json() == lists[variant]
            seen.setdefault(visitor, set()).add(variant)
    assert all(len(names) == 1 for names in seen.values())
    assert {name for names in seen.values() for name in names} == {"a", "b"}
    block = client.get(f"/block/{SEED}?k=3&visitor=reader-1")
    assert f'data-variant="{assign_variant("reader-1", ["a", "b"], [50.0, 50.0])}"' in block.text
    unknown = client.post(
        "/events", json=[{"type": "click", "article_id": SEED, "link_id": "x", "rank": 1, "variant": "c"}]
    )
    assert unknown.status_code == 422
    assert "not one this server serves: a, b" in unknown.text


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"variants": {"a": "x"}}, "two or more variants"),
        ({"variants": {"a": "x", "b": "y"}, "split": [60, 60]}, "summing to 100"),
        ({"variants": {"a b": "x", "c": "y"}}, "variant name 'a b'"),
        ({"split": [50]}, "a split needs two or more variants"),
    ],
)
def test_bad_experiments_are_refused_at_start(arguments: dict[str, Any], words: str) -> None:
    from recommender.types import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=words):
        app(None if "variants" in arguments else "model", **arguments)


def test_serve_reads_variants_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--variant", "a-models/x"]) == 1
    assert "--variant takes NAME=MODEL_DIR" in capsys.readouterr().err
    assert main(["serve", "--variant", "a=x", "--variant", "a=y"]) == 1
    assert "--variant a is given twice" in capsys.readouterr().err
    assert main(["serve", "m", "--events-retention", "soon"]) == 1
    assert "--events-retention takes days" in capsys.readouterr().err


def test_the_snippet_is_served_and_reports_what_the_block_shows(bundled_model_dir: Path) -> None:
    client = TestClient(app(bundled_model_dir))
    script = client.get("/feedback.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    for part in ("IntersectionObserver", "sendBeacon", "globalPrivacyControl", "data-article-id", "batch"):
        assert part in script.text
    block = client.get(f"/block/{SEED}?k=3").text
    assert 'class="similar-posts" data-article-id=' in block
    assert "data-reason=" in block


# --- a real server process: killed mid-run, and under concurrent senders ---------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(model: Path, database: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "recommender", "serve", str(model), "--port", str(port), "--quiet"]
    command += ["--events", str(database), "--events-rate", "0"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if server.poll() is not None:
            raise AssertionError(server.stderr.read().decode() if server.stderr else "the server stopped")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    message = "the server did not start"
    raise AssertionError(message)


def _batch(sender: int, number: int, size: int) -> dict[str, Any]:
    events = [
        {
            "type": "impression" if rank % 3 else "click",
            "article_id": f"page-{sender}",
            "link_id": f"link-{rank}",
            "rank": rank,
            "reason": "similar",
            "visitor": f"reader-{sender}-{number}",
        }
        for rank in range(1, size + 1)
    ]
    return {"batch": f"s{sender}-b{number:06d}", "events": events}


def test_concurrent_senders_store_every_event_exactly_once(bundled_model_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "events.db"
    server, base = _start(bundled_model_dir, database)
    acknowledged = [0] * 4
    rejected = [0] * 4

    def send(sender: int) -> None:
        with httpx.Client(base_url=base, timeout=30.0) as client:
            for number in range(40):
                body = _batch(sender, number, 10)
                if number % 10 == 9:
                    body["events"][0]["rank"] = -1  # an invalid event spoils its batch
                for attempt in range(3):
                    response = client.post("/events", json=body)
                    if number % 7 == 0 and attempt == 0:
                        continue  # a page retrying a batch it believes lost: stored once all the same
                    break
                if response.status_code == 200:
                    acknowledged[sender] += response.json()["stored"] or len(body["events"])
                else:
                    assert response.status_code == 422
                    rejected[sender] += len(body["events"])

    try:
        threads = [threading.Thread(target=send, args=(sender,)) for sender in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        metrics = httpx.get(f"{base}/metrics").text
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert sum(acknowledged) == 4 * 36 * 10
    assert EventStore(database).count() == sum(acknowledged)
    assert f"recommender_events_rejected_total {sum(rejected)}" in metrics
    result = report(database)
    assert result.events == sum(acknowledged)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_server_loses_at_most_the_batch_in_flight(bundled_model_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "events.db"
    server, base = _start(bundled_model_dir, database)
    acknowledged, sent = 0, 0
    stop = threading.Event()

    def send() -> None:
        nonlocal acknowledged, sent
        with httpx.Client(base_url=base, timeout=10.0) as client:
            number = 0
            while not stop.is_set():
                body = _batch(0, number, 50)
                sent += 1
                try:
                    response = client.post("/events", json=body)
                except httpx.HTTPError:
                    return  # the server is gone mid-batch
                assert response.status_code == 200
                acknowledged += 50
                number += 1

    sender = threading.Thread(target=send)
    sender.start()
    while acknowledged < 2000:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    stop.set()
    sender.join(timeout=30)
    connection = sqlite3.connect(database)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    connection.close()
    # Every acknowledged batch is there; at most the one in flight (stored, not yet answered) more.
    assert acknowledged <= stored <= acknowledged + 50
    assert stored % 50 == 0  # never part of a batch
