"""The run lock: two syncs never overlap.

A row in ``run_lock`` is the lock (works the same on SQLite and PostgreSQL: inserting a
primary key twice fails). A lock left behind by a process that died (killed mid-run) is taken
over when its process is gone (same host) or its heartbeat is older than ``stale_after``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.errors import BridgeError
from bridge.store.db import Store
from bridge.store.schema import RunLockRow, SyncRunRow

LOCK_NAME = "sync"
STALE_AFTER = timedelta(hours=2)  # a lock whose heartbeat is older than this is taken over


class LockHeld(BridgeError):
    """Another run holds the lock."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(row: RunLockRow, stale_after: timedelta) -> bool:
    if row.host == socket.gethostname() and not _process_alive(row.pid):
        return True
    beat = row.heartbeat_at if row.heartbeat_at.tzinfo else row.heartbeat_at.replace(tzinfo=UTC)
    return datetime.now(UTC) - beat > stale_after


@contextmanager
def run_lock(
    store: Store, *, run_id: int | None = None, stale_after: timedelta = STALE_AFTER
) -> Iterator[None]:
    """Hold the sync lock for the duration of the block, or raise LockHeld at once."""
    me = {"host": socket.gethostname(), "pid": os.getpid()}
    for _attempt in range(2):
        try:
            with store.session() as session:
                session.add(RunLockRow(name=LOCK_NAME, run_id=run_id, **me))
                session.flush()
                _started_now(session, run_id)
            break
        except IntegrityError:
            with store.session() as session:
                row = session.get(RunLockRow, LOCK_NAME)
                if row is None:
                    continue
                if not _is_stale(row, stale_after):
                    raise LockHeld(
                        f"another sync is running (process {row.pid} on {row.host}, run "
                        f"{row.run_id}, since {row.acquired_at:%Y-%m-%d %H:%M:%S}); "
                        "wait for it to finish"
                    ) from None
                mark_interrupted(session, row.run_id, by=run_id)
                session.execute(
                    delete(RunLockRow).where(
                        RunLockRow.name == LOCK_NAME, RunLockRow.pid == row.pid
                    )
                )
    else:
        raise LockHeld("could not take the sync lock; try again")
    try:
        yield
    finally:
        with store.session() as session:
            session.execute(
                delete(RunLockRow).where(
                    RunLockRow.name == LOCK_NAME,
                    RunLockRow.pid == me["pid"],
                    RunLockRow.host == me["host"],
                )
            )


def _started_now(session: Session, run_id: int | None) -> None:
    """A run starts when it has the lock: its row, written before, may predate the end of the
    run it waited for (or the take-over of a dead one), as if the two had overlapped."""
    run = session.get(SyncRunRow, run_id) if run_id is not None else None
    if run is not None:
        run.started_at = datetime.now(UTC)


def mark_interrupted(session: Session, dead_run: int | None, *, by: int | None) -> None:
    """The run whose stale lock is taken over did not finish: say so, with when and by whom."""
    if dead_run is None:
        return
    run = session.get(SyncRunRow, dead_run)
    if run is None or run.status != "running":
        return
    now = datetime.now(UTC)
    taker = f"run {by}" if by is not None else "a remap or relink"
    run.status, run.finished_at = "interrupted", now
    run.errors = [
        *(run.errors or []),
        f"interrupted: its process stopped; the lock was taken over at "
        f"{now:%Y-%m-%d %H:%M:%S} UTC by {taker}",
    ]


def is_live_run(session: Session, run: SyncRunRow, stale_after: timedelta = STALE_AFTER) -> bool:
    """Whether a run marked running still holds a live lock (else it died unannounced)."""
    row = session.get(RunLockRow, LOCK_NAME)
    return row is not None and row.run_id == run.id and not _is_stale(row, stale_after)


def heartbeat(store: Store) -> None:
    with store.session() as session:
        session.execute(
            update(RunLockRow)
            .where(RunLockRow.name == LOCK_NAME, RunLockRow.pid == os.getpid())
            .values(heartbeat_at=datetime.now(UTC))
        )


def lock_holder(store: Store) -> RunLockRow | None:
    with store.session() as session:
        return session.scalars(select(RunLockRow)).first()


@dataclass
class RecordedRun:
    """A run being recorded: what the block sets is written when it ends."""

    run_id: int
    status: str = "ok"  # or "attention"; "locked"/"failed" are set when the block raises
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@contextmanager
def recorded_run(store: Store, command: str) -> Iterator[RecordedRun]:
    """A run of ``command`` in ``sync_runs`` (so `bridge status`, /metrics and the desk's
    caches see it): ``running`` while the block runs, then its status (``locked`` if the
    block raised LockHeld, ``failed`` for any other error), end time, counts and errors."""
    with store.session() as session:
        row = SyncRunRow(command=command, status="running", counts={}, errors=[])
        session.add(row)
        session.flush()
        run = RecordedRun(row.id)
    status = "failed"
    try:
        yield run
        status = run.status
    except LockHeld:
        status = "locked"
        raise
    finally:
        with store.session() as session:
            done = session.get(SyncRunRow, run.run_id)
            if done is not None:
                done.status, done.finished_at = status, datetime.now(UTC)
                done.counts, done.errors = run.counts, run.errors[:200]
