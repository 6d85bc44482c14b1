"""``GET /api/v2/lookups``, ``/api/v2/locations`` and ``/api/v2/forms``: the configuration
integrations read (shared/contracts/primero-v2.md, "Configuration read by integrations").

Lookups and locations are paged like cases (``page`` from 1, ``per`` default 20, silently
capped at 1000) with ``metadata: {total, per, page}``; forms come whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.sandbox.primero_cases import MAX_PER
from bridge.sandbox.primero_forms import forms_payload
from bridge.sandbox.primero_locations import all_locations, location_view
from bridge.sandbox.server import Request, Response, json_response

PATHS = ("/api/v2/lookups", "/api/v2/locations", "/api/v2/forms")


def _number(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def paged(items: Sequence[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    per = min(max(_number(query.get("per"), 20), 1), MAX_PER)
    page = max(_number(query.get("page"), 1), 1)
    chunk = list(items[(page - 1) * per : page * per])
    return {"data": chunk, "metadata": {"total": len(items), "per": per, "page": page}}


class ConfigRoutes:
    def __init__(self, lookups: Sequence[dict[str, Any]]) -> None:
        self.lookups = lookups

    def answer(self, request: Request, path: str) -> Response:
        if path == "/api/v2/lookups":
            return json_response(200, paged(self.lookups, request.query))
        if path == "/api/v2/locations":
            hierarchy = request.query.get("hierarchy", "false").lower() == "true"
            body = paged(all_locations(), request.query)
            body["data"] = [location_view(loc, hierarchy=hierarchy) for loc in body["data"]]
            return json_response(200, body)
        return json_response(200, forms_payload())
