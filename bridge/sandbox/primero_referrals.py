"""Primero referrals (transitions): consent rules and the lifecycle's silent no-ops."""

from __future__ import annotations

import uuid

from bridge.sandbox.primero_state import PrimeroState, iso_ms
from bridge.sandbox.server import BadJson, Request, Response, json_response

# status -> statuses a PATCH may move it to; anything else is a silent no-op (200, unchanged)
TRANSITIONS = {"in_progress": {"accepted", "rejected"}, "accepted": {"done"}}
REVOCABLE = {"in_progress", "accepted"}
_FIELDS = (
    "transitioned_to", "remote", "transitioned_to_remote", "transitioned_to_agency", "service",
    "service_record_id", "notes", "consent_overridden",
)  # fmt: skip


def _err(status: int, resource: str, message: object, detail: object = None) -> dict:
    return {"status": status, "resource": resource, "message": message, "detail": detail}


def _respond(status: int, errors: list[dict]) -> Response:
    return json_response(status, {"errors": errors})


class ReferralRoutes:
    def __init__(self, state: PrimeroState) -> None:
        self.state = state

    def _data(self, request: Request) -> dict | None:
        try:
            body = request.json()
        except BadJson:
            return None
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else None

    def _create(self, case_id: str, data: dict, user: str) -> dict | list[dict]:
        """A new referral, or the errors that stop it. Call with the lock held."""
        resource = f"/api/v2/cases/{case_id}/referrals"
        case = self.state.cases.get(case_id)
        if case is None:
            return [_err(404, resource, "Not Found")]
        errors = []
        consented = case.get("consent_for_services") is True and (
            case.get("disclosure_other_orgs") is True
        )
        if not consented and data.get("consent_overridden") is not True:
            errors.append(_err(422, resource, ["consent is required to refer"], "consent"))
        if not data.get("remote") and not data.get("transitioned_to"):
            errors.append(_err(422, resource, ["can't be blank"], "transitioned_to"))
        if errors:
            return errors
        referral = {
            "id": str(uuid.uuid4()),
            "type": "Referral",
            "status": "in_progress",
            "record_type": "case",
            "record_id": case_id,
            "remote": bool(data.get("remote", False)),
            **{k: data.get(k) for k in _FIELDS if k != "remote"},
            "created_at": iso_ms(self.state.clock.now()),
            "transitioned_by": user,
        }
        self.state.referrals.setdefault(case_id, []).append(referral)
        self.state.touch(case_id)
        return referral

    def for_case(self, request: Request, case_id: str, user: str) -> Response:
        resource = f"/api/v2/cases/{case_id}/referrals"
        with self.state.lock:
            if case_id not in self.state.cases:
                return _respond(404, [_err(404, resource, "Not Found")])
            if request.method == "GET":
                return json_response(200, {"data": self.state.referrals.get(case_id, [])})
        if request.method != "POST":
            return _respond(404, [_err(404, resource, "Not Found")])
        data = self._data(request)
        if data is None:
            return _respond(422, [_err(422, resource, "Invalid Record JSON", ["/data"])])
        with self.state.lock:
            result = self._create(case_id, data, user)
            if isinstance(result, list):
                return _respond(result[0]["status"], result)
            return json_response(200, {"data": result})

    def bulk(self, request: Request, user: str) -> Response:
        resource = "/api/v2/cases/referrals"
        data = self._data(request)
        ids = data.get("ids") if data else None
        if not isinstance(ids, list) or not ids:
            return _respond(422, [_err(422, resource, "Invalid Record JSON", ["/data/ids"])])
        created, errors = [], []
        with self.state.lock:
            for case_id in ids:
                result = self._create(str(case_id), data, user)
                if isinstance(result, list):
                    errors.extend(result)
                else:
                    created.append(result)
        return json_response(200, {"data": created, "errors": errors})

    def one(self, request: Request, case_id: str, referral_id: str) -> Response:
        resource = f"/api/v2/cases/{case_id}/referrals/{referral_id}"
        data = self._data(request) if request.method == "PATCH" else {}
        with self.state.lock:
            found = [r for r in self.state.referrals.get(case_id, []) if r["id"] == referral_id]
            if case_id not in self.state.cases or not found:
                return _respond(404, [_err(404, resource, "Not Found")])
            referral = found[0]
            if request.method == "DELETE":
                if referral["status"] in REVOCABLE:
                    referral["status"] = "revoked"
                    self.state.touch(case_id)
                return json_response(200, {"data": referral})
            if request.method != "PATCH":
                return _respond(404, [_err(404, resource, "Not Found")])
            if data is None:
                return _respond(422, [_err(422, resource, "Invalid Record JSON", ["/data"])])
            wanted = data.get("status")
            if wanted in TRANSITIONS.get(referral["status"], set()):
                referral["status"] = wanted
                if wanted == "rejected":
                    referral["rejected_reason"] = data.get("rejected_reason")
                referral["responded_at"] = iso_ms(self.state.clock.now())
                self.state.touch(case_id)
            return json_response(200, {"data": referral})
