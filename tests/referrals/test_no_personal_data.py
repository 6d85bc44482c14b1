"""No personal data in any message, even when the receivers echo what the bridge sent.

Children with distinctive names, dates of birth and referral reasons are seeded in both
sandboxes; every write to either system is answered by an error quoting the request (422 in
the system's JSON envelope, 500 as text/plain and as HTML). A full `bridge --verbose sync`
with referrals runs (three times: deliver cleanly, then through the echoes, then the retries),
then `bridge referrals list`, `bridge referrals show ID` for every row, `bridge status` and
`bridge status --format json`. Their stdout and stderr (the cron log, the log lines with
--verbose) and every column of every table in the database are searched for the seeded
values: zero hits, except in the columns listed in EXEMPT, which hold the record content by
design. A new column is checked unless it is added there.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select

from bridge.sandbox import SandboxHandle, start_sandbox
from bridge.store.db import open_store
from tests.referrals import helpers as h

REPO = Path(__file__).resolve().parents[2]

# Columns that are the stored record content by design (what was pulled, what is sent).
EXEMPT = {
    ("source_records", "payload"),  # the raw record as pulled
    ("source_records", "canonical"),  # the canonical child mapped from it
    ("referral_outbox", "request"),  # the canonical referral and child snapshot to send
    ("referral_outbox", "payload"),  # the payload last sent (masked in `referrals show`)
    ("review_items", "evidence"),  # the compared values a helpdesk reviewer looks at
}

# (given, family, date of birth, reason): Latin, Khmer script, a Khmer name in a Latin field.
PRIMERO_CHILDREN = [
    ("Qorvathy", "Keomanyx", "2010-10-13", "Brightwaterfall needs legal help"),
    ("ច័ន្ទធីតា (Zephanith)", "សុវណ្ណារី (Pheaktrix)", "2011-04-27", "Moonlitharbour support"),
]
OSCAR_CHILDREN = [
    ("Vireakzo", "Sothyqua", "2012-12-03", "Quietmeadowlark family support"),
    ("សុខុមាលា", "Chantrexa", "2013-06-19", "Silverfernhollow counselling"),
]
LATER_PRIMERO = [("Darathorn", "Lykhouzen", "2009-02-11", "Emberlightvale legal aid")]
LATER_OSCAR = [("Malivexa", "Rothanaqui", "2014-08-30", "Copperstonebrook shelter")]

CONFIG = (
    """
[database]
url = "{db}"

[[sources]]
name = "primero"
kind = "primero"
base_url = "{primero}"
username = "primero_bridge"
password_env = "TEST_PRIMERO_PASSWORD"
max_attempts = 2

[[sources]]
name = "oscar"
kind = "oscar"
base_url = "{oscar}"
email = "bridge@sandbox.local"
password_env = "TEST_OSCAR_PASSWORD"
max_attempts = 2

[referrals]
max_attempts = 3
backoff_initial_seconds = 0.05
backoff_max_seconds = 0.2
referee_phone = "023 000 000"

