"""Small-cell suppression, attacked: an attacker subtracts visible rows from published totals
(and a derived column from its parts) to recover a hidden count. No attack may succeed."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.report.figures import Row, Table, build_report
from bridge.report.suppress import hidden, suppress, suppress_table
from bridge.store.db import Store
from tests.report import fixture


def attack(table: Table) -> list[str]:
    """Every hidden cell the attacker can work out exactly, as 'row/column'."""
    found = []
    for column in table.columns:
        total = (table.total or {}).get(column)
        if not table.partition or not isinstance(total, int):
            continue
        cells = [r for r in table.rows if column in r.values]
        secret = [r for r in cells if hidden(r.values[column])]
        if len(secret) == 1:
            found.append(f"{secret[0].key}/{column} by subtraction from the total")
    for column, (a, b) in table.derived.items():
        for row in table.rows:
            trio = [row.values.get(c) for c in (column, a, b)]
            if sum(1 for v in trio if hidden(v)) == 1:
                found.append(f"{row.key}/{column} from {a} - {b}")
    for column, base in table.scaled.items():
        for row in table.rows:
            shown = row.values.get(column)
            if hidden(row.values.get(base)) and shown and not hidden(shown):
                found.append(f"{row.key}/{base} from its estimate")
    return found


def test_the_hand_store_hides_its_small_cells_and_nothing_is_recovered(store: Store) -> None:
    fixture.seed(store)
    with store.session() as session:
        raw = build_report(session, as_of=date.fromisoformat(fixture.AS_OF))
    safe = suppress(raw, 5)
    disability = {r.key: r.values["children"] for r in safe.table("by_disability").rows}
    assert disability == {"with": "<5", "none_recorded": "<5"}  # 1 and its complement 39
    ngos = {r.key: r.values["children"] for r in safe.table("by_ngo_count").rows}
    assert ngos["known_to_several_ngos"] == "<5"
    organisations = {r.key: r.values["children"] for r in safe.table("by_organisation").rows}
    assert organisations["fi"] == "<5" and organisations["mosvy"] == 32
    for table in safe.tables:
        assert attack(table) == [], table.key
    # nothing small is left visible anywhere
    for table in safe.tables:
        for row in table.rows:
            for value in row.values.values():
                assert not (isinstance(value, int) and 0 < value < 5), (table.key, row.key)


def test_a_province_row_hides_all_its_linked_cells() -> None:
    table = Table(
        "by_province",
        ["children", "registrations", "duplicate_registrations", "estimated_children"],
        [
            Row(
                "01",
                {
                    "children": 3,
                    "registrations": 9,
                    "duplicate_registrations": 6,
                    "estimated_children": 3,
                },
            ),  # fmt: skip
            Row(
                "02",
                {
                    "children": 40,
                    "registrations": 50,
                    "duplicate_registrations": 10,
                    "estimated_children": 35,
                },
            ),  # fmt: skip
            Row(
                "03",
                {
                    "children": 60,
                    "registrations": 61,
                    "duplicate_registrations": 1,
                    "estimated_children": 52,
                },
            ),  # fmt: skip
        ],
        total={
            "children": 103,
            "registrations": 120,
            "duplicate_registrations": 17,
            "estimated_children": 90,
        },  # fmt: skip
        derived={"duplicate_registrations": ("registrations", "children")},
        scaled={"estimated_children": "children"},
    )
    safe = suppress_table(table, 5)
    assert attack(safe) == []
    assert all(hidden(v) for v in safe.rows[0].values.values())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12),
    st.integers(min_value=2, max_value=11),
)
def test_no_partition_table_gives_a_hidden_cell_away(counts: list[int], threshold: int) -> None:
    table = Table(
        "t",
        ["children"],
        [Row(f"r{i}", {"children": n}) for i, n in enumerate(counts)],
        total={"children": sum(counts)},
    )
    safe = suppress_table(table, threshold)
    assert attack(safe) == []
    for row in safe.rows:
        value = row.values["children"]
        assert not (isinstance(value, int) and 0 < value < threshold)
