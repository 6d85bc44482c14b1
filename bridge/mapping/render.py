"""Text and JSON renderings of a mapping check report (``--format table|json``)."""

from __future__ import annotations

import json
from typing import Any

from bridge.mapping.check import CheckReport, RecordCheck
from bridge.mapping.config_report import PrimeroConfigReport
from bridge.mapping.outbound import OutboundResult


def render_json(report: CheckReport) -> str:
    data = report.model_dump(mode="json")
    data["exit_code"] = report.exit_code
    return json.dumps(data, ensure_ascii=False, indent=2)


def _child_summary(child: dict[str, Any]) -> str:
    names = child.get("names", {})
    birth = child.get("birth", {})
    location = child.get("location", {})
    parts = [
        f"given={names.get('given', '')!s}/{names.get('given_km', '')!s}",
        f"family={names.get('family', '')!s}/{names.get('family_km', '')!s}",
        f"sex={child.get('sex', '')}",
        f"birth={birth.get('value', '')}({birth.get('precision', 'unknown')})",
        f"location={location.get('code', '')}({location.get('province_code', '')})",
        f"risk={child.get('risk_level', '')}",
        f"status={child.get('status', '')}",
        f"services={len(child.get('services', []))}",
        f"caregivers={len(child.get('caregivers', []))}",
    ]
    return " ".join(parts)


def _record_lines(record: RecordCheck) -> list[str]:
    state = "QUARANTINED" if record.errors else ("warnings" if record.warnings else "ok")
    lines = [f"#{record.index} {record.record_id or '<no id>'}  {state}"]
    if record.child:
        lines.append(f"    child: {_child_summary(record.child)}")
    for issue in [*record.errors, *record.warnings]:
        lines.append(
            f"    {issue.severity:<7} {issue.pointer or '/':<32} {issue.code}: {issue.message}"
        )
    return lines


def render_table(report: CheckReport, *, limit: int | None = None) -> str:
    """Records with errors first, then with warnings (all of them: a maintainer must see every
    problem), then up to ``limit`` clean ones."""
    ordered = sorted(report.records, key=lambda r: (not r.errors, not r.warnings, r.index))
    problems = sum(1 for r in ordered if r.errors or r.warnings)
    shown = ordered if limit is None else ordered[: problems + limit]
    lines = [
        f"Mapping check: {report.kind}: {report.total} records, {report.quarantined} would be "
        f"quarantined, {report.with_warnings} with warnings",
        "",
    ]
    for record in shown:
        lines.extend(_record_lines(record))
    if len(shown) < len(ordered):
        lines.append(f"... {len(ordered) - len(shown)} more records (raise --show to see them)")
    coverage = report.coverage
    lines += ["", "Coverage", "  Source fields present but not mapped:"]
    lines += [f"    {f.count:>7}  {f.field}" for f in coverage.unmapped] or ["    (none)"]
    lines.append("  Values not in a vocabulary:")
    lines += [
        f"    {m.count:>7}  {m.vocabulary} ({m.column}): {m.value!r}  at {', '.join(m.fields)}"
        for m in coverage.vocabulary_misses
    ] or ["    (none)"]
    lines.append("  Fields always empty:")
    lines += [f"    {f.count:>7}  {f.field}" for f in coverage.always_empty] or ["    (none)"]
    if report.primero_config is not None:
        lines += ["", *_config_lines(report.primero_config)]
    lines += ["", f"exit code {report.exit_code}"]
    return "\n".join(lines)


def _config_lines(config: PrimeroConfigReport) -> list[str]:
    """The --live comparison with Primero's lookups and locations, one line per difference."""
    lines = [
        f"Primero configuration: {config.lookups_read} lookups, {config.locations_read} "
        "locations read",
        "  Compared: " + (", ".join(config.compared) or "(nothing)"),
        "  Values Primero offers that no vocabulary row knows:",
    ]
    offered = [
        f"    {d.vocabulary} ({d.column}) = {d.lookup} at {', '.join(d.fields)}: {value!r}"
        for d in config.differences
        for value in d.offered_not_known
    ]
    lines += offered or ["    (none)"]
    lines.append("  Rows whose Primero value Primero does not offer:")
    missing = [
        f"    {d.vocabulary} ({d.column}) = {d.lookup} at {', '.join(d.fields)}: {value!r}"
        for d in config.differences
        for value in d.not_offered
    ]
    lines += missing or ["    (none)"]
    lines.append("  Lookups Primero's forms name but does not serve:")
    lines += [f"    {name}" for name in config.missing_lookups] or ["    (none)"]
    lines.append("  Vocabulary fields Primero's forms give no lookup:")
    lines += [f"    {name}" for name in config.unlinked_fields] or ["    (none)"]
    lines.append("  Location codes in records that Primero's location list lacks:")
    lines += [f"    {m.count:>7}  {m.code}" for m in config.unknown_locations] or ["    (none)"]
    return lines


def render_outbound_table(results: list[OutboundResult]) -> str:
    """Payloads that would be sent (``--direction outbound``), or why each is held."""
    lines = []
    for number, result in enumerate(results):
        state = "HELD" if result.errors else "would send"
        lines.append(f"#{number} {result.target}  {state}")
        if result.payload is not None:
            text = json.dumps(result.payload, ensure_ascii=False, sort_keys=True)
            lines.append(f"    payload: {text}")
        for issue in [*result.errors, *result.warnings]:
            lines.append(
                f"    {issue.severity:<7} {issue.pointer or '/':<32} {issue.code}: {issue.message}"
            )
    return "\n".join(lines)


def render_outbound_json(results: list[OutboundResult]) -> str:
    return json.dumps([r.model_dump(mode="json") for r in results], ensure_ascii=False, indent=2)
