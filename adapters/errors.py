"""The bridge's small error tree. Every adapter maps its system's failures onto it in one place.

    BridgeError
    ├── ConfigError                 the configuration is wrong; a person must fix it
    ├── SourceError                 talking to a source system failed
    │   ├── RetryableSourceError    timeouts, dropped connections, 429, 5xx, 503 + Retry-After,
    │   │                           an HTML page where JSON was expected
    │   └── FatalSourceError        401, 403, 404, 409, 422 with the system's message: retrying
    │       │                       will not help
    │       └── AuthError           bad credentials: never retried (it would lock the account)
    └── BadRecordError              one record cannot be read or mapped; it is quarantined and
                                    the run goes on

Messages never carry personal data: they name the system, the record id, the field (a JSON
pointer) and what is wrong with it, never the value.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """The configuration (file, environment, mapping file) is wrong."""


class SourceError(BridgeError):
    """Talking to a source system failed."""

    def __init__(
        self, system: str, message: str, *, status: int | None = None, url: str | None = None
    ) -> None:
        self.system = system
        self.status = status
        self.url = url
        where = f" ({url})" if url else ""
        code = f" HTTP {status}" if status is not None else ""
        super().__init__(f"{system}{code}{where}: {message}")
        self.message = message


class RetryableSourceError(SourceError):
    """A failure that may succeed if tried again later (honour ``retry_after`` seconds)."""

    def __init__(
        self,
        system: str,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(system, message, status=status, url=url)
        self.retry_after = retry_after


class FatalSourceError(SourceError):
    """A failure that will not go away by retrying; ``message`` is the system's own message."""


class AuthError(FatalSourceError):
    """Bad or missing credentials. Never retried: Primero locks an account after 6 failures."""


class BadRecordError(BridgeError):
    """One record cannot be read or mapped. ``pointer`` is a JSON pointer into the record."""

    def __init__(self, system: str, record_id: str | None, pointer: str, message: str) -> None:
        self.system = system
        self.record_id = record_id
        self.pointer = pointer
        self.message = message
        rid = record_id or "<no id>"
        super().__init__(f"{system} record {rid} at {pointer or '/'}: {message}")
