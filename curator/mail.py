"""The issue as an email message: the ``email:`` settings, the MIME message, drafts on disk, SMTP sending.

Sending is resumable: each recipient is recorded in the store as soon as the SMTP
server has accepted their copy, so a rerun after a failure skips them and nobody
gets the issue twice. Proofs sent with ``test=True`` are never recorded.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import ipaddress
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .config import Config
from .errors import ConfigError, CuratorError, NotFoundError, UsageError
from .models import Month
from .render import RenderedEmail, render_email
from .store import Store
from .typography import clean_url
from .urls import is_http_url

if TYPE_CHECKING:
    import smtplib

#: The environment variable that holds the SMTP password (never an option or a setting).
PASSWORD_ENV = "CURATOR_SMTP_PASSWORD"
SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class SendError(CuratorError):
    """Sending stopped (the SMTP server failed or refused); a rerun resumes where it stopped."""


# --- settings -----------------------------------------------------------------------


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
    """The ``email:`` block of sources.yaml."""

    templates: Path | None = None  # a folder laid out like the package's templates/
    logo: Logo | None = None
    list_id: str = ""  # List-Id; default: derived from the From address
    rate_limit: float = 60.0  # messages per minute
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


_EMAIL_KEYS = {"templates", "logo", "list_id", "rate_limit", "smtp"}
_SMTP_KEYS = {"host", "port", "security", "user", "timeout"}
_LIST_ID_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+$")


def email_settings(config: Config) -> EmailSettings:
    """Validate ``config.extra["email"]``; a ConfigError names the file, the entry and the field."""
    raw = config.extra.get("email")
    if raw is None:
        return EmailSettings()
    path = str(config.path)

    def error(message: str, fld: str | None = None, entry: str = "email", data: Any = raw) -> ConfigError:
        return ConfigError(message, path=path, entry=entry, field=fld, line=getattr(data, "line", None))

    if not isinstance(raw, dict):
        raise error("expected a mapping (key: value)")
    for key in raw:
        if key not in _EMAIL_KEYS:
            raise error(f"unknown key (allowed: {', '.join(sorted(_EMAIL_KEYS))})", str(key))
    templates = None
    if raw.get("templates") not in (None, ""):
        if not isinstance(raw["templates"], str):
            raise error("expected the path of a folder", "templates")
        templates = Path(raw["templates"]).expanduser()
        if not templates.is_absolute():
            templates = config.path.parent / templates
    logo = None
    if raw.get("logo") is not None:
        data = raw["logo"]
        if isinstance(data, str):
            data = {"src": data}
        if not isinstance(data, dict) or set(data) - {"src", "alt", "width"}:
            raise error("expected {src: https://…, alt: text, width: pixels}", "logo")
        src = str(data.get("src") or "")
        if not src.startswith("https://") or not is_http_url(src):
            raise error(
                f"{src!r} is not an https URL: images in an email must be absolute https URLs", "logo"
            )
        width = data.get("width", 120)
        if isinstance(width, bool) or not isinstance(width, int) or not 16 <= width <= 600:
            raise error("logo width must be a whole number of pixels between 16 and 600", "logo")
        alt = data.get("alt", config.newsletter.title)
        if not isinstance(alt, str):
            raise error("logo alt must be text (the newsletter's name, usually)", "logo")
        logo = Logo(src, alt.strip(), width)
    list_id = raw.get("list_id") or ""
    if list_id and (not isinstance(list_id, str) or not _LIST_ID_RE.match(list_id)):
        raise error("expected a dotted identifier such as infolettre.labs.example.org", "list_id")
    rate = raw.get("rate_limit", 60)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 100_000:
        raise error("expected a number of messages per minute, above 0", "rate_limit")
    smtp = SmtpSettings()
    if raw.get("smtp") is not None:
        data = raw["smtp"]
        if not isinstance(data, dict):
            raise error("expected a mapping (host, port, security, user, timeout)", "smtp")
        for key in data:
            if key not in _SMTP_KEYS:
                raise error(
                    f"unknown key (allowed: {', '.join(sorted(_SMTP_KEYS))})", str(key), "email.smtp", data
                )
        port = data.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise error("expected a port number", "port", "email.smtp", data)
        security = data.get("security", "none")
        if security not in SECURITY:
            raise error(f"expected one of {', '.join(SECURITY)}", "security", "email.smtp", data)
        timeout = data.get("timeout", 30)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
            raise error("expected a number of seconds (at most 600)", "timeout", "email.smtp", data)
        for key in ("host", "user"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise error("expected text", key, "email.smtp", data)
        smtp = SmtpSettings(
            host=data.get("host") or "localhost",
            port=port,
            security=security,
            user=data.get("user") or "",
            timeout=float(timeout),
        )
    return EmailSettings(templates, logo, list_id, float(rate), smtp)


# --- the message ----------------------------------------------------------------------


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


def list_id(config: Config) -> str:
    """The List-Id (RFC 2919): the ``list_id`` setting, else from the From address."""
    configured = email_settings(config).list_id
    if configured:
        return configured
    addr = parseaddr(config.newsletter.from_address)[1]
    local, _, domain = addr.partition("@")
    if local and domain:
        return f"{re.sub(r'[^A-Za-z0-9-]', '-', local)}.{domain.lower()}"
    host = [*config.newsletter.site_url.split("/"), "", "", ""][2]
    return f"infolettre.{host or 'curator.invalid'}"


def message_id(month: Month, now: datetime, recipient: str, domain: str) -> str:
    """A Message-ID unique to the issue, the moment and the recipient (deterministic for tests)."""
    token = hashlib.sha256(f"{month}|{now.isoformat()}|{recipient.lower()}".encode()).hexdigest()[:20]
    return f"<{month}.{now:%Y%m%d%H%M%S}.{token}@{domain or 'curator.invalid'}>"


def build_message(
    rendered: RenderedEmail,
    config: Config,
    now: datetime,
    *,
    to: str | None = None,
    test: bool = False,
    draft: bool = False,
) -> EmailMessage:
    """The multipart/alternative message (text, then HTML) with the list headers.

    From and Reply-To come from sources.yaml; List-Unsubscribe-Post (one-click,
    RFC 8058) is added only when the unsubscribe address is an https URL.
    """
    newsletter = config.newsletter
    msg = EmailMessage(policy=policy.default)
    if newsletter.from_address:
        msg["From"] = newsletter.from_address
    if newsletter.reply_to:
        msg["Reply-To"] = newsletter.reply_to
    if to:
        msg["To"] = to
    msg["Subject"] = ("[TEST] " if test else "") + rendered.subject
    msg["Date"] = format_datetime(now.astimezone(ZoneInfo(newsletter.timezone)))
    domain = _domain(newsletter.from_address) or _domain(newsletter.reply_to)
    msg["Message-ID"] = message_id(rendered.month, now, to or "", domain)
    msg["List-Id"] = f"{_list_name(newsletter.title)} <{list_id(config)}>"
    unsubscribe = clean_url(newsletter.unsubscribe)
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    archive = clean_url(newsletter.site_url)
    if archive:
        msg["List-Archive"] = f"<{archive}>"
    msg["Content-Language"] = newsletter.locale.replace("_", "-")
    if draft:
        msg["X-Unsent"] = "1"  # Outlook opens the .eml as a message ready to send
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _list_name(text: str) -> str:
    """The list's name for List-Id: words only (no RFC 5322 specials to quote); the email
    package MIME-encodes the non-ASCII ones."""
    return " ".join(re.sub(r"[()<>\[\]:;@\\,.\"]", " ", text).split())


# --- drafts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftPaths:
    """What ``curator draft`` wrote: ``folder``/email.html, email.txt and email.eml."""

    folder: Path
    html: Path
    text: Path
    eml: Path
    rendered: RenderedEmail

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.rendered.warnings


def render_issue_email(
    store: Store, config: Config, month: Month, now: datetime, *, templates: Path | None = None
) -> RenderedEmail:
    """The month's issue rendered for email; NotFoundError (with the fix) if there is nothing to send."""
    from .views import issue_view

    view = issue_view(store, config, month)
    if not view.picks:
        raise NotFoundError(
            f"the issue {month} has no picks yet: list the candidates with "
            f"`curator candidates --month {month}`, then `curator pick ID --month {month}`"
        )
    return render_email(view, config, templates=templates, now=now)


