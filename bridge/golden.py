"""The golden record of a child: one value per canonical field, chosen from its linked
records by the survivorship rules in ``mappings/golden.toml``, each with its provenance
(the record it came from, the rule that chose it). And the conflicts: linked records that
disagree beyond a variant (sex, dates of birth beyond a typing slip, a case closed in one
system and active in another), listed for the helpdesk rather than resolved silently.

Pure functions over the records' canonical forms; built when asked for, so always from the
records as they are now.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from adapters.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[1] / "mappings" / "golden.toml"
PRECISION_RANK = {"exact": 3, "year": 2, "estimated": 1}
KHMER = range(0x1780, 0x1800)
RULES = ("precise_birth", "khmer_script", "agreed", "recent")
CLOSED = frozenset({"closed", "exited", "duplicate"})
ACTIVE = frozenset({"open", "active", "accepted", "referred", "identified"})


@dataclass(frozen=True)
class Source:
    """One linked record, as survivorship sees it."""

    key: str  # system:record_id
    system: str
    changed_at: datetime
    canonical: dict[str, Any]


@dataclass(frozen=True)
class Chosen:
    value: Any
    record: str
    rule: str  # the rule that chose it ("only value" when one record had one)


@dataclass
class Golden:
    child_id: str
    fields: dict[str, Chosen] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "child_id": self.child_id,
            "fields": {
                name: {"value": c.value, "record": c.record, "rule": c.rule}
                for name, c in self.fields.items()
            },
        }


@dataclass(frozen=True)
class Conflict:
    child_id: str
    field: str  # sex | birth | status
    values: dict[str, str]  # record key -> its value
    why: str


@cache
def load_rules(path: Path = SHIPPED) -> dict[str, tuple[str, ...]]:
    """Field -> rules, read and checked (an unknown rule names its field and the file)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    out: dict[str, tuple[str, ...]] = {}
    for name, rules in (raw.get("fields") or {}).items():
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise ConfigError(f"{path}: fields.{name} must be a list of rule names")
        for rule in rules:
            if rule not in RULES and not rule.startswith("source:"):
                raise ConfigError(
                    f"{path}: fields.{name}: unknown rule {rule!r} (use {', '.join(RULES)} "
                    "or source:SYSTEM)"
                )
        out[str(name)] = tuple(rules)
    return out


def value_at(canonical: dict[str, Any], name: str) -> Any:
    """A canonical field by its dotted path; None, "" and [] are no value."""
    if name == "birth":
        birth = canonical.get("birth") or {}
        return birth if birth.get("value") else None
    value: Any = canonical
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if value not in (None, "", [], {}) else None


def _has_khmer(value: Any) -> bool:
    return isinstance(value, str) and any(ord(ch) in KHMER for ch in value)


def _keep_best(holders: list[tuple[Source, Any]], score: Any) -> list[tuple[Source, Any]]:
    best = max(score(s, v) for s, v in holders)
    return [(s, v) for s, v in holders if score(s, v) == best]


def _narrow(rule: str, holders: list[tuple[Source, Any]]) -> list[tuple[Source, Any]]:
    if rule == "precise_birth":
        return _keep_best(holders, lambda _s, v: PRECISION_RANK.get(str(v.get("precision")), 0))
    if rule == "khmer_script":
        return _keep_best(holders, lambda _s, v: _has_khmer(v))
    if rule == "agreed":
        counts = Counter(repr(v) for _, v in holders)
        return _keep_best(holders, lambda _s, v: counts[repr(v)])
    if rule == "recent":
        return _keep_best(holders, lambda s, _v: s.changed_at)
    if rule.startswith("source:"):
        return _keep_best(holders, lambda s, _v: s.system == rule.removeprefix("source:"))
    return holders


