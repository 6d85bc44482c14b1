"""`bridge serve`: the helpdesk's pages and the service's routes in one FastAPI application.

Pages are server-rendered (Jinja2 templates in ``templates/``), styled and scripted from
``static/`` and the Khmer font in ``bridge/fonts/``: nothing comes from another origin, so the
desk works on an office network without internet. Every response carries security headers
(no framing, no type sniffing, a content security policy allowing this origin only, no
caching of pages). The service (schedule, hooks, metrics, health) starts and stops with it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bridge.config import Config
from bridge.helpdesk.service import HelpdeskError
from bridge.runlock import LockHeld
from bridge.store.db import Store
from bridge.web.desk import Desk, LoginNeeded, login_redirect, visit
from bridge.web.i18n import N_

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
FONTS = HERE.parent / "fonts"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
# the report's charts are SVG drawn by matplotlib, which styles them inline
CSP_REPORT = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def _headers(response: Response, path: str) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP_REPORT if path == "/report" else CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if not path.startswith(("/static/", "/fonts/")):
        response.headers["Cache-Control"] = "no-store"


def create_app(config: Config, store: Store, *, service: bool = True) -> FastAPI:
    """The desk, and (``service``) the schedule, hooks, metrics and health routes."""
    from bridge.service.app import Service, router
    from bridge.web.pages import admin, children, find, login, report, review

    desk = Desk(config, store)
    running = Service(config, store) if service else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if running is not None:
            running.start()
        try:
            yield
        finally:
            if running is not None:
                running.stop()

    app = FastAPI(title="child-record bridge desk", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)  # fmt: skip
    app.state.desk = desk
    app.state.service = running

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        _headers(response, request.url.path)
        return response

    @app.exception_handler(LoginNeeded)
    async def _login(request: Request, _: LoginNeeded) -> Response:
        if request.method == "GET":
            return login_redirect(request)
        return HTMLResponse("log in first\n", status_code=401)

    @app.exception_handler(HTTPException)
    async def _refused(request: Request, exc: HTTPException) -> Response:
        return _problem(request, exc.status_code, str(exc.detail))

    @app.exception_handler(HelpdeskError)
    async def _helpdesk(request: Request, exc: HelpdeskError) -> Response:
        return _problem(request, 400, str(exc))

    @app.exception_handler(LockHeld)
    async def _locked(request: Request, _: LockHeld) -> Response:
        return _problem(
            request, 409, N_("A sync is running now; nothing was decided. Try again in a minute.")
        )

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/fonts", StaticFiles(directory=FONTS), name="fonts")
    for pages in (login, review, children, find, admin, report):
        app.include_router(pages.routes)
    if running is not None:
        app.include_router(router(running))

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/review", status_code=303)

    return app


def _problem(request: Request, status: int, message: str) -> Response:
    seen = visit(request)
    return seen.render("problem.html.j2", status_code=status, status=status, message=message)
