"""For administrators, read-only: the audit log, sync runs and dead letters, the users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from bridge.helpdesk.audit import list_audit
from bridge.helpdesk.users import list_users
from bridge.referrals.outbox import list_rows, summarise
from bridge.referrals.tables import DEAD
from bridge.store.schema import SyncRunRow
from bridge.web.desk import Visit, desk_of, need

routes = APIRouter()
AUDIT_PAGE = 200


@routes.get("/audit")
def audit(request: Request, seen: Annotated[Visit, Depends(need("admin"))]) -> Response:
    params = request.query_params
    child = (params.get("child") or "").strip() or None
    actor = (params.get("actor") or "").strip() or None
    action = (params.get("action") or "").strip() or None
    with desk_of(request).session() as session:
        entries = list_audit(session, child_id=child, actor=actor, action=action, limit=AUDIT_PAGE)
    return seen.render(
        "audit.html.j2",
        entries=list(reversed(entries)),
        child=child or "",
        actor=actor or "",
        action=action or "",
        limit=AUDIT_PAGE,
    )


@routes.get("/runs")
def runs(request: Request, seen: Annotated[Visit, Depends(need("admin"))]) -> Response:
    with desk_of(request).session() as session:
        recent = list(session.scalars(select(SyncRunRow).order_by(SyncRunRow.id.desc()).limit(50)))
        dead = [summarise(r) for r in list_rows(session, DEAD)]
        shown = [
            {
                "id": r.id,
                "command": r.command,
                "status": r.status,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "counts": {k: v for k, v in (r.counts or {}).items() if isinstance(v, int)},
                "errors": len(r.errors or []),
            }
            for r in recent
        ]
    return seen.render("runs.html.j2", runs=shown, dead=dead)


@routes.get("/users")
def users(request: Request, seen: Annotated[Visit, Depends(need("admin"))]) -> Response:
    with desk_of(request).session() as session:
        everyone = list_users(session)
    return seen.render("users.html.j2", users=everyone)
