"""Editors: accounts with argon2id-hashed passwords, login checks and the rate limit on failed logins."""

from __future__ import annotations

import hashlib
import re
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
    """Too many failed logins lately; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins: try again in {retry_after} seconds")


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
        store.set_editor_password(email, password_hash)
    editor = store.editor(email)
    assert editor is not None
    return editor


def remove_editor(store: Store, email: str) -> None:
    if not store.remove_editor(normalise_email(email)):
        raise NotFoundError(f"no editor {normalise_email(email)}: see `curator editors list`")


def list_editors(store: Store) -> list[Editor]:
    return store.editors()


def session_token(store: Store, email: str) -> str | None:
    """A fingerprint of the editor's password hash, kept in the session.

    It changes with the password and disappears with the editor, which ends
    every session opened before.
    """
    password_hash = store.editor_password_hash(normalise_email(email))
    if password_hash is None:
        return None
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def _bucket(kind: str, value: str) -> str:
    # Hashed: the table that counts attempts holds no address in clear.
    return f"login-{kind}:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def authenticate(
    store: Store, email: str, password: str, *, ip: str, now: datetime, limit: LoginLimit = LoginLimit()
) -> Editor:
    """The editor for these credentials; LoginFailed, or TooManyAttempts once the limit is reached.

    Only failures count, per email and per address; a success clears the
    email's count. A password hashed with older parameters is rehashed.
    """
    email = normalise_email(email)
    since = now - timedelta(seconds=limit.window)
    buckets = (_bucket("email", email), _bucket("ip", ip))
    if any(store.rate_count(b, since) >= limit.attempts for b in buckets):
        raise TooManyAttempts(limit.window)
    password_hash = store.editor_password_hash(email)
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
        ok = password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        with store.write():
            for b in buckets:
                store.rate_take(b, limit=limit.attempts, since=since, now=now)
        raise LoginFailed("wrong email or password")
    assert password_hash is not None
    if _hasher.check_needs_rehash(password_hash):
        store.set_editor_password(email, _hasher.hash(password))
    store.rate_clear(buckets[0])
    store.record_editor_login(email, now)
    editor = store.editor(email)
    assert editor is not None
    return editor
