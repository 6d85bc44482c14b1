"""Webhooks in: a signed "this changed" call from Primero or OSCaR starts an early sync.

The sender signs ``"<timestamp>." + body`` with HMAC-SHA256 and a secret shared through an
environment variable, and sends::

    X-Bridge-Timestamp: 1796679000
    X-Bridge-Signature: sha256=<hex digest>

A call is refused when the secret is not set, the signature does not match, the timestamp is
older than ``[hooks] max_age_seconds`` (or as far in the future), or the same signature was
accepted before (by any worker: accepted signatures are kept in the database for twice that
age). The body is never stored or logged: it may hold a child's record, and polling by update
time stays the source of truth, so a hook only says *when* to look.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bridge.config import HooksConfig
from bridge.store.db import Store
from bridge.store.schema import HookSignatureRow

SIGNATURE_HEADER = "X-Bridge-Signature"
TIMESTAMP_HEADER = "X-Bridge-Timestamp"
SYSTEMS = ("primero", "oscar")

ACCEPTED = "accepted"
NOT_CONFIGURED = "not_configured"
BAD_SIGNATURE = "bad_signature"
STALE = "stale"
REPLAYED = "replayed"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True)
class Verdict:
    result: str
    reason: str

    @property
    def accepted(self) -> bool:
        return self.result == ACCEPTED


def secret_of(system: str, config: HooksConfig) -> str | None:
    name = config.primero_secret_env if system == "primero" else config.oscar_secret_env
    return os.environ.get(name) or None


def verify(
    store: Store,
    config: HooksConfig,
    system: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float | None = None,
) -> Verdict:
    """Whether a hook call for ``system`` is genuine and new; an accepted one is remembered."""
    secret = secret_of(system, config)
    if secret is None:
        env = config.primero_secret_env if system == "primero" else config.oscar_secret_env
        return Verdict(NOT_CONFIGURED, f"set {env} to accept {system} webhooks")
    if not timestamp or not signature:
        return Verdict(BAD_SIGNATURE, f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    try:
        sent_at = int(timestamp)
    except ValueError:
        return Verdict(BAD_SIGNATURE, f"{TIMESTAMP_HEADER} is not a number of seconds")
    if not hmac.compare_digest(sign(secret, sent_at, body), signature.strip()):
        return Verdict(BAD_SIGNATURE, "the signature does not match the body")
    moment = time.time() if now is None else now
    if abs(moment - sent_at) > config.max_age_seconds:
        return Verdict(STALE, f"signed more than {config.max_age_seconds} s from now")
    received = datetime.fromtimestamp(moment, UTC)
    try:
        with store.session() as session:
            session.add(
                HookSignatureRow(signature=signature.strip(), source=system, received_at=received)
            )
    except IntegrityError:
        return Verdict(REPLAYED, "this signature was accepted before")
    with store.session() as session:
        keep = received - timedelta(seconds=2 * config.max_age_seconds)
        session.execute(delete(HookSignatureRow).where(HookSignatureRow.received_at < keep))
    return Verdict(ACCEPTED, "an early sync is asked for")
