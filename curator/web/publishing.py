"""Publishing from the editor area (/editeur/numeros/<month>/publier), with the checklist first.

The page shows the pre-publication checklist (``curator.checklist``) in French, what is known
of the issue's links (« Vérifier les liens » checks them, on request only: a view never goes
on the network), a publication date (today by default) and the button. Publishing runs the
same code as ``curator publish`` (``archive.publish_issue``): the issue is frozen and the
archive rebuilt, both or neither. When the checklist has blocking points, the editor may
still publish, but only by ticking « Publier malgré les points bloquants » (the form is sent
back otherwise). Reopening (``reopen_and_rebuild``, the issue page's « Rouvrir » button)
rebuilds the archive too, both or neither. The routes are on the editor blueprint, so its
login check covers them; GET and HEAD only show, every action is a POST with its CSRF token,
answered with a 303.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .. import archive, checklist, editorial, render, views
from ..checklist import Checklist, Finding
from ..config import Config
from ..errors import (
    ArchiveBuildFailed,
    ConflictError,
    CuratorError,
    EmptyIssue,
    IssueFrozen,
    StaleEdit,
    UsageError,
)
from ..i18n import N_, format_day
from ..i18n import ngettext as _ngettext
from ..models import Issue, Month
from ..store import Store
from . import get_store, state
from .archive import archive_dir
from .editor import bp
from .messages import _, error_message


def _month(value: str) -> Month:
    try:
        return Month.parse(value)
    except UsageError:
        abort(404)


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """``singular`` or ``plural`` for ``n``, in the app's language, with ``num`` and ``values``."""
    return _ngettext(singular, plural, n, state().locale, **values)


# --- the checklist as the editor reads it ------------------------------------------------


@dataclass(frozen=True)
class ShownChecklist:
    """The checklist with what the editor reads: each finding's text, the counts, the links."""

    checklist: Checklist
    items: tuple[tuple[Finding, str], ...]
    summary: str
    links: str

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return self.checklist.blocking

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return self.checklist.warnings


def page_checklist(
    store: Store, config: Config, month: Month, now: datetime, *, view: views.IssueView | None = None
) -> ShownChecklist:
    """The month's checklist for a page: the email rendered to look at it, links as last checked."""
    view = view or views.issue_view(store, config, month, editorial.peek_issue(store, config, month, now))
    facts = render.email_facts(view, config, now=now) if view.picks or view.issue.edito else None
    found = checklist.issue_checklist(store, config, month, now, view=view, email=facts)
    return ShownChecklist(
        found,
        tuple((f, finding_text(f)) for f in found.findings),
        _summary(found),
        _links_text(found),
    )


def _summary(found: Checklist) -> str:
    blocking, warnings = len(found.blocking), len(found.warnings)
    if not blocking and not warnings:
        return _("Nothing to report: the issue is ready to publish.")
    blocking_text = ngettext("%(num)d blocking point", "%(num)d blocking points", blocking)
    warnings_text = ngettext("%(num)d point to check", "%(num)d points to check", warnings)
    if blocking and warnings:
        return _("%(blocking)s and %(warnings)s.", blocking=blocking_text, warnings=warnings_text)
    return _("%(points)s.", points=blocking_text if blocking else warnings_text)


def _links_text(found: Checklist) -> str:
    links = found.links
    if not links.total:
        return _("The issue has no link to check.")
    if not links.checked:
        return ngettext("%(num)d link, not checked yet.", "%(num)d links, not checked yet.", links.total)
    web = state()
    assert links.last_checked is not None
    text = ngettext(
        "%(num)d link, last checked on %(when)s: %(broken)s with an error.",
        "%(num)d links, last checked on %(when)s: %(broken)s with an error.",
        links.total,
        when=format_day(links.last_checked, web.locale, web.timezone),
        broken=links.broken,
    )
    if links.unchecked:
        text += " " + ngettext(
            "%(num)d has never been checked.", "%(num)d have never been checked.", links.unchecked
        )
    return text


