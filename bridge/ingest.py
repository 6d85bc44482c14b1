"""Storing one page of source records: raw payload upsert, mapping, quarantine, linking.

A page is one transaction. Storing is idempotent: a record whose payload hash is unchanged
is left alone, so pulling the same window twice changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import Page, SourceRecord, payload_hash
from bridge.linking import LinkCounts, Linker
from bridge.mapping import SourceMapping
from bridge.store.schema import LinkRow, SourceRecordRow


@dataclass
class PageCounts:
    pulled: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    quarantined: int = 0
    unreadable: int = 0
    warnings: int = 0
    links: LinkCounts = field(default_factory=LinkCounts)
    problems: list[str] = field(default_factory=list)  # messages naming record and field

    def add(self, other: PageCounts) -> None:
        for name in (
            "pulled",
            "new",
            "changed",
            "unchanged",
            "quarantined",
            "unreadable",
            "warnings",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.links.add(other.links)
        self.problems.extend(other.problems)

    def as_dict(self) -> dict[str, int]:
        out = {
            name: getattr(self, name)
            for name in (
                "pulled",
                "new",
                "changed",
                "unchanged",
                "quarantined",
                "unreadable",
                "warnings",
            )
        }
        out.update({f"link_{k}": v for k, v in self.links.__dict__.items()})
        return out


def issue_dicts(result: Any) -> list[dict[str, str]]:
    return [
        {"severity": i.severity, "pointer": i.pointer, "code": i.code, "message": i.message}
        for i in [*result.errors, *result.warnings]
    ]


def apply_mapping(row: SourceRecordRow, mapping: SourceMapping) -> Any:
    """Map the stored payload; set state, issues and canonical on the row."""
    result = mapping.inbound(row.payload)
    row.issues = issue_dicts(result)
    if result.errors or result.child is None:
        row.state = "quarantined"
        row.canonical = None
    else:
        row.state = "mapped"
        row.canonical = json.loads(result.child.model_dump_json())
    return result


def describe(row: SourceRecordRow, issues: list[dict[str, str]], severity: str) -> list[str]:
    return [
        f"{row.system} record {row.record_id} at {i['pointer'] or '/'}: {i['message']}"
        for i in issues
        if i["severity"] == severity
    ]


def store_page(
    session: Session,
    *,
    source: str,
    page: Page,
    mapping: SourceMapping,
    linker: Linker,
    run_id: int | None,
) -> PageCounts:
    counts = PageCounts(pulled=len(page.records) + len(page.bad))
    now = datetime.now(UTC)
    touched: list[SourceRecordRow] = []
    records = _dedupe_in_page(page.records)
    existing = _existing_rows(session, records)
    for record in records:
        row = existing.get((record.system, record.record_id))
        if row is not None and row.payload_hash == record.payload_hash:
            counts.unchanged += 1
            continue
        if row is None:
            row = SourceRecordRow(
                source=source,
                system=record.system,
                record_id=record.record_id,
                payload=record.payload,
                payload_hash=record.payload_hash,
                state="new",
                issues=[],
                fetched_at=record.fetched_at,
                changed_at=now,
                run_id=run_id,
            )
            session.add(row)
            counts.new += 1
        else:
            row.payload, row.payload_hash = record.payload, record.payload_hash
            row.fetched_at, row.changed_at, row.run_id = record.fetched_at, now, run_id
            counts.changed += 1
        was_mapped = row.state == "mapped"
        apply_mapping(row, mapping)
        counts.warnings += sum(1 for i in row.issues if i["severity"] == "warning")
        if row.state == "quarantined":
            counts.quarantined += 1
            counts.problems.extend(describe(row, row.issues, "error"))
            if was_mapped:
                session.flush()
                link = session.get(LinkRow, row.id)
                if link is not None:
                    session.delete(link)
                linker.forget_records(session, [row.key])
        else:
            touched.append(row)
    for error, raw in page.bad:
        counts.unreadable += 1
        counts.problems.append(str(error))
        _keep_unreadable(session, source, error, raw, run_id, now)
    session.flush()
    counts.links = linker.link(session, touched)
    return counts


def _existing_rows(
    session: Session, records: list[SourceRecord], chunk: int = 500
) -> dict[tuple[str, str], SourceRecordRow]:
    """The stored rows of a page's records, in a few queries rather than one per record."""
    found: dict[tuple[str, str], SourceRecordRow] = {}
    for system in {r.system for r in records}:
        ids = [r.record_id for r in records if r.system == system]
        for start in range(0, len(ids), chunk):
            for row in session.scalars(
                select(SourceRecordRow).where(
                    SourceRecordRow.system == system,
                    SourceRecordRow.record_id.in_(ids[start : start + chunk]),
                )
            ):
                found[(row.system, row.record_id)] = row
    return found


def _dedupe_in_page(records: list[SourceRecord]) -> list[SourceRecord]:
    """OSCaR's feed can list a client twice; keep the last copy of each id."""
    latest: dict[tuple[str, str], SourceRecord] = {}
    for record in records:
        latest[(record.system, record.record_id)] = record
    return list(latest.values())


def _keep_unreadable(
    session: Session, source: str, error: Any, raw: Any, run_id: int | None, now: datetime
) -> None:
    """An entry that is not a record at all is still kept, under a key made from its hash."""
    digest = payload_hash(raw)
    record_id = f"unreadable-{digest[:24]}"
    system = getattr(error, "system", source)
    exists = session.scalars(
        select(SourceRecordRow.id).where(
            SourceRecordRow.system == system, SourceRecordRow.record_id == record_id
        )
    ).first()
    if exists is not None:
        return
    session.add(
        SourceRecordRow(
            source=source,
            system=system,
            record_id=record_id,
            payload=raw,
            payload_hash=digest,
            state="unreadable",
            issues=[
                {
                    "severity": "error",
                    "pointer": getattr(error, "pointer", "/"),
                    "code": "unreadable",
                    "message": getattr(error, "message", str(error)),
                }
            ],
            fetched_at=now,
            changed_at=now,
            run_id=run_id,
        )
    )
