"""Alerts: tell a person when the bridge needs one.

Three causes: a run that failed; a source that failed ``[alerts] failing_runs`` sync runs in a
row; a new dead letter in the outbox. Each is sent to the configured webhook (a JSON POST)
and/or by mail through the configured SMTP server, at most once per cause in
``[alerts] every_minutes`` (kept in the database, so several workers and restarts agree).
An alert holds run ids, counts and the bridge's own error messages (which never hold personal
data), never a record.
"""

from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bridge.config import AlertsConfig
from bridge.logs import event
from bridge.referrals.tables import DEAD, OutboxRow
from bridge.store.db import Store
from bridge.store.schema import AlertSentRow, SyncRunRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    cause: str  # e.g. "run_failed:sync", "source_failing:primero", "dead_letters"
    subject: str
    text: str
    value: int = 0  # what the cause measured (dead letters now), kept with the alert

    def as_dict(self) -> dict[str, str]:
        return {"cause": self.cause, "subject": self.subject, "text": self.text}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def failed_run(store: Store, run_id: int, sources: list[str]) -> Alert | None:
    """An alert if the run failed, or one of ``sources`` failed in it (quarantined records
    are not a failure: `bridge status` lists them)."""
    with store.session() as session:
        run = session.get(SyncRunRow, run_id)
        if run is None:
            return None
        prefixes = tuple(f"{source}: " for source in sources)
        errors = [str(e) for e in (run.errors or []) if str(e).startswith(prefixes)][:5]
        if run.status != "failed" and not errors:
            return None
        command = run.command
    text = f"run {run_id} ({command}) failed."
    if errors:
        text += " Errors: " + "; ".join(errors)
    text += " See `bridge status`; the next run resumes from the last stored page."
    return Alert(f"run_failed:{command}", f"bridge: run {run_id} ({command}) failed", text)


def failing_sources(store: Store, sources: list[str], in_a_row: int) -> list[Alert]:
    """Sources whose last ``in_a_row`` sync runs that tried them all failed for them."""
    alerts = []
    with store.session() as session:
        runs = list(
            session.scalars(
                select(SyncRunRow)
                .where(SyncRunRow.command == "sync", SyncRunRow.finished_at.is_not(None))
                .order_by(SyncRunRow.id.desc())
                .limit(max(50, in_a_row * 5))
            )
        )
        for source in sources:
            tried = [r for r in runs if source in (r.counts or {})][:in_a_row]
            prefix = f"{source}: "
            failed = [r for r in tried if any(str(e).startswith(prefix) for e in r.errors or [])]
            if len(tried) == in_a_row and len(failed) == in_a_row:
                last = next(str(e) for e in failed[0].errors if str(e).startswith(prefix))
                alerts.append(
                    Alert(
                        f"source_failing:{source}",
                        f"bridge: {source} failed {in_a_row} sync runs in a row",
                        f"{source} failed runs {', '.join(str(r.id) for r in tried)}. "
                        f"Last error: {last}",
                    )
                )
    return alerts


def new_dead_letters(store: Store) -> Alert | None:
    """An alert if the outbox holds more dead letters than when this cause last alerted."""
    with store.session() as session:
        dead = session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == DEAD)
        )
        last = session.get(AlertSentRow, "dead_letters")
        before = last.last_value if last is not None else 0
    if not dead or dead <= before:
        return None
    return Alert(
        "dead_letters",
        f"bridge: {dead - before} new dead letter(s) in the referral outbox",
        f"{dead} dead letter(s) in all. See `bridge referrals list --state dead`; after a fix, "
        "`bridge referrals replay --dead`.",
        value=dead,
    )


class Alerter:
    def __init__(self, config: AlertsConfig, store: Store) -> None:
        self.config, self.store = config, store

    def check(self, run_id: int | None, sources: list[str]) -> list[Alert]:
        """Look for every cause after a run and send what is due; the alerts sent."""
        if not self.config.enabled:
            return []
        found: list[Alert] = []
        if run_id is not None and (alert := failed_run(self.store, run_id, sources)):
            found.append(alert)
        found += failing_sources(self.store, sources, self.config.failing_runs)
        if alert := new_dead_letters(self.store):
            found.append(alert)
        return [a for a in found if self.send(a)]

    def _due(self, alert: Alert, now: datetime) -> bool:
        """Claim the cause for this interval; False if it alerted within it (any worker)."""
        quiet_until = now - timedelta(minutes=self.config.every_minutes)
        try:
            with self.store.session() as session:
                row = session.get(AlertSentRow, alert.cause, with_for_update=True)
                if row is None:
                    session.add(
                        AlertSentRow(
                            cause=alert.cause, sent_at=now, count=1, last_value=alert.value
                        )
                    )
                    return True
                if alert.value:
                    row.last_value = max(row.last_value, alert.value)
                if _aware(row.sent_at) > quiet_until:
                    return False
                row.sent_at, row.count = now, row.count + 1
                return True
        except IntegrityError:  # another worker claimed it at the same moment
            return False

    def send(self, alert: Alert, *, now: datetime | None = None) -> bool:
        if not self._due(alert, now or datetime.now(UTC)):
            return False
        sent = False
        if self.config.webhook_url:
            sent |= self._post(alert)
        if self.config.smtp_host and self.config.mail_to:
            sent |= self._mail(alert)
        log.warning(
            "alert %s: %s", alert.cause, "sent" if sent else "not delivered", extra=event("alert")
        )
        return sent

    def _post(self, alert: Alert) -> bool:
        assert self.config.webhook_url
        try:
            response = httpx.post(self.config.webhook_url, json=alert.as_dict(), timeout=10.0)
            response.raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.error("alert webhook failed: %s", type(exc).__name__)
            return False

    def _mail(self, alert: Alert) -> bool:
        c = self.config
        assert c.smtp_host
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = c.mail_from
        message["To"] = ", ".join(c.mail_to)
        message.set_content(alert.text + "\n")
        try:
            with smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=10) as smtp:
                if c.smtp_starttls:
                    smtp.starttls()
                if c.smtp_username:
                    password = os.environ.get(c.smtp_password_env or "", "")
                    smtp.login(c.smtp_username, password)
                smtp.send_message(message)
            return True
        except (OSError, smtplib.SMTPException) as exc:
            log.error("alert mail failed: %s", type(exc).__name__)
            return False
