"""Storing one page of source records: raw payload upsert, mapping, quarantine, linking.

A page is one transaction. Storing is idempotent: a record whose payload hash is unchanged
is left alone, so pulling the same window twice changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from adapters.base import RAW_KEY, Page, SourceRecord, payload_hash
from adapters.files import top_level_fields
from bridge.linking import LinkCounts, Linker, LinkItem
from bridge.mapping import SourceMapping
from bridge.mapping.paths import escape_token
from bridge.store.db import JsonText, Store, writes_json_text
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


def storable(payload: Any, text: str | None = None) -> Any:
    """The payload as the database can hold it. JSON columns refuse NaN and Infinity, and
    PostgreSQL refuses a lone surrogate escape; such a payload is kept whole as its JSON text
    (ASCII, escapes intact) under ``RAW_KEY``, and ``stored_payload`` gives it back.
    ``text``: the payload's ``payload_text`` when the caller has it (it decides at once for
    a payload with neither)."""
    if text is not None and "NaN" not in text and "Infinity" not in text:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return payload
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


@dataclass(slots=True)
class Outcome:
    """What mapping one stored payload decided: state, canonical child (and its JSON text,
    for the store) and issues as stored."""

    state: str  # mapped | quarantined
    canonical: dict[str, Any] | None
    canonical_text: str | None
    issues: list[dict[str, str]]


def map_stored(mapping: SourceMapping, stored: Any, text: str | None = None) -> Outcome:
    """Map a payload as stored (``storable``'s result). Never raises: anything that goes
    wrong with one record quarantines that record. ``text``: the payload's JSON text when
    ``stored`` is the payload itself (spares the screen encoding it again)."""
    payload = stored_payload(stored)
    if _still_text(payload):
        return Outcome("quarantined", None, None, _unreadable_issues(payload[RAW_KEY]))
    result = mapping.canonical(payload, text=text if payload is stored else None)
    issues = result.issues
    canonical = result.canonical
    canonical_text = None
    if canonical is not None:
        try:
            canonical_text = json.dumps(canonical, ensure_ascii=False, allow_nan=False)
            canonical_text.encode("utf-8")
        except Exception as exc:  # a value the model let through but JSON cannot hold
            canonical = canonical_text = None
            issues.append(_internal("", "the canonical child cannot be stored", exc))
    if canonical is None:
        return Outcome("quarantined", None, None, issues)
    return Outcome("mapped", canonical, canonical_text, issues)


def apply_mapping(row: SourceRecordRow, mapping: SourceMapping) -> Outcome:
    """Map the stored payload; set state, issues and canonical on the row."""
    outcome = map_stored(mapping, row.payload)
    row.issues, row.state, row.canonical = outcome.issues, outcome.state, outcome.canonical
    return outcome


def _still_text(payload: Any) -> bool:
    return isinstance(payload, dict) and len(payload) == 1 and isinstance(payload.get(RAW_KEY), str)


def _unreadable_issues(text: str) -> list[dict[str, str]]:
    """Issues for a record holding a value no JSON reader here decodes, naming the field."""
    _, fields = top_level_fields(text)
    return [
        {
            "severity": "error",
            "pointer": f"/{escape_token(name)}",
            "code": "unreadable_value",
            "message": "nested too deeply or a number too long to read",
        }
        for name in fields or [""]
    ]


def _internal(pointer: str, what: str, exc: BaseException) -> dict[str, str]:
    """An issue for an unexpected failure: the exception's type only (its text may quote
    the record)."""
    return {
        "severity": "error",
        "pointer": pointer,
        "code": "internal",
        "message": f"{what} ({type(exc).__name__}); the record is kept, please report",
    }


def describe(row: Any, issues: list[dict[str, str]], severity: str) -> list[str]:
    return [
        f"{row.system} record {row.record_id} at {i['pointer'] or '/'}: {i['message']}"
        for i in issues
        if i["severity"] == severity
    ]


class _Stored(NamedTuple):
    id: int
    payload_hash: str
    state: str


def store_page(
    session: Session,
    *,
    source: str,
    page: Page,
    mapping: SourceMapping,
    linker: Linker,
    run_id: int | None,
    defer: bool = False,
) -> PageCounts:
    """Store, map and link one page in the caller's transaction, in a few statements.
    ``defer``: the page's records that are not linked yet wait for the run's backlog pass
    (``Linker.link_backlog``); records already linked are linked again now if they changed."""
    counts = PageCounts(pulled=len(page.records) + len(page.bad))
    now = datetime.now(UTC)
    raw_json = writes_json_text(session)
    records = _dedupe_in_page(page.records)
    existing = _existing_rows(session, records)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    # what to link, in page order: (row id, or -1 - position in ``inserts``; canonical)
    touched: list[tuple[int, dict[str, Any]]] = []
    unlinked: list[tuple[int, str]] = []  # mapped records now quarantined: (row id, key)
    for record in records:
        row = existing.get((record.system, record.record_id))
        if row is not None and row.payload_hash == record.payload_hash:
            counts.unchanged += 1
            continue
        text = record.text or None
        stored = storable(record.payload, text)
        outcome = map_stored(mapping, stored, text if stored is record.payload else None)
        values = {
            "payload": JsonText(text) if raw_json and text and stored is record.payload else stored,
            "payload_hash": record.payload_hash,
            "state": outcome.state,
            "issues": outcome.issues,
            "canonical": (
                JsonText(outcome.canonical_text)
                if raw_json and outcome.canonical_text is not None
                else outcome.canonical
            ),
            "fetched_at": record.fetched_at,
            "changed_at": now,
            "run_id": run_id,
        }
        if row is None:
            values.update(source=source, system=record.system, record_id=record.record_id)
            inserts.append(values)
            counts.new += 1
            at = -len(inserts)
        else:
            values["row_id"] = row.id
            updates.append(values)
            counts.changed += 1
            at = row.id
        counts.warnings += sum(1 for i in outcome.issues if i["severity"] == "warning")
        if outcome.state == "quarantined":
            counts.quarantined += 1
            counts.problems.extend(describe(record, outcome.issues, "error"))
            if row is not None and row.state == "mapped":
                unlinked.append((row.id, f"{record.system}:{record.record_id}"))
        else:
            assert outcome.canonical is not None
            touched.append((at, outcome.canonical))
    for error, raw in page.bad:
        counts.unreadable += 1
        counts.problems.append(str(error))
        _keep_unreadable(session, source, error, raw, run_id, now)
    new_ids = _insert_records(session, inserts)
    _update_records(session, updates)
    if unlinked:
        pks = [pk for pk, _ in unlinked]
        for start in range(0, len(pks), 500):
            session.execute(delete(LinkRow).where(LinkRow.record_pk.in_(pks[start : start + 500])))
        linker.forget_records(session, [key for _, key in unlinked])
    items = [LinkItem(new_ids[-1 - at] if at < 0 else at, c) for at, c in touched]
    if defer:
        linker.load(session)
        items = [i for i in items if _key_of(i.canonical) in linker.persons]
    session.flush()
    counts.links = linker.link(session, items)
    return counts


def _key_of(canonical: dict[str, Any]) -> str:
    return f"{canonical['system']}:{canonical['record_id']}"


def _insert_records(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new source records; their ids, in the order given."""
    if not rows:
        return []
    table = SourceRecordRow.__table__
    result = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [row_id for (row_id,) in result]


