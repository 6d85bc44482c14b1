"""Opening the database and bringing its schema up to date (Alembic, run in-process)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from adapters.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


class JsonText(str):
    """A value for a JSON column that is JSON text already (the store writes it as it is,
    so a payload encoded once for its hash is not encoded again)."""


def json_dumps(value: Any) -> str:
    """The JSON columns' encoder: ``JsonText`` as it is, anything else as SQLAlchemy's
    default does (``json.dumps``)."""
    if type(value) is JsonText:
        return str.__str__(value)
    return json.dumps(value)


def writes_json_text(session: Session) -> bool:
    """Whether the session's database takes ``JsonText`` as it is (an engine from
    ``make_engine``)."""
    return getattr(session.get_bind().dialect, "_json_serializer", None) is json_dumps


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def _create_private(url: str) -> None:
    """Create a new SQLite file readable by its owner only (0600): SQLite then gives its
    journal and WAL files the same mode. An existing file keeps the mode it has."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def make_engine(url: str) -> Engine:
    """The store's engine. Its errors never quote the statement's parameters (names, dates of
    birth, payloads): an unexpected error is logged whole, so the values must not be in it."""
    try:
        if url.startswith("sqlite"):
            _create_private(url)
            engine = create_engine(
                url, connect_args={"timeout": 30}, json_serializer=json_dumps, hide_parameters=True
            )

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            return engine
        return create_engine(
            url, pool_pre_ping=True, json_serializer=json_dumps, hide_parameters=True
        )
    except Exception as exc:  # bad URL or missing driver
        raise ConfigError(
            f"cannot open database {url.split('@')[-1]!r}: {exc}. Check database_url / "
            "BRIDGE_DATABASE_URL (PostgreSQL needs `pip install child-record-bridge[postgres]`)"
        ) from exc


def upgrade(engine: Engine) -> str | None:
    """Apply every pending migration; returns the new head revision."""
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


@dataclass
class Store:
    """The database handle the rest of the bridge uses."""

    engine: Engine
    url: str

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def new_session(self) -> Session:
        return self._sessions()

    @property
    def where(self) -> str:
        """Where the data lives, for people (no password)."""
        if self.engine.url.get_backend_name() == "sqlite":
            database = self.engine.url.database or ":memory:"
            return str(Path(database).resolve()) if database != ":memory:" else database
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the database at ``url``, creating/upgrading the schema unless ``migrate`` is False."""
    engine = make_engine(url)
    if migrate and current_revision(engine) != head_revision():
        upgrade(engine)
    return Store(engine=engine, url=url)
