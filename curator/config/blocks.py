"""The settings blocks of ``sources.yaml`` (``fetch``, ``curation``, ``email``, ``web``, ``archive``,
``labs_vocabulary``):
typed, with their defaults, and validated when the file is loaded, through the one ``Reader``.

A mistake in any block fails every command at once (exit 2, naming file, line, block and
field), rather than only the command that happens to read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..models import Newsletter, VocabularyTerm
from ..text import fold
from ..urls import is_http_url
from .reader import Reader

# --- fetch: --------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchSettings:
    concurrency: int = 16
    per_host: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0  # seconds for one source, all redirects and the body included
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5


def parse_fetch(raw: Any, path: str) -> FetchSettings:
    if raw is None:
        return FetchSettings()
    r = Reader(path, "fetch", raw)
    r.check_keys({f.name for f in fields(FetchSettings)})
    return FetchSettings(
        concurrency=int(r.integer("concurrency", 16, minimum=1) or 16),
        per_host=int(r.integer("per_host", 4, minimum=1) or 4),
        connect_timeout=r.number("connect_timeout", 10.0, minimum=0.1),
        read_timeout=r.number("read_timeout", 30.0, minimum=0.1),
        deadline=r.number("deadline", 60.0, minimum=0.1),
        max_bytes=int(r.integer("max_bytes", 10 * 1024 * 1024, minimum=1024) or 0),
        max_redirects=int(r.integer("max_redirects", 5, minimum=0) or 0),
    )


# --- curation: -----------------------------------------------------------------------


@dataclass(frozen=True)
class CurationSettings:
    """How candidates are chosen and ranked."""

    window: str = "same"  # "same": items published in the issue's month; "previous": the month before
    max_age_days: int = 31  # items older than the window stay candidates up to this many days
    report_weight: float = 2.0
    lab_bonus: float = 0.5
    theme_bonus: float = 0.5
    duplicate_bonus: float = 0.25
    half_life_days: float = 30.0
    keywords: Mapping[str, float] = field(default_factory=dict)  # keyword -> boost


def parse_curation(raw: Any, path: str = "sources.yaml") -> CurationSettings:
    if raw is None:
        return CurationSettings()
    r = Reader(path, "curation", raw)
    r.check_keys({f.name for f in fields(CurationSettings)})
    keywords = r.data.get("keywords", {})
    if not isinstance(keywords, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
        for k, v in keywords.items()
    ):
        raise r.error("expected a mapping of keyword: boost (a number)", "keywords")
    defaults = CurationSettings()
    numbers = {
        name: r.number(name, getattr(defaults, name))
        for name in ("report_weight", "lab_bonus", "theme_bonus", "duplicate_bonus", "half_life_days")
    }
    max_age = r.data.get("max_age_days", defaults.max_age_days)
    if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0:
        raise r.error("expected a whole number of days", "max_age_days")
    return CurationSettings(
        window=r.choice("window", "same", ("same", "previous"), "must be 'same' or 'previous'"),
        max_age_days=max_age,
        keywords={k: float(v) for k, v in keywords.items()},
        **numbers,
    )


# --- email: --------------------------------------------------------------------------

SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
_LIST_ID_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+$")
#: An address as the sender accepts it (``mail.recipients.check_address``), with a dotted domain.
_ADDRESS_RE = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\.]+(\.[^@\s<>(),;:\"\[\]\\.]+)+")


@dataclass(frozen=True)
class Logo:
    src: str  # an absolute https URL
    alt: str
    width: int = 120  # pixels


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int | None = None  # None: 25, 587 with STARTTLS, 465 with SSL
    security: str = "none"  # none, starttls or ssl
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0  # seconds, for connecting and for each command

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


@dataclass(frozen=True)
class EmailSettings:
    templates: Path | None = None  # a folder laid out like the package's templates/
    logo: Logo | None = None
    list_id: str = ""  # List-Id; default: derived from the From address
    rate_limit: float = 60.0  # messages per minute
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    #: Who gets the issue when it is sent to the list from the editor area: addresses (the
    #: list's own address, for a Sympa list)...
    recipients: tuple[str, ...] = ()
    #: ...or a CSV file (absolute; written relative to sources.yaml), read at each send.
    recipients_file: Path | None = None


def parse_email(raw: Any, path: str, newsletter: Newsletter) -> EmailSettings:
    if raw is None:
        return EmailSettings()
    r = Reader(path, "email", raw)
    r.check_keys({"templates", "logo", "list_id", "rate_limit", "smtp", "recipients"})
    templates = None
    if r.data.get("templates") not in (None, ""):
        if not isinstance(r.data["templates"], str):
            raise r.error("expected the path of a folder", "templates")
        templates = Path(r.data["templates"]).expanduser()
        if not templates.is_absolute():
            templates = Path(path).parent / templates
    logo = _logo(r, newsletter)
    list_id = r.data.get("list_id") or ""
    if list_id and (not isinstance(list_id, str) or not _LIST_ID_RE.match(list_id)):
        raise r.error("expected a dotted identifier such as infolettre.labs.example.org", "list_id")
    rate = r.data.get("rate_limit", 60)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 100_000:
        raise r.error("expected a number of messages per minute, above 0", "rate_limit")
    smtp = SmtpSettings()
    if r.data.get("smtp") is not None:
        if not isinstance(r.data["smtp"], dict):
            raise r.error("expected a mapping (host, port, security, user, timeout)", "smtp")
        s = Reader(path, "email.smtp", r.data["smtp"])
        s.check_keys({"host", "port", "security", "user", "timeout"})
        port = s.data.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise s.error("expected a port number", "port")
        timeout = s.data.get("timeout", 30)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
            raise s.error("expected a number of seconds (at most 600)", "timeout")
        for key in ("host", "user"):
            if s.data.get(key) is not None and not isinstance(s.data[key], str):
                raise s.error("expected text", key)
        smtp = SmtpSettings(
            host=s.data.get("host") or "localhost",
            port=port,
            security=s.choice("security", "none", SECURITY),
            user=s.data.get("user") or "",
            timeout=float(timeout),
        )
    recipients, recipients_file = _recipients(r)
    return EmailSettings(templates, logo, list_id, float(rate), smtp, recipients, recipients_file)


def _recipients(r: Reader) -> tuple[tuple[str, ...], Path | None]:
    """``recipients:``: the path of a CSV file (relative to sources.yaml), or a list of addresses.

    The file is read when the issue is sent, not here: it may be refreshed from the list
    before each send, and a missing file fails the send, not every command."""
    value = r.data.get("recipients")
    if value is None or value == "" or value == []:
        return (), None
    if isinstance(value, str):
        text = value.strip()
        if _ADDRESS_RE.fullmatch(text) and "/" not in text:
            raise r.error(
                f"{text!r} is an address, not a file: write a list, recipients: [{text}], "
                "or the path of a CSV file",
                "recipients",
            )
        file = Path(text).expanduser()
        return (), file if file.is_absolute() else Path(r.path).resolve().parent / file
    if not isinstance(value, list):
        raise r.error(
            "expected the path of a CSV file (recipients: abonnes.csv) or a list of addresses "
            "(recipients: [infolettre@listes.example.org])",
            "recipients",
        )
    addresses: dict[str, str] = {}
    for n, address in enumerate(value, 1):
        if not isinstance(address, str) or not _ADDRESS_RE.fullmatch(address.strip()):
            raise r.error(f"item {n}: {address!r} is not an email address", "recipients")
        addresses.setdefault(address.strip().lower(), address.strip())
    return tuple(addresses.values()), None


def _logo(r: Reader, newsletter: Newsletter) -> Logo | None:
    data = r.data.get("logo")
    if data is None:
        return None
    if isinstance(data, str):
        data = {"src": data}
    if not isinstance(data, dict) or set(data) - {"src", "alt", "width"}:
        raise r.error("expected {src: https://…, alt: text, width: pixels}", "logo")
    src = str(data.get("src") or "")
    if not src.startswith("https://") or not is_http_url(src):
        raise r.error(f"{src!r} is not an https URL: images in an email must be absolute https URLs", "logo")
    width = data.get("width", 120)
    if isinstance(width, bool) or not isinstance(width, int) or not 16 <= width <= 600:
        raise r.error("logo width must be a whole number of pixels between 16 and 600", "logo")
    alt = data.get("alt", newsletter.title)
    if not isinstance(alt, str):
        raise r.error("logo alt must be text (the newsletter's name, usually)", "logo")
    return Logo(src, alt.strip(), width)


# --- web: ----------------------------------------------------------------------------


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


_WEB_LIMITS: dict[str, tuple[int, int]] = {
    "submission_limit": (1, 1_000_000),
    "submission_window": (1, 86_400),
    "login_limit": (1, 1_000),
    "login_window": (1, 86_400),
    "max_request_bytes": (64 * 1024, 100 * 1024 * 1024),
    "proxy_count": (0, 10),
    "session_hours": (1, 24 * 31),
    "session_max_hours": (1, 24 * 31),
}


def parse_web(raw: Any, path: str) -> WebSettings:
    if raw is None:
        return WebSettings()
    r = Reader(path, "web", raw)
    r.check_keys({f.name for f in fields(WebSettings)})
    defaults = WebSettings()
    values: dict[str, Any] = {
        key: r.integer_in(key, getattr(defaults, key), low, high) for key, (low, high) in _WEB_LIMITS.items()
    }
    return WebSettings(secure_cookies=r.boolean("secure_cookies", False), **values)


# --- archive: ------------------------------------------------------------------------

DEFAULT_OUT = Path("archive")
_EMAIL_RE = re.compile(r"[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+")


@dataclass(frozen=True)
class ArchiveSettings:
    out: Path = DEFAULT_OUT  # relative paths in sources.yaml are read from the file's folder
    base_url: str = ""  # the public address of the archive; "" = newsletter.site_url
    templates: Path | None = None  # a folder of templates overriding templates/archive/*
    contact: str = ""  # how readers report an accessibility problem: an email address or a URL
    feed_issues: int = 12  # how many of the latest issues feed.xml carries, in full


def parse_archive(raw: Any, path: str, newsletter: Newsletter) -> ArchiveSettings:
    # Like every path in sources.yaml, the output folder is read from the file's folder
    # (absolute: the web app serves from it whatever its own working folder).
    folder = Path(path).resolve().parent
    if raw is None:
        return ArchiveSettings(out=folder / DEFAULT_OUT, contact=default_contact(newsletter))
    if not isinstance(raw, dict):
        raise Reader(path, "archive", raw).error(
            "expected a mapping (key: value), e.g. archive: {out: public/archive}"
        )
    r = Reader(path, "archive", raw)
    r.check_keys({"out", "base_url", "templates", "contact", "feed_issues"})
    values: dict[str, Any] = {"out": folder / DEFAULT_OUT}
    for key in ("out", "templates"):
        value = r.data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise r.error("expected a folder path", key)
        values[key] = folder / Path(value.strip()).expanduser()
    if "templates" in values and not values["templates"].is_dir():
        raise r.error(f"{values['templates']} is not a folder", "templates")
    base_url = r.data.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str) or not is_http_url(base_url.strip()):
            raise r.error(f"{base_url!r} is not an http(s) URL: write it as https://…/", "base_url")
        values["base_url"] = base_url.strip().rstrip("/") + "/"
    feed_issues = r.data.get("feed_issues")
    if feed_issues is not None:
        if not isinstance(feed_issues, int) or isinstance(feed_issues, bool) or feed_issues < 1:
            raise r.error(
                "expected a whole number of issues, at least 1 (e.g. feed_issues: 12)", "feed_issues"
            )
        values["feed_issues"] = feed_issues
    contact = r.data.get("contact")
    if contact is not None:
        if not isinstance(contact, str) or not (_EMAIL_RE.fullmatch(contact.strip()) or is_http_url(contact)):
            raise r.error("expected an email address or an https:// URL", "contact")
        values["contact"] = contact.strip()
    else:
        values["contact"] = default_contact(newsletter)
    return ArchiveSettings(**values)


def default_contact(newsletter: Newsletter) -> str:
    """The address readers write to about accessibility when none is set: the Reply-To, else the From."""
    for text in (newsletter.reply_to, newsletter.from_address):
        m = _EMAIL_RE.search(text or "")
        if m:
            return m.group(0).strip("<>")
    return ""


# --- labs_vocabulary: ----------------------------------------------------------------

#: The community's innovation types (the labs' « fiches d'identité », November 2021): the
#: default of ``labs_vocabulary: innovation_types:``.
DEFAULT_INNOVATION_TYPES: tuple[VocabularyTerm, ...] = (
    VocabularyTerm("pedagogique", "Pédagogique"),
    VocabularyTerm("organisationnelle", "Organisationnelle"),
    VocabularyTerm("numerique", "Numérique"),
    VocabularyTerm("manageriale", "Managériale"),
    VocabularyTerm("design-de-service", "Design de service"),
    VocabularyTerm("politiques-publiques", "Politiques publiques"),
    VocabularyTerm("sociale", "Sociale"),
)

_TERM_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def parse_labs_vocabulary(raw: Any, path: str) -> tuple[VocabularyTerm, ...]:
    """``labs_vocabulary: {innovation_types: [...]}``: each term ``{id, label}`` or just its label."""
    if raw is None:
        return DEFAULT_INNOVATION_TYPES
    r = Reader(path, "labs_vocabulary", raw)
    r.check_keys({"innovation_types"})
    terms = r.data.get("innovation_types")
    if terms is None:
        return DEFAULT_INNOVATION_TYPES
    if not isinstance(terms, list) or not terms:
        raise r.error("expected a list of terms (- {id: numerique, label: Numérique})", "innovation_types")
    result: list[VocabularyTerm] = []
    for index, term in enumerate(terms):
        entry = f"labs_vocabulary.innovation_types[{index}]"
        if isinstance(term, str):
            label = term.strip()
            term_id = re.sub(r"[^a-z0-9]+", "-", fold(label)).strip("-")
            line = getattr(terms, "line", None) or r.line
            if not label or not term_id:
                raise ConfigError("a term needs a label", path=path, entry=entry, line=line)
        else:
            t = Reader(path, entry, term)
            t.check_keys({"id", "label"})
            label = t.text("label", required=True)
            term_id = t.text("id", required=True)
            line = t.line
            if not _TERM_ID_RE.match(term_id):
                raise t.error(
                    f"{term_id!r} is not a valid id: use lower-case letters, digits, '-', '_' or '.'", "id"
                )
        if any(existing.id == term_id for existing in result):
            raise ConfigError(f"duplicate term {term_id!r}", path=path, entry=entry, field="id", line=line)
        result.append(VocabularyTerm(term_id, label))
    return tuple(result)
