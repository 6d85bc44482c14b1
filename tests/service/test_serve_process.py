"""`bridge serve` as a real process (issue 17): a schedule of every two seconds against the
sandbox servers on loopback runs sync after sync, never two at once, counted in /metrics and
shown in the store as any run is; /readyz turns ready with the first good sync; a SIGTERM or
SIGINT stops the process cleanly (exit code 0, no run left running, the lock given back).

Two processes on one PostgreSQL database share the schedule's work: the run lock keeps their
syncs apart, the outbox delivers every referral exactly once, and when one process is killed
with SIGKILL in the middle of a sync the other takes the dead process's lock over (same host,
process gone), marks its run interrupted, and finishes the work: nothing is lost.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge.referrals.tables import DELIVERED, REFERRAL, OutboxRow
from bridge.runlock import lock_holder
from bridge.sandbox import start_sandbox
from bridge.sandbox.oscar import complete as in_oscar_feed
from bridge.store.db import Store, open_store
from bridge.store.schema import RunLockRow, SourceRecordRow, SyncRunRow
from tests.referrals import helpers as rh
from tests.service.helpers import metric
from tests.service.serve_helpers import (
    DONE,
    Serve,
    SyncGate,
    assert_disjoint,
    done_runs,
    serving,
    settle,
    sync_runs,
    write_config,
)

pytestmark = pytest.mark.slow  # real processes; still part of the default run

EVERY_2S = "*/2 * * * * *"
EVERY_1S = "* * * * * *"


def stored_ids(store: Store, system: str) -> set[str]:
    with store.session() as session:
        return set(
            session.scalars(
                select(SourceRecordRow.record_id).where(SourceRecordRow.system == system)
            )
        )


def all_stored(store: Store, sb) -> bool:
    with sb.primero.lock, sb.oscar.lock:
        cases = set(sb.primero.cases)
        clients = {gid for gid, c in sb.oscar.clients.items() if in_oscar_feed(c)}
    return stored_ids(store, "primero") == cases and stored_ids(store, "oscar") == clients


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_runs_scheduled_syncs_and_stops_cleanly(tmp_path: Path, stop_with: int) -> None:
    database = tmp_path / "bridge.db"
    db_url = f"sqlite:///{database}"
    open_store(db_url).close()  # `serve --database` serves an existing file
    store = open_store(db_url)
    with start_sandbox(children=40, seed=3) as sb:
        config = write_config(
            tmp_path / "bridge.toml", sb, f"sqlite:///{tmp_path / 'not-this.db'}", sync=EVERY_2S
        )
        with serving(Serve(config, sb, tmp_path / "serve.log", database=database)) as (serve,):
            serve.wait_up()
            assert serve.get("/healthz").json() == {"status": "ok"}

            # /readyz says "not ready" for as long as no sync has succeeded
            def ready_once_synced() -> bool:
                answer = serve.get("/readyz")
                if not done_runs(store):  # read after the answer: none before it either
                    assert answer.status_code == 503, answer.text
                    assert answer.json()["checks"]["last_sync"] == "no successful sync yet"
                    return False
                return answer.status_code == 200

            settle(ready_once_synced, 40, "/readyz never turned ready", serve)
            settle(lambda: len(done_runs(store)) >= 3, 40, "fewer than 3 syncs ran", serve)
            before = len(done_runs(store))
            page = serve.get("/metrics").text
            after = len(done_runs(store))
            ready = serve.get("/readyz")
            assert all_stored(store, sb)
            code = serve.stop(stop_with)
            log = serve.tail(3000)
    assert code == 0, f"bridge serve exited {code} on {signal.Signals(stop_with).name}:\n{log}"
    runs = sync_runs(store)
    assert {r.status for r in runs} <= set(DONE), [(r.id, r.status, r.errors) for r in runs]
    assert all(r.finished_at is not None for r in runs), "a run was left running at the stop"
    assert_disjoint(runs)  # one process: strictly one after the other
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(RunLockRow)) == 0
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "last_sync": "ok"}
    counted = sum(metric(page, "bridge_runs_total", command="sync", status=s) or 0 for s in DONE)
    assert before <= counted <= after and counted >= 3
    assert (metric(page, "bridge_jobs_total", job="sync", outcome="done") or 0) >= 3
    assert metric(page, "bridge_jobs_total", job="sync", outcome="failed") in (None, 0)
    assert metric(page, "bridge_last_successful_sync_timestamp_seconds", source="primero")
    assert metric(page, "bridge_records", system="primero", state="mapped") == len(sb.primero.cases)
    store.close()


# --- two processes on one PostgreSQL database ---------------------------------------------------


def delivered_once(sb, cases: list[str], clients: list[int]) -> bool:
    """Every referral arrived at its destination, none twice (asserted), and the links came
    back to OSCaR."""
    with sb.oscar.lock, sb.primero.lock:
        into_oscar = Counter(
            r.get("external_id") for r in sb.oscar.referrals if r.get("external_id")
        )
        into_primero = Counter(
            r["oscar_referral_id_a4ac8a5"] for r in rh.primero_rows_from_oscar(sb)
        )
        links = len(sb.oscar.links)
    assert max(into_oscar.values(), default=1) == 1, f"delivered twice to OSCaR: {into_oscar}"
    assert max(into_primero.values(), default=1) == 1, f"delivered twice to Primero: {into_primero}"
    return (
        set(into_oscar) == set(cases)
        and set(into_primero) == {str(c) for c in clients}
        and links >= len(cases)
    )


def outbox(store: Store) -> list[OutboxRow]:
    with store.session() as session:
        rows = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        session.expunge_all()
        return rows


def outbox_done(store: Store, referrals: int) -> bool:
    rows = outbox(store)
    return sum(r.kind == REFERRAL for r in rows) == referrals and all(
        r.state == DELIVERED for r in rows
    )


def flow_state(store: Store, sb) -> str:
    """What has arrived where, for a failure message."""
    with sb.oscar.lock, sb.primero.lock:
        into_oscar = sorted(
            r.get("external_id") for r in sb.oscar.referrals if r.get("external_id")
        )
        into_primero = len(rh.primero_rows_from_oscar(sb))
        links = len(sb.oscar.links)
    rows = Counter((r.kind, r.state, r.last_error or "") for r in outbox(store))
    runs = Counter(r.status for r in sync_runs(store))
    return (
        f"into OSCaR {into_oscar}, into Primero {into_primero}, links {links}, "
        f"outbox {dict(rows)}, runs {dict(runs)}, all records stored: {all_stored(store, sb)}"
    )


def add_referrals(sb, start: int, count: int) -> tuple[list[str], list[int]]:
    cases = [rh.add_primero_referral(sb, n, agency=None)[0] for n in range(start, start + count)]
    clients = [rh.add_oscar_referral(sb, n)[1] for n in range(start, start + count)]
    return cases, clients


def test_two_serve_processes_on_postgres_share_the_work_and_survive_a_kill(
    tmp_path: Path, db_url: str
) -> None:
    if not os.environ.get("BRIDGE_TEST_DATABASE_URL"):
        pytest.skip(
            "two `bridge serve` processes on one database need PostgreSQL: set "
            "BRIDGE_TEST_DATABASE_URL (SQLite's single writer is not what several workers use)"
        )
    open_store(db_url).close()  # migrated once, before two processes open it
    store = open_store(db_url)
    with start_sandbox(children=30, seed=7) as sb:
        cases, clients = add_referrals(sb, 0, 6)
        config = write_config(tmp_path / "bridge.toml", sb, db_url, sync=EVERY_2S, deliver=EVERY_1S)
        first = Serve(config, sb, tmp_path / "serve-1.log")
        second = Serve(config, sb, tmp_path / "serve-2.log")
        with serving(first, second):
            first.wait_up()
            second.wait_up()
            by_pid = {first.pid: first, second.pid: second}
            settle(
                lambda: (
                    delivered_once(sb, cases, clients)
                    and outbox_done(store, 2 * len(cases))
                    and all_stored(store, sb)  # with the cases and clients the referrals made
                ),
                45,
                "the first referrals were not all delivered",
                first,
                second,
                state=lambda: flow_state(store, sb),
            )

            # more referrals; the next sync is held at its first page, mid-run with the lock
            more_cases, more_clients = add_referrals(sb, 100, 4)
            cases, clients = cases + more_cases, clients + more_clients
            gate = SyncGate(sb)
            try:
                gate.close()
                gate.wait_until_held(timeout=30)
                holder = lock_holder(store)
                assert holder is not None and holder.pid in by_pid, holder
                stuck_run = holder.run_id
                victim = by_pid.pop(holder.pid)
                (survivor,) = by_pid.values()
                # the other process's scheduled syncs find the lock held: skipped, recorded
                locked_before = sum(r.status == "locked" for r in sync_runs(store))
                settle(
                    lambda: sum(r.status == "locked" for r in sync_runs(store)) > locked_before,
                    10,
                    "no sync of the other process met the held lock",
                    survivor,
                )
                assert victim.kill9() == -signal.SIGKILL
            finally:
                gate.remove()

            def interrupted() -> bool:
                with store.session() as session:
                    run = session.get(SyncRunRow, stuck_run)
                    return run is not None and run.status == "interrupted"

            settle(interrupted, 20, f"run {stuck_run} was not marked interrupted", survivor)
            settle(
                lambda: (
                    delivered_once(sb, cases, clients)
                    and outbox_done(store, 2 * len(cases))
                    and all_stored(store, sb)
                    and any(r.id > stuck_run for r in done_runs(store))
                ),
                45,
                "the survivor did not finish the work",
                survivor,
                state=lambda: flow_state(store, sb),
            )
            assert survivor.get("/readyz").status_code == 200
            page = survivor.get("/metrics").text
            code = survivor.stop(signal.SIGINT)
            log = survivor.tail(3000)
    assert code == 0, f"the surviving bridge serve exited {code}:\n{log}"
    runs = sync_runs(store)
    statuses = Counter(r.status for r in runs)
    assert set(statuses) <= {*DONE, "locked", "interrupted"}, [
        (r.id, r.status, r.errors) for r in runs if r.status not in (*DONE, "locked")
    ]
    assert statuses["interrupted"] == 1
    (dead,) = [r for r in runs if r.status == "interrupted"]
    assert dead.id == stuck_run and "interrupted: its process stopped" in dead.errors[-1]
    assert all(r.finished_at is not None for r in runs), "a run was left running"
    assert_disjoint(runs)
    rows = outbox(store)
    assert len({r.idempotency_key for r in rows}) == len(rows)
    assert (metric(page, "bridge_jobs_total", job="sync", outcome="done") or 0) >= 1
    assert metric(page, "bridge_outbox", state=DELIVERED) == len(rows)
    store.close()


def test_a_referral_found_by_two_workers_at_once_is_queued_once(store: Store, monkeypatch) -> None:
    """What the two processes above met now and then, made certain: a sync and a scheduled
    delivery (of this process or another) route the same new referral at the same moment.
    The second insert breaks the unique source key; its transaction is done again and finds
    the row, instead of failing the sync run."""
    from bridge.referrals import outbox as ob
    from bridge.referrals import service as rs

    with start_sandbox() as sb:
        case_id, _ = rh.add_primero_referral(sb, 1, agency=None)
        ads, rt, maps = rh.adapters(sb), rh.routing(), rh.mappings()
        snapshots = list(rs.pulled_snapshots(ads["primero"], maps["primero"], None))
        route_once = ob._route
        raced: list[rs.ReferralRunReport] = []

        def route_while_another_worker_does(row, referral, routing) -> None:
            route_once(row, referral, routing)
            if not raced:  # between our look-up and our insert, the other worker commits
                raced.append(rs.ReferralRunReport())
                rs.route(store, snapshots, ads, rt, maps, raced[0])

        monkeypatch.setattr(ob, "_route", route_while_another_worker_does)
        report = rs.ReferralRunReport()
        assert rs.route(store, snapshots, ads, rt, maps, report)
        for adapter in ads.values():
            adapter.close()
    assert raced and raced[0].found == 1 and report.found == 1
    assert not report.errors and not raced[0].errors
    rows = outbox(store)
    assert [(r.source_record_id, r.destination_system) for r in rows] == [(case_id, "oscar")]
