"""The desk in a real browser (headless Chromium from Debian, Selenium): log in, open the
queue and a pair, decide "same child" with a reason from the keyboard, see the child page
and the audit entry, switch to Khmer; the Khmer font served by the desk is loaded.
Screenshots are saved in a temporary folder (and kept in $BRIDGE_KEEP_SCREENSHOTS if set)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bridge.config import Config
from bridge.store.db import Store
from bridge.web.app import create_app
from tests.browser import chromium, loaded_fonts
from tests.web.conftest import PASSWORD, fill


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(store: Store) -> Iterator[tuple[str, dict[str, Any]]]:
    ids = fill(store)
    app = create_app(Config(database_url=str(store.engine.url)), store, service=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the desk did not start"
    try:
        yield f"http://127.0.0.1:{port}", ids
    finally:
        server.should_exit = True
        thread.join(10)


def shoot(browser: Any, folder: Path, name: str) -> None:
    shot = folder / f"{name}.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5_000
    keep = os.environ.get("BRIDGE_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / shot.name).write_bytes(shot.read_bytes())


def settled(browser: Any, ready: Any, seconds: float = 15) -> None:
    """Wait until the page the last action led to is there (a form's redirect may still be
    on its way: an element of the page before it goes stale)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(
        browser,
        seconds,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    ).until(ready)


def log_in(browser: Any, base: str, name: str) -> None:
    browser.get(f"{base}/login")
    browser.find_element("id", "name").send_keys(name)
    browser.find_element("id", "password").send_keys(PASSWORD)
    browser.find_element("id", "login").click()
    settled(browser, lambda b: "/login" not in b.current_url and b.find_element("id", "logout"))


def test_a_helpdesk_day_in_the_browser(served: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    base, ids = served
    with chromium() as browser:
        log_in(browser, base, "hana")
        assert browser.current_url == f"{base}/review"
        shoot(browser, tmp_path, "desk-queue-en")
        links = browser.find_elements("css selector", "a.open-item")
        assert [a.text for a in links] == [f"#{ids['review']}", f"#{ids['other']}"]
        links[0].click()
        settled(browser, lambda b: b.find_element("css selector", "table.pair"))
        assert browser.current_url.startswith(f"{base}/review/{ids['review']}")
        cells = browser.find_elements("css selector", "table.pair td.km")
        assert cells and "ដារា" in cells[0].text
        assert "agree" in browser.find_element("css selector", "table.pair").text
        shoot(browser, tmp_path, "desk-pair-en")
        body = browser.find_element("tag name", "body")
        body.send_keys("s")  # no reason yet: the reason field is focused, nothing is sent
        assert browser.switch_to.active_element.get_attribute("id") == "reason"
        browser.switch_to.active_element.send_keys("ticket 42: same mother, same village")
        browser.switch_to.active_element.send_keys(Keys.ESCAPE)
        browser.find_element("tag name", "body").send_keys("s")
        settled(browser, lambda b: b.find_element("id", "done").is_displayed())
        assert "/children/" in browser.current_url
        child_id = browser.find_element("id", "child-id").text
        history = browser.find_element("css selector", "table.history").text
        assert "merge" in history and "hana" in history and "ticket 42" in history
        shoot(browser, tmp_path, "desk-child-en")

        browser.find_element("id", "switch-lang").click()
        settled(browser, lambda b: b.find_element("tag name", "html").get_attribute("lang") == "km")
        assert "ជួរត្រូវពិនិត្យ" in browser.find_element("css selector", "header nav").text
        browser.get(f"{base}/review/{ids['other']}")
        assert "កុមារតែមួយ" in browser.find_element("id", "same").text
        fonts = loaded_fonts(browser)
        assert fonts.get("Noto Sans Khmer") == "loaded", fonts
        shoot(browser, tmp_path, "desk-pair-khmer")

        browser.find_element("id", "logout").click()
        log_in(browser, base, "ada")
        browser.get(f"{base}/audit?child={child_id}")
        audit = browser.find_element("css selector", "table.audit").text
        assert "merge" in audit and "hana" in audit and "desk" in audit
        assert "view_review" in audit and "view_child" in audit
        shoot(browser, tmp_path, "desk-audit-en")
