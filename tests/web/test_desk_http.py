"""The desk over HTTP: logins, roles, CSRF, lockout, audit of every personal view, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bridge.config import DeskConfig
from bridge.helpdesk.users import Login, disable_user, log_in, session_user
from bridge.store.schema import AuditRow, DecisionRow, DeskUserRow
from tests.web.conftest import PASSWORD, PERSONAL, Desk


def audit_rows(desk: Desk, action: str) -> list[AuditRow]:
    with desk.store.session() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action == action)).all()
        session.expunge_all()
        return list(rows)


def test_pages_need_a_login(desk: Desk) -> None:
    for path in ("/review", "/review/1", "/children/x", "/find", "/audit", "/runs", "/report"):
        answer = desk.client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert desk.client.post("/review/1/decide", data={}).status_code == 401


def test_login_then_logout_ends_the_session(desk: Desk) -> None:
    answer = desk.login("hana")
    assert answer.status_code == 303 and answer.headers["location"] == "/review"
    assert desk.client.get("/review").status_code == 200
    desk.client.post("/logout", data={"csrf": desk.csrf()})
    assert desk.client.get("/review", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(desk: Desk) -> None:
    desk.login("hana")
    item = desk.ids["review"]
    for token in (None, "forged"):
        data = {"answer": "same", "reason": "ticket 1"} | ({"csrf": token} if token else {})
        answer = desk.client.post(f"/review/{item}/decide", data=data, follow_redirects=False)
        assert answer.status_code == 403
    with desk.store.session() as session:
        assert session.scalars(select(DecisionRow)).first() is None


def test_a_login_post_without_its_csrf_cookie_is_refused(desk: Desk) -> None:
    answer = desk.client.post("/login", data={"name": "hana", "password": PASSWORD, "csrf": "x"})
    assert answer.status_code == 403


def test_the_helpdesk_decides_and_is_the_by_of_the_decision(desk: Desk) -> None:
    desk.login("hana")
    item = desk.ids["review"]
    page = desk.client.get(f"/review/{item}")
    assert page.status_code == 200 and "ដារា" in page.text
    csrf = desk.csrf(f"/review/{item}")
    missing = desk.client.post(f"/review/{item}/decide", data={"csrf": csrf, "answer": "same"})
    assert missing.status_code == 400 and "reason" in missing.text
    answer = desk.client.post(
        f"/review/{item}/decide",
        data={"csrf": csrf, "answer": "same", "reason": "ticket 42"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/children/")
    with desk.store.session() as session:
        decision = session.scalars(select(DecisionRow)).one()
        assert (decision.kind, decision.decided_by, decision.reason) == (
            "merge",
            "hana",
            "ticket 42",
        )
    merges = audit_rows(desk, "merge")
    assert merges and all(r.actor == "hana" and r.details["via"] == "desk" for r in merges)


def test_a_viewer_cannot_decide_nor_open_personal_pages(desk: Desk) -> None:
    desk.login("vic")
    item = desk.ids["review"]
    csrf = desk.csrf()
    answer = desk.client.post(
        f"/review/{item}/decide", data={"csrf": csrf, "answer": "same", "reason": "x"}
    )
    assert answer.status_code == 403
    for path in (f"/review/{item}", f"/children/{desk.ids['a']}", "/find?name=Dara", "/audit"):
        assert desk.client.get(path).status_code == 403, path


def test_no_page_shows_personal_fields_to_a_viewer(desk: Desk) -> None:
    desk.login("vic")
    item = desk.ids["review"]
    paths = ["/review", "/review?order=oldest", "/report", f"/review/{item}",
             f"/children/{desk.ids['a']}", "/find?name=Dara", "/runs", "/users"]  # fmt: skip
    for path in paths:
        body = desk.client.get(path).text
        for value in PERSONAL:
            assert value not in body, (path, value)
    assert not audit_rows(desk, "view_review") and not audit_rows(desk, "view_child")


def test_every_personal_page_view_has_its_audit_row(desk: Desk) -> None:
    desk.login("hana")
    item, child = desk.ids["review"], desk.ids["a"]
    assert desk.client.get(f"/review/{item}").status_code == 200
    assert desk.client.get(f"/children/{child}").status_code == 200
    found = desk.client.post(
        "/find", data={"csrf": desk.csrf(), "name": "Dara Sok", "birth_year": "2015"}
    )
    assert found.status_code == 200
    for action, child_id in (("view_review", child), ("view_child", child), ("find_child", None)):
        rows = audit_rows(desk, action)
        assert rows, action
        assert all(r.actor == "hana" and r.details["via"] == "desk" for r in rows)
        if child_id:
            assert child_id in {r.child_id for r in rows}
        for row in rows:
            assert not any(value in str(row.details) for value in PERSONAL)


def test_a_disabled_user_cannot_log_in_and_loses_open_logins(desk: Desk) -> None:
    desk.login("hana")
    with desk.store.session() as session:
        disable_user(session, "hana", by="test")
    assert desk.client.get("/review", follow_redirects=False).status_code == 303
    answer = desk.login("hana")
    assert answer.status_code == 401 and "disabled" in answer.text


def test_lockout_after_the_configured_failures(desk: Desk) -> None:
    limit = DeskConfig().max_failed_logins
    for _ in range(limit):
        assert desk.login("hana", "wrong password!").status_code == 401
    answer = desk.login("hana")  # the right password, too late
    assert answer.status_code == 401 and "locked" in answer.text
    assert audit_rows(desk, "login_locked")
    with desk.store.session() as session:
        row = session.scalars(select(DeskUserRow).where(DeskUserRow.name == "hana")).one()
        row.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    assert desk.login("hana").status_code == 303


def test_sessions_expire_when_idle_and_at_their_end(desk: Desk) -> None:
    config = DeskConfig(idle_minutes=5, session_minutes=60)
    now = datetime.now(UTC)
    with desk.store.session() as session:
        login = log_in(session, "hana", PASSWORD, config, now=now)
    assert isinstance(login, Login)
    with desk.store.session() as session:
        assert session_user(session, login.token, config, now=now + timedelta(minutes=4))
    with desk.store.session() as session:
        assert session_user(session, login.token, config, now=now + timedelta(minutes=10)) is None
    with desk.store.session() as session:
        again = log_in(session, "hana", PASSWORD, config, now=now)
    assert isinstance(again, Login)
    later = now
    for _ in range(16):  # busy all the time, but the login still ends after an hour
        later += timedelta(minutes=4)
        with desk.store.session() as session:
            alive = session_user(session, again.token, config, now=later)
    assert alive is None


def test_passwords_are_stored_as_argon2_hashes(desk: Desk) -> None:
    with desk.store.session() as session:
        hashes = session.scalars(select(DeskUserRow.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_security_headers_on_every_page(desk: Desk) -> None:
    for path in ("/login", "/static/desk.css"):
        headers = desk.client.get(path).headers
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert "http" not in csp  # no other origin
    assert desk.client.get("/login").headers["cache-control"] == "no-store"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_the_desk(desk: Desk, target: str) -> None:
    page = desk.client.get("/login")
    from tests.web.conftest import csrf_of

    answer = desk.client.post(
        "/login",
        data={"name": "hana", "password": PASSWORD, "csrf": csrf_of(page.text), "next": target},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/review"


def test_admin_sees_audit_runs_and_users_but_does_not_decide(desk: Desk) -> None:
    desk.login("ada")
    for path in ("/audit", "/runs", "/users", "/review", "/report"):
        assert desk.client.get(path).status_code == 200, path
    assert "hana" in desk.client.get("/users").text
    assert desk.client.get(f"/review/{desk.ids['review']}").status_code == 403


def test_switching_to_khmer_is_kept_for_the_user(desk: Desk) -> None:
    desk.login("hana")
    desk.client.post("/lang", data={"csrf": desk.csrf(), "lang": "km", "back": "/review"})
    page = desk.client.get("/review")
    assert 'lang="km"' in page.text and "ជួរត្រូវពិនិត្យ" in page.text
    with desk.store.session() as session:
        row = session.scalars(select(DeskUserRow).where(DeskUserRow.name == "hana")).one()
        assert row.lang == "km"


def test_queue_filters_and_counts(desk: Desk) -> None:
    desk.login("hana")
    page = desk.client.get("/review?system=oscar&min_score=0.6")
    assert page.status_code == 200
    assert '<strong id="shown">1</strong>' in page.text
    assert f"/review/{desk.ids['review']}" in page.text
    assert f"/review/{desk.ids['other']}" not in page.text


def test_split_and_undo_from_the_child_page(desk: Desk) -> None:
    desk.login("hana")
    item = desk.ids["review"]
    csrf = desk.csrf()
    merged = desk.client.post(
        f"/review/{item}/decide",
        data={"csrf": csrf, "answer": "same", "reason": "ticket 7"},
        follow_redirects=False,
    )
    child_page = merged.headers["location"].split("?")[0]
    page = desk.client.get(child_page)
    assert "oscar:o1" in page.text and "primero:p1" in page.text
    split = desk.client.post(
        f"{child_page}/split",
        data={"csrf": csrf, "record": "oscar:o1", "reason": "ticket 8"},
        follow_redirects=False,
    )
    assert split.status_code == 303
    with desk.store.session() as session:
        first = session.scalars(select(DecisionRow).where(DecisionRow.kind == "merge")).one()
    undo = desk.client.post(
        f"/decisions/{first.id}/undo", data={"csrf": csrf, "reason": "ticket 9"}
    )
    assert undo.status_code == 400  # the split changed the same records: undo that first
    with desk.store.session() as session:
        kinds = [d.kind for d in session.scalars(select(DecisionRow).order_by(DecisionRow.id))]
    assert kinds == ["merge", "split"]


def test_find_a_child_in_either_script_and_language(desk: Desk) -> None:
    desk.login("hana")
    csrf = desk.csrf("/find")

    def search(**fields: str) -> str:
        answer = desk.client.post("/find", data={"csrf": csrf, **fields})
        assert answer.status_code == 200
        return answer.text

    page = search(name="សុខ ដារា", birth_year="2015")
    assert desk.ids["a"] in page and "given name: " in page
    assert "a number such as 2015" in search(name="Dara", birth_year="abc")
    # a search is a POST with the form's token: no name in a URL, nothing done without it
    assert desk.client.post("/find", data={"name": "Dara"}).status_code == 403
    assert 'method="post" action="/find"' in desk.client.get("/find").text
    desk.client.post("/lang", data={"csrf": csrf, "lang": "km", "back": "/find"})
    page = search(name="Dara Sok", birth_year="2016")
    assert "កើតខុសគ្នា 1 ឆ្នាំ" in page and "នាមខ្លួន" in page
