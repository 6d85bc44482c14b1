"""A hand-computable store: 40 children, 52 records, counted by hand in the tests.

- children C01-C12: Phnom Penh (12), female, born 2014-05-01 exact; C01-C06 known to both
  systems (one Primero case, one OSCaR client at NGO "cif"); C01-C02 also at NGO "fi"
  (a third record): known to two NGOs.
- children C13-C20: Siem Reap (17), male, birth "2010" known by its year only (estimated);
  OSCaR only at "cif"; C13 with a disability; each in emergency shelter.
- children C21-C40: Battambang (02), female, born 2020-12-08 exact (age 5 on 2026-12-07,
  4 on 2025-12-07); Primero only; services family_reintegration with response care_plan.
- one record of C03 (the OSCaR one) first stored after the as-of date 2026-12-07.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.store.db import Store
from bridge.store.schema import ChildRow, LinkRow, SourceRecordRow

AS_OF = "2026-12-07"
BEFORE = datetime(2026, 12, 1, tzinfo=UTC)
AFTER = datetime(2026, 12, 9, tzinfo=UTC)


def canonical(system: str, n: int, **fields: Any) -> dict[str, Any]:
    base = {
        "system": system,
        "record_id": f"{system}-{n}",
        "organisation": fields.pop("organisation", "mosvy" if system == "primero" else "cif"),
        "names": {"given": "Test", "family": "Child"},
        "sex": None,
        "birth": {"value": None, "precision": "unknown"},
        "location": {"code": None, "province_code": None},
        "services": [],
        "protection_concerns": [],
        "disability": [],
    }
    base.update(fields)
    return base


def records() -> list[tuple[str, str, dict[str, Any], datetime]]:
    """(child id, system, canonical, first stored)."""
    out = []
    n = 0

    def add(child: int, system: str, when: datetime = BEFORE, **fields: Any) -> None:
        nonlocal n
        n += 1
        out.append((f"C{child:02d}", system, canonical(system, n, **fields), when))

    pp = {"sex": "female", "birth": {"value": "2014-05-01", "precision": "exact"},
          "location": {"code": "12010101", "province_code": "12"}}  # fmt: skip
    for c in range(1, 13):
        add(c, "primero", **pp)
        if c <= 6:
            add(c, "oscar", AFTER if c == 3 else BEFORE, **pp)
        if c <= 2:
            add(c, "oscar", organisation="fi", **pp)
    sr = {"sex": "male", "birth": {"value": "2010-01-01", "precision": "estimated"},
          "location": {"code": "1701", "province_code": "17"},
          "services": [{"service_type": "emergency_shelter"}]}  # fmt: skip
    for c in range(13, 21):
        add(c, "oscar", **sr, **({"disability": ["physical"]} if c == 13 else {}))
    reintegration = {"service_type": "family_reintegration", "response_type": "care_plan"}
    bb = {"sex": "female", "birth": {"value": "2020-12-08", "precision": "exact"},
          "location": {"code": "02030101", "province_code": "02"},
          "services": [reintegration]}  # fmt: skip
    for c in range(21, 41):
        add(c, "primero", **bb)
    return out


def seed(store: Store) -> None:
    rows = records()
    with store.session() as session:
        for seq, child in enumerate(sorted({c for c, *_ in rows}), start=1):
            session.add(ChildRow(child_id=child, seq=seq, state="active"))
        session.flush()
        for child, system, record, when in rows:
            row = SourceRecordRow(
                source=system, system=system, record_id=record["record_id"], payload={},
                payload_hash="0" * 64, state="mapped", issues=[], canonical=record,
                fetched_at=when, changed_at=when,
            )  # fmt: skip
            session.add(row)
            session.flush()
            session.add(LinkRow(record_pk=row.id, child_id=child, method="new"))
