"""A loaded mapping for one source kind: inbound (record -> child) and outbound (-> payloads)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from adapters.errors import ConfigError
from bridge.mapping.inbound import Mapped, compiled, map_canonical, map_inbound
from bridge.mapping.issues import MapResult
from bridge.mapping.loader import MappingSpec, load_spec
from bridge.mapping.outbound import OutboundResult, map_outbound
from bridge.mapping.referral import OutboundReferral
from bridge.mapping.screen import Limits, name_paths
from bridge.model import Child

KINDS = ("primero", "oscar")


def default_mappings_dir() -> Path:
    """The ``mappings`` folder installed with the bridge."""
    import mappings

    return Path(mappings.__file__).resolve().parent


class SourceMapping:
    """The mapping of one source kind, checked at load time."""

    def __init__(self, spec: MappingSpec, limits: Limits | None = None) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.system = spec.system
        self.limits = limits or Limits()
        self._names = name_paths(spec)
        compiled(spec)  # the rules as closures, once

    @property
    def file(self) -> Path:
        return self.spec.file

    @property
    def targets(self) -> list[str]:
        return list(self.spec.outbound)

    def inbound(self, payload: Any, *, today: date | None = None) -> MapResult:
        """Screen and map one source record; never raises (problems are errors and warnings)."""
        return map_inbound(self.spec, payload, today, limits=self.limits, names=self._names)

    def canonical(
        self, payload: Any, *, today: date | None = None, text: str | None = None
    ) -> Mapped:
        """``inbound`` as the store keeps it: the canonical child's JSON form (None when the
        record is quarantined) and the issues as dicts; the same decisions, faster.
        ``text``: the payload as JSON text (``ensure_ascii=False``), if at hand."""
        return map_canonical(
            self.spec, payload, today, limits=self.limits, names=self._names, text=text
        )

    def outbound(
        self,
        target: str,
        data: Child | dict | None = None,
        referral: OutboundReferral | dict | None = None,
        *,
        today: date | None = None,
    ) -> OutboundResult:
        """The payload for ``target`` (e.g. "upsert", "case_patch"), or errors (payload None).

        ``data`` is a Child (or a dict of its fields, or ``{"child": ..., "referral": ...}``);
        ``referral`` holds the canonical referral fields.
        """
        spec = self.spec.outbound.get(target)
        if spec is None:
            raise ConfigError(
                f"{self.spec.file.name}: no outbound target {target!r} "
                f"(has: {', '.join(self.spec.outbound) or 'none'})"
            )
        return map_outbound(spec, self.spec.vocabularies, data, referral, today)

    def allowed_fields(self, target: str | None = None) -> Any:
        """Payload fields that may leave for ``target`` (frozenset), or all targets (dict)."""
        if target is None:
            return {name: t.allowed for name, t in self.spec.outbound.items()}
        if target not in self.spec.outbound:
            raise ConfigError(f"{self.spec.file.name}: no outbound target {target!r}")
        return self.spec.outbound[target].allowed


def load_mapping(
    kind: str, mappings_dir: Path | None = None, limits: Limits | None = None
) -> SourceMapping:
    """Load and check ``<mappings_dir>/<kind>.toml`` and its vocabularies; ``limits`` are
    what a record's text may hold (``[limits]`` in the configuration; defaults if None).

    Raises MappingLoadError (a ConfigError) naming the file and the line of any problem.
    """
    folder = Path(mappings_dir) if mappings_dir is not None else default_mappings_dir()
    return SourceMapping(load_spec(kind, folder), limits)
