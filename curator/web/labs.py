"""The labs' identity cards on the web: the public form where a lab proposes changes to its card
(/contribuer/lab), and, in the editor area (/editeur/labs), the labs with their cards, the
proposals waiting for moderation with what each would change field by field, and the
editors' own edit of a card, with its history.

The public form has the report form's protections: CSRF (what was typed comes back when the
token is missing or expired), a per-address limit in its own bucket, a honeypot, the request
size, French errors beside their fields with what was typed kept. A valid proposal waits for
an editor. The editor routes are on the editor blueprint, so its login check covers them.
GET and HEAD only show; every action is a POST with its CSRF token, answered with a 303.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from difflib import SequenceMatcher
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..config import Config
from ..errors import AlreadyDecided, ConflictError, NotFoundError, StaleEdit, UsageError
from ..i18n import N_, format_datetime
from ..labs import (
    FIELD_LABELS,
    FORM_FIELDS,
    MAX_LENGTHS,
    STAGE_LABELS,
    FieldDiff,
    InvalidLabCard,
    approve_proposal,
    directory,
    display_value,
    form_data,
    new_submission_key,
    proposal_diff,
    propose,
    reject_proposal,
    set_card,
    term_labels,
    validate_proposal,
)
from ..models import LAB_CARD_FIELDS, LAB_STAGES, Lab, LabProposal, Source
from ..store import Store
from . import error_page, get_store, state
from .editor import bp as editor_bp
from .messages import _, error_message, ngettext
from .public import HONEYPOT_FIELD, SUBMISSION_KEY_RE, client_bucket
from .public import bp as public_bp

#: The rate-limit bucket of the public form (its own: sending reports does not use it up).
BUCKET = "lab-card"
#: The fields whose text the proposal page compares word by word.
TEXT_FIELDS = frozenset({"place", "service_offer", "team"})
#: How a change came to a card (``LabCardChange.origin``), for its history.
ORIGINS = {
    "editor": N_("%(date)s: changed by %(editor)s in the editor area"),
    "cli": N_("%(date)s: changed by %(editor)s from the command line"),
    "proposal": N_("%(date)s: proposal #%(id)s approved by %(editor)s"),
    "demo": N_("%(date)s: filled in by the demo"),
}
_OTHER_ORIGIN = N_("%(date)s: changed by %(editor)s")
#: How a proposal's status reads (« proposition » is feminine in French).
PROPOSAL_STATUSES = {
    "pending": N_("pending proposal"),
    "approved": N_("approved proposal"),
    "rejected": N_("rejected proposal"),
}
#: Decided proposals shown under the list of labs, newest first.
RECENT_DECISIONS = 20
_ID = "int(max=999999999999999999)"


# --- what the form sent ---------------------------------------------------------------------


def card_form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the lab form sent, by field (``innovation_types`` as a list; a missing field is empty)."""
    values: dict[str, Any] = {name: form.get(name, "") for name in FORM_FIELDS}
    values["innovation_types"] = form.getlist("innovation_types")
    return values


