"""`GET /metrics`: the bridge's figures in Prometheus' text format (the official
``prometheus_client``).

Most figures are read from the database at scrape time (so every worker on one database
tells the same, and a restart loses nothing), at most once per ``cache_seconds``: records per
system and state, what runs pulled, stored and quarantined per source, runs by command and
result and the last one's duration, the last successful sync per source, children, links,
the review queue's size and age, the outbox by state, delivery attempts, dead letters, and
the engine's latest estimates. The process's own counters (webhooks, jobs) are added by
:class:`ServiceMetrics`. Only counts: no label ever holds a record's content.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select

from bridge.store.db import Store

PREFIX = "bridge"


def _ts(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _gauge(name: str, doc: str, labels: list[str], rows: Any) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)
    for *values, number in rows:
        family.add_metric([str(v) for v in values], float(number))
    return family


def _counter(name: str, doc: str, labels: list[str], rows: Any) -> CounterMetricFamily:
    family = CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)
    for *values, number in rows:
        family.add_metric([str(v) for v in values], float(number))
    return family


def read_store(store: Store) -> list[Metric]:
    """Every figure the database holds, as metric families."""
    from bridge.estimates import latest
    from bridge.referrals.tables import DEAD, OutboxRow
    from bridge.store.schema import (
        ChildRow,
        LinkRow,
        ReviewItemRow,
        SourceRecordRow,
        SyncRunRow,
    )

    now = time.time()
    out: list[Metric] = []
    with store.session() as session:
        records = session.execute(
            select(SourceRecordRow.system, SourceRecordRow.state, func.count()).group_by(
                SourceRecordRow.system, SourceRecordRow.state
            )
        ).all()
        out.append(
            _gauge("records", "Stored records by system and state.", ["system", "state"], records)
        )

        pulled: dict[tuple[str, str], float] = defaultdict(float)
        runs: dict[tuple[str, str], int] = defaultdict(int)
        last_run: dict[str, tuple[float, str]] = {}
        last_ok: dict[str, float] = {}
        for command, status, started, finished, counts, errors in session.execute(
            select(
                SyncRunRow.command,
                SyncRunRow.status,
                SyncRunRow.started_at,
                SyncRunRow.finished_at,
                SyncRunRow.counts,
                SyncRunRow.errors,
            ).order_by(SyncRunRow.id)
        ):
            runs[(command, status)] += 1
            if finished is not None:
                last_run[command] = ((_ts(finished) or 0) - (_ts(started) or 0), status)
            for source, figures in (counts or {}).items():
                if source in ("estimates", "backlog") or not isinstance(figures, dict):
                    continue
                for key in ("pulled", "new", "changed", "quarantined", "unreadable"):
                    pulled[(source, key)] += float(figures.get(key, 0) or 0)
                failed = any(str(e).startswith(f"{source}: ") for e in errors or [])
                if finished is not None and status != "failed" and not failed:
                    last_ok[source] = max(last_ok.get(source, 0.0), _ts(finished) or 0.0)
        out.append(
            _counter(
                "records_pulled",
                "Records pulled by source, over all recorded runs.",
                ["source"],
                [(s, n) for (s, k), n in pulled.items() if k == "pulled"],
            )
        )
        out.append(
            _counter(
                "records_stored",
                "Records stored new or changed by source, over all recorded runs.",
                ["source"],
                [
                    (s, pulled[(s, "new")] + pulled[(s, "changed")])
                    for s in sorted({s for s, _ in pulled})
                ],
            )
        )
        out.append(
            _counter(
                "records_quarantined",
                "Records quarantined (or unreadable) by source, over all recorded runs.",
                ["source"],
                [
                    (s, pulled[(s, "quarantined")] + pulled[(s, "unreadable")])
                    for s in sorted({s for s, _ in pulled})
                ],
            )
        )
        out.append(
            _counter(
                "runs",
                "Runs by command and result.",
                ["command", "status"],
                [(c, s, n) for (c, s), n in sorted(runs.items())],
            )  # fmt: skip
        )
        out.append(
            _gauge(
                "last_run_duration_seconds",
                "Duration of the last finished run of each command.",
                ["command", "status"],
                [(c, s, d) for c, (d, s) in sorted(last_run.items())],
            )
        )
        out.append(
            _gauge(
                "last_successful_sync_timestamp_seconds",
                "When the last run that pulled a source without failing for it finished.",
                ["source"],
                sorted(last_ok.items()),
            )
        )
        children = session.execute(
            select(ChildRow.state, func.count()).group_by(ChildRow.state)
        ).all()
        out.append(_gauge("children", "Child ids by state.", ["state"], children))
        links = session.execute(select(LinkRow.method, func.count()).group_by(LinkRow.method)).all()
        out.append(_gauge("links", "Records linked to a child, by how.", ["method"], links))
        reviews = session.execute(
            select(ReviewItemRow.kind, func.count(), func.min(ReviewItemRow.created_at))
            .where(ReviewItemRow.state == "open")
            .group_by(ReviewItemRow.kind)
        ).all()
        out.append(
            _gauge(
                "review_queue",
                "Open review items by kind.",
                ["kind"],
                [(k, n) for k, n, _ in reviews],
            )  # fmt: skip
        )
        out.append(
            _gauge(
                "review_queue_oldest_age_seconds",
                "Age of the oldest open review item, by kind.",
                ["kind"],
                [(k, max(0.0, now - (_ts(oldest) or now))) for k, _, oldest in reviews],
            )
        )
        outbox = session.execute(
            select(
                OutboxRow.state, func.count(), func.coalesce(func.sum(OutboxRow.attempts), 0)
            ).group_by(OutboxRow.state)
        ).all()
        out.append(
            _gauge("outbox", "Outbox rows by state.", ["state"], [(s, n) for s, n, _ in outbox])
        )
        attempts = sum(int(a) for _, _, a in outbox)
        delivered = sum(int(n) for s, n, _ in outbox if s == "delivered")
        out.append(_counter("delivery_attempts", "Delivery attempts made.", [], [(attempts,)]))
        out.append(
            _counter(
                "delivery_failures",
                "Delivery attempts that did not deliver (attempts minus rows delivered).",
                [],
                [(max(0, attempts - delivered),)],
            )
        )
        out.append(
            _gauge(
                "dead_letters",
                "Dead letters in the outbox.",
                [],
                [(sum(int(n) for s, n, _ in outbox if s == DEAD),)],
            )  # fmt: skip
        )
        estimates = latest(session) or {}
    precision = estimates.get("precision")
    out.append(
        _gauge(
            "estimated_precision",
            "The engine's estimate of its link precision (last run that made estimates).",
            [],
            [(precision,)] if isinstance(precision, int | float) else [],
        )
    )
    out.append(
        _gauge(
            "estimated_unique_children",
            "The engine's estimate of unique children, with its 95% interval.",
            ["bound"],
            [
                (bound, estimates[key])
                for bound, key in (
                    ("point", "unique_children"),
                    ("low", "unique_children_low"),
                    ("high", "unique_children_high"),
                )
                if isinstance(estimates.get(key), int | float)
            ],
        )
    )
    return out


class StoreCollector(Collector):
    """The database's figures, read at scrape time, at most once per ``cache_seconds``."""

    def __init__(self, store: Store, cache_seconds: float = 5.0) -> None:
        self.store, self.cache_seconds = store, cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.cache_seconds:
                self._cached = (time.monotonic(), read_store(self.store))
            yield from self._cached[1]


class ServiceMetrics:
    """A registry of one service: the store's figures and the process's own counters."""

    def __init__(self, store: Store, cache_seconds: float = 5.0) -> None:
        from prometheus_client import Counter

        self.registry = CollectorRegistry()
        self.registry.register(StoreCollector(store, cache_seconds))
        self.hooks = Counter(
            f"{PREFIX}_webhooks",
            "Webhook calls by system and result (accepted, bad_signature, stale, replayed, "
            "not_configured).",
            ["system", "result"],
            registry=self.registry,
        )
        self.jobs = Counter(
            f"{PREFIX}_jobs",
            "Scheduled or early jobs run by this process, by job and outcome.",
            ["job", "outcome"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
