"""In-memory OSCaR: clients across tenants, referrals, sessions, change times."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from datetime import UTC, datetime

from bridge.sandbox.primero_state import Clock
from bridge.sandbox.records import OSCAR_SERVICES, TENANTS
from bridge.sandbox.variation import CROCKFORD

WEEK = 7 * 24 * 3600


def mint_global_id() -> str:
    """ULID-like: 10 characters of millisecond time, 16 random, Crockford base32."""
    millis = int(time.time() * 1000)
    head = "".join(CROCKFORD[(millis >> (5 * i)) & 31] for i in range(9, -1, -1))
    return head + "".join(secrets.choice(CROCKFORD) for _ in range(16))


class OscarState:
    """Thread-safe via `lock`. `changed_at`/`created_at` are internal: the feed never shows them."""

    def __init__(self, email: str, password: str) -> None:
        self.email = email
        self.password = password
        self.lock = threading.RLock()
        self.clock = Clock()
        self.clients: dict[str, dict] = {}
        self.changed_at: dict[str, datetime] = {}
        self.created_at: dict[str, datetime] = {}
        self.referrals: list[dict] = []
        self.links: list[dict] = []
        self.status_updates: list[dict] = []
        self.request_log: list[tuple[str, str, int]] = []
        self.sessions: dict[tuple[str, str], tuple[str, float]] = {}  # (uid, client) -> token
        self.tenants: dict[str, int] = dict(TENANTS)
        self.services: dict[str, str] = dict(OSCAR_SERVICES)
        self._slug_no = 0
        self._referral_no = 1000

    def add_client(
        self, client: dict, changed_at: datetime | None = None, *, copy_client: bool = True
    ) -> dict:
        """Store a client; changed_at (internal, never served) defaults to the clock."""
        with self.lock:
            record = copy.deepcopy(client) if copy_client else client
            gid = record.get("global_id") or mint_global_id()
            record["global_id"] = gid
            tenant = record.get("organization_name") or ""
            if tenant and tenant not in self.tenants:
                self.tenants[tenant] = 400 + len(self.tenants)
            self._slug_no += 1
            record.setdefault("slug", f"{tenant}-{self._slug_no}")
            when = changed_at or self.clock.now()
            self.clients[gid] = record
            self.changed_at[gid] = when
            self.created_at.setdefault(gid, when)
            return record

    def update_client(self, global_id: str, fields: dict) -> dict:
        with self.lock:
            client = self.clients[global_id]
            client.update(copy.deepcopy(fields))
            self.changed_at[global_id] = self.clock.now()
            return client

    def touch(self, global_id: str) -> None:
        with self.lock:
            self.changed_at[global_id] = self.clock.now()

    def next_referral_id(self) -> int:
        with self.lock:
            self._referral_no += 1
            return self._referral_no

    def sign_in(self, email: str) -> dict[str, str]:
        with self.lock:
            token, client = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            expiry = time.time() + WEEK
            self.sessions[(email, client)] = (token, expiry)
            return {
                "access-token": token,
                "client": client,
                "uid": email,
                "expiry": str(int(expiry)),
                "token-type": "Bearer",
            }

    def session_valid(self, uid: str, client: str, token: str) -> bool:
        with self.lock:
            entry = self.sessions.get((uid, client))
            return entry is not None and entry[0] == token and entry[1] > time.time()

    def log(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.request_log.append((method, path, status))


def seeded_changed_at(client: dict) -> datetime:
    """A plausible last change for a seeded client: its latest service enrolment, midday."""
    dates = [s.get("enrollment_date") for s in client.get("services") or [] if isinstance(s, dict)]
    latest = max((d for d in dates if isinstance(d, str) and len(d) == 10), default=None)
    if latest is None:
        return datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    try:
        day = datetime.fromisoformat(latest)
    except ValueError:
        return datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    return day.replace(hour=12, tzinfo=UTC)
