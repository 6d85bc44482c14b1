"""A report as JSON (for other tools), CSV (one row a cell) or one self-contained HTML file
(charts drawn by matplotlib as inline SVG, the Khmer font embedded, no network reference).

The same report gives the same bytes: keys sorted, no wall-clock time, SVG ids salted with a
constant and no date in the SVG metadata.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import tomllib
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from bridge.report.figures import Report, Table

HERE = Path(__file__).parent
FONT = HERE.parent / "fonts" / "NotoSansKhmer-Regular.ttf"
LANGUAGES = ("en", "km")


@cache
def labels(lang: str) -> dict[str, str]:
    words = tomllib.loads((HERE / "labels.toml").read_text(encoding="utf-8"))
    return {**words["en"], **words.get(lang, {})}


def word(key: str, lang: str) -> str:
    return labels(lang).get(key, key.replace("_", " "))


def row_label(table: Table, key: str, lang: str) -> str:
    if table.key == "by_province":
        from bridge.places import find

        place = find(key) if key != "unknown" else None
        if place is not None:
            return place.name("km") if lang == "km" else f"{place.latin} ({place.khmer})"
    return word(key, lang)


def as_data(report: Report) -> dict[str, Any]:
    return {
        "as_of": report.as_of.isoformat(),
        "runs": report.runs,
        "mapping_version": report.mapping_version,
        "suppressed_below": report.threshold,
        "national": report.national,
        "tables": {
            t.key: {
                "columns": t.columns,
                "partition": t.partition,
                "total": t.total,
                "rows": [{"key": r.key, **r.values} for r in t.rows],
            }
            for t in report.tables
        },
    }


def to_json(report: Report) -> str:
    return json.dumps(as_data(report), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value"])
    for key, value in sorted(report.national.items()):
        writer.writerow(["national", key, "value", "" if value is None else value])
    for table in report.tables:
        for row in table.rows:
            for column in table.columns:
                value = row.values.get(column)
                writer.writerow([table.key, row.key, column, "" if value is None else value])
        for column, value in (table.total or {}).items():
            writer.writerow([table.key, "total", column, value])
    return out.getvalue()


def _number(value: Any, lang: str) -> str:
    if value is None:
        return word("not_recorded", lang)
    if isinstance(value, str):
        return value
    from babel.numbers import format_decimal

    return format_decimal(value, locale="km_KH" if lang == "km" else "en_GB")


def _bar_chart(names: list[str], values: list[int], title: str) -> str:
    """A horizontal bar chart as SVG text (greys, readable printed in black and white)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    if FONT.is_file() and "Noto Sans Khmer" not in {
        f.name for f in font_manager.fontManager.ttflist
    }:
        font_manager.fontManager.addfont(str(FONT))
    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",  # text stays text: the browser shapes Khmer with the font
            "svg.hashsalt": "bridge-report",
            "font.family": ["DejaVu Sans", "Noto Sans Khmer"],
            "font.size": 9,
        }
    ):
        height = max(2.0, 0.28 * len(names) + 0.8)
        fig, ax = plt.subplots(figsize=(7.0, height))
        ax.barh(range(len(names)), values, color="#555555", edgecolor="black", linewidth=0.4)
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_title(title, loc="left")
        ax.spines[["top", "right"]].set_visible(False)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:,}", va="center", fontsize=8)
        fig.tight_layout()
        buffer = io.StringIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # glyphs matplotlib lacks metrics for
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _charts(report: Report, lang: str) -> list[str]:
    charts = []
    province = report.table("by_province")
    shown = [
        (row_label(province, r.key, lang), r.values["children"])
        for r in province.rows
        if isinstance(r.values.get("children"), int) and r.values["children"]
    ]
    shown.sort(key=lambda item: -item[1])
    if shown:
        charts.append(
            _bar_chart([n for n, _ in shown], [v for _, v in shown], word("chart_province", lang))
        )
    ages = report.table("by_age_band")
    rows = [(word(r.key, lang), r.values["children"]) for r in ages.rows]
    rows = [(n, v) for n, v in rows if isinstance(v, int)]
    if rows:
        charts.append(
            _bar_chart([n for n, _ in rows], [v for _, v in rows], word("chart_age", lang))
        )
    return charts


def _context(report: Report, lang: str) -> dict[str, Any]:
    tables = [
        {
            "title": word(t.key, lang),
            "columns": [word(c, lang) for c in t.columns],
            "rows": [
                [row_label(t, r.key, lang)] + [_number(r.values.get(c), lang) for c in t.columns]
                for r in t.rows
            ],
            "total": None
            if not t.total
            else [word("total", lang)] + [_number(t.total.get(c), lang) for c in t.columns],
        }
        for t in report.tables
        if t.rows
    ]
    n = report.national
    threshold = max(report.threshold, 1)
    return {
        "lang": lang,
        "w": lambda key: word(key, lang),
        "num": lambda value: _number(value, lang),
        "as_of": report.as_of.isoformat(),
        "runs": ", ".join(str(r) for r in report.runs) or "-",
        "mapping_version": report.mapping_version,
        "national": n,
        "interval": (
            f"{_number(n.get('unique_children_low'), lang)} – "
            f"{_number(n.get('unique_children_high'), lang)}"
        )
        if n.get("unique_children_low") is not None
        else word("not_recorded", lang),
        "precision": None
        if n.get("estimated_precision") is None
        else f"{n['estimated_precision']:.3f}",
        "suppressed": word("suppressed_note", lang).format(below=threshold - 1, threshold=threshold)
        if report.threshold > 1
        else "",
        "tables": tables,
        "charts": _charts(report, lang),
        "font": base64.b64encode(FONT.read_bytes()).decode("ascii") if FONT.is_file() else "",
    }


def to_html(report: Report, lang: str = "en") -> str:
    """The whole report as one HTML file."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: use one of {', '.join(LANGUAGES)}")
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2").render(**_context(report, lang))


def fragment(report: Report, lang: str = "en") -> str:
    """The report's body (charts and tables) for a page of `bridge serve`."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    return env.get_template("body.html.j2").render(**_context(report, lang))
