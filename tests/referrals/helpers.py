"""Sandbox set-up shared by the referral tests: cases referred to OSCaR, clients referred out."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from adapters.oscar import OscarAdapter
from adapters.primero import PrimeroAdapter
from bridge.mapping import load_mapping
from bridge.referrals.routing import RoutingConfig, parse_routing
from bridge.referrals.service import ReferralRunReport, deliver, pulled_snapshots, route
from bridge.sandbox import SandboxHandle
from bridge.store.db import Store, open_store

RULES = {
    "rules": [
        {"agency": "cif", "to": "oscar", "organisation": "cif"},
        {"from": "primero", "service": "legal_support", "province": "12", "to": "oscar",
         "organisation": "dt"},
        {"from": "primero", "to": "oscar", "organisation": "tpo"},
        {"from": "oscar", "to": "primero", "organisation": "mosvy"},
    ],
}  # fmt: skip
# the same two-way routing as TOML, for configuration files the tests write
RULES_TOML = """
[[referrals.rules]]
from = "primero"
to = "oscar"
organisation = "cif"

[[referrals.rules]]
from = "oscar"
to = "primero"
organisation = "mosvy"
"""


def routing(**settings: Any) -> RoutingConfig:
    base = {
        "max_attempts": 12,
        "backoff_initial_seconds": 0.05,
        "backoff_max_seconds": 0.5,
        "lease_seconds": 5,
        "workers": 8,
        "referee_phone": "023 000 000",
        **settings,
    }
    return parse_routing({**base, **RULES})


def new_store(db_url: str) -> Store:
    return open_store(db_url)


def adapters(sb: SandboxHandle, timeout: float = 1.0) -> dict[str, Any]:
    return {
        "primero": PrimeroAdapter(
            sb.primero_url, sb.primero_user, sb.primero_password, max_attempts=1, timeout=timeout
        ),
        "oscar": OscarAdapter(
            sb.oscar_url, sb.oscar_email, sb.oscar_password, max_attempts=1, timeout=timeout
        ),
    }


def mappings(folder: Path | None = None) -> dict[str, Any]:
    return {kind: load_mapping(kind, folder) for kind in ("primero", "oscar")}


def add_primero_referral(
    sb: SandboxHandle,
    n: int,
    *,
    service: str = "legal_support",
    agency: str | None = "cif",
    consent: bool = True,
    location: str = "12010101",
) -> tuple[str, str]:
    """A case with a referral_to_oscar services row and its in-progress remote referral."""
    case_id = str(uuid.UUID(int=n + 1))
    row_id = str(uuid.UUID(int=10**9 + n))
    sb.primero.add_case(
        {
            "id": case_id,
            "name_first": f"Dara{n}",
            "name_last": "Sok",
            "sex": "male",
            "date_of_birth": "2014-03-09",
            "location_current": location,
            "risk_level": "high",
            "consent_for_services": consent,
            "disclosure_other_orgs": consent,
            "protection_concerns": ["neglect"],
            "owned_by_agency_id": "agency-mosvy",
            "services_section": [
                {"unique_id": row_id, "service_type": service,
                 "service_response_type": "referral_to_oscar"},
            ],
        }
    )  # fmt: skip
    referral_id = str(uuid.UUID(int=2 * 10**9 + n))
    with sb.primero.lock:
        sb.primero.referrals.setdefault(case_id, []).append(
            {
                "id": referral_id, "type": "Referral", "status": "in_progress",
                "record_type": "case", "record_id": case_id, "remote": True,
                "transitioned_to_remote": agency, "transitioned_to_agency":
                f"agency-{agency}" if agency else None, "service": service,
                "service_record_id": row_id, "notes": "needs legal help",
                "transitioned_by": "mosvy_pnh",
            }
        )  # fmt: skip
    return case_id, referral_id


def add_oscar_referral(
    sb: SandboxHandle, n: int, *, service: str = "Counselling"
) -> tuple[str, int]:
    """A client referred by its NGO to the government system, with the consent form."""
    referral_id = sb.oscar.next_referral_id()
    client = sb.oscar.add_client(
        {
            "given_name": f"Srey{n}",
            "family_name": "Chan",
            "gender": "female",
            "date_of_birth": "2013-05-01",
            "location_current_village_code": "08030201",
            "organization_name": "cif",
            "status": "Active",
            "case_worker_name": "Kim",
            "case_worker_mobile": "012345678",
            "is_referred": True,
            "reason_for_referral": "family needs support",
            "level_of_risk": "medium",
            "referral_consent_form": ["consent.pdf"],
            "external_id": "",
            "services": [
                {"uuid": f"s-{n}", "name": service, "program_name": "Health",
                 "enrollment_date": "", "referral_id": referral_id,
                 "referral_status": "Referred"},
            ],
        }
    )  # fmt: skip
    with sb.oscar.lock:
        sb.oscar.referrals.append(
            {"id": referral_id, "client_global_id": client["global_id"], "external_id": "",
             "organization_name": "cif", "referral_status": "Referred", "services": [service]}
        )  # fmt: skip
    return client["global_id"], referral_id


def route_from_sandbox(
    store: Store, ads: dict[str, Any], rt: RoutingConfig, maps: dict[str, Any]
) -> ReferralRunReport:
    """Read both sandboxes (retrying a failed read: faults may be on) and route."""
    report = ReferralRunReport()
    for system in ("primero", "oscar"):
        for _ in range(30):
            try:
                snaps = list(pulled_snapshots(ads[system], maps[system], None))
            except Exception:  # noqa: BLE001 - a fault; read again
                continue
            if route(store, snaps, ads, rt, maps, report):
                break
    return report


def run_until_done(
    store: Store, ads: dict[str, Any], rt: RoutingConfig, maps: dict[str, Any], rounds: int = 40
) -> None:
    """Route, deliver and read back until the outbox has nothing open."""
    from bridge.referrals.delivery import open_count

    for _ in range(2):  # find and deliver; then what flowed back (links, decisions)
        route_from_sandbox(store, ads, rt, maps)
        for _ in range(rounds):
            deliver(store, ads, rt, maps, wait_up_to=5.0)
            if open_count(store) == 0:
                break
        else:
            raise AssertionError("outbox still has open rows")


def primero_rows_from_oscar(sb: SandboxHandle) -> list[dict]:
    return [
        row
        for case in sb.primero.cases.values()
        for row in case.get("services_section") or []
        if row.get("service_response_type") == "referral_from_oscar"
    ]
