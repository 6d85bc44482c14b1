"""The work a running service does by itself, on a schedule or when a webhook asks.

A job never overlaps itself: one sync (scheduled or early) at a time in this process, and the
database's run lock across processes (a run that finds it held is skipped and counted, the
next one tries again). A failing source fails only its own part of the run (as in `bridge
sync`); an unexpected error is logged by type and the service goes on. Every sync is a
recorded run, shown by `bridge status` as any run is. After each job the alerts are checked.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bridge.config import Config
from bridge.logs import event
from bridge.service.alerts import Alerter
from bridge.store.db import Store
from bridge.store.schema import SyncRunRow

log = logging.getLogger(__name__)


class Jobs:
    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.alerter = Alerter(config.alerts, store)
        self.counts: Counter[tuple[str, str]] = Counter()  # (job, outcome) -> times
        self._locks = {name: threading.Lock() for name in ("sync", "deliver", "relink")}

    def _sources(self, system: str | None = None) -> list[str]:
        return [
            s.name
            for s in self.config.sources
            if s.enabled and (system is None or s.kind == system)
        ]

    def _last_run_id(self, command: str) -> int | None:
        with self.store.session() as session:
            return session.scalar(
                select(SyncRunRow.id)
                .where(SyncRunRow.command == command)
                .order_by(SyncRunRow.id.desc())
                .limit(1)
            )

    def _guarded(self, job: str, work: Callable[[], Any]) -> str:
        """Run ``work`` unless the same job runs already; the outcome, also counted."""
        from bridge.runlock import LockHeld

        lock = self._locks[job]
        if not lock.acquire(blocking=False):
            outcome = "skipped_running"
        else:
            try:
                work()
                outcome = "done"
            except LockHeld:
                outcome = "skipped_locked"  # another process runs: the next time tries again
            except Exception as exc:  # the service outlives a failing job
                outcome = "failed"
                log.error("%s job failed: %s", job, type(exc).__name__, extra=event("job_failed"))
            finally:
                lock.release()
        self.counts[(job, outcome)] += 1
        log.info("%s job: %s", job, outcome, extra=event("job", job=job, outcome=outcome))
        return outcome

    def sync(self, sources: list[str] | None = None) -> str:
        from bridge.sync import run_sync

        chosen = sources if sources is not None else self._sources()
        if not chosen:
            return "nothing_to_do"
        before = self._last_run_id("sync")
        outcome = self._guarded(
            "sync", lambda: run_sync(self.config, self.store, source_names=chosen)
        )
        after = self._last_run_id("sync")
        if outcome != "skipped_running":
            self.alerter.check(after if after != before else None, self._sources())
        return outcome

    def sync_system(self, system: str) -> str:
        """An early sync of the sources of one system (after a webhook)."""
        sources = self._sources(system)
        return self.sync(sources) if sources else "nothing_to_do"

    def deliver(self) -> str:
        from bridge.referrals.service import route_and_deliver

        outcome = self._guarded(
            "deliver", lambda: route_and_deliver(self.config, self.store, wait_up_to=0.0)
        )
        self.alerter.check(None, [])
        return outcome

    def relink(self) -> str:
        from bridge.relink import relink

        return self._guarded("relink", lambda: relink(self.store, self.config.matching))


class Schedule:
    """The `[schedule]` of the configuration, run by APScheduler in background threads (a
    well-kept scheduler: cron triggers, coalescing of missed runs, one instance per job)."""

    def __init__(self, jobs: Jobs) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.jobs = jobs
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        self.early: Counter[str] = Counter()  # system -> early syncs asked for and planned

    def start(self) -> None:
        from bridge.service.cron import parse_cron

        plan = self.jobs.config.schedule
        for name, expr, work in (
            ("sync", plan.sync, self.jobs.sync),
            ("deliver", plan.deliver, self.jobs.deliver),
            ("relink", plan.relink, self.jobs.relink),
        ):
            if expr:
                self.scheduler.add_job(work, parse_cron(expr), id=name, name=name)
                log.info("scheduled %s: %s", name, expr, extra=event("scheduled", job=name))
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def sync_soon(self, system: str) -> bool:
        """Ask for an early sync of ``system``: hooks within the debounce time start one sync.
        False when one is already planned."""
        from apscheduler.jobstores.base import ConflictingIdError

        delay = timedelta(seconds=self.jobs.config.hooks.debounce_seconds)
        try:
            self.scheduler.add_job(
                self.jobs.sync_system,
                "date",
                run_date=datetime.now(UTC) + delay,
                args=[system],
                id=f"early-sync-{system}",
                name=f"early sync of {system}",
            )
        except ConflictingIdError:
            return False
        self.early[system] += 1
        return True
