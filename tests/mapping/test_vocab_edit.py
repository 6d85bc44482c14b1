"""A maintainer edits a vocabulary file, runs the check, and sees the effect."""

from __future__ import annotations

import shutil
from pathlib import Path

from bridge.mapping import check_records, default_mappings_dir, load_mapping, render_table
from tests.mapping.helpers import TODAY, oscar_client


def test_adding_accetped_to_the_vocabulary_maps_it(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    clients = [oscar_client(status="Accetped"), oscar_client(status="Active")]

    before = check_records(load_mapping("oscar", folder), clients, today=TODAY)
    assert [m.value for m in before.coverage.vocabulary_misses] == ["Accetped"]
    assert "status" not in before.records[0].child
    assert "'Accetped'" in render_table(before)

    statuses = folder / "vocab" / "statuses.toml"
    text = statuses.read_text(encoding="utf-8")
    edited = text.replace('oscar = ["Accepted"]', 'oscar = ["Accepted", "Accetped"]', 1)
    assert edited != text
    statuses.write_text(edited, encoding="utf-8")

    after = check_records(load_mapping("oscar", folder), clients, today=TODAY)
    assert not after.coverage.vocabulary_misses
    assert after.records[0].child["status"] == "accepted"
    assert not after.records[0].warnings
    # what is sent back is still the first spelling
    child = load_mapping("oscar", folder).inbound(clients[0], today=TODAY).child
    payload = load_mapping("primero", folder).outbound("case_patch", child).payload
    assert payload["data"]["oscar_status"] == "Accepted"


def test_adding_a_service_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    client = oscar_client(services=[{"uuid": "u1", "name": "Birth registration"}])
    before = check_records(load_mapping("oscar", folder), [client], today=TODAY)
    assert [m.value for m in before.coverage.vocabulary_misses] == ["Birth registration"]

    services = folder / "vocab" / "services.toml"
    services.write_text(
        services.read_text(encoding="utf-8")
        + '\n[[service]]\ncanonical = "birth_registration"\n'
        + 'oscar = ["Birth registration"]\nprimero = ["birth_registration"]\n',
        encoding="utf-8",
    )
    oscar = load_mapping("oscar", folder)
    after = check_records(oscar, [client], today=TODAY)
    assert not after.coverage.vocabulary_misses
    assert after.records[0].child["services"][0]["service_type"] == "birth_registration"
    child = oscar.inbound(client, today=TODAY).child
    patch = load_mapping("primero", folder).outbound("case_patch", child).payload
    assert patch["data"]["services_section"][0]["service_type"] == "birth_registration"
