"""Proofs and sending to the list from the editor area (/editeur/numeros/<month>/envoi).

The same engine as ``curator send`` (``mail.send_issue``), with the SMTP settings of
sources.yaml and the password from CURATOR_SMTP_PASSWORD. A proof goes out at once, to the
editor or to the addresses typed, with « [TEST] » in its subject, and is never recorded. The
list (``email: {recipients: …}``) gets a published issue only, once the editor has typed its
month, in the background (``mail.jobs``): the database lets one send run per month, and the
engine skips everyone already served, so a second click, a second browser or a resent form
never sends a second copy. The page shows the send's progress as it is, and a small script
(``/static/send-progress.js``) keeps it up to date from ``…/envoi/etat``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, g, jsonify, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..errors import CuratorError, SendInProgress, UsageError
from ..i18n import ngettext
from ..mail import (
    SendError,
    check_address,
    is_stale,
    recipients_from,
    send_issue,
    smtp_settings,
    start_send_job,
)
from ..models import Issue, Month
from ..store import SendJob, Store
from . import WebState, allow_own_scripts, error_page, get_store, state
from .editor import bp
from .messages import _, error_message

#: A proof goes to at most this many addresses: the list is sent from below.
MAX_PROOF_RECIPIENTS = 10
#: What may separate the addresses typed for a proof.
_SEPARATORS = re.compile(r"[\s,;]+")


def _month(value: str) -> Month:
    try:
        return Month.parse(value)
    except UsageError:
        abort(404)


def _see_sending(month: Month, anchor: str = "") -> Response:
    return redirect(url_for("editor.sending", month=str(month)) + anchor, code=303)


@dataclass(frozen=True)
class ListPlan:
    """Who would get the issue if it were sent to the list now (a dry run of the engine)."""

    configured: bool
    recipients: tuple[str, ...] = ()
    served: int = 0  # already got it (recorded in sends)
    to_send: int = 0
    problem: str = ""  # in French: why it cannot be sent
    detail: str = ""  # the engine's words, for whoever fixes it
    source: dict[str, Any] = field(default_factory=dict)  # where the recipients come from


def _list_source(web: WebState) -> dict[str, Any]:
    settings = web.config.email
    if settings.recipients_file is not None:
        return {"file": settings.recipients_file.name}
    return {"addresses": settings.recipients}


def _list_plan(store: Store, web: WebState, month: Month) -> ListPlan:
    settings = web.config.email
    if not settings.recipients and settings.recipients_file is None:
        return ListPlan(configured=False)
    source = _list_source(web)
    try:
        recipients = recipients_from(settings.recipients, settings.recipients_file)
    except UsageError as exc:
        return ListPlan(
            configured=True,
            source=source,
            problem=_("The list of recipients cannot be read. Check the file named in sources.yaml."),
            detail=str(exc),
        )
    try:
        summary = send_issue(
            store, web.config, month, recipients, web.now(), smtp=smtp_settings(web.config), dry_run=True
        )
    except CuratorError as exc:
        return ListPlan(configured=True, source=source, problem=error_message(exc), detail=str(exc))
    return ListPlan(
        configured=True,
        recipients=tuple(recipients),
        served=summary.count("skipped"),
        to_send=summary.count("would send"),
        source=source,
    )


def _progress(job: SendJob | None, stale: bool) -> dict[str, Any]:
    """A job as the page and its script show it (the summary in French)."""
    if job is None:
        return {"job": None, "state": "none", "stale": False, "summary": ""}
    locale = state().locale
    parts = [
        ngettext("%(num)d sent", "%(num)d sent", job.sent, locale),
        ngettext("%(num)d refused", "%(num)d refused", job.refused, locale),
        ngettext("%(num)d left", "%(num)d left", job.left, locale),
    ]
    if job.skipped:
        parts.append(ngettext("%(num)d already had it", "%(num)d already had it", job.skipped, locale))
    return {
        "job": job.id,
        "state": job.state,
        "stale": stale,
        "total": job.total,
        "sent": job.sent,
        "refused": job.refused,
        "skipped": job.skipped,
        "left": job.left,
        "done": job.total - job.left,
        "summary": ", ".join(parts) + ".",
    }


def _page(
    month: Month,
    issue: Issue,
    *,
    proof_to: str = "",
    errors: dict[str, str] | None = None,
    confirmation: str = "",
    status: int = 200,
) -> Response:
    web = state()
    store = get_store()
    job = store.latest_send_job(month)
    stale = job is not None and is_stale(job, web.now(), smtp_settings(web.config))
    running = job is not None and job.running and not stale
    plan = _list_plan(store, web, month) if issue.published and not (job and job.running) else None
    page = render_template(
        "web/editor/send.html",
        issue=issue,
        month=str(month),
        job=job,
        stale=stale,
        running=running,
        progress=_progress(job, stale),
        plan=plan,
        proof_to=proof_to,
        errors=errors or {},
        confirmation=confirmation,
        max_proof=MAX_PROOF_RECIPIENTS,
    )
    response = make_response(page, status)
    if running:  # the progress is kept up to date by its script, which asks …/envoi/etat
        allow_own_scripts(response)
        response.headers["Content-Security-Policy"] += "; connect-src 'self'"
    return response


def _issue_or_404(month: Month) -> Issue | Response:
    issue = get_store().issue(month)
    if issue is None:
        return error_page(
            404,
            _("No issue for this month yet"),
            _("Pick something for it or write its édito first, then come back to send it."),
        )
    return issue


@bp.route("/numeros/<month>/envoi")
def sending(month: str) -> Any:
    m = _month(month)
    issue = _issue_or_404(m)
    if isinstance(issue, Response):
        return issue
    return _page(m, issue)


@bp.route("/numeros/<month>/envoi/etat")
def send_status(month: str) -> Any:
    """The progress of the month's send to the list, for the page's script (JSON)."""
    m = _month(month)
    web = state()
    job = get_store().latest_send_job(m)
    stale = job is not None and is_stale(job, web.now(), smtp_settings(web.config))
    return jsonify({"month": str(m), **_progress(job, stale)})


@bp.route("/numeros/<month>/envoi/test", methods=["POST"])
def send_proof(month: str) -> Any:
    m = _month(month)
    issue = _issue_or_404(m)
    if isinstance(issue, Response):
        return issue
    web = state()
    typed = request.form.get("to", "").strip()
    addresses = [a for a in _SEPARATORS.split(typed) if a] or [g.editor]
    if len(addresses) > MAX_PROOF_RECIPIENTS:
        error = _("A proof goes to at most %(max)s addresses.", max=MAX_PROOF_RECIPIENTS)
        return _page(m, issue, proof_to=typed, errors={"to": error}, status=422)
    for address in addresses:
        try:
            check_address(address)
        except UsageError:
            error = _("“%(address)s” is not an email address.", address=address)
            return _page(m, issue, proof_to=typed, errors={"to": error}, status=422)
    store = get_store()
    if not store.picks(m):
        flash(_("This issue has nothing to send yet: pick items for it first."), "error")
        return _see_sending(m)
    try:
        summary = send_issue(
            store, web.config, m, addresses, web.now(), smtp=smtp_settings(web.config), test=True
        )
    except SendError as exc:
        flash(
            _("The proof could not be sent: the mail server failed (%(detail)s).", detail=str(exc)), "error"
        )
        return _see_sending(m)
    except CuratorError as exc:
        flash(error_message(exc), "error")
        return _see_sending(m)
    sent = [r.recipient for r in summary.results if r.outcome == "sent"]
    if sent:
        flash(
            ngettext(
                "A proof was sent to %(addresses)s, with « [TEST] » in its subject.",
                "A proof was sent to these %(num)d addresses, with « [TEST] » in its subject: %(addresses)s.",
                len(sent),
                web.locale,
                addresses=", ".join(sent),
            ),
            "success",
        )
    for refused in summary.refused:
        flash(
            _(
                "The mail server refused the proof for %(address)s (%(detail)s).",
                address=refused.recipient,
                detail=refused.detail,
            ),
            "error",
        )
    return _see_sending(m)


@bp.route("/numeros/<month>/envoi/liste", methods=["POST"])
def send_list(month: str) -> Any:
    m = _month(month)
    issue = _issue_or_404(m)
    if isinstance(issue, Response):
        return issue
    web = state()
    store = get_store()
    if not issue.published:
        flash(_("Only a published issue can be sent to the list: publish it first."), "error")
        return _see_sending(m)
    resume: int | None = None
    if request.form.get("reprendre"):
        try:
            resume = int(request.form["reprendre"])
        except ValueError:
            abort(400)
    else:
        typed = request.form.get("confirmation", "").strip()
        if typed != str(m):
            error = _("Type %(month)s to confirm that this issue goes to the whole list.", month=str(m))
            return _page(m, issue, errors={"confirmation": error}, confirmation=typed, status=422)
    job = store.latest_send_job(m)
    if job is not None and job.running and resume is None:
        flash(error_message(SendInProgress(m, job.id)), "error")
        return _see_sending(m)
    plan = _list_plan(store, web, m)
    if not plan.configured:
        flash(_("No list of recipients is set: add email: {recipients: …} to sources.yaml."), "error")
        return _see_sending(m)
    if plan.problem:
        flash(plan.problem, "error")
        return _see_sending(m)
    if not plan.to_send and resume is None:
        flash(_("Everyone on the list has already received this issue: nothing was sent."), "info")
        return _see_sending(m)
    smtp = smtp_settings(web.config)
    try:
        start_send_job(
            store,
            web.config,
            m,
            plan.recipients,
            started_by=g.editor,
            smtp=smtp,
            clock=web.clock,
            resume=resume,
        )
    except SendInProgress as exc:
        flash(error_message(exc), "error")
        return _see_sending(m)
    flash(
        ngettext(
            "Sending to %(num)d recipient has started. You may leave this page: it goes on without you.",
            "Sending to %(num)d recipients has started. You may leave this page: it goes on without you.",
            plan.to_send,
            web.locale,
        ),
        "success",
    )
    return _see_sending(m)
