"""Consent and minimisation, dead letters and replay, decisions both ways."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.mapping import default_mappings_dir
from bridge.referrals.outbox import list_rows, replay_dead
from bridge.referrals.service import deliver
from bridge.sandbox import start_sandbox
from tests.referrals import helpers as h


@pytest.fixture
def sb():
    handle = start_sandbox()
    yield handle
    handle.stop()


def _rows(store, state=None):
    with store.session() as session:
        return list_rows(session, state)


def test_no_consent_is_held_and_payload_holds_only_allowed_fields(sb, db_url: str) -> None:
    h.add_primero_referral(sb, 1, consent=False)
    h.add_primero_referral(sb, 2)
    store, ads, rt, maps = h.new_store(db_url), h.adapters(sb), h.routing(), h.mappings()
    h.run_until_done(store, ads, rt, maps)
    held = _rows(store, "held")
    assert len(held) == 1 and "no consent" in (held[0].held_reason or "")
    assert len(sb.oscar.referrals) == 1
    assert sb.oscar.referrals[0]["external_id"] != held[0].source_record_id
    sent = next(r for r in _rows(store, "delivered") if r.kind == "referral").payload
    allowed = maps["oscar"].allowed_fields("upsert")
    body = sent["organization"]
    assert set(body) <= allowed
    assert all(f"services.{k}" in allowed for s in body["services"] for k in s)
    assert "protection_concerns" not in str(sent) and "neglect" not in str(sent)


def _mappings_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), folder, ignore=shutil.ignore_patterns("*.py*"))
    vocab = folder / "vocab" / "services.toml"
    text = vocab.read_text(encoding="utf-8")
    assert old in text
    vocab.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_unknown_service_and_422_are_dead_letters_then_replayed(
    sb, tmp_path: Path, db_url: str
) -> None:
    # a Primero service the vocabulary does not know, and an OSCaR name OSCaR does not know
    bad = _mappings_with(tmp_path / "bad", 'oscar = ["Counselling"]', 'oscar = ["Counseling"]')
    fixed = _mappings_with(
        tmp_path / "fixed",
        'primero = ["legal_support"]',
        'primero = ["legal_support", "legal_aid"]',
    )
    h.add_primero_referral(sb, 1, service="legal_aid")
    h.add_primero_referral(sb, 2, service="psychosocial_support")
    store, ads, rt = h.new_store(db_url), h.adapters(sb), h.routing()
    h.run_until_done(store, ads, rt, h.mappings(bad))
    dead = {r.request["referral"]["source_service"]: r.last_error for r in _rows(store, "dead")}
    assert "'legal_aid' is not in vocabulary services" in dead["legal_aid"]
    assert "is not included in the list" in dead["psychosocial_support"]  # OSCaR's own message
    assert "HTTP 422" in dead["psychosocial_support"]
    assert sb.oscar.referrals == []
    # the vocabulary is fixed: replay delivers both
    with store.session() as session:
        assert len(replay_dead(session)) == 2
    deliver(store, ads, rt, h.mappings(fixed), wait_up_to=5)
    assert not _rows(store, "dead")
    assert sorted(s for r in sb.oscar.referrals for s in r["services"]) == [
        "Counselling",
        "Legal support",
    ]


def test_decisions_round_trip_both_ways(sb, db_url: str) -> None:
    case_a, ref_a = h.add_primero_referral(sb, 1)
    case_b, ref_b = h.add_primero_referral(sb, 2, agency=None)
    gid_c, oref_c = h.add_oscar_referral(sb, 3)
    gid_d, oref_d = h.add_oscar_referral(sb, 4, service="Legal support")
    store, ads, rt, maps = h.new_store(db_url), h.adapters(sb), h.routing(), h.mappings()
    h.run_until_done(store, ads, rt, maps)
    # OSCaR accepts the first referral and exits the second
    with sb.oscar.lock:
        for referral in sb.oscar.referrals:
            if referral["external_id"] in (case_a, case_b):
                status = "Accepted" if referral["external_id"] == case_a else "Exited"
                client = sb.oscar.clients[referral["client_global_id"]]
                for service in client["services"]:
                    if service.get("referral_id") == referral["id"]:
                        service["referral_status"] = status
                sb.oscar.touch(client["global_id"])
    # Primero accepts the OSCaR referral of client C and rejects D's
    for gid, decision in ((gid_c, "accepted_340953"), (gid_d, "rejected_936484")):
        case = next(c for c in sb.primero.cases.values() if c.get("oscar_number") == gid)
        row = next(
            r
            for r in case["services_section"]
            if r["service_response_type"] == "referral_from_oscar"
        )
        sb.primero.update_case(
            case["id"], {"services_section": [{"unique_id": row["unique_id"],
                                               "referral_status_edf41f2": decision}]}
        )  # fmt: skip
    h.run_until_done(store, ads, rt, maps)
    statuses = {r["id"]: r["status"] for refs in sb.primero.referrals.values() for r in refs}
    assert statuses[ref_a] == "accepted" and statuses[ref_b] == "rejected"
    updates = {(u["client_global_id"], u["referral_status"]) for u in sb.oscar.status_updates}
    assert updates == {(gid_c, "Accepted"), (gid_d, "Exited")}
    decisions = [r for r in _rows(store) if r.kind == "decision"]
    assert len(decisions) == 4 and all(r.state == "delivered" for r in decisions)
    assert all(r.result.get("confirmed_status") for r in decisions)  # read back
    # links written back both ways
    assert {link["global_id"] for link in sb.oscar.links} == {gid_c, gid_d}
    assert all(sb.primero.cases[c].get("oscar_number") for c in (case_a, case_b))


def test_illegal_transition_is_caught_by_reading_back(sb, db_url: str) -> None:
    case_a, ref_a = h.add_primero_referral(sb, 1)
    store, ads, rt, maps = h.new_store(db_url), h.adapters(sb), h.routing(), h.mappings()
    h.run_until_done(store, ads, rt, maps)
    with sb.primero.lock:  # someone revoked it in Primero meanwhile
        sb.primero.referrals[case_a][0]["status"] = "revoked"
    with sb.oscar.lock:
        client = next(c for c in sb.oscar.clients.values() if c.get("external_id") == case_a)
        client["services"][-1]["referral_status"] = "Accepted"
        sb.oscar.touch(client["global_id"])
    h.run_until_done(store, ads, rt, maps)
    dead = [r for r in _rows(store, "dead") if r.kind == "decision"]
    assert len(dead) == 1 and "kept status 'revoked'" in (dead[0].last_error or "")
