"""What ``mapping check primero --live`` found comparing the mapping with Primero's own
configuration (see ``bridge.mapping.primero_config``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LookupDifference(BaseModel):
    vocabulary: str
    column: str
    lookup: str
    fields: list[str]  # JSON pointers of the case fields that use it
    offered_not_known: list[str] = Field(default_factory=list)  # in Primero, in no row
    not_offered: list[str] = Field(default_factory=list)  # a row's Primero value, not offered


class LocationMiss(BaseModel):
    code: str  # NCDD code, zeros kept
    count: int  # records that hold it


class PrimeroConfigReport(BaseModel):
    lookups_read: int = 0
    locations_read: int = 0
    compared: list[str] = Field(default_factory=list)  # "<vocabulary> = <lookup>"
    differences: list[LookupDifference] = Field(default_factory=list)
    missing_lookups: list[str] = Field(default_factory=list)  # named by a form, not served
    unlinked_fields: list[str] = Field(default_factory=list)  # vocabulary fields, no lookup
    unknown_locations: list[LocationMiss] = Field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(self.differences or self.missing_lookups or self.unknown_locations)
