"""The editors' work on a month's issue (/editeur/numeros): candidates, picks, notes, édito, agenda.

The routes live on the editor blueprint, so its login check covers them. Every
form carries the version of the issue (or of the pick) it was drawn from: a
change made from a stale page is refused with a message instead of silently
overwriting what another editor did meanwhile. Everything here calls the same
domain functions as the CLI (``curator.editorial``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .. import editorial, views
from ..errors import ConflictError, CuratorError, NotFoundError, UsageError
from ..models import Month
from . import allow_own_scripts, get_store, state
from .editor import CONTROL_CHARACTERS, bp
from .messages import _, error_message

PAGE_SIZE = 50


def _month(value: str) -> Month:
    try:
        return Month.parse(value)
    except UsageError:
        abort(404)


def _version(name: str = "version") -> int | None:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        return None


def _back(month: Month, anchor: str = "") -> str:
    """Where to go after an action: the page of this issue the form names in ``retour``, else the issue."""
    target = request.form.get("retour", "")
    if (
        target.startswith(f"/editeur/numeros/{month}")
        and "//" not in target
        and "\\" not in target
        and not CONTROL_CHARACTERS.search(target)
    ):
        return target
    return url_for("editor.issue", month=str(month)) + anchor


def _run(month: Month, action: Any, success: str, anchor: str = "") -> Response:
    """Run a domain action, tell the editor what happened, and go back (Post/Redirect/Get).

    An action may return a message of its own (a text) to say instead of ``success``.
    Where to go back is decided before the action runs.
    """
    back = _back(month, anchor)
    try:
        said = action()
    except (ConflictError, UsageError, NotFoundError) as exc:
        flash(error_message(exc), "error")
    else:
        flash(said if isinstance(said, str) else success, "success")
    return redirect(back, code=303)


@bp.route("/numeros")
def issues() -> Any:
    if request.args.get("mois"):
        try:
            month = Month.parse(request.args["mois"])
        except UsageError:
            flash(_("Type a month as YYYY-MM, for example 2022-01."), "error")
            return redirect(url_for("editor.issues"))
        return redirect(url_for("editor.issue", month=str(month)))
    now = state().now()
    return render_template(
        "web/editor/issues.html",
        issues=get_store().issues(),
        next_month=str(Month(now.year, now.month).next()),
    )


@bp.route("/numeros/<month>")
def issue(month: str) -> Any:
    m = _month(month)
    web = state()
    store = get_store()
    issue = editorial.peek_issue(store, web.config, m, web.now())  # a GET writes nothing
    view = views.issue_view(store, web.config, m, issue)
    page = render_template(
        "web/editor/issue.html", issue=issue, view=view, month=str(m), sections=web.config.sections
    )
    response = make_response(page)
    if not issue.published:  # drag and drop, over buttons that work without it
        allow_own_scripts(response)
    return response


@bp.route("/numeros/<month>/candidats")
def candidates(month: str) -> Any:
    m = _month(month)
    web = state()
    store = get_store()
    issue = editorial.peek_issue(store, web.config, m, web.now())
    filters = {k: request.args.get(k) or None for k in ("q", "section", "source", "lab", "theme")}
    now = web.now()
    try:
        found = editorial.candidates(
            store,
            web.config,
            m,
            now,
            section=filters["section"],
            search=filters["q"],
            source=filters["source"],
            lab=filters["lab"],
            theme=filters["theme"],
            reasons=False,
        )
    except UsageError:
        found = []
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, (len(found) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(page, pages)
    shown = editorial.explain(web.config, m, now, found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    config = web.config
    return render_template(
        "web/editor/candidates.html",
        issue=issue,
        month=str(m),
        candidates=shown,
        total=len(found),
        page=page,
        pages=pages,
        filters=filters,
        sections=[s for s in config.sections if s.kind == "items"],
        sources=sorted(config.sources, key=lambda s: (s.title or s.id).casefold()),
        labs=sorted(config.labs, key=lambda lab: lab.name.casefold()),
        themes=config.themes,
        section_titles={s.id: s.title for s in config.sections},
        source_titles={s.id: s.title or s.id for s in config.sources},
        lab_names={lab.id: lab.name for lab in config.labs},
        theme_labels={t.id: t.label for t in config.themes},
        page_args={k: v for k, v in filters.items() if v},
    )


@bp.route("/numeros/<month>/choisir", methods=["POST"])
def pick(month: str) -> Response:
    m = _month(month)
    web = state()
    ref = request.form.get("ref", "")
    section = request.form.get("section") or None
    return _run(
        m,
        lambda: editorial.pick(
            get_store(),
            web.config,
            m,
            ref,
            web.now(),
            section=section,
            by=g.editor,
            expected_version=_version(),
        ),
        _("Added to the issue."),
    )


@bp.route("/numeros/<month>/retirer", methods=["POST"])
def unpick(month: str) -> Response:
    m = _month(month)
    web = state()
    ref = request.form.get("ref", "")
    return _run(
        m,
        lambda: editorial.unpick(get_store(), web.config, m, ref, web.now(), expected_version=_version()),
        _("Removed from the issue."),
    )


@bp.route("/numeros/<month>/deplacer", methods=["POST"])
def move(month: str) -> Response:
    m = _month(month)
    web = state()
    ref = request.form.get("ref", "")
    store = get_store()

    def action() -> str | None:
        from ..models import parse_ref

        kind, ref_id = parse_ref(ref)
        current = store.pick_for(m, kind, ref_id)
        if current is None:
            raise NotFoundError(f"{ref} is not in the issue")
        direction = request.form.get("direction")
        section = request.form.get("section") or current.section
        position: int | None
        if direction == "up":
            position = max(1, current.position - 1)
        elif direction == "down":
            position = current.position + 1
        elif not request.form.get("position", "").strip():
            position = None  # into another section: last; in its own: where it is
        else:
            try:
                position = int(request.form.get("position", ""))
            except ValueError:
                raise UsageError(_("Choose a position: 1 is the first.")) from None
        moved = editorial.move(
            store,
            web.config,
            m,
            ref,
            position,
            web.now(),
            section=section,
            by=g.editor,
            expected_version=_version(),
        )
        return _("Nothing to move: it is already there.") if moved == current else None

    return _run(m, action, _("Moved."), f"#pick-{ref}")


@bp.route("/numeros/<month>/choix/<ref>", methods=["GET", "POST"])
def edit_pick(month: str, ref: str) -> Any:
    m = _month(month)
    web = state()
    store = get_store()
    view = views.issue_view(store, web.config, m) if store.issue(m) else None
    current = next((p for p in view.picks if p.ref == ref), None) if view else None
    if current is None:
        abort(404)
    if request.method == "POST":  # GET and HEAD only show the form
        values = {k: request.form.get(k, "") for k in ("note", "title", "summary")}
        try:
            editorial.edit_pick(
                store,
                web.config,
                m,
                ref,
                web.now(),
                by=g.editor,
                expected_version=_version("pick_version"),
                **values,
            )
        except ConflictError as exc:
            flash(error_message(exc), "error")
            return render_template(
                "web/editor/pick.html",
                month=str(m),
                pick=current,
                values=values,
                version=current.pick.version,
            ), 409
        except UsageError as exc:
            flash(error_message(exc), "error")
            return render_template(
                "web/editor/pick.html",
                month=str(m),
                pick=current,
                values=values,
                version=current.pick.version,
            ), 422
        flash(_("Changes saved."), "success")
        return redirect(url_for("editor.issue", month=str(m)) + f"#pick-{ref}", code=303)
    values = {"note": current.note, "title": current.pick.title or "", "summary": current.pick.summary or ""}
    return render_template(
        "web/editor/pick.html", month=str(m), pick=current, values=values, version=current.pick.version
    )


@bp.route("/numeros/<month>/edito", methods=["POST"])
def edito(month: str) -> Response:
    m = _month(month)
    web = state()
    text = request.form.get("edito", "")
    return _run(
        m,
        lambda: editorial.set_edito(get_store(), web.config, m, text, web.now(), expected_version=_version()),
        _("Édito saved."),
        "#edito",
    )


@bp.route("/numeros/<month>/titre", methods=["POST"])
def title(month: str) -> Response:
    m = _month(month)
    web = state()
    text = request.form.get("title", "")
    return _run(
        m,
        lambda: editorial.set_title(get_store(), web.config, m, text, web.now(), expected_version=_version()),
        _("Title saved."),
    )


def _when(name: str) -> datetime | None:
    day = request.form.get(f"{name}_date", "").strip()
    time = request.form.get(f"{name}_time", "").strip() or "00:00"
    if not day:
        return None
    try:
        when = datetime.fromisoformat(f"{day}T{time}")
    except ValueError:
        raise UsageError(_("Dates are written YYYY-MM-DD and times HH:MM.")) from None
    low, high = editorial.EVENT_YEARS
    if not low <= when.year <= high:
        raise UsageError(_("Give a date between the years %(low)s and %(high)s.", low=low, high=high))
    return when


@bp.route("/numeros/<month>/evenements", methods=["POST"])
def add_event(month: str) -> Response:
    m = _month(month)
    web = state()

    def action() -> None:
        starts_at = _when("start")
        if starts_at is None:
            raise UsageError(_("An event needs a start date."))
        editorial.add_event(
            get_store(),
            web.config,
            m,
            web.now(),
            title=request.form.get("title", ""),
            starts_at=starts_at,
            ends_at=_when("end"),
            place=request.form.get("place", ""),
            video_url=request.form.get("video_url") or None,
            description=request.form.get("description", ""),
            link=request.form.get("link") or None,
        )

    return _run(m, action, _("Event added."), "#agenda")


@bp.route("/numeros/<month>/evenements/<int(max=999999999999999999):event_id>/supprimer", methods=["POST"])
def remove_event(month: str, event_id: int) -> Response:
    m = _month(month)
    web = state()
    return _run(
        m,
        lambda: editorial.remove_event(get_store(), web.config, m, event_id, web.now()),
        _("Event removed."),
        "#agenda",
    )


@bp.route("/numeros/<month>/rouvrir", methods=["POST"])
def reopen(month: str) -> Response:
    m = _month(month)
    return _run(m, lambda: editorial.reopen(get_store(), m, state().now()), _("The issue is a draft again."))


@bp.route("/numeros/<month>/apercu")
def preview(month: str) -> Any:
    """The email as readers will get it (needs the email renderer)."""
    m = _month(month)
    web = state()
    store = get_store()
    try:
        from ..render import render_email

        rendered = render_email(views.issue_view(store, web.config, m), web.config, now=web.now())
    except (ImportError, AttributeError):
        abort(404)
    except CuratorError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for("editor.issue", month=str(m)))
    response = Response(rendered.html, mimetype="text/html")
    # The email carries its own inline styles; nothing else may load.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'none'; "
        "frame-ancestors 'self'; base-uri 'none'"
    )
    return response
