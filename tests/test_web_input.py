"""The HTTP API against awkward input and awkward state: overrides naming ids the model lacks or a file
edited into bad JSON, bodies that are not text or nested too deep, unexpected errors, CORS, the token's
header and conditional requests. Every error is JSON with its status, and every request is counted."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")
from starlette.testclient import TestClient

from recommender import Index
from recommender.build.update import update_model
from recommender.serve import app

SEED = "kazakhstan-geopolitical-conundrum"
OTHER = "middle-corridor-caspian-trade-route"
GONE = "sino-russian-partnership"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def model(tmp_path: Path, bundled_model_dir: Path) -> Path:
    path = tmp_path / "model"
    shutil.copytree(bundled_model_dir, path)
    return path


def _post(client: TestClient, path: str, data: object, headers: dict[str, str] | None = None) -> object:
    """POST ``data`` as JSON text with escapes (``"\\ud800"`` stays a lone surrogate, as a page sends it)."""
    return client.post(path, content=json.dumps(data).encode("ascii"), headers=headers or {})


def _touch(path: Path, text: str) -> None:
    """Rewrite ``path`` with a modification time surely different from the one before."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


# --- overrides naming ids the model lacks --------------------------------------------------------------


def test_an_overridden_article_removed_from_the_model_is_skipped_and_can_be_cleaned_up(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overrides = tmp_path / "overrides.json"
    client = TestClient(app(model, token=TOKEN, overrides=overrides, check_every=0.0))
    for change in (
        {"action": "hide", "article_id": GONE},
        {"action": "pin", "article_id": SEED, "other_id": OTHER},
        {"action": "pin", "article_id": OTHER, "other_id": GONE},
    ):
        assert client.post("/overrides", json=change, headers=AUTH).status_code == 200
    update_model(model, remove=[GONE])
    with caplog.at_level(logging.WARNING, logger="recommender"):
        for path in (f"/related/{SEED}?k=3", f"/block/{SEED}?k=3", "/audit", f"/related/{OTHER}?k=3"):
            response = client.get(path)
            assert response.status_code == 200, response.text
    first = client.get(f"/related/{SEED}?k=3").json()[0]
    assert (first["article_id"], first["reason"]) == (OTHER, "pinned")  # the rest still applies
    assert caplog.text.count("skipping 1 id(s) not in the model") == 1  # once, not once per request
    assert "--lenient" not in caplog.text
    health = client.get("/healthz").json()
    assert (health["status"], health["overrides_skipped"], health["overrides_error"]) == ("ok", [GONE], None)
    assert "recommender_overrides_skipped_ids 1\n" in client.get("/metrics").text
    # The editor removes what the model no longer has; adding it stays a 404.
    for change in (
        {"action": "unhide", "article_id": GONE},
        {"action": "unpin", "article_id": OTHER, "other_id": GONE},
        {"action": "unblock", "article_id": GONE, "other_id": SEED},
        {"action": "enable", "article_id": GONE},
    ):
        assert client.post("/overrides", json=change, headers=AUTH).status_code == 200, change
    assert (
        client.post("/overrides", json={"action": "hide", "article_id": GONE}, headers=AUTH).status_code
        == 404
    )
    assert client.get("/healthz").json()["overrides_skipped"] == []
    assert json.loads(overrides.read_text(encoding="utf-8"))["hide"] == []


def test_stale_overrides_at_start_are_skipped_not_fatal(model: Path, tmp_path: Path) -> None:
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"pins": {"ghost": [SEED]}, "hide": ["phantom", OTHER]}), encoding="utf-8")
    client = TestClient(app(model, overrides=stale))
    links = client.get(f"/related/{SEED}?k=8")
    assert links.status_code == 200
    assert OTHER not in [link["article_id"] for link in links.json()]  # the known id still hides
    assert client.get("/healthz").json()["overrides_skipped"] == ["ghost", "phantom"]


