"""Configuration: a commented TOML file (see ``config.example.toml``) plus environment variables.

Where settings come from, strongest first:
1. ``BRIDGE_DATABASE_URL`` for the database URL;
2. the file named by ``--config`` or ``BRIDGE_CONFIG``;
3. built-in defaults (a SQLite file ``bridge.db`` in the current directory, no sources).

Secrets never come from the file: a source names the environment variable that holds its
password (``password_env``); a ``password`` key in the file is refused.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from bridge.mapping.screen import Limits as ScreenLimits

from adapters.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///bridge.db"
# the configuration file's sections that are read as they are into Config
SECTIONS = (
    "matching",
    "limits",
    "logging",
    "schedule",
    "hooks",
    "alerts",
    "service",
    "report",
    "desk",
    "retention",
)


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="name used on the command line, e.g. `bridge sync --source`")
    kind: Literal["primero", "oscar", "file"]
    system: Literal["primero", "oscar"] | None = None  # for kind "file": what the dump holds
    base_url: str | None = None
    username: str | None = None  # Primero user name
    email: str | None = None  # OSCaR admin e-mail
    password_env: str | None = None  # environment variable holding the password
    auth: Literal["basic", "token"] = "basic"  # Primero only
    page_size: int = Field(default=1000, ge=1, le=1000)
    overlap_minutes: int = Field(default=10, ge=0)  # OSCaR: cursor = request time - overlap
    path: str | None = None  # kind "file"
    timeout_seconds: float = 60.0
    max_attempts: int = Field(default=5, ge=1)
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: object) -> object:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "a password may not be written in the config file: put it in an environment "
                "variable and name that variable with password_env"
            )
        return data

    @model_validator(mode="after")
    def _complete(self) -> SourceConfig:
        if self.kind in ("primero", "oscar"):
            login = self.username if self.kind == "primero" else self.email
            missing = [
                key
                for key, value in (
                    ("base_url", self.base_url),
                    ("username" if self.kind == "primero" else "email", login),
                    ("password_env", self.password_env),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"source {self.name!r} needs {', '.join(missing)}")
        if self.kind == "file" and (not self.path or not self.system):
            raise ValueError(f"file source {self.name!r} needs path and system")
        return self

    @property
    def source_system(self) -> str:
        return self.system if self.kind == "file" and self.system else self.kind

    def password(self) -> str:
        """The password from the environment; a clear error if the variable is not set."""
        assert self.password_env
        value = os.environ.get(self.password_env)
        if not value:
            raise ConfigError(
                f"source {self.name!r}: environment variable {self.password_env} is not set; "
                f"export {self.password_env}=... before running"
            )
        return value


class MatchingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upper: float | None = None  # match probability for an automatic link (engine default if unset)
    lower: float | None = None  # from here up to `upper`: a review item for the helpdesk
    refit_growth: float = Field(default=1.5, gt=1.0)  # re-estimate weights when data grows so
    # after each sync, import and relink, estimate precision, recall and unique children from
    # the model (``bridge status`` shows them); costs about a full link of the store
    estimates: bool = True


class LimitsConfig(BaseModel):
    """What one record's text may hold; a record over a limit is quarantined, not mapped."""

    model_config = ConfigDict(extra="forbid")

    name_max_chars: int = Field(default=1000, ge=1)  # a name field, in characters
    field_max_bytes: int = Field(default=64 * 1024, ge=1)  # any text field, in UTF-8 bytes
    max_depth: int = Field(default=64, ge=2)  # objects and lists nested inside each other

    def screen_limits(self) -> ScreenLimits:
        from bridge.mapping.screen import Limits

        return Limits(self.name_max_chars, self.field_max_bytes, self.max_depth)


LogLevel = Literal["debug", "info", "warning", "error"]


