"""The public door: the experience-report form (/contribuer) and its thank-you page."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..config import Config
from ..reports import (
    FIELD_LABELS,
    FORM_FIELDS,
    LICENSES,
    MAX_LENGTHS,
    OTHER_LAB,
    InvalidReport,
    new_submission_key,
    submit,
    validate_submission,
)
from . import get_store, state
from .messages import _, ngettext

bp = Blueprint("public", __name__)

#: The trap for robots: a field people never see (CSS and ``hidden``), that robots fill in.
HONEYPOT_FIELD = "website"
#: What a submission key looks like (``new_submission_key``); anything else gets a new one.
SUBMISSION_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


def form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the form sent, by field (``tags`` as a list)."""
    values: dict[str, Any] = {name: form.get(name, "") for name in FORM_FIELDS}
    values["tags"] = form.getlist("tags")
    return values


def client_bucket(prefix: str) -> str:
    """The rate-limit bucket of the request's address for one form (``prefix``: ``submit`` for
    reports, ``lab-card`` for the labs' cards). The address is hashed: the rate-limit table holds
    no IP address in clear."""
    ip = request.remote_addr or "unknown"
    return f"{prefix}:" + hashlib.sha256(ip.encode()).hexdigest()[:32]


def _render_form(
    values: dict[str, Any], errors: dict[str, str], key: str, status: int = 200
) -> tuple[str, int]:
    config = state().config
    anchors = field_anchors(config, FORM_FIELDS)
    anchors["license"] = f"license-{next(iter(LICENSES))}"
    html = render_template(
        "web/contribute.html",
        values=values,
        errors=errors,
        anchors=anchors,
        labels=FIELD_LABELS,
        labs=sorted(config.labs, key=lambda lab: lab.name.casefold()),
        themes=config.themes,
        licenses=LICENSES,
        other_lab=OTHER_LAB,
        max_lengths=MAX_LENGTHS,
        submission_key=key,
        honeypot=HONEYPOT_FIELD,
    )
    return html, status


def _too_many(values: dict[str, Any], key: str) -> Response:
    """429, with the form and what was typed: waiting must not cost the person their text."""
    window = state().settings.submission_window
    minutes = max(1, (window + 59) // 60)
    message = ngettext(
        "You have sent several reports in a short time. To protect the form from spam, "
        "wait %(num)d minute before sending another one.",
        "You have sent several reports in a short time. To protect the form from spam, "
        "wait %(num)d minutes before sending another one.",
        minutes,
    )
    html, status = _render_form(values, {"_form": message}, key, 429)
    return Response(html, status=status, mimetype="text/html", headers={"Retry-After": str(window)})


@bp.route("/contribuer", methods=["GET", "POST"])
def contribute() -> Any:
    if request.method != "POST":  # GET and HEAD show the form; only a POST stores a report
        html, status = _render_form({"tags": []}, {}, new_submission_key())
        # Each display carries its own submission key: no cache may hand one to several people.
        return Response(html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})

    web = state()
    settings = web.settings
    values = form_values(request.form)
    key = request.form.get("submission_key", "")
    if not SUBMISSION_KEY_RE.match(key):
        key = new_submission_key()
    store = get_store()
    now = web.now()
    since = now - timedelta(seconds=settings.submission_window)
    bucket = client_bucket("submit")
    if store.rate_count(bucket, since) >= settings.submission_limit:
        return _too_many(values, key)

    if request.form.get(HONEYPOT_FIELD, "").strip():
        # A robot: answer as if all went well, keep nothing, but count it.
        store.rate_take(bucket, limit=settings.submission_limit, since=since, now=now)
        return redirect(url_for("public.thanks"), code=303)

    try:
        submission = validate_submission(values, web.config, locale=web.locale)
    except InvalidReport as exc:
        return _render_form(values, exc.errors, key, 422)

    with store.write():  # one transaction: two workers cannot both pass the limit
        if store.rate_count(bucket, since) >= settings.submission_limit:
            limited = True
        else:
            limited = False
            _report, created = submit(store, submission, now, key=key)
            if created:  # the same form sent twice is stored and counted once
                store.rate_take(bucket, limit=settings.submission_limit, since=since, now=now)
    if limited:
        return _too_many(values, key)
    # Committed above: the report is stored before the answer goes out.
    return redirect(url_for("public.thanks"), code=303)


def form_after_csrf_error() -> tuple[str, int]:
    """The form again, with what was typed, when its CSRF token was missing or expired."""
    key = request.form.get("submission_key", "")
    errors = {
        "_form": _(
            "For your security, the form expired or your browser refused our cookie. "
            "Your answers are below: check them and send the form again."
        )
    }
    return _render_form(
        form_values(request.form), errors, key if SUBMISSION_KEY_RE.match(key) else new_submission_key(), 400
    )


@bp.route("/contribuer/merci")
def thanks() -> Response | str:
    return render_template("web/thanks.html")


def field_anchors(config: Config, fields: Iterable[str]) -> dict[str, str]:
    """The id each field's error links to: its own, or its first checkbox for the themes."""
    anchors = {name: name for name in fields}
    if config.themes:
        anchors["tags"] = f"tags-{config.themes[0].id}"
    return anchors
