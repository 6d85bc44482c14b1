"""`bridge report`'s figures against a store counted by hand (tests/report/fixture.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bridge.report.figures import build_report
from bridge.store.db import Store
from tests.report import fixture


@pytest.fixture
def report(store: Store):
    fixture.seed(store)
    with store.session() as session:
        return build_report(session, as_of=date.fromisoformat(fixture.AS_OF))


def counts(report, table: str, column: str = "children") -> dict[str, int | None]:
    return {r.key: r.values[column] for r in report.table(table).rows if r.values[column] != 0}


def test_children_are_counted_once_not_per_record(report) -> None:
    assert report.national["unique_children_linked"] == 40
    assert report.national["registrations"] == 12 + 5 + 2 + 8 + 20  # C03's OSCaR one is later
    assert counts(report, "by_province") == {"12": 12, "17": 8, "02": 20}
    province = {r.key: r.values for r in report.table("by_province").rows}
    assert province["12"]["registrations"] == 19
    assert province["12"]["duplicate_registrations"] == 7


def test_sex_age_and_disability(report) -> None:
    assert counts(report, "by_sex") == {"female": 32, "male": 8}
    # 2014-05-01 exact -> 12; "2010" estimated counts by its year -> 16; 2020-12-08 -> 5
    assert counts(report, "by_age_band") == {"10-14": 12, "15-17": 8, "5-9": 20}
    assert counts(report, "by_disability") == {"with": 1, "none_recorded": 39}


def test_the_age_is_taken_at_the_as_of_date(store: Store) -> None:
    fixture.seed(store)
    with store.session() as session:
        earlier = build_report(session, as_of=date(2025, 12, 7))
        later = build_report(session, as_of=date(2028, 1, 1))
    # before anything was stored: nothing is held
    assert counts(earlier, "by_age_band") == {}
    assert earlier.national["unique_children_linked"] == 0
    # on 2028-01-01 the children of an estimated "2010" are 18 by their year
    assert counts(later, "by_age_band") == {"10-14": 12, "18+": 8, "5-9": 20}


def test_systems_and_organisations(report) -> None:
    # C03's OSCaR record came after the as-of date: C03 is Primero only on that day
    assert counts(report, "by_system") == {"primero_only": 6 + 1 + 20, "oscar_only": 8, "both": 5}
    assert counts(report, "by_ngo_count") == {
        "known_to_no_ngo": 27,
        "known_to_one_ngo": 3 + 8,
        "known_to_several_ngos": 2,
    }
    assert counts(report, "by_organisation") == {"mosvy": 32, "cif": 13, "fi": 2}


def test_care_follows_the_declared_rules(report) -> None:
    assert counts(report, "care") == {
        "residential_care": 8,
        "family_based_care": 20,
        "reintegrated": 20,
        "case_plan": 20,
    }


def test_the_report_states_what_it_reflects(report) -> None:
    assert report.as_of.isoformat() == fixture.AS_OF
    assert len(report.mapping_version) == 12
    assert report.national["unique_children"] is None  # no estimates recorded in this store
