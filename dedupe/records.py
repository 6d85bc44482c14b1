"""The engine's input: one flat, immutable record per source record.

The bridge builds these from its canonical ``Child`` (``bridge.linking.to_person``); the engine
never sees the store or the source payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class PersonRecord:
    key: str  # unique record key, "<system>:<record_id>"
    system: str  # "primero" | "oscar" | anything else for benchmarks
    organisation: str | None = None
    given: str | None = None  # Latin given name as recorded (may still hold Khmer script)
    family: str | None = None  # Latin family name as recorded
    given_km: str | None = None  # Khmer script given name
    family_km: str | None = None  # Khmer script family name
    full_km: str | None = None  # Khmer script full name, order unknown
    nickname: str | None = None
    sex: str | None = None  # "female" | "male" | "other" | "unknown" | None
    birth_date: date | None = None
    birth_precision: str = "unknown"  # "exact" | "year" | "estimated" | "unknown"
    location_code: str | None = None  # NCDD code string, zeros kept (2/4/6/8 digits)
    caregivers: tuple[str, ...] = ()  # caregiver names, Latin or Khmer script
    exact_ids: tuple[str, ...] = ()  # ("case:<uuid>", "oscar:<gid>"): shared -> same child
    # Other named free-text attributes (("suburb", "granville"), ("phone", "...")), compared
    # generically: a field counts only when both records hold it. Empty in the bridge.
    extra: tuple[tuple[str, str], ...] = ()
