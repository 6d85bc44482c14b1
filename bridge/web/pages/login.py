"""Logging in and out, and choosing the language."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from bridge.helpdesk.users import Refused, log_in, log_out, set_lang
from bridge.web.desk import (
    COOKIE,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    Visit,
    desk_of,
    form,
    need,
    safe_next,
    visit,
)
from bridge.web.i18n import LANGS, N_

routes = APIRouter()


def _login_page(request: Request, message: str = "", status: int = 200) -> Response:
    seen = visit(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    seen.csrf = token
    response = seen.render(
        "login.html.j2",
        status_code=status,
        message=message,
        next=safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
        secure=desk_of(request).config.desk.secure_cookies,
    )  # fmt: skip
    return response


@routes.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@routes.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/review",  # noqa: A002 - the form's field
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf, expected):
        return _login_page(request, N_("This form is out of date: try again."), 403)
    desk = desk_of(request)
    with desk.session() as session:
        done = log_in(session, name, password, desk.config.desk)
    if isinstance(done, Refused):
        message = (
            N_("This account is locked after too many failed logins. Try again later.")
            if done.locked
            else N_("Wrong user name or password, or the account is disabled.")
        )
        return _login_page(request, message, 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE, done.token, httponly=True, samesite="strict",
        secure=desk.config.desk.secure_cookies, max_age=desk.config.desk.session_minutes * 60,
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@routes.post("/logout")
async def logout(request: Request, seen: Annotated[Visit, Depends(need())]) -> Response:
    await form(request, seen)
    with desk_of(request).session() as session:
        log_out(session, request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@routes.post("/lang")
async def choose_lang(request: Request, seen: Annotated[Visit, Depends(need())]) -> Response:
    fields = await form(request, seen)
    lang = str(fields.get("lang", ""))
    if lang in LANGS and seen.user is not None:
        with desk_of(request).session() as session:
            set_lang(session, seen.user.id, lang)
    response = RedirectResponse(safe_next(str(fields.get("back", ""))), status_code=303)
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)
    return response
