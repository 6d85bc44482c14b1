"""A run killed mid-way never shows as running: `bridge status` and the lock takeover say
it was interrupted, when, and by which run."""

from __future__ import annotations

import socket
import subprocess
import sys

from bridge.reports import status
from bridge.runlock import LOCK_NAME, lock_holder, run_lock
from bridge.store.db import Store
from bridge.store.schema import RunLockRow, SyncRunRow


def dead_pid() -> int:
    """The pid of a process of this host that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def start_run(store: Store) -> int:
    with store.session() as session:
        run = SyncRunRow(command="sync", status="running", counts={}, errors=[])
        session.add(run)
        session.flush()
        return run.id


def leave_lock(store: Store, run_id: int, pid: int) -> None:
    with store.session() as session:
        session.add(RunLockRow(name=LOCK_NAME, run_id=run_id, host=socket.gethostname(), pid=pid))


def run_status(store: Store, run_id: int) -> str:
    return next(r["status"] for r in status(store).runs if r["id"] == run_id)


def test_a_killed_run_shows_as_interrupted_before_anyone_takes_the_lock(store: Store) -> None:
    killed = start_run(store)
    leave_lock(store, killed, dead_pid())
    assert run_status(store, killed) == "interrupted"


def test_a_run_that_left_no_lock_shows_as_interrupted(store: Store) -> None:
    killed = start_run(store)
    assert run_status(store, killed) == "interrupted"


def test_a_live_run_shows_as_running(store: Store) -> None:
    live = start_run(store)
    with run_lock(store, run_id=live):
        assert run_status(store, live) == "running"
    assert run_status(store, live) == "interrupted"  # it never finished its row


def test_taking_over_a_stale_lock_marks_the_dead_run_with_when_and_by_whom(store: Store) -> None:
    killed = start_run(store)
    leave_lock(store, killed, dead_pid())
    taker = start_run(store)
    with run_lock(store, run_id=taker):
        holder = lock_holder(store)
        assert holder is not None and holder.run_id == taker
        with store.session() as session:
            dead = session.get(SyncRunRow, killed)
            assert dead is not None
            assert dead.status == "interrupted"
            assert dead.finished_at is not None
            assert any(f"by run {taker}" in e for e in dead.errors)
        assert run_status(store, taker) == "running"
