"""Declarative mappings: source records <-> the canonical child, from ``mappings/*.toml``."""

from bridge.mapping.check import CheckReport, check_records
from bridge.mapping.engine import SourceMapping, default_mappings_dir, load_mapping
from bridge.mapping.errors import MappingLoadError
from bridge.mapping.issues import Issue, MapResult, VocabularyMiss
from bridge.mapping.outbound import OutboundResult
from bridge.mapping.referral import OutboundReferral
from bridge.mapping.render import (
    render_json,
    render_outbound_json,
    render_outbound_table,
    render_table,
)
from bridge.mapping.transforms import REGISTRY as TRANSFORMS

__all__ = [
    "TRANSFORMS",
    "CheckReport",
    "Issue",
    "MapResult",
    "MappingLoadError",
    "OutboundReferral",
    "OutboundResult",
    "SourceMapping",
    "VocabularyMiss",
    "check_records",
    "default_mappings_dir",
    "load_mapping",
    "render_json",
    "render_outbound_json",
    "render_outbound_table",
    "render_table",
]
