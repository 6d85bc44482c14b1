"""Sync throughput: the bridge's own commands on a national-size backlog, against the floor.

In one run, on one machine:

- **floor**: JSON parse + payload hash (sha256 of the canonical JSON, as the bridge hashes) +
  batched SQLite insert of the same records, one transaction per 5,000;
- **import**: ``bridge import primero`` then ``bridge import oscar`` of the large shared corpus
  (``../shared/data/khmer-children-large``, 76,913 records) into a fresh SQLite file;
- **remap** and **relink** of that store (``bridge remap``, ``bridge relink``);
- **sync**: ``bridge sandbox serve --children N`` in its own process, then ``bridge sync`` of a
  fresh store from it over loopback;
- ``bridge --help`` and every sub-command's ``--help`` (median of 5 each).

Each command runs as a subprocess; its peak memory is the largest proportional set size (PSS)
of its whole process tree (the command and the workers it forks), sampled every 0.2 s, and
the peak RSS of its largest process (``ru_maxrss`` of the resource usage ``os.wait4`` returns,
the figure ``resource.getrusage`` gives for a child). Records per second count the records the
command handled (pulled, re-mapped, linked).

    python bench/sync_throughput.py                      # everything, full size
    python bench/sync_throughput.py --records 5000 --sandbox-children 2000   # a quick run
    python bench/sync_throughput.py --only import --double   # import at N and at 2N records
    python bench/sync_throughput.py --only import --profile  # cProfile of each import
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import tree_pss_kb

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BRIDGE_SHARED_DIR", ROOT / ".." / "shared")).resolve()
LARGE = SHARED / "data" / "khmer-children-large"
FILES = (("primero", "primero_cases.json"), ("oscar", "oscar_clients.json"))
SUBCOMMANDS = [
    [],
    ["sync"],
    ["import"],
    ["status"],
    ["remap"],
    ["relink"],
    ["review", "list"],
    ["mapping", "check"],
    ["sandbox", "serve"],
    ["children", "export"],
    ["referrals", "run"],
    ["db", "upgrade"],
]


# -- measuring a process tree -----------------------------------------------------------------
@dataclass
class Measured:
    seconds: float
    tree_pss_mb: float | None
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Run ``cmd``, sampling the PSS of its process tree; wall time and peak memory."""
    with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                total = tree_pss_kb(proc.pid)
                peak[0] = max(peak[0], total)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return Measured(
        seconds=seconds,
        tree_pss_mb=peak[0] / 1024 if peak[0] else None,
        max_rss_mb=usage.ru_maxrss / 1024,
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
    )


# -- the table -------------------------------------------------------------------------------
@dataclass
class Row:
    work: str
    records: int | None
    seconds: float | None
    tree_pss_mb: float | None = None
    max_rss_mb: float | None = None
    note: str = ""

    @property
    def rate(self) -> float | None:
        if not self.records or not self.seconds:
            return None
        return self.records / self.seconds


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    floor_rate: float | None = None

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(self.line(row), flush=True)

    def line(self, r: Row) -> str:
        rate = f"{r.rate:,.0f}" if r.rate else ""
        ratio = f"{self.floor_rate / r.rate:.1f}×" if r.rate and self.floor_rate else ""
        pss = f"{r.tree_pss_mb:,.0f} MB" if r.tree_pss_mb else ""
        rss = f"{r.max_rss_mb:,.0f} MB" if r.max_rss_mb else ""
        records = f"{r.records:,}" if r.records else ""
        seconds = f"{r.seconds:.2f} s" if r.seconds is not None else ""
        return f"| {r.work} | {records} | {seconds} | {rate} | {ratio} | {pss} | {rss} | {r.note} |"

    def markdown(self) -> str:
        head = (
            "| work | records | time | records/s | floor ÷ rate | peak memory (tree PSS) "
            "| peak RSS (largest process) | note |\n|---|---|---|---|---|---|---|---|"
        )
        return "\n".join([head, *(self.line(r) for r in self.rows)])


