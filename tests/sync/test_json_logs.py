"""`bridge --log-format json`: a full sandbox sync with referrals writes only JSON lines on
stderr, each with time, level, logger and message, the run's steps as events carrying the run
id, source and counts, and not one seeded name, date of birth or referral reason."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from bridge.sandbox import start_sandbox
from bridge.store.db import open_store
from bridge.store.schema import SourceRecordRow
from tests.referrals.test_no_personal_data import (
    CONFIG,
    LATER_OSCAR,
    LATER_PRIMERO,
    OSCAR_CHILDREN,
    PRIMERO_CHILDREN,
    add_oscar_child,
    add_primero_child,
    bridge,
    hits,
    seeded_values,
)


def json_lines(stderr: str) -> list[dict]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        entry = json.loads(line)  # every line is one JSON object, or the test fails here
        assert isinstance(entry, dict), line
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        parsed.append(entry)
    return parsed


def test_a_sync_with_referrals_logs_json_without_personal_data(tmp_path: Path, db_url: str) -> None:
    values = seeded_values()
    config = tmp_path / "bridge.toml"
    outputs = []
    with start_sandbox() as sb:
        for n, child in enumerate(PRIMERO_CHILDREN):
            add_primero_child(sb, n, child)
        for n, child in enumerate(OSCAR_CHILDREN):
            add_oscar_child(sb, n, child)
        config.write_text(
            CONFIG.format(db=db_url, primero=sb.primero_url, oscar=sb.oscar_url), encoding="utf-8"
        )
        first = bridge(config, "--log-format", "json", "--verbose", "sync")
        assert first.returncode == 0, first.stderr
        outputs.append(first)
        for n, child in enumerate(LATER_PRIMERO, start=len(PRIMERO_CHILDREN)):
            add_primero_child(sb, n, child)
        for n, child in enumerate(LATER_OSCAR, start=len(OSCAR_CHILDREN)):
            add_oscar_child(sb, n, child)
        outputs.append(bridge(config, "--log-format", "json", "--verbose", "sync"))
        outputs.append(bridge(config, "--log-format", "json", "--verbose", "referrals", "run"))
        outputs.append(bridge(config, "--log-format", "json", "--verbose", "status"))
    entries = [entry for done in outputs for entry in json_lines(done.stderr)]
    events = {}
    for entry in entries:
        events.setdefault(entry.get("event"), []).append(entry)
    assert {"run_started", "source_synced", "run_finished", "referrals_routed"} <= events.keys()
    synced = events["source_synced"]
    assert {e["source"] for e in synced} == {"primero", "oscar"}
    assert all(isinstance(e["run_id"], int) and e["counts"]["pulled"] >= 0 for e in synced)
    # the counts are the run's own: every record stored was logged once as new (the seeded
    # children, and the cases and clients the delivered referrals made in the other system)
    store = open_store(db_url)
    try:
        with store.session() as session:
            held = session.scalar(select(func.count()).select_from(SourceRecordRow))
    finally:
        store.close()
    seeded = len(PRIMERO_CHILDREN + OSCAR_CHILDREN + LATER_PRIMERO + LATER_OSCAR)
    assert sum(e["counts"]["new"] for e in synced) == held > seeded
    finished = events["run_finished"]
    assert [e["status"] for e in finished if e["run_id"] == synced[0]["run_id"]] == ["ok"]
    assert events["referrals_routed"][0]["counts"]["delivered"] >= 1
    leaks = {
        f"run {n} {stream}": seen
        for n, done in enumerate(outputs)
        for stream, text in (("stdout", done.stdout), ("stderr", done.stderr))
        if (seen := hits(text, values))
    }
    assert not leaks, leaks


def test_the_config_chooses_the_format_and_levels_per_component(
    tmp_path: Path, db_url: str
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n\n[logging]\nformat = "json"\nlevel = "error"\n'
        'levels = { "bridge.sync" = "info" }\n',
        encoding="utf-8",
    )
    dump = tmp_path / "cases.json"
    dump.write_text(json.dumps([{"id": "c-1", "case_id": "c-1", "sex": "male"}]), "utf-8")
    done = bridge(config, "import", "primero", str(dump), "--quiet")
    assert done.returncode in (0, 3), done.stderr
    entries = json_lines(done.stderr)
    assert entries and {e["logger"] for e in entries} == {"bridge.sync"}
    assert {e["event"] for e in entries} >= {"run_started", "run_finished"}
    # the command line wins over the config
    plain = bridge(config, "--log-format", "plain", "import", "primero", str(dump), "--quiet")
    assert plain.stderr.strip() and not plain.stderr.lstrip().startswith("{")


def test_an_unknown_log_format_is_a_usage_error(tmp_path: Path) -> None:
    done = bridge(tmp_path / "missing.toml", "--log-format", "xml", "status")
    assert done.returncode == 2
    assert "--log-format" in done.stderr
