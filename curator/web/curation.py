"""The editors' work on a month's issue (/editeur/numeros): candidates, picks, notes, édito, agenda.

The routes live on the editor blueprint, so its login check covers them. Every
form carries the version of the thing it changes, as the page showed it: the
title's, the édito's, the pick's (its note and overrides), the order of the
sections (for a move). A change made from a stale page is refused instead of
silently overwriting what another editor did meanwhile, and changes to
different things never block each other (see ``curator.editorial``). Nothing
typed is lost: a refused title, édito or note comes back in its form (409 or
422), beside the version someone else saved when that is why. Everything here
calls the same domain functions as the CLI (``curator.editorial``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .. import editorial, views
from ..config import Config
from ..errors import ConflictError, CuratorError, NotFoundError, NotPicked, StaleEdit, UsageError
from ..i18n import format_month
from ..models import Month
from ..store import Store
from . import allow_own_scripts, get_store, state
from .editor import CONTROL_CHARACTERS, bp
from .messages import _, error_message

PAGE_SIZE = 50


def _month(value: str) -> Month:
    try:
        return Month.parse(value)
    except UsageError:
        abort(404)


def _version(name: str) -> int | None:
    """The version a form carries in ``name`` (None when it carries none)."""
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        return None


def _layout() -> dict[str, tuple[str, ...]] | None:
    """The order of the sections the page showed (its ``layout`` field), or None when it has none."""
    if "layout" not in request.form:
        return None
    return parse_layout(request.form["layout"])


def format_layout(layout: dict[str, tuple[str, ...]]) -> str:
    """``{"veille": ("1", "r5")}`` as a form field: ``veille=1,r5;…`` (section ids and refs hold
    none of ``=,;``)."""
    return ";".join(f"{section}={','.join(refs)}" for section, refs in sorted(layout.items()))


def parse_layout(value: str) -> dict[str, tuple[str, ...]]:
    """The order of the sections a ``layout`` field says (``format_layout``'s inverse)."""
    result: dict[str, tuple[str, ...]] = {}
    for part in value.split(";"):
        section, _sep, refs = part.partition("=")
        if section.strip():
            result[section.strip()] = tuple(r.strip() for r in refs.split(",") if r.strip())
    return result


@bp.app_template_global()
def pick_layout(month: str) -> str:
    """For the forms that move picks: the order of every section of ``month``, as stored."""
    return format_layout(editorial.layout(get_store(), Month.parse(month)))


def _typing_kept(month: str, exc: CuratorError, **kept: Any) -> Response:
    """The issue's page again, with what the editor typed still in its form (``kept``: the
    ``field``, ``title``, ``edito`` or ``event``, and ``mine``, the text, or ``values``): after a
    conflict (409) beside the version saved meanwhile, to choose; after another refusal, with
    its reason (409 for a frozen issue, 422 for a value to fix)."""
    conflict = isinstance(exc, StaleEdit)
    if not conflict:  # a conflict is said beside the two versions
        flash(error_message(exc), "error")
    g.kept = {**kept, "conflict": conflict, "message": error_message(exc)}
    response = make_response(issue(month))
    response.status_code = 409 if isinstance(exc, ConflictError | NotFoundError) else 422
    return response


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


def lab_choices(store: Store, config: Config, month: Month) -> list[dict[str, Any]]:
    """The labs an editor may portray in the month's issue (the menu of a labs section), each with
    when it was last portrayed: ``{"ref": "lab:ID", "label": …, "picked": section or None}``."""
    if not any(s.kind == "labs" for s in config.sections):
        return []
    locale = state().locale
    choices = []
    for c in editorial.lab_candidates(store, config, month):
        if c.last_portrayed:
            label = _(
                "%(lab)s — last portrayed in %(month)s",
                lab=c.lab.name,
                month=format_month(c.last_portrayed, locale),
            )
        else:
            label = _("%(lab)s — never portrayed", lab=c.lab.name)
        if not c.filled:
            label += " — " + _("empty card")
        choices.append({"ref": c.ref, "label": label, "picked": c.picked})
    return choices


@bp.route("/numeros/<month>")
def issue(month: str) -> Any:
    m = _month(month)
    web = state()
    store = get_store()
    issue = editorial.peek_issue(store, web.config, m, web.now())  # a GET writes nothing
    view = views.issue_view(store, web.config, m, issue)
    from .publishing import page_checklist  # what blocks publishing, what to check

    page = render_template(
        "web/editor/issue.html",
        issue=issue,
        view=view,
        month=str(m),
        sections=web.config.sections,
        checklist=page_checklist(store, web.config, m, web.now(), view=view),
        lab_choices=lab_choices(store, web.config, m),
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
            new_only=request.form.get("new") == "1",  # the candidates page showed it unpicked
            expected_layout=_layout(),  # a lab added from the issue's page: its section as shown
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
        lambda: editorial.unpick(
            get_store(), web.config, m, ref, web.now(), expected_version=_version("pick_version")
        ),
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
            expected_layout=_layout(),
        )
        return _("Nothing to move: it is already there.") if moved == current else None

    return _run(m, action, _("Moved."), f"#pick-{ref}")


def _pick_view(month: Month, ref: str) -> views.PickView | None:
    store = get_store()
    view = views.issue_view(store, state().config, month) if store.issue(month) else None
    return next((p for p in view.picks if p.ref == ref), None) if view else None


def _saved_wording(pick: views.PickView) -> dict[str, str]:
    return {"note": pick.note, "title": pick.pick.title or "", "summary": pick.pick.summary or ""}


@bp.route("/numeros/<month>/choix/<ref>", methods=["GET", "POST"])
def edit_pick(month: str, ref: str) -> Any:
    m = _month(month)
    web = state()
    current = _pick_view(m, ref)

    def page(pick: views.PickView | None, values: dict[str, str], status: int = 200, **more: Any) -> Any:
        return render_template(
            "web/editor/pick.html",
            month=str(m),
            ref=ref,
            pick=pick,
            values=values,
            version=pick.pick.version if pick else "",
            theirs=more.get("theirs"),
        ), status

    if request.method != "POST":  # GET and HEAD only show the form
        if current is None:
            abort(404)
        return page(current, _saved_wording(current))
    values = {k: request.form.get(k, "") for k in ("note", "title", "summary")}
    if current is None:  # removed meanwhile: what was typed stays on the page, to copy
        flash(error_message(NotPicked(ref, m)), "error")
        return page(None, values, 409)
    # A lab's portrait takes a note only: its card is the lab's own words.
    changes = {"note": values["note"]} if current.kind == "lab" else values
    try:
        editorial.edit_pick(
            get_store(),
            web.config,
            m,
            ref,
            web.now(),
            by=g.editor,
            expected_version=_version("pick_version"),
            **changes,
        )
    except StaleEdit:
        # Both versions, side by side: saving again keeps the editor's; the link, theirs.
        flash(
            _(
                "Someone else changed the note or the wording of this article in the meantime. "
                "Your text is kept below, beside the version they saved: choose which one to keep."
            ),
            "error",
        )
        saved = _pick_view(m, ref) or current
        return page(saved, values, 409, theirs=_saved_wording(saved))
    except (ConflictError, NotFoundError) as exc:
        flash(error_message(exc), "error")
        return page(current, values, 409)
    except UsageError as exc:
        flash(error_message(exc), "error")
        return page(current, values, 422)
    flash(_("Changes saved."), "success")
    return redirect(url_for("editor.issue", month=str(m)) + f"#pick-{ref}", code=303)


@bp.route("/numeros/<month>/edito", methods=["POST"])
def edito(month: str) -> Response:
    m = _month(month)
    web = state()
    text = request.form.get("edito", "")
    back = _back(m, "#edito")
    try:
        editorial.set_edito(
            get_store(), web.config, m, text, web.now(), expected_version=_version("edito_version")
        )
    except (ConflictError, UsageError, NotFoundError) as exc:
        return _typing_kept(month, exc, field="edito", mine=text)
    flash(_("Édito saved."), "success")
    return redirect(back, code=303)


@bp.route("/numeros/<month>/titre", methods=["POST"])
def title(month: str) -> Response:
    m = _month(month)
    web = state()
    text = request.form.get("title", "")
    back = _back(m)
    try:
        editorial.set_title(
            get_store(), web.config, m, text, web.now(), expected_version=_version("title_version")
        )
    except (ConflictError, UsageError, NotFoundError) as exc:
        return _typing_kept(month, exc, field="title", mine=text)
    flash(_("Title saved."), "success")
    return redirect(back, code=303)


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


#: The fields of the form that adds an event, kept as typed when it is refused.
EVENT_FIELDS = (
    "title",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "place",
    "video_url",
    "link",
    "description",
)


@bp.route("/numeros/<month>/evenements", methods=["POST"])
def add_event(month: str) -> Response:
    m = _month(month)
    web = state()
    back = _back(m, "#agenda")
    try:
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
    except (ConflictError, UsageError, NotFoundError) as exc:
        values = {k: request.form.get(k, "") for k in EVENT_FIELDS}
        return _typing_kept(month, exc, field="event", values=values)
    flash(_("Event added."), "success")
    return redirect(back, code=303)


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
    from .publishing import reopen_and_rebuild  # the archive is rebuilt without it: both or neither

    return reopen_and_rebuild(m, _back(m))


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
