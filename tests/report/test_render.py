"""The report's files: the same store gives the same bytes; the HTML has no network
reference; the JSON has the national totals other tools read; the CLI writes each format."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from typer.testing import CliRunner

from bridge.report.figures import build_report
from bridge.report.render import to_csv, to_html, to_json
from bridge.report.suppress import suppress
from bridge.store.db import Store
from cli import app
from tests.report import fixture


@pytest.fixture
def seeded(store: Store) -> Store:
    fixture.seed(store)
    return store


def made(store: Store):
    with store.session() as session:
        return suppress(build_report(session, as_of=date.fromisoformat(fixture.AS_OF)), 5)


def test_the_same_store_gives_the_same_bytes(seeded: Store) -> None:
    first, second = made(seeded), made(seeded)
    for lang in ("en", "km"):
        assert to_html(first, lang) == to_html(second, lang)
    assert to_json(first) == to_json(second) and to_csv(first) == to_csv(second)


def test_the_html_is_self_contained(seeded: Store) -> None:
    for lang in ("en", "km"):
        page = to_html(made(seeded), lang)
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
        assert "@font-face" in page and "data:font/ttf;base64," in page
        assert page.count("<svg") == 2  # the province and age charts, inline
        assert f'<html lang="{lang}">' in page
    assert "ភ្នំពេញ" in to_html(made(seeded), "km")  # Phnom Penh by its Khmer name


def test_the_json_has_the_national_totals(seeded: Store) -> None:
    data = json.loads(to_json(made(seeded)))
    national = data["national"]
    for key in ("unique_children_linked", "unique_children", "unique_children_low",
                "unique_children_high"):  # fmt: skip
        assert key in national
    assert national["unique_children_linked"] == 40
    assert data["as_of"] == fixture.AS_OF and data["suppressed_below"] == 5


def test_the_csv_is_one_row_a_cell(seeded: Store) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(made(seeded)))))
    by_sex = {r["row"]: r["value"] for r in rows if r["table"] == "by_sex"}
    assert by_sex["female"] == "32" and by_sex["male"] == "8"


def test_the_command_writes_each_format(seeded: Store, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", seeded.url)
    runner = CliRunner()
    for fmt in ("json", "csv", "html"):
        out = tmp_path / f"report.{fmt}"
        done = runner.invoke(
            app, ["report", "--as-of", fixture.AS_OF, "--format", fmt, "-o", str(out)]
        )
        assert done.exit_code == 0, done.output
        assert out.stat().st_size > 0
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["national"]["unique_children_linked"] == 40
    bad = runner.invoke(app, ["report", "--as-of", "07/12/2026"])
    assert bad.exit_code == 2
    lang = runner.invoke(app, ["report", "--lang", "fr"])
    assert lang.exit_code == 2


def test_the_desk_page_hides_small_cells_from_viewers_only(seeded: Store) -> None:
    from bridge.report.page import report_fragment

    with seeded.session() as session:
        viewer = report_fragment(session, role="viewer", lang="en")
        helpdesk = report_fragment(session, role="helpdesk", lang="en")
    assert "&lt;5" in viewer and "&lt;5" not in helpdesk
    assert "<html" not in viewer  # a fragment for the desk's own page
