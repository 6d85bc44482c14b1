"""One decision, the way both desks make it: under the sync lock, in one transaction, then
its links written back to the source systems through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bridge.helpdesk.service import DecisionResult
from bridge.helpdesk.writeback import WriteBackOutcome, write_back
from bridge.runlock import run_lock


@dataclass
class Decided:
    result: DecisionResult
    outcome: WriteBackOutcome


def decide(
    store: Any, action: Callable[[Session], DecisionResult], *, config: Any = None
) -> Decided:
    """Run ``action`` (a function of `bridge.helpdesk.service`) and write its links back.
    Raises ``HelpdeskError`` (the decision cannot be made as asked) or ``LockHeld`` (a sync
    is running: a decision waits for none, so a running sync's view of children stays true).
    With ``config`` the writes are delivered now; without, the next delivery sends them."""
    with run_lock(store), store.session() as session:
        result = action(session)
    return Decided(result, write_back(store, result.children, result.involved, config=config))
