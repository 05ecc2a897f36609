"""Editors: accounts with argon2id-hashed passwords, login checks, the limit on failed logins, sessions."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import CuratorError, NotFoundError, UsageError
from .models import Editor
from .store import Store

#: argon2id with the library's defaults (RFC 9106, low-memory profile). Tests may swap in cheaper parameters.
_hasher = PasswordHasher()
_dummy_hashes: dict[str, str] = {}

#: argon2 takes 64 MiB for each check: at most this many run at once in one process...
ARGON2_SLOTS = 2
#: ...and a login waits at most this many seconds for its turn, then is told to try again (LoginBusy).
ARGON2_WAIT = 10.0
_argon2_slots = threading.BoundedSemaphore(ARGON2_SLOTS)


def _dummy_hash() -> str:
    """Checked against when the email is unknown, so that a wrong email costs as long as a wrong password."""
    key = f"{_hasher.time_cost}-{_hasher.memory_cost}-{_hasher.parallelism}"
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash("curator: not a password")
    return _dummy_hashes[key]


MIN_PASSWORD_LENGTH = 12
_EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


class LoginFailed(CuratorError):
    """Wrong email or password (the message never says which)."""


class TooManyAttempts(CuratorError):
    """Too many failed logins lately; ``retry_after`` is in seconds, ``account``: the email's own count is full."""

    def __init__(self, retry_after: int, *, account: bool = False) -> None:
        self.retry_after = retry_after
        self.account = account
        super().__init__(f"too many failed logins: try again in {retry_after} seconds")


class LoginBusy(CuratorError):
    """Too many passwords are being checked at once; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many logins at once: try again in {retry_after} seconds")


@dataclass(frozen=True)
class LoginLimit:
    """At most ``attempts`` failed logins per ``window`` seconds, per email and per IP address."""

    attempts: int = 5
    window: int = 900


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if password != password.strip():
        raise UsageError("the password must not start or end with a space")


def add_editor(store: Store, email: str, password: str, now: datetime, *, update: bool = False) -> Editor:
    """Create an editor (or, with ``update``, set an existing editor's password)."""
    email = normalise_email(email)
    if not _EMAIL_RE.match(email):
        raise UsageError(f"{email!r} is not an email address")
    check_password(password)
    password_hash = _hasher.hash(password)
    if not store.add_editor(email, password_hash, now):
        if not update:
            raise UsageError(f"editor {email} already exists: use --update to change the password")
        with store.write():  # a new password ends every session opened with the old one
            store.set_editor_password(email, password_hash)
            store.delete_editor_sessions(email)
    editor = store.editor(email)
    assert editor is not None
    return editor


def remove_editor(store: Store, email: str) -> None:
    """Remove an editor; their sessions go with them (the table's foreign key cascades)."""
    if not store.remove_editor(normalise_email(email)):
        raise NotFoundError(f"no editor {normalise_email(email)}: see `curator editors list`")


def list_editors(store: Store) -> list[Editor]:
    return store.editors()


# --- sessions: kept on the server, so that logging out ends them ----------------------

#: ``last_seen`` is written at most this often: not a write per request.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimit:
    """A session ends after ``idle_hours`` without a request, and ``max_hours`` after the login."""

    idle_hours: int = 12
    max_hours: int = 12


_SESSION_LIMIT = SessionLimit()


def _session_id(token: str) -> str:
    # Only the token's hash is stored: a copy of the database opens no session.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(
    store: Store, email: str, *, ip: str, now: datetime, limit: SessionLimit = _SESSION_LIMIT
) -> str:
    """Start a session for the editor ``email``: the token the cookie keeps (the store keeps its sha256).

    Sessions that ended meanwhile are purged on the way.
    """
    token = secrets.token_urlsafe(32)
    with store.write():
        store.purge_editor_sessions(
            created_before=now - timedelta(hours=limit.max_hours),
            seen_before=now - timedelta(hours=limit.idle_hours),
        )
        store.add_editor_session(_session_id(token), normalise_email(email), now=now, ip=_hash(ip))
    return token