def _posted_version() -> int | None:
    """The card's version when the form was drawn (a hidden field), if it is a number."""
    text = request.form.get("version", "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


# --- the public form ------------------------------------------------------------------------


def _sorted_labs(config: Config) -> list[Lab]:
    return sorted(config.labs, key=lambda lab: lab.name.casefold())


def _sorted_sources(config: Config) -> list[Source]:
    return sorted(config.sources, key=lambda s: (s.title or s.id).casefold())


def field_anchors(config: Config) -> dict[str, str]:
    """The id each field's error links to: its own, or its first radio button or checkbox."""
    anchors = {name: name for name in (*FORM_FIELDS, "reason")}
    anchors["has_place"] = "has_place-yes"
    anchors["stage"] = f"stage-{LAB_STAGES[0]}"
    if config.innovation_types:
        anchors["innovation_types"] = f"innovation_types-{config.innovation_types[0].id}"
    return anchors


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _card_template_values(config: Config) -> dict[str, Any]:
    """What the card's fields need, on the public form and the editors' edit page."""
    return {
        "labels": FIELD_LABELS,
        "anchors": field_anchors(config),
        "answers": [("yes", _capitalised(_("yes"))), ("no", _capitalised(_("no")))],
        "terms": [(term.id, term.label) for term in config.innovation_types],
        "stages": [(stage, _capitalised(_(STAGE_LABELS[stage]))) for stage in LAB_STAGES],
        "sources": _sorted_sources(config),
        "max_lengths": MAX_LENGTHS,
    }


def _page(html: str, status: int = 200, **headers: str) -> Response:
    # Each display of the form carries its own submission key: no cache may hand one to several people.
    return Response(
        html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store", **headers}
    )


def _chooser(errors: dict[str, str], chosen: str = "", status: int = 200) -> Response:
    config = state().config
    html = render_template(
        "web/lab_form.html",
        lab=None,
        chooser=True,
        labs=_sorted_labs(config),
        values={"lab": chosen},
        errors=errors,
        card=None,
        submission_key="",
        version="",
        honeypot=HONEYPOT_FIELD,
        **_card_template_values(config),
    )
    return _page(html, status)


def _form(
    lab: Lab | None,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    key: str,
    version: int | None,
    status: int = 200,
    **headers: str,
) -> Response:
    """The card form of ``lab`` (None: a lab the form sent is unknown, and the page asks for one)."""
    config = state().config
    html = render_template(
        "web/lab_form.html",
        lab=lab,
        chooser=False,
        labs=_sorted_labs(config),
        values=values,
        errors=errors,
        card=get_store().lab_card(lab.id) if lab is not None else None,
        submission_key=key,
        version="" if version is None else version,
        honeypot=HONEYPOT_FIELD,
        **_card_template_values(config),
    )
    return _page(html, status, **headers)


def _too_many(lab: Lab | None, values: dict[str, Any], key: str, version: int | None) -> Response:
    """429, with the form and what was typed: waiting must not cost the lab its text."""
    window = state().settings.submission_window
    minutes = max(1, (window + 59) // 60)
    message = ngettext(
        "You have sent several updates in a short time. To protect the form from spam, "
        "wait %(num)d minute before sending another one.",
        "You have sent several updates in a short time. To protect the form from spam, "
        "wait %(num)d minutes before sending another one.",
        minutes,
    )
    return _form(
        lab, values, {"_form": message}, key=key, version=version, status=429, **{"Retry-After": str(window)}
    )


@public_bp.route("/contribuer/lab", methods=["GET", "POST"])
def contribute_lab() -> Response:
    web = state()
    config = web.config
    if request.method != "POST":  # GET and HEAD show the chooser or the form; only a POST stores
        chosen = request.args.get("lab")
        if chosen is None:
            return _chooser({})
        lab = config.lab(chosen.strip())
        if not chosen.strip():
            return _chooser({"lab": _("Choose your lab in the list.")}, status=422)
        if lab is None:
            return _chooser(
                {
                    "lab": _(
                        "This lab is not in the list. Choose yours; if it is missing, write to the editors."
                    )
                },
                chosen,
                404,
            )
        card = get_store().lab_card(lab.id)
        return _form(lab, form_data(card), {}, key=new_submission_key(), version=card.version)

    settings = web.settings
    values = card_form_values(request.form)
    lab = config.lab(str(values["lab"]).strip())
    key = request.form.get("submission_key", "")
    if not SUBMISSION_KEY_RE.match(key):
        key = new_submission_key()
    version = _posted_version() if lab is not None else None
    store = get_store()
    now = web.now()
    since = now - timedelta(seconds=settings.submission_window)
    bucket = client_bucket(BUCKET)
    if store.rate_count(bucket, since) >= settings.submission_limit:
        return _too_many(lab, values, key, version)

    if request.form.get(HONEYPOT_FIELD, "").strip():
        # A robot: answer as if all went well, keep nothing, but count it.
        store.rate_take(bucket, limit=settings.submission_limit, since=since, now=now)
        return redirect(url_for("public.lab_thanks"), code=303)

    try:
        proposal = validate_proposal(values, config, locale=web.locale)
        with store.write():  # one transaction: two workers cannot both pass the limit
            limited = store.rate_count(bucket, since) >= settings.submission_limit
            if not limited:
                _stored, created = propose(
                    store, proposal, now, key=key, seen_version=version, locale=web.locale
                )
                if created:  # the same form sent twice is stored and counted once
                    store.rate_take(bucket, limit=settings.submission_limit, since=since, now=now)
    except InvalidLabCard as exc:
        return _form(lab, values, exc.errors, key=key, version=version, status=422)
    if limited:
        return _too_many(lab, values, key, version)
    # Committed above: the proposal is stored before the answer goes out.
    return redirect(url_for("public.lab_thanks"), code=303)


def lab_form_after_csrf_error() -> Response:
    """The lab form again, with what was typed, when its CSRF token was missing or expired."""
    values = card_form_values(request.form)
    lab = state().config.lab(str(values["lab"]).strip())
    key = request.form.get("submission_key", "")
    errors = {
        "_form": _(
            "For your security, the form expired or your browser refused our cookie. "
            "Your answers are below: check them and send the form again."
        )
    }
    return _form(
        lab,
        values,
        errors,
        key=key if SUBMISSION_KEY_RE.match(key) else new_submission_key(),
        version=_posted_version() if lab is not None else None,
        status=400,
    )


@public_bp.route("/contribuer/lab/merci")
def lab_thanks() -> str:
    return render_template("web/lab_thanks.html")


# --- the editor area: the labs, the proposals --------------------------------------------


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


def _lab_name(config: Config, lab_id: str) -> str:
    lab = config.lab(lab_id)
    return lab.name if lab is not None else lab_id


@editor_bp.route("/labs", endpoint="labs")
def show_labs() -> str:
    config = state().config
    store = get_store()
    proposals = store.lab_proposals()
    pending = [p for p in proposals if p.status == "pending"]
    waiting = Counter(p.lab for p in pending)
    decided = sorted(
        (p for p in proposals if p.status != "pending"),
        key=lambda p: (p.decided_at or p.submitted_at, p.id),
        reverse=True,
    )[:RECENT_DECISIONS]
    return render_template(
        "web/editor/labs.html",
        entries=directory(store, config),
        pending=pending,
        decided=decided,
        waiting=waiting,
        lab_name=lambda lab_id: _lab_name(config, lab_id),
        changed_labels=lambda p: ", ".join(_(FIELD_LABELS[name]) for name in p.changed_fields()),
        stage_labels=STAGE_LABELS,
        statuses=PROPOSAL_STATUSES,
    )


@dataclass(frozen=True)
class ShownDiff:
    """One field of a proposal as the editor reads it: its value now and the proposed one,
    texts cut in runs marked when they differ (``(marked, text)``)."""

    field: str
    label: str
    old: str
    new: str
    moved: bool  # the card changed since the lab saw it
    seen: str  # the value the lab saw, when it moved
    old_runs: tuple[tuple[bool, str], ...]
    new_runs: tuple[tuple[bool, str], ...]

    @property
    def same(self) -> bool:
        return self.old == self.new


_TOKEN_RE = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(old: str, new: str) -> tuple[tuple[tuple[bool, str], ...], tuple[tuple[bool, str], ...]]:
    """Both texts cut in runs of words, each run marked when the other text does not have it
    (removed from ``old``, added in ``new``); joined, the runs give the texts back."""
    a, b = _TOKEN_RE.findall(old), _TOKEN_RE.findall(new)
    before: list[tuple[bool, str]] = []
    after: list[tuple[bool, str]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            before.append((False, "".join(a[i1:i2])))
            after.append((False, "".join(b[j1:j2])))
            continue
        if i2 > i1:
            before.append((True, "".join(a[i1:i2])))
        if j2 > j1:
            after.append((True, "".join(b[j1:j2])))
    return tuple(before), tuple(after)


def term_diff(
    old: list[str], new: list[str], config: Config
) -> tuple[tuple[tuple[bool, str], ...], tuple[tuple[bool, str], ...]]:
    """Two lists of innovation types as runs: each term marked when the other list does not have it."""

    def runs(terms: list[str], other: list[str]) -> tuple[tuple[bool, str], ...]:
        out: list[tuple[bool, str]] = []
        for i, (term, label) in enumerate(zip(terms, term_labels(terms, config), strict=True)):
            if i:
                out.append((False, ", "))
            out.append((term not in other, label))
        return tuple(out)

    return runs(list(old), list(new)), runs(list(new), list(old))


def shown_diff(store: Store, config: Config, proposal: LabProposal, locale: str) -> list[ShownDiff]:
    """What a pending proposal would change, against the card as it is now; for a decided one,
    what the lab changed from the card it saw."""
    if proposal.status == "pending":
        diffs = proposal_diff(store, config, proposal, locale=locale)
    else:
        diffs = []
        for name in proposal.changed_fields():
            old = display_value(name, proposal.base.get(name), config, locale)
            new = display_value(name, proposal.values.get(name), config, locale)
            diffs.append(FieldDiff(name, _(FIELD_LABELS[name]), old, new))
    before = store.lab_card(proposal.lab).values() if proposal.status == "pending" else proposal.base
    shown = []
    for d in diffs:
        if d.field in TEXT_FIELDS:
            runs = word_diff(d.old, d.new)
        elif d.field == "innovation_types":
            runs = term_diff(before.get(d.field) or [], proposal.values.get(d.field) or [], config)
        else:
            runs = ((True, d.old),), ((True, d.new),)
        seen = display_value(d.field, proposal.base.get(d.field), config, locale) if d.moved else ""
        shown.append(ShownDiff(d.field, d.label, d.old, d.new, d.moved, seen, *runs))
    return shown


def _proposal_page(
    proposal_id: int, *, errors: dict[str, str] | None = None, reason: str = "", status: int = 200
) -> Any:
    web = state()
    store = get_store()
    try:
        proposal = store.lab_proposal(proposal_id)
    except NotFoundError:
        return error_page(
            404, _("Proposal not found"), _("It may have been removed. Go back to the list of labs.")
        )
    config = web.config
    html = render_template(
        "web/editor/lab_proposal.html",
        proposal=proposal,
        lab=config.lab(proposal.lab),
        lab_name=_lab_name(config, proposal.lab),
        diffs=shown_diff(store, config, proposal, web.locale),
        errors=errors or {},
        reason=reason,
        labels=FIELD_LABELS,
        anchors={"reason": "reason"},
        statuses=PROPOSAL_STATUSES,
    )
    return html, status


@editor_bp.route(f"/labs/propositions/<{_ID}:proposal_id>", endpoint="lab_proposal")
def show_lab_proposal(proposal_id: int) -> Any:
    return _proposal_page(proposal_id)


@editor_bp.route(
    f"/labs/propositions/<{_ID}:proposal_id>/approuver", methods=["POST"], endpoint="approve_lab_proposal"
)
def approve_lab_proposal(proposal_id: int) -> Any:
    web = state()
    try:
        proposal, _card = approve_proposal(
            get_store(), web.config, proposal_id, editor=g.editor, now=web.now(), locale=web.locale
        )
    except NotFoundError:
        return _proposal_page(proposal_id)
    except (ConflictError, UsageError) as exc:
        flash(error_message(exc), "info" if isinstance(exc, AlreadyDecided) else "error")
        return _see_other("editor.lab_proposal", proposal_id=proposal_id)
    flash(
        _("Proposal approved: the card of %(lab)s is updated.", lab=_lab_name(web.config, proposal.lab)),
        "success",
    )
    return _see_other("editor.labs")


@editor_bp.route(
    f"/labs/propositions/<{_ID}:proposal_id>/refuser", methods=["POST"], endpoint="reject_lab_proposal"
)
def reject_lab_proposal(proposal_id: int) -> Any:
    web = state()
    reason = request.form.get("reason", "")
    try:
        reject_proposal(
            get_store(), proposal_id, reason=reason, editor=g.editor, now=web.now(), locale=web.locale
        )
    except InvalidLabCard as exc:
        return _proposal_page(proposal_id, errors=exc.errors, reason=reason, status=422)
    except NotFoundError:
        return _proposal_page(proposal_id)
    except (ConflictError, UsageError) as exc:
        flash(error_message(exc), "info" if isinstance(exc, AlreadyDecided) else "error")
        return _see_other("editor.lab_proposal", proposal_id=proposal_id)
    flash(_("Proposal rejected: the card did not change."), "success")
    return _see_other("editor.labs")


# --- the editor area: a card ------------------------------------------------------------------


@dataclass(frozen=True)
class ShownChange:
    """One entry of a card's history as the editor reads it."""

    title: str
    proposal_id: int | None
    fields: tuple[tuple[str, str, str], ...]  # (label, before, after)


def card_history(store: Store, config: Config, lab_id: str) -> list[ShownChange]:
    """The card's history, newest first."""
    web = state()
    shown = []
    for change in reversed(store.lab_card_changes(lab_id)):
        title = _(
            ORIGINS.get(change.origin, _OTHER_ORIGIN),
            date=format_datetime(change.at, web.locale, web.timezone),
            editor=change.by,
            id=change.proposal_id or "",
        )
        fields = tuple(
            (
                _(FIELD_LABELS[name]),
                display_value(name, diff.get("old"), config, web.locale),
                display_value(name, diff.get("new"), config, web.locale),
            )
            for name in LAB_CARD_FIELDS
            for diff in [change.changes.get(name)]
            if diff is not None
        )
        shown.append(ShownChange(title, change.proposal_id, fields))
    return shown


@editor_bp.route("/labs/fiches/<lab_id>", methods=["GET", "POST"], endpoint="lab_card")
def edit_lab_card(lab_id: str) -> Any:
    web = state()
    config = web.config
    lab = config.lab(lab_id)
    if lab is None:
        return error_page(
            404,
            _("Lab not found"),
            _("This lab is not in the list of labs of sources.yaml. Go back to the list of labs."),
        )
    store = get_store()
    card = store.lab_card(lab.id)

    def page(values: dict[str, Any], errors: dict[str, str], version: int, status: int = 200) -> Any:
        return render_template(
            "web/editor/lab_card.html",
            lab=lab,
            card=card,
            values=values,
            errors=errors,
            version=version,
            history=card_history(store, config, lab.id),
            pending=store.lab_proposals(status="pending", lab=lab.id),
            **_card_template_values(config),
        ), status

    if request.method != "POST":  # GET and HEAD show the form; only a POST saves
        return page(form_data(card), {}, card.version)
    values = card_form_values(request.form)
    values["lab"] = lab.id
    expected = _posted_version()
    try:
        _card, changed = set_card(
            store,
            config,
            lab.id,
            {name: values[name] for name in LAB_CARD_FIELDS},
            by=g.editor,
            now=web.now(),
            origin="editor",
            expected_version=expected,
            locale=web.locale,
        )
    except InvalidLabCard as exc:
        return page(values, exc.errors, card.version if expected is None else expected, 422)
    except StaleEdit:
        errors = {
            "_form": _(
                "Someone else changed this card while you were editing it. Your values are below: "
                "compare them with the history, and send this form again to replace their changes with yours."
            )
        }
        return page(values, errors, store.lab_card(lab.id).version, 409)
    flash(_("Card saved.") if changed else _("Nothing was changed."), "success" if changed else "info")
    return _see_other("editor.lab_card", lab_id=lab.id)
