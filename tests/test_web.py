"""The HTTP API through Starlette's test client: the library's answers, its errors, caching, live swaps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")
from starlette.testclient import TestClient

from recommender import Index
from recommender.build.update import update_model
from recommender.cli import main
from recommender.serve import app

from .conftest import HEAVY, modules_after

SEED = "kazakhstan-geopolitical-conundrum"
TOKEN = "s3cret-token"


@pytest.fixture
def model(tmp_path: Path, bundled_model_dir: Path) -> Path:
    path = tmp_path / "model"
    shutil.copytree(bundled_model_dir, path)
    return path


@pytest.fixture
def client(model: Path) -> TestClient:
    return TestClient(app(model, token=TOKEN, check_every=0.0))


def test_related_equals_the_command_lines_json(
    client: TestClient, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["related", str(model), SEED, "-k", "8", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    response = client.get(f"/related/{SEED}?k=8")
    assert response.status_code == 200
    assert response.json() == expected
    assert response.headers["content-type"] == "application/json"


def test_every_control_and_explain_answer_as_the_library(client: TestClient, model: Path) -> None:
    index = Index.load(model)
    cases = [
        ("k=5&same_category=true&fill=1", {"k": 5, "same_category": True, "fill": True}),
        ("k=6&past_only=yes&max_age=365d", {"k": 6, "past_only": True, "max_age": "365d"}),
        ("half_life=180d&exclude_tags=russia,china", {"half_life": "180d", "exclude_tags": "russia,china"}),
        ("mmr=0.7&min_score=0.05", {"mmr": 0.7, "min_score": 0.05}),
        ("k=3&explain=true", {"k": 3, "explain": True}),
    ]
    for query, options in cases:
        response = client.get(f"/related/{SEED}?{query}")
        assert response.status_code == 200, response.text
        assert response.json() == [link.to_dict() for link in index.related(SEED, **options)]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/related/kazakhstan-geopolitical-conundrun", 404, "did you mean"),
        ("/related/..%2F..%2Fetc%2Fpasswd", 404, "unknown article id"),
        ("/related/a%00b%1b[2J", 404, "unknown article id"),
        (f"/related/{SEED}?k=0", 422, "k"),
        (f"/related/{SEED}?k=eight", 422, "k must be a whole number"),
        (f"/related/{SEED}?fill=maybe", 422, "fill must be true or false"),
        (f"/related/{SEED}?min_score=nan", 422, "min_score must be a finite number"),
        (f"/related/{SEED}?colour=red", 422, "unknown parameter 'colour'"),
        (f"/related/{SEED}?max_exposure=3", 422, "max_exposure"),
        ("/articles?limit=1000", 422, "limit must be between 1 and 100"),
    ],
)
def test_errors_are_json_with_their_status(client: TestClient, path: str, status: int, words: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_an_unknown_id_lists_suggestions(client: TestClient) -> None:
    response = client.get("/related/kazakhstan-geopolitical-conundrun")
    assert response.json()["suggestions"] == [SEED]


def test_query_answers_a_draft_as_the_library(client: TestClient, model: Path) -> None:
    draft = {"text": "Kazakhstan balances Russia and China along the Middle Corridor", "title": "Astana"}
    response = client.post("/query", json={**draft, "k": 4, "exclude_ids": [SEED]})
    assert response.status_code == 200
    expected = Index.load(model).query(draft["text"], title=draft["title"], k=4, exclude_ids=[SEED])
    assert response.json() == [link.to_dict() for link in expected]
    assert response.headers["cache-control"] == "no-store"
    for body, words in [
        (b"not json", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"title": "no text"}', "needs 'text'"),
        (b'{"text": "   "}', "query text is empty"),
        (b'{"text": "oil", "past_only": true}', "takes only the filters"),
    ]:
        response = client.post("/query", content=body)
        assert response.status_code == 422
        assert words in response.json()["error"]


def test_a_body_over_the_limit_is_refused(model: Path) -> None:
    client = TestClient(app(model, max_body=100))
    response = client.post("/query", json={"text": "oil " * 100})
    assert response.status_code == 413
    assert "over the limit of 100 bytes" in response.json()["error"]


def test_articles_searches_titles(client: TestClient, model: Path) -> None:
    response = client.get("/articles?search=KAZAKH&limit=50")
    assert response.status_code == 200
    found = response.json()
    assert found
    assert all("kazakh" in (a["title"] + a["article_id"]).casefold() for a in found)
    index = Index.load(model)
    titles = {a: record["title"] for a, record in zip(index.ids, index.records(), strict=True)}
    every = [a for a in titles if "kazakh" in (titles[a] + a).casefold()]
    assert [a["article_id"] for a in found] == every[:50]
    assert len(client.get("/articles?limit=3").json()) == 3


def test_answers_carry_an_etag_and_a_cache_lifetime(client: TestClient) -> None:
    first = client.get(f"/related/{SEED}?k=3")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get(f"/related/{SEED}?k=3", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(f"/related/{SEED}?k=4").headers["etag"] != etag


def test_an_overrides_change_changes_the_etag(model: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.json"
    client = TestClient(app(model, token=TOKEN, overrides=overrides))
    etag = client.get(f"/related/{SEED}?k=3").headers["etag"]
    change = {"action": "hide", "article_id": "sino-russian-partnership"}
    assert (
        client.post("/overrides", json=change, headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 200
    )
    again = client.get(f"/related/{SEED}?k=3", headers={"If-None-Match": etag})
    assert again.status_code == 200  # a cached list would still show the hidden article
    assert again.headers["etag"] != etag


def test_health_and_metrics(client: TestClient, model: Path) -> None:
    health = client.get("/healthz").json()
    index = Index.load(model)
    assert health["status"] == "ok"
    assert health["generation"] == index.generation
    assert health["articles"] == len(index)
    assert health["published"].endswith("Z")
    client.get(f"/related/{SEED}")
    client.get("/related/nope")
    text = client.get("/metrics").text
    assert 'recommender_requests_total{endpoint="related",status="200"} 1' in text
    assert 'recommender_requests_total{endpoint="related",status="404"} 1' in text
    assert 'recommender_request_seconds_count{endpoint="related"} 2' in text
    assert f'recommender_model_info{{generation="{index.generation}"}} 1' in text


def test_a_published_generation_is_taken_without_a_restart(client: TestClient, model: Path) -> None:
    before = client.get("/healthz").json()["generation"]
    etag = client.get(f"/related/{SEED}?k=3").headers["etag"]
    new = {"id": "new-piece", "title": "Kazakhstan and the Middle Corridor", "body": "Kazakhstan oil " * 30}
    update_model(model, add=[new])
    after = client.get("/healthz").json()
    assert after["generation"] != before
    assert client.get(f"/related/{SEED}").headers["x-recommender-generation"] == after["generation"]
    assert after["articles"] == len(Index.load(model))
    assert client.get("/related/new-piece?k=3").status_code == 200
    assert client.get(f"/related/{SEED}?k=3", headers={"If-None-Match": etag}).status_code == 200


def test_a_request_in_flight_keeps_its_generation(model: Path) -> None:
    index = Index.load(model)
    pinned = index.current()
    update_model(model, remove=[SEED])
    assert index.reload()
    assert SEED not in index
    assert SEED in pinned  # what a request began with stays whole
    assert pinned.related(SEED, k=3)


def test_reload_needs_the_token(model: Path) -> None:
    lazy = TestClient(app(model, token=TOKEN, check_every=3600.0))
    before = lazy.get("/healthz").json()["generation"]
    update_model(model, remove=[SEED])
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = lazy.post("/reload", headers=headers)
        assert response.status_code == 401
        assert lazy.get("/healthz").json()["generation"] == before  # nothing changed
    response = lazy.post("/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.json()["reloaded"] is True
    assert lazy.get("/healthz").json()["generation"] == response.json()["generation"] != before
    read_only = TestClient(app(model))
    assert read_only.post("/reload").status_code == 401
    assert "read-only" in read_only.post("/reload").json()["error"]


def test_overrides_are_read_again_when_the_file_changes(model: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.json"
    overrides.write_text(
        json.dumps({"pins": {SEED: ["lachin-corridor-blockade-karabakh"]}}), encoding="utf-8"
    )
    client = TestClient(app(model, overrides=overrides))
    first = client.get(f"/related/{SEED}?k=3").json()
    assert (first[0]["article_id"], first[0]["reason"]) == ("lachin-corridor-blockade-karabakh", "pinned")
    overrides.write_text(json.dumps({"hide": ["lachin-corridor-blockade-karabakh"]}), encoding="utf-8")
    second = client.get(f"/related/{SEED}?k=3").json()
    assert "lachin-corridor-blockade-karabakh" not in [link["article_id"] for link in second]
    assert {link["reason"] for link in second} == {"similar"}


def test_cors_is_off_unless_origins_are_given(model: Path) -> None:
    closed = TestClient(app(model)).get(f"/related/{SEED}", headers={"Origin": "https://news.example"})
    assert "access-control-allow-origin" not in closed.headers
    open_ = TestClient(app(model, cors_origins=("https://news.example",)))
    response = open_.get(f"/related/{SEED}", headers={"Origin": "https://news.example"})
    assert response.headers["access-control-allow-origin"] == "https://news.example"


def test_the_lookup_never_loads_the_server() -> None:
    assert not modules_after("import recommender.lookup, recommender.serve") & (HEAVY | {"starlette"})


def test_serve_without_the_extra_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import builtins

    real = builtins.__import__

    def no_uvicorn(name: str, *args: object, **kwargs: object) -> object:
        if name == "uvicorn":
            message = "No module named 'uvicorn'"
            raise ImportError(message, name="uvicorn")
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_uvicorn)
    assert main(["serve", str(model)]) == 1
    assert "pip install 'recommender[serve]'" in capsys.readouterr().err


def test_editors_changes_need_the_token_and_reach_the_file(model: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.json"  # none yet: the first change writes it
    client = TestClient(app(model, token=TOKEN, overrides=overrides))
    other = "middle-corridor-caspian-trade-route"
    change = {"action": "pin", "article_id": SEED, "other_id": other}
    for headers in ({}, {"Authorization": "Bearer nope"}):
        assert client.post("/overrides", json=change, headers=headers).status_code == 401
    assert not overrides.exists()  # nothing changed
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = client.post("/overrides", json=change, headers=auth)
    assert response.status_code == 200
    assert json.loads(overrides.read_text(encoding="utf-8"))["pins"] == {SEED: [other]}
    first = client.get(f"/related/{SEED}?k=3").json()[0]
    assert (first["article_id"], first["reason"]) == (other, "pinned")
    blocked = "sino-russian-partnership"
    assert client.post(
        "/overrides", json={"action": "block", "article_id": SEED, "other_id": blocked}, headers=auth
    )
    assert blocked not in [link["article_id"] for link in client.get(f"/related/{SEED}?k=8").json()]
    assert client.get("/overrides").json()["blocks"] == [sorted([SEED, blocked])]
    # The command line honours the same file.
    assert main(["related", str(model), SEED, "-k", "8", "--overrides", str(overrides), "--json"]) == 0
    for body, status in [
        ({"action": "pin", "article_id": SEED, "other_id": "no-such-piece"}, 404),
        ({"action": "wipe", "article_id": SEED}, 422),
        ({"action": "pin", "article_id": SEED}, 422),
    ]:
        assert client.post("/overrides", json=body, headers=auth).status_code == status
    assert (
        TestClient(app(model, token=TOKEN)).post("/overrides", json=change, headers=auth).status_code == 409
    )


def test_the_editors_page_is_self_contained_and_locked_down(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert '<script src="/editor.js"></script>' in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text  # no CDN: it works offline
    script = client.get("/editor.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text  # every text goes in as text
    assert "Authorization" in script.text  # writes carry the token in a header a foreign form cannot set


def test_audit_lists_orphans_and_the_most_exposed(client: TestClient, model: Path) -> None:
    from recommender.outputs.audit import audit_links

    report = client.get("/audit").json()
    expected = audit_links(Index.load(model)).to_dict()
    assert report["orphans"] == expected["orphans"]
    assert report["most_exposed"] == expected["most_exposed"]


def test_the_block_is_the_html_exports_with_the_sites_template(model: Path, tmp_path: Path) -> None:
    from recommender.outputs.export import export_links

    exported = export_links(Index.load(model), tmp_path / "all.html", format="html", k=5)
    response = TestClient(app(model)).get(f"/block/{SEED}?k=5")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.text in exported.read_text(encoding="utf-8")  # the very block the export writes
    template = tmp_path / "block.html"
    template.write_text(
        '<aside data-for="$article_id"><b>$count</b><ol>$links</ol></aside>', encoding="utf-8"
    )
    themed = TestClient(app(model, template=template)).get(f"/block/{SEED}?k=4").text
    assert themed.startswith(f'<aside data-for="{SEED}"><b>4</b><ol>')


def test_writes_from_another_sites_page_are_refused(model: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.json"
    client = TestClient(app(model, token=TOKEN, overrides=overrides))
    change = {"action": "hide", "article_id": SEED}
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": "https://attacker.example"}
    assert client.post("/overrides", json=change, headers=headers).status_code == 403
    assert not overrides.exists()
    allowed = TestClient(app(model, token=TOKEN, overrides=overrides, cors_origins=("https://news.example",)))
    headers["Origin"] = "https://news.example"
    assert allowed.post("/overrides", json=change, headers=headers).status_code == 200


def test_query_takes_a_semantic_models_draft_vector(tmp_path: Path, tiny_encoder: Path) -> None:
    from recommender import Recommender

    from .conftest import BUNDLED

    fitted = Recommender(semantic=str(tiny_encoder)).fit(BUNDLED)
    path = tmp_path / "semantic"
    fitted.save(path)
    client = TestClient(app(path))
    text = "Gas storage in Germany before the winter"
    vector = fitted.embed_draft(text)
    response = client.post("/query", json={"text": text, "k": 5, "vector": vector.tolist()})
    assert response.status_code == 200
    assert response.json() == [link.to_dict() for link in fitted.query(text, k=5)]
    response = client.post("/query", json={"text": text, "vector": [0.5, 0.5]})
    assert response.status_code == 422
    assert "vector has 2 numbers" in response.json()["error"]


def test_a_generation_that_fails_to_open_leaves_the_one_before_answering(
    model: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from recommender import store
    from recommender.web.app import Service

    service = Service(
        model, token=TOKEN, overrides=None, check_every=60.0, max_body=1 << 20, max_age=60, verify=True
    )
    client = TestClient(service.asgi(), raise_server_exceptions=False)
    before = client.get("/healthz").json()
    assert before["reload_error"] is None
    update_model(model, add=[{"id": "new-piece", "title": "Kazakhstan", "body": "Kazakhstan oil " * 30}])
    broken = model / str(store.current_generation(model)) / "scores.npy"
    original = broken.read_bytes()
    broken.write_bytes(original[:200] + bytes(4) + original[204:])  # a bad disk, or a bad copy
    looked: list[str | None] = []
    reload = Index.reload
    monkeypatch.setattr(Index, "reload", lambda index: looked.append(index.generation) or reload(index))
    service._checked -= 61  # the check interval has passed
    with caplog.at_level(logging.ERROR, logger="recommender.web.app"):
        for _ in range(3):
            response = client.get(f"/related/{SEED}?k=2")
            assert response.status_code == 200
            assert response.headers["x-recommender-generation"] == before["generation"]
    assert len(looked) == 1  # the next look waits for the check interval
    assert caplog.text.count("scores.npy: checksum mismatch") == 1
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["generation"] == before["generation"]
    assert "scores.npy: checksum mismatch" in health.json()["reload_error"]
    assert "recommender_reload_failing 1\n" in client.get("/metrics").text
    answer = client.post("/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 503
    assert "scores.npy: checksum mismatch" in answer.json()["error"]
    assert answer.json()["generation"] == before["generation"]
    assert caplog.text.count("scores.npy: checksum mismatch") == 1  # logged once per failure
    broken.write_bytes(original)
    answer = client.post("/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.json()["reloaded"] is True
    assert client.get("/healthz").json()["reload_error"] is None
    assert client.get("/related/new-piece?k=2").status_code == 200
    assert "recommender_reload_failing 0\n" in client.get("/metrics").text
