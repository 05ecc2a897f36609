"""Experience reports: validate a submission, store it, moderate it (approve, reject, edit with history)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from markupsafe import Markup

from .config import Config
from .errors import AlreadyDecided, InUseError, UsageError
from .i18n import DEFAULT_LOCALE, N_
from .i18n import gettext as _
from .markup import markdown_to_html
from .models import Report
from .store import Store
from .text import clean_text, shift_headings
from .urls import is_email, is_http_url

STATUSES = ("pending", "approved", "rejected")
STATUS_LABELS = {"pending": N_("pending"), "approved": N_("approved"), "rejected": N_("rejected")}

#: The licences a contributor may choose, by the value the form sends.
LICENSES: dict[str, tuple[str, str]] = {
    "etalab-2.0": ("Licence Ouverte 2.0", "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"),
    "cc-by-4.0": ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.fr"),
    "cc-by-sa-4.0": ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/deed.fr"),
}

#: The value of the ``lab`` field for a lab that is not in sources.yaml (never a valid lab id).
OTHER_LAB = "_other"

#: The most characters each field accepts (line breaks count as one).
MAX_LENGTHS = {
    "lab_other": 200,
    "author_name": 200,
    "author_email": 254,
    "title": 200,
    "summary": 600,
    "body": 20_000,
    "link": 2_000,
    "reason": 2_000,
}

#: Every field of the public form, in the order people fill them (the names are a contract).
FORM_FIELDS = (
    "lab",
    "lab_other",
    "author_name",
    "author_email",
    "title",
    "summary",
    "body",
    "link",
    "tags",
    "license",
    "consent",
)
#: What an editor may change.
EDITABLE_FIELDS = ("lab", "lab_other", "title", "summary", "body", "link", "tags")

FIELD_LABELS = {
    "lab": N_("Your lab"),
    "lab_other": N_("Name of your lab, if it is not in the list"),
    "author_name": N_("Your name"),
    "author_email": N_("Your email address"),
    "title": N_("Title"),
    "summary": N_("Summary"),
    "body": N_("Your experience report"),
    "link": N_("Link to learn more (optional)"),
    "tags": N_("Themes (optional)"),
    "license": N_("Licence for reuse"),
    "consent": N_("Consent"),
    "reason": N_("Reason for rejecting"),
}

_CONSENT_YES = frozenset({"y", "yes", "on", "1", "true"})


class InvalidReport(UsageError):
    """A submission or an edit that cannot be accepted; ``errors`` maps each field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


@dataclass(frozen=True)
class Submission:
    """A validated submission, ready to be stored (text fields exactly as typed)."""

    lab: str | None
    lab_other: str
    author_name: str
    author_email: str
    title: str
    summary: str
    body: str
    link: str | None
    tags: tuple[str, ...]
    license: str


# --- validation -------------------------------------------------------------------


def _one(data: Mapping[str, Any], name: str) -> str:
    """A field's text, without the control characters and noncharacters a paste may bring."""
    value = data.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return "" if value is None else clean_text(str(value))