def _update_records(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write changed source records (by ``row_id``)."""
    if not rows:
        return
    table = SourceRecordRow.__table__
    names = ("payload", "payload_hash", "state", "issues", "canonical", "fetched_at")
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            **{name: bindparam(f"new_{name}") for name in names},
            changed_at=bindparam("new_changed_at"),
            run_id=bindparam("new_run_id"),
        )
    )
    session.execute(
        statement,
        [
            {
                "row_id": r["row_id"],
                **{f"new_{name}": r[name] for name in (*names, "changed_at", "run_id")},
            }
            for r in rows
        ],
    )
    # the ORM may hold some of these rows from earlier in the transaction
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SourceRecordRow):
            session.expire(obj)


def store_page_by_record(
    store: Store,
    *,
    source: str,
    page: Page,
    mapping: SourceMapping,
    linker: Linker,
    run_id: int | None,
    defer: bool = False,
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
                    store_page(
                        session, source=source, page=one, **_rest(mapping, linker, run_id, defer)
                    )
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
                store_page(
                    session, source=source, page=one, **_rest(mapping, linker, run_id, defer)
                )
            )
    return counts


def _rest(
    mapping: SourceMapping, linker: Linker, run_id: int | None, defer: bool
) -> dict[str, Any]:
    return {"mapping": mapping, "linker": linker, "run_id": run_id, "defer": defer}


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
) -> dict[tuple[str, str], _Stored]:
    """The stored rows of a page's records (id, hash, state), in a few queries rather than
    one per record."""
    found: dict[tuple[str, str], _Stored] = {}
    for system in {r.system for r in records}:
        ids = [r.record_id for r in records if r.system == system]
        for start in range(0, len(ids), chunk):
            for row_id, record_id, digest, state in session.execute(
                select(
                    SourceRecordRow.id,
                    SourceRecordRow.record_id,
                    SourceRecordRow.payload_hash,
                    SourceRecordRow.state,
                ).where(
                    SourceRecordRow.system == system,
                    SourceRecordRow.record_id.in_(ids[start : start + chunk]),
                )
            ):
                found[(system, record_id)] = _Stored(row_id, digest, state)
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
