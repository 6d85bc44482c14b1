"""Builds one Primero case or OSCaR client for a child, as one social worker typed it.

Field names, value lists and shares mirror shared/data/khmer-children-dev.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from bridge.sandbox.names import FEMALE_NAMES, MALE_NAMES, FamilyName, GivenName
from bridge.sandbox.variation import (
    age_on,
    day_str,
    dob_variant,
    global_id,
    spelling,
    typo,
    uuid4,
)

PROVINCE_NAMES = {
    "01": "Banteay Meanchey", "02": "Battambang", "03": "Kampong Cham",
    "04": "Kampong Chhnang", "05": "Kampong Speu", "06": "Kampong Thom", "07": "Kampot",
    "08": "Kandal", "09": "Koh Kong", "10": "Kratie", "11": "Mondul Kiri", "12": "Phnom Penh",
    "13": "Preah Vihear", "14": "Prey Veng", "15": "Pursat", "16": "Ratanak Kiri",
    "17": "Siem Reap", "18": "Preah Sihanouk", "19": "Stung Treng", "20": "Svay Rieng",
    "21": "Takeo", "22": "Oddar Meanchey", "23": "Kep", "24": "Pailin", "25": "Tboung Khmum",
}  # fmt: skip
# Primero user names as the dev corpus has them: "mgr" + first 6 letters of the province.
OWNERS = {code: "mgr" + name.lower().replace(" ", "")[:6] for code, name in PROVINCE_NAMES.items()}

TENANTS: dict[str, int] = {
    "cif": 306, "cfi": 312, "dt": 216, "tpo": 339, "kmr": 330, "cct": 314, "mlt": 333,
    "fi": 207, "sko": 341, "ko": 218,
}  # fmt: skip
TENANT_NAMES = list(TENANTS)

# OSCaR service name -> program name (also the sandbox's list of known services).
OSCAR_SERVICES: dict[str, str] = {
    "Kinship care": "Family based care", "Family reunification": "Family based care",
    "Family preservation": "Family based care", "Foster care": "Family based care",
    "Emergency shelter": "Protection", "Counselling": "Health",
    "Safe migration": "Protection", "Positive parenting": "Family support",
    "Disability support": "Health", "Legal support": "Protection",
    "Vocational training": "Education", "Violence response": "Protection",
    "Cash support": "Family support", "Medical care": "Health",
    "Drug and alcohol support": "Health", "Education support": "Education",
}  # fmt: skip
_OSCAR_SERVICE_NAMES = list(OSCAR_SERVICES)
PRIMERO_SERVICE_TYPES = [
    "psychosocial_support", "disability_support", "violence_response", "cash_transfer",
    "positive_parenting", "safe_migration", "drug_alcohol_support", "foster_care",
    "family_reintegration", "health_care", "family_preservation", "legal_support",
    "vocational_training", "emergency_shelter", "education_support", "kinship_care",
]  # fmt: skip
PROTECTION_CONCERNS = [
    "disability", "sexual_abuse", "conflict_with_law", "poverty", "migration", "child_labour",
    "residential_care", "violence", "neglect", "drug_use", "trafficking", "street_connected",
]  # fmt: skip
WORKFLOWS = ["new", "assessment", "case_plan", "services_implemented"]
RISK_LEVELS = ["high", "medium", "low", "no_action"]
OSCAR_RISK = ["high", "medium", "low", "no action"]
_RELATIONS = [("mother", "f"), ("father", "m"), ("grandmother", "f"), ("aunt", "f")]

_CREATED_FIRST = date(2024, 5, 15).toordinal()
LAST_UPDATE_DAY = date(2026, 10, 31).toordinal()
_ENROL_FIRST = date(2024, 6, 1).toordinal()


@dataclass(frozen=True, slots=True)
class Caregiver:
    relation: str
    given: GivenName
    listed: bool  # whether Primero registers list the caregiver at all


@dataclass(frozen=True, slots=True)
class Child:
    child_id: str
    family: str
    given: GivenName
    family_name: FamilyName
    sex: str
    dob: int  # day ordinal
    home: str  # 8-digit NCDD village code
    moved_to: str | None
    caregiver: Caregiver


def make_caregiver(rng: random.Random, _family: FamilyName) -> Caregiver:
    relation, sex = _RELATIONS[int(rng.random() * len(_RELATIONS))]
    pool = FEMALE_NAMES if sex == "f" else MALE_NAMES
    return Caregiver(relation, pool[int(rng.random() * len(pool))], rng.random() < 0.6)


def pick_tenants(rng: random.Random, count: int) -> list[str]:
    first = TENANT_NAMES[int(rng.random() * len(TENANT_NAMES))]
    out = [first]
    if count >= 2:
        if rng.random() < 0.15:  # registered twice by the same NGO
            out.append(first)
        else:
            out.append(rng.choice([t for t in TENANT_NAMES if t != first]))
    return out


def _pick(rng: random.Random, items: list, low: int, high: int) -> list:
    """low..high distinct items (cheaper than random.sample for these tiny draws)."""
    count = low + int(rng.random() * (high - low + 1))
    out: list = []
    while len(out) < count:
        item = items[int(rng.random() * len(items))]
        if item not in out:
            out.append(item)
    return out


class RecordContext:
    """Holds the random stream and the OSCaR slug counter across records."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.slug_no = 0

    def _latin_names(self, child: Child) -> tuple[str, str]:
        rng = self.rng
        given = spelling(rng, child.given.latin, 0.55)
        family = spelling(rng, child.family_name.latin, 0.7)
        if rng.random() < 0.04:
            given = typo(rng, given)
        elif rng.random() < 0.025 and " " in child.given.latin[1]:
            given = child.given.latin[1].rsplit(" ", 1)[1]  # the everyday short name
        if rng.random() < 0.02:
            family = typo(rng, family)
        return given, family

    def _village(self, child: Child, index: int) -> str:
        return child.moved_to if child.moved_to and index > 0 else child.home

    def primero_case(self, child: Child, index: int) -> dict:
        rng = self.rng
        case_id = uuid4(rng)
        given, family = self._latin_names(child)
        km_given, km_family = child.given.khmer, child.family_name.khmer
        swapped = rng.random() < 0.04
        other = None
        r = rng.random()
        if r < 0.117:
            first, last = f"{km_given} ({given})", f"{km_family} ({family})"
        elif r < 0.122:
            first, last = km_given, km_family
        elif r < 0.127:
            first, last, other = None, None, f"{km_family} {km_given}"
        else:
            if rng.random() < 0.09:
                family = family.upper()
            first, last = given, family
            if rng.random() < 0.135:
                other = f"{km_family} {km_given}"
        if swapped:
            first, last = last, first
        dob, estimated = dob_variant(rng, child.dob)
        r = rng.random()
        if r < 0.027:
            dob = None
        elif r < 0.029:
            dob = "2" + dob  # a corrupt five-digit year typed before validation existed
        village = self._village(child, index)
        location = village[1:] if village[0] == "0" and rng.random() < 0.67 else village
        created = _CREATED_FIRST + int(rng.random() * (LAST_UPDATE_DAY - _CREATED_FIRST))
        if rng.random() < 0.14:
            updated = max(created, LAST_UPDATE_DAY - int(rng.random() * 31))
        else:
            updated = created + int(rng.random() * (LAST_UPDATE_DAY - created + 1))
        secs = int(rng.random() * 86400)
        if updated == created:  # registered at 08:00: a same-day update comes later
            secs = 8 * 3600 + secs % (16 * 3600)
        stamp = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
        millis = int(rng.random() * 1000)
        case: dict = {
            "id": case_id,
            "case_id": case_id,
            "unique_identifier": case_id,
            "short_id": case_id[-7:],
            "case_id_display": case_id[-7:],
            "name_first": first,
            "name_last": last,
            "name": " ".join(p for p in (first, last) if p),
        }
        if other is not None:
            case["name_other"] = other
        caregiver = child.caregiver
        family_rows = []
        if caregiver.listed:
            cg_family = family if family.upper() != family else family.title()
            family_rows.append(
                {
                    "unique_id": uuid4(rng),
                    "relation_name": f"{cg_family} {spelling(rng, caregiver.given.latin, 0.6)}",
                    "relation": caregiver.relation,
                    "relation_is_caregiver": True,
                }
            )
        case.update(
            {
                "sex": None if rng.random() < 0.018 else child.sex,
                "date_of_birth": dob,
                "estimated": estimated,
                "age": age_on(dob or "") or age_on(day_str(child.dob)),
                "location_current": location,
                "owned_by": OWNERS.get(village[:2], "mgrphnomp"),
                "owned_by_agency_id": "agency-mosvy",
                "status": "open",
                "record_state": True,
                "workflow": WORKFLOWS[int(rng.random() * 4)],
                "registration_date": day_str(created),
                "created_at": f"{day_str(created)}T08:00:00.000Z",
                "last_updated_at": f"{day_str(updated)}T{stamp}.{millis:03d}Z",
                "risk_level": RISK_LEVELS[int(rng.random() * 4)],
                "protection_concerns": _pick(rng, PROTECTION_CONCERNS, 1, 2),
                "disability_type": "physical" if rng.random() < 0.07 else None,
                "consent_for_services": rng.random() < 0.91,
                "disclosure_other_orgs": rng.random() < 0.845,
                "oscar_number": None,
                "mosvy_number": None,
                "family_details_section": family_rows,
                "services_section": [
                    {
                        "unique_id": uuid4(rng),
                        "service_type": service,
                        "service_implemented": "not_implemented",
                        "service_response_type": "care_plan",
                    }
                    for service in _pick(rng, PRIMERO_SERVICE_TYPES, 1, 3)
                ],
            }
        )
        return case

    def oscar_client(self, child: Child, index: int, tenant: str) -> dict:
        rng = self.rng
        self.slug_no += 1
        given, family = self._latin_names(child)
        km_given, km_family = child.given.khmer, child.family_name.khmer
        r = rng.random()
        if r < 0.038:  # Latin left blank: OSCaR serves the Khmer in the Latin fields
            given, family, local_given, local_family = km_given, km_family, km_given, km_family
        elif r < 0.70:
            local_given, local_family = km_given, km_family
        else:
            local_given, local_family = "", ""
        if rng.random() < 0.04:
            given, family = family, given
        dob, _estimated = dob_variant(rng, child.dob)
        r = rng.random()
        if r < 0.03:
            dob = ""
        elif r < 0.034:
            dob = "2" + dob  # the corrupt five-digit years seen in OSCaR
        r = rng.random()
        gender = child.sex
        if r < 0.01:
            gender = "unknown"
        elif r < 0.019:
            gender = "prefer_not_to_say"
        village = self._village(child, index)
        r = rng.random()
        status = "Active" if r < 0.49 else ("Exited" if r < 0.75 else "Accepted")
        enrolled = day_str(_ENROL_FIRST + int(rng.random() * (LAST_UPDATE_DAY - _ENROL_FIRST)))
        return {
            "global_id": global_id(rng),
            "slug": f"{tenant}-{self.slug_no}",
            "external_id": "",
            "external_id_display": "",
            "mosvy_number": "",
            "given_name": given,
            "family_name": family,
            "local_given_name": local_given,
            "local_family_name": local_family,
            "gender": gender,
            "date_of_birth": dob,
            "location_current_village_code": village,
            "address_current_village_code": village,
            "organization_name": tenant,
            "organization_id": TENANTS[tenant],
            "status": status,
            "case_worker_name": "",
            "case_worker_mobile": "",
            "is_referred": False,
            "reason_for_referral": "",
            "level_of_risk": OSCAR_RISK[int(rng.random() * 4)],
            "referral_consent_form": [],
            "resource": "",
            "services": [
                {
                    "uuid": uuid4(rng),
                    "name": name,
                    "program_name": OSCAR_SERVICES[name],
                    "enrollment_date": enrolled,
                }
                for name in _pick(rng, _OSCAR_SERVICE_NAMES, 1, 3)
            ],
        }
