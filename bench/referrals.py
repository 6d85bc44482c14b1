"""Referral delivery throughput: deliveries per second and attempts per delivery, with 0% and
30% of sandbox requests failing (500, 503 + Retry-After, 429, timeouts, HTML, dropped after
acting). A benchmark that prints figures, not a timed test.

    python bench/referrals.py [--referrals 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.referrals.delivery import open_count  # noqa: E402
from bridge.referrals.service import deliver  # noqa: E402
from bridge.sandbox import FAULT_KINDS, start_sandbox  # noqa: E402
from tests.referrals import helpers as h  # noqa: E402 - the same sandbox set-up as the tests


def run(referrals: int, rate: float) -> tuple[float, float, int]:
    sb = start_sandbox()
    try:
        for n in range(referrals):
            h.add_primero_referral(sb, n)
            h.add_oscar_referral(sb, n)
        with tempfile.TemporaryDirectory() as tmp:
            store, ads = h.new_store(Path(tmp)), h.adapters(sb, timeout=0.4)
            rt, maps = h.routing(max_attempts=30), h.mappings()
            h.route_from_sandbox(store, ads, rt, maps)
            if rate:
                sb.faults.set(rate, FAULT_KINDS, seed=3, retry_after=1)
            started, attempts, delivered = time.perf_counter(), 0, 0
            while open_count(store):
                counts = deliver(store, ads, rt, maps, wait_up_to=5.0)
                attempts += counts.attempts
                delivered += counts.delivered
            elapsed = time.perf_counter() - started
            store.close()
        return delivered / elapsed, attempts / max(delivered, 1), delivered
    finally:
        sb.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--referrals", type=int, default=300, help="referrals each way")
    args = parser.parse_args()
    print(f"{args.referrals} referrals each way, SQLite outbox, 8 workers, loopback sandbox")
    for rate in (0.0, 0.3):
        per_second, per_delivery, delivered = run(args.referrals, rate)
        print(
            f"failures {rate:.0%}: {delivered} delivered, {per_second:.1f} deliveries/s, "
            f"{per_delivery:.2f} attempts per delivery"
        )


if __name__ == "__main__":
    main()
