"""Helpers for sync tests: a Config pointing at a running sandbox, and a store snapshot."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select

from bridge.config import Config, SourceConfig
from bridge.store.db import Store
from bridge.store.schema import ChildRow, LinkRow, SourceRecordRow, SyncCursorRow

PRIMERO_ENV = "BRIDGE_TEST_PRIMERO_PASSWORD"
OSCAR_ENV = "BRIDGE_TEST_OSCAR_PASSWORD"


def sandbox_config(sandbox: Any, db_url: str, *, page_size: int = 1000) -> Config:
    os.environ[PRIMERO_ENV] = sandbox.primero_password
    os.environ[OSCAR_ENV] = sandbox.oscar_password
    return Config(
        database_url=db_url,
        sources=[
            SourceConfig(
                name="primero",
                kind="primero",
                base_url=sandbox.primero_url,
                username=sandbox.primero_user,
                password_env=PRIMERO_ENV,
                page_size=page_size,
                max_attempts=3,
            ),
            SourceConfig(
                name="oscar",
                kind="oscar",
                base_url=sandbox.oscar_url,
                email=sandbox.oscar_email,
                password_env=OSCAR_ENV,
                max_attempts=3,
            ),
        ],
    )


def write_config(config: Config, path: os.PathLike[str]) -> None:
    lines = [f'[database]\nurl = "{config.database_url}"\n']
    for s in config.sources:
        lines.append("[[sources]]")
        for key in (
            "name",
            "kind",
            "base_url",
            "username",
            "email",
            "password_env",
            "page_size",
            "max_attempts",
        ):
            value = getattr(s, key)
            if value is None:
                continue
            lines.append(f"{key} = {value!r}".replace("'", '"'))
        lines.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a sync decides, in a comparable form (no timestamps, no row ids)."""
    with store.session() as session:
        records = {
            (r.system, r.record_id): (
                r.payload_hash,
                r.state,
                tuple(sorted((i["pointer"], i["code"]) for i in r.issues)),
            )
            for r in session.scalars(select(SourceRecordRow))
        }
        links = {
            (r.system, r.record_id): (link.child_id, link.method)
            for r, link in session.execute(
                select(SourceRecordRow, LinkRow).join(
                    LinkRow, LinkRow.record_pk == SourceRecordRow.id
                )
            )
        }
        children = {(c.child_id, c.state, c.merged_into) for c in session.scalars(select(ChildRow))}
        cursors = {c.source: c.cursor for c in session.scalars(select(SyncCursorRow))}
    return {"records": records, "links": links, "children": children, "cursors": cursors}
