"""Side-by-side views of a child's records or a review pair, for the authorised person.

This output shows personal data: that is its job. Each view is recorded in the audit trail
(who looked at which child, never what they saw). Agreement marks per field: ``=`` all
recorded values agree, ``~`` they agree loosely (same phonetic key, same birth year), ``x``
they differ, blank when fewer than two records have a value.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.children import members, resolve
from bridge.golden import (
    Conflict,
    Golden,
    conflicts,
    golden_record,
    resolutions,
    resolved_for,
    sources_of,
)
from bridge.helpdesk.audit import record_audit
from bridge.helpdesk.service import HelpdeskError, find_record, require_actor
from bridge.identity import normalise_child_id
from bridge.store.schema import ChildRow, LinkRow, ReviewItemRow, SourceRecordRow

try:  # the matcher's Khmer reading and phonetic keys, when present
    from dedupe.khmer import khmer_to_latin
    from dedupe.phonetic import phonetic_key
except ImportError:  # pragma: no cover - the matcher ships with the bridge
    khmer_to_latin = None  # type: ignore[assignment]
    phonetic_key = None  # type: ignore[assignment]

PROVINCES = Path(__file__).resolve().parents[2] / "mappings" / "vocab" / "provinces.toml"


@lru_cache(maxsize=4)
def province_names(path: Path = PROVINCES) -> dict[str, str]:
    """NCDD province code -> Latin name, from the provinces vocabulary (empty if missing)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    names = {}
    for entry in raw.get("province", []):
        latin = entry.get("latin") or []
        if entry.get("canonical") and latin:
            names[str(entry["canonical"])] = str(latin[0])
    return names


# -- field readers: (label, display value, comparison value) -------------------------------
def _join(*parts: str | None) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _km_name(c: dict[str, Any]) -> str:
    n = c.get("names") or {}
    return _join(n.get("family_km"), n.get("given_km")) or (n.get("full_km") or "")


def _latin_name(c: dict[str, Any]) -> str:
    n = c.get("names") or {}
    return _join(n.get("given"), n.get("family"))


def _read_km(c: dict[str, Any]) -> str:
    text = _km_name(c)
    return khmer_to_latin(text) if text and khmer_to_latin else ""


def _keys(text: str) -> str:
    if not text or phonetic_key is None:
        return ""
    return " ".join(sorted(k for k in (phonetic_key(w) for w in text.split()) if k))


def _birth(c: dict[str, Any]) -> str:
    b = c.get("birth") or {}
    if not b.get("value"):
        return ""
    return f"{b['value']} ({b.get('precision') or 'unknown'})"


def _location(c: dict[str, Any]) -> str:
    loc = c.get("location") or {}
    code = loc.get("code") or ""
    province = loc.get("province_code") or (code[:2] if len(code) >= 2 else "")
    name = province_names().get(province, "")
    return _join(code, f"({name})" if name else (f"(province {province})" if province else ""))


def _caregivers(c: dict[str, Any]) -> str:
    out = []
    for g in c.get("caregivers") or []:
        who = _join(g.get("name"), g.get("name_km"))
        if who:
            out.append(f"{who} ({g['relation']})" if g.get("relation") else who)
    return "; ".join(out)


def _ids(c: dict[str, Any]) -> str:
    ids = c.get("identifiers") or {}
    parts = [
        f"case {ids['primero_case_id_display']}" if ids.get("primero_case_id_display") else "",
        f"oscar {ids['oscar_global_id']}" if ids.get("oscar_global_id") else "",
        f"mosvy {ids['mosvy_number']}" if ids.get("mosvy_number") else "",
    ]
    return _join(*parts)


Reader = Callable[[dict[str, Any]], str]
FIELDS: list[tuple[str, Reader, Reader | None]] = [
    ("name (Latin)", _latin_name, lambda c: _keys(_latin_name(c))),
    ("name (Khmer)", _km_name, None),
    ("Khmer read as Latin", _read_km, lambda c: _keys(_read_km(c))),
    ("phonetic keys", lambda c: _keys(_latin_name(c) or _read_km(c)), None),
    ("nickname", lambda c: (c.get("names") or {}).get("nickname") or "", None),
    ("sex", lambda c: c.get("sex") or "", None),
    ("date of birth", _birth, lambda c: str((c.get("birth") or {}).get("value") or "")[:4]),
    ("age", lambda c: "" if c.get("age") is None else str(c["age"]), None),
    ("location", _location, lambda c: ((c.get("location") or {}).get("code") or "")[:2]),
    ("caregivers", _caregivers, None),
    ("organisation", lambda c: c.get("organisation") or "", None),
    ("other system ids", _ids, None),
]


def _agreement(values: list[str], loose: list[str] | None) -> str:
    present = [v.casefold() for v in values if v]
    if len(present) < 2:
        return " "
    if len(set(present)) == 1:
        return "="
    if loose is not None:
        keys = [k for k, v in zip(loose, values, strict=True) if v]
        if all(keys) and len(set(keys)) == 1:
            return "~"
    return "x"


@dataclass
class Column:
    key: str
    child_id: str | None
    method: str | None
    canonical: dict[str, Any]
    state: str


