from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.sandbox import start_sandbox
from bridge.sandbox.generator import generate, iter_registrations, write_corpus

PRIMERO_KEYS = {
    "id", "case_id", "unique_identifier", "short_id", "case_id_display", "name_first",
    "name_last", "name", "sex", "date_of_birth", "estimated", "age", "location_current",
    "owned_by", "owned_by_agency_id", "status", "record_state", "workflow",
    "registration_date", "created_at", "last_updated_at", "risk_level", "protection_concerns",
    "disability_type", "consent_for_services", "disclosure_other_orgs", "oscar_number",
    "mosvy_number", "family_details_section", "services_section",
}  # fmt: skip
OSCAR_KEYS = [
    "global_id", "slug", "external_id", "external_id_display", "mosvy_number", "given_name",
    "family_name", "local_given_name", "local_family_name", "gender", "date_of_birth",
    "location_current_village_code", "address_current_village_code", "organization_name",
    "organization_id", "status", "case_worker_name", "case_worker_mobile", "is_referred",
    "reason_for_referral", "level_of_risk", "referral_consent_form", "resource", "services",
]  # fmt: skip
KHMER = re.compile("[\u1780-\u17ff]")
SHARED = Path(
    os.environ.get("BRIDGE_SHARED_DIR") or Path(__file__).resolve().parents[2] / ".." / "shared"
)
DEV = SHARED / "data" / "khmer-children-dev"


def check_primero(case: dict) -> None:
    assert set(case) - {"name_other"} == PRIMERO_KEYS
    assert case["id"] == case["case_id"] == case["unique_identifier"]
    assert case["short_id"] == case["id"][-7:]
    assert case["sex"] in ("male", "female", None)
    assert case["date_of_birth"] is None or re.fullmatch(
        r"\d{4,5}-\d{2}-\d{2}", case["date_of_birth"]
    )
    assert isinstance(case["estimated"], bool)
    assert re.fullmatch(r"\d{7,8}", case["location_current"])
    assert case["created_at"] <= case["last_updated_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", case["last_updated_at"])
    assert case["risk_level"] in ("high", "medium", "low", "no_action")
    assert 1 <= len(case["services_section"]) <= 3
    for row in case["family_details_section"]:
        assert set(row) == {"unique_id", "relation_name", "relation", "relation_is_caregiver"}
    if "name_other" in case:
        assert KHMER.search(case["name_other"])


def check_oscar(client: dict) -> None:
    assert list(client) == OSCAR_KEYS
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", client["global_id"])
    assert client["slug"].startswith(client["organization_name"] + "-")
    assert None not in client.values()
    assert client["gender"] in ("female", "male", "unknown", "prefer_not_to_say")
    assert re.fullmatch(r"(\d{4,5}-\d{2}-\d{2})?", client["date_of_birth"])
    assert re.fullmatch(r"\d{8}", client["location_current_village_code"])
    assert client["level_of_risk"] in ("high", "medium", "low", "no action")
    for service in client["services"]:
        assert set(service) == {"uuid", "name", "program_name", "enrollment_date"}


@settings(max_examples=15, deadline=None)
@given(n=st.integers(min_value=1, max_value=60), seed=st.integers(min_value=0, max_value=10**6))
def test_every_record_has_the_dev_corpus_shape(n: int, seed: int) -> None:
    corpus = generate(n, seed)
    assert len({child for _, _, child, _ in corpus.truth}) == n
    for case in corpus.primero_cases:
        check_primero(case)
    for client in corpus.oscar_clients:
        check_oscar(client)


def test_deterministic_for_a_seed() -> None:
    assert generate(50, 3) == generate(50, 3)
    assert generate(50, 3) != generate(50, 4)


def test_mix_is_close_to_the_dev_corpus() -> None:
    corpus = generate(3000, 11)
    by_child: dict[str, list[str]] = defaultdict(list)
    for system, _, child, _ in corpus.truth:
        by_child[child].append(system)
    records_per_child = len(corpus.truth) / len(by_child)
    both = sum(set(v) == {"primero", "oscar"} for v in by_child.values()) / len(by_child)
    two_oscar = sum(v.count("oscar") == 2 for v in by_child.values()) / len(by_child)
    assert 1.4 < records_per_child < 1.7
    assert 0.38 < both < 0.52
    assert 0.07 < two_oscar < 0.14
    dropped = sum(len(c["location_current"]) == 7 for c in corpus.primero_cases)
    assert dropped > 0
    assert any(c["estimated"] for c in corpus.primero_cases)
    assert any("(" in (c["name_first"] or "") for c in corpus.primero_cases)
    assert any(KHMER.search(c["given_name"]) for c in corpus.oscar_clients)
    assert any(len(c["date_of_birth"]) == 11 for c in corpus.oscar_clients)


def test_siblings_share_family_name_and_village_twins_share_birth_date() -> None:
    corpus = generate(800, 5)
    families: dict[str, set[str]] = defaultdict(set)
    for _, _, child, family in corpus.truth:
        families[family].add(child)
    assert Counter(len(c) for c in families.values())[2] > 0


def test_iteration_is_lazy() -> None:
    first = next(iter_registrations(1_000_000, 1))
    assert first.child == "C000001" and first.system in ("primero", "oscar")


def test_write_corpus_round_trip(tmp_path: Path) -> None:
    corpus = generate(30, 2)
    write_corpus(corpus, tmp_path)
    assert json.loads((tmp_path / "primero_cases.json").read_text()) == corpus.primero_cases
    lines = (tmp_path / "truth.csv").read_text().splitlines()
    assert lines[0] == "system,record_id,child,family" and len(lines) == len(corpus.truth) + 1
    with start_sandbox(from_dir=tmp_path) as sb:
        assert len(sb.primero.cases) == len(corpus.primero_cases)
        assert len(sb.oscar.clients) == len(corpus.oscar_clients)


@pytest.mark.skipif(not DEV.exists(), reason="shared dev corpus not present")
def test_sandbox_serves_the_dev_corpus() -> None:
    with start_sandbox(from_dir=DEV) as sb:
        auth = (sb.primero_user, sb.primero_password)
        body = httpx.get(f"{sb.primero_url}/api/v2/cases", params={"per": 1}, auth=auth).json()
        assert body["metadata"]["total"] == len(sb.primero.cases) > 4000
