"""`bridge demo`: its summary's figures are what the sandbox served and what the database holds."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

CHILDREN = 300


def _figure(out: str, label: str) -> int:
    found = re.search(rf"^\s*{re.escape(label)}:? (\d+)", out, re.MULTILINE)
    assert found, f"no '{label}' figure in the summary:\n{out}"
    return int(found.group(1))


def test_demo_summary_figures_are_the_database_s(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--children", str(CHILDREN), "--database",
         str(database)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "demo summary" in out
    served = re.search(
        r"sandbox served: (\d+) Primero cases, (\d+) OSCaR clients \((\d+) in OSCaR's feed", out
    )
    assert served, out
    cases, clients, in_feed = map(int, served.groups())
    primero = _figure(out, "primero records stored")
    oscar = _figure(out, "oscar records stored")
    children = _figure(out, "children")
    across = _figure(out, "children linked across both systems")
    reviews = _figure(out, "possible duplicates for review")
    assert re.search(r"run \d+: ok", out), out
    assert str(database) in out

    # everything served was stored: every case, every client of the feed, none quarantined
    assert (primero, oscar) == (cases, in_feed)
    assert "(0 quarantined)" in out
    assert in_feed <= clients
    with sqlite3.connect(database) as db:
        stored = dict(db.execute("select system, count(*) from source_records group by system"))
        active = db.execute("select count(*) from children where state = 'active'").fetchone()[0]
        both = db.execute(
            "select count(*) from (select l.child_id from links l join source_records r"
            " on r.id = l.record_pk group by l.child_id having count(distinct r.system) = 2)"
        ).fetchone()[0]
        unlinked = db.execute(
            "select count(*) from source_records r left join links l on l.record_pk = r.id"
            " where l.record_pk is null"
        ).fetchone()[0]
        open_reviews = db.execute(
            "select count(*) from review_items where state = 'open'"
        ).fetchone()[0]
    assert stored == {"primero": primero, "oscar": oscar}
    assert (children, across, reviews) == (active, both, open_reviews)
    assert unlinked == 0, "every stored record belongs to a child"
    # the generator made CHILDREN children: the linked count is near it, not near the records
    assert 0.9 * CHILDREN <= children <= 1.1 * CHILDREN, children
    assert 0 < across <= min(primero, oscar)
