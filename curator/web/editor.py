"""The editors' door (/editeur): login, the reports waiting for moderation, approve, reject, edit.

Every route of this blueprint except the login page requires a logged-in
editor: the check runs before each request of the blueprint, so a route
added later is protected too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ..editors import LoginFailed, LoginLimit, TooManyAttempts, authenticate, session_token
from ..errors import ConflictError, InUseError, NotFoundError, UsageError
from ..i18n import gettext
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
from .public import field_anchors, form_values

bp = Blueprint("editor", __name__, url_prefix="/editeur")

#: The only endpoints of this blueprint open without a login.
OPEN_ENDPOINTS = frozenset({"editor.login"})


def _(message: str, **values: Any) -> str:
    return gettext(message, state().locale, **values)


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a page of the editor area on this site, else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or "\\" in target
        or not parts.path.startswith(bp.url_prefix or "/editeur")
    ):
        return None
    return target


@bp.before_request
def require_login() -> Response | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    email = session.get("editor")
    token = session.get("editor_token")
    if email and token and token == session_token(get_store(), email):
        g.editor = email
        return None
    session.pop("editor", None)
    session.pop("editor_token", None)
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("editor.login", suivant=target), code=303 if request.method == "POST" else 302)


@bp.after_request
def no_store(response: Response) -> Response:
    # Editor pages hold personal data: no shared or browser cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("suivant"))
    if request.method == "GET":
        if session.get("editor"):
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
        editor = authenticate(
            store, email, password, ip=request.remote_addr or "unknown", now=web.now(), limit=limit
        )
    except TooManyAttempts as exc:
        minutes = max(1, (exc.retry_after + 59) // 60)
        raise RateLimited(
            exc.retry_after,
            _(
                "Too many failed logins. For your security, wait %(minutes)s minutes before trying again.",
                minutes=minutes,
            ),
        ) from None
    except LoginFailed:
        errors["_form"] = _("The email address or the password is wrong.")
        return render_template("web/editor/login.html", email=email, errors=errors, target=target), 422
    session.clear()  # a new session on login: no fixation
    session.permanent = True
    session["editor"] = editor.email
    session["editor_token"] = session_token(store, editor.email)
    return redirect(target or url_for("editor.index"), code=303)


@bp.route("/deconnexion", methods=["POST"])
def logout() -> Response:
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
    except ConflictError:
        flash(_("Someone else changed this report in the meantime: check it again before deciding."), "error")
        return _see_other("editor.show", report_id=report_id)
    except UsageError:
        flash(_("This report was already approved."), "info")
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
    except ConflictError:
        flash(_("Someone else changed this report in the meantime: check it again before deciding."), "error")
        return _see_other("editor.show", report_id=report_id)
    except UsageError:
        flash(_("This report was already rejected."), "info")
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

    if request.method == "GET":
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