#: What a failed link check found, as the editor reads it.
_LINK_ERRORS = {
    "timeout": N_("no answer in time"),
    "dns": N_("unknown domain name"),
    "connection": N_("connection failed"),
    "redirect": N_("too many or unusable redirects"),
    "http": N_("error"),
}


def finding_text(f: Finding) -> str:
    """One finding of the checklist, in the editor's language."""
    d = f.data
    if f.code == "issue_empty":
        return _("The issue is empty: pick articles or write the édito.")
    if f.code == "section_over_max":
        return _(
            "The section “%(title)s” has %(picks)s articles, more than its maximum of %(max)s.",
            title=d["title"],
            picks=d["picks"],
            max=d["max_picks"],
        )
    if f.code == "note_missing":
        return _(
            "“%(pick)s” has no editor's note, which the section “%(title)s” asks for.",
            pick=d["pick_title"],
            title=d["title"],
        )
    if f.code == "report_withdrawn":
        return _(
            "The experience report “%(title)s” is no longer approved: readers will not see it. "
            "Remove it from the issue, or approve it again.",
            title=d["title"],
        )
    if f.code == "portrait_lab_unknown":
        return _(
            "A portrait is of a lab no longer listed in sources.yaml (%(lab)s): readers will not see it. "
            "Remove it from the issue, or list the lab again.",
            lab=d["lab"] or "?",
        )
    if f.code == "portrait_empty":
        return _(
            "The lab “%(title)s” has not filled its card yet: its portrait will show only its name.",
            title=d["title"],
        )
    if f.code == "unsubscribe_missing":
        return _(
            "The email has no way to unsubscribe: set newsletter.unsubscribe in sources.yaml "
            "(an https:// address or a mailto: address)."
        )
    if f.code == "email_failed":
        return _("The email cannot be produced: %(error)s", error=d["error"])
    if f.code == "section_empty":
        return _("The section “%(title)s” is empty: it will not appear.", title=d["title"])
    if f.code == "email_too_large":
        return _(
            "The email weighs %(size)s KB: Gmail cuts messages over %(limit)s KB. "
            "Shorten summaries or keep articles for the next issue.",
            size=round(d["bytes"] / 1000),
            limit=round(d["limit"] / 1000),
        )
    if f.code == "image_without_alt":
        return _("An image of the email has no text alternative: %(src)s", src=d["src"])
    if f.code == "link_broken":
        reason = (
            f"HTTP {d['status']}"
            if d["status"]
            else _(_LINK_ERRORS.get(d["error"] or "http", _LINK_ERRORS["http"]))
        )
        return _(
            "Broken link (%(reason)s) in %(where)s: %(url)s",
            reason=reason,
            where=", ".join(_place(p) for p in d["places"]),
            url=d["url"],
        )
    if f.code == "event_past":
        web = state()
        return _(
            "The event “%(title)s” of %(date)s is over.",
            title=d["title"],
            date=format_day(d["starts_at"], web.locale, web.timezone),
        )
    return f.code


def _place(place: dict[str, Any]) -> str:
    if place["kind"] == "edito":
        return _("the édito")
    if place["kind"] == "event":
        return _("the event “%(title)s”", title=place["title"])
    return _("“%(title)s”", title=place["title"])


# --- the publish page ----------------------------------------------------------------------


def _today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(state().timezone)).date()


def _publish_page(
    month: Month, issue: Issue, *, day: str | None = None, error: str = "", status: int = 200
) -> Any:
    web = state()
    now = web.now()
    store = get_store()
    shown = page_checklist(store, web.config, month, now)
    if day is None:  # the date it was first published on, else today
        first = issue.published_at.astimezone(ZoneInfo(web.timezone)).date() if issue.published_at else None
        day = (first or _today(now)).isoformat()
    return render_template(
        "web/editor/publish.html",
        issue=issue,
        month=str(month),
        checklist=shown,
        day=day,
        today=_today(now).isoformat(),
        error=error,
    ), status


