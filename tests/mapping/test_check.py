"""The dry run's report: per record, coverage, exit codes, both renderings."""

from __future__ import annotations

import json

from bridge.mapping import check_records, load_mapping, render_json, render_table
from tests.mapping.helpers import TODAY, oscar_client, primero_case

OSCAR = load_mapping("oscar")
PRIMERO = load_mapping("primero")


def test_clean_records_exit_0_and_warnings_alone_exit_0() -> None:
    assert check_records(OSCAR, [oscar_client()], today=TODAY).exit_code == 0
    report = check_records(OSCAR, [oscar_client(date_of_birth="0000-00-00")], today=TODAY)
    assert report.with_warnings == 1 and report.exit_code == 0


def test_a_quarantined_record_gives_exit_code_3() -> None:
    records = [oscar_client(), oscar_client(global_id=""), "not a record"]
    report = check_records(OSCAR, records, today=TODAY)
    assert (report.total, report.quarantined, report.exit_code) == (3, 2, 3)
    assert [e.code for e in report.records[1].errors] == ["missing"]
    assert report.records[1].errors[0].pointer == "/global_id"
    assert report.records[1].child is None


def test_quarantine_reasons() -> None:
    no_name = oscar_client(given_name="", family_name="", local_given_name="", local_family_name="")
    wrong_type = oscar_client(given_name=42)
    wrong_list = primero_case(services_section={"service_type": "x"})
    bad_row = primero_case(services_section=["x"])
    codes = [
        [(e.pointer, e.code) for e in OSCAR.inbound(no_name).errors],
        [(e.pointer, e.code) for e in OSCAR.inbound(wrong_type).errors],
        [(e.pointer, e.code) for e in PRIMERO.inbound(wrong_list).errors],
        [(e.pointer, e.code) for e in PRIMERO.inbound(bad_row).errors],
    ]
    assert codes == [
        [("/local_given_name", "no_name")],
        [("/given_name", "wrong_type")],
        [("/services_section", "wrong_type")],
        [("/services_section/0", "wrong_type")],
    ]


def test_a_khmer_name_alone_is_enough() -> None:
    result = PRIMERO.inbound(primero_case(name_first=None, name_last=None, name_other="ទេព ពិសិដ្ឋ"))
    assert result.child is not None and result.child.names.full_km == "ទេព ពិសិដ្ឋ"


def test_coverage_unmapped_vocabulary_and_always_empty() -> None:
    records = [
        oscar_client(nickname_of_child="x", gender="boy"),
        oscar_client(nickname_of_child="", gender="boy"),
        oscar_client(),
    ]
    coverage = check_records(OSCAR, records, today=TODAY).coverage
    assert [(f.field, f.count) for f in coverage.unmapped] == [("/nickname_of_child", 2)]
    assert [(m.vocabulary, m.column, m.value, m.count) for m in coverage.vocabulary_misses] == [
        ("sex", "oscar", "boy", 2)
    ]
    empty = {f.field for f in coverage.always_empty}
    assert {"/external_id", "/mosvy_number"} <= empty and "/given_name" not in empty


def test_ignored_fields_are_not_reported_as_unmapped() -> None:
    report = check_records(OSCAR, [oscar_client(case_worker_name="someone")], today=TODAY)
    assert not report.coverage.unmapped


def test_render_table_and_json() -> None:
    records = [oscar_client(), oscar_client(global_id="", date_of_birth="22012-01-01")]
    report = check_records(OSCAR, records, today=TODAY)
    table = render_table(report, limit=0)  # problems always shown; clean ones capped
    assert "QUARANTINED" in table and "/global_id" in table and "1 more records" in table
    assert "22012" not in table  # the value of a corrupt date is personal data
    assert "exit code 3" in table
    data = json.loads(render_json(report))
    assert data["exit_code"] == 3 and data["quarantined"] == 1
    assert data["records"][0]["child"]["location"]["code"] == "08030201"
    assert set(data["coverage"]) == {"unmapped", "vocabulary_misses", "always_empty"}


def test_check_never_writes(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    check_records(OSCAR, [oscar_client()], today=TODAY)
    assert not list(tmp_path.iterdir())
