"""The dev corpus checks clean: 0 errors, and the only warnings are the corrupt dates."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bridge.mapping import check_records, load_mapping
from tests.mapping.helpers import TODAY

FILES = {"primero": "primero_cases.json", "oscar": "oscar_clients.json"}
PLAUSIBLE = re.compile(r"^(19|20)\d\d-\d\d-\d\d$")


@pytest.mark.parametrize("kind", ["primero", "oscar"])
def test_corpus_checks_with_no_errors_and_only_corrupt_date_warnings(
    kind: str, corpus_dir: Path
) -> None:
    records = json.loads((corpus_dir / FILES[kind]).read_text(encoding="utf-8"))
    report = check_records(load_mapping(kind), records, today=TODAY)

    assert report.total == len(records)
    assert report.quarantined == 0 and report.exit_code == 0
    warnings = [w for r in report.records for w in r.warnings]
    assert {(w.code, w.pointer) for w in warnings} <= {("corrupt_date", "/date_of_birth")}
    corrupt = [r for r in records if r["date_of_birth"] and not PLAUSIBLE.match(r["date_of_birth"])]
    assert len(warnings) == len(corrupt)  # 18 in OSCaR (22xxx years), none in Primero
    assert not report.coverage.unmapped
    assert not report.coverage.vocabulary_misses


def test_corpus_names_services_and_dates_land_where_they_belong(corpus_dir: Path) -> None:
    records = json.loads((corpus_dir / FILES["primero"]).read_text(encoding="utf-8"))
    mapping = load_mapping("primero")
    children = [mapping.inbound(r, today=TODAY).child for r in records]
    assert all(c is not None for c in children)
    khmer = re.compile("[\u1780-\u17ff]")
    for child in children:
        assert child is not None
        for latin in (child.names.given, child.names.family):
            assert latin is None or not khmer.search(latin)
        for km in (child.names.given_km, child.names.family_km, child.names.full_km):
            assert km is None or khmer.search(km)
        assert all(s.service_type for s in child.services)
        assert child.location.code and len(child.location.code) == 8
    precision = Counter(c.birth.precision for c in children if c is not None)
    assert precision["estimated"] >= 722  # flagged estimates plus the ones from age


def test_corpus_oscar_khmer_fallback_moves_to_the_khmer_side(corpus_dir: Path) -> None:
    records = json.loads((corpus_dir / FILES["oscar"]).read_text(encoding="utf-8"))
    mapping = load_mapping("oscar")
    khmer = re.compile("[\u1780-\u17ff]")
    fallback = [r for r in records if khmer.search(r["given_name"])]
    assert fallback
    for record in fallback:
        child = mapping.inbound(record, today=TODAY).child
        assert child is not None and child.names.given is None and child.names.given_km
