"""Primero sign-ins as its real clients meet them (shared/contracts/primero-v2.md,
Authentication): JWTs valid an hour, rack-attack's throttle and Devise's lock.

- Every ``POST /api/v2/tokens`` counts, successful or not: 6 in any 60 seconds per user name,
  the next one gets 429 with ``Retry-After`` (seconds until the oldest counted one is a minute
  old). A throttled attempt is not counted itself.
- 6 failed passwords (sign-in or HTTP Basic) within a minute lock the user name for 30 minutes.

Time is ``monotonic`` (injectable: a test moves it instead of sleeping).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable

SIGN_INS_PER_MINUTE = 6
FAILURES_BEFORE_LOCK = 6
LOCK_SECONDS = 1800.0
TOKEN_SECONDS = 3600.0
WINDOW_SECONDS = 60.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Logins:
    """Thread-safe; ``sign_ins`` counts every sign-in answered 200, for tests to read."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sign_ins_per_minute: int = SIGN_INS_PER_MINUTE,
    ) -> None:
        self.monotonic = monotonic
        self.sign_ins_per_minute = sign_ins_per_minute
        self.lock = threading.RLock()
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (user, expiry monotonic)
        self.sign_ins = 0
        self._attempts: dict[str, list[float]] = {}
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._secret = secrets.token_bytes(32)

    def throttled_for(self, user: str) -> int | None:
        """Count one sign-in attempt; the Retry-After seconds when it is one too many."""
        with self.lock:
            now = self.monotonic()
            recent = [t for t in self._attempts.get(user, []) if now - t < WINDOW_SECONDS]
            if len(recent) >= self.sign_ins_per_minute:
                self._attempts[user] = recent
                return max(1, math.ceil(WINDOW_SECONDS - (now - recent[0])))
            recent.append(now)
            self._attempts[user] = recent
            return None

    def locked_for(self, user: str) -> int | None:
        """Seconds the user name stays locked, or None."""
        with self.lock:
            left = self._locked_until.get(user, 0.0) - self.monotonic()
            return max(1, math.ceil(left)) if left > 0 else None

    def record_failure(self, user: str) -> None:
        with self.lock:
            now = self.monotonic()
            recent = [t for t in self._failures.get(user, []) if now - t < WINDOW_SECONDS]
            recent.append(now)
            self._failures[user] = recent
            if len(recent) >= FAILURES_BEFORE_LOCK:
                self._locked_until[user] = now + LOCK_SECONDS

    def reset(self) -> None:
        """Forget throttle counts, failures and locks (tokens stay valid)."""
        with self.lock:
            self._attempts.clear()
            self._failures.clear()
            self._locked_until.clear()

    def issue(self, user: str) -> str:
        """A JWT (HS256, ``sub`` and ``exp``) valid for an hour."""
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"sub": user, "exp": int(time.time() + TOKEN_SECONDS), "jti": str(uuid.uuid4())}
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256)
        token = f"{header}.{payload}.{_b64(signature.digest())}"
        with self.lock:
            self.tokens[token] = (user, self.monotonic() + TOKEN_SECONDS)
            self.sign_ins += 1
        return token

    def user_of(self, token: str) -> str | None:
        with self.lock:
            entry = self.tokens.get(token)
            if entry is None or entry[1] < self.monotonic():
                return None
            return entry[0]

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)
