"""How each kind of outbox row is built, sent and looked up in its destination.

    kind      destination  request                              look-up (outcome unknown)
    referral  oscar        clients/upsert (not idempotent)      the client feed: our marker in
                                                                reason_for_referral
    referral  primero      POST case with a client id (409 =    GET the case: the services row
                           there) or PATCH its services row     whose unique_id we minted
    decision  primero      PATCH the referral, then read back   the case's referrals
    decision  oscar        update_statuses, then read back      the client feed
    link      oscar/primero update_links / PATCH oscar_number   none needed: both idempotent

Payloads are built at send time from the canonical referral and the child snapshot, through the
destination's outbound mapping, then cut to its allow-list: a vocabulary fixed after a dead
letter applies on replay.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from adapters.errors import FatalSourceError
from bridge.mapping import OutboundReferral, SourceMapping
from bridge.model import Child, Identifiers, Service
from bridge.referrals.consent import minimise
from bridge.referrals.finder import CanonicalReferral, marker
from bridge.referrals.routing import RoutingConfig
from bridge.referrals.tables import DECISION, LINK, REFERRAL, OutboxRow

NAMESPACE = uuid.UUID("6b1f0c8e-3d6a-4f57-9a53-7e2c1f0b9d41")  # the bridge's uuid5 namespace
CASES = "/api/v2/cases"
_PRIMERO_STATUS = {"accepted": "accepted", "rejected": "rejected"}
_OSCAR_STATUS = {"accepted": ("Accepted", "Active"), "rejected": ("Exited", "Rejected")}


class BuildError(Exception):
    """The payload cannot be built (an unknown service, a missing required field)."""


@dataclass
class Context:
    mappings: dict[str, SourceMapping]
    routing: RoutingConfig
    adapters: dict[str, Any]
    oscar_feed: list[dict[str, Any]] | None = None  # read once per pass when a look-up needs it
    notes: list[str] = field(default_factory=list)


def row_uuid(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"services_section:{key}"))


def case_uuid(global_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"oscar-client:{global_id}"))


def canonical_service(ctx: Context, referral: CanonicalReferral) -> str:
    """The canonical service type of the source's service name (the raw name if unknown: the
    destination mapping then refuses it with a clear error, never a placeholder)."""
    table = ctx.mappings[referral.source_system].spec.vocabularies["services"]
    found = table.to_canonical(referral.source_system, referral.source_service)
    return found or referral.source_service


def _outbound(ctx: Context, system: str, target: str, child: Any, referral: Any) -> dict:
    mapping = ctx.mappings[system]
    result = mapping.outbound(target, child, referral)
    if result.errors or result.payload is None:
        problems = "; ".join(f"{i.pointer or '/'}: {i.message}" for i in result.errors)
        raise BuildError(f"{mapping.file.name} [{target}]: {problems}")
    ((envelope, body),) = result.payload.items()
    allowed = mapping.allowed_fields(target)
    if isinstance(body, list):
        return {envelope: [minimise(item, allowed) for item in body]}
    return {envelope: minimise(body, allowed)}


def _parts(row: OutboxRow) -> tuple[CanonicalReferral, Child]:
    referral = CanonicalReferral.model_validate(row.request["referral"])
    return referral, Child.model_validate(row.request["child"])


# --- building ----------------------------------------------------------------------------------


def build(row: OutboxRow, ctx: Context) -> dict[str, Any]:
    if row.kind == REFERRAL and row.destination_system == "oscar":
        return _build_upsert(row, ctx)
    if row.kind == REFERRAL and row.destination_system == "primero":
        return _build_case(row, ctx)
    request = row.request
    gid = request.get("global_id") or ""
    child = Child(system="oscar", record_id=gid or "-", identifiers=Identifiers(
        oscar_global_id=gid or None,
        primero_case_id=request.get("case_id"),
        primero_case_id_display=request.get("case_id_display"),
    ))  # fmt: skip
    if row.kind == DECISION and row.destination_system == "primero":
        out = OutboundReferral(status=request["status"], rejected_reason=request.get("reason"))
        return _outbound(ctx, "primero", "referral_update", None, out)
    if row.kind == DECISION:
        out = OutboundReferral(referral_id=str(request["referral_id"]), status=request["status"])
        return _outbound(ctx, "oscar", "update_statuses", child, out)
    if row.kind == LINK and row.destination_system == "oscar" and not request.get("case_id"):
        # the link is cleared (a split, an undo): OSCaR takes "" for "no case"
        return {"data": [{"global_id": gid, "external_id": "", "external_id_display": ""}]}
    if row.kind == LINK and row.destination_system == "oscar":
        return _outbound(ctx, "oscar", "update_links", child, None)
    if row.kind == LINK and not gid:
        return {"data": {"oscar_number": None}}  # the link is cleared (a split, an undo)
    if row.kind == LINK:
        body = _outbound(ctx, "primero", "case_patch", child, None)["data"]
        return {"data": {"oscar_number": body["oscar_number"]}}
    raise BuildError(f"no sender for {row.kind} to {row.destination_system}")


def _build_upsert(row: OutboxRow, ctx: Context) -> dict[str, Any]:
    referral, child = _parts(row)
    reason = referral.reason or f"Referred from {referral.source_system}"
    out = OutboundReferral(
        services=[canonical_service(ctx, referral)],
        reason=f"{reason} {marker(row.idempotency_key or row.source_key)}",
        risk_level=referral.risk_level,
        referee_name=referral.referee_name,
        referee_phone=referral.referee_phone or ctx.routing.referee_phone,
        referee_id=referral.referee_id,
        source_organisation=referral.source_organisation,
        destination_organisation=row.destination_org,
    )
    return _outbound(ctx, "oscar", "upsert", child, out)


def _build_case(row: OutboxRow, ctx: Context) -> dict[str, Any]:
    referral, child = _parts(row)
    service = Service(
        source_row_id=row_uuid(row.idempotency_key or row.source_key),
        service_type=canonical_service(ctx, referral),
        status="pending",
        referral_id=referral.source_referral_id,
        agency=referral.source_organisation,
    )
    return _outbound(
        ctx, "primero", "case_patch", child.model_copy(update={"services": [service]}), None
    )


# --- sending -----------------------------------------------------------------------------------


def send(row: OutboxRow, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Send one attempt; returns what the destination told us (ids), raises SourceError."""
    primero, oscar = ctx.adapters.get("primero"), ctx.adapters.get("oscar")
    request = row.request
    if row.kind == REFERRAL and row.destination_system == "oscar":
        answer = oscar.upsert_client(payload["organization"])
        gid = payload["organization"].get("global_id")
        return {"external_id": answer.get("external_id"), **({"global_id": gid} if gid else {})}
    if row.kind == REFERRAL:
        return _send_case(row, payload["data"], primero)
    if row.kind == DECISION and row.destination_system == "primero":
        primero.update_referral(request["case_id"], request["referral_id"], payload["data"])
        return _confirm_primero_decision(row, primero)
    if row.kind == DECISION:
        oscar.update_statuses(payload["data"])
        return {"read_back": "pending"}
    if row.kind == LINK and row.destination_system == "oscar":
        oscar.update_links(payload["data"])
        return {}
    primero.patch_case(request["case_id"], payload["data"])
    return {}


