"""The service's part of `bridge serve`: `/healthz`, `/readyz`, `/metrics`, `/hooks/{system}`,
and the schedule, started and stopped with the application.

:class:`Service` holds what one process runs; :func:`router` gives its routes for any
FastAPI application (the desk mounts them beside its pages: these routes use no login and no
CSRF token, hooks are authenticated by their signature and `/metrics` by an optional bearer
token). :func:`service_app` is the service alone, without the desk.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, text

from bridge.config import Config
from bridge.logs import event
from bridge.service import hooks
from bridge.service.jobs import Jobs, Schedule
from bridge.service.metrics import ServiceMetrics
from bridge.store.db import Store, current_revision, head_revision
from bridge.store.schema import SyncRunRow

log = logging.getLogger(__name__)
# the paths a desk in front must let through without a login session or a CSRF token
OPEN_PATHS = ("/healthz", "/readyz", "/metrics", "/hooks/")


class Service:
    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.jobs = Jobs(config, store)
        self.schedule = Schedule(self.jobs)
        self.metrics = ServiceMetrics(store)
        self._head = head_revision()
        self._seen_jobs: dict[tuple[str, str], int] = {}

    def start(self) -> None:
        self.schedule.start()

    def stop(self) -> None:
        self.schedule.stop()

    def sync_jobs_metrics(self) -> None:
        """Carry the jobs' outcome counts into the Prometheus counters."""
        for key, times in self.jobs.counts.items():
            new = times - self._seen_jobs.get(key, 0)
            if new > 0:
                self.metrics.jobs.labels(*key).inc(new)
                self._seen_jobs[key] = times

    def readiness(self) -> tuple[bool, dict[str, str]]:
        checks: dict[str, str] = {}
        try:
            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any driver error: not ready
            checks["database"] = f"unreachable ({type(exc).__name__})"
            return False, checks
        current = current_revision(self.store.engine)
        checks["migrations"] = (
            "ok"
            if current == self._head
            else f"at {current}, newest {self._head}: run `bridge db upgrade`"
        )
        if self.config.schedule.sync:
            limit = self.config.service.max_sync_age_minutes
            with self.store.session() as session:
                last = session.scalar(
                    select(SyncRunRow.finished_at)
                    .where(SyncRunRow.command == "sync", SyncRunRow.status.in_(("ok", "attention")))
                    .order_by(SyncRunRow.id.desc())
                    .limit(1)
                )
            if last is None:
                checks["last_sync"] = "no successful sync yet"
            else:
                aware = last if last.tzinfo else last.replace(tzinfo=UTC)
                age = (datetime.now(UTC) - aware).total_seconds() / 60
                checks["last_sync"] = (
                    "ok" if age <= limit else f"{age:.0f} minutes ago (limit {limit})"
                )
        return all(v == "ok" for v in checks.values()), checks


def _metrics_allowed(request: Request, config: Config) -> bool:
    name = config.service.metrics_token_env
    if not name:
        return True
    token = os.environ.get(name, "")
    given = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(given, f"Bearer {token}")


def router(service: Service) -> APIRouter:
    routes = APIRouter()

    @routes.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @routes.get("/readyz")
    def readyz() -> JSONResponse:
        ready, checks = service.readiness()
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @routes.get("/metrics")
    def metrics(request: Request) -> Response:
        if not _metrics_allowed(request, service.config):
            return Response("a bearer token is required\n", status_code=401)
        service.sync_jobs_metrics()
        body, content_type = service.metrics.render()
        return Response(body, media_type=content_type)

    @routes.post("/hooks/{system}")
    async def hook(system: str, request: Request) -> JSONResponse:
        if system not in hooks.SYSTEMS:
            return JSONResponse({"error": f"no hook for {system!r}"}, status_code=404)
        body = await request.body()
        verdict = hooks.verify(
            service.store,
            service.config.hooks,
            system,
            request.headers.get(hooks.TIMESTAMP_HEADER),
            request.headers.get(hooks.SIGNATURE_HEADER),
            body,
            now=time.time(),
        )
        service.metrics.hooks.labels(system, verdict.result).inc()
        level = logging.INFO if verdict.accepted else logging.WARNING
        log.log(
            level,
            "%s webhook %s",
            system,
            verdict.result,
            extra=event("webhook", system=system, result=verdict.result),
        )
        if not verdict.accepted:
            status = {hooks.NOT_CONFIGURED: 503, hooks.REPLAYED: 409}.get(verdict.result, 401)
            return JSONResponse({"error": verdict.reason}, status_code=status)
        planned = service.schedule.sync_soon(system)
        return JSONResponse(
            {"status": "accepted", "sync": "planned" if planned else "already planned"},
            status_code=202,
        )

    return routes


def service_app(config: Config, store: Store) -> FastAPI:
    """The service alone (no desk pages): what `bridge serve` adds to the desk."""
    service = Service(config, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(title="child-record bridge service", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)  # fmt: skip
    app.state.service = service
    app.include_router(router(service))
    return app
