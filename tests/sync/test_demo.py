import subprocess
import sys
from pathlib import Path


def test_demo_ends_with_its_summary_and_exit_0(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "demo",
            "--children",
            "300",
            "--database",
            str(tmp_path / "demo.db"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "demo summary" in out
    for line in (
        "primero records stored",
        "oscar records stored",
        "children:",
        "children linked across both systems",
        "database:",
    ):
        assert line in out
    assert str(tmp_path / "demo.db") in out
