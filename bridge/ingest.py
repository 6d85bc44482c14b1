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

from adapters.base import RAW_KEY, Page, SourceRecord, payload_hash
from adapters.files import top_level_fields
from bridge.linking import LinkCounts, Linker
from bridge.mapping import SourceMapping
from bridge.mapping.paths import escape_token
from bridge.store.db import Store
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


def storable(payload: Any) -> Any:
    """The payload as the database can hold it. JSON columns refuse NaN and Infinity, and
    PostgreSQL refuses a lone surrogate escape; such a payload is kept whole as its JSON text
    (ASCII, escapes intact) under ``RAW_KEY``, and ``stored_payload`` gives it back."""
    try:
        json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, TypeError, RecursionError):
        return {RAW_KEY: json.dumps(payload, ensure_ascii=True, allow_nan=True)}
    return payload


def stored_payload(stored: Any) -> Any:
    """The payload a source sent, from what ``storable`` made of it."""
    if isinstance(stored, dict) and len(stored) == 1 and isinstance(stored.get(RAW_KEY), str):
        try:
            return json.loads(stored[RAW_KEY])
        except (ValueError, RecursionError):
            return stored  # not JSON at all (an unreadable entry's text): screened as it is
    return stored


def apply_mapping(row: SourceRecordRow, mapping: SourceMapping) -> Any:
    """Map the stored payload; set state, issues and canonical on the row. Never raises:
    anything that goes wrong with one record quarantines that record."""
    payload = stored_payload(row.payload)
    if _still_text(payload):
        return _unreadable_values(row, payload[RAW_KEY])
    result = mapping.inbound(payload)
    row.issues = issue_dicts(result)
    canonical = None
    if not result.errors and result.child is not None:
        try:
            canonical = result.child.model_dump(mode="json")
            json.dumps(canonical, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except Exception as exc:  # a value the model let through but JSON cannot hold
            canonical = None
            row.issues.append(_internal("", "the canonical child cannot be stored", exc))
    if canonical is None:
        row.state = "quarantined"
        row.canonical = None
    else:
        row.state = "mapped"
        row.canonical = canonical
    return result


def _still_text(payload: Any) -> bool:
    return isinstance(payload, dict) and len(payload) == 1 and isinstance(payload.get(RAW_KEY), str)


def _unreadable_values(row: SourceRecordRow, text: str) -> None:
    """Quarantine a record holding a value no JSON reader here decodes, naming the field."""
    _, fields = top_level_fields(text)
    row.issues = [
        {
            "severity": "error",
            "pointer": f"/{escape_token(name)}",
            "code": "unreadable_value",
            "message": "nested too deeply or a number too long to read",
        }
        for name in fields or [""]
    ]
    row.state, row.canonical = "quarantined", None


def _internal(pointer: str, what: str, exc: BaseException) -> dict[str, str]:
    """An issue for an unexpected failure: the exception's type only (its text may quote
    the record)."""
    return {
        "severity": "error",
        "pointer": pointer,
        "code": "internal",
        "message": f"{what} ({type(exc).__name__}); the record is kept, please report",
    }


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
        row = _store_record(session, record, row, source, run_id, now, counts)
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


def _store_record(
    session: Session,
    record: SourceRecord,
    row: SourceRecordRow | None,
    source: str,
    run_id: int | None,
    now: datetime,
    counts: PageCounts,
) -> SourceRecordRow:
    if row is None:
        row = SourceRecordRow(
            source=source,
            system=record.system,
            record_id=record.record_id,
            payload=storable(record.payload),
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
        row.payload, row.payload_hash = storable(record.payload), record.payload_hash
        row.fetched_at, row.changed_at, row.run_id = record.fetched_at, now, run_id
        counts.changed += 1
    return row


def store_page_by_record(
    store: Store,
    *,
    source: str,
    page: Page,
    mapping: SourceMapping,
    linker: Linker,
    run_id: int | None,
) -> PageCounts:
    """A page that failed as one transaction, stored one record per transaction: the record
    that fails again is kept quarantined with the failure's kind, the others are stored.
    Raises only when even the quarantine cannot be written (the database is gone)."""
    counts = PageCounts()
    for record in _dedupe_in_page(page.records):
        one = Page(records=[record], number=page.number)
        try:
            with store.session() as session:
                counts.add(
                    store_page(session, source=source, page=one, **_rest(mapping, linker, run_id))
                )
        except Exception as exc:
            linker.reset()  # its index may hold what the rolled-back transaction added
            with store.session() as session:
                _keep_failed(session, source, record, exc, run_id)
            counts.pulled += 1
            counts.quarantined += 1
            counts.problems.append(
                f"{record.system} record {record.record_id}: could not be stored "
                f"({type(exc).__name__}); kept quarantined"
            )
    for bad in page.bad:
        with store.session() as session:
            one = Page(records=[], bad=[bad], number=page.number)
            counts.add(
                store_page(session, source=source, page=one, **_rest(mapping, linker, run_id))
            )
    return counts


def _rest(mapping: SourceMapping, linker: Linker, run_id: int | None) -> dict[str, Any]:
    return {"mapping": mapping, "linker": linker, "run_id": run_id}


def _keep_failed(
    session: Session, source: str, record: SourceRecord, exc: BaseException, run_id: int | None
) -> None:
    """Keep a record whose storing failed, quarantined, its payload as JSON text."""
    now = datetime.now(UTC)
    text = json.dumps(record.payload, ensure_ascii=True, allow_nan=True)
    row = session.scalars(
        select(SourceRecordRow).where(
            SourceRecordRow.system == record.system,
            SourceRecordRow.record_id == record.record_id,
        )
    ).first()
    if row is None:
        row = SourceRecordRow(source=source, system=record.system, record_id=record.record_id)
        session.add(row)
    elif row.state == "mapped":
        link = session.get(LinkRow, row.id)
        if link is not None:
            session.delete(link)
    row.payload, row.payload_hash = {RAW_KEY: text}, record.payload_hash
    row.state, row.canonical = "quarantined", None
    row.issues = [_internal("", "the record could not be stored", exc)]
    row.fetched_at, row.changed_at, row.run_id = record.fetched_at, now, run_id


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
            payload=storable(raw),
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
