"""500 referrals each way through 30% injected failures: each arrives exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from bridge.sandbox import FAULT_KINDS, start_sandbox
from tests.referrals import helpers as h

N = 500


@pytest.mark.slow
def test_500_each_way_arrive_exactly_once_through_faults(db_url: str) -> None:
    sb = start_sandbox()
    try:
        cases = [h.add_primero_referral(sb, n)[0] for n in range(N)]
        clients = [h.add_oscar_referral(sb, n)[1] for n in range(N)]
        sb.faults.set(0.3, FAULT_KINDS, seed=11, retry_after=1)
        store, ads = h.new_store(db_url), h.adapters(sb, timeout=0.4)
        rt, maps = h.routing(max_attempts=30), h.mappings()
        h.run_until_done(store, ads, rt, maps, rounds=60)
        sb.faults.off()
        served = Counter(kind for _, _, kind in sb.faults.log)
        assert served["drop_after"] > 0 and served["timeout"] > 0 and served["503"] > 0
        # OSCaR side: one referral per Primero case, no more
        into_oscar = Counter(
            r.get("external_id") for r in sb.oscar.referrals if r.get("external_id")
        )
        assert set(into_oscar) == set(cases)
        assert max(into_oscar.values()) == 1
        # Primero side: one services row per OSCaR referral, no more
        rows = Counter(r["oscar_referral_id_a4ac8a5"] for r in h.primero_rows_from_oscar(sb))
        assert set(rows) == {str(c) for c in clients}
        assert max(rows.values()) == 1
    finally:
        sb.stop()
