"""A desk over a small store: three children, two review items, one user per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bridge.config import Config
from bridge.helpdesk.users import add_user
from bridge.store.db import Store
from bridge.web.app import create_app
from tests.helpdesk.factory import add_record, add_review, child_record

PASSWORD = "correct horse battery"
# personal fields of the records below: a page for a viewer must show none of them
PERSONAL = ("Dara", "Sokh", "Vanna", "Chea", "ដារា", "2015-03-01", "2016-07-09")


@dataclass
class Desk:
    store: Store
    client: TestClient
    ids: dict[str, Any]

    def login(self, name: str, password: str = PASSWORD) -> Any:
        page = self.client.get("/login")
        return self.client.post(
            "/login",
            data={"name": name, "password": password, "csrf": csrf_of(page.text)},
            follow_redirects=False,
        )

    def csrf(self, path: str = "/review") -> str:
        return csrf_of(self.client.get(path).text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def fill(store: Store) -> dict[str, Any]:
    from datetime import date

    a = add_record(store, child_record("primero", "p1", ids={"primero_case_id": "c1"}))
    b = add_record(store, child_record("oscar", "o1", "Dara", "Sokh"))
    c = add_record(
        store, child_record("oscar", "o2", "Vanna", "Chea", km=None, born=date(2016, 7, 9))
    )
    review = add_review(store, "primero:p1", "oscar:o1", 0.71)
    other = add_review(store, "oscar:o2", "primero:p1", 0.55)
    with store.session() as session:
        for name, role in (("hana", "helpdesk"), ("vic", "viewer"), ("ada", "admin")):
            add_user(session, name, role, PASSWORD, by="test")
    return {"a": a, "b": b, "c": c, "review": review, "other": other}


@pytest.fixture
def desk(store: Store) -> Iterator[Desk]:
    ids = fill(store)
    config = Config(database_url=str(store.engine.url))
    app = create_app(config, store, service=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Desk(store, client, ids)
