"""Find-a-child (`bridge.helpdesk.find`) on a national-size store: index build time, then the
time of one search over ~200 searches typed the ways case workers type them.

    python bench/find.py --store /tmp/score.db        # a store built already (read only)
    python bench/find.py                              # builds one: the dev corpus imported
                                                      # (two `bridge import`s, ~15 s), its
                                                      # records copied up to --records

Target: one search well under 100 ms on ~77,000 records after the one-off index build. The
searches are rolled back, so the audit rows they write never reach the store.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bridge.helpdesk.find import FindIndex, FindQuery, find_children, records_query  # noqa: E402
from bridge.store.db import open_store  # noqa: E402

SHARED = Path(os.environ.get("BRIDGE_SHARED_DIR", ROOT / ".." / "shared")).resolve()
DEV = SHARED / "data" / "khmer-children-dev"
FILES = (("primero", "primero_cases.json"), ("oscar", "oscar_clients.json"))


def import_corpus(corpus: Path, store: Path) -> None:
    env = {**os.environ, "BRIDGE_DATABASE_URL": f"sqlite:///{store}"}
    for system, name in FILES:
        subprocess.run(
            [sys.executable, "-m", "cli", "import", system, str(corpus / name), "--quiet"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip


def replicate(store: Path, target: int) -> int:
    """Copy the stored records (with their links and children, under new ids) until the
    store holds ``target`` records; returns the count. The copies repeat the names, so every
    name is shared by more records than in a real store: a harder case for a search."""
    db = sqlite3.connect(store)
    (original,) = db.execute("SELECT max(id) FROM source_records").fetchone()
    (count,) = db.execute("SELECT count(*) FROM source_records").fetchone()
    copy = 0
    while count < target:
        copy += 1
        tag = f"-r{copy}"
        db.execute(
            "INSERT INTO children (child_id, created_at, seq, state, merged_into) "
            "SELECT child_id || ?, created_at, seq + ? * 10000000, state, "
            "CASE WHEN merged_into IS NULL THEN NULL ELSE merged_into || ? END FROM children "
            "WHERE child_id NOT LIKE '%-r%'",
            (tag, copy, tag),
        )
        db.execute(
            "INSERT INTO source_records (source, system, record_id, payload, payload_hash, "
            "state, issues, canonical, fetched_at, changed_at, run_id) "
            "SELECT source, system, record_id || ?, payload, payload_hash, state, issues, "
            "canonical, fetched_at, changed_at, run_id FROM source_records WHERE id <= ? "
            "ORDER BY id LIMIT ?",
            (tag, original, target - count),
        )
        db.execute(
            "INSERT INTO links (record_pk, child_id, method, score, decided_by, linked_at) "
            "SELECT n.id, l.child_id || ?, l.method, l.score, l.decided_by, l.linked_at "
            "FROM links l JOIN source_records o ON o.id = l.record_pk "
            "JOIN source_records n ON n.system = o.system AND n.record_id = o.record_id || ? "
            "WHERE o.id <= ?",
            (tag, tag, original),
        )
        db.commit()
        (count,) = db.execute("SELECT count(*) FROM source_records").fetchone()
    db.close()
    return count


def searches(store_url: str, n: int, seed: int) -> list[tuple[FindQuery, str]]:
    """(query, the child of the record it was typed from) for n records drawn at random: the
    name as recorded, in Khmer script, family and given swapped, a compound given name
    written joined or split, lower case; half with a birth year, a third with a province."""
    store = open_store(store_url, migrate=False)
    with store.session() as session:  # the rows the index is built from
        rows = session.execute(records_query()).all()
    store.close()
    rng = random.Random(seed)
    out: list[tuple[FindQuery, str]] = []
    while len(out) < n:
        _, _, child, given, family, given_km, family_km, full_km, born, _, province = rng.choice(
            rows
        )
        style = len(out) % 5
        if style == 1 and (full_km or (given_km and family_km)):
            name = full_km or f"{family_km} {given_km}"
        elif style == 2 and given and family:
            name = f"{given} {family}"
        elif style == 3 and given:
            name = f"{(family or '').upper()} {given.replace(' ', '')}"
        elif style == 4 and given:
            name = f"{family or ''} {' '.join(given.split())}".lower()
        else:
            name = f"{family or ''} {given or ''}"
        if not name.strip():
            continue
        year = int(born[:4]) if born and len(out) % 2 and 1990 <= int(born[:4]) <= 2100 else None
        where = province if province and len(out) % 3 == 0 else None
        out.append((FindQuery(name, birth_year=year, province=where), child))
    return out


def _base(child_id: str) -> str:
    return child_id.split("-r")[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a SQLite store (built when not given)")
    parser.add_argument("--records", type=int, default=77_000, help="records when building")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    path = args.store
    if path is None or not path.exists():
        path = path or Path(tempfile.mkdtemp(prefix="bridge-find-")) / "bridge.db"
        print(f"building a store at {path} from {DEV.name} ...", flush=True)
        started = time.perf_counter()
        import_corpus(DEV, path)
        total = replicate(path, args.records)
        print(f"  {total:,} records in {time.perf_counter() - started:.1f} s", flush=True)
    url = f"sqlite:///{path}"
    store = open_store(url, migrate=False)

    session = store.new_session()
    try:
        started = time.perf_counter()
        index = FindIndex.for_session(session)
        build = time.perf_counter() - started
        print(
            f"index: {len(index):,} records, {len(index.child_ids):,} children, "
            f"{len(index.names.forms):,} distinct names; built in {build:.2f} s"
        )
        queries = searches(url, args.queries, args.seed)
        search_ms, service_ms, found_top5, counts = [], [], 0, []
        for query, child in queries:
            started = time.perf_counter()
            found = index.search(query, limit=20)
            search_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            find_children(session, query, by="bench")  # store check, cached index, audit row
            service_ms.append((time.perf_counter() - started) * 1000)
            counts.append(len(found))
            # a copy made by --records is the same child for this count
            found_top5 += _base(child) in {_base(c.child_id) for c in found[:5]}
    finally:
        session.rollback()
        session.close()
        store.close()

    print(f"{len(queries)} searches | median ms | p95 ms | max ms")
    print("---|---|---|---")
    for label, values in (("index.search", search_ms), ("find_children", service_ms)):
        print(
            f"{label} | {statistics.median(values):.2f} | {percentile(values, 0.95):.2f} | "
            f"{max(values):.2f}"
        )
    print(
        f"candidates per search: median {statistics.median(counts):.0f}; the child typed from "
        f"in the top 5: {found_top5}/{len(queries)}"
    )


if __name__ == "__main__":
    main()
