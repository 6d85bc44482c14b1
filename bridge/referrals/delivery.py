"""The delivery loop: lease due outbox rows, attempt each once, record the outcome.

    outcome of one attempt                         row becomes
    2xx                                            delivered (an OSCaR status change: unknown,
                                                   until the feed reads it back)
    retryable, surely not processed (429, 503,     pending, next attempt after backoff
      connection refused)
    retryable, may have been processed (timeout,   unknown: the destination is looked at
      dropped connection, 5xx, HTML body)          before any new attempt
    not retryable (422, 404, ..., unknown service) dead, with the receiver's message
    bad credentials                                pending; the pass stops (retrying a bad
                                                   password locks the account)
    attempts used up                               dead, with the last error

Backoff is tenacity's exponential wait with jitter, never shorter than Retry-After. Waiting is
a time stored on the row, not a sleep holding the row, so a restart keeps the schedule.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from tenacity import RetryCallState, wait_exponential, wait_random

from adapters.errors import AuthError, FatalSourceError, RetryableSourceError, SourceError
from adapters.http import is_safe_to_resend
from adapters.redact import redact_message
from bridge.referrals import senders
from bridge.referrals.outbox import aware, claim, hold_withdrawn, next_due, now_utc
from bridge.referrals.routing import RoutingConfig
from bridge.referrals.tables import DEAD, DELIVERED, PENDING, SENDING, UNKNOWN, OutboxRow
from bridge.store.db import Store

log = logging.getLogger(__name__)
ERROR_CHARS = 300  # a delivery error as stored in last_error, at most
Progress = Callable[[str], None]
FEED_LOOKBACK = timedelta(minutes=30)


def backoff(routing: RoutingConfig, attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt ``attempt + 1``: exponential with jitter, at least Retry-After."""
    # tenacity's exponential wait (initial * 2**(n-1), capped) plus up to `initial` of jitter
    wait = wait_exponential(
        multiplier=routing.backoff_initial_seconds, max=routing.backoff_max_seconds
    ) + wait_random(0, routing.backoff_initial_seconds)
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = max(1, attempt)
    return max(float(wait(state)), float(retry_after or 0.0))


@dataclass
class DeliveryCounts:
    attempts: int = 0
    delivered: int = 0
    dead: int = 0
    looked_up: int = 0
    found_on_look_up: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryCounts) -> None:
        self.attempts += other.attempts
        self.delivered += other.delivered
        self.dead += other.dead
        self.looked_up += other.looked_up
        self.found_on_look_up += other.found_on_look_up
        self.errors.extend(other.errors)


