"""OSCaR upsert: referral into an NGO (new client) or update, with the contract's rules."""

from __future__ import annotations

from bridge.sandbox.oscar_state import OscarState, mint_global_id
from bridge.sandbox.server import Response, json_response

RISK_LEVELS = ("high", "medium", "low", "no action")
REFERRAL_STATUSES = ("Referred", "Accepted", "Exited")
CLIENT_STATUSES = ("Referred", "Accepted", "Active", "Exited")
# Client fields an upsert may write; everything else in the payload is ignored.
CLIENT_FIELDS = (
    "given_name", "family_name", "local_given_name", "local_family_name", "gender",
    "date_of_birth", "location_current_village_code", "address_current_village_code",
    "external_id", "external_id_display", "mosvy_number", "external_case_worker_name",
    "external_case_worker_id", "external_case_worker_mobile", "level_of_risk",
    "reason_for_referral", "referral_consent_form", "resource",
)  # fmt: skip


def _text(payload: dict, *keys: str) -> str:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _service_names(value: object) -> list[str] | None:
    if not isinstance(value, list):
        return None
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            return None
        names.append(name)
    return names


def referral_errors(state: OscarState, org: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not _text(org, "reason_for_referral"):
        errors["reason_for_referral"] = ["can't be blank"]
    if not _text(org, "external_case_worker_name", "referee_name"):
        errors["external_case_worker_name"] = ["can't be blank"]
    if not _text(org, "external_case_worker_mobile", "referee_phone"):
        errors["external_case_worker_mobile"] = ["can't be blank"]
    names = _service_names(org.get("services"))
    if not names:
        errors["services"] = ["can't be blank"]
    elif any(n not in state.services for n in names):
        errors["services"] = ["is not included in the list"]
    level = org.get("level_of_risk")
    if level not in (None, "") and level not in RISK_LEVELS:
        errors["level_of_risk"] = ["is not included in the list"]
    status = org.get("referral_status")
    if status not in (None, "") and status not in REFERRAL_STATUSES:
        errors["referral_status"] = ["is not included in the list"]
    return errors


def _add_referral(state: OscarState, client: dict, org: dict) -> dict:
    """Create the referral and its referral-derived service entries. Lock held."""
    referral_id = state.next_referral_id()
    names = _service_names(org.get("services")) or []
    status = org.get("referral_status") or "Referred"
    referral = {
        "id": referral_id,
        "client_global_id": client["global_id"],
        "external_id": org.get("external_id") or "",
        "organization_name": client.get("organization_name", ""),
        "referral_status": status,
        "reason_for_referral": org.get("reason_for_referral") or "",
        "referee_name": _text(org, "external_case_worker_name", "referee_name"),
        "referee_phone": _text(org, "external_case_worker_mobile", "referee_phone"),
        "level_of_risk": org.get("level_of_risk") or "",
        "services": names,
        "created_at": state.clock.now().isoformat(),
    }
    state.referrals.append(referral)
    services = client.setdefault("services", [])
    for name in names:
        services.append(
            {
                "uuid": f"ref-{referral_id}-{len(services)}",
                "name": name,
                "program_name": state.services[name],
                "enrollment_date": "",
                "referral_id": referral_id,
                "referral_status": status,
            }
        )
    client["is_referred"] = True
    client["reason_for_referral"] = referral["reason_for_referral"]
    if referral["level_of_risk"]:
        client["level_of_risk"] = referral["level_of_risk"]
    state.touch(client["global_id"])
    return referral


def upsert(state: OscarState, body: object) -> Response:
    org = body.get("organization") if isinstance(body, dict) else None
    if not isinstance(org, dict):
        org = {}
    external_id = org.get("external_id") or ""
    if not isinstance(external_id, str):
        return json_response(422, {"external_id": "", "message": {"external_id": ["is invalid"]}})
    tenant = org.get("organization_name")
    if not isinstance(tenant, str) or not tenant.strip():
        message = {"organization_name": ["can't be blank"]}
        return json_response(422, {"external_id": external_id, "message": message})
    if tenant not in state.tenants:
        message = {"organization_name": ["is not included in the list"]}
        return json_response(422, {"external_id": external_id, "message": message})
    saved = {"external_id": external_id, "message": "Record saved."}
    fields = {k: org[k] for k in CLIENT_FIELDS if k in org and org[k] is not None}
    global_id = org.get("global_id") or ""
    if not isinstance(global_id, str):
        message = {"global_id": ["is invalid"]}
        return json_response(422, {"external_id": external_id, "message": message})
    with state.lock:
        if global_id:
            if global_id not in state.clients:
                return json_response(404, {"global_id": global_id, "message": "Record not found."})
            refer = org.get("is_referred") is True
            errors = referral_errors(state, org) if refer else {}
            if errors:
                return json_response(422, {"external_id": external_id, "message": errors})
            client = state.update_client(global_id, fields)
            if refer:
                _add_referral(state, client, org)
            return json_response(200, saved)
        earlier = [
            r
            for r in state.referrals
            if external_id and r["external_id"] == external_id and r["organization_name"] == tenant
        ]
        if earlier and any(r["referral_status"] != "Referred" for r in earlier):
            return json_response(422, {"external_id": external_id, "message": "Record was found."})
        errors = referral_errors(state, org)
        if errors:
            return json_response(422, {"external_id": external_id, "message": errors})
        if earlier:  # referred before and not yet accepted: another referral, same client
            client = state.clients[earlier[-1]["client_global_id"]]
            state.update_client(client["global_id"], fields)
        else:
            client = state.add_client(_new_client(state, tenant, fields))
        _add_referral(state, client, org)
        return json_response(200, saved)


def _new_client(state: OscarState, tenant: str, fields: dict) -> dict:
    client = {
        "global_id": mint_global_id(),
        "external_id": "",
        "external_id_display": "",
        "mosvy_number": "",
        "given_name": "",
        "family_name": "",
        "local_given_name": "",
        "local_family_name": "",
        "gender": "",
        "date_of_birth": "",
        "location_current_village_code": "",
        "address_current_village_code": "",
        "organization_name": tenant,
        "organization_id": state.tenants[tenant],
        "status": "Referred",
        "case_worker_name": "",
        "case_worker_mobile": "",
        "is_referred": True,
        "reason_for_referral": "",
        "level_of_risk": "",
        "referral_consent_form": [],
        "resource": "",
        "services": [],
    }
    client.update(fields)
    return client
