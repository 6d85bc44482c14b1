"""Helpers for sync tests: a Config pointing at a running sandbox, and a store snapshot."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select

from bridge.config import Config
from bridge.demo import sandbox_config as demo_sandbox_config
from bridge.store.db import Store
from bridge.store.schema import ChildRow, LinkRow, SourceRecordRow, SyncCursorRow


def sandbox_config(sandbox: Any, db_url: str, *, page_size: int = 1000) -> Config:
    return demo_sandbox_config(sandbox, db_url, page_size=page_size, max_attempts=3)


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
