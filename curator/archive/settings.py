"""The ``archive:`` block of sources.yaml: where the archive goes and how it is addressed, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..urls import is_http_url

DEFAULT_OUT = Path("archive")
_EMAIL_RE = re.compile(r"[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+")
_KEYS = ("out", "base_url", "templates", "contact", "feed_issues")


@dataclass(frozen=True)
class ArchiveSettings:
    out: Path = DEFAULT_OUT  # relative paths in sources.yaml are read from the file's folder
    base_url: str = ""  # the public address of the archive; "" = newsletter.site_url
    templates: Path | None = None  # a folder of templates overriding templates/archive/*
    contact: str = ""  # how readers report an accessibility problem: an email address or a URL
    feed_issues: int = 12  # how many of the latest issues feed.xml carries, in full


def archive_settings(config: Config) -> ArchiveSettings:
    """Validate ``config.extra["archive"]``; a ConfigError names the file, the entry and the field."""
    raw = config.extra.get("archive")
    path = str(config.path)
    line = getattr(raw, "line", None)
    # Like every path in sources.yaml, the default is read from the file's folder.
    folder = Path(path).resolve().parent  # absolute: the web app serves from it whatever its own folder
    default_out = folder / DEFAULT_OUT
    if raw is None:
        return ArchiveSettings(out=default_out, contact=_default_contact(config))

    def error(message: str, field: str | None = None) -> ConfigError:
        return ConfigError(message, path=path, entry="archive", field=field, line=line)

    if not isinstance(raw, dict):
        raise error("expected a mapping (key: value), e.g. archive: {out: public/archive}")
    for key in raw:
        if key not in _KEYS:
            raise error(f"unknown key (allowed: {', '.join(sorted(_KEYS))})", str(key))
    values: dict[str, Any] = {"out": default_out}
    for key in ("out", "templates"):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise error("expected a folder path", key)
        values[key] = folder / Path(value.strip()).expanduser()
    if "templates" in values and not values["templates"].is_dir():
        raise error(f"{values['templates']} is not a folder", "templates")
    base_url = raw.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str) or not is_http_url(base_url.strip()):
            raise error(f"{base_url!r} is not an http(s) URL: write it as https://…/", "base_url")
        values["base_url"] = base_url.strip().rstrip("/") + "/"
    feed_issues = raw.get("feed_issues")
    if feed_issues is not None:
        if not isinstance(feed_issues, int) or isinstance(feed_issues, bool) or feed_issues < 1:
            raise error("expected a whole number of issues, at least 1 (e.g. feed_issues: 12)", "feed_issues")
        values["feed_issues"] = feed_issues
    contact = raw.get("contact")
    if contact is not None:
        if not isinstance(contact, str) or not (_EMAIL_RE.fullmatch(contact.strip()) or is_http_url(contact)):
            raise error("expected an email address or an https:// URL", "contact")
        values["contact"] = contact.strip()
    else:
        values["contact"] = _default_contact(config)
    return ArchiveSettings(**values)


def _default_contact(config: Config) -> str:
    for text in (config.newsletter.reply_to, config.newsletter.from_address):
        m = _EMAIL_RE.search(text or "")
        if m:
            return m.group(0).strip("<>")
    return ""
