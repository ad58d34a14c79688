"""The editor's page in a real headless Chromium (Debian's ``chromium`` and ``chromedriver``, driven by
Selenium): search, open an article, pin one link and block another, see both in the list and the file."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
selenium = pytest.importorskip("selenium")
uvicorn = pytest.importorskip("uvicorn")
if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
    pytest.skip(
        "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

from recommender.serve import app  # noqa: E402

from .browser import chromium  # noqa: E402
from .conftest import ROOT  # noqa: E402

SEED = "kazakhstan-geopolitical-conundrum"
TOKEN = "browser-token"


@pytest.fixture
def served(tmp_path: Path, bundled_model_dir: Path) -> Iterator[tuple[str, Path]]:
    model = tmp_path / "model"
    shutil.copytree(bundled_model_dir, model)
    overrides = tmp_path / "overrides.json"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    application = app(model, token=TOKEN, overrides=overrides)
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}", overrides
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver


def _rows(browser: webdriver.Chrome) -> list[tuple[str, str]]:
    """(id, reason) of each row of the list shown, read in one step (the page redraws the list whole)."""
    script = (
        "return [...document.querySelectorAll('#links tbody tr')]"
        ".map((r) => [r.dataset.id, r.cells[4].textContent]);"
    )
    return [(str(article_id), str(reason)) for article_id, reason in browser.execute_script(script)]


def _click(browser: webdriver.Chrome, css: str) -> None:
    """Click the element ``css`` finds once it is there (the page may redraw it in between)."""

    def clicked(_: object) -> bool:
        try:
            browser.find_element(By.CSS_SELECTOR, css).click()
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        return True

    WebDriverWait(browser, 15).until(clicked)


def test_an_editor_pins_and_blocks_from_the_page(served: tuple[str, Path], browser: webdriver.Chrome) -> None:
    base, overrides = served
    wait = WebDriverWait(browser, 15)
    browser.get(base + "/")
    token = browser.find_element(By.ID, "token")
    token.send_keys(TOKEN)
    token.send_keys("\t")  # the change event: the page keeps it for this tab and enables the buttons
    browser.find_element(By.ID, "search").send_keys("geopolitical conundrum")
    _click(browser, f'#found button[data-id="{SEED}"]')
    wait.until(lambda _: len(_rows(browser)) == 8)
    before = _rows(browser)
    assert {reason for _, reason in before} == {"similar"}
    pinned, blocked = before[3][0], before[1][0]

    def press(article_id: str, action: str) -> None:
        _click(browser, f'#links tbody tr[data-id="{article_id}"] button[data-action="{action}"]:enabled')

    press(pinned, "pin")
    wait.until(lambda _: _rows(browser)[0] == (pinned, "pinned"))
    press(blocked, "block")
    wait.until(lambda _: blocked not in [article_id for article_id, _ in _rows(browser)])
    after = _rows(browser)
    assert after[0] == (pinned, "pinned")
    assert "pinned: " + pinned in browser.find_element(By.ID, "by-hand").text
    assert "blocked: " + blocked in browser.find_element(By.ID, "by-hand").text
    preview = browser.find_element(By.ID, "preview").get_attribute("srcdoc") or ""
    assert preview.index(f'data-article-id="{pinned}"') < preview.index("</ul>")  # readers see the pin
    assert f'data-article-id="{blocked}"' not in preview
    saved = json.loads(overrides.read_text(encoding="utf-8"))
    assert saved["pins"] == {SEED: [pinned]}
    assert saved["blocks"] == [sorted([SEED, blocked])]
    (ROOT / "out").mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ROOT / "out" / "editor.png"))


def test_without_the_token_the_page_is_read_only(served: tuple[str, Path], browser: webdriver.Chrome) -> None:
    base, overrides = served
    wait = WebDriverWait(browser, 15)
    browser.get(base + "/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(base + "/")
    browser.find_element(By.ID, "search").send_keys("geopolitical conundrum")
    _click(browser, f'#found button[data-id="{SEED}"]')
    wait.until(lambda _: len(_rows(browser)) == 8)
    buttons = browser.find_elements(By.CSS_SELECTOR, "#links button")
    assert buttons
    assert all(not button.is_enabled() for button in buttons)
    assert not overrides.exists()
