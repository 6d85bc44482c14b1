"""The report of the sandbox demo's store, against a golden file: any change to what the
report counts shows up here, reviewed, not by surprise.

After a deliberate change: `BRIDGE_UPDATE_GOLDEN=1 python -m pytest tests/report/test_golden.py`
and read the diff of tests/report/golden/demo-report.json before committing it.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from bridge.demo import run_demo
from bridge.report.figures import build_report
from bridge.report.render import to_json
from bridge.report.suppress import suppress
from bridge.store.db import open_store

GOLDEN = Path(__file__).with_name("golden") / "demo-report.json"
AS_OF = date(2030, 1, 1)  # after the demo's records are stored, whenever the test runs


def test_the_demo_store_gives_the_golden_report(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    run_demo(children=3000, seed=1, database=database)
    store = open_store(f"sqlite:///{database}")
    try:
        with store.session() as session:
            data = json.loads(to_json(suppress(build_report(session, as_of=AS_OF), 5)))
    finally:
        store.close()
    data.pop("mapping_version")  # a mapping change is seen in the figures, or not at all
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("BRIDGE_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
