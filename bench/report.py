"""`bridge report` on a store holding the large shared corpus: time and peak memory of each
format, and the report's unique children beside the truth.

    python bench/report.py --store /tmp/large/bridge.db     # a store built already
    python bench/report.py                                  # builds one from the large corpus
                                                            # (two `bridge import`s, minutes)

Targets (issue 16): under 10 s and under 500 MB on this machine; the estimate's interval
holds the true count of children (truth.csv beside the corpus).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BRIDGE_SHARED_DIR", ROOT / ".." / "shared")).resolve()
LARGE = SHARED / "data" / "khmer-children-large"
FILES = (("primero", "primero_cases.json"), ("oscar", "oscar_clients.json"))


def _opened(path: Path) -> Path:
    """The corpus file, decompressed into a temporary folder if it is gzipped."""
    if path.exists():
        return path
    packed = path.with_name(path.name + ".gz")
    target = Path(tempfile.mkdtemp(prefix="bridge-bench-")) / path.name
    with gzip.open(packed, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return target


def build_store(corpus: Path, store: Path) -> None:
    env = {**os.environ, "BRIDGE_DATABASE_URL": f"sqlite:///{store}"}
    for system, name in FILES:
        subprocess.run(
            [sys.executable, "-m", "cli", "import", system, str(_opened(corpus / name)), "--quiet"],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip


def measure(store: Path, args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one `bridge report` process."""
    env = {**os.environ, "BRIDGE_DATABASE_URL": f"sqlite:///{store}"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "report", *args], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bridge report {' '.join(args)} failed")
    return seconds, usage.ru_maxrss / 1024


def true_children(corpus: Path) -> int | None:
    truth = corpus / "truth.csv"
    if not truth.exists():
        truth = _opened(truth) if truth.with_name("truth.csv.gz").exists() else truth
    if not truth.exists():
        return None
    with truth.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        column = next(c for c in reader.fieldnames or [] if "child" in c or "person" in c)
        return len({row[column] for row in reader})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a SQLite store holding the corpus")
    parser.add_argument("--corpus", type=Path, default=LARGE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = args.store
    if store is None:
        store = Path(tempfile.mkdtemp(prefix="bridge-report-")) / "bridge.db"
        print(f"building a store of {args.corpus.name} at {store} ...", flush=True)
        build_store(args.corpus, store)
    out = Path(tempfile.mkdtemp(prefix="bridge-report-out-"))
    print("format | median s | max s | peak MB")
    print("---|---|---|---")
    for label, extra in (
        ("json", ["--format", "json"]),
        ("csv", ["--format", "csv"]),
        ("html en", ["--format", "html", "--lang", "en"]),
        ("html km", ["--format", "html", "--lang", "km"]),
    ):
        runs = [measure(store, [*extra, "-o", str(out / "report")]) for _ in range(args.repeat)]
        seconds = sorted(s for s, _ in runs)
        print(
            f"{label} | {seconds[len(seconds) // 2]:.2f} | {seconds[-1]:.2f} | "
            f"{max(m for _, m in runs):.0f}"
        )
    measure(store, ["--format", "json", "-o", str(out / "report.json")])
    national = json.loads((out / "report.json").read_text(encoding="utf-8"))["national"]
    truth = true_children(args.corpus)
    low, high = national["unique_children_low"], national["unique_children_high"]

    def n(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    holds = "" if truth is None or low is None else f" -> holds {truth}: {low <= truth <= high}"
    print(
        f"unique children: linked ids {n(national['unique_children_linked'])}, estimate "
        f"{n(national['unique_children'])} (95% {n(low)}-{n(high)}); registrations "
        f"{n(national['registrations'])}; truth {truth}{holds}"
    )


if __name__ == "__main__":
    main()
