"""A delivery worker in its own process, for the kill-and-restart test.

python -m tests.referrals.kill_worker DB_URL PRIMERO_URL OSCAR_URL
"""

from __future__ import annotations

import sys

from bridge.sandbox import (
    DEFAULT_OSCAR_EMAIL,
    DEFAULT_OSCAR_PASSWORD,
    DEFAULT_PRIMERO_PASSWORD,
    DEFAULT_PRIMERO_USER,
)
from bridge.store.db import open_store
from tests.referrals import helpers as h


class _Handle:
    def __init__(self, primero_url: str, oscar_url: str) -> None:
        self.primero_url, self.oscar_url = primero_url, oscar_url
        self.primero_user, self.primero_password = DEFAULT_PRIMERO_USER, DEFAULT_PRIMERO_PASSWORD
        self.oscar_email, self.oscar_password = DEFAULT_OSCAR_EMAIL, DEFAULT_OSCAR_PASSWORD


def main() -> None:
    url, primero_url, oscar_url = sys.argv[1:4]
    store = open_store(url)
    ads = h.adapters(_Handle(primero_url, oscar_url), timeout=0.4)  # type: ignore[arg-type]
    h.run_until_done(store, ads, h.routing(lease_seconds=1, workers=4), h.mappings(), rounds=60)
    print("done", flush=True)


if __name__ == "__main__":
    main()
