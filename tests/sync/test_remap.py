"""A maintainer's loop: edit a vocabulary, check the effect, re-map the stored records.

No source is configured at all, so nothing can be contacted: remap works from the stored
payloads alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bridge.mapping import default_mappings_dir
from bridge.store.db import open_store
from bridge.store.schema import SourceRecordRow, SyncRunRow


def bridge(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_vocabulary_edit_check_then_remap(tmp_path: Path, dev_corpus: Path, db_url: str) -> None:
    clients = json.loads((dev_corpus / "oscar_clients.json").read_text())[:40]
    typo_ids = []
    for client in clients[:3]:
        client["status"] = "Accetped"
        typo_ids.append(client["global_id"])
    dump = tmp_path / "clients.json"
    dump.write_text(json.dumps({"data": clients}))
    mappings = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), mappings, ignore=shutil.ignore_patterns("*.py*"))
    config = tmp_path / "bridge.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n\n[bridge]\nmappings_dir = "{mappings}"\n')
    env = {k: v for k, v in os.environ.items() if k != "BRIDGE_DATABASE_URL"}
    env["BRIDGE_CONFIG"] = str(config)

    assert bridge("import", "oscar", str(dump), "--quiet", cwd=tmp_path, env=env).returncode == 0
    check = bridge(
        "mapping",
        "check",
        "oscar",
        "--sample",
        str(dump),
        "--format",
        "json",
        cwd=tmp_path,
        env=env,
    )
    misses = json.loads(check.stdout)["coverage"]["vocabulary_misses"]
    assert [(m["value"], m["count"]) for m in misses] == [("Accetped", 3)]

    # the maintainer adds the misspelling after the value the bridge sends
    vocab = mappings / "vocab" / "statuses.toml"
    text = vocab.read_text()
    fixed = text.replace(
        'canonical = "accepted"\nprimero = []\noscar = ["Accepted"]',
        'canonical = "accepted"\nprimero = []\noscar = ["Accepted", "Accetped"]',
    )
    assert fixed != text
    vocab.write_text(fixed)
    check = bridge(
        "mapping",
        "check",
        "oscar",
        "--sample",
        str(dump),
        "--format",
        "json",
        cwd=tmp_path,
        env=env,
    )
    assert json.loads(check.stdout)["coverage"]["vocabulary_misses"] == []

    remap = bridge("remap", "oscar", cwd=tmp_path, env=env)
    assert remap.returncode == 0, remap.stderr
    assert "3 changed" in remap.stdout
    store = open_store(db_url)
    with store.session() as session:
        rows = session.scalars(
            select(SourceRecordRow).where(SourceRecordRow.record_id.in_(typo_ids))
        ).all()
        assert {r.canonical["status"] for r in rows} == {"accepted"}
    store.close()


def test_remap_rewrites_stale_issues_of_an_unchanged_record(
    tmp_path: Path, dev_corpus: Path, db_url: str
) -> None:
    """A record whose child is unchanged but whose stored issues differ from what the mapping
    says now gets the new issues (and counts as unchanged); records without issues stay."""
    from sqlalchemy import update

    from bridge.remap import _same_issues, remap
    from bridge.sync import run_import

    assert _same_issues("[]", []) and not _same_issues("[]", [{"code": "x"}])
    assert _same_issues('[{"code": "x"}]', [{"code": "x"}]) and _same_issues([], [])
    clients = json.loads((dev_corpus / "oscar_clients.json").read_text())[:20]
    dump = tmp_path / "clients.json"
    dump.write_text(json.dumps(clients))
    store = open_store(db_url)
    run_import(store, system="oscar", path=dump)
    victim = clients[0]["global_id"]
    stale = [{"severity": "warning", "pointer": "/x", "code": "old", "message": "old"}]
    with store.session() as session:
        before = dict(
            session.execute(select(SourceRecordRow.record_id, SourceRecordRow.issues)).all()
        )
        session.execute(
            update(SourceRecordRow).where(SourceRecordRow.record_id == victim).values(issues=stale)
        )
    report = remap(store, system="oscar")
    assert report.changed == 0 and report.unchanged == 20
    with store.session() as session:
        after = dict(
            session.execute(select(SourceRecordRow.record_id, SourceRecordRow.issues)).all()
        )
        # a remap is a run of its own (bridge status; the desk's caches see it)
        run = session.scalars(select(SyncRunRow).where(SyncRunRow.command == "remap")).one()
        assert run.status == "ok" and run.finished_at is not None
        assert run.counts["remap"]["unchanged"] == 20
    assert after == before
    store.close()
