"""The canonical referral fields an outbound mapping may read (besides the child)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.model import Child


class OutboundReferral(BaseModel):
    """A referral, or a decision on one, in canonical terms. Services are canonical service
    types (``mappings/vocab/services.toml``); status and risk level are canonical values."""

    model_config = ConfigDict(extra="forbid")

    referral_id: str | None = None  # the referral's id in the system that receives this
    status: str | None = None  # pending | accepted | rejected
    services: list[str] = Field(default_factory=list)
    reason: str | None = None
    risk_level: str | None = None  # high | medium | low | no_action
    referee_name: str | None = None  # the social worker who refers
    referee_phone: str | None = None
    referee_id: str | None = None
    source_organisation: str | None = None
    destination_organisation: str | None = None  # OSCaR tenant or Primero agency code
    recipient_user: str | None = None  # Primero user who receives a referral
    service_record_id: str | None = None  # Primero services_section row id
    consent_overridden: bool | None = None
    rejected_reason: str | None = None


class OutboundInput(BaseModel):
    """What outbound paths point into: ``/child/...`` and ``/referral/...``."""

    child: Child
    referral: OutboundReferral
