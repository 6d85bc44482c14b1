"""What every page of the desk shares: the login of the request, its CSRF token, its
language, the role it needs, and rendering a template in that language.

A page asks for a user with :func:`need` (a role or several); with no live login it is sent to
``/login`` (a GET) or refused (anything else). Every POST carries the login's CSRF token in a
form field ``csrf``; :func:`form` checks it before the page sees the form.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from bridge import places
from bridge.config import Config
from bridge.helpdesk.audit import audit_channel
from bridge.helpdesk.users import DeskUser, session_user
from bridge.store.db import Store
from bridge.web.i18n import LANGS, N_, Translator, translator

HERE = Path(__file__).parent
COOKIE = "bridge_desk"
LANG_COOKIE = "bridge_lang"
LOGIN_CSRF_COOKIE = "bridge_login_csrf"


class Desk:
    """The application's state: configuration, store and templates."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html", "j2"]),
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction whose audit rows say they came from the desk."""
        with audit_channel("desk"), self.store.session() as session:
            yield session


def decide_here(desk: Desk, action: Callable[[Session], Any]) -> Any:
    """A decision made on the desk: the same ``decide`` the command line uses (run lock, one
    transaction, links written back), its audit rows saying it came from the desk."""
    from bridge.helpdesk.decide import decide

    with audit_channel("desk"):
        return decide(desk.store, action)


def reason_of(fields: dict[str, Any]) -> str:
    """The posted reason, required for every decision."""
    from bridge.helpdesk.service import HelpdeskError

    reason = str(fields.get("reason", "")).strip()
    if not reason:
        raise HelpdeskError(N_("A reason is required for every decision."))
    return reason


@dataclass
class Visit:
    """One request's login: who, its CSRF token, its language."""

    request: Request
    user: DeskUser | None
    csrf: str
    lang: str

    @property
    def t(self) -> Translator:
        return translator(self.lang)

    @property
    def desk(self) -> Desk:
        return desk_of(self.request)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        t = self.t
        page = self.desk.templates.get_template(template).render(
            user=self.user, csrf=self.csrf, lang=self.lang, t=t, _=t.gettext,
            path=self.request.url.path, province_name=self.province_name, **context,
        )  # fmt: skip
        return HTMLResponse(page, status_code=status_code)

    def province_name(self, code: str) -> str:
        place = places.find(code)
        return place.name(self.lang) if place is not None else code


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _lang(request: Request, user: DeskUser | None) -> str:
    if user is not None and user.lang in LANGS:
        return user.lang
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGS else desk_of(request).config.desk.default_lang


def visit(request: Request) -> Visit:
    """The request's login (or none)."""
    desk = desk_of(request)
    found = None
    token = request.cookies.get(COOKIE)
    if token:
        with desk.session() as session:
            found = session_user(session, token, desk.config.desk)
    user, csrf = found if found else (None, "")
    return Visit(request, user, csrf, _lang(request, user))


class LoginNeeded(Exception):
    """No live login: a GET goes to the login page, anything else is refused."""


def need(*roles: str) -> Callable[[Request], Visit]:
    """A dependency: the request's visit, if its user has one of ``roles`` (all if none)."""

    def check(request: Request) -> Visit:
        seen = visit(request)
        if seen.user is None:
            raise LoginNeeded()
        if roles and seen.user.role not in roles:
            raise HTTPException(403, N_("Your role does not allow this page."))
        return seen

    return check


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def form(request: Request, seen: Visit) -> dict[str, Any]:
    """The posted form, once its CSRF token matches the login's (else 403)."""
    data = await request.form()
    given = str(data.get("csrf", ""))
    if not seen.csrf or not hmac.compare_digest(given, seen.csrf):
        raise HTTPException(
            403, N_("This form is out of date or not from the desk: reload the page.")
        )
    fields: dict[str, Any] = {}
    for key in data:
        values = data.getlist(key)
        fields[key] = values if len(values) > 1 else values[0]
    return fields


def safe_next(target: str | None) -> str:
    """A redirect inside the desk only (no other site, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/review"
    return target
