"""The desk's pages on a national-size store: median and 95th-percentile time of the review
queue, a pair side by side and find-a-child, served by uvicorn on loopback and fetched
over HTTP (target: p95 under 200 ms on a 2-core machine).

    python bench/web.py                      # builds a store from the large shared corpus
    python bench/web.py --store FILE.db      # or uses a copy of an existing store

The store is copied first (the pages write audit rows and a login). The first request of
the queue and of find-a-child builds their in-memory lists; that time is printed apart.
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import LARGE, build_store  # noqa: E402  (bench/report.py, beside this file)
from sqlalchemy import select

from bridge.config import Config
from bridge.helpdesk.users import add_user
from bridge.store.db import open_store
from bridge.store.schema import ReviewItemRow, SourceRecordRow
from bridge.web.app import create_app

PASSWORD = "bench password 1"


def timed(get: Callable[[], httpx.Response], times: int) -> list[float]:
    out = []
    for _ in range(times):
        started = time.perf_counter()
        answer = get()
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def queries(store: object, count: int, seed: int) -> list[dict[str, str]]:
    """Find-a-child searches a case worker might type: a stored child's name (Latin or
    Khmer), half with a birth year, a quarter with the province too."""
    rng = random.Random(seed)
    with store.session() as session:  # type: ignore[attr-defined]
        rows = session.scalars(select(SourceRecordRow.canonical).limit(20000)).all()
    picked = rng.sample(list(rows), count)
    out = []
    for c in picked:
        names = (c or {}).get("names") or {}
        latin = " ".join(p for p in (names.get("given"), names.get("family")) if p)
        khmer = " ".join(p for p in (names.get("family_km"), names.get("given_km")) if p)
        query = {"name": (khmer if khmer and rng.random() < 0.4 else latin) or khmer or "Sok"}
        born = ((c or {}).get("birth") or {}).get("value")
        if born and rng.random() < 0.5:
            query["birth_year"] = str(born)[:4]
        province = ((c or {}).get("location") or {}).get("province_code")
        if province and rng.random() < 0.25:
            query["province"] = province
        out.append(query)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="an existing store (SQLite file)")
    parser.add_argument("--requests", type=int, default=100, help="requests per page")
    parser.add_argument("--decisions", type=int, default=20, help="decisions to time")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bridge-bench-web-"))
    db = work / "bridge.db"
    if args.store:
        shutil.copy(args.store, db)
    else:
        print(f"building a store from {LARGE} (a few minutes) ...")
        build_store(LARGE, db)
    store = open_store(f"sqlite:///{db}")
    with store.session() as session:
        add_user(session, "bench", "helpdesk", PASSWORD, by="bench")
        records = session.scalar(select(SourceRecordRow.id).order_by(SourceRecordRow.id.desc()))
        items = session.scalars(select(ReviewItemRow.id).where(ReviewItemRow.state == "open")).all()
    rng = random.Random(args.seed)
    app = create_app(Config(database_url=f"sqlite:///{db}"), store, service=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/login").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": csrf})
        csrf = client.get("/find").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        started = time.perf_counter()
        client.get("/review")
        first_queue = time.perf_counter() - started
        started = time.perf_counter()
        client.post("/find", data={"name": "Sok Dara", "csrf": csrf})
        first_find = time.perf_counter() - started
        searches = queries(store, args.requests, args.seed)
        filters = [{}, {"order": "score"}, {"province": "12"}, {"min_score": "0.8"},
                   {"system": "oscar", "order": "oldest"}, {"page": "3"}]  # fmt: skip
        results = {
            "review queue": timed(
                lambda: client.get("/review", params=rng.choice(filters)), args.requests
            ),  # fmt: skip
            "pair": timed(lambda: client.get(f"/review/{rng.choice(items)}"), args.requests),
            "find a child": timed(
                lambda: client.post("/find", data={**searches.pop(), "csrf": csrf}),
                args.requests,
            ),  # fmt: skip
        }
        # decisions: each changes the store, so the next queue view rebuilds its list
        decided = rng.sample(list(items), args.decisions)

        def decide() -> httpx.Response:
            answer = client.post(
                f"/review/{decided.pop()}/decide",
                data={"csrf": csrf, "answer": "distinct", "reason": "bench"},
            )
            return client.get("/review") if answer.status_code in (200, 303) else answer

        results["decide + queue"] = timed(decide, args.decisions)
    server.should_exit = True
    print(f"store: {records} records, {len(items)} open review items")
    print(f"first queue request (builds the worklist): {first_queue * 1000:.0f} ms")
    print(f"first find request (builds the name index): {first_find * 1000:.0f} ms")
    print(f"{'page':<16} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(f"{name:<16} {statistics.median(values):>10.1f} {p95(values):>8.1f} "
              f"{max(values):>8.1f}")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
