"""The issue as a MIME message: headers (List-Id, List-Unsubscribe, Message-ID), HTML and text parts."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..config import Config
from ..models import Month
from ..render import RenderedEmail
from ..typography import clean_url

if TYPE_CHECKING:
    pass


def address_domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


def list_id(config: Config) -> str:
    """The List-Id (RFC 2919): the ``list_id`` setting, else from the From address."""
    configured = config.email.list_id
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
    domain = address_domain(newsletter.from_address) or address_domain(newsletter.reply_to)
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
