"""Small in-memory stand-ins for Primero's case list, served through respx (no sockets)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

PRIMERO = "http://primero.test"
OSCAR = "http://oscar.test"
T0 = datetime(2026, 10, 9, 10, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def make_cases(count: int, start: datetime = T0, step_ms: int = 250) -> list[dict[str, Any]]:
    """Cases updated ``step_ms`` apart (several share a whole second, as in real life)."""
    return [
        {
            "id": str(uuid.UUID(int=index + 1)),
            "sex": "female",
            "last_updated_at": iso(start + timedelta(milliseconds=step_ms * index)),
        }
        for index in range(count)
    ]


class FakePrimeroCases:
    """Answers GET /api/v2/cases like Primero: ascending order, inclusive whole-second
    ``last_updated_at=from..`` filter, ``per`` silently capped at 1000, metadata."""

    def __init__(self, cases: list[dict[str, Any]]) -> None:
        self.cases = {case["id"]: case for case in cases}
        self.calls: list[dict[str, str]] = []
        self.after_call: Callable[[FakePrimeroCases, int], None] | None = None

    def touch(self, case_id: str, moment: datetime) -> None:
        self.cases[case_id] = {**self.cases[case_id], "last_updated_at": iso(moment)}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.calls.append(params)
        rows = sorted(self.cases.values(), key=lambda case: case["last_updated_at"])
        window = params.get("last_updated_at")
        if window:
            lower = parse(window.split("..")[0]).replace(microsecond=0)
            rows = [r for r in rows if parse(r["last_updated_at"]).replace(microsecond=0) >= lower]
        per = min(int(params.get("per", "20")), 1000)
        page = int(params.get("page", "1"))
        data = rows[(page - 1) * per : page * per]
        body = {"data": data, "metadata": {"total": len(rows), "per": per, "page": page}}
        if self.after_call is not None:
            self.after_call(self, len(self.calls))
        return httpx.Response(200, json=body)


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


HTML = "<!DOCTYPE html><html><body>We're sorry, but something went wrong.</body></html>"


def html_response(status: int = 200) -> httpx.Response:
    return httpx.Response(status, text=HTML, headers={"content-type": "text/html"})


class Sleeps(list[float]):
    """Records the waits the retry policy asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