def _existing_case(row: OutboxRow, primero: Any) -> str | None:
    referral, child = _parts(row)
    case_id = (row.result or {}).get("case_id") or child.identifiers.primero_case_id
    if case_id:
        return case_id
    found = primero.find_cases(oscar_number=referral.source_record_id)
    if len(found) > 1:
        raise FatalSourceError(
            "primero",
            f"{len(found)} cases carry the oscar_number of OSCaR client "
            f"{referral.source_record_id}; resolve the duplicate in Primero, then replay",
        )
    return str(found[0]["id"]) if found else None


def _send_case(row: OutboxRow, body: dict[str, Any], primero: Any) -> dict[str, Any]:
    key = row.idempotency_key or row.source_key
    patch = {
        k: body[k] for k in ("oscar_number", "oscar_short_id", "services_section") if k in body
    }
    case_id = _existing_case(row, primero)
    if case_id is None:
        case_id = case_uuid(row.source_record_id)  # minted: a re-send meets 409, never a twin
        try:
            create_case(primero, {"id": case_id, **body})
        except FatalSourceError as exc:
            if exc.status != 409:
                raise
            primero.patch_case(case_id, patch)
    else:
        primero.patch_case(case_id, patch)
    return {"case_id": case_id, "row_id": row_uuid(key)}