def draft_issue(
    store: Store,
    config: Config,
    month: Month,
    out_dir: Path,
    now: datetime,
    *,
    templates: Path | None = None,
) -> DraftPaths:
    """Render the month's issue and write ``out_dir/<month>/email.html``, ``email.txt`` and
    ``email.eml`` (a complete multipart/alternative message to open in a mail client)."""
    rendered = render_issue_email(store, config, month, now, templates=templates)
    message = build_message(rendered, config, now, draft=True)
    folder = Path(out_dir) / str(month)
    folder.mkdir(parents=True, exist_ok=True)
    paths = DraftPaths(folder, folder / "email.html", folder / "email.txt", folder / "email.eml", rendered)
    _write(paths.html, rendered.html.encode("utf-8"))
    _write(paths.text, rendered.text.encode("utf-8"))
    _write(paths.eml, message.as_bytes())
    return paths


def _write(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a temporary file renamed over it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --- recipients -------------------------------------------------------------------------

_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+$")
_HEADER_NAMES = {"email", "e-mail", "mail", "courriel", "adresse", "address", "adresse électronique"}


def check_address(address: str, where: str = "") -> str:
    address = address.strip()
    if not _ADDRESS_RE.match(address) or address.endswith(".") or ".." in address.partition("@")[2]:
        raise UsageError(f"{where}{address!r} is not an email address")
    return address


def read_recipients(path: Path) -> list[str]:
    """The addresses of a CSV file: the column named email (or courriel, mail…), else the
    first one that holds an address; ``,`` ``;`` or tab separated; duplicates dropped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the recipients file ({exc})") from None
    lines = text.splitlines()
    first_line = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = max(",;\t", key=first_line.count)  # "," when none is there
    rows = [(n, row) for n, row in enumerate(csv.reader(lines, delimiter=delimiter), 1)]
    rows = [
        (n, row) for n, row in rows if any(c.strip() for c in row) and not row[0].lstrip().startswith("#")
    ]
    if not rows:
        raise UsageError(f"{path}: no recipient in the file")
    first = [c.strip().lower() for c in rows[0][1]]
    column = next((i for i, c in enumerate(first) if c in _HEADER_NAMES), None)
    if column is not None:
        rows = rows[1:]
    else:
        column = next((i for i, c in enumerate(first) if "@" in c), None)
        if column is None:
            raise UsageError(f"{path}: no column named email, and no address on the first line")
    found: dict[str, str] = {}
    for n, row in rows:
        value = row[column].strip() if column < len(row) else ""
        address = check_address(value, f"{path}:{n}: ")
        found.setdefault(address.lower(), address)
    return list(found.values())


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What happened to one recipient: sent, skipped (already sent before) or refused."""

    recipient: str
    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class SendSummary:
    month: Month
    test: bool
    results: tuple[SendResult, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def refused(self) -> list[SendResult]:
        return [r for r in self.results if r.outcome == "refused"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def smtp_settings(config: Config, **overrides: Any) -> SmtpSettings:
    """The ``email.smtp`` settings, the given options (None: not given) over them, and the
    password from the environment."""
    base = email_settings(config).smtp
    values = {k: v for k, v in overrides.items() if v is not None}
    from dataclasses import replace

    settings = replace(base, **values)
    return replace(settings, password=os.environ.get(PASSWORD_ENV, ""))


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An SMTP connection, encrypted as asked, logged in when a user is given."""
    import smtplib
    import socket
    import ssl

    where = f"{settings.host}:{settings.effective_port}"
    if settings.user:
        if not settings.password:
            raise UsageError(
                f"--smtp-user is set: put the password in the environment variable {PASSWORD_ENV}"
            )
        if settings.security == "none" and not _is_loopback(settings.host):
            raise UsageError(
                f"refusing to send the SMTP password to {where} unencrypted: add --starttls or --ssl"
            )
    context = ssl.create_default_context()
    helo = socket.gethostname() or "localhost"
    try:
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host,
                settings.effective_port,
                local_hostname=helo,
                timeout=settings.timeout,
                context=context,
            )
        else:
            smtp = smtplib.SMTP(
                settings.host, settings.effective_port, local_hostname=helo, timeout=settings.timeout
            )
            if settings.security == "starttls":
                smtp.starttls(context=context)
        if settings.user:
            smtp.login(settings.user, settings.password)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"the SMTP server {where} refused the login of {settings.user}: {_reply(exc)}"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"cannot connect to the SMTP server {where}: {exc}") from None
    return smtp


def _reply(exc: smtplib.SMTPException) -> str:
    code = getattr(exc, "smtp_code", None)
    text = getattr(exc, "smtp_error", b"")
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip() if code else str(exc)


def send_issue(
    store: Store,
    config: Config,
    month: Month,
    recipients: Sequence[str],
    now: datetime,
    *,
    smtp: SmtpSettings,
    test: bool = False,
    rate_limit: float | None = None,
    templates: Path | None = None,
    dry_run: bool = False,
    on_result: Callable[[SendResult], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SendSummary:
    """Send the month's issue to each recipient, one message each, at most ``rate_limit`` a minute.

    Without ``test`` the issue must be published, recipients already served are
    skipped, and each one is recorded once the server accepted their copy. A
    recipient refused by the server is reported and not recorded; any other
    failure stops the run with a SendError (rerun the same command to resume).
    """
    import smtplib

    if not config.newsletter.from_address:
        raise UsageError(f"{config.path}: set newsletter.from (the sender's address) before sending")
    issue = store.issue(month)
    if not test and issue is not None and not issue.published:
        raise UsageError(
            f"the issue {month} is not published yet: publish it first (`curator publish --month {month}`) "
            "so that its link « Voir cette infolettre en ligne » works, or send a proof with --test"
        )
    addresses = list(dict.fromkeys(check_address(a) for a in recipients))
    if not addresses:
        raise UsageError("no recipient: give --to ADDRESS or --recipients FILE.csv")
    rendered = render_issue_email(store, config, month, now, templates=templates)
    already = {} if test else {k.lower(): v for k, v in store.sent_recipients(month).items()}
    results: list[SendResult] = []

    def report(result: SendResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    todo = []
    for address in addresses:
        if address.lower() in already:
            report(
                SendResult(
                    address, "skipped", f"already sent on {already[address.lower()]:%Y-%m-%d %H:%M} UTC"
                )
            )
        else:
            todo.append(address)
    if dry_run or not todo:
        for address in todo:
            report(SendResult(address, "would send"))
        return SendSummary(month, test, tuple(results))
    interval = 60.0 / (rate_limit or email_settings(config).rate_limit)
    message = build_message(rendered, config, now, test=test)
    domain = _domain(config.newsletter.from_address)
    sender = parseaddr(config.newsletter.from_address)[1]
    connection = connect(smtp)
    last: float | None = None
    try:
        for index, address in enumerate(todo):
            if last is not None:
                wait = last + interval - clock()
                if wait > 0:
                    sleep(wait)
            last = clock()
            del message["To"], message["Message-ID"]
            message["To"] = address
            mid = message_id(month, now, address, domain)
            message["Message-ID"] = mid
            failure: OSError | smtplib.SMTPException | None = None
            try:
                connection.send_message(message, from_addr=sender, to_addrs=[address])
            except smtplib.SMTPRecipientsRefused as exc:
                reply = exc.recipients.get(address, (0, b""))
                detail = f"{reply[0]} {reply[1].decode('utf-8', 'replace')}".strip()
                report(SendResult(address, "refused", detail))
                _reset(connection)
                continue
            except smtplib.SMTPDataError as exc:
                if not 500 <= exc.smtp_code < 600:
                    failure = exc
                else:
                    # A permanent refusal of this one message (a full mailbox, a policy):
                    # the others still get theirs, and a rerun does not stop here again.
                    report(SendResult(address, "refused", _reply(exc)))
                    _reset(connection)
                    continue
            except (OSError, smtplib.SMTPException) as exc:
                failure = exc
            if failure is not None:
                left = len(todo) - index
                detail = _reply(failure) if isinstance(failure, smtplib.SMTPException) else str(failure)
                sent = sum(1 for r in results if r.outcome == "sent")
                raise SendError(
                    f"sending stopped at {address} ({detail}): {sent} sent in this run, {left} left. "
                    + ("Rerun the same command to resume: nobody gets the issue twice." if not test else "")
                ) from None
            if not test:
                store.record_send(month, address, mid, now)
            report(SendResult(address, "sent"))
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return SendSummary(month, test, tuple(results))


def _reset(connection: smtplib.SMTP) -> None:
    import smtplib

    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.rset()


def recipients_from(to: Iterable[str], recipients_file: Path | None) -> list[str]:
    """``--to`` addresses then the file's, in order, without duplicates."""
    found = [check_address(a, "--to: ") for a in to]
    if recipients_file is not None:
        found += read_recipients(recipients_file)
    unique: dict[str, str] = {}
    for address in found:
        unique.setdefault(address.lower(), address)
    return list(unique.values())
