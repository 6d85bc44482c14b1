"""The fault switch: makes a share of sandbox requests fail the way real servers do.

The default mix (``FAULT_KINDS``) is what a flaky network and an overloaded server do. The echo
kinds are served only when asked for by name: an error answer that quotes the request, as a
proxy, a web server or a validating application can do (``echo_json``: 422 in the system's
error envelope, one message per field quoting its value and the whole body as detail;
``echo_text``: 500, text/plain with the raw body; ``echo_html``: 500, an HTML page with the
body in its title and a ``<pre>``; ``echo``: one of the three at random).
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

FAULT_KINDS: tuple[str, ...] = ("500", "503", "429", "timeout", "html", "drop_after")
ECHO_KINDS: tuple[str, ...] = ("echo_json", "echo_text", "echo_html")
KNOWN_KINDS: tuple[str, ...] = (*FAULT_KINDS, *ECHO_KINDS, "echo")
# Sign-in endpoints are spared unless asked: a fault there tests nothing but login retries.
AUTH_PATHS = re.compile(r"^/api/v2/tokens|^/api/v1/admin_auth/")


@dataclass
class FaultSwitch:
    """Shared by both sandbox servers; thread-safe.

    `locked` puts Primero in "system locked for a configuration update" (503, Retry-After 60).
    `log` records (method, path, kind) for every fault served (``echo`` is logged as the
    variant chosen). `methods` limits faults to those HTTP methods (e.g. only writes).
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    paths: str | None = None
    methods: tuple[str, ...] | None = None
    include_auth: bool = False
    retry_after: int = 1
    timeout_seconds: float = 30.0  # longest a 'timeout' fault waits for the client to give up
    locked: bool = False
    log: list[tuple[str, str, str]] = field(default_factory=list)
    _rng: random.Random = field(default_factory=lambda: random.Random(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _paths_re: re.Pattern[str] | None = None

    def set(
        self,
        rate: float,
        kinds: Sequence[str] | None = None,
        seed: int | None = None,
        paths: str | None = None,
        *,
        include_auth: bool = False,
        retry_after: int | None = None,
        timeout_seconds: float | None = None,
        methods: Sequence[str] | None = None,
    ) -> None:
        chosen = tuple(kinds) if kinds else FAULT_KINDS
        unknown = [k for k in chosen if k not in KNOWN_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {list(KNOWN_KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        with self._lock:
            self.rate = rate
            self.kinds = chosen
            self.paths = paths
            self._paths_re = re.compile(paths) if paths else None
            self.include_auth = include_auth
            self.methods = tuple(m.upper() for m in methods) if methods else None
            if seed is not None:
                self._rng = random.Random(seed)
            if retry_after is not None:
                self.retry_after = retry_after
            if timeout_seconds is not None:
                self.timeout_seconds = timeout_seconds

    def off(self) -> None:
        with self._lock:
            self.rate = 0.0
            self.locked = False

    def lock_system(self, locked: bool = True) -> None:
        with self._lock:
            self.locked = locked

    def decide(self, method: str, path: str) -> str | None:
        """The fault kind to serve for this request, or None to answer normally."""
        with self._lock:
            if self.rate <= 0.0 or path.startswith("/_sandbox"):
                return None
            if not self.include_auth and AUTH_PATHS.match(path):
                return None
            if self._paths_re is not None and not self._paths_re.search(path):
                return None
            if self.methods is not None and method.upper() not in self.methods:
                return None
            if self._rng.random() >= self.rate:
                return None
            kind = self.kinds[int(self._rng.random() * len(self.kinds))]
            if kind == "echo":
                kind = ECHO_KINDS[int(self._rng.random() * len(ECHO_KINDS))]
            self.log.append((method, path, kind))
            return kind

    def coin(self) -> float:
        with self._lock:
            return self._rng.random()

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "rate": self.rate,
                "kinds": list(self.kinds),
                "paths": self.paths,
                "methods": list(self.methods) if self.methods else None,
                "include_auth": self.include_auth,
                "retry_after": self.retry_after,
                "timeout_seconds": self.timeout_seconds,
                "locked": self.locked,
                "served": len(self.log),
            }