def create_case(primero: Any, body: dict[str, Any]) -> None:
    """POST /api/v2/cases with a client-supplied id (204). A thin local stand-in until the
    Primero adapter has ``create_case``."""
    if hasattr(primero, "create_case"):
        primero.create_case(body)
        return
    primero._request("POST", CASES, body={"data": body}, idempotent=False)


def _confirm_primero_decision(row: OutboxRow, primero: Any) -> dict[str, Any]:
    """Primero ignores an illegal transition silently: read the status back."""
    request = row.request
    wanted = _PRIMERO_STATUS[request["status"]]
    for referral in primero.list_referrals(request["case_id"]):
        if str(referral.get("id")) == str(request["referral_id"]):
            if referral.get("status") == wanted:
                return {"confirmed_status": wanted}
            raise FatalSourceError(
                "primero",
                f"referral {request['referral_id']} kept status {referral.get('status')!r} after "
                f"the change to {wanted!r} (Primero ignores a transition it does not allow)",
            )
    raise FatalSourceError("primero", f"referral {request['referral_id']} not found on read-back")


# --- looking in the destination ---------------------------------------------------------------


def needs_feed(row: OutboxRow) -> bool:
    return row.destination_system == "oscar" and row.kind in (REFERRAL, DECISION)


def look_up(row: OutboxRow, ctx: Context) -> dict[str, Any] | None:
    """What the destination holds of this row after an unknown outcome: its ids when the
    message arrived, None when it did not (send it again)."""
    if row.kind == REFERRAL and row.destination_system == "oscar":
        return find_oscar_referral(row, ctx.oscar_feed or [])
    if row.kind == REFERRAL:
        case_id = _existing_case(row, ctx.adapters["primero"]) or case_uuid(row.source_record_id)
        return _find_case_row(row, case_id, ctx.adapters["primero"])
    if row.kind == DECISION and row.destination_system == "primero":
        try:
            return _confirm_primero_decision(row, ctx.adapters["primero"])
        except FatalSourceError:
            return None
    if row.kind == DECISION:
        return _oscar_status_read_back(row, ctx.oscar_feed or [])
    return None  # links are idempotent: sending again is the look-up


def _find_case_row(row: OutboxRow, case_id: str, primero: Any) -> dict[str, Any] | None:
    wanted = row_uuid(row.idempotency_key or row.source_key)
    try:
        case = primero.get_case(case_id)
    except FatalSourceError as exc:
        if exc.status == 404:
            return None
        raise
    for service in case.get("services_section") or []:
        if isinstance(service, dict) and service.get("unique_id") == wanted:
            return {"case_id": case_id, "row_id": wanted}
    return None


def find_oscar_referral(row: OutboxRow, feed: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Our referral among the clients of the feed: the destination tenant, the child's Primero
    case id or OSCaR id, and our marker in ``reason_for_referral``."""
    tag = marker(row.idempotency_key or row.source_key)
    sent = (row.payload or {}).get("organization", {})
    known = (row.result or {}).get("global_id") or sent.get("global_id") or None
    external_id = sent.get("external_id") or row.source_record_id
    names = {s.get("name") for s in sent.get("services", [])}
    for client in feed:
        if client.get("organization_name") != row.destination_org:
            continue
        if client.get("global_id") != known and client.get("external_id") != external_id:
            continue
        if tag not in (client.get("reason_for_referral") or ""):
            continue
        ids = [
            s.get("referral_id")
            for s in client.get("services") or []
            if isinstance(s, dict)
            and s.get("name") in names
            and s.get("referral_id") not in (None, "")
        ]
        found = {"global_id": client.get("global_id")}
        if ids:
            found["referral_id"] = str(max(ids, key=lambda v: int(v) if str(v).isdigit() else 0))
        return found
    return None


def _oscar_status_read_back(row: OutboxRow, feed: list[dict[str, Any]]) -> dict[str, Any] | None:
    request = row.request
    for client in feed:
        if client.get("global_id") != request.get("global_id"):
            continue
        for service in client.get("services") or []:
            if (
                isinstance(service, dict)
                and str(service.get("referral_id")) == str(request["referral_id"])
                and service.get("referral_status") in _OSCAR_STATUS[request["status"]]
            ):
                return {"confirmed_status": service.get("referral_status")}
    return None