"""
    + h.RULES_TOML
)


def seeded_values() -> list[str]:
    """Every seeded personal value, and each part of a composite name."""
    values: set[str] = set()
    for given, family, dob, reason in (
        PRIMERO_CHILDREN + OSCAR_CHILDREN + LATER_PRIMERO + LATER_OSCAR
    ):
        values.update({dob, reason, reason.split()[0]})
        for name in (given, family):
            values.add(name)
            values.update(part.strip("()") for part in name.split())
    return sorted(values)


def variants(value: str) -> set[str]:
    """The forms a value can take in text: as is, JSON-escaped (ASCII) and HTML-escaped."""
    return {value.lower(), json.dumps(value)[1:-1].lower(), html.escape(value).lower()}


def hits(text: str, values: list[str]) -> list[str]:
    low = text.lower()
    return [value for value in values if any(form in low for form in variants(value))]


def add_primero_child(sb: SandboxHandle, n: int, child: tuple[str, str, str, str]) -> None:
    given, family, dob, reason = child
    case_id, row_id = str(uuid.UUID(int=5000 + n)), str(uuid.UUID(int=6000 + n))
    sb.primero.add_case(
        {
            "id": case_id, "name_first": given, "name_last": family, "sex": "female",
            "date_of_birth": dob, "location_current": "12010101", "risk_level": "high",
            "consent_for_services": True, "disclosure_other_orgs": True,
            "owned_by_agency_id": "agency-mosvy",
            "services_section": [{"unique_id": row_id, "service_type": "legal_support",
                                  "service_response_type": "referral_to_oscar"}],
        }
    )  # fmt: skip
    with sb.primero.lock:
        sb.primero.referrals.setdefault(case_id, []).append(
            {
                "id": str(uuid.UUID(int=7000 + n)), "type": "Referral", "status": "in_progress",
                "record_type": "case", "record_id": case_id, "remote": True,
                "transitioned_to_remote": None, "transitioned_to_agency": None,
                "service": "legal_support", "service_record_id": row_id, "notes": reason,
                "transitioned_by": "mosvy_pnh",
            }
        )  # fmt: skip


def add_oscar_child(sb: SandboxHandle, n: int, child: tuple[str, str, str, str]) -> None:
    given, family, dob, reason = child
    referral_id = sb.oscar.next_referral_id()
    client = sb.oscar.add_client(
        {
            "given_name": given, "family_name": family, "gender": "male",
            "date_of_birth": dob, "location_current_village_code": "08030201",
            "organization_name": "cif", "status": "Active", "case_worker_name": "Kim",
            "case_worker_mobile": "012345678", "is_referred": True,
            "reason_for_referral": reason, "level_of_risk": "medium",
            "referral_consent_form": ["consent.pdf"], "external_id": "",
            "services": [{"uuid": f"s-{n}", "name": "Counselling", "program_name": "Health",
                          "enrollment_date": "", "referral_id": referral_id,
                          "referral_status": "Referred"}],
        }
    )  # fmt: skip
    with sb.oscar.lock:
        sb.oscar.referrals.append(
            {"id": referral_id, "client_global_id": client["global_id"], "external_id": "",
             "organization_name": "cif", "referral_status": "Referred",
             "services": ["Counselling"]}
        )  # fmt: skip


def bridge(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TEST_PRIMERO_PASSWORD": "sandbox-primero",
        "TEST_OSCAR_PASSWORD": "sandbox-oscar",
    }
    env.pop("BRIDGE_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )


def column_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def database_hits(url: str, values: list[str]) -> tuple[dict[str, list[str]], set[str]]:
    """Seeded values found per `table.column` outside EXEMPT, and the columns read."""
    engine = create_engine(url)
    found: dict[str, list[str]] = {}
    read: set[str] = set()
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)).mappings():
                    for column in table.columns:
                        read.add(f"{table.name}.{column.name}")
                        if (table.name, column.name) in EXEMPT:
                            continue
                        seen = hits(column_text(row[column.name]), values)
                        if seen:
                            found.setdefault(f"{table.name}.{column.name}", []).extend(seen)
    finally:
        engine.dispose()
    return found, read


def test_echoing_receivers_leak_no_personal_data(tmp_path: Path, db_url: str) -> None:
    values = seeded_values()
    sb = start_sandbox()
    outputs: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    try:
        for n, child in enumerate(PRIMERO_CHILDREN):
            add_primero_child(sb, n, child)
        for n, child in enumerate(OSCAR_CHILDREN):
            add_oscar_child(sb, n, child)
        config = tmp_path / "bridge.toml"
        config.write_text(
            CONFIG.format(db=db_url, primero=sb.primero_url, oscar=sb.oscar_url), encoding="utf-8"
        )
        # 1. a clean sync: the first referrals are delivered (their links flow back next time)
        first = bridge(config, "--verbose", "sync")
        outputs.append(("sync (clean)", first))
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(sb.oscar.referrals) == len(OSCAR_CHILDREN) + len(PRIMERO_CHILDREN)
        # 2. every write is now answered by an error quoting the request
        for n, child in enumerate(LATER_PRIMERO, start=len(PRIMERO_CHILDREN)):
            add_primero_child(sb, n, child)
        for n, child in enumerate(LATER_OSCAR, start=len(OSCAR_CHILDREN)):
            add_oscar_child(sb, n, child)
        sb.faults.set(1.0, ["echo"], seed=4, methods=["POST", "PUT", "PATCH"])
        for label in ("sync (echoes)", "sync (retries)"):
            outputs.append((label, bridge(config, "--verbose", "sync")))
        served = {kind for _, _, kind in sb.faults.log}
        assert served == {"echo_json", "echo_text", "echo_html"}, served
    finally:
        sb.stop()
    store = open_store(db_url)
    try:
        from bridge.referrals.tables import OutboxRow

        with store.session() as session:
            rows = list(session.scalars(select(OutboxRow)))
            ids = [row.id for row in rows]
            errors = [row.last_error for row in rows if row.last_error]
            dead = [row for row in rows if row.state == "dead"]
    finally:
        store.close()
    # the echoes were met and recorded: the test is only meaningful if errors came back
    assert dead and errors, "no delivery met an echoing error"
    assert any("HTTP 422" in e for e in errors) and any("HTTP 500" in e for e in errors)
    outputs.append(("referrals list", bridge(config, "--verbose", "referrals", "list")))
    dead = bridge(config, "referrals", "list", "--state", "dead")
    outputs.append(("referrals list --state dead", dead))
    for row_id in ids:
        shown = bridge(config, "referrals", "show", str(row_id))
        outputs.append((f"referrals show {row_id}", shown))
    outputs.append(("status", bridge(config, "--verbose", "status")))
    outputs.append(("status json", bridge(config, "status", "--format", "json")))
    leaks = {
        f"{label} {stream}": seen
        for label, done in outputs
        for stream, text in (("stdout", done.stdout), ("stderr", done.stderr))
        if (seen := hits(text, values))
    }
    found, read = database_hits(db_url, values)
    leaks.update({f"database {where}": seen for where, seen in found.items()})
    print(
        "\n".join(
            f"{r.id} {r.kind} {r.state} {r.destination_system} {r.attempts} {r.last_error!r}"
            for r in rows
        )
    )
    assert not leaks, json.dumps(leaks, ensure_ascii=False, indent=1)
    # every column named in EXEMPT exists (a renamed column is checked, not silently skipped)
    assert {f"{t}.{c}" for t, c in EXEMPT} <= read
    assert "referral_outbox.last_error" in read and "sync_runs.errors" in read