def session_editor(
    store: Store, token: object, *, now: datetime, limit: SessionLimit = _SESSION_LIMIT
) -> str | None:
    """The email of the editor whose session ``token`` opens, or None once it ended.

    A session ends at logout, when the editor's password changes or the editor
    is removed, after ``limit.idle_hours`` without a request and
    ``limit.max_hours`` after the login, however much it is used.
    """
    if not isinstance(token, str) or not token:
        return None
    session_id = _session_id(token)
    found = store.editor_session(session_id)
    if found is None:
        return None
    too_old = now - found.created_at >= timedelta(hours=limit.max_hours)
    idle = now - found.last_seen >= timedelta(hours=limit.idle_hours)
    if too_old or idle:
        store.delete_editor_session(session_id)
        return None
    if now - found.last_seen >= SESSION_TOUCH_INTERVAL:
        store.touch_editor_session(session_id, now)
    return found.email


def close_session(store: Store, token: object) -> None:
    """End the session ``token`` opens (logging out): a copy of its cookie opens nothing afterwards."""
    if isinstance(token, str) and token:
        store.delete_editor_session(_session_id(token))


# --- logins and their limit -----------------------------------------------------------


def _hash(value: str) -> str:
    # Hashed: the tables that count attempts and sessions hold no address in clear.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _bucket(kind: str, value: str) -> str:
    return f"login-{kind}:{_hash(value)}"


def _from_prefix(email: str) -> str:
    return f"login-from:{_hash(email)}:"


def _from_bucket(email: str, ip: str) -> str:
    # Which addresses an email's failures came from: what `unlock_editor` forgets per address.
    return _from_prefix(email) + _hash(ip)


def _retry_after(store: Store, bucket: str, limit: LoginLimit, now: datetime, since: datetime) -> int:
    """Seconds until ``bucket`` falls back under the limit."""
    times = store.rate_times(bucket, since)
    if len(times) < limit.attempts:
        return 1
    freed = times[len(times) - limit.attempts] + timedelta(seconds=limit.window)
    return max(1, math.ceil((freed - now).total_seconds()))


def _check_password(store: Store, email: str, password: str) -> bool:
    """Whether ``password`` is ``email``'s, with at most ARGON2_SLOTS checks at once in this process."""
    if not _argon2_slots.acquire(timeout=ARGON2_WAIT):
        raise LoginBusy(max(1, math.ceil(ARGON2_WAIT)))
    try:
        password_hash = store.editor_password_hash(email)
        try:
            _hasher.verify(password_hash or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
        if password_hash is None:
            return False
        if _hasher.check_needs_rehash(password_hash):
            store.set_editor_password(email, _hasher.hash(password))
        return True
    finally:
        _argon2_slots.release()


def authenticate(
    store: Store, email: str, password: str, *, ip: str, now: datetime, limit: LoginLimit = LoginLimit()
) -> Editor:
    """The editor for these credentials; LoginFailed, TooManyAttempts once the limit is reached, or LoginBusy.

    Failures are counted per email and per address. Each attempt is counted
    before its password is checked, in one write transaction (so that
    simultaneous attempts, in any thread or worker, cannot pass the limit
    together); a success takes its attempt back and clears the email's
    count. A password hashed with older parameters is rehashed.
    """
    email = normalise_email(email)
    since = now - timedelta(seconds=limit.window)
    email_bucket, ip_bucket = _bucket("email", email), _bucket("ip", ip)
    with store.write():
        blocked = [b for b in (email_bucket, ip_bucket) if store.rate_count(b, since) >= limit.attempts]
        if blocked:
            raise TooManyAttempts(
                max(_retry_after(store, b, limit, now, since) for b in blocked),
                account=email_bucket in blocked,
            )
        reserved = [store.rate_add(b, now) for b in (email_bucket, ip_bucket, _from_bucket(email, ip))]
    try:
        ok = _check_password(store, email, password)
    except LoginBusy:
        store.rate_remove(reserved)  # not an attempt: the password was not checked
        raise
    if not ok:
        raise LoginFailed("wrong email or password")  # the attempt stays counted
    with store.write():
        store.rate_remove(reserved)
        store.rate_clear(email_bucket)
        store.record_editor_login(email, now)
    editor = store.editor(email)
    assert editor is not None
    return editor


def unlock_editor(store: Store, email: str) -> int:
    """Forget the failed logins of ``email`` (per email, and their share of each address's count); how many."""
    email = normalise_email(email)
    if store.editor(email) is None:
        raise NotFoundError(f"no editor {email}: see `curator editors list`")
    prefix = _from_prefix(email)
    with store.write():
        for bucket, count in store.rate_buckets(prefix).items():
            hashed_ip = bucket[len(prefix) :]  # the same hash as in the address's own bucket
            store.rate_forget(f"login-ip:{hashed_ip}", count)
            store.rate_clear(bucket)
        return store.rate_clear(_bucket("email", email))
