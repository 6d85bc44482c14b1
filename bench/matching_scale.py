"""Matching at scale: full link of 10k / 100k / 1M synthetic children's records, then 1,000 new
records matched into the linked index; our engine and (where it fits) Splink 5.

Each (engine, size) runs in its own subprocess so its peak RSS (resource.getrusage) is its own.
Records come from the sandbox generator (bridge.sandbox.generator.iter_registrations),
converted with bench.common's simple payload -> PersonRecord conversion.

    python bench/matching_scale.py [--sizes 10000,100000,1000000] [--skip-splink] [--new 1000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import pairwise_score, payload_to_person
from bench.memory import tree_pss_kb
from dedupe.records import PersonRecord


def synthetic_records(n_records: int, seed: int = 1) -> tuple[list[PersonRecord], dict[str, str]]:
    """n_records registrations (in a shuffled order, so later ones can match earlier children)
    and the true child of each."""
    from bridge.sandbox.generator import iter_registrations

    records: list[PersonRecord] = []
    truth: dict[str, str] = {}
    # more children than records is a safe upper bound: the stream is lazy and cut at n_records
    for reg in itertools.islice(iter_registrations(n_records, seed=seed), n_records):
        record = payload_to_person(reg.system, reg.payload)
        records.append(record)
        truth[record.key] = reg.child
    random.Random(seed).shuffle(records)
    return records, truth


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _workers_peak_rss_mb() -> float:
    """Largest peak RSS of the worker processes the engine forked (comparing pairs). Their RSS
    counts the pages they share copy-on-write with the main process, so it overstates what
    they add; it is reported so that the main process's peak is not read as the whole."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class TreeMemory:
    """Largest proportional set size (PSS) of this process and the workers it forks, sampled
    every 0.2 s while running (Linux /proc; None elsewhere). PSS shares each page among the
    processes mapping it, so forked workers' copy-on-write pages count once: the memory the
    whole link takes, which neither this process's peak RSS nor the workers' shows alone."""

    def __init__(self) -> None:
        self.peak_kb: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.2):
            total = tree_pss_kb(me)
            if total:
                self.peak_kb = max(self.peak_kb or 0, total)

    def __enter__(self) -> TreeMemory:
        if os.path.exists(f"/proc/{os.getpid()}/smaps_rollup"):
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def peak_mb(self) -> int | None:
        return None if self.peak_kb is None else round(self.peak_kb / 1024)


def use_fast_view() -> None:
    """The swap proposed to the engine: ``PairView`` -> ``dedupe.fastpath.FastPairView`` (same
    results, see tests/dedupe_perf), applied here until the engine makes it."""
    import dedupe.engine
    import dedupe.training
    from dedupe.fastpath import FastPairView

    dedupe.engine.PairView = FastPairView  # type: ignore[misc]
    dedupe.training.PairView = FastPairView  # type: ignore[misc]


def engine_worker(size: int, new: int, fast: bool = False) -> dict[str, Any]:
    from dedupe.engine import Matcher

    if fast:
        use_fast_view()

    records, truth = synthetic_records(size + new)
    base, fresh = records[:size], records[size:]
    rss_before = _peak_rss_mb()
    matcher = Matcher()
    t0 = time.perf_counter()
    with TreeMemory() as tree:
        plan = matcher.link(base)
    link_s = time.perf_counter() - t0
    peak_link = _peak_rss_mb()
    score = pairwise_score(plan.clusters, truth)
    labels = {key: f"K{n}" for n, members in enumerate(plan.clusters) for key in members}
    t0 = time.perf_counter()
    index = matcher.index(base, labels)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.add(fresh)
    add_s = time.perf_counter() - t0
    return {
        "engine": "ours+fast" if fast else "ours",
        "size": size,
        "link_s": round(link_s, 1),
        "rss_before_mb": round(rss_before),
        "peak_rss_mb": round(peak_link),
        "workers_peak_rss_mb": round(_workers_peak_rss_mb()),
        "tree_peak_pss_mb": tree.peak_mb,
        "index_s": round(index_s, 1),
        "add_s": round(add_s, 2),
        "new": len(fresh),
        "f1": round(score.f1, 4),
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
    }


# above this many records Splink runs with the rules that keep a name in every block
SPLINK_SCALE_RULES_FROM = 100_000
# DuckDB's memory (and, again, its spill folder): by default it takes 80% of the machine
SPLINK_MEMORY_LIMIT = "8GB"


def splink_worker(size: int) -> dict[str, Any]:
    from bench.splink_dev import (
        DEV_TRAINING,
        PREDICTION_RULES,
        SCALE_RULES,
        SCALE_TRAINING,
        best_threshold,
        clusters_from_pairs,
        train_and_predict,
    )

    records, truth = synthetic_records(size)
    at_scale = size > SPLINK_SCALE_RULES_FROM
    rules = SCALE_RULES if at_scale else PREDICTION_RULES
    rss_before = _peak_rss_mb()
    t0 = time.perf_counter()
    run = train_and_predict(
        records,
        rules=rules,
        training=SCALE_TRAINING if at_scale else DEV_TRAINING,
        memory_limit=SPLINK_MEMORY_LIMIT,
    )
    keys = [r.key for r in records]
    clusters = clusters_from_pairs(keys, run.pairs, 0.99)
    link_s = time.perf_counter() - t0
    peak = _peak_rss_mb()
    at_99 = pairwise_score(clusters, truth)
    threshold, best = best_threshold(keys, run.pairs, truth)
    return {
        "engine": "splink" if rules is PREDICTION_RULES else "splink (scale rules)",
        "size": size,
        "link_s": round(link_s, 1),
        "rss_before_mb": round(rss_before),
        "peak_rss_mb": round(peak),
        "f1": round(at_99.f1, 4),
        "precision": round(at_99.precision, 4),
        "recall": round(at_99.recall, 4),
        "best_threshold": threshold,
        "best_f1": round(best.f1, 4),
    }


def run_worker(
    kind: str, size: int, new: int, timeout: float, fast: bool = False
) -> dict[str, Any]:
    """One measurement in a fresh interpreter; its last stdout line is the JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--size", str(size)]
    cmd += ["--new", str(new)] + (["--fast"] if fast else [])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"engine": kind, "size": size, "error": f"timeout after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"engine": kind, "size": size, "error": f"exit {done.returncode}: {tail[0]}"}
    return json.loads(lines[-1])


def _cell(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return "-" if value is None else str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = ["engine", "size", "link_s", "peak_rss_mb", "tree_peak_pss_mb", "workers_peak_rss_mb"]
    cols += ["rss_before_mb"]
    cols += ["index_s", "add_s"]
    cols += ["precision", "recall", "f1", "best_threshold", "best_f1", "error"]
    print(" | ".join(cols))
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for row in rows:
        print(" | ".join(_cell(row, c) for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--skip-splink", action="store_true")
    ap.add_argument("--new", type=int, default=1000, help="records matched into the index")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per measurement")
    ap.add_argument(
        "--fast", action="store_true", help="our engine with dedupe.fastpath.FastPairView"
    )
    ap.add_argument("--worker", choices=["ours", "splink"], help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        result = (
            engine_worker(args.size, args.new, args.fast)
            if args.worker == "ours"
            else splink_worker(args.size)
        )
        print(json.dumps(result))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        kinds = ["ours"] if args.skip_splink else ["ours", "splink"]
        for kind in kinds:
            row = run_worker(kind, size, args.new, args.timeout, args.fast and kind == "ours")
            print(json.dumps(row), flush=True)
            rows.append(row)
    print_table(rows)


if __name__ == "__main__":
    main()
