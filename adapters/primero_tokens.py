"""Primero bearer tokens shared by every adapter of one process.

Primero throttles *every* sign-in (6 a minute per user name, then 429) and a token is valid
an hour, so a service that builds a new adapter per job must not sign in per job: adapters
take their token from this cache, keyed by base URL and user name, and sign in only when it
holds none or the one it holds is about to expire (``REUSE_FOR`` after it was issued).
``sign_in_lock(key)`` lets one adapter sign in while the others of the same account wait for
its token instead of signing in too. Tokens live in memory only, never on disk or in logs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Primero's token lives an hour; keep a margin so a long call does not start on a dying one.
REUSE_FOR = timedelta(minutes=55)

Key = tuple[str, str]  # (base URL, user name)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CachedToken:
    token: str
    reuse_until: datetime


class TokenCache:
    """Thread-safe. ``clock`` is the cache's own time (tests fake it)."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self.clock = clock
        self._tokens: dict[Key, CachedToken] = {}
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.Lock()

    def now(self) -> datetime:
        moment = self.clock()
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def sign_in_lock(self, key: Key) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: Key) -> CachedToken | None:
        """The token to reuse for this account, or None (none yet, or about to expire)."""
        with self._guard:
            cached = self._tokens.get(key)
            if cached is not None and cached.reuse_until <= self.now():
                del self._tokens[key]
                cached = None
            return cached

    def put(self, key: Key, token: str) -> CachedToken:
        cached = CachedToken(token, self.now() + REUSE_FOR)
        with self._guard:
            self._tokens[key] = cached
        return cached

    def drop(self, key: Key, token: str) -> None:
        """Forget ``token`` (refused by Primero); a newer one another adapter got stays."""
        with self._guard:
            cached = self._tokens.get(key)
            if cached is not None and cached.token == token:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()


SHARED_TOKENS = TokenCache()
