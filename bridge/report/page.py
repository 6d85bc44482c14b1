"""The report as a page of `bridge serve`: any signed-in role may read it; a viewer sees only
suppressed figures, the helpdesk and administrators the exact ones (they see the records)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bridge.report.figures import build_report
from bridge.report.render import fragment
from bridge.report.suppress import suppress

EXACT_ROLES = ("helpdesk", "admin")


def report_fragment(
    session: Session, *, role: str, lang: str = "en", threshold: int = 5, as_of: date | None = None
) -> str:
    """The report's body (charts and tables) for ``role``, in ``lang``."""
    figures = build_report(session, as_of=as_of)
    shown = suppress(figures, 1 if role in EXACT_ROLES else max(threshold, 2))
    return fragment(shown, lang)
