"""The OSCaR v1 lookalike: sign-in, client feed, upsert, links, referral statuses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from bridge.sandbox.faults import FaultSwitch
from bridge.sandbox.oscar_state import OscarState
from bridge.sandbox.oscar_upsert import REFERRAL_STATUSES, upsert
from bridge.sandbox.server import (
    HTML_ERROR,
    BadJson,
    Request,
    Response,
    echo_html_response,
    echo_text_response,
    echoed,
    echoed_fields,
    encode_json,
    json_response,
)

NOT_SIGNED_IN = {"errors": ["You need to sign in or sign up before continuing."]}
BAD_LOGIN = {"errors": ["Invalid login credentials. Please try again."]}
_CLIENT_STATUS = {"Accepted": "Accepted", "Exited": "Exited", "Referred": "Referred"}


def blank_nulls(value: object) -> object:
    """OSCaR sends "" for every null."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return {k: blank_nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [blank_nulls(v) for v in value]
    return value


def parse_since(text: str) -> datetime:
    value = text.strip().replace("T", " ")
    if len(value) == 10:
        value += " 00:00:00"
    return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def complete(client: dict) -> bool:
    """The feed leaves out clients without a given name, family name, gender or birth date."""
    given = client.get("given_name") or client.get("local_given_name")
    family = client.get("family_name") or client.get("local_family_name")
    return bool(given and family and client.get("gender") and client.get("date_of_birth"))


class OscarApp:
    def __init__(self, state: OscarState, faults: FaultSwitch) -> None:
        self.state = state
        self.faults = faults

    def log_request(self, method: str, path: str, status: int) -> None:
        self.state.log(method, path, status)

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "echo_json":
            # Rails-style field -> messages quoting each value, and the request beside it
            message: dict[str, list[str]] = {}
            for field, value in echoed_fields(request):
                message.setdefault(field.rpartition(".")[2], []).append(f"{value} is invalid")
            return json_response(
                422, {"message": message or echoed(request), "request": echoed(request)}
            )
        if kind == "echo_text":
            return echo_text_response(request)
        if kind == "echo_html":
            return echo_html_response(request)
        if kind == "html":
            status = 200 if self.faults.coin() < 0.5 else 500
            return Response(status, HTML_ERROR, content_type="text/html; charset=utf-8")
        status = int(kind)
        headers = {"Retry-After": str(self.faults.retry_after)} if status in (429, 503) else {}
        return json_response(status, {"errors": [f"HTTP {status}"]}, headers)

    def dispatch(self, request: Request) -> Response:
        method, path = request.method, request.path.rstrip("/")
        if path == "/api/v1/admin_auth/sign_in" and method == "POST":
            return self._sign_in(request)
        headers = request.headers
        if not self.state.session_valid(
            headers.get("uid") or "", headers.get("client") or "", headers.get("access-token") or ""
        ):
            return json_response(401, NOT_SIGNED_IN)
        try:
            if path == "/api/v1/organizations/clients" and method == "GET":
                return self._feed(request)
            if path == "/api/v1/organizations/clients/upsert" and method == "POST":
                return upsert(self.state, request.json())
            if path == "/api/v1/organizations/clients/update_links" and method == "PUT":
                return self._update_links(request.json())
            if path == "/api/v1/organizations/referrals/update_statuses" and method == "PUT":
                return self._update_statuses(request.json())
        except BadJson:
            return json_response(400, {"errors": ["Invalid JSON"]})
        return json_response(404, {"errors": ["Not Found"]})

    def _sign_in(self, request: Request) -> Response:
        try:
            body = request.json()
        except BadJson:
            body = {}
        body = body if isinstance(body, dict) else {}
        if body.get("email") != self.state.email or body.get("password") != self.state.password:
            return json_response(401, BAD_LOGIN)
        headers = self.state.sign_in(self.state.email)
        data = {"id": 1, "email": self.state.email, "uid": self.state.email, "provider": "email"}
        return json_response(200, {"data": data}, headers)

    def _feed(self, request: Request) -> Response:
        since_text = request.query.get("since_date")
        end_text = request.query.get("end_date")
        try:
            since = parse_since(since_text) if since_text else None
            end = parse_since(end_text) if end_text else None
        except ValueError:
            return json_response(422, {"errors": ["since_date is invalid"]})
        with self.state.lock:
            selected = []
            for gid, client in self.state.clients.items():
                if not complete(client):
                    continue
                if end is not None:
                    created = self.state.created_at[gid]
                    if (since and created < since) or created > end:
                        continue
                # the quirk: compared by calendar day, so same-day earlier changes come back
                elif since is not None and self.state.changed_at[gid].date() < since.date():
                    continue
                selected.append(gid)
        return Response(200, self._stream(selected))

    def _stream(self, selected: list[str]) -> Iterator[bytes]:
        """Encode client by client while writing: a large window never sits in memory."""
        yield b'{"data": ['
        sep = b""
        for gid in selected:
            with self.state.lock:
                client = self.state.clients.get(gid)
                text = encode_json(blank_nulls(client)) if client else None
            if text is not None:
                yield sep + text
                sep = b","
        yield b"]}"

    def _update_links(self, body: object) -> Response:
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            return json_response(422, {"message": {"data": ["can't be blank"]}})
        with self.state.lock:
            for row in rows:
                if not isinstance(row, dict):
                    continue
                gid = row.get("global_id")
                if gid not in self.state.clients:
                    continue  # unknown global ids are skipped silently, as OSCaR does
                fields = {
                    "external_id": row.get("external_id") or "",
                    "external_id_display": row.get("external_id_display") or "",
                }
                self.state.update_client(gid, fields)
                self.state.links.append({"global_id": gid, **fields})
        return json_response(200, {"message": "Record saved."})

    def _update_statuses(self, body: object) -> Response:
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            return json_response(422, {"message": {"data": ["can't be blank"]}})
        with self.state.lock:
            by_id = {r["id"]: r for r in self.state.referrals}
            for row in rows:
                status = row.get("referral_status") if isinstance(row, dict) else None
                if status not in REFERRAL_STATUSES:
                    message = {"referral_status": ["is not included in the list"]}
                    return json_response(422, {"message": message})
                referral_id = row.get("referral_id")
                referral = by_id.get(referral_id) if isinstance(referral_id, int) else None
                if referral is None or referral["client_global_id"] != row.get("client_global_id"):
                    return json_response(
                        404, {"referral_id": row.get("referral_id"), "message": "Record not found."}
                    )
            for row in rows:
                referral = by_id[row["referral_id"]]
                referral["referral_status"] = row["referral_status"]
                client = self.state.clients.get(referral["client_global_id"])
                if client is not None:
                    for service in client.get("services") or []:
                        if service.get("referral_id") == referral["id"]:
                            service["referral_status"] = row["referral_status"]
                    client["status"] = _CLIENT_STATUS[row["referral_status"]]
                    self.state.touch(client["global_id"])
                self.state.status_updates.append(dict(row))
        return json_response(200, {"message": "Record saved."})