def choose(name: str, rules: tuple[str, ...], sources: list[Source]) -> Chosen | None:
    holders = [(s, v) for s in sources if (v := value_at(s.canonical, name)) is not None]
    if not holders:
        return None
    if len(holders) == 1:
        return Chosen(holders[0][1], holders[0][0].key, "only value")

    def values(pairs: list[tuple[Source, Any]]) -> int:
        return len({repr(v) for _, v in pairs})

    deciding = "recent" if values(holders) > 1 else "agreed"
    for rule in rules:
        narrowed = _narrow(rule, holders)
        if values(narrowed) < values(holders):
            deciding = rule  # the rule that narrowed the values (not only the records)
        holders = narrowed
        if len(holders) == 1:
            break
    holders.sort(key=lambda sv: (sv[0].changed_at, sv[0].key), reverse=True)
    return Chosen(holders[0][1], holders[0][0].key, deciding)


@dataclass(frozen=True)
class Resolved:
    """The helpdesk's answer to a conflict: ``record`` is right for ``field``; ``records``
    are the records that disagreed when it was answered."""

    field: str
    record: str
    records: frozenset[str]


def golden_record(
    child_id: str,
    sources: list[Source],
    rules: dict[str, tuple[str, ...]] | None = None,
    resolved: dict[str, Resolved] | None = None,
) -> Golden:
    rules = load_rules() if rules is None else rules
    golden = Golden(child_id)
    by_key = {s.key: s for s in sources}
    for name, order in rules.items():
        answer = (resolved or {}).get(name)
        right = by_key.get(answer.record) if answer is not None else None
        value = value_at(right.canonical, name) if right is not None else None
        if right is not None and value is not None:
            golden.fields[name] = Chosen(value, right.key, "helpdesk")
            continue
        chosen = choose(name, order, sources)
        if chosen is not None:
            golden.fields[name] = chosen
    return golden


# -- conflicts -----------------------------------------------------------------------------
def _birth_date(canonical: dict[str, Any]) -> tuple[date | None, str]:
    birth = canonical.get("birth") or {}
    value = birth.get("value")
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return None, ""
    return (day if value else None), str(birth.get("precision") or "")


def _typo(a: date, b: date) -> bool:
    """Dates a typing slip apart: day and month swapped, one digit of the day, month or
    year off, or a day apart."""
    if (a.year, a.month, a.day) == (b.year, b.day, b.month):
        return True
    same = [a.year == b.year, a.month == b.month, a.day == b.day]
    if sum(same) == 2:
        x, y = ((a.year, b.year), (a.month, b.month), (a.day, b.day))[same.index(False)]
        if x // 10 == y // 10 or x % 10 == y % 10:
            return True
    return abs((a - b).days) <= 1


def conflicts(
    child_id: str, sources: list[Source], resolved: dict[str, Resolved] | None = None
) -> list[Conflict]:
    """The conflicts among ``sources``, less those the helpdesk answered for the same
    records (a record added to the disagreement brings the conflict back)."""
    found = _conflicts(child_id, sources)
    answered = resolved or {}
    return [
        c
        for c in found
        if c.field not in answered or set(c.values) != set(answered[c.field].records)
    ]


def _conflicts(child_id: str, sources: list[Source]) -> list[Conflict]:
    out = []
    sexes = {s.key: str(s.canonical.get("sex")) for s in sources if s.canonical.get("sex")}
    if len(set(sexes.values())) > 1:
        out.append(Conflict(child_id, "sex", sexes, "the records give different sexes"))
    exact = {s.key: d for s in sources for d, p in [_birth_date(s.canonical)] if d and p == "exact"}
    keys = sorted(exact)
    far = [
        (a, b) for i, a in enumerate(keys) for b in keys[i + 1 :] if not _typo(exact[a], exact[b])
    ]
    if far:
        out.append(
            Conflict(
                child_id, "birth", {k: exact[k].isoformat() for k in keys},
                "exact dates of birth further apart than a typing slip",
            )
        )  # fmt: skip
    statuses = {s.key: str(s.canonical.get("status") or "") for s in sources}
    closed = {k for k, v in statuses.items() if v in CLOSED}
    active = {k for k, v in statuses.items() if v in ACTIVE}
    if closed and active:
        out.append(
            Conflict(
                child_id, "status", {k: statuses[k] for k in sorted(closed | active)},
                "closed in one record and active in another",
            )
        )  # fmt: skip
    return out