def _many(data: Mapping[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [clean_text(value)]
    return [clean_text(str(v)) for v in value]


def _length(text: str) -> int:
    return len(text.replace("\r\n", "\n"))


def _check_text(
    data: Mapping[str, Any], name: str, errors: dict[str, str], locale: str, *, required: str | None
) -> str:
    """The field's text as typed; records an error when it is missing, too long or has control characters."""
    text = _one(data, name)
    if not text.strip():
        if required:
            errors[name] = _(required, locale)
        return text
    limit = MAX_LENGTHS[name]
    if _length(text) > limit:
        errors[name] = _(
            "At most %(max)s characters (you typed %(count)s).",
            locale,
            max=format_decimal(limit, locale=locale),
            count=format_decimal(_length(text), locale=locale),
        )
    return text


def _check_lab(
    data: Mapping[str, Any], config: Config, errors: dict[str, str], locale: str
) -> tuple[str | None, str]:
    lab = _one(data, "lab").strip()
    other = _check_text(data, "lab_other", errors, locale, required=None)
    if lab and lab != OTHER_LAB:
        if config.lab(lab) is None:
            errors["lab"] = _("Choose your lab in the list, or “Another lab” and type its name.", locale)
        return lab, ""
    if not other.strip():
        if lab == OTHER_LAB:
            errors["lab_other"] = _("Type the name of your lab.", locale)
        else:
            errors["lab"] = _("Choose your lab in the list, or “Another lab” and type its name.", locale)
    return None, other


def _check_email(data: Mapping[str, Any], errors: dict[str, str], locale: str) -> str:
    email = _one(data, "author_email").strip()
    if not email:
        errors["author_email"] = _("Enter your email address.", locale)
    elif len(email) > MAX_LENGTHS["author_email"] or not is_email(email):
        errors["author_email"] = _("Enter an email address in the right format, like nom@exemple.fr.", locale)
    return email


def _check_link(data: Mapping[str, Any], errors: dict[str, str], locale: str) -> str | None:
    link = _one(data, "link").strip()
    if not link:
        return None
    if (
        len(link) > MAX_LENGTHS["link"]
        or not link.lower().startswith(("http://", "https://"))
        or re.search(r"\s", link)
        or not is_http_url(link)
    ):
        errors["link"] = _("Enter a web address that starts with https:// or http://.", locale)
    return link


def _check_tags(
    data: Mapping[str, Any], config: Config, errors: dict[str, str], locale: str
) -> tuple[str, ...]:
    chosen = set(_many(data, "tags"))
    known = [t.id for t in config.themes]
    if chosen - set(known):
        errors["tags"] = _("Choose themes from the list.", locale)
    return tuple(t for t in known if t in chosen)


def validate_submission(
    data: Mapping[str, Any], config: Config, *, locale: str = DEFAULT_LOCALE
) -> Submission:
    """Check what the public form sent; raise InvalidReport with a message per field.

    ``data`` maps each field name to its text (``tags`` to a list). Text is
    kept as typed, less control characters and noncharacters (see ``text.clean_text``);
    only the email and the link lose surrounding spaces.
    """
    errors: dict[str, str] = {}
    lab, lab_other = _check_lab(data, config, errors, locale)
    author_name = _check_text(data, "author_name", errors, locale, required=N_("Enter your name."))
    author_email = _check_email(data, errors, locale)
    title = _check_text(data, "title", errors, locale, required=N_("Enter a title."))
    summary = _check_text(data, "summary", errors, locale, required=N_("Enter a summary of a few lines."))
    body = _check_text(data, "body", errors, locale, required=N_("Write your experience report."))
    link = _check_link(data, errors, locale)
    tags = _check_tags(data, config, errors, locale)
    license = _one(data, "license").strip()
    if license not in LICENSES:
        errors["license"] = _("Choose a licence for reuse.", locale)
    if _one(data, "consent").strip().lower() not in _CONSENT_YES:
        errors["consent"] = _(
            "Tick this box to send your report: we need your consent to publish it.", locale
        )
    if errors:
        raise InvalidReport({name: errors[name] for name in FORM_FIELDS if name in errors})
    return Submission(lab, lab_other, author_name, author_email, title, summary, body, link, tags, license)


def validate_edit(data: Mapping[str, Any], config: Config, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Check what an editor changed; the values to give to :func:`edit`, or InvalidReport."""
    errors: dict[str, str] = {}
    lab, lab_other = _check_lab(data, config, errors, locale)
    values = {
        "lab": lab,
        "lab_other": lab_other,
        "title": _check_text(data, "title", errors, locale, required=N_("Enter a title.")),
        "summary": _check_text(
            data, "summary", errors, locale, required=N_("Enter a summary of a few lines.")
        ),
        "body": _check_text(data, "body", errors, locale, required=N_("Write the experience report.")),
        "link": _check_link(data, errors, locale),
        "tags": _check_tags(data, config, errors, locale),
    }
    if errors:
        raise InvalidReport({name: errors[name] for name in EDITABLE_FIELDS if name in errors})
    return values


def validate_reason(reason: str, *, locale: str = DEFAULT_LOCALE) -> str:
    errors: dict[str, str] = {}
    text = _check_text(
        {"reason": reason}, "reason", errors, locale, required=N_("Say why the report is rejected.")
    )
    if errors:
        raise InvalidReport(errors)
    return text.strip()


# --- moderation -------------------------------------------------------------------


def new_submission_key() -> str:
    """A key for one display of the form: the same form sent twice is stored once."""
    return uuid.uuid4().hex


def submit(
    store: Store, submission: Submission, now: datetime, *, key: str | None = None
) -> tuple[Report, bool]:
    """Store a submission as a pending report; (the report, False) when it was already stored.

    ``key`` identifies one display of the form. The stored key adds a hash of
    the content: the same form sent twice is stored once, while a different
    report sent from the same page (the Back button) is a new one.
    """
    content = json.dumps(
        [
            submission.lab,
            submission.lab_other,
            submission.author_name,
            submission.author_email,
            submission.title,
            submission.summary,
            submission.body,
            submission.link,
            list(submission.tags),
            submission.license,
        ],
        ensure_ascii=False,
    )
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]
    report_id, created = store.add_report(
        submission_key=f"{key or new_submission_key()}:{digest}",
        lab=submission.lab,
        lab_other=submission.lab_other,
        author_name=submission.author_name,
        author_email=submission.author_email,
        title=submission.title,
        summary=submission.summary,
        body=submission.body,
        link=submission.link,
        tags=submission.tags,
        license=submission.license,
        now=now,
    )
    return store.report(report_id), created


def list_reports(store: Store, status: str | None = None, *, limit: int | None = None) -> list[Report]:
    """Reports newest first; approved ones are the candidates for the « Retours d'expérience » section."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    return store.reports(status=status, limit=limit)


def approve(
    store: Store, report_id: int, *, editor: str, now: datetime, expected_version: int | None = None
) -> Report:
    """Approve a pending (or rejected) report: it becomes a candidate for the next issue."""
    report = store.report(report_id)
    if report.status == "approved":
        raise AlreadyDecided(report_id, "approved")
    changed, _change = store.change_report(
        report_id,
        {"status": "approved", "reject_reason": None},
        editor=editor,
        action="approved",
        now=now,
        expected_version=report.version if expected_version is None else expected_version,
    )
    return changed


def reject(
    store: Store,
    report_id: int,
    *,
    reason: str,
    editor: str,
    now: datetime,
    expected_version: int | None = None,
    locale: str = DEFAULT_LOCALE,
) -> Report:
    """Reject a report with a reason (kept with it and in its history)."""
    reason = validate_reason(reason, locale=locale)
    with store.write():
        report = store.report(report_id)
        if report.status == "rejected":
            raise AlreadyDecided(report_id, "rejected")
        for pick, _state in store.picks_of("report", report_id):
            raise InUseError(
                f"report r{report_id} is picked in the issue {pick.month}: take it out first "
                f"(`curator unpick r{report_id} --month {pick.month}`), then reject it",
                pick.month,
            )
        changed, _change = store.change_report(
            report_id,
            {"status": "rejected", "reject_reason": reason},
            editor=editor,
            action="rejected",
            now=now,
            reason=reason,
            expected_version=report.version if expected_version is None else expected_version,
        )
    return changed


def edit(
    store: Store,
    report_id: int,
    values: Mapping[str, Any],
    *,
    editor: str,
    now: datetime,
    expected_version: int | None = None,
) -> tuple[Report, bool]:
    """Change what an editor may change (see :func:`validate_edit`); (the report, whether it changed).

    The history records who, when and each field's old and new value.
    """
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise UsageError(f"an editor cannot change {', '.join(sorted(unknown))}")
    values = {k: clean_text(v) if isinstance(v, str) else v for k, v in values.items()}
    with store.write():
        for pick, state in store.picks_of("report", report_id):
            if state == "published":
                raise InUseError(
                    f"report r{report_id} is in the published issue {pick.month}, which is frozen: "
                    f"reopen it first (`curator issue reopen --month {pick.month}`)",
                    pick.month,
                )
        report, change = store.change_report(
            report_id,
            dict(values),
            editor=editor,
            action="edited",
            now=now,
            expected_version=expected_version,
        )
    return report, change is not None


# --- showing a report -------------------------------------------------------------


def render_markdown(text: str, *, heading_offset: int = 0) -> Markup:
    """A report's Markdown as the infolettre shows it: raw HTML off, http(s)/mailto links only, sanitised.

    It is the infolettre's own renderer (:func:`curator.markup.markdown_to_html`),
    so the editors' preview cannot differ from the issue. ``heading_offset``
    moves headings down (2: ``<h2>`` becomes ``<h4>``) so that they sit
    below the page's own.
    """
    return Markup(shift_headings(markdown_to_html(text), heading_offset))  # sanitised by markdown_to_html


def lab_label(report: Report, config: Config | None) -> str:
    """The name of the report's lab as people read it."""
    if report.lab is None:
        return report.lab_other.strip()
    lab = config.lab(report.lab) if config is not None else None
    return lab.name if lab is not None else report.lab


def theme_labels(tags: Iterable[str], config: Config | None) -> list[str]:
    labels = {t.id: t.label for t in config.themes} if config is not None else {}
    return [labels.get(tag, tag) for tag in tags]


def form_data(report: Report) -> dict[str, Any]:
    """A stored report as the values of the edit form."""
    return {
        "lab": report.lab or OTHER_LAB,
        "lab_other": report.lab_other,
        "title": report.title,
        "summary": report.summary,
        "body": report.body,
        "link": report.link or "",
        "tags": list(report.tags),
    }


def describe_changes(changes: Mapping[str, Mapping[str, Any]]) -> Sequence[str]:
    """The names of the fields a history entry changed, in form order."""
    order = [*FORM_FIELDS, "status", "reject_reason"]
    return sorted(changes, key=lambda name: order.index(name) if name in order else len(order))
