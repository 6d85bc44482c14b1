import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from bridge.runlock import LockHeld, lock_holder, run_lock
from bridge.store.db import current_revision, head_revision, open_store, upgrade
from bridge.store.schema import RunLockRow


def test_open_creates_schema_at_head(store) -> None:
    assert current_revision(store.engine) == head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {"source_records", "children", "links", "sync_cursors", "sync_runs"} <= tables


def test_upgrade_is_safe_to_rerun(store) -> None:
    assert upgrade(store.engine) == head_revision()
    assert open_store(store.url).url == store.url


def test_second_lock_is_refused_while_first_is_held(store) -> None:
    with (
        run_lock(store, run_id=1),
        pytest.raises(LockHeld, match="another sync is running"),
        run_lock(store, run_id=2),
    ):
        pass
    assert lock_holder(store) is None


def test_lock_left_by_a_dead_process_is_taken_over(store) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    with store.session() as session:
        session.add(RunLockRow(name="sync", run_id=7, host=socket.gethostname(), pid=pid))
    with run_lock(store, run_id=8):
        assert lock_holder(store).pid == os.getpid()


def test_lock_of_another_host_with_old_heartbeat_is_stale(store) -> None:
    old = datetime.now(UTC) - timedelta(hours=3)
    with store.session() as session:
        session.add(
            RunLockRow(
                name="sync", run_id=7, host="elsewhere", pid=1, acquired_at=old, heartbeat_at=old
            )
        )
    with run_lock(store, run_id=8):
        holder = lock_holder(store)
        assert (holder.host, holder.pid, holder.run_id) == (socket.gethostname(), os.getpid(), 8)
    assert lock_holder(store) is None


def test_lock_of_another_host_with_fresh_heartbeat_is_kept(store) -> None:
    now = datetime.now(UTC)
    with store.session() as session:
        session.add(
            RunLockRow(
                name="sync", run_id=7, host="elsewhere", pid=1, acquired_at=now, heartbeat_at=now
            )
        )
    with pytest.raises(LockHeld, match="another sync is running"), run_lock(store, run_id=8):
        pass
    holder = lock_holder(store)
    assert (holder.host, holder.pid, holder.run_id) == ("elsewhere", 1, 7)


def test_a_new_sqlite_store_and_its_journal_are_private(tmp_path) -> None:
    import stat

    old = os.umask(0o022)  # the usual umask, which would make it 0644
    try:
        store = open_store(f"sqlite:///{tmp_path / 'private.db'}")
        with store.session() as session:
            session.execute(text("SELECT 1"))
        modes = {
            p.name: stat.S_IMODE(p.stat().st_mode)
            for p in tmp_path.iterdir()
            if p.name.startswith("private.db")
        }
        store.close()
    finally:
        os.umask(old)
    assert modes["private.db"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes
    assert "private.db-wal" in modes  # the journal was checked too
