"""OSCaR adapter against respx: sign-in, the streamed feed, cursors and failure shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from adapters.errors import AuthError, ConfigError, FatalSourceError, RetryableSourceError
from adapters.oscar import OscarAdapter, since_date
from tests.adapters.fakes import OSCAR, Sleeps, html_response, json_response

NOW = datetime(2026, 10, 9, 12, 30, 15, tzinfo=UTC)
TOKEN = {"access-token": "tok", "client": "cli", "uid": "bridge@example.org"}


def clients(count: int) -> list[dict]:
    return [{"global_id": f"01HV{index:022d}", "gender": "female"} for index in range(count)]


def feed(entries: list, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps({"data": entries}).encode())


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=OSCAR, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def sign_in(router: respx.MockRouter) -> respx.Route:
    return router.post("/api/v1/admin_auth/sign_in").mock(
        return_value=httpx.Response(200, json={"data": {"id": 1}}, headers=TOKEN)
    )


def adapter(**kwargs: object) -> OscarAdapter:
    options: dict = {"clock": lambda: NOW, "sleep": Sleeps(), "chunk_size": 500}
    options.update(kwargs)
    return OscarAdapter(OSCAR, "bridge@example.org", "pw", client=httpx.Client(), **options)


def test_feed_in_chunks_with_the_cursor_on_the_last_page_only(
    router: respx.MockRouter, sign_in: respx.Route
) -> None:
    route = router.get("/api/v1/organizations/clients").mock(return_value=feed(clients(1234)))
    pages = list(adapter().pull(None))
    assert [len(page.records) for page in pages] == [500, 500, 234]
    assert [page.cursor for page in pages] == [None, None, "2026-10-09 12:20:15"]
    assert [page.number for page in pages] == [1, 2, 3]
    assert len({r.record_id for page in pages for r in page.records}) == 1234
    request = route.calls[0].request
    assert request.url.params["since_date"] == "1970-01-01 00:00:00"
    assert all(request.headers[name] == value for name, value in TOKEN.items())
    assert sign_in.calls[0].request.content == b'{"email":"bridge@example.org","password":"pw"}'


def test_since_is_sent_as_given(router: respx.MockRouter, sign_in: respx.Route) -> None:
    route = router.get("/api/v1/organizations/clients").mock(return_value=feed([]))
    pages = list(adapter(overlap=timedelta(0)).pull("2026-10-01 08:00:00"))
    assert route.calls[0].request.url.params["since_date"] == "2026-10-01 08:00:00"
    assert len(pages) == 1 and pages[0].records == [] and pages[0].cursor == "2026-10-09 12:30:15"


def test_since_date_accepts_iso_and_rejects_garbage() -> None:
    assert since_date("2026-10-01T08:00:00+07:00") == "2026-10-01 01:00:00"
    with pytest.raises(ConfigError):
        since_date("yesterday")


def test_sign_in_401_is_tried_exactly_once(router: respx.MockRouter) -> None:
    login = router.post("/api/v1/admin_auth/sign_in").mock(
        return_value=json_response(
            401, {"errors": ["Invalid login credentials. Please try again."]}
        )
    )
    route = router.get("/api/v1/organizations/clients").mock(return_value=feed([]))
    with pytest.raises(AuthError, match="Invalid login credentials"):
        list(adapter().pull(None))
    assert login.call_count == 1 and route.call_count == 0


def test_sign_in_without_token_headers_is_an_auth_error(router: respx.MockRouter) -> None:
    router.post("/api/v1/admin_auth/sign_in").mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(AuthError, match="token headers"):
        list(adapter().pull(None))


def test_expired_token_signs_in_once_more(router: respx.MockRouter, sign_in: respx.Route) -> None:
    gone = json_response(401, {"errors": ["You need to sign in or sign up before continuing."]})
    router.get("/api/v1/organizations/clients").mock(side_effect=[gone, feed(clients(3))])
    pages = list(adapter().pull(None))
    assert sum(len(page.records) for page in pages) == 3 and sign_in.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [
        html_response(200),
        html_response(500),
        json_response(503, {}, **{"Retry-After": "2"}),
        json_response(429, {}),
        httpx.ConnectTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["html-200", "html-500", "503", "429", "timeout", "dropped"],
)
def test_opening_the_feed_is_retried(
    router: respx.MockRouter, sign_in: respx.Route, failure: object
) -> None:
    route = router.get("/api/v1/organizations/clients").mock(
        side_effect=[failure, feed(clients(2))]
    )
    sleeps = Sleeps()
    pages = list(adapter(sleep=sleeps).pull(None))
    assert sum(len(page.records) for page in pages) == 2 and route.call_count == 2
    assert len(sleeps) == 1 and sign_in.call_count == 1


def test_retry_after_is_honoured(router: respx.MockRouter, sign_in: respx.Route) -> None:
    busy = json_response(503, {}, **{"Retry-After": "9"})
    router.get("/api/v1/organizations/clients").mock(side_effect=[busy, feed([])])
    sleeps = Sleeps()
    list(adapter(sleep=sleeps).pull(None))
    assert sleeps[0] >= 9


class _DroppedBody(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b'{"data": [' + b",".join(json.dumps(c).encode() for c in clients(700)) + b","
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_connection_dropped_mid_feed_moves_no_cursor(
    router: respx.MockRouter, sign_in: respx.Route
) -> None:
    router.get("/api/v1/organizations/clients").mock(
        return_value=httpx.Response(200, stream=_DroppedBody())
    )
    seen = []
    with pytest.raises(RetryableSourceError, match="RemoteProtocolError"):
        for page in adapter().pull(None):
            seen.append(page)
    assert [len(page.records) for page in seen] == [500]
    assert all(page.cursor is None for page in seen)


def test_truncated_feed_is_retryable(router: respx.MockRouter, sign_in: respx.Route) -> None:
    router.get("/api/v1/organizations/clients").mock(
        return_value=httpx.Response(200, content=b'{"data": [{"global_id": "a"}, {"glo')
    )
    with pytest.raises(RetryableSourceError, match="not valid JSON"):
        list(adapter().pull(None))


def test_unreadable_clients_are_kept_as_bad(router: respx.MockRouter, sign_in: respx.Route) -> None:
    entries = [{"global_id": "A"}, 7, None, {"global_id": ""}, {"global_id": 12}, {"slug": "x"}]
    router.get("/api/v1/organizations/clients").mock(return_value=feed(entries))
    (page,) = list(adapter().pull(None))
    assert [r.record_id for r in page.records] == ["A"]
    assert [error.pointer for error, _ in page.bad] == [
        "/data/1",
        "/data/2",
        "/global_id",
        "/global_id",
        "/global_id",
    ]
    assert [raw for _, raw in page.bad] == entries[1:]
    assert all(error.system == "oscar" for error, _ in page.bad)


def test_upsert_422_carries_oscar_message(router: respx.MockRouter, sign_in: respx.Route) -> None:
    body = {"external_id": "e1", "message": {"level_of_risk": ["is not included in the list"]}}
    route = router.post("/api/v1/organizations/clients/upsert").mock(
        return_value=json_response(422, body)
    )
    with pytest.raises(FatalSourceError, match="level_of_risk: is not included in the list"):
        adapter().upsert_client({"organization_name": "cif", "given_name": "Sreypov"})
    assert route.call_count == 1


def test_upsert_is_not_resent_after_a_500(router: respx.MockRouter, sign_in: respx.Route) -> None:
    route = router.post("/api/v1/organizations/clients/upsert").mock(
        return_value=html_response(500)
    )
    with pytest.raises(RetryableSourceError):
        adapter().upsert_client({"organization_name": "cif"})
    assert route.call_count == 1


def test_writes(router: respx.MockRouter, sign_in: respx.Route) -> None:
    saved = {"message": "Record saved."}
    upsert = router.post("/api/v1/organizations/clients/upsert").mock(
        return_value=json_response(200, {"external_id": "e1", "message": "Record saved."})
    )
    links = router.put("/api/v1/organizations/clients/update_links").mock(
        side_effect=[json_response(502, {}), json_response(200, saved)]
    )
    statuses = router.put("/api/v1/organizations/referrals/update_statuses").mock(
        return_value=json_response(200, saved)
    )
    oscar = adapter()
    assert oscar.upsert_client({"organization_name": "cif"})["external_id"] == "e1"
    link = {"global_id": "G", "external_id": "E", "external_id_display": "e"}
    assert oscar.update_links([link]) == saved and links.call_count == 2
    status = {"client_global_id": "G", "referral_id": 1193, "referral_status": "Accepted"}
    assert oscar.update_statuses([status]) == saved
    assert json.loads(statuses.calls[0].request.content) == {"data": [status]}
    assert json.loads(upsert.calls[0].request.content) == {
        "organization": {"organization_name": "cif"}
    }
    assert sign_in.call_count == 1


def test_404_on_upsert_is_fatal(router: respx.MockRouter, sign_in: respx.Route) -> None:
    router.post("/api/v1/organizations/clients/upsert").mock(
        return_value=json_response(404, {"global_id": "G", "message": "Record not found."})
    )
    with pytest.raises(FatalSourceError, match="Record not found"):
        adapter().upsert_client({"organization_name": "cif", "global_id": "G"})
