"""What the web says, in the reader's language: the one ``_()`` of the web app, and the one
mapping from the domain's refusals (typed errors) to messages, by type and data, never by text."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal

from ..errors import (
    AlreadyDecided,
    ArchiveBuildFailed,
    ChecklistBlocked,
    CuratorError,
    EmptyIssue,
    InUseError,
    InvalidValue,
    IssueFrozen,
    NotFoundError,
    NotPicked,
    NotPublished,
    SectionFull,
    SendInProgress,
    StaleEdit,
)
from ..i18n import N_, fill, gettext
from ..i18n import ngettext as _ngettext
from ..labs import FIELD_LABELS as LAB_FIELD_LABELS
from ..labs import InvalidLabCard
from ..opml import OpmlError
from . import state


def _(message: str, /, **values: Any) -> str:
    """``message`` in the app's language (French by default), with ``values`` filled in (any
    name, ``message`` too)."""
    locale = state().locale
    text = gettext(message, locale)
    return fill(text, values, locale) if values else text


def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """``singular`` or ``plural`` for ``n`` in the app's language (French: 0 and 1 are singular),
    with ``num`` and ``values`` filled in."""
    return _ngettext(singular, plural, n, state().locale, **values)


#: The name of each field an editor fills, as the messages say it.
FIELD_NAMES = {
    "title": N_("the title"),
    "edito": N_("the édito"),
    "note": N_("the note"),
    "summary": N_("the summary"),
    "link": N_("the link"),
    "video_url": N_("the video link"),
    "start": N_("the start date"),
    "end": N_("the end date"),
    "section": N_("the section"),
    "position": N_("the position"),
    "report": N_("the report"),
    "date": N_("the publication date"),
}


def error_message(exc: CuratorError) -> str:
    """What an editor reads when the domain refuses an action."""
    if isinstance(exc, InUseError):
        return _(
            "This was already published in the issue %(month)s: an article goes out once.", month=exc.month
        )
    if isinstance(exc, IssueFrozen):
        return _("This issue is published and frozen. Reopen it first to change it.")
    if isinstance(exc, SectionFull):
        return _("This section is full: remove a pick first, or raise its maximum in sources.yaml.")
    if isinstance(exc, StaleEdit):
        if exc.what == "report":
            return _("Someone else changed this report in the meantime: check it again before deciding.")
        if exc.what == "the lab card":
            return _("Someone else changed this card in the meantime: check it as it is now, then try again.")
        if exc.field == "edito":
            return _(
                "Someone else changed the édito in the meantime. Your text is kept below, "
                "beside the version they saved: choose which one to keep."
            )
        if exc.field == "title":
            return _(
                "Someone else changed the title in the meantime. Your title is kept below, "
                "beside the one they saved: choose which one to keep."
            )
        if exc.what == "the section":
            return _(
                "Someone else changed the order of this section in the meantime (an article moved, "
                "added or removed). Nothing was moved: check the order as it is now and try again."
            )
        if exc.what == "the candidate":
            return _("Someone else picked this in the meantime: it is already in the issue.")
        if exc.what == "the pick":
            return _(
                "Someone else changed the note or the wording of this article in the meantime, "
                "so it was not removed: check it as it is now, then try again."
            )
        return _(
            "Someone else changed this issue in the meantime. Your change was not applied: "
            "check the issue as it is now and try again."
        )
    if isinstance(exc, SendInProgress):
        return _(
            "This issue is already being sent to the list: follow its progress on this page. "
            "Nobody gets it twice."
        )
    if isinstance(exc, NotPicked):
        return _("This is no longer in the issue: reload the page.")
    if isinstance(exc, NotPublished):
        return _("This issue is not published.")
    if isinstance(exc, EmptyIssue):
        return _("This issue is empty: pick items or write the édito first.")
    if isinstance(exc, AlreadyDecided):
        if exc.what == "lab card proposal":
            if exc.status == "approved":
                return _("This proposal was already approved.")
            return _("This proposal was already rejected.")
        if exc.status == "approved":
            return _("This report was already approved.")
        return _("This report was already rejected.")
    if isinstance(exc, ChecklistBlocked):
        return _(
            "This issue has blocking points (see the checklist): fix them, or tick "
            "“Publish despite the blocking points” to publish it as it is."
        )
    if isinstance(exc, ArchiveBuildFailed):
        return _archive_failed(exc)
    if isinstance(exc, OpmlError):
        if exc.line is not None:
            return _(
                "This OPML file is malformed (line %(line)s): nothing was imported. Fix it, then import it again.",
                line=exc.line,
            )
        return _("This file is not an OPML file of subscriptions: nothing was imported.")
    if isinstance(exc, InvalidLabCard):
        return _invalid_card(exc)
    if isinstance(exc, InvalidValue):
        return _invalid_value(exc)
    if isinstance(exc, NotFoundError):
        return _("This could not be found: it may have been removed. Reload the page.")
    return _("This could not be done: %(reason)s", reason=str(exc))


def _invalid_card(exc: InvalidLabCard) -> str:
    """A lab's card refused: each field's message (already in the reader's language), with its label."""
    return " ".join(
        message
        if name not in LAB_FIELD_LABELS
        else _("%(label)s: %(message)s", label=_(LAB_FIELD_LABELS[name]), message=message)
        for name, message in exc.errors.items()
    )


def _invalid_value(exc: InvalidValue) -> str:
    if exc.field == "lab" and exc.problem == "unknown":
        return _("This lab is no longer in the list of labs of sources.yaml: its card cannot be changed.")
    field = _(FIELD_NAMES.get(exc.field, exc.field))
    data = exc.data
    if exc.problem == "required":
        return _("Fill in %(field)s.", field=field)
    if exc.problem == "too_long":
        limit = format_decimal(int(str(data["limit"])), locale=state().locale)
        return _(
            "%(field)s is too long: at most %(limit)s characters.",
            field=field[:1].upper() + field[1:],
            limit=limit,
        )
    if exc.problem == "not_http":
        return _("For %(field)s, enter a web address that starts with https:// or http://.", field=field)
    if exc.problem == "date_range":
        return _("Give a date between the years %(low)s and %(high)s.", low=data["low"], high=data["high"])
    if exc.problem == "future":
        return _("The publication date cannot be in the future.")
    if exc.problem == "too_early":
        return _("This publication date is long before the issue's month.")
    if exc.problem == "ends_before_start":
        return _("An event cannot end before it starts.")
    if exc.problem == "not_approved":
        return _("Only approved reports can be picked.")
    if exc.problem == "position":
        return _("Positions start at 1.")
    if exc.problem == "wrong_kind":  # a lab's portrait outside a section of kind labs, or an item in one
        return _(
            "This section does not take this kind of content: lab portraits go into the section of "
            "portraits, articles and reports into the others."
        )
    if exc.problem == "no_labs_section":
        return _("There is no section for lab portraits: add one with kind: labs to sources.yaml.")
    if exc.problem == "portrait_wording":
        return _("A lab's portrait takes a note only: its card stays in the lab's own words.")
    if exc.problem == "unknown":
        return _("This section does not take picks.")
    return _("This could not be done: %(reason)s", reason=str(exc))


def _archive_failed(exc: ArchiveBuildFailed) -> str:
    """A publication or a reopening undone because the archive could not be rebuilt: what
    failed, and the state the issue is in (as it was before)."""
    if exc.action == "reopen":
        return _(
            "The issue was not reopened: the archive could not be rebuilt without it (%(reason)s). "
            "It is still published, and the archive online has not changed.",
            reason=exc.reason,
        )
    if exc.state == "published":
        return _(
            "The archive could not be rebuilt (%(reason)s). The issue is still published as it was, "
            "and the archive online has not changed.",
            reason=exc.reason,
        )
    return _(
        "The issue was not published: the archive could not be rebuilt (%(reason)s). It is still "
        "a draft, and the archive online has not changed.",
        reason=exc.reason,
    )
