"""The desk's users, their passwords and login sessions: one service for `bridge users` and
`bridge serve`.

Passwords are hashed with argon2id (``argon2-cffi``, the reference implementation's
binding) and never stored or logged. A login is a random token in a cookie; the store keeps
its SHA-256 only, with a CSRF token, an absolute expiry and an idle expiry. Repeated failed
logins lock the account for a while; a disabled account cannot log in and loses its sessions.
Every change to a user is an audit row (who did it, never the password).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bridge.config import DeskConfig
from bridge.helpdesk.audit import record_audit
from bridge.helpdesk.service import HelpdeskError
from bridge.store.schema import DeskSessionRow, DeskUserRow

ROLES = ("admin", "helpdesk", "viewer")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# a hash to verify against when the name is unknown, so a wrong name costs as long as a
# wrong password (no telling which names exist by the time an answer takes)
_DUMMY = _hasher.hash(secrets.token_hex(16))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DeskUser:
    id: int
    name: str
    role: str
    disabled: bool
    lang: str
    locked_until: datetime | None = None

    @property
    def decides(self) -> bool:
        return self.role == "helpdesk"

    @property
    def sees_personal(self) -> bool:
        return self.role == "helpdesk"

    @property
    def administers(self) -> bool:
        return self.role == "admin"


def _user(row: DeskUserRow) -> DeskUser:
    return DeskUser(row.id, row.name, row.role, row.disabled, row.lang, _aware(row.locked_until))


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-@" for ch in name):
        raise HelpdeskError(
            "a user name is 1-64 letters, digits or . _ - @ (a login, not a person's full name)"
        )
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise HelpdeskError(f"a password has at least {MIN_PASSWORD} characters")
    return password


def _row(session: Session, name: str) -> DeskUserRow:
    row = session.scalars(select(DeskUserRow).where(DeskUserRow.name == name.strip())).first()
    if row is None:
        raise HelpdeskError(f"no user {name!r}: see `bridge users list`")
    return row


def add_user(
    session: Session, name: str, role: str, password: str, *, by: str, lang: str = "en"
) -> DeskUser:
    name = check_name(name)
    if role not in ROLES:
        raise HelpdeskError(f"role {role!r}: use one of {', '.join(ROLES)}")
    check_password(password)
    if session.scalars(select(DeskUserRow.id).where(DeskUserRow.name == name)).first():
        raise HelpdeskError(f"user {name!r} exists: use `bridge users reset` for a new password")
    row = DeskUserRow(
        name=name,
        role=role,
        password_hash=_hasher.hash(password),
        disabled=False,
        failed_logins=0,
        lang=lang,
    )
    session.add(row)
    session.flush()
    record_audit(
        session, actor=by, action="user_add", child_id=None, details={"user": name, "role": role}
    )
    return _user(row)


def list_users(session: Session) -> list[DeskUser]:
    return [_user(r) for r in session.scalars(select(DeskUserRow).order_by(DeskUserRow.name))]


def get_user(session: Session, user_id: int) -> DeskUser | None:
    row = session.get(DeskUserRow, user_id)
    return _user(row) if row is not None else None


def disable_user(session: Session, name: str, *, by: str) -> DeskUser:
    row = _row(session, name)
    row.disabled = True
    session.execute(delete(DeskSessionRow).where(DeskSessionRow.user_id == row.id))
    record_audit(session, actor=by, action="user_disable", child_id=None, details={"user": name})
    return _user(row)


def reset_user(session: Session, name: str, password: str, *, by: str) -> DeskUser:
    """A new password; the account is enabled and unlocked, its old sessions end."""
    row = _row(session, name)
    row.password_hash = _hasher.hash(check_password(password))
    row.disabled, row.failed_logins, row.locked_until = False, 0, None
    session.execute(delete(DeskSessionRow).where(DeskSessionRow.user_id == row.id))
    record_audit(session, actor=by, action="user_reset", child_id=None, details={"user": name})
    return _user(row)


def set_lang(session: Session, user_id: int, lang: str) -> None:
    row = session.get(DeskUserRow, user_id)
    if row is not None and lang in ("en", "km"):
        row.lang = lang


# -- logins ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Refused:
    """Wrong name or password, a disabled or a locked account. ``locked`` says which of the
    last (the page may say so: the owner needs to know to wait). Returned, not raised: the
    failed attempt it counts must be committed."""

    message: str
    locked: bool = False


@dataclass(frozen=True)
class Login:
    token: str  # for the cookie; the store has its hash only
    csrf: str
    user: DeskUser


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(
    session: Session, name: str, password: str, config: DeskConfig, *, now: datetime | None = None
) -> Login | Refused:
    now = now or _now()
    row = session.scalars(
        select(DeskUserRow).where(DeskUserRow.name == (name or "").strip())
    ).first()
    if row is None:
        _verify(_DUMMY, password)
        return Refused("wrong user name or password")
    locked = _aware(row.locked_until)
    if locked is not None and locked > now:
        return Refused("this account is locked after failed logins; try later", locked=True)
    if not _verify(row.password_hash, password):
        row.failed_logins += 1
        if row.failed_logins >= config.max_failed_logins:
            row.locked_until = now + timedelta(minutes=config.lockout_minutes)
            row.failed_logins = 0
            record_audit(session, actor=row.name, action="login_locked", child_id=None, details={})
        return Refused("wrong user name or password")
    if row.disabled:
        return Refused("this account is disabled; ask an administrator")
    row.failed_logins, row.locked_until = 0, None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        DeskSessionRow(
            token_hash=_digest(token),
            user_id=row.id,
            csrf=csrf,
            created_at=now,
            seen_at=now,
            expires_at=now + timedelta(minutes=config.session_minutes),
        )
    )
    record_audit(session, actor=row.name, action="login", child_id=None, details={})
    return Login(token, csrf, _user(row))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password or "")
    except (VerificationError, InvalidHashError):
        return False


def session_user(
    session: Session, token: str | None, config: DeskConfig, *, now: datetime | None = None
) -> tuple[DeskUser, str] | None:
    """The user and CSRF token of a live login, or None (expired, idle, disabled, unknown).
    A live login's idle clock restarts."""
    if not token:
        return None
    now = now or _now()
    row = session.get(DeskSessionRow, _digest(token))
    if row is None:
        return None
    expires, seen = _aware(row.expires_at), _aware(row.seen_at)
    user = session.get(DeskUserRow, row.user_id)
    idle = seen is not None and now - seen > timedelta(minutes=config.idle_minutes)
    if user is None or user.disabled or (expires is not None and expires <= now) or idle:
        session.delete(row)
        return None
    if seen is None or now - seen > timedelta(seconds=30):  # one write a half-minute at most
        row.seen_at = now
    return _user(user), row.csrf


def log_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(DeskSessionRow).where(DeskSessionRow.token_hash == _digest(token)))
