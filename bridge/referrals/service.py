"""One referral run: find referrals in what was synced, route them, deliver the outbox, and
send decisions and links back. ``route_and_deliver`` is what ``bridge sync`` calls at its end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from adapters.errors import ConfigError, RetryableSourceError, SourceError
from bridge.config import Config, SourceConfig
from bridge.logs import event
from bridge.mapping import SourceMapping, load_mapping
from bridge.model import Child
from bridge.referrals import senders
from bridge.referrals.decisions import flow_back, own_oscar_referral_ids
from bridge.referrals.delivery import Deliverer, DeliveryCounts, open_count
from bridge.referrals.finder import REFERRAL_TO_OSCAR, Snapshot, find_referrals
from bridge.referrals.outbox import aware, enqueue_referral, reroute_held
from bridge.referrals.routing import RoutingConfig, load_routing
from bridge.referrals.tables import DEAD, HELD, OutboxRow, ReferralScanRow
from bridge.store.db import Store
from bridge.store.schema import LinkRow, SourceRecordRow

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
T = TypeVar("T")
CONFLICT_RETRIES = 2  # a transaction done again after another worker's insert of the same row


@dataclass
class ReferralRunReport:
    found: int = 0  # referrals seen in this run's records (new or already known)
    held: int = 0  # held now (no rule, no consent)
    queued_back: int = 0  # decisions and links queued to write back
    delivery: DeliveryCounts = field(default_factory=DeliveryCounts)
    still_open: int = 0  # to deliver on a later run (waiting for a retry)
    dead: int = 0  # dead letters in the outbox
    errors: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(self.errors or self.dead or self.held)

    def lines(self) -> list[str]:
        d = self.delivery
        return [
            f"referrals: {self.found} found, {d.delivered} delivered in {d.attempts} attempts, "
            f"{self.still_open} waiting for a retry, {self.held} held, {self.dead} dead letters, "
            f"{self.queued_back} decisions/links queued",
            *(f"  referral problem: {e}" for e in self.errors[:20]),
        ]


def build_adapters(config: Config, routing: RoutingConfig) -> dict[str, Any]:
    """One adapter per system, without retries of their own: the outbox does the retrying."""
    adapters: dict[str, Any] = {}
    for source in config.sources:
        if not source.enabled or source.kind not in ("primero", "oscar") or source.kind in adapters:
            continue
        adapters[source.kind] = _adapter(source, routing)
    return adapters


def _adapter(source: SourceConfig, routing: RoutingConfig) -> Any:
    timeout = min(source.timeout_seconds, routing.timeout_seconds)
    if source.kind == "primero":
        from adapters.primero import PrimeroAdapter

        return PrimeroAdapter(
            source.base_url or "", source.username or "", source.password(),
            auth=source.auth, timeout=timeout, max_attempts=1, name=source.name,
        )  # fmt: skip
    from adapters.oscar import OscarAdapter

    return OscarAdapter(
        source.base_url or "", source.email or "", source.password(),
        timeout=timeout, max_attempts=1, name=source.name,
    )  # fmt: skip


# --- what changed -------------------------------------------------------------------------------


def stored_snapshots(store: Store, system: str) -> tuple[list[Snapshot], datetime | None]:
    """Mapped records of ``system`` changed since the router last read them, and the time to
    remember once they are all handled."""
    with store.session() as session:
        scan = session.get(ReferralScanRow, system)
        query = (
            select(SourceRecordRow, LinkRow.child_id)
            .outerjoin(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
            .where(SourceRecordRow.system == system, SourceRecordRow.state == "mapped")
        )
        if scan is not None:
            query = query.where(SourceRecordRow.changed_at > scan.changed_since)
        snapshots, newest = [], None
        for row, child_id in session.execute(query):
            snapshots.append(
                Snapshot(system, row.record_id, row.payload, _child(row.canonical), child_id)
            )
            changed = aware(row.changed_at)
            newest = changed if newest is None or changed > newest else newest
        return snapshots, newest


def _child(canonical: dict | None) -> Child | None:
    return Child.model_validate(canonical) if canonical else None


def pulled_snapshots(adapter: Any, mapping: SourceMapping, since: str | None) -> Iterator[Snapshot]:
    """Snapshots straight from a source (for tools and tests that skip the store)."""
    for page in adapter.pull(since):
        for record in page.records:
            result = mapping.inbound(record.payload)
            yield Snapshot(record.system, record.record_id, record.payload, result.child)


def _remember(store: Store, system: str, newest: datetime | None) -> None:
    if newest is None:
        return

    def remember(session: Session) -> None:
        scan = session.get(ReferralScanRow, system)
        if scan is None:
            session.add(ReferralScanRow(system=system, changed_since=newest))
        else:
            scan.changed_since = newest

    _in_transaction(store, remember)


def _in_transaction(store: Store, work: Callable[[Session], T]) -> T:
    """``work`` in one transaction, again if another worker inserted the same row meanwhile.

    Routing runs in every worker (a sync, the scheduled delivery, another process), so two
    may find the same referral at once: the loser's insert breaks the unique source key and
    its transaction is rolled back. Done again, the work finds the row as a re-run would."""
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            with store.session() as session:
                return work(session)
        except IntegrityError:
            if attempt == CONFLICT_RETRIES:
                raise
    raise AssertionError("unreachable")


# --- the run ------------------------------------------------------------------------------------


def _with_retries(routing: RoutingConfig, fn: Callable[[str], Any]) -> Callable[[str], Any]:
    """Reads (GET) are safe to repeat: retried here with backoff and jitter."""

    def call(arg: str) -> Any:
        retrying = Retrying(
            retry=retry_if_exception_type(RetryableSourceError),
            stop=stop_after_attempt(routing.max_attempts),
            wait=wait_exponential(
                multiplier=routing.backoff_initial_seconds / 4,
                max=routing.backoff_initial_seconds * 4,
            )
            + wait_random(0, routing.backoff_initial_seconds / 4),
            reraise=True,
        )
        return retrying(fn, arg)

    return call


def route(
    store: Store,
    snapshots: Iterable[Snapshot],
    adapters: dict[str, Any],
    routing: RoutingConfig,
    mappings: dict[str, SourceMapping],
    report: ReferralRunReport,
) -> bool:
    """Find and queue referrals, and queue decisions and links back. False: some record could
    not be read and must be looked at again next run."""
    snapshots = list(snapshots)
    complete = True
    primero = adapters.get("primero")
    list_referrals = _with_retries(routing, primero.list_referrals) if primero else _no_primero
    with store.session() as session:
        own = own_oscar_referral_ids(session)
    list_referrals = _prefetch(snapshots, list_referrals, routing.workers)
    for snapshot in snapshots:
        try:
            found = list(find_referrals([snapshot], list_referrals, own))
        except (SourceError, ConfigError) as exc:
            report.errors.append(f"{snapshot.system} record {snapshot.record_id}: {exc}")
            complete = False
            continue
        if not found:
            continue

        def enqueue(session: Session, found: list = found, snapshot: Snapshot = snapshot) -> int:
            for referral in found:
                ctx = senders.Context(mappings, routing, adapters)
                service = senders.canonical_service(ctx, referral)
                enqueue_referral(session, referral, snapshot.child, routing, service)
            return len(found)

        report.found += _in_transaction(store, enqueue)

    def back(session: Session) -> int:
        reroute_held(session, routing)
        return flow_back(session, snapshots, mappings["primero"])

    report.queued_back += _in_transaction(store, back)
    return complete


def _prefetch(
    snapshots: list[Snapshot], list_referrals: Callable[[str], Any], workers: int
) -> Callable[[str], Any]:
    """Read the referrals of every case that has a referral_to_oscar row, several at a time."""
    wanted = [
        s.record_id
        for s in snapshots
        if s.system == "primero"
        and any(
            isinstance(row, dict) and row.get("service_response_type") == REFERRAL_TO_OSCAR
            for row in s.payload.get("services_section") or []
        )
    ]
    answers: dict[str, Any] = {}

    def read(case_id: str) -> None:
        try:
            answers[case_id] = list_referrals(case_id)
        except (SourceError, ConfigError) as exc:
            answers[case_id] = exc

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(read, wanted))

    def cached(case_id: str) -> Any:
        answer = answers.get(case_id)
        if answer is None:
            return list_referrals(case_id)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return cached


def _no_primero(case_id: str) -> list[dict[str, Any]]:
    raise ConfigError("no Primero source configured: cannot read a case's referrals")


def deliver(
    store: Store,
    adapters: dict[str, Any],
    routing: RoutingConfig,
    mappings: dict[str, SourceMapping],
    *,
    wait_up_to: float = 0.0,
    progress: Progress | None = None,
    owner: str | None = None,
) -> DeliveryCounts:
    ctx = senders.Context(mappings, routing, adapters)
    return Deliverer(store, ctx, owner=owner).run(wait_up_to=wait_up_to, progress=progress)


def deliver_now(config: Config, store: Store) -> DeliveryCounts:
    """Deliver what is due in the outbox now (e.g. a helpdesk decision's link write-back);
    what fails stays in the outbox and is retried by later syncs."""
    routing = load_routing(config.path)
    adapters = build_adapters(config, routing)
    try:
        return deliver(store, adapters, routing, load_mappings(config), wait_up_to=0.0)
    finally:
        for adapter in adapters.values():
            adapter.close()


def load_mappings(config: Config) -> dict[str, SourceMapping]:
    return {kind: load_mapping(kind, config.mappings_path) for kind in ("primero", "oscar")}


def route_and_deliver(
    config: Config,
    store: Store,
    adapters: dict[str, Any] | None = None,
    progress: Progress | None = None,
    *,
    snapshots: Iterable[Snapshot] | None = None,
    wait_up_to: float = 30.0,
) -> ReferralRunReport:
    """Route the referrals found in the records synced since the last run, deliver what is due,
    write decisions and links back. ``adapters`` maps "primero"/"oscar" to adapters built with
    ``max_attempts=1`` (built from the configuration when None)."""
    routing = load_routing(config.path)
    mappings = load_mappings(config)
    own = adapters is None
    adapters = build_adapters(config, routing) if adapters is None else adapters
    report = ReferralRunReport()
    try:
        if snapshots is not None:
            route(store, snapshots, adapters, routing, mappings, report)
        else:
            for system in ("primero", "oscar"):
                found, newest = stored_snapshots(store, system)
                if route(store, found, adapters, routing, mappings, report):
                    _remember(store, system, newest)
        report.delivery = deliver(
            store, adapters, routing, mappings, wait_up_to=wait_up_to, progress=progress
        )
        report.errors.extend(report.delivery.errors)
        # decisions queued by this run's deliveries go out in the same run
    finally:
        if own:
            for adapter in adapters.values():
                adapter.close()
    with store.session() as session:
        states = list(session.scalars(select(OutboxRow.state)))
    report.held = states.count(HELD)
    report.dead = states.count(DEAD)
    report.still_open = open_count(store)
    d = report.delivery
    counts = {
        "found": report.found,
        "delivered": d.delivered,
        "attempts": d.attempts,
        "waiting": report.still_open,
        "held": report.held,
        "dead": report.dead,
        "queued_back": report.queued_back,
        "errors": len(report.errors),
    }
    log.log(
        logging.WARNING if report.needs_attention else logging.INFO,
        "referrals: %d found, %d delivered, %d dead letters",
        report.found,
        d.delivered,
        report.dead,
        extra=event("referrals_routed", counts=counts),
    )
    return report