# -- from the store ------------------------------------------------------------------------
def sources_of(rows: list[Any]) -> list[Source]:
    """Sources from stored records (``SourceRecordRow``), those with a canonical form."""
    out = []
    for row in rows:
        if row.canonical:
            changed = (
                row.changed_at if row.changed_at.tzinfo else row.changed_at.replace(tzinfo=UTC)
            )
            out.append(Source(row.key, row.system, changed, dict(row.canonical)))
    return out


def resolutions(session: Any) -> dict[str, list[Resolved]]:
    """Every helpdesk answer, by the record it names (answers follow records, not child
    ids, so they hold across a relink)."""
    from sqlalchemy import select

    from bridge.store.schema import ConflictResolutionRow

    out: dict[str, list[Resolved]] = {}
    for row in session.scalars(select(ConflictResolutionRow)):
        answer = Resolved(row.field, row.record_key, frozenset(row.records or []))
        out.setdefault(row.record_key, []).append(answer)
    return out


def resolved_for(answers: dict[str, list[Resolved]], sources: list[Source]) -> dict[str, Resolved]:
    return {a.field: a for s in sources for a in answers.get(s.key, ())}


def golden_of(session: Any, child_id: str) -> tuple[Golden, list[Conflict]]:
    from bridge.children import members

    sources = sources_of(members(session, child_id))
    answered = resolved_for(resolutions(session), sources)
    return (
        golden_record(child_id, sources, resolved=answered),
        conflicts(child_id, sources, answered),
    )


def resolve_conflict(
    session: Any, child_id: str, field_name: str, record: str, *, by: str | None,
    reason: str | None,
) -> Resolved:  # fmt: skip
    """The helpdesk says which record is right for a conflicting field; audited, sticky."""
    from sqlalchemy import delete

    from bridge.children import members, resolve
    from bridge.helpdesk.audit import record_audit
    from bridge.helpdesk.service import HelpdeskError, require_attribution
    from bridge.store.schema import ConflictResolutionRow

    by, reason = require_attribution(by, reason)
    child = resolve(session, child_id)
    if child is None:
        raise HelpdeskError(f"no child {child_id}")
    sources = sources_of(members(session, child.child_id))
    found = {c.field: c for c in _conflicts(child.child_id, sources)}
    if field_name not in found:
        fields = ", ".join(sorted(found)) or "none"
        raise HelpdeskError(
            f"child {child.child_id} has no {field_name} conflict (conflicts: {fields})"
        )
    conflict = found[field_name]
    if record not in conflict.values:
        raise HelpdeskError(
            f"record {record} is not one of the conflicting records "
            f"({', '.join(sorted(conflict.values))})"
        )
    keys = [s.key for s in sources]
    session.execute(
        delete(ConflictResolutionRow).where(
            ConflictResolutionRow.field == field_name,
            ConflictResolutionRow.record_key.in_(keys),
        )
    )
    session.add(
        ConflictResolutionRow(
            child_id=child.child_id, field=field_name, record_key=record,
            records=sorted(conflict.values), decided_by=by, reason=reason,
        )
    )  # fmt: skip
    record_audit(
        session, actor=by, action="resolve_conflict", child_id=child.child_id, reason=reason,
        details={"field": field_name, "record": record, "records": sorted(conflict.values)},
    )  # fmt: skip
    return Resolved(field_name, record, frozenset(conflict.values))


def every_child(session: Any) -> Iterator[tuple[str, list[Source]]]:
    """Every linked child with its sources, in child id order (one pass over the links)."""
    from sqlalchemy import select

    from bridge.store.schema import LinkRow, SourceRecordRow

    rows = session.execute(
        select(LinkRow.child_id, SourceRecordRow)
        .join(SourceRecordRow, SourceRecordRow.id == LinkRow.record_pk)
        .order_by(LinkRow.child_id, SourceRecordRow.id)
    )
    current: str | None = None
    batch: list[Any] = []
    for child_id, record in rows:
        if child_id != current and current is not None:
            yield current, sources_of(batch)
            batch = []
        current = child_id
        batch.append(record)
    if current is not None:
        yield current, sources_of(batch)
