"""The figures of `bridge report`: unique children (child ids), never registrations, unless
a table says so.

A child is counted from its records held on the as-of date (first stored by then), as they
are linked now. Its attributes are read across its records: the most common province and sex
(ties go to the government's record), the most precise date of birth, a disability or a
service or concern if any record has one, the systems and organisations that know it. Ages
are taken at the as-of date; a date of birth known only by its year, or estimated, counts by
its year. Everything is counts: no name, date or id of a child leaves this module.
"""

from __future__ import annotations

import hashlib
import statistics
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

AGE_BANDS = (("0-4", 0, 4), ("5-9", 5, 9), ("10-14", 10, 14), ("15-17", 15, 17), ("18+", 18, 200))
PRECISION_RANK = {"exact": 3, "year": 2, "estimated": 1, "unknown": 0}
SYSTEM_ORDER = {"primero": 0, "oscar": 1}
UNKNOWN = "unknown"
MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@dataclass
class Row:
    key: str  # a stable key: a province code, "female", "10-14", ...
    values: dict[str, int | None]  # column -> count (None: not recorded)


@dataclass
class Table:
    key: str  # e.g. "by_province"
    columns: list[str]
    rows: list[Row]
    # the rows split the table's total (each child in exactly one row): complementary
    # suppression then keeps a suppressed cell from being recovered from the total
    partition: bool = True
    total: dict[str, int] | None = None  # the column totals published beside the table
    derived: dict[str, tuple[str, str]] = field(default_factory=dict)  # col -> (a, b): a - b
    scaled: dict[str, str] = field(default_factory=dict)  # col -> the column it scales


@dataclass
class Report:
    as_of: date
    runs: list[int]  # ids of the runs finished by the as-of date (the store reflects them)
    mapping_version: str
    national: dict[str, Any]
    tables: list[Table]
    threshold: int = 0  # 0: not suppressed yet

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


@dataclass
class _Child:
    records: list[dict[str, Any]] = field(default_factory=list)


