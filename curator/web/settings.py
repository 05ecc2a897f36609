"""The ``web:`` block of sources.yaml: rate limits, request size, proxies, cookies and sessions, validated."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ..config import Config
from ..errors import ConfigError


@dataclass(frozen=True)
class WebSettings:
    submission_limit: int = 5  # accepted submissions per IP address...
    submission_window: int = 600  # ...in this many seconds
    login_limit: int = 5  # failed logins per email and per IP address...
    login_window: int = 900  # ...in this many seconds
    max_request_bytes: int = 512 * 1024  # larger requests get 413 (a 20,000-character report needs < 250 KB)
    proxy_count: int = 0  # reverse proxies in front whose X-Forwarded-* headers are trusted
    secure_cookies: bool = False  # always mark cookies Secure (they are anyway on https requests)
    session_hours: int = 12  # an editor's session ends after this many hours without a request...
    session_max_hours: int = 12  # ...and this many hours after the login, however much it is used


_LIMITS: dict[str, tuple[int, int]] = {
    "submission_limit": (1, 1_000_000),
    "submission_window": (1, 86_400),
    "login_limit": (1, 1_000),
    "login_window": (1, 86_400),
    "max_request_bytes": (64 * 1024, 100 * 1024 * 1024),
    "proxy_count": (0, 10),
    "session_hours": (1, 24 * 31),
    "session_max_hours": (1, 24 * 31),
}


def web_settings(config: Config, **overrides: Any) -> WebSettings:
    """Validate ``config.extra["web"]``; a ConfigError names the file and the field."""
    raw = config.extra.get("web")
    path = str(config.path)
    line = getattr(raw, "line", None)
    values: dict[str, Any] = {}
    if raw is not None:
        if not isinstance(raw, dict):
            raise ConfigError("expected a mapping (key: value)", path=path, entry="web", line=line)
        allowed = {f.name for f in fields(WebSettings)}
        for key, value in raw.items():
            if key not in allowed:
                raise ConfigError(
                    f"unknown key (allowed: {', '.join(sorted(allowed))})",
                    path=path,
                    entry="web",
                    field=str(key),
                    line=line,
                )
            values[key] = _check(key, value, path, line)
    return replace(WebSettings(**values), **overrides)


def _check(key: str, value: Any, path: str, line: int | None) -> Any:
    if key == "secure_cookies":
        if not isinstance(value, bool):
            raise ConfigError("expected true or false", path=path, entry="web", field=key, line=line)
        return value
    low, high = _LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError("expected a whole number", path=path, entry="web", field=key, line=line)
    if not low <= value <= high:
        raise ConfigError(f"must be between {low} and {high}", path=path, entry="web", field=key, line=line)
    return value
