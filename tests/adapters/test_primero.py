"""Primero adapter against respx: paging, cursors and the failure shapes servers rarely make."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.errors import AuthError, ConfigError, FatalSourceError, RetryableSourceError
from adapters.primero import PrimeroAdapter
from adapters.primero_tokens import TokenCache
from tests.adapters.fakes import (
    PRIMERO,
    T0,
    FakePrimeroCases,
    Sleeps,
    html_response,
    iso,
    json_response,
    make_cases,
)

NOW = T0 + timedelta(days=1)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=PRIMERO, assert_all_called=False) as mock:
        yield mock


def adapter(**kwargs: object) -> PrimeroAdapter:
    """An adapter with a token cache of its own: each test is a process of its own, so a
    token one test's fake Primero issued is never offered to another's."""
    options: dict = {"clock": lambda: NOW, "sleep": Sleeps(), "max_wait": 60.0}
    options.setdefault("tokens", TokenCache())
    options.update(kwargs)
    return PrimeroAdapter(PRIMERO, "bridge", "s3cret", client=httpx.Client(), **options)


def pull_all(primero: PrimeroAdapter, since: str | None = None) -> tuple[list, list]:
    pages = list(primero.pull(since))
    return pages, [record for page in pages for record in page.records]


def test_pull_gets_every_case_past_the_1000_cap(router: respx.MockRouter) -> None:
    fake = FakePrimeroCases(make_cases(2500))
    router.get("/api/v2/cases").mock(side_effect=fake)
    pages, records = pull_all(adapter(page_size=5000))
    assert len(records) == 2500
    assert {r.record_id for r in records} == set(fake.cases)
    assert all(int(call["per"]) == 5000 for call in fake.calls)
    cursors = [page.cursor for page in pages]
    assert cursors == sorted(cursors)
    assert cursors[-1] == max(case["last_updated_at"] for case in fake.cases.values())
    assert fake.calls[0]["order_by"] == "last_updated_at" and fake.calls[0]["order"] == "asc"
    assert "last_updated_at" not in fake.calls[0]


def test_second_pull_returns_only_the_boundary_and_changed_cases(
    router: respx.MockRouter,
) -> None:
    fake = FakePrimeroCases(make_cases(1200))
    router.get("/api/v2/cases").mock(side_effect=fake)
    primero = adapter()
    pages, _ = pull_all(primero)
    cursor = pages[-1].cursor
    changed = list(fake.cases)[:3]
    for case_id in changed:
        fake.touch(case_id, T0 + timedelta(hours=2))
    _, again = pull_all(primero, cursor)
    boundary = {
        case_id
        for case_id, case in fake.cases.items()
        if case["last_updated_at"][:19] == cursor[:19]
    }
    assert {r.record_id for r in again} == set(changed) | boundary
    assert fake.calls[-1]["last_updated_at"] == cursor[:19] + "Z.."


def test_a_case_saved_again_during_the_pull_does_not_hide_another(
    router: respx.MockRouter,
) -> None:
    fake = FakePrimeroCases(make_cases(30, step_ms=1500))
    first_id = next(iter(fake.cases))

    def save_first_case_again(server: FakePrimeroCases, calls: int) -> None:
        if calls == 1:  # after page 1 was served, a social worker saves its first case
            server.touch(first_id, NOW - timedelta(minutes=1))

    fake.after_call = save_first_case_again
    router.get("/api/v2/cases").mock(side_effect=fake)
    _, records = pull_all(adapter(page_size=10))
    assert {r.record_id for r in records} == set(fake.cases)


def test_many_cases_in_one_second_are_stepped_through(router: respx.MockRouter) -> None:
    fake = FakePrimeroCases(make_cases(25, step_ms=10))  # all within one second
    router.get("/api/v2/cases").mock(side_effect=fake)
    _, records = pull_all(adapter(page_size=10))
    assert sorted(r.record_id for r in records) == sorted(fake.cases)


def test_cursor_never_later_than_the_start_of_the_pull(router: respx.MockRouter) -> None:
    fake = FakePrimeroCases(make_cases(4, start=NOW - timedelta(milliseconds=500)))
    router.get("/api/v2/cases").mock(side_effect=fake)
    pages, _ = pull_all(adapter())
    assert pages[-1].cursor == iso(NOW)


def test_malformed_filter_with_total_but_no_data_is_an_error(router: respx.MockRouter) -> None:
    router.get("/api/v2/cases").mock(
        return_value=json_response(200, {"data": [], "metadata": {"total": 57, "per": 1000}})
    )
    with pytest.raises(FatalSourceError, match="metadata.total says 57"):
        pull_all(adapter(), "2026-10-09T10:38:34.074Z")


def test_empty_window_is_one_empty_page(router: respx.MockRouter) -> None:
    router.get("/api/v2/cases").mock(
        return_value=json_response(200, {"data": [], "metadata": {"total": 0, "per": 1000}})
    )
    pages, records = pull_all(adapter(), "2026-10-09T10:38:34.074Z")
    assert records == [] and len(pages) == 1 and pages[0].cursor is None


def test_unreadable_entries_are_kept_as_bad(router: respx.MockRouter) -> None:
    data = [{"id": "a", "last_updated_at": iso(T0)}, "oops", {"id": ""}, {"sex": "male"}]
    router.get("/api/v2/cases").mock(
        return_value=json_response(200, {"data": data, "metadata": {"total": 4, "per": 1000}})
    )
    pages, records = pull_all(adapter())
    assert [r.record_id for r in records] == ["a"]
    bad = pages[0].bad
    assert [error.pointer for error, _ in bad] == ["/data/1", "/id", "/id"]
    assert [raw for _, raw in bad] == data[1:]


@pytest.mark.parametrize(
    "failure",
    [
        html_response(200),
        html_response(500),
        json_response(502, {}),
        json_response(429, {}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["html-200", "html-500", "502", "429", "refused", "timeout", "dropped"],
)
def test_retryable_failures_are_retried(router: respx.MockRouter, failure: object) -> None:
    fake = FakePrimeroCases(make_cases(3))
    route = router.get("/api/v2/cases").mock(side_effect=[failure, failure, fake])
    sleeps = Sleeps()
    _, records = pull_all(adapter(sleep=sleeps))
    assert len(records) == 3 and route.call_count == 3 and len(sleeps) == 2


def test_retries_stop_after_max_attempts(router: respx.MockRouter) -> None:
    route = router.get("/api/v2/cases").mock(return_value=html_response(200))
    with pytest.raises(RetryableSourceError, match="not JSON"):
        pull_all(adapter(max_attempts=3))
    assert route.call_count == 3


def test_503_retry_after_is_honoured(router: respx.MockRouter) -> None:
    busy = json_response(503, {"errors": [{"message": "locked"}]}, **{"Retry-After": "7"})
    route = router.get("/api/v2/cases").mock(side_effect=[busy, FakePrimeroCases(make_cases(2))])
    sleeps = Sleeps()
    _, records = pull_all(adapter(sleep=sleeps, max_wait=10))
    assert len(records) == 2 and route.call_count == 2
    assert sleeps[0] >= 7


def test_retry_after_longer_than_max_wait_gives_up_at_once(router: respx.MockRouter) -> None:
    busy = json_response(503, {}, **{"Retry-After": "3600"})
    route = router.get("/api/v2/cases").mock(return_value=busy)
    with pytest.raises(RetryableSourceError) as caught:
        pull_all(adapter(max_wait=5))
    assert route.call_count == 1 and caught.value.retry_after == 3600


def test_basic_401_is_not_retried(router: respx.MockRouter) -> None:
    route = router.get("/api/v2/cases").mock(
        return_value=json_response(401, {"errors": [{"status": 401, "message": "Unauthorized"}]})
    )
    with pytest.raises(AuthError, match="Unauthorized"):
        pull_all(adapter())
    assert route.call_count == 1
    sent = route.calls[0].request.headers["authorization"]
    assert sent == "Basic " + base64.b64encode(b"bridge:s3cret").decode()


def test_token_login_401_is_tried_exactly_once(router: respx.MockRouter) -> None:
    login = router.post("/api/v2/tokens").mock(
        return_value=json_response(401, {"errors": [{"message": "Invalid credentials"}]})
    )
    cases = router.get("/api/v2/cases").mock(side_effect=FakePrimeroCases(make_cases(1)))
    with pytest.raises(AuthError):
        pull_all(adapter(auth="token"))
    assert login.call_count == 1 and cases.call_count == 0


def test_expired_token_signs_in_once_more(router: respx.MockRouter) -> None:
    login = router.post("/api/v2/tokens").mock(
        side_effect=[
            httpx.Response(200, json={}, headers={"Authorization": "Bearer one"}),
            httpx.Response(200, json={}, headers={"Authorization": "Bearer two"}),
        ]
    )
    expired = json_response(401, {"errors": [{"message": "expired"}]})
    cases = router.get("/api/v2/cases").mock(side_effect=[expired, FakePrimeroCases(make_cases(2))])
    _, records = pull_all(adapter(auth="token"))
    assert len(records) == 2 and login.call_count == 2
    assert [c.request.headers["authorization"] for c in cases.calls] == [
        "Bearer one",
        "Bearer two",
    ]


def test_token_still_refused_after_fresh_sign_in_is_an_auth_error(
    router: respx.MockRouter,
) -> None:
    login = router.post("/api/v2/tokens").mock(
        return_value=httpx.Response(200, json={}, headers={"Authorization": "Bearer x"})
    )
    router.get("/api/v2/cases").mock(return_value=json_response(401, {}))
    with pytest.raises(AuthError):
        pull_all(adapter(auth="token"))
    assert login.call_count == 2


def test_422_carries_primero_message_and_no_record_data(router: respx.MockRouter) -> None:
    body = {
        "errors": [
            {
                "status": 422,
                "resource": "/api/v2/cases/x",
                "message": "Invalid Record JSON",
                "detail": ["/data/sex"],
            }
        ],
        "data": {"name_first": "Dara"},
    }
    router.patch("/api/v2/cases/x").mock(return_value=json_response(422, body))
    with pytest.raises(FatalSourceError) as caught:
        adapter().patch_case("x", {"sex": "maybe", "name_first": "Dara"})
    assert caught.value.status == 422
    assert "Invalid Record JSON" in str(caught.value) and "/data/sex" in str(caught.value)
    assert "Dara" not in str(caught.value)


@pytest.mark.parametrize("status", [403, 404, 409])
def test_other_client_errors_are_fatal(router: respx.MockRouter, status: int) -> None:
    route = router.get("/api/v2/cases/x").mock(
        return_value=json_response(status, {"errors": [{"message": "Not Found"}]})
    )
    with pytest.raises(FatalSourceError, match="Not Found") as caught:
        adapter().get_case("x")
    assert not isinstance(caught.value, AuthError) and route.call_count == 1


def test_create_referral_is_not_resent_after_a_500(router: respx.MockRouter) -> None:
    route = router.post("/api/v2/cases/x/referrals").mock(return_value=json_response(500, {}))
    with pytest.raises(RetryableSourceError):
        adapter().create_referral("x", {"remote": True})
    assert route.call_count == 1


def test_create_referral_is_resent_after_a_503(router: respx.MockRouter) -> None:
    route = router.post("/api/v2/cases/x/referrals").mock(
        side_effect=[json_response(503, {}), json_response(200, {"data": {"id": "r1"}})]
    )
    assert adapter().create_referral("x", {"remote": True}) == {"id": "r1"}
    assert route.call_count == 2
    assert route.calls[0].request.content == b'{"data":{"remote":true}}'


def test_referrals_and_case_reads(router: respx.MockRouter) -> None:
    router.get("/api/v2/cases/a%2Fb").mock(return_value=json_response(200, {"data": {"id": "a"}}))
    router.get("/api/v2/cases/x/referrals").mock(
        return_value=json_response(200, {"data": [{"id": "r1", "status": "in_progress"}]})
    )
    router.patch("/api/v2/cases/x/referrals/r1").mock(
        return_value=json_response(200, {"data": {"id": "r1", "status": "accepted"}})
    )
    primero = adapter()
    assert primero.get_case("a/b") == {"id": "a"}
    assert primero.list_referrals("x") == [{"id": "r1", "status": "in_progress"}]
    assert primero.update_referral("x", "r1", {"status": "accepted"})["status"] == "accepted"


def test_find_cases_uses_exact_identifier_filters(router: respx.MockRouter) -> None:
    route = router.get("/api/v2/cases").mock(
        return_value=json_response(200, {"data": [{"id": "a"}], "metadata": {"total": 1}})
    )
    assert adapter().find_cases(oscar_number="01HV6Z") == [{"id": "a"}]
    assert route.calls[0].request.url.params["oscar_number"] == "01HV6Z"
    with pytest.raises(ConfigError, match="not an identifier filter"):
        adapter().find_cases(name_first="Dara")
    with pytest.raises(ConfigError):
        adapter().find_cases(case_id="a,b")


def test_error_messages_keep_no_secret_or_identifier_from_the_url(
    router: respx.MockRouter,
) -> None:
    router.get("/api/v2/cases").mock(return_value=json_response(404, {}))
    with pytest.raises(FatalSourceError) as caught:
        adapter().find_cases(national_id_no="123456789")
    assert "123456789" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_bad_cursor_is_a_config_error(router: respx.MockRouter) -> None:
    with pytest.raises(ConfigError, match="not an ISO-8601"):
        pull_all(adapter(), "last tuesday")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "last_updated_at", "x"]), children)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(json_values, max_size=8))
def test_arbitrary_case_entries_never_raise_out_of_a_pull(entries: list) -> None:
    body = {"data": entries, "metadata": {"total": len(entries), "per": 1000, "page": 1}}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    primero = PrimeroAdapter(
        PRIMERO, "u", "p", client=httpx.Client(transport=transport), clock=lambda: NOW
    )
    pages = list(primero.pull(None))
    kept = sum(len(page.records) + len(page.bad) for page in pages)
    assert len(pages) > 0 and kept <= len(entries)  # repeats of one id + time are skipped


def test_create_case_with_its_own_id_is_resent_and_meets_409(router: respx.MockRouter) -> None:
    conflict = json_response(409, {"errors": [{"message": "Conflict: record already exists"}]})
    route = router.post("/api/v2/cases").mock(
        side_effect=[httpx.RemoteProtocolError("dropped"), conflict]
    )
    with pytest.raises(FatalSourceError) as caught:
        adapter().create_case({"id": "c1", "sex": "male"})
    assert caught.value.status == 409 and route.call_count == 2


def test_create_case_answers(router: respx.MockRouter) -> None:
    router.post("/api/v2/cases").mock(
        side_effect=[httpx.Response(204), json_response(200, {"data": {"id": "new"}})]
    )
    primero = adapter()
    assert primero.create_case({"id": "c1"}) == {}
    assert primero.create_case({"sex": "male"}) == {"id": "new"}
