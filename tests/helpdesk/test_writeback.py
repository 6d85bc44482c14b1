"""Link write-back: planned from the store, queued in the outbox, delivered to both systems."""

from __future__ import annotations

from sqlalchemy import select

from bridge.children import members, resolve
from bridge.helpdesk import merge_children_decision, plan_link_writes, split_child, write_back
from bridge.referrals.tables import LINK, OutboxRow
from bridge.sandbox import start_sandbox
from bridge.store.schema import ChildRow
from bridge.sync import run_sync
from tests.helpdesk.factory import add_record, child_record
from tests.sync.helpers import sandbox_config


def test_merge_plans_links_and_split_plans_clearing_them(store) -> None:
    ids = {"primero_case_id": "case-1", "primero_case_id_display": "ab12cd3"}
    a = add_record(store, child_record("primero", "p1", ids=ids))
    b = add_record(store, child_record("oscar", "G1"))
    with store.session() as session:
        assert plan_link_writes(session, a) == []  # one system only, nothing written yet
        merge_children_decision(session, a, b, by="s", reason="r")
        writes = plan_link_writes(session, a)
    assert sorted((w.system, w.record_id, w.fields) for w in writes) == [
        (
            "oscar",
            "G1",
            {"global_id": "G1", "external_id": "case-1", "external_id_display": "ab12cd3"},
        ),
        ("primero", "p1", {"oscar_number": "G1"}),
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


def _one_system_children(store) -> tuple[str, str, str, str]:
    """A child holding only a Primero case and one holding only an OSCaR client."""
    found: dict[str, tuple[str, str]] = {}
    with store.session() as session:
        for child in session.scalars(select(ChildRow).where(ChildRow.state == "active")):
            rows = members(session, child.child_id)
            if len(rows) == 1 and rows[0].state == "mapped":
                found.setdefault(rows[0].system, (child.child_id, rows[0].record_id))
    assert set(found) == {"primero", "oscar"}, "the sandbox gave no one-system children"
    return (*found["primero"], *found["oscar"])


def test_merge_and_split_reach_both_systems_through_the_outbox(store, db_url) -> None:
    with start_sandbox(children=60, seed=3) as sb:
        config = sandbox_config(sb, db_url)
        run_sync(config, store)
        child_p, case_id, child_o, gid = _one_system_children(store)
        with store.session() as session:
            merged = merge_children_decision(session, child_p, child_o, by="s", reason="r")
        outcome = write_back(store, merged.children, merged.involved, config=config)
        assert outcome.queued == 2 and outcome.delivery.delivered == 2
        assert not outcome.needs_attention
        case, client = sb.primero.cases[case_id], sb.oscar.clients[gid]
        assert case["oscar_number"] == gid
        assert client["external_id"] == case["case_id"]
        assert client["external_id_display"] == case["case_id_display"]
        assert set(link_row_states(store)) == {"delivered"}

        with store.session() as session:
            survivor = resolve(session, child_p).child_id
            result = split_child(session, survivor, [f"oscar:{gid}"], by="s", reason="r")
        outcome = write_back(store, result.children, result.involved, config=config)
        assert outcome.delivery.delivered == outcome.queued == 2
        assert not sb.primero.cases[case_id].get("oscar_number")
        assert not sb.oscar.clients[gid].get("external_id")


def test_a_system_down_leaves_the_writes_queued_not_raised(store, db_url) -> None:
    with start_sandbox(children=60, seed=3) as sb:
        config = sandbox_config(sb, db_url)
        run_sync(config, store)
        child_p, case_id, child_o, gid = _one_system_children(store)
        with store.session() as session:
            merged = merge_children_decision(session, child_p, child_o, by="s", reason="r")
        sb.faults.set(rate=1.0, kinds=["503"], paths=r"update_links|/api/v2/cases/")
        outcome = write_back(store, merged.children, merged.involved, config=config)
        assert outcome.queued == 2 and outcome.delivery.delivered == 0
        assert outcome.needs_attention
        assert "delivered" not in link_row_states(store)
        assert not sb.primero.cases[case_id].get("oscar_number")
        sb.faults.off()
        run_sync(config, store)  # the next sync delivers what was queued
        assert set(link_row_states(store)) == {"delivered"}
        assert sb.primero.cases[case_id]["oscar_number"] == gid


def test_without_a_configured_system_the_writes_wait_in_the_outbox(store) -> None:
    a = add_record(store, child_record("primero", "p1"))
    b = add_record(store, child_record("oscar", "G1"))
    with store.session() as session:
        merged = merge_children_decision(session, a, b, by="s", reason="r")
    outcome = write_back(store, merged.children, merged.involved, config=None)
    assert outcome.queued == 2 and outcome.delivery is None
    assert "next `bridge sync`" in (outcome.note or "")
    assert sorted(link_row_states(store)) == ["pending", "pending"]


def link_row_states(store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(OutboxRow.state).where(OutboxRow.kind == LINK)))
