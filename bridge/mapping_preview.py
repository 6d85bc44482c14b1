"""Inputs and outbound previews for ``bridge mapping check`` (read-only: nothing is written)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import select

from adapters.errors import ConfigError
from bridge.config import SourceConfig
from bridge.mapping import CheckReport, OutboundResult, SourceMapping
from bridge.mapping.config_report import PrimeroConfigReport
from bridge.model import Child, Identifiers
from bridge.store.db import Store
from bridge.store.schema import LinkRow, SourceRecordRow


def sample_payloads(path: Path) -> list[Any]:
    """Every entry of an API-shaped dump, bad ones included (the check reports them)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"sample file {path} not found") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno})") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return data["data"]
    if isinstance(data, list):
        return data
    raise ConfigError(f'{path}: expected a JSON list of records or {{"data": [...]}}')


def live_payloads(source: SourceConfig, limit: int) -> list[Any]:
    """Up to ``limit`` records pulled from a configured source (read-only, no cursor moved)."""
    from bridge.sync import build_adapter

    adapter = build_adapter(source)
    try:

        def records() -> Iterator[Any]:
            for page in adapter.pull(None):
                yield from (r.payload for r in page.records)
                yield from (raw for _, raw in page.bad)

        return list(islice(records(), limit))
    finally:
        adapter.close()


def live_primero_config(
    source: SourceConfig, mapping: SourceMapping, report: CheckReport
) -> PrimeroConfigReport:
    """Primero's lookups, forms and locations compared with the mapping and the checked
    records (read-only)."""
    from bridge.mapping.primero_config import compare
    from bridge.sync import build_adapter

    adapter = build_adapter(source)
    try:
        lookups, forms = adapter.lookups(), adapter.forms()  # type: ignore[attr-defined]
        locations = adapter.locations()  # type: ignore[attr-defined]
    finally:
        adapter.close()
    return compare(mapping, report, lookups, forms, locations)


def _linked_pairs(store: Store) -> list[tuple[Child, Child]]:
    """(Primero record, OSCaR record) of every child that has one of each."""
    with store.session() as session:
        rows = session.execute(
            select(LinkRow.child_id, SourceRecordRow.system, SourceRecordRow.canonical)
            .join(SourceRecordRow, SourceRecordRow.id == LinkRow.record_pk)
            .where(SourceRecordRow.state == "mapped")
            .order_by(LinkRow.child_id, SourceRecordRow.system, SourceRecordRow.record_id)
        )
        by_child: dict[str, dict[str, Child]] = {}
        for child_id, system, canonical in rows:
            by_child.setdefault(child_id, {}).setdefault(system, Child.model_validate(canonical))
    return [(c["primero"], c["oscar"]) for c in by_child.values() if {"primero", "oscar"} <= set(c)]


def outbound_preview(store: Store, mapping: SourceMapping) -> list[OutboundResult]:
    """The link write-backs that would be sent to this mapping's system for linked children.

    Only the identifiers go: a minimal child with nothing but the ids is mapped, so the
    preview shows exactly what would leave."""
    results = []
    for primero, oscar in _linked_pairs(store):
        ids = Identifiers(
            primero_case_id=primero.identifiers.primero_case_id,
            primero_case_id_display=primero.identifiers.primero_case_id_display,
            oscar_global_id=oscar.record_id,
        )
        if mapping.kind == "oscar":
            target, child = (
                "update_links",
                Child(system="oscar", record_id=oscar.record_id, identifiers=ids),
            )
        else:
            target, child = (
                "case_patch",
                Child(system="primero", record_id=primero.record_id, identifiers=ids),
            )
        if target in mapping.targets:
            results.append(mapping.outbound(target, child))
    return results
