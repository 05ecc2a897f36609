"""Sending by SMTP, resumable: each recipient is recorded as soon as the server accepted their
copy, so a rerun after a failure skips them and nobody gets the issue twice. Proofs are never recorded."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config, SmtpSettings
from ..errors import CuratorError, NotPublished, UsageError
from ..models import Month
from ..store import Store
from .drafts import render_issue_email
from .message import address_domain, build_message, message_id
from .recipients import check_address

if TYPE_CHECKING:
    import smtplib

#: The environment variable that holds the SMTP password (never an option or a setting).
PASSWORD_ENV = "CURATOR_SMTP_PASSWORD"


class SendError(CuratorError):
    """Sending stopped (the SMTP server failed or refused); a rerun resumes where it stopped."""


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
    base = config.email.smtp
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
        raise NotPublished(
            month,
            f"the issue {month} is not published yet: publish it first (`curator publish --month {month}`) "
            "so that its link « Voir cette infolettre en ligne » works, or send a proof with --test",
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
    interval = 60.0 / (rate_limit or config.email.rate_limit)
    message = build_message(rendered, config, now, test=test)
    domain = address_domain(config.newsletter.from_address)
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
