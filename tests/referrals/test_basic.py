from __future__ import annotations

import pytest

from bridge.referrals.outbox import list_rows
from bridge.sandbox import start_sandbox
from tests.referrals import helpers as h


@pytest.fixture
def sb():
    handle = start_sandbox()
    yield handle
    handle.stop()


def test_referrals_both_ways_arrive_once(sb, db_url: str) -> None:
    for n in range(5):
        h.add_primero_referral(sb, n)
        h.add_oscar_referral(sb, n)
    store, ads, rt, maps = h.new_store(db_url), h.adapters(sb), h.routing(), h.mappings()
    h.run_until_done(store, ads, rt, maps)
    assert (
        len([r for r in sb.oscar.referrals if "bridge-ref" in r.get("reason_for_referral", "")])
        == 5
    )
    assert len(h.primero_rows_from_oscar(sb)) == 5
    with store.session() as session:
        states = [r.state for r in list_rows(session)]
    assert states.count("delivered") >= 10
