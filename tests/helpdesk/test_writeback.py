"""Link write-back: planned from the store, delivered through the adapters' write calls."""

from __future__ import annotations

from typing import Any

from adapters.errors import RetryableSourceError
from bridge.helpdesk import (
    deliver_link_writes,
    merge_children_decision,
    plan_link_writes,
    split_child,
)
from tests.helpdesk.factory import add_record, child_record


class FakePrimero:
    def __init__(self) -> None:
        self.patches: list[tuple[str, dict[str, Any]]] = []

    def patch_case(self, case_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        self.patches.append((case_id, fields))
        return fields


class FakeOscar:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.fail = fail

    def update_links(self, links: list[dict[str, Any]]) -> dict[str, Any]:
        if self.fail:
            raise RetryableSourceError("oscar", "unavailable", status=503)
        self.calls.append(links)
        return {"message": "Record saved."}


def test_merge_sets_links_and_split_clears_them(store) -> None:
    ids = {"primero_case_id": "case-1", "primero_case_id_display": "ab12cd3"}
    a = add_record(store, child_record("primero", "p1", ids=ids))
    b = add_record(store, child_record("oscar", "G1"))
    with store.session() as session:
        assert plan_link_writes(session, a) == []  # one system only, nothing written yet
        merge_children_decision(session, a, b, by="s", reason="r")
        writes = plan_link_writes(session, a)
    primero, oscar = FakePrimero(), FakeOscar()
    report = deliver_link_writes(writes, primero, oscar)
    assert report.ok and len(report.delivered) == 2
    assert primero.patches == [("p1", {"oscar_number": "G1"})]
    assert oscar.calls == [
        [{"global_id": "G1", "external_id": "case-1", "external_id_display": "ab12cd3"}]
    ]
    with store.session() as session:
        result = split_child(session, a, ["oscar:G1"], by="s", reason="r")
        clears = [
            w
            for child in result.children
            for w in plan_link_writes(session, child, result.involved)
        ]
    fields = sorted((w.system, tuple(sorted(w.fields.items()))) for w in clears)
    assert fields == [
        ("oscar", (("external_id", ""), ("external_id_display", ""), ("global_id", "G1"))),
        ("primero", (("oscar_number", ""),)),
    ]


def test_a_failed_delivery_is_reported_not_raised(store) -> None:
    a = add_record(store, child_record("primero", "p1"))
    b = add_record(store, child_record("oscar", "G1"))
    with store.session() as session:
        merge_children_decision(session, a, b, by="s", reason="r")
        writes = plan_link_writes(session, a)
    report = deliver_link_writes(writes, None, FakeOscar(fail=True))
    assert not report.ok
    assert [w.system for w, _ in report.failed] == ["oscar"]
    assert [w.system for w, _ in report.skipped] == ["primero"]
    assert all("G1" in w.idempotency_key or w.system == "primero" for w, _ in report.failed)
