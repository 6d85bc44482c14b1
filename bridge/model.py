"""The canonical child record: what every source record is mapped to before it is linked.

Field names are the users' words. Every field is optional except provenance: sources are
incomplete and a record with little in it is still stored and linked as well as it can be.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class DatePrecision(StrEnum):
    exact = "exact"  # a real day
    year = "year"  # only the year is known (often stored as YYYY-01-01)
    estimated = "estimated"  # estimated, e.g. from age or flagged ``estimated`` at source
    unknown = "unknown"  # missing or corrupt


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class BirthDate(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: date | None = None
    precision: DatePrecision = DatePrecision.unknown


class Names(BaseModel):
    """Names as recorded. Latin and Khmer script are kept apart; a Latin field that holds Khmer
    script (OSCaR's fallback) is moved to the Khmer side by the mapping."""

    given: str | None = None  # Latin given name
    family: str | None = None  # Latin family name
    given_km: str | None = None  # Khmer script given name
    family_km: str | None = None  # Khmer script family name
    full_km: str | None = None  # Khmer script full name whose order is unknown
    nickname: str | None = None
    other: list[str] = Field(default_factory=list)  # other recorded names (aliases)


class Caregiver(BaseModel):
    name: str | None = None  # Latin or Khmer, as recorded
    name_km: str | None = None
    relation: str | None = None  # mother, father, aunt, grandmother, guardian, ...
    is_caregiver: bool | None = None


class Service(BaseModel):
    """A service the child receives or is referred for, in canonical service types."""

    service_type: str | None = None  # canonical type, e.g. ``family_based_care_kinship``
    source_name: str | None = None  # as named at source (OSCaR name / Primero type)
    response_type: str | None = None  # Primero ``service_response_type``
    status: str | None = None
    source_row_id: str | None = None  # Primero ``unique_id`` / OSCaR ``uuid``
    referral_id: str | None = None
    agency: str | None = None
    date: dt.date | None = None  # enrolment / appointment date


class Consent(BaseModel):
    services: bool | None = None  # Primero consent_for_services
    disclosure: bool | None = None  # Primero disclosure_other_orgs
    overridden: bool = False
    reporting: bool | None = None

    @property
    def allows_referral(self) -> bool:
        return self.overridden or (self.services is True and self.disclosure is True)


class Location(BaseModel):
    code: str | None = None  # NCDD code as a string: 2/4/6/8 digits, zeros kept
    province_code: str | None = None  # first two digits


class Identifiers(BaseModel):
    """Identifiers that other systems use for the same child. Equal values link at once."""

    primero_case_id: str | None = None  # Primero case_id (OSCaR external_id)
    primero_case_id_display: str | None = None
    oscar_global_id: str | None = None  # OSCaR global_id (Primero oscar_number)
    oscar_slug: str | None = None
    mosvy_number: str | None = None
    national_id: str | None = None


class Child(BaseModel):
    """One source record's view of a child, in canonical form."""

    system: str  # "primero" | "oscar"
    record_id: str  # Primero case ``id`` / OSCaR ``global_id``
    organisation: str | None = None  # OSCaR tenant or Primero owning agency

    names: Names = Field(default_factory=Names)
    sex: Sex | None = None
    birth: BirthDate = Field(default_factory=BirthDate)
    age: int | None = None
    location: Location = Field(default_factory=Location)
    caregivers: list[Caregiver] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    protection_concerns: list[str] = Field(default_factory=list)
    disability: list[str] = Field(default_factory=list)
    consent: Consent = Field(default_factory=Consent)
    status: str | None = None
    risk_level: str | None = None  # high | medium | low | no_action
    placement: str | None = None
    identifiers: Identifiers = Field(default_factory=Identifiers)
    disabled: bool = False  # Primero record_state false
