"""Shapes every adapter shares: a raw source record, a page of them, and the adapter protocol."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from adapters.errors import BadRecordError

RAW_KEY = "$bridge_unstorable_json"  # a payload kept as JSON text (see bridge.ingest.storable)


def payload_text(payload: Any) -> str:
    """The payload's JSON in one form whatever its key order: keys sorted, no spaces, not
    ASCII-escaped (NaN and Infinity written as such). What ``payload_hash`` hashes, and what
    the store keeps when the payload is storable (``bridge.ingest.storable_text``)."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def text_hash(text: str) -> str:
    # surrogatepass: JSON may carry a lone "\ud800" escape; hash it rather than fail on it.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def payload_hash(payload: Any) -> str:
    """A stable hash of a JSON payload (key order does not matter)."""
    return text_hash(payload_text(payload))


@dataclass(frozen=True)
class SourceRecord:
    """One record as a source system served it. The payload is kept so a mapping change can be
    replayed without fetching again."""

    system: str  # "primero" or "oscar" (the source kind)
    record_id: str  # Primero case ``id`` or OSCaR ``global_id``
    payload: dict[str, Any]
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    payload_hash: str = ""
    # ``payload_text(payload)`` when the hash was computed here (kept for the store: the
    # payload is not encoded twice); "" when the hash was given
    text: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.payload_hash:
            text = payload_text(self.payload)
            object.__setattr__(self, "text", text)
            object.__setattr__(self, "payload_hash", text_hash(text))


@dataclass
class Page:
    """A page of records, committed by the sync as one unit.

    ``cursor`` is the value to store once this page is committed (``None``: do not move the
    cursor yet, e.g. for all but the last chunk of OSCaR's one-shot feed). ``bad`` holds
    entries that could not even be read as records (not an object, no id); they are kept as
    quarantined raw entries, never dropped.
    """

    records: list[SourceRecord]
    cursor: str | None = None
    bad: list[tuple[BadRecordError, Any]] = field(default_factory=list)
    number: int = 1


class SourceAdapter(Protocol):
    """What the sync needs from a source. ``since`` is the stored cursor (``None`` first time)."""

    system: str

    def pull(self, since: str | None) -> Iterator[Page]: ...

    def close(self) -> None: ...
