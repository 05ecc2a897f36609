"""The editors' door (/editeur): login, the reports waiting for moderation, approve, reject, edit.

Every route of this blueprint except the login page requires a logged-in
editor: the check runs before each request of the blueprint, so a route
added later is protected too. Sessions live in the database (the cookie
holds a random token, the table its sha256): logging out, a new password or
the removal of the editor ends them on the server, and they end after an
idle time and an absolute lifetime. GET and HEAD only show; only POST acts.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ..editors import (
    LoginBusy,
    LoginFailed,
    LoginLimit,
    SessionLimit,
    TooManyAttempts,
    authenticate,
    close_session,
    normalise_email,
    open_session,
    session_editor,
)
from ..errors import AlreadyDecided, ConflictError, InUseError, NotFoundError, UsageError
from ..reports import (
    EDITABLE_FIELDS,
    FIELD_LABELS,
    OTHER_LAB,
    STATUSES,
    InvalidReport,
    approve,
    describe_changes,
    edit,
    form_data,
    lab_label,
    reject,
    theme_labels,
    validate_edit,
)
from . import RateLimited, error_page, get_store, state
from .messages import _, error_message, ngettext
from .public import field_anchors, form_values

bp = Blueprint("editor", __name__, url_prefix="/editeur")

#: The only endpoints of this blueprint open without a login.
OPEN_ENDPOINTS = frozenset({"editor.login"})


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


#: Where a page says to go back to, in its query or its form: checked before any view runs.
TARGET_FIELDS = ("suivant", "retour")
#: Characters no address may hold: a redirect to one would split the response's headers.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
#: What the session cookie keeps: the token of a session of the editor_sessions table.
SESSION_KEY = "editor_session"


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a page of the editor area on this site, else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or "\\" in target
        or CONTROL_CHARACTERS.search(target)
        or not parts.path.startswith(bp.url_prefix or "/editeur")
    ):
        return None
    return target


def _session_limit() -> SessionLimit:
    settings = state().settings
    return SessionLimit(idle_hours=settings.session_hours, max_hours=settings.session_max_hours)


def _logged_in() -> str | None:
    """The email of the editor whose session the cookie holds, if it is still open on the server."""
    return session_editor(get_store(), session.get(SESSION_KEY), now=state().now(), limit=_session_limit())


def _client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.before_request
def refuse_unsafe_targets() -> None:
    # A line break in a redirect target is an attack, never a link of ours: refused
    # before any view runs, so nothing is saved before the redirect would fail.
    for name in TARGET_FIELDS:
        if any(CONTROL_CHARACTERS.search(value) for value in request.values.getlist(name)):
            abort(400)


@bp.before_request
def require_login() -> Response | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    email = _logged_in()
    if email:
        g.editor = email
        return None
    for key in (SESSION_KEY, "editor", "editor_token"):  # the last two: cookies of older versions
        session.pop(key, None)
    showing = request.method in ("GET", "HEAD")
    target = request.full_path.rstrip("?") if showing else None
    return redirect(url_for("editor.login", suivant=target), code=302 if showing else 303)


@bp.after_request
def no_store(response: Response) -> Response:
    # Editor pages hold personal data: no shared or browser cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("suivant"))
    if request.method != "POST":  # GET and HEAD show the form; only a POST logs in
        if _logged_in():
            return redirect(target or url_for("editor.index"))
        return render_template("web/editor/login.html", email="", errors={}, target=target)

    web = state()
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Enter your email address.")
    if not password:
        errors["password"] = _("Enter your password.")
    if errors:
        return render_template("web/editor/login.html", email=email, errors=errors, target=target), 422
    limit = LoginLimit(web.settings.login_limit, web.settings.login_window)
    store = get_store()
    try:
        editor = authenticate(store, email, password, ip=_client_ip(), now=web.now(), limit=limit)
    except TooManyAttempts as exc:
        raise RateLimited(exc.retry_after, _locked_out_message(exc, email)) from None
    except LoginBusy as exc:
        return error_page(
            503,
            _("Too many logins at this moment"),
            _("Many people are logging in at the same time. Wait a few seconds, then try again."),
            {"Retry-After": str(exc.retry_after)},
        )
    except LoginFailed:
        errors["_form"] = _("The email address or the password is wrong.")
        return render_template("web/editor/login.html", email=email, errors=errors, target=target), 422
    token = open_session(store, editor.email, ip=_client_ip(), now=web.now(), limit=_session_limit())
    close_session(store, session.get(SESSION_KEY))  # a session this browser had before ends
    session.clear()  # a new session on login: no fixation
    session.permanent = True
    session[SESSION_KEY] = token
    return redirect(target or url_for("editor.index"), code=303)


def _locked_out_message(exc: TooManyAttempts, email: str) -> str:
    """What a locked-out editor reads: how long it lasts, and how an administrator lifts it sooner."""
    minutes = max(1, (exc.retry_after + 59) // 60)
    if not exc.account:
        return ngettext(
            "Too many failed logins. For your security, wait %(num)d minute before trying again.",
            "Too many failed logins. For your security, wait %(num)d minutes before trying again.",
            minutes,
        )
    return ngettext(
        "Too many failed logins for this account. For your security, it is locked for %(num)d more "
        "minute, from every address. An administrator can unlock it at once with the command "
        "`curator editors unlock %(email)s`.",
        "Too many failed logins for this account. For your security, it is locked for %(num)d more "
        "minutes, from every address. An administrator can unlock it at once with the command "
        "`curator editors unlock %(email)s`.",
        minutes,
        email=normalise_email(email),
    )


@bp.route("/deconnexion", methods=["POST"])
def logout() -> Response:
    close_session(get_store(), session.get(SESSION_KEY))  # a copy of the cookie opens nothing now
    session.clear()
    flash(_("You are logged out."), "info")
    return _see_other("editor.login")


@bp.route("/")
def index() -> Any:
    status = request.args.get("statut", "pending")
    if status not in STATUSES:
        status = "pending"
    store = get_store()
    reports = store.reports(status=status)
    return render_template(
        "web/editor/list.html",
        reports=reports,
        status=status,
        counts=store.report_counts(),
        lab_label=lambda r: lab_label(r, state().config),
    )


def _report_page(
    report_id: int, *, errors: dict[str, str] | None = None, reason: str = "", status: int = 200
) -> Any:
    store = get_store()
    try:
        report = store.report(report_id)
    except NotFoundError:
        return error_page(
            404, _("Report not found"), _("It may have been removed. Go back to the list of reports.")
        )
    config = state().config
    html = render_template(
        "web/editor/report.html",
        report=report,
        history=store.report_changes(report_id),
        lab=lab_label(report, config),
        themes=theme_labels(report.tags, config),
        errors=errors or {},
        reason=reason,
        labels=FIELD_LABELS,
        describe_changes=describe_changes,
    )
    return html, status


@bp.route("/retours/<int(max=999999999999999999):report_id>")
def show(report_id: int) -> Any:
    return _report_page(report_id)


def _expected_version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


@bp.route("/retours/<int(max=999999999999999999):report_id>/approuver", methods=["POST"])
def approve_report(report_id: int) -> Any:
    web = state()
    try:
        approve(get_store(), report_id, editor=g.editor, now=web.now(), expected_version=_expected_version())
    except NotFoundError:
        return _report_page(report_id)
    except (ConflictError, UsageError) as exc:
        flash(error_message(exc), "info" if isinstance(exc, AlreadyDecided) else "error")
        return _see_other("editor.show", report_id=report_id)
    flash(_("Report approved: it is now a candidate for the next issue."), "success")
    return _see_other("editor.index")


@bp.route("/retours/<int(max=999999999999999999):report_id>/refuser", methods=["POST"])
def reject_report(report_id: int) -> Any:
    web = state()
    reason = request.form.get("reason", "")
    try:
        reject(
            get_store(),
            report_id,
            reason=reason,
            editor=g.editor,
            now=web.now(),
            expected_version=_expected_version(),
            locale=web.locale,
        )
    except InvalidReport as exc:
        return _report_page(report_id, errors=exc.errors, reason=reason, status=422)
    except NotFoundError:
        return _report_page(report_id)
    except InUseError as exc:
        flash(
            _(
                "This report is in the issue %(month)s: take it out of the issue first, then reject it.",
                month=exc.month,
            ),
            "error",
        )
        return _see_other("editor.show", report_id=report_id)
    except (ConflictError, UsageError) as exc:
        flash(error_message(exc), "info" if isinstance(exc, AlreadyDecided) else "error")
        return _see_other("editor.show", report_id=report_id)
    flash(_("Report rejected."), "success")
    return _see_other("editor.index")


@bp.route("/retours/<int(max=999999999999999999):report_id>/modifier", methods=["GET", "POST"])
def edit_report(report_id: int) -> Any:
    web = state()
    store = get_store()
    try:
        report = store.report(report_id)
    except NotFoundError:
        return error_page(
            404, _("Report not found"), _("It may have been removed. Go back to the list of reports.")
        )

    def page(values: dict[str, Any], errors: dict[str, str], version: int, status: int = 200) -> Any:
        config = web.config
        anchors = field_anchors(config, EDITABLE_FIELDS)
        return render_template(
            "web/editor/edit.html",
            report=report,
            values=values,
            errors=errors,
            anchors=anchors,
            labels=FIELD_LABELS,
            labs=sorted(config.labs, key=lambda lab: lab.name.casefold()),
            themes=config.themes,
            other_lab=OTHER_LAB,
            version=version,
        ), status

    if request.method != "POST":  # GET and HEAD show the form; only a POST saves
        return page(form_data(report), {}, report.version)
    values = form_values(request.form)
    try:
        changes = validate_edit(values, web.config, locale=web.locale)
        _report, changed = edit(
            store, report_id, changes, editor=g.editor, now=web.now(), expected_version=_expected_version()
        )
    except InvalidReport as exc:
        return page(values, exc.errors, _expected_version() or report.version, 422)
    except InUseError as exc:
        errors = {
            "_form": _(
                "This report is in the published issue %(month)s, which is frozen: reopen the issue first.",
                month=exc.month,
            )
        }
        return page(values, errors, report.version, 409)
    except ConflictError:
        errors = {
            "_form": _(
                "Someone else changed this report while you were editing it. Your text is below: "
                "compare it with the report's page, and send this form again to replace their changes with yours."
            )
        }
        return page(values, errors, store.report(report_id).version, 409)
    flash(_("Changes saved.") if changed else _("Nothing was changed."), "success" if changed else "info")
    return _see_other("editor.show", report_id=report_id)
