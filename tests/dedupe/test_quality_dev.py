"""Quality smoke test on the shared dev corpus (skipped when the corpus is not there).

Asserts what was measured (README of the bench: bench/matching_quality.py), with a margin:
one-shot P 0.9952 R 0.829 F1 0.904, siblings 1, reviews 870 (R+review 0.933);
two-step P 0.9952 R 0.822 F1 0.901, siblings 2, reviews 890 (R+review 0.933);
blocking recall 0.9965.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.common import dev_corpus_dir  # noqa: E402
from bench.matching_quality import run  # noqa: E402
from dedupe.settings import MatchSettings  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (dev_corpus_dir() / "truth.csv").exists(), reason="dev corpus not available"
)


@pytest.mark.slow
def test_dev_corpus_quality(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = {r.name: r for r in run(tmp_path, MatchSettings())}
    for name in ("one-shot", "two-step"):
        r = results[name]
        assert r.precision >= 0.995, name
        assert r.f1 >= 0.895, name
        assert r.sibling_merges <= 2, name
        assert r.reviews <= 927, name
        assert r.recall_with_review >= 0.925, name


def test_bench_script_has_a_help() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "matching_quality.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--splink" in done.stdout
