"""The adapters over real HTTP on loopback, against the sandbox Primero and OSCaR servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.errors import AuthError
from adapters.oscar import OscarAdapter
from adapters.primero import PrimeroAdapter
from bridge.sandbox import start_sandbox
from tests.adapters.fakes import Sleeps, iso

WINDOW = datetime(2026, 10, 9, 8, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 10, 9, 12, 0, 0, tzinfo=UTC)
CASES = 2300  # more than two capped pages of 1000, all changed within one window


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with start_sandbox() as handle:
        handle.primero.clock.set(NOW)
        handle.oscar.clock.set(NOW)
        for index in range(CASES):
            # 400 ms apart: two or three cases share each whole second
            moment = WINDOW + timedelta(milliseconds=400 * index)
            handle.primero.add_case(
                {"id": str(uuid.UUID(int=index + 1)), "sex": "male", "last_updated_at": iso(moment)}
            )
        for index in range(1234):
            handle.oscar.add_client(
                {
                    "global_id": f"01SANDBOX{index:017d}",
                    "given_name": "Given",
                    "family_name": "Family",
                    "gender": "female",
                    "date_of_birth": "2015-01-01",
                    "organization_name": "cif",
                },
                changed_at=WINDOW,
            )
        yield handle


def primero_adapter(handle: Any, **kwargs: Any) -> PrimeroAdapter:
    options: dict[str, Any] = {"clock": handle.primero.clock.now, "sleep": Sleeps()}
    options.update(kwargs)
    return PrimeroAdapter(
        handle.primero_url, handle.primero_user, handle.primero_password, **options
    )


def oscar_adapter(handle: Any, **kwargs: Any) -> OscarAdapter:
    options: dict[str, Any] = {"clock": handle.oscar.clock.now, "sleep": Sleeps()}
    options.update(kwargs)
    return OscarAdapter(handle.oscar_url, handle.oscar_email, handle.oscar_password, **options)


@pytest.mark.parametrize("auth", ["basic", "token"])
def test_primero_pulls_every_case_changed_in_one_window(sandbox: Any, auth: str) -> None:
    primero = primero_adapter(sandbox, auth=auth, page_size=5000)
    try:
        pages = list(primero.pull(iso(WINDOW - timedelta(hours=1))))
    finally:
        primero.close()
    records = [record for page in pages for record in page.records]
    assert len(records) == CASES
    assert {record.record_id for record in records} == set(sandbox.primero.cases)
    cursors = [page.cursor for page in pages]
    assert None not in cursors and cursors == sorted(cursors)
    newest = max(case["last_updated_at"] for case in sandbox.primero.cases.values())
    assert cursors[-1] == newest


def test_primero_second_pull_returns_only_boundary_and_changed(sandbox: Any) -> None:
    primero = primero_adapter(sandbox)
    try:
        cursor = list(primero.pull(None))[-1].cursor
        assert cursor is not None
        changed = list(sandbox.primero.cases)[:5]
        sandbox.primero.clock.set(NOW + timedelta(minutes=5))
        for case_id in changed:
            sandbox.primero.update_case(case_id, {"risk_level": "high"})
        again = [r.record_id for page in primero.pull(cursor) for r in page.records]
    finally:
        primero.close()
    boundary = {
        case_id
        for case_id, case in sandbox.primero.cases.items()
        if case["last_updated_at"][:19] == cursor[:19]
    }
    assert boundary and set(again) == set(changed) | boundary
    assert len(again) == len(set(again))


def test_primero_bad_password_is_one_request(sandbox: Any) -> None:
    primero = PrimeroAdapter(
        sandbox.primero_url, sandbox.primero_user, "wrong", auth="token", sleep=Sleeps()
    )
    with pytest.raises(AuthError):
        list(primero.pull(None))
    primero.close()
    logins = [entry for entry in sandbox.primero.request_log if entry[1].startswith("/api/v2/tok")]
    assert len(logins) == 1


def test_oscar_feed_in_chunks_cursor_on_last_page(sandbox: Any) -> None:
    oscar = oscar_adapter(sandbox, chunk_size=500, overlap=timedelta(minutes=10))
    try:
        pages = list(oscar.pull(None))
    finally:
        oscar.close()
    assert [len(page.records) for page in pages] == [500, 500, 234]
    assert [page.cursor for page in pages] == [None, None, "2026-10-09 11:50:00"]
    assert {r.record_id for page in pages for r in page.records} == set(sandbox.oscar.clients)


def test_full_pulls_survive_thirty_percent_faults(sandbox: Any) -> None:
    sandbox.faults.set(0.3, ["500", "503", "429", "html"], seed=7, include_auth=True)
    primero = primero_adapter(sandbox, page_size=1000, max_attempts=10)
    oscar = oscar_adapter(sandbox, max_attempts=10)
    try:
        for _ in range(3):  # several rounds: fresh fault draws each time
            cases = {r.record_id for page in primero.pull(None) for r in page.records}
            assert cases == set(sandbox.primero.cases)
            clients = {r.record_id for page in oscar.pull(None) for r in page.records}
            assert clients == set(sandbox.oscar.clients)
    finally:
        primero.close()
        oscar.close()
    served = {kind for _, _, kind in sandbox.faults.log}
    assert served == {"500", "503", "429", "html"}


def test_seeded_sandbox_pulled_whole_through_dropped_connections() -> None:
    from bridge.sandbox.oscar import complete

    with start_sandbox(children=400, seed=3) as handle:
        handle.faults.set(0.3, ["drop_after"], seed=11)  # the server acts, the answer is lost
        primero = primero_adapter(handle, page_size=25, max_attempts=10)
        oscar = oscar_adapter(handle, chunk_size=100, max_attempts=10)
        shared = {gid for gid, client in handle.oscar.clients.items() if complete(client)}
        try:
            for _ in range(2):
                cases = [r.record_id for page in primero.pull(None) for r in page.records]
                assert sorted(cases) == sorted(handle.primero.cases)
                clients = [r.record_id for page in oscar.pull(None) for r in page.records]
                assert sorted(clients) == sorted(shared)
        finally:
            primero.close()
            oscar.close()
        assert len(handle.faults.log) >= 3