@bp.route("/numeros/<month>/publier", methods=["GET", "POST"])
def publish(month: str) -> Any:
    m = _month(month)
    web = state()
    store = get_store()
    now = web.now()
    issue = editorial.peek_issue(store, web.config, m, now)  # a GET writes nothing
    if request.method != "POST":  # GET and HEAD only show the checklist and the form
        return _publish_page(m, issue)
    text = request.form.get("date", "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _publish_page(
            m, issue, day=text, error=_("Write the publication date as YYYY-MM-DD."), status=422
        )
    try:
        done = _publish(store, web.config, m, day, now)
    except ArchiveBuildFailed as exc:
        return _publish_page(
            m, editorial.peek_issue(store, web.config, m, now), day=text, error=error_message(exc), status=500
        )
    except (ConflictError, UsageError) as exc:
        return _publish_page(
            m,
            issue,
            day=text,
            error=error_message(exc),
            status=409 if isinstance(exc, ConflictError) else 422,
        )
    assert done.issue.published_at is not None
    flash(
        _(
            "The issue is published, dated %(date)s: the archive is up to date.",
            date=format_day(done.issue.published_at, web.locale, web.timezone),
        ),
        "success",
    )
    return redirect(url_for("editor.issue", month=str(m)), code=303)


def _publish(store: Store, config: Config, month: Month, day: date, now: datetime) -> archive.Publication:
    """What the form asks for, checked, then ``archive.publish_issue`` (both or neither)."""
    stored = store.issue(month)
    if stored is None:
        raise EmptyIssue(month)
    if stored.published:
        raise IssueFrozen(month)
    try:
        seen = int(request.form.get("version", ""))
    except ValueError:
        seen = None
    if seen is not None and seen != stored.version:  # the checklist shown is not the issue's any more
        raise StaleEdit("the issue", month)
    found = page_checklist(store, config, month, now).checklist
    checklist.require_publishable(found, despite_blocking=bool(request.form.get("despite_blocking")))
    # The date it was first published on, unchanged, keeps its time of day.
    first = (
        stored.published_at.astimezone(ZoneInfo(config.newsletter.timezone)).date()
        if stored.published_at
        else None
    )
    return archive.publish_issue(
        store, config, month, archive_dir(), now, published_on=None if day == first else day
    )


@bp.route("/numeros/<month>/publier/liens", methods=["POST"])
def check_links(month: str) -> Response:
    m = _month(month)
    web = state()
    run = checklist.check_issue_links(get_store(), web.config, m, web.now(), clock=web.now)
    flash(_links_run_text(run), "error" if run.broken else "success")
    return redirect(url_for("editor.publish", month=str(m)) + "#links", code=303)


def _links_run_text(run: checklist.LinkRun) -> str:
    if not run.total:
        return _("The issue has no link to check.")
    parts = []
    if run.checked:
        if run.broken:
            parts.append(
                ngettext(
                    "%(num)d link checked, %(broken)s with an error.",
                    "%(num)d links checked, %(broken)s with an error.",
                    run.checked,
                    broken=run.broken,
                )
            )
        else:
            parts.append(
                ngettext(
                    "%(num)d link checked: it works.", "%(num)d links checked: they all work.", run.checked
                )
            )
    if run.kept:
        parts.append(
            ngettext(
                "%(num)d link worked when checked less than a day ago: not checked again.",
                "%(num)d links worked when checked less than a day ago: not checked again.",
                run.kept,
            )
        )
    if run.unfinished:
        parts.append(
            ngettext(
                "%(num)d link could not be checked in time: check again.",
                "%(num)d links could not be checked in time: check again.",
                run.unfinished,
            )
        )
    return " ".join(parts)


# --- reopening -----------------------------------------------------------------------------


def reopen_and_rebuild(month: Month, back: str) -> Response:
    """Reopen the published issue and rebuild the archive without it (``archive.reopen_issue``:
    both or neither), say what happened, and go back to ``back`` (303)."""
    web = state()
    try:
        archive.reopen_issue(get_store(), web.config, month, archive_dir(), web.now())
    except CuratorError as exc:
        flash(error_message(exc), "error")
    else:
        flash(_("The issue is a draft again: the archive no longer shows it."), "success")
    return redirect(back, code=303)