def test_an_overrides_file_edited_into_bad_json_keeps_the_last_good_one(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overrides = tmp_path / "overrides.json"
    _touch(overrides, json.dumps({"hide": [OTHER]}))
    client = TestClient(app(model, overrides=overrides))
    assert OTHER not in [link["article_id"] for link in client.get(f"/related/{SEED}?k=8").json()]
    _touch(overrides, '{"hide": [')
    with caplog.at_level(logging.ERROR, logger="recommender"):
        for _ in range(3):
            response = client.get(f"/related/{SEED}?k=8")
            assert response.status_code == 200
            assert OTHER not in [link["article_id"] for link in response.json()]  # the last good one
    assert caplog.text.count("malformed JSON") == 1
    assert "malformed JSON" in client.get("/healthz").json()["overrides_error"]
    assert "recommender_overrides_failing 1\n" in client.get("/metrics").text
    _touch(overrides, json.dumps({"hide": []}))
    assert OTHER in [link["article_id"] for link in client.get(f"/related/{SEED}?k=8").json()]
    assert client.get("/healthz").json()["overrides_error"] is None
    assert "recommender_overrides_failing 0\n" in client.get("/metrics").text


# --- input the client got wrong: a 422 naming the field, never a bare 500 -------------------------------


@pytest.mark.parametrize("field", ["article_id", "link_id", "visitor"])
def test_events_with_a_lone_surrogate_are_refused(model: Path, tmp_path: Path, field: str) -> None:
    client = TestClient(app(model, events=tmp_path / "events.db", events_rate=0))
    event = {"type": "click", "article_id": SEED, "link_id": OTHER, "rank": 1, "visitor": "reader-1"}
    response = _post(client, "/events", [{**event, field: "a\ud800b"}])
    assert response.status_code == 422, response.text
    assert response.json()["problems"] == [
        f"event 0: '{field}' must be valid Unicode text (it holds a lone surrogate)"
    ]
    assert 'recommender_requests_total{endpoint="events",status="422"} 1' in client.get("/metrics").text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"action": "unhide", "article_id": "\ud800"},
            "'article_id' must be at most 1024 characters of valid",
        ),
        (
            {"action": "hide", "article_id": "\udc80x"},
            "'article_id' must be at most 1024 characters of valid",
        ),
        ({"action": "unpin", "article_id": SEED, "other_id": "\ud800"}, "'other_id' must be"),
        ({"action": ["pin"], "article_id": SEED}, "'action' must be one of pin, unpin"),
        ({"action": {"a": 1}, "article_id": SEED}, "'action' must be one of pin, unpin"),
    ],
)
def test_bad_editor_changes_are_422_naming_the_field(
    model: Path, tmp_path: Path, change: dict[str, object], words: str
) -> None:
    overrides = tmp_path / "overrides.json"
    client = TestClient(app(model, token=TOKEN, overrides=overrides))
    response = _post(client, "/overrides", change, AUTH)
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]
    assert not overrides.exists()


@pytest.mark.parametrize(
    "draft", [{"text": "oil", "exclude_ids": ["\ud800"]}, {"text": "oil", "title": "a\udfff"}]
)
def test_a_draft_with_a_lone_surrogate_is_refused(model: Path, draft: dict[str, object]) -> None:
    response = _post(TestClient(app(model)), "/query", draft)
    assert response.status_code == 422, response.text
    assert "must be valid Unicode text (it holds a lone surrogate)" in response.json()["error"]


@pytest.mark.parametrize(("path", "body"), [("/events", b"[" * 100_000 + b"]" * 100_000), ("/query", None)])
def test_a_body_nested_too_deep_is_refused(
    model: Path, tmp_path: Path, path: str, body: bytes | None
) -> None:
    client = TestClient(app(model, events=tmp_path / "events.db", events_rate=0))
    content = body if body is not None else b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post(path, content=content)
    assert response.status_code == 422
    assert response.json() == {"error": "the request body is nested too deeply"}


# --- the server's own problems: JSON 5xx, logged, counted ----------------------------------------------