def _column(session: Session, row: SourceRecordRow) -> Column:
    link = session.get(LinkRow, row.id)
    return Column(
        key=row.key,
        child_id=link.child_id if link else None,
        method=link.method if link else None,
        canonical=dict(row.canonical or {}),
        state=row.state,
    )


# fields that differ between systems by nature: no agreement mark
UNMARKED = {"organisation", "other system ids"}


def side_by_side(columns: list[Column], width: int | None = None) -> list[str]:
    """A text table: one row per field, one column per record, agreement mark first."""
    label_w = max(len(label) for label, _, _ in FIELDS) + 2
    width = width or min(48, max([30, *(len(c.key) for c in columns)]))

    def line(mark: str, label: str, cells: list[str]) -> str:
        parts = [(c if len(c) <= width else c[: width - 1] + "…").ljust(width) for c in cells]
        return f"{mark} {label.ljust(label_w)}" + " | ".join(parts).rstrip()

    out = [
        line(" ", "record", [c.key for c in columns]),
        line(
            " ", "child / link", [f"{c.child_id or '-'} ({c.method or c.state})" for c in columns]
        ),
    ]
    for label, read, loose in FIELDS:
        values = [read(c.canonical) for c in columns]
        keys = [loose(c.canonical) for c in columns] if loose else None
        mark = " " if label in UNMARKED else _agreement(values, keys)
        out.append(line(mark, label, values))
    return out


@dataclass
class ChildView:
    asked_for: str
    child_id: str
    state: str
    aliases: list[str]
    columns: list[Column] = field(default_factory=list)
    golden: Golden | None = None
    conflicts: list[Conflict] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = f"child {self.child_id} ({self.state}, {len(self.columns)} record(s))"
        if self.asked_for != self.child_id:
            head += f"; {self.asked_for} is an alias of {self.child_id}"
        out = [head]
        if self.aliases:
            out.append(f"aliases: {', '.join(self.aliases)}")
        if not self.columns:
            return out
        out += side_by_side(self.columns)
        if self.golden is not None and self.golden.fields:
            out.append("golden record (value, from record, by rule):")
            width = max(len(name) for name in self.golden.fields) + 2
            for name, chosen in self.golden.fields.items():
                value = shown_value(chosen.value)
                out.append(f"  {name.ljust(width)}{value}  [{chosen.record}, {chosen.rule}]")
        for conflict in self.conflicts:
            values = ", ".join(f"{k}: {v}" for k, v in conflict.values.items())
            out.append(f"conflict: {conflict.field}: {conflict.why} ({values})")
        return out


def shown_value(value: Any) -> str:
    if isinstance(value, dict) and "value" in value:
        return f"{value['value']} ({value.get('precision') or 'unknown'})"
    if isinstance(value, list):
        return "; ".join(shown_value(v) for v in value)
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values() if v)
    return str(value)


def show_child(session: Session, child_id: str, *, by: str | None) -> ChildView:
    """A child's records side by side; the view is audited (who looked, not what they saw)."""
    by = require_actor(by)
    row = resolve(session, child_id)
    if row is None:
        raise HelpdeskError(f"no child {normalise_child_id(child_id)}")
    aliases = sorted(
        session.scalars(select(ChildRow.child_id).where(ChildRow.merged_into == row.child_id))
    )
    view = ChildView(normalise_child_id(child_id), row.child_id, row.state, aliases)
    rows = members(session, row.child_id)
    view.columns = [_column(session, r) for r in rows]
    sources = sources_of(rows)
    answered = resolved_for(resolutions(session), sources)
    view.golden = golden_record(row.child_id, sources, resolved=answered)
    view.conflicts = conflicts(row.child_id, sources, answered)
    record_audit(
        session,
        actor=by,
        action="view_child",
        child_id=row.child_id,
        details={"asked_for": view.asked_for, "records": [c.key for c in view.columns]},
    )
    return view


@dataclass
class ReviewView:
    item_id: int
    state: str
    score: float
    evidence: list[dict[str, Any]]
    columns: list[Column]

    def lines(self) -> list[str]:
        out = [f"review item {self.item_id} ({self.state}), match probability {self.score:.4f}"]
        out += side_by_side(self.columns)
        out.append("evidence (comparison: level, weight):")
        for e in self.evidence:
            weight = e.get("weight")
            shown = f"{weight:+.3f}" if isinstance(weight, int | float) else "-"
            out.append(f"  {e.get('comparison')}: {e.get('level')}, {shown}")
        return out


def show_review(session: Session, review_id: int, *, by: str | None) -> ReviewView:
    by = require_actor(by)
    item = session.get(ReviewItemRow, review_id)
    if item is None:
        raise HelpdeskError(f"no review item {review_id}")
    rows = [find_record(session, k) for k in (item.key_a, item.key_b)]
    columns = [_column(session, r) for r in rows if r is not None]
    for child_id in dict.fromkeys(c.child_id for c in columns):
        record_audit(
            session,
            actor=by,
            action="view_review",
            child_id=child_id,
            details={"review": item.id, "records": [item.key_a, item.key_b]},
        )
    return ReviewView(item.id, item.state, item.score, list(item.evidence or []), columns)
