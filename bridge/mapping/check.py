"""The dry run behind ``bridge mapping check``: map records, report, write nothing.

Per record: the canonical result, errors and warnings (JSON pointers into the record). Then a
coverage report over all records: source fields present but not mapped (with counts), values no
vocabulary knows (with counts), and fields that are always empty.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from bridge.mapping.config_report import PrimeroConfigReport
from bridge.mapping.engine import SourceMapping
from bridge.mapping.issues import Issue
from bridge.mapping.paths import escape_token, resolve

EXIT_CLEAN = 0
EXIT_QUARANTINE = 3  # some record would be quarantined, or Primero's configuration differs
_INDEX = re.compile(r"/\d+(?=/|$)")


class RecordCheck(BaseModel):
    index: int  # position in the input
    record_id: str | None = None
    child: dict[str, Any] | None = None  # canonical child, defaults left out
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)


class FieldCount(BaseModel):
    field: str  # JSON pointer with "*" for list positions
    count: int


class MissCount(BaseModel):
    vocabulary: str
    column: str
    value: str
    count: int
    fields: list[str]


class Coverage(BaseModel):
    unmapped: list[FieldCount] = Field(default_factory=list)
    vocabulary_misses: list[MissCount] = Field(default_factory=list)
    always_empty: list[FieldCount] = Field(default_factory=list)


class CheckReport(BaseModel):
    kind: str
    total: int = 0
    quarantined: int = 0
    with_warnings: int = 0
    records: list[RecordCheck] = Field(default_factory=list)
    coverage: Coverage = Field(default_factory=Coverage)
    primero_config: PrimeroConfigReport | None = None  # --live against Primero only

    @property
    def exit_code(self) -> int:
        config = self.primero_config is not None and self.primero_config.needs_attention
        return EXIT_QUARANTINE if self.quarantined or config else EXIT_CLEAN


class _FieldStats:
    """Which source fields occur, how often, how often non-empty, and which are containers."""

    def __init__(self) -> None:
        self.present: Counter[str] = Counter()
        self.filled: Counter[str] = Counter()
        self.containers: set[str] = set()

    def walk(self, node: Any, path: str) -> None:
        if path:
            self.present[path] += 1
        if isinstance(node, dict):
            if node:
                self.filled[path] += 1
                self.containers.add(path)
            for key, value in node.items():
                self.walk(value, path + "/" + escape_token(key))
        elif isinstance(node, list):
            if node:
                self.filled[path] += 1
                self.containers.add(path)
            for value in node:
                self.walk(value, path + "/*")
        elif node is not None and node != "":
            self.filled[path] += 1


def _covered(path: str, patterns: Iterable[str], *, ancestors: bool) -> bool:
    for pattern in patterns:
        if path == pattern or path.startswith(pattern + "/"):
            return True
        if ancestors and pattern.startswith(path + "/"):
            return True
    return False


def record_id_of(mapping: SourceMapping, payload: Any) -> str | None:
    """The record id as the mapping reads it, even when the record does not map."""
    for rule in mapping.spec.rules:
        if any(getattr(t, "keys", None) == ("record_id",) for _, t in rule.outputs):
            value = resolve(payload, rule.inputs[0].tokens) if rule.inputs else None
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return None


def check_records(
    mapping: SourceMapping, payloads: Iterable[Any], *, today: date | None = None
) -> CheckReport:
    report = CheckReport(kind=mapping.kind)
    stats = _FieldStats()
    misses: Counter[tuple[str, str, str]] = Counter()
    miss_fields: dict[tuple[str, str, str], set[str]] = {}
    for index, payload in enumerate(payloads):
        result = mapping.inbound(payload, today=today)
        stats.walk(payload, "")
        for miss in result.vocabulary_misses:
            key = (miss.vocabulary, miss.column, miss.value)
            misses[key] += 1
            miss_fields.setdefault(key, set()).add(_INDEX.sub("/*", miss.pointer))
        child = (
            result.child.model_dump(mode="json", exclude_defaults=True) if result.child else None
        )
        report.records.append(
            RecordCheck(
                index=index,
                record_id=record_id_of(mapping, payload) if isinstance(payload, dict) else None,
                child=child,
                errors=result.errors,
                warnings=result.warnings,
            )
        )
        report.total += 1
        report.quarantined += bool(result.errors)
        report.with_warnings += bool(result.warnings)
    read = mapping.spec.read_pointers
    ignore = mapping.spec.ignore
    report.coverage = Coverage(
        unmapped=sorted(
            (
                FieldCount(field=path, count=count)
                for path, count in stats.present.items()
                if path not in stats.containers
                and not _covered(path, read, ancestors=True)
                and not _covered(path, ignore, ancestors=False)
            ),
            key=lambda f: (-f.count, f.field),
        ),
        vocabulary_misses=[
            MissCount(
                vocabulary=v, column=c, value=val, count=n, fields=sorted(miss_fields[(v, c, val)])
            )
            for (v, c, val), n in misses.most_common()
        ],
        always_empty=[
            FieldCount(field=path, count=count)
            for path, count in sorted(stats.present.items())
            if not stats.filled[path]
        ],
    )
    return report