class LoggingConfig(BaseModel):
    """Where log lines go is stderr; this says in which shape and how many."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["plain", "json"] = "plain"  # json: one object a line, for a log collector
    level: LogLevel = "warning"  # `bridge --verbose` makes it info
    levels: dict[str, LogLevel] = Field(default_factory=dict)  # per component: "bridge.sync"


class ScheduleConfig(BaseModel):
    """When `bridge serve` runs work by itself: cron expressions (5 fields; a 6th in front
    gives seconds), or unset for never."""

    model_config = ConfigDict(extra="forbid")

    sync: str | None = None  # e.g. "*/15 * * * *": every enabled source, then the referrals
    deliver: str | None = None  # e.g. "* * * * *": deliver what is due in the outbox
    relink: str | None = None  # e.g. "30 2 * * *": link everything again, nightly

    @model_validator(mode="after")
    def _cron(self) -> ScheduleConfig:
        from bridge.service.cron import parse_cron

        for name in ("sync", "deliver", "relink"):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse_cron(value)
                except ValueError as exc:
                    raise ValueError(f"{name} = {value!r}: {exc}") from None
        return self


class HooksConfig(BaseModel):
    """Webhooks in (`POST /hooks/primero`, `/hooks/oscar`): an HMAC of the body with a shared
    secret, read from the environment variable named here."""

    model_config = ConfigDict(extra="forbid")

    primero_secret_env: str = "BRIDGE_PRIMERO_HOOK_SECRET"
    oscar_secret_env: str = "BRIDGE_OSCAR_HOOK_SECRET"
    max_age_seconds: int = Field(default=300, ge=1)  # an older signed timestamp is refused
    debounce_seconds: float = Field(default=10.0, ge=0)  # hooks within this start one sync


class AlertsConfig(BaseModel):
    """Who hears about a failed run, a source failing runs in a row, or a new dead letter."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = None  # POSTed a JSON object {cause, subject, text}
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password_env: str | None = None  # environment variable holding the SMTP password
    mail_from: str = "bridge@localhost"
    mail_to: list[str] = Field(default_factory=list)
    failing_runs: int = Field(default=3, ge=1)  # a source failing this many runs in a row
    every_minutes: int = Field(default=60, ge=1)  # at most one alert per cause in this time

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url or (self.smtp_host and self.mail_to))


class ReportConfig(BaseModel):
    """`bridge report`: what may be published."""

    model_config = ConfigDict(extra="forbid")

    suppress_below: int = Field(default=5, ge=1)  # counts 1..N-1 shown as "<N" (1: none hidden)


class ServiceConfig(BaseModel):
    """What `GET /readyz` asks of a running service."""

    model_config = ConfigDict(extra="forbid")

    max_sync_age_minutes: int = Field(default=120, ge=1)  # the last good sync, when scheduled
    metrics_token_env: str | None = None  # if set: /metrics wants "Authorization: Bearer ..."


class DeskConfig(BaseModel):
    """The helpdesk in a browser (`bridge serve`): logins and sessions."""

    model_config = ConfigDict(extra="forbid")

    session_minutes: int = Field(default=480, ge=1)  # a login lasts at most this long
    idle_minutes: int = Field(default=30, ge=1)  # and ends after this long without a request
    max_failed_logins: int = Field(default=5, ge=1)  # then the account is locked ...
    lockout_minutes: int = Field(default=15, ge=1)  # ... for this long
    secure_cookies: bool = False  # true behind TLS (the reverse proxy): cookies only on https
    default_lang: Literal["en", "km"] = "en"
    page_size: int = Field(default=50, ge=1, le=500)  # queue rows a page


class RetentionConfig(BaseModel):
    """`bridge purge`: how long personal content is kept once it has served its purpose."""

    model_config = ConfigDict(extra="forbid")

    # raw payload of a record its source marks deleted (Primero record_state false)
    disabled_records_days: int = Field(default=365, ge=1)
    # payload sent and child snapshot of a delivered outbox row
    delivered_days: int = Field(default=90, ge=1)
    # a dead letter nobody replayed (the row goes, its audit row stays)
    dead_letter_days: int = Field(default=365, ge=1)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    mappings_dir: str | None = None  # default: the mappings shipped with the bridge
    sources: list[SourceConfig] = Field(default_factory=list)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    hooks: HooksConfig = Field(default_factory=HooksConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    desk: DeskConfig = Field(default_factory=DeskConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    path: str | None = Field(default=None, exclude=True)  # the file this came from

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} in the configuration ({known})")

    @property
    def mappings_path(self) -> Path | None:
        if not self.mappings_dir:
            return None
        path = Path(self.mappings_dir)
        if not path.is_absolute() and self.path:
            path = Path(self.path).parent / path
        return path


def load_config(path: str | Path | None = None) -> Config:
    """Read the configuration file (``path``, else ``$BRIDGE_CONFIG``, else defaults)."""
    chosen = path or os.environ.get("BRIDGE_CONFIG")
    data: dict = {}
    if chosen:
        file = Path(chosen)
        if not file.is_file():
            raise ConfigError(f"configuration file {file} not found")
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: {exc}") from exc
        data = dict(raw.get("bridge", {}))
        if "database" in raw:
            data["database_url"] = raw["database"].get("url", DEFAULT_DATABASE_URL)
        if "sources" in raw:
            data["sources"] = raw["sources"]
        for section in SECTIONS:
            if section in raw:
                data[section] = raw[section]
        data["path"] = str(file)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        where = f"{chosen}: " if chosen else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}invalid configuration: {problems}") from exc
    env_url = os.environ.get("BRIDGE_DATABASE_URL")
    if env_url:
        config.database_url = env_url
    return config