class Deliverer:
    def __init__(self, store: Store, ctx: senders.Context, *, owner: str | None = None) -> None:
        self.store = store
        self.ctx = ctx
        self.routing = ctx.routing
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    # --- the loop ------------------------------------------------------------------------------

    def run(
        self,
        *,
        wait_up_to: float = 0.0,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> DeliveryCounts:
        """Deliver due rows until none is due; rows due within ``wait_up_to`` seconds from now
        are waited for, later ones are left for the next run."""
        deadline = time.monotonic() + wait_up_to
        counts = DeliveryCounts()
        with self.store.session() as session:  # a consent withdrawn since the last routing
            hold_withdrawn(session)
        workers = max(1, self.routing.workers)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while True:
                ids = claim(self.store, self.owner, self.routing.lease_seconds, workers * 8)
                if not ids:
                    due = next_due(self.store)
                    if due is None:
                        break
                    pause = (due - now_utc()).total_seconds()
                    if time.monotonic() + pause > deadline:
                        break
                    sleep(min(max(pause, 0.01), 1.0))
                    continue
                self._read_feed_if_needed(ids, counts)
                for result in pool.map(self.attempt, ids):
                    counts.add(result)
                if progress:
                    progress(
                        f"referrals: {counts.delivered} delivered, {counts.dead} dead letters, "
                        f"{counts.attempts} attempts"
                    )
                if any(isinstance(e, str) and e.startswith("auth:") for e in counts.errors):
                    break
        return counts

    def _read_feed_if_needed(self, ids: list[int], counts: DeliveryCounts) -> None:
        """One read of OSCaR's feed serves every look-up of this pass."""
        self.ctx.oscar_feed = None
        with self.store.session() as session:
            rows = [session.get(OutboxRow, i) for i in ids]
            since = [
                aware(r.first_attempt_at) or now_utc()
                for r in rows
                if r is not None and r.state in (UNKNOWN, SENDING) and senders.needs_feed(r)
            ]
        if not since:
            return
        oscar = self.ctx.adapters.get("oscar")
        if oscar is None:
            return
        start = (min(since) - FEED_LOOKBACK).strftime("%Y-%m-%d %H:%M:%S")
        try:
            self.ctx.oscar_feed = [
                record.payload for page in oscar.pull(start) for record in page.records
            ]
        except SourceError as exc:
            counts.errors.append(f"oscar feed for look-ups: {exc}")

    # --- one attempt ---------------------------------------------------------------------------

    def attempt(self, row_id: int) -> DeliveryCounts:
        counts = DeliveryCounts()
        try:
            self._attempt(row_id, counts)
        except Exception as exc:  # noqa: BLE001 - one row's bug must not stop the others
            log.exception("referral outbox row %s", row_id)
            self._finish(row_id, PENDING, error=f"internal error: {type(exc).__name__}", wait=60)
            counts.errors.append(f"row {row_id}: internal error {type(exc).__name__}")
        return counts

    def _load(self, row_id: int) -> OutboxRow | None:
        with self.store.session() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.lease_owner != self.owner:
                return None
            session.expunge(row)
            return row

    def _attempt(self, row_id: int, counts: DeliveryCounts) -> None:
        row = self._load(row_id)
        if row is None:
            return
        if row.state in (UNKNOWN, SENDING) and not self._look_up(row, counts):
            return
        if row.attempts >= self.routing.max_attempts:
            self._finish(row_id, DEAD, error=row.last_error or "out of attempts")
            counts.dead += 1
            return
        try:
            payload = senders.build(row, self.ctx)
        except senders.BuildError as exc:
            self._finish(row_id, DEAD, error=str(exc))
            counts.dead += 1
            return
        self._mark_sending(row_id, payload)
        counts.attempts += 1
        attempts = row.attempts + 1
        try:
            result = senders.send(row, payload, self.ctx)
        except AuthError as exc:
            self._finish(row_id, PENDING, error=str(exc), wait=self.routing.backoff_max_seconds)
            counts.errors.append(f"auth: {exc}")
        except RetryableSourceError as exc:
            state = PENDING if is_safe_to_resend(exc) else UNKNOWN
            wait = backoff(self.routing, attempts, exc.retry_after)
            self._finish(row_id, state, error=str(exc), wait=wait, maybe_sent=state == UNKNOWN)
        except FatalSourceError as exc:
            self._finish(row_id, DEAD, error=str(exc), maybe_sent=False)
            counts.dead += 1
        else:
            if result.get("read_back") == "pending":  # confirmed by the next look-up
                self._finish(row_id, UNKNOWN, result=result, wait=0.0, maybe_sent=True)
            else:
                self._finish(row_id, DELIVERED, result=result)
                counts.delivered += 1

    def _look_up(self, row: OutboxRow, counts: DeliveryCounts) -> bool:
        """Look in the destination after an unknown outcome; True: go on and send."""
        if senders.needs_feed(row) and self.ctx.oscar_feed is None:
            self._finish(
                row.id, UNKNOWN, wait=backoff(self.routing, row.checks + 1, None), check=True
            )
            return False
        counts.looked_up += 1
        try:
            found = senders.look_up(row, self.ctx)
        except RetryableSourceError as exc:
            wait = backoff(self.routing, row.checks + 1, exc.retry_after)
            self._finish(row.id, UNKNOWN, error=str(exc), wait=wait, check=True)
            return False
        except FatalSourceError as exc:
            self._finish(row.id, DEAD, error=str(exc))
            counts.dead += 1
            return False
        if found is not None:
            self._finish(row.id, DELIVERED, result=found)
            counts.found_on_look_up += 1
            counts.delivered += 1
            return False
        return True

    # --- recording -----------------------------------------------------------------------------

    def _mark_sending(self, row_id: int, payload: dict[str, Any]) -> None:
        """Recorded before the request leaves: a crash from here on reads as 'unknown'."""
        now = now_utc()
        with self.store.session() as session:
            row = session.get(OutboxRow, row_id)
            assert row is not None
            row.state, row.payload = SENDING, payload
            row.attempts += 1
            row.first_attempt_at = row.first_attempt_at or now
            row.last_attempt_at = row.updated_at = now
            row.result = {**(row.result or {}), "maybe_sent": True}

    def _finish(
        self,
        row_id: int,
        state: str,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        wait: float = 0.0,
        maybe_sent: bool | None = None,
        check: bool = False,
    ) -> None:
        now = now_utc()
        with self.store.session() as session:
            row = session.get(OutboxRow, row_id)
            if row is None:
                return
            merged = {**(row.result or {}), **(result or {})}
            if maybe_sent is not None or state == DELIVERED:
                merged["maybe_sent"] = bool(maybe_sent) and state != DELIVERED
            if state == PENDING and maybe_sent is None and "maybe_sent" in merged:
                merged["maybe_sent"] = False
            row.result = merged
            row.state = state
            if error is not None:  # never a receiver's echo of what we sent
                row.last_error = redact_message(error, sent=row.payload, limit=ERROR_CHARS)
            if check:
                row.checks += 1
            if state == DELIVERED:
                row.delivered_at = now
            row.next_attempt_at = now + timedelta(seconds=wait)
            row.lease_owner, row.lease_until, row.updated_at = None, None, now


def open_count(store: Store) -> int:
    """Rows still to deliver (pending, in flight or waiting for a look-up)."""
    with store.session() as session:
        query = select(OutboxRow.id).where(OutboxRow.state.in_((PENDING, SENDING, UNKNOWN)))
        return len(list(session.scalars(query)))