# -- inputs ----------------------------------------------------------------------------------
def _entries(path: Path) -> list[Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    return data["data"] if isinstance(data, dict) else data


def prepare_corpus(corpus: Path, work: Path, limit: int | None, double: bool) -> dict[str, Path]:
    """The corpus's two files as plain JSON lists in ``work`` (the first ``limit`` records of
    each; ``double``: every record twice, the copy under a new id, as a backlog twice as big)."""
    files = {}
    for system, name in FILES:
        source = corpus / name if (corpus / name).is_file() else corpus / f"{name}.gz"
        entries = _entries(source)
        if limit is not None:
            entries = entries[:limit]
        if double:
            entries = entries + [_copy(system, e) for e in entries]
        target = work / f"{'2x-' if double else ''}{name}"
        with target.open("w", encoding="utf-8") as f:
            json.dump(entries, f, ensure_ascii=False)
        files[system] = target
    return files


def _copy(system: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Another record like ``entry``: new record id, no shared system ids."""
    copy = dict(entry)
    if system == "primero":
        copy["id"] = f"{entry['id']}-2"
        for key in ("case_id", "case_id_display", "oscar_number"):
            if copy.get(key):
                copy[key] = f"{copy[key]}-2"
    else:
        copy["global_id"] = f"{entry['global_id']}-2"
        for key in ("external_id", "slug"):
            if copy.get(key):
                copy[key] = f"{copy[key]}-2"
    return copy


def prepare_elsewhere(
    corpus: Path, work: Path, limit: int | None, double: bool
) -> tuple[dict[str, Path], int]:
    """``prepare_corpus`` in a subprocess: this process stays small, so that the commands it
    starts do not inherit its peak RSS (Linux keeps the high-water mark across exec)."""
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from bench.sync_throughput import prepare_corpus, _entries;"
        "files = prepare_corpus(Path(sys.argv[2]), Path(sys.argv[3]),"
        " int(sys.argv[4]) or None, sys.argv[5] == '1');"
        "print(json.dumps({s: str(p) for s, p in files.items()}));"
        "print(sum(len(_entries(p)) for p in files.values()))"
    )
    args = [str(ROOT), str(corpus), str(work), str(limit or 0), "1" if double else "0"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    paths, count = done.stdout.strip().splitlines()
    return {s: Path(p) for s, p in json.loads(paths).items()}, int(count)


# -- the floor -------------------------------------------------------------------------------
FLOOR = r"""
import hashlib, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, system TEXT, record_id TEXT, "
           "payload TEXT, payload_hash TEXT, UNIQUE(system, record_id))")
n = 0
for pair in sys.argv[2:]:
    system, path = pair.split("=", 1)
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)
    id_field = "id" if system == "primero" else "global_id"
    for start in range(0, len(entries), 5000):
        rows = []
        for e in entries[start:start + 5000]:
            text = json.dumps(e, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            rows.append((system, e[id_field], json.dumps(e, ensure_ascii=False), digest))
        with db:
            db.executemany("INSERT INTO r (system, record_id, payload, payload_hash) "
                           "VALUES (?, ?, ?, ?)", rows)
        n += len(rows)
print(n)
"""


def floor(files: dict[str, Path], work: Path) -> Measured:
    db = work / "floor.db"
    db.unlink(missing_ok=True)
    args = [f"{system}={path}" for system, path in files.items()]
    return run_measured([sys.executable, "-c", FLOOR, str(db), *args], dict(os.environ))


# -- the bridge's commands -------------------------------------------------------------------
def bridge_cmd(*args: str, profile: Path | None = None) -> list[str]:
    if profile is not None:
        return [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "cli", *args]
    return [sys.executable, "-m", "cli", *args]


def bridge_env(database: Path, config: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "BRIDGE_DATABASE_URL": f"sqlite:///{database}"}
    env.pop("BRIDGE_CONFIG", None)
    if config is not None:
        env["BRIDGE_CONFIG"] = str(config)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def check(m: Measured, what: str) -> None:
    if m.returncode not in (0, 3):
        sys.stderr.write(m.stderr[-3000:])
        raise SystemExit(f"{what} failed with exit code {m.returncode}")


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    print(f"\n-- profile {path.name} (cumulative, top {top}) --")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(top)
    print(f"-- profile {path.name} (own time, top {top}) --")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(top)


def import_store(
    table: Table, files: dict[str, Path], database: Path, label: str, profile: bool, work: Path
) -> None:
    env = bridge_env(fresh(database))
    total, seconds, pss, rss = 0, 0.0, 0.0, 0.0
    for system, path in files.items():
        prof = work / f"import-{system}.prof" if profile else None
        m = run_measured(
            bridge_cmd("import", system, str(path), "--quiet", profile=prof), env, cwd=work
        )
        check(m, f"bridge import {system}")
        pulled = int(m.stdout.split(" pulled", 1)[0].rsplit(" ", 1)[-1])
        total += pulled
        seconds += m.seconds
        pss, rss = max(pss, m.tree_pss_mb or 0), max(rss, m.max_rss_mb)
        table.add(
            Row(f"`bridge import {system}`{label}", pulled, m.seconds, m.tree_pss_mb, m.max_rss_mb)
        )
        if prof:
            print_profile(prof)
    table.add(Row(f"**import, both files**{label}", total, seconds, pss, rss))


def remap_relink(table: Table, database: Path, records: int, profile: bool, work: Path) -> None:
    env = bridge_env(database)
    for command in ("remap", "relink"):
        prof = work / f"{command}.prof" if profile else None
        m = run_measured(bridge_cmd(command, profile=prof), env, cwd=work)
        check(m, f"bridge {command}")
        table.add(
            Row(
                f"`bridge {command}`",
                records,
                m.seconds,
                m.tree_pss_mb,
                m.max_rss_mb,
                m.stdout.strip().splitlines()[0][:80] if m.stdout else "",
            )
        )
        if prof:
            print_profile(prof)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sync_sandbox(table: Table, children: int, work: Path, profile: bool) -> None:
    p_port, o_port = free_port(), free_port()
    server = subprocess.Popen(
        bridge_cmd(
            "sandbox",
            "serve",
            "--children",
            str(children),
            "--primero-port",
            str(p_port),
            "--oscar-port",
            str(o_port),
        ),
        env=bridge_env(work / "unused.db"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # ready when it says so
            if line.startswith("Ctrl-C stops"):
                break
        else:
            raise SystemExit("the sandbox did not start")
        config = work / "sync.toml"
        config.write_text(
            "\n".join(
                [
                    "[[sources]]",
                    'name = "primero"',
                    'kind = "primero"',
                    f'base_url = "http://127.0.0.1:{p_port}"',
                    'username = "primero_bridge"',
                    'password_env = "BENCH_PRIMERO_PASSWORD"',
                    "",
                    "[[sources]]",
                    'name = "oscar"',
                    'kind = "oscar"',
                    f'base_url = "http://127.0.0.1:{o_port}"',
                    'email = "bridge@sandbox.local"',
                    'password_env = "BENCH_OSCAR_PASSWORD"',
                    "",
                ]
            ),
            encoding="utf-8",
        )
        env = bridge_env(fresh(work / "sync.db"), config)
        env["BENCH_PRIMERO_PASSWORD"] = "sandbox-primero"
        env["BENCH_OSCAR_PASSWORD"] = "sandbox-oscar"
        prof = work / "sync.prof" if profile else None
        m = run_measured(bridge_cmd("sync", "--quiet", profile=prof), env, cwd=work)
        check(m, "bridge sync")
        pulled = sum(
            int(line.split(" pulled", 1)[0].rsplit(" ", 1)[-1])
            for line in m.stdout.splitlines()
            if " pulled in " in line
        )
        table.add(
            Row(
                f"`bridge sync`, sandbox of {children:,} children",
                pulled,
                m.seconds,
                m.tree_pss_mb,
                m.max_rss_mb,
            )
        )
        if prof:
            print_profile(prof)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def help_times(table: Table, work: Path) -> None:
    env = bridge_env(work / "help.db")
    worst: tuple[float, str] = (0.0, "")
    top = 0.0
    for sub in SUBCOMMANDS:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "cli", *sub, "--help"],
                env=env,
                capture_output=True,
                cwd=work,
            )
            times.append(time.perf_counter() - start)
            assert done.returncode == 0, done.stderr
        median = statistics.median(times)
        if not sub:
            top = median
        worst = max(worst, (median, " ".join(sub)))
    table.add(Row("`bridge --help` (median of 5)", None, top))
    table.add(
        Row(f"slowest sub-command `--help` (`{worst[1]} --help`, median of 5)", None, worst[0])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=LARGE)
    parser.add_argument("--records", type=int, help="only the first N records of each file")
    parser.add_argument("--sandbox-children", type=int, default=50_000)
    parser.add_argument(
        "--only",
        action="append",
        choices=["floor", "import", "remap", "sync", "help"],
        help="run only these parts (repeatable); remap needs import",
    )
    parser.add_argument("--double", action="store_true", help="also import the backlog ×2")
    parser.add_argument("--profile", action="store_true", help="cProfile each command")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    args = parser.parse_args()
    parts = set(args.only or ["floor", "import", "remap", "sync", "help"])
    work = args.work or Path(tempfile.mkdtemp(prefix="sync-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    table = Table()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; work {work}")
    try:
        files, records = prepare_elsewhere(args.corpus, work, args.records, double=False)
        if "floor" in parts or "import" in parts:
            m = floor(files, work)
            check(m, "floor")
            table.floor_rate = records / m.seconds
            table.add(
                Row(
                    "floor: parse + hash + batched SQLite insert",
                    records,
                    m.seconds,
                    m.tree_pss_mb,
                    m.max_rss_mb,
                )
            )
        if "import" in parts or "remap" in parts:
            import_store(table, files, work / "import.db", "", args.profile, work)
        if "remap" in parts:
            remap_relink(table, work / "import.db", records, args.profile, work)
        if args.double:
            doubled, _ = prepare_elsewhere(args.corpus, work, args.records, double=True)
            import_store(table, doubled, work / "import-2x.db", " (backlog ×2)", False, work)
        if "sync" in parts:
            sync_sandbox(table, args.sandbox_children, work, args.profile)
        if "help" in parts:
            help_times(table, work)
        print()
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
        print(table.markdown())
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