def mapping_version(directory: Path = MAPPINGS) -> str:
    """A short hash of every mapping file: the same mappings give the same version."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.toml")):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def care_rules(directory: Path = MAPPINGS) -> dict[str, dict[str, list[str]]]:
    path = directory / "report.toml"
    if not path.is_file():
        return {}
    return dict(tomllib.loads(path.read_text(encoding="utf-8")).get("care", {}))


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _most_common(values: list[tuple[int, str]]) -> str:
    """The most common value; ties go to the first system (Primero), then the first seen."""
    if not values:
        return UNKNOWN
    if len(values) == 1:
        return values[0][1]
    counts = Counter(v for _, v in values)
    best = max(counts.values())
    return min((order, i, v) for i, (order, v) in enumerate(values) if counts[v] == best)[2]


def _age(birth: dict[str, Any] | None, as_of: date) -> int | None:
    if not birth or not birth.get("value"):
        return None
    try:
        born = date.fromisoformat(str(birth["value"])[:10])
    except ValueError:
        return None
    if birth.get("precision") in ("year", "estimated"):
        return as_of.year - born.year
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return UNKNOWN
    return next(name for name, low, high in AGE_BANDS if low <= age <= high)


def default_as_of(session: Session) -> date:
    """The day of the store's newest run or record, whichever is later (so the same store
    gives the same report)."""
    from sqlalchemy import func

    from bridge.store.schema import SourceRecordRow, SyncRunRow

    moments = [
        session.scalar(select(func.max(SyncRunRow.finished_at))),
        session.scalar(select(func.max(SourceRecordRow.fetched_at))),
    ]
    found = [_aware(m) for m in moments if m is not None]
    return max(found).date() if found else date(1970, 1, 1)


def _children(session: Session, until: datetime) -> dict[str, _Child]:
    """Each child's records held by ``until``: only the fields the report reads, taken out of
    the JSON by the database (much less to decode than whole records)."""
    from bridge.store.schema import LinkRow, SourceRecordRow

    c = SourceRecordRow.canonical
    children: dict[str, _Child] = defaultdict(_Child)
    rows = session.execute(
        select(
            SourceRecordRow.system,
            c["sex"].as_string(),
            c[("birth", "value")].as_string(),
            c[("birth", "precision")].as_string(),
            c[("location", "province_code")].as_string(),
            c[("location", "code")].as_string(),
            c["organisation"].as_string(),
            c["disability"],
            c["protection_concerns"],
            c["services"],
            SourceRecordRow.fetched_at,
            LinkRow.child_id,
        )
        .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
        .where(SourceRecordRow.state == "mapped")
        .order_by(SourceRecordRow.system, SourceRecordRow.record_id)
        .execution_options(yield_per=5000)
    )
    for (system, sex, born, precision, province, code, organisation, disability, concerns,
         services, fetched_at, child_id) in rows:  # fmt: skip
        if fetched_at is not None and _aware(fetched_at) > until:
            continue
        children[child_id].records.append(
            {
                "system": system,
                "sex": sex,
                "birth": {"value": born, "precision": precision or UNKNOWN},
                "location": {"province_code": province, "code": code},
                "organisation": organisation,
                "disability": disability or [],
                "protection_concerns": concerns or [],
                "services": services or [],
            }
        )
    return children


def _province(record: dict[str, Any]) -> str | None:
    location = record.get("location") or {}
    code = location.get("province_code") or (location.get("code") or "")[:2]
    return code or None


def _describe(child: _Child, as_of: date, care: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    records = sorted(child.records, key=lambda r: SYSTEM_ORDER.get(r["system"], 9))
    order = [SYSTEM_ORDER.get(r["system"], 9) for r in records]
    provinces = [(o, p) for o, r in zip(order, records, strict=True) if (p := _province(r))]
    sexes = [
        (o, s) for o, r in zip(order, records, strict=True) if (s := r.get("sex")) and s != UNKNOWN
    ]
    births = [r.get("birth") or {} for r in records]
    best = max(births, key=lambda b: PRECISION_RANK.get(b.get("precision", UNKNOWN), 0))
    systems = {r["system"] for r in records}
    ngos = {
        r.get("organisation") for r in records if r["system"] == "oscar" and r.get("organisation")
    }
    services = [s for r in records for s in r.get("services") or []]
    service_types = {s.get("service_type") for s in services if s.get("service_type")}
    responses = {s.get("response_type") for s in services if s.get("response_type")}
    concerns = {c for r in records for c in r.get("protection_concerns") or []}
    in_care = {
        name: bool(set(rule.get("services", [])) & service_types)
        or bool(set(rule.get("response_types", [])) & responses)
        or bool(set(rule.get("concerns", [])) & concerns)
        for name, rule in care.items()
    }
    return {
        "province": _most_common(provinces),
        "sex": _most_common(sexes),
        "age_band": age_band(_age(best, as_of)),
        "disability": "with" if any(r.get("disability") for r in records) else "none_recorded",
        "systems": "both" if len(systems) > 1 else f"{next(iter(systems))}_only",
        "organisations": {r.get("organisation") or UNKNOWN for r in records},
        "ngos": len(ngos),
        "concerns": concerns,
        "services": service_types,
        "care": in_care,
        "registrations": len(records),
    }


def _partition(key: str, counted: Counter[str], order: list[str]) -> Table:
    keys = [k for k in order if k in counted or k != UNKNOWN] + sorted(
        k for k in counted if k not in order
    )
    rows = [Row(k, {"children": counted.get(k, 0)}) for k in keys]
    return Table(key, ["children"], rows, total={"children": sum(counted.values())})


def _multi(key: str, counted: Counter[str]) -> Table:
    rows = [
        Row(k, {"children": n}) for k, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return Table(key, ["children"], rows, partition=False)


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _helpdesk(session: Session, until: datetime, as_of: date) -> Table:
    from bridge.store.schema import POSSIBLE, ReviewItemRow

    found = resolved = superseded = 0
    waiting: Counter[str] = Counter()
    for state, created in session.execute(
        select(ReviewItemRow.state, ReviewItemRow.created_at).where(ReviewItemRow.kind == POSSIBLE)
    ):
        if _aware(created) > until:
            continue
        found += 1
        if state == "open":
            days = (as_of - _aware(created).date()).days
            waiting["waiting_under_7_days" if days < 7 else "waiting_7_to_30_days" if days <= 30
                    else "waiting_over_30_days"] += 1  # fmt: skip
        elif state == "resolved":
            resolved += 1
        else:
            superseded += 1  # the engine's own later linking answered it (stale)
    rows = [
        Row("found", {"items": found}),
        Row("resolved", {"items": resolved}),
        Row("superseded", {"items": superseded}),
    ]
    rows += [Row(k, {"items": waiting.get(k, 0)}) for k in
             ("waiting_under_7_days", "waiting_7_to_30_days", "waiting_over_30_days")]  # fmt: skip
    return Table("helpdesk", ["items"], rows, partition=False)


def _referrals(session: Session, until: datetime) -> list[Table]:
    from bridge.referrals.tables import DECISION, REFERRAL, OutboxRow

    rows = [
        r
        for r in session.scalars(select(OutboxRow).where(OutboxRow.kind.in_((REFERRAL, DECISION))))
        if _aware(r.created_at) <= until
    ]
    referrals = [r for r in rows if r.kind == REFERRAL]
    decided_at = {
        r.parent_id: _aware(r.created_at) for r in rows if r.kind == DECISION and r.parent_id
    }
    direction = Counter(
        f"{r.source_system}_to_{r.destination_system or UNKNOWN}" for r in referrals
    )
    state = Counter(r.state for r in referrals)
    org = Counter(r.destination_org or UNKNOWN for r in referrals)
    service = Counter(
        str((r.request or {}).get("referral", {}).get("service") or UNKNOWN) for r in referrals
    )
    hours = [
        (decided_at[r.id] - _aware(r.created_at)).total_seconds() / 3600
        for r in referrals
        if r.id in decided_at
    ]
    timing = Table(
        "referral_decision_hours",
        ["hours"],
        [
            Row("decided", {"hours": len(hours)}),
            Row("median", {"hours": None if not hours else round(statistics.median(hours))}),
            Row("p90", {"hours": None if not hours else round(_percentile(hours, 0.9) or 0)}),
        ],
        partition=False,
    )
    tables = [
        _partition("referrals_by_direction", direction, sorted(direction)),
        _partition("referrals_by_state", state, sorted(state)),
        _partition("referrals_by_destination", org, sorted(org)),
        _partition("referrals_by_service", service, sorted(service)),
    ]
    for t in tables:
        t.columns = ["referrals"]
        for row in t.rows:
            row.values = {"referrals": row.values["children"]}
        t.total = {"referrals": len(referrals)}
    return [*tables, timing]


def build_report(
    session: Session,
    *,
    as_of: date | None = None,
    mappings: Path = MAPPINGS,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Every figure of the report, before suppression."""
    from bridge.estimates import latest
    from bridge.places import places
    from bridge.store.schema import SyncRunRow

    day = as_of or default_as_of(session)
    until = _end_of(day)
    care = care_rules(mappings)
    children = _children(session, until)
    if progress:
        progress(f"report: {sum(len(c.records) for c in children.values())} records read")
    described = [_describe(c, day, care) for c in children.values()]
    if progress:
        progress(f"report: {len(described)} children counted")
    registrations = sum(d["registrations"] for d in described)
    estimates = latest(session) or {}
    linked = len(described)
    ratio = (
        (estimates["unique_children"] / linked)
        if linked and estimates.get("unique_children")
        else None
    )

    province_codes = [p.code for p in places().values() if p.level == "province"]
    by_province = Counter(d["province"] for d in described)
    province = _partition("by_province", by_province, [*province_codes, UNKNOWN])
    reg = Counter()
    for d in described:
        reg[d["province"]] += d["registrations"]
    province.columns = ["children", "registrations", "duplicate_registrations"]
    province.derived = {"duplicate_registrations": ("registrations", "children")}
    for row in province.rows:
        n = row.values["children"] or 0
        row.values["registrations"] = reg.get(row.key, 0)
        row.values["duplicate_registrations"] = reg.get(row.key, 0) - n
    province.total = {"children": linked, "registrations": registrations,
                      "duplicate_registrations": registrations - linked}  # fmt: skip
    if ratio is not None:
        province.columns.append("estimated_children")
        province.scaled = {"estimated_children": "children"}
        for row in province.rows:
            row.values["estimated_children"] = round((row.values["children"] or 0) * ratio)
        province.total["estimated_children"] = round(estimates["unique_children"])

    ngo_count = Counter(
        "known_to_one_ngo" if d["ngos"] == 1 else "known_to_several_ngos" if d["ngos"] > 1
        else "known_to_no_ngo" for d in described
    )  # fmt: skip
    organisations: Counter[str] = Counter()
    concerns: Counter[str] = Counter()
    services: Counter[str] = Counter()
    for d in described:
        organisations.update(d["organisations"])
        concerns.update(d["concerns"])
        services.update(d["services"])
    care_rows = [
        Row(name, {"children": sum(1 for d in described if d["care"].get(name))}) for name in care
    ]
    if "case_plan" not in care:
        care_rows.append(Row("case_plan", {"children": None}))
    tables = [
        province,
        _partition(
            "by_sex", Counter(d["sex"] for d in described), ["female", "male", "other", UNKNOWN]
        ),
        _partition(
            "by_age_band",
            Counter(d["age_band"] for d in described),
            [name for name, _, _ in AGE_BANDS] + [UNKNOWN],
        ),  # fmt: skip
        _partition(
            "by_disability", Counter(d["disability"] for d in described), ["with", "none_recorded"]
        ),  # fmt: skip
        _partition(
            "by_system",
            Counter(d["systems"] for d in described),
            ["primero_only", "oscar_only", "both"],
        ),  # fmt: skip
        _partition(
            "by_ngo_count",
            ngo_count,
            ["known_to_no_ngo", "known_to_one_ngo", "known_to_several_ngos"],
        ),  # fmt: skip
        _multi("by_organisation", organisations),
        _multi("protection_concerns", concerns),
        _multi("services", services),
        Table("care", ["children"], care_rows, partition=False),
        _helpdesk(session, until, day),
        *_referrals(session, until),
    ]
    runs = [
        run_id
        for run_id, finished in session.execute(
            select(SyncRunRow.id, SyncRunRow.finished_at)
            .where(SyncRunRow.finished_at.is_not(None))
            .order_by(SyncRunRow.id)
        )
        if _aware(finished) <= until
    ]
    national = {
        "registrations": registrations,
        "unique_children_linked": linked,
        "unique_children": estimates.get("unique_children"),
        "unique_children_low": estimates.get("unique_children_low"),
        "unique_children_high": estimates.get("unique_children_high"),
        "estimated_precision": estimates.get("precision"),
        "estimates_from_run": estimates.get("run_id"),
    }
    return Report(day, runs, mapping_version(mappings), national, tables)
