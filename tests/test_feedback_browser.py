"""The page snippet (``/feedback.js``) in a real headless Chromium: a block reported only once it is on
screen, a click reported as the reader follows the link, from a page on another origin."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("selenium")
pytest.importorskip("uvicorn")
if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
    pytest.skip(
        "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

import uvicorn
from selenium import webdriver
from selenium.webdriver.common.by import By

from recommender import Index
from recommender.outputs.export import render_block
from recommender.serve import app

from .browser import chromium

SEED = "kazakhstan-geopolitical-conundrum"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path, bundled_model_dir: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """The API (with an events file) on one port, and a publisher's page on another: the page holds the
    exported block far below the fold and loads the snippet from the API."""
    database = tmp_path / "events.db"
    api_port, page_port = _port(), _port()
    application = app(bundled_model_dir, events=database, events_rate=0)
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=api_port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    index = Index.load(bundled_model_dir)
    links = index.related(SEED, k=4)
    block = render_block(index, SEED, links).replace('href="https://', 'href="#https://')  # stay on the page
    page = tmp_path / "site" / "article.html"
    page.parent.mkdir()
    page.write_text(
        "<!doctype html><html><body><h1>An article</h1><div style='height:3000px'>the article's text</div>"
        f"{block}<script src='http://127.0.0.1:{api_port}/feedback.js' defer></script></body></html>",
        encoding="utf-8",
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(page.parent))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), handler)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{page_port}/article.html", database, [link.article_id for link in links]
    finally:
        pages.shutdown()
        server.should_exit = True


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium(1000, 800) as driver:
        yield driver


def _rows(database: Path) -> list[tuple[str, str, str, int, str, str | None]]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(
            "SELECT type, article_id, link_id, rank, reason, visitor FROM events ORDER BY id"
        ).fetchall()
    finally:
        connection.close()


def _wait_for(
    database: Path, count: int, seconds: float = 10.0
) -> list[tuple[str, str, str, int, str, str | None]]:
    deadline = time.monotonic() + seconds
    rows = _rows(database)
    while len(rows) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = _rows(database)
    return rows


def test_impressions_when_seen_and_a_click_when_followed(
    site: tuple[str, Path, list[str]], browser: webdriver.Chrome
) -> None:
    url, database, links = site
    browser.get(url)
    time.sleep(2.5)  # more than the snippet's one-second batching
    assert _rows(database) == []  # the block is far below the fold: not seen, not counted
    browser.execute_script("document.querySelector('.similar-posts').scrollIntoView()")
    rows = _wait_for(database, len(links))
    assert [(row[0], row[1], row[2], row[3]) for row in rows] == [
        ("impression", SEED, link, rank) for rank, link in enumerate(links, start=1)
    ]
    assert all(row[4] == "similar" for row in rows)
    visitor = rows[0][5]
    assert visitor is not None
    assert len(visitor) == 16
    assert all(row[5] == visitor for row in rows)
    browser.find_elements(By.CSS_SELECTOR, ".similar-posts li a")[1].click()
    rows = _wait_for(database, len(links) + 1)
    assert rows[-1][:4] == ("click", SEED, links[1], 2)
    assert rows[-1][5] == visitor
    browser.execute_script("window.scrollTo(0, 0); document.querySelector('.similar-posts').scrollIntoView()")
    time.sleep(1.5)
    assert len(_rows(database)) == len(links) + 1  # one impression per link per page view
