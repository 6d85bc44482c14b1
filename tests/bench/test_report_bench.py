"""bench/report.py runs end to end on a small store (the hand-counted report fixture)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bridge.store.db import open_store
from tests.report import fixture

ROOT = Path(__file__).resolve().parents[2]


def test_the_report_bench_prints_its_figures(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'bridge.db'}")
    fixture.seed(store)
    store.close()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "truth.csv").write_text(
        "system,record_id,child\n" + "".join(f"primero,r{i},C{i % 40}\n" for i in range(52)),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "bench/report.py", "--store", str(tmp_path / "bridge.db"),
         "--corpus", str(corpus), "--repeat", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "html km |" in done.stdout
    assert "linked ids 40" in done.stdout and "truth 40" in done.stdout
