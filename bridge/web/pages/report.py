"""The nation-wide report as a page (any role: a viewer sees suppressed figures only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from bridge.report.page import report_fragment
from bridge.web.desk import Visit, desk_of, need

routes = APIRouter()


@routes.get("/report")
def report(request: Request, seen: Annotated[Visit, Depends(need())]) -> Response:
    desk = desk_of(request)
    assert seen.user is not None
    with desk.session() as session:
        body = report_fragment(
            session,
            role=seen.user.role,
            lang=seen.lang,
            threshold=desk.config.report.suppress_below,
        )
    return seen.render("report.html.j2", body=Markup(body))  # noqa: S704 - our own rendering
