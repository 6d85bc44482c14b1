"""The HTML report in a real browser: headless Chromium renders it in English and Khmer,
loads the embedded Khmer font and shows the charts; a screenshot of the first page is kept."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from bridge.report.figures import build_report
from bridge.report.render import to_html
from bridge.report.suppress import suppress
from bridge.store.db import Store
from tests.browser import chromium, loaded_fonts
from tests.report import fixture


def test_the_report_renders_in_both_languages(store: Store, tmp_path: Path) -> None:
    fixture.seed(store)
    with store.session() as session:
        report = suppress(build_report(session, as_of=date.fromisoformat(fixture.AS_OF)), 5)
    with chromium() as browser:
        for lang in ("en", "km"):
            page = tmp_path / f"report-{lang}.html"
            page.write_text(to_html(report, lang), encoding="utf-8")
            browser.get(page.as_uri())
            fonts = loaded_fonts(browser)
            assert fonts.get("Noto Sans Khmer") == "loaded", fonts
            charts = browser.find_elements("css selector", "figure.chart svg")
            assert len(charts) == 2 and all(c.size["height"] > 50 for c in charts)
            title = browser.find_element("css selector", "h1").text
            assert ("តួលេខ" in title) if lang == "km" else ("nation-wide" in title)
            shot = tmp_path / f"report-{lang}.png"
            assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
            keep = os.environ.get("BRIDGE_KEEP_SCREENSHOTS")
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                (Path(keep) / shot.name).write_bytes(shot.read_bytes())
