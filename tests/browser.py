"""Headless Chromium from Debian, driven by Selenium through Debian's chromedriver (nothing
downloaded). Without the browser a test is skipped, unless BRIDGE_REQUIRE_BROWSER is set
(as .ci/run does): then it fails."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = os.environ.get("BRIDGE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BRIDGE_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1600",
)


def need_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        message = (
            f"headless Chromium needed: {', '.join(missing)} not found "
            "(apt-get install chromium chromium-driver)"
        )
        if os.environ.get("BRIDGE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Any]:
    need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bridge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


FONTS_LOADED = """
const done = arguments[arguments.length - 1];
document.fonts.ready.then(() => {
  const faces = [];
  document.fonts.forEach(f => faces.push([f.family.replace(/"/g, ''), f.status]));
  done(faces);
});
"""


def loaded_fonts(driver: Any) -> dict[str, str]:
    """Font family -> status ('loaded', 'unloaded', 'error') of the page's @font-face rules."""
    return dict(driver.execute_async_script(FONTS_LOADED))
