"""The Primero v2 lookalike: sign-in, cases, referrals and the configuration endpoints
(shared/contracts/primero-v2.md)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date

from bridge.sandbox.faults import FaultSwitch
from bridge.sandbox.primero_cases import list_cases, validate_case
from bridge.sandbox.primero_config import PATHS as CONFIG_PATHS
from bridge.sandbox.primero_config import ConfigRoutes
from bridge.sandbox.primero_forms import permitted
from bridge.sandbox.primero_lookups import options
from bridge.sandbox.primero_referrals import ReferralRoutes
from bridge.sandbox.primero_state import READ_ONLY, PrimeroState, iso_ms
from bridge.sandbox.server import (
    HTML_ERROR,
    BadJson,
    Request,
    Response,
    echo_html_response,
    echo_text_response,
    echoed,
    echoed_fields,
    json_response,
)

_SELECTS = (
    ("sex", "lookup-gender"),
    ("risk_level", "lookup-risk-level"),
    ("status", "lookup-case-status"),
)
_CASE = re.compile(r"^/api/v2/cases/([^/]+)$")
_CASE_REFERRALS = re.compile(r"^/api/v2/cases/([^/]+)/referrals$")
_REFERRAL = re.compile(r"^/api/v2/cases/([^/]+)/referrals/([^/]+)$")


def error(status: int, resource: str, message: object, detail: object = None) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="Primero"'} if status == 401 else {}
    if status in (429, 503):
        headers["Retry-After"] = "60"
    entry = {"status": status, "resource": resource, "message": message, "detail": detail}
    return json_response(status, {"errors": [entry]}, headers)


def too_many(resource: str, seconds: int) -> Response:
    response = error(429, resource, "Too Many Requests")
    response.headers["Retry-After"] = str(seconds)
    return response


def error_list(status: int, errors: list[dict]) -> Response:
    return json_response(status, {"errors": errors})


class PrimeroApp:
    def __init__(self, state: PrimeroState, faults: FaultSwitch) -> None:
        self.state = state
        self.faults = faults
        self.referral_routes = ReferralRoutes(state)

    def log_request(self, method: str, path: str, status: int) -> None:
        self.state.log(method, path, status)

    def fault_response(self, kind: str, request: Request) -> Response:
        retry = {"Retry-After": str(self.faults.retry_after)}
        if kind == "echo_json":
            # one error per field quoting its value, then the whole body as the detail
            errors: list[dict] = [
                {
                    "status": 422,
                    "resource": request.path,
                    "detail": field,
                    "message": [f"{value!r} is not valid for {field}"],
                }
                for field, value in echoed_fields(request)
            ]
            try:
                detail = request.json()
            except BadJson:
                detail = echoed(request)
            message = f"Invalid Record JSON: {echoed(request)}"
            errors.append(
                {"status": 422, "resource": request.path, "message": message, "detail": detail}
            )
            return error_list(422, errors)
        if kind == "echo_text":
            return echo_text_response(request)
        if kind == "echo_html":
            return echo_html_response(request)
        if kind == "html":
            status = 200 if self.faults.coin() < 0.5 else 500
            return Response(status, HTML_ERROR, content_type="text/html; charset=utf-8")
        status = int(kind)
        message = {500: "Internal Server Error", 503: "Service Unavailable"}.get(
            status, "Too Many Requests"
        )
        response = error(status, "", message)
        if status in (503, 429):
            response.headers.update(retry)
        return response

    # --- auth ----------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> str | Response:
        header = request.headers.get("Authorization") or ""
        if header.startswith("Bearer "):
            user = self.state.logins.user_of(header[7:].strip())
            return user if user else error(401, request.path, "Unauthorized")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return error(401, request.path, "Unauthorized")
            return self._check_password(request, user, password)
        return error(401, request.path, "Unauthorized")

    def _check_password(self, request: Request, user: str, password: str) -> str | Response:
        locked = self.state.logins.locked_for(user)
        if locked is not None:
            return too_many(request.path, locked)
        if user == self.state.user and password == self.state.password:
            return user
        self.state.logins.record_failure(user)
        return error(401, request.path, "Unauthorized")

    def _login(self, request: Request) -> Response:
        """Every sign-in counts towards the throttle, then the password is checked; the JWT
        comes back in the body and in the Authorization header."""
        try:
            body = request.json()
            user = str(body["user"]["user_name"])
            password = str(body["user"]["password"])
        except (BadJson, KeyError, TypeError):
            return error(422, request.path, "Invalid Record JSON", ["/user"])
        wait = self.state.logins.throttled_for(user)
        if wait is not None:
            return too_many(request.path, wait)
        result = self._check_password(request, user, password)
        if isinstance(result, Response):
            return result
        token = self.state.logins.issue(user)
        return json_response(
            200, {"user_name": user, "token": token}, {"Authorization": f"Bearer {token}"}
        )

    # --- routing -------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if self.faults.locked:
            return error(503, request.path, "Service Unavailable")
        method, path = request.method, request.path.rstrip("/")
        if path == "/api/v2/tokens" and method == "POST":
            return self._login(request)
        user = self._authenticate(request)
        if isinstance(user, Response):
            return user
        if path == "/api/v2/tokens" and method == "DELETE":
            header = request.headers.get("Authorization") or ""
            self.state.logins.revoke(header[7:].strip())
            return json_response(200, {"data": {"message": "Signed out"}})
        if path in CONFIG_PATHS and method == "GET":
            return ConfigRoutes(self.state.lookups).answer(request, path)
        if path == "/api/v2/cases":
            if method == "GET":
                with self.state.lock:
                    return json_response(200, list_cases(self.state, request.query))
            if method == "POST":
                return self._create_case(request)
        if path == "/api/v2/cases/referrals" and method == "POST":
            return self.referral_routes.bulk(request, user)
        if m := _CASE.match(path):
            return self._one_case(request, m.group(1))
        if m := _CASE_REFERRALS.match(path):
            return self.referral_routes.for_case(request, m.group(1), user)
        if m := _REFERRAL.match(path):
            return self.referral_routes.one(request, m.group(1), m.group(2))
        return error(404, request.path, "Not Found")

    # --- cases ---------------------------------------------------------------------------
    def _read_data(self, request: Request) -> dict | Response:
        try:
            body = request.json()
        except BadJson:
            return error(422, request.path, "Invalid Record JSON", ["/"])
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return error(422, request.path, "Invalid Record JSON", ["/data"])
        return data

    def _options(self) -> dict[str, frozenset[str]]:
        """The values the select fields accept: their lookups, as served."""
        found = {field: options(self.state.lookups, lookup) for field, lookup in _SELECTS}
        return {field: values for field, values in found.items() if values is not None}

    def _today(self) -> date:
        return self.state.clock.now().date()

    def _create_case(self, request: Request) -> Response:
        data = self._read_data(request)
        if isinstance(data, Response):
            return data
        errors = validate_case(data, request.path, self._today(), self._options())
        if errors:
            return error_list(422, errors)
        fields = {k: v for k, v in permitted(data).items() if k not in READ_ONLY}
        client_id = data.get("id")
        with self.state.lock:
            if client_id and client_id in self.state.cases:
                return error(409, f"/api/v2/cases/{client_id}", "Conflict")
            if client_id:
                fields["id"] = client_id
            fields["created_at"] = iso_ms(self.state.clock.now())
            case = self.state.add_case(fields)
        if client_id:
            return Response(204, b"")
        generated = (
            "id", "case_id", "unique_identifier", "short_id", "case_id_display", "status",
            "record_state", "created_at", "last_updated_at",
        )  # fmt: skip
        return json_response(200, {"data": {k: case.get(k) for k in generated}})

    def _one_case(self, request: Request, case_id: str) -> Response:
        resource = f"/api/v2/cases/{case_id}"
        with self.state.lock:
            if case_id not in self.state.cases:
                return error(404, resource, "Not Found")
            if request.method == "GET":
                return json_response(200, {"data": self.state.cases[case_id]})
            if request.method == "DELETE":
                case = self.state.update_case(case_id, {"record_state": False})
                return json_response(200, {"data": {"id": case_id, "record_state": False}})
        if request.method != "PATCH":
            return error(404, resource, "Not Found")
        data = self._read_data(request)
        if isinstance(data, Response):
            return data
        errors = validate_case(data, resource, self._today(), self._options())
        if errors:
            return error_list(422, errors)
        fields = {k: v for k, v in permitted(data).items() if k not in READ_ONLY}
        with self.state.lock:
            if case_id not in self.state.cases:
                return error(404, resource, "Not Found")
            case = self.state.update_case(case_id, fields)
            changed = {k: case[k] for k in fields}
            changed.update(id=case_id, last_updated_at=case["last_updated_at"])
            return json_response(200, {"data": changed})
