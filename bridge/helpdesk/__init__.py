"""The helpdesk: the review queue, side-by-side views, audited and reversible decisions."""

from bridge.helpdesk.audit import list_audit, record_audit
from bridge.helpdesk.queue import QueueFilter, review_queue
from bridge.helpdesk.service import (
    DecisionResult,
    HelpdeskError,
    mark_distinct,
    merge_children_decision,
    merge_review,
    split_child,
    undo_decision,
)
from bridge.helpdesk.views import show_child, show_review
from bridge.helpdesk.writeback import LinkWrite, plan_link_writes, write_back

__all__ = [
    "DecisionResult",
    "HelpdeskError",
    "LinkWrite",
    "QueueFilter",
    "list_audit",
    "mark_distinct",
    "merge_children_decision",
    "merge_review",
    "plan_link_writes",
    "record_audit",
    "review_queue",
    "show_child",
    "show_review",
    "split_child",
    "undo_decision",
    "write_back",
]