def test_an_overrides_file_in_a_missing_folder_is_the_servers_error(model: Path, tmp_path: Path) -> None:
    client = TestClient(app(model, token=TOKEN, overrides=tmp_path / "no-such-folder" / "ov.json"))
    response = client.post("/overrides", json={"action": "hide", "article_id": SEED}, headers=AUTH)
    assert response.status_code == 500
    assert "cannot write overrides" in response.json()["error"]
    assert 'recommender_requests_total{endpoint="edit",status="500"} 1' in client.get("/metrics").text


def test_an_unexpected_error_is_a_logged_json_500_and_counted(
    model: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        message = "a bug"
        raise RuntimeError(message)

    client = TestClient(app(model), raise_server_exceptions=False)
    monkeypatch.setattr(Index, "related", broken)
    with caplog.at_level(logging.ERROR, logger="recommender"):
        response = client.get(f"/related/{SEED}")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error (RuntimeError); the server's log has more"}
    assert "RuntimeError: a bug" in caplog.text  # the traceback
    assert 'recommender_requests_total{endpoint="related",status="500"} 1' in client.get("/metrics").text


# --- CORS, routes, the token's header, conditional requests ---------------------------------------------


def test_a_cross_origin_page_can_send_the_token_and_read_the_headers(model: Path) -> None:
    client = TestClient(app(model, cors_origins=("https://news.example",)))
    preflight = client.options(
        "/overrides",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200, preflight.text
    response = client.get(f"/related/{SEED}", headers={"Origin": "https://news.example"})
    exposed = {name.strip().lower() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-recommender-variant", "x-recommender-generation", "etag"} <= exposed


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/related/a%0ab", 404),
        ("GET", "/block/a%0a", 404),
        ("GET", "/nowhere", 404),
        ("GET", "/query", 405),
    ],
)
def test_unknown_routes_and_methods_answer_json(model: Path, method: str, path: str, status: int) -> None:
    response = TestClient(app(model)).request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "error" in response.json()
    if path.startswith("/related/"):
        assert "unknown article id" in response.json()["error"]


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(TOKEN, 401), (f"Basic {TOKEN}", 401), (f"bearer {TOKEN}", 200), (f"BEARER  {TOKEN}", 200)],
)
def test_the_token_needs_the_bearer_scheme_in_any_case(model: Path, authorization: str, status: int) -> None:
    client = TestClient(app(model, token=TOKEN, check_every=3600.0))
    assert client.post("/reload", headers={"Authorization": authorization}).status_code == status


def test_a_write_from_the_same_host_over_another_scheme_is_refused(model: Path, tmp_path: Path) -> None:
    client = TestClient(app(model, token=TOKEN, overrides=tmp_path / "overrides.json"))
    change = {"action": "hide", "article_id": SEED}
    for origin, status in (("https://testserver", 403), ("http://testserver", 200)):
        response = client.post("/overrides", json=change, headers={**AUTH, "Origin": origin})
        assert response.status_code == status, origin


def test_weak_tags_and_a_star_in_if_none_match_are_honoured(model: Path) -> None:
    client = TestClient(app(model))
    etag = client.get(f"/related/{SEED}?k=3").headers["etag"]
    for held in (f"W/{etag}", "*", f'"other", W/{etag}'):
        assert client.get(f"/related/{SEED}?k=3", headers={"If-None-Match": held}).status_code == 304, held
    assert client.get(f"/related/{SEED}?k=3", headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_a_parameter_given_twice_or_a_number_with_underscores_is_refused(model: Path) -> None:
    client = TestClient(app(model))
    twice = client.get(f"/related/{SEED}?k=5&k=6")
    assert twice.status_code == 422
    assert "'k' is given more than once" in twice.json()["error"]
    assert client.get(f"/related/{SEED}?k=5_0").status_code == 422  # int() would read 50
    listed = client.get(f"/related/{SEED}?k=3&exclude_ids={OTHER},{GONE}")
    assert listed.status_code == 200
    assert len(listed.json()) == 3
