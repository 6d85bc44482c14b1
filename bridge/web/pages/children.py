"""A child's page (the helpdesk): its records side by side, aliases, history, and the split
and undo forms. Opening it is audited, as `bridge children show` is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bridge.helpdesk.audit import list_audit
from bridge.helpdesk.service import HelpdeskError, split_child, undo_decision
from bridge.helpdesk.views import show_child
from bridge.store.schema import DecisionRow
from bridge.web.desk import Visit, decide_here, desk_of, form, need, reason_of
from bridge.web.i18n import N_
from bridge.web.pair import golden_rows, pair_rows

routes = APIRouter()


def _history(session: Any, child_id: str) -> list[dict[str, Any]]:
    """The decisions about this child (and its aliases), newest first, undoable or not."""
    entries = list_audit(session, child_id=child_id)
    ids = sorted(
        {e.details["decision"] for e in entries if isinstance(e.details.get("decision"), int)}
    )
    if not ids:
        return []
    rows = {d.id: d for d in session.scalars(select(DecisionRow).where(DecisionRow.id.in_(ids)))}
    return [
        {
            "id": d.id,
            "kind": d.kind,
            "by": d.decided_by,
            "at": d.decided_at,
            "reason": d.reason,
            "undone_by": d.undone_by,
        }
        for d in sorted(rows.values(), key=lambda d: -d.id)
    ]


@routes.get("/children/{child_id}")
def child_page(
    child_id: str, request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]
) -> Response:
    desk = desk_of(request)
    assert seen.user is not None
    with desk.session() as session:
        view = show_child(session, child_id, by=seen.user.name)
        history = _history(session, view.child_id)
    return seen.render(
        "child.html.j2",
        view=view,
        rows=pair_rows(view.columns, seen.t),
        golden=golden_rows(view.golden, seen.t),
        conflicts=view.conflicts,
        history=history,
        done=request.query_params.get("done"),
    )


async def _decide(request: Request, seen: Visit, make: Any) -> Response:
    fields = await form(request, seen)
    assert seen.user is not None
    action = make(fields, seen.user.name, reason_of(fields))
    decided = await run_in_threadpool(decide_here, desk_of(request), action)
    result = decided.result
    target = result.children[0] if result.children else request.path_params.get("child_id")
    return RedirectResponse(f"/children/{target}?done={result.decision_id}", status_code=303)


@routes.post("/children/{child_id}/split")
async def split(
    child_id: str, request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]
) -> Response:
    def make(fields: dict[str, Any], by: str, reason: str) -> Any:
        chosen = fields.get("record") or []
        records = [chosen] if isinstance(chosen, str) else list(chosen)
        if not records:
            raise HelpdeskError(N_("Tick the records to split off."))
        return lambda session: split_child(session, child_id, records, by=by, reason=reason)

    return await _decide(request, seen, make)


@routes.post("/decisions/{decision_id}/undo")
async def undo(
    decision_id: int, request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]
) -> Response:
    def make(fields: dict[str, Any], by: str, reason: str) -> Any:
        return lambda session: undo_decision(session, decision_id, by=by, reason=reason)

    return await _decide(request, seen, make)
