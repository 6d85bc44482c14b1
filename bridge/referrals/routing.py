"""Routing rules and delivery settings: the ``[referrals]`` section of the configuration file.

A referral goes to the first rule that matches, tried in this order:

    1. by the referral's named agency      (``agency = "cif"``)
    2. by service and province             (both named beats one named)
    3. the default                         (a rule naming neither)

each only among the rules for the referral's source system (``from``, or every source when
left out). A referral that matches no rule is held with the reason, never dropped.

    [referrals]
    max_attempts = 8                # then the row is a dead letter with the last error
    backoff_initial_seconds = 2     # exponential backoff with jitter, never below Retry-After
    backoff_max_seconds = 600
    lease_seconds = 300             # how long an attempt in flight keeps a row from others
    workers = 4
    referee_phone = "023 000 000"   # the referring office's phone when a referral has none

    [[referrals.rules]]
    agency = "cif"
    to = "oscar"
    organisation = "cif"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.errors import ConfigError

SYSTEMS = ("primero", "oscar")
_RULE_KEYS = {"from", "agency", "service", "province", "to", "organisation", "default"}
_SETTINGS = {
    "max_attempts": int,
    "backoff_initial_seconds": float,
    "backoff_max_seconds": float,
    "lease_seconds": float,
    "workers": int,
    "timeout_seconds": float,
    "referee_phone": str,
}


@dataclass(frozen=True)
class Rule:
    to: str  # destination system
    organisation: str  # OSCaR tenant or Primero agency code
    source: str | None = None  # "from": only referrals from this system
    agency: str | None = None
    service: str | None = None  # canonical service type
    province: str | None = None  # two-digit NCDD province code

    @property
    def specificity(self) -> int:
        return (self.service is not None) + (self.province is not None)


@dataclass(frozen=True)
class Route:
    system: str
    organisation: str
    why: str  # which rule, for `referrals show`


@dataclass
class RoutingConfig:
    rules: list[Rule] = field(default_factory=list)
    max_attempts: int = 8
    backoff_initial_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    lease_seconds: float = 300.0
    workers: int = 4
    timeout_seconds: float = 30.0
    referee_phone: str | None = None

    def route(
        self,
        source_system: str,
        agency: str | None,
        service: str | None,
        province: str | None,
    ) -> Route | str:
        """Where a referral goes, or the reason it is held."""
        rules = [
            r for r in self.rules if r.source in (None, source_system) and r.to != source_system
        ]
        if agency:
            for index, rule in enumerate(rules):
                if rule.agency == agency:
                    return Route(rule.to, rule.organisation, f"rule {index + 1}: agency {agency}")
        by_place = [
            r
            for r in rules
            if r.agency is None
            and r.specificity > 0
            and r.service in (None, service)
            and r.province in (None, province)
        ]
        if by_place:
            best = max(by_place, key=lambda r: r.specificity)
            what = ", ".join(
                f"{k} {v}" for k, v in (("service", best.service), ("province", best.province)) if v
            )
            return Route(best.to, best.organisation, f"rule: {what}")
        for rule in rules:
            if rule.agency is None and rule.specificity == 0:
                return Route(rule.to, rule.organisation, "default rule")
        return (
            f"no routing rule matches a referral from {source_system} "
            f"(agency {agency or '-'}, service {service or '-'}, province {province or '-'}); "
            "add a [[referrals.rules]] entry and run again"
        )


def _rule(where: str, raw: Any) -> Rule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a rule must be a table")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_RULE_KEYS)}")
    to, organisation = raw.get("to"), raw.get("organisation")
    if to not in SYSTEMS:
        raise ConfigError(f"{where}: `to` must be one of {list(SYSTEMS)}")
    if not isinstance(organisation, str) or not organisation:
        raise ConfigError(f"{where}: `organisation` is required (OSCaR tenant or Primero agency)")
    source = raw.get("from")
    if source is not None and source not in SYSTEMS:
        raise ConfigError(f"{where}: `from` must be one of {list(SYSTEMS)}")
    province = raw.get("province")
    if province is not None:
        province = str(province).zfill(2)
    values = {k: raw.get(k) for k in ("agency", "service")}
    for key, value in values.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: `{key}` must be text")
    return Rule(to, organisation, source, values["agency"], values["service"], province)


def parse_routing(section: dict[str, Any], where: str = "[referrals]") -> RoutingConfig:
    config = RoutingConfig()
    for key, value in section.items():
        if key == "rules":
            continue
        kind = _SETTINGS.get(key)
        if kind is None:
            known = sorted([*_SETTINGS, "rules"])
            raise ConfigError(f"{where}: unknown key {key!r}; known: {known}")
        try:
            setattr(config, key, kind(value))
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {key} must be a {kind.__name__}") from None
    if config.max_attempts < 1 or config.workers < 1:
        raise ConfigError(f"{where}: max_attempts and workers must be at least 1")
    rules = section.get("rules", [])
    if not isinstance(rules, list):
        raise ConfigError(f"{where}: rules must be an array of tables ([[referrals.rules]])")
    config.rules = [_rule(f"{where} rule {i + 1}", raw) for i, raw in enumerate(rules)]
    return config


def load_routing(config_path: str | Path | None) -> RoutingConfig:
    """The ``[referrals]`` section of the configuration file (defaults, no rules, without one)."""
    if not config_path:
        return RoutingConfig()
    file = Path(config_path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {file} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from exc
    section = raw.get("referrals", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{file}: [referrals] must be a table")
    return parse_routing(section, f"{file} [referrals]")
