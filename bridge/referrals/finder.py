"""Finding referrals in what the sources served, as canonical referrals (one per service).

Primero: the referrals (``GET /api/v2/cases/:id/referrals``) of changed cases that are
``in_progress``, ``remote``, and tied (``service_record_id``) to a ``services_section`` row
whose ``service_response_type`` is ``referral_to_oscar``.

OSCaR: a client referred to the government system is one with ``is_referred`` true and a
``referral_consent_form`` (OSCaR asks for the signed form before a client is referred out);
each ``services[]`` entry with a ``referral_id`` whose ``referral_status`` is ``Referred`` is a
referral. Referrals the bridge itself made into OSCaR carry no consent form and are recorded
in the outbox by their referral id, so they never bounce back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from bridge.model import Child

REFERRAL_TO_OSCAR = "referral_to_oscar"
MARKER_PREFIX = "bridge-ref"


@dataclass
class Snapshot:
    """A source record as last served, with its canonical child (None: not mappable)."""

    system: str
    record_id: str
    payload: dict[str, Any]
    child: Child | None
    child_id: str | None = None


class CanonicalReferral(BaseModel):
    """One referral for one service, in the bridge's terms."""

    source_system: str
    source_referral_id: str
    source_record_id: str  # Primero case id / OSCaR global id
    child_id: str | None = None
    source_service: str  # as the source names it (kept so a fixed vocabulary applies later)
    reason: str | None = None
    risk_level: str | None = None
    referee_name: str | None = None
    referee_phone: str | None = None
    referee_id: str | None = None
    agency: str | None = None  # the destination agency the referral names
    source_organisation: str | None = None
    province_code: str | None = None
    consent: bool = False
    consent_detail: str = ""
    service_record_id: str | None = None  # Primero services_section row
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def source_key(self) -> str:
        return f"{self.source_system}:{self.source_referral_id}:{self.source_service}"


def idempotency_key(referral: CanonicalReferral, system: str, organisation: str) -> str:
    return f"{referral.source_key}->{system}:{organisation}"


def marker(key: str) -> str:
    """A short tag that travels inside the referral (OSCaR ``reason_for_referral``) so the
    bridge can recognise its own referral in the destination after an unknown outcome."""
    return f"[{MARKER_PREFIX} {hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}]"


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def primero_consent(child: Child, referral: dict[str, Any]) -> tuple[bool, str]:
    if referral.get("consent_overridden") is True:
        return True, "consent_overridden on the referral"
    if child.consent.allows_referral:
        return True, "consent_for_services and disclosure_other_orgs" if not (
            child.consent.overridden
        ) else "consent_overridden on the case"
    missing = [
        name
        for name, value in (
            ("consent_for_services", child.consent.services),
            ("disclosure_other_orgs", child.consent.disclosure),
        )
        if value is not True
    ]
    return False, f"no consent: {' and '.join(missing)} not given and consent not overridden"


def primero_referrals(
    snapshot: Snapshot, list_referrals: Callable[[str], list[dict[str, Any]]]
) -> Iterator[CanonicalReferral]:
    """The open remote referrals to OSCaR of one Primero case (reads the case's referrals)."""
    rows = {
        row.get("unique_id"): row
        for row in snapshot.payload.get("services_section") or []
        if isinstance(row, dict)
        and row.get("service_response_type") == REFERRAL_TO_OSCAR
        and row.get("unique_id")
    }
    if not rows or snapshot.child is None:
        return
    child = snapshot.child
    for referral in list_referrals(snapshot.record_id):
        row = rows.get(referral.get("service_record_id"))
        if (
            row is None
            or referral.get("status") != "in_progress"
            or referral.get("remote") is not True
        ):
            continue
        consent, detail = primero_consent(child, referral)
        agency = _text(referral.get("transitioned_to_remote")) or _text(
            (referral.get("transitioned_to_agency") or "").removeprefix("agency-")
        )
        yield CanonicalReferral(
            source_system="primero",
            source_referral_id=str(referral["id"]),
            source_record_id=snapshot.record_id,
            child_id=snapshot.child_id,
            source_service=str(row.get("service_type") or referral.get("service") or ""),
            reason=_text(referral.get("notes")) or _text(row.get("service_referral_notes")),
            risk_level=child.risk_level,
            referee_name=_text(referral.get("transitioned_by")),
            referee_id=_text(referral.get("transitioned_by")),
            agency=agency,
            source_organisation=child.organisation,
            province_code=child.location.province_code,
            consent=consent,
            consent_detail=detail,
            service_record_id=str(row["unique_id"]),
        )


def oscar_referrals(
    snapshot: Snapshot, own_referral_ids: set[str] | None = None
) -> Iterator[CanonicalReferral]:
    """The referrals to the government system that one OSCaR client carries."""
    client = snapshot.payload
    if client.get("is_referred") is not True or snapshot.child is None:
        return
    if not client.get("referral_consent_form"):
        return  # not referred out (the bridge's own referrals in carry no consent form)
    child = snapshot.child
    for service in client.get("services") or []:
        if not isinstance(service, dict) or service.get("referral_status") != "Referred":
            continue
        referral_id = service.get("referral_id")
        if referral_id in (None, "") or str(referral_id) in (own_referral_ids or set()):
            continue
        yield CanonicalReferral(
            source_system="oscar",
            source_referral_id=str(referral_id),
            source_record_id=snapshot.record_id,
            child_id=snapshot.child_id,
            source_service=str(service.get("name") or ""),
            reason=_text(client.get("reason_for_referral")),
            risk_level=child.risk_level,
            referee_name=_text(client.get("case_worker_name")),
            referee_phone=_text(client.get("case_worker_mobile")),
            source_organisation=_text(client.get("organization_name")),
            province_code=child.location.province_code,
            consent=True,
            consent_detail="referral_consent_form on the client",
        )


def find_referrals(
    snapshots: Iterable[Snapshot],
    list_referrals: Callable[[str], list[dict[str, Any]]],
    own_referral_ids: set[str] | None = None,
) -> Iterator[CanonicalReferral]:
    for snapshot in snapshots:
        if snapshot.system == "primero":
            yield from primero_referrals(snapshot, list_referrals)
        elif snapshot.system == "oscar":
            yield from oscar_referrals(snapshot, own_referral_ids)
