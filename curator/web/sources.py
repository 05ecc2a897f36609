"""The health of the sources, in the editor area (/editeur/sources): each source's status, its
last error in plain French, how long it has failed, when it last brought something new, what
it brought in the last 30 days, a permanent redirect with the line of sources.yaml to change;
failing sources first. « Relever maintenant » fetches one source at once, as ``curator fetch
--source ID`` does (bounded by its deadline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..config import Config
from ..errors import CuratorError
from ..i18n import N_, format_datetime, ngettext
from ..ingest import KINDS, SourceResult, update_sources
from ..models import SourceState
from . import get_store, state
from .editor import bp
from .messages import _, error_message

#: "Items in the last N days".
RECENT_DAYS = 30

#: What each kind of failure (``ingest.KINDS``) means, for an editor.
ERROR_KINDS = {
    "dns": N_("The server’s name cannot be found: check the feed’s address, or the site may have closed."),
    "connection": N_("The server could not be reached: it may be down or refusing connections."),
    "timeout": N_("The server took too long to answer."),
    "http": N_("The server answered with an error instead of the feed."),
    "too-large": N_("The feed is larger than the limit set in sources.yaml (fetch: max_bytes)."),
    "redirect": N_("The address redirects too many times, or to an address that cannot be used."),
    "not-a-feed": N_("What the address returns is not a feed, RSS, Atom or JSON Feed (a web page, perhaps)."),
    "parse": N_("The feed could not be read: it is too malformed."),
    "store": N_("Its items could not be saved in the database."),
}
_UNKNOWN_KIND = N_("The last fetch failed.")
#: How a failure is recorded on its source: "kind: message" (ingest), or "warning: message".
_RECORDED = re.compile(r"^(?P<kind>[a-z-]+): (?P<detail>.*)$", re.DOTALL)
_WARNING = "warning"

STATUS_LABELS = {
    "ok": N_("working"),
    "unchanged": N_("nothing new"),
    "failed": N_("failing"),
    "disabled": N_("disabled"),
    "new": N_("not fetched yet"),
}
#: The badge colour of each status (classes of web.css).
STATUS_STYLES = {
    "ok": "approved",
    "unchanged": "approved",
    "failed": "rejected",
    "disabled": "pending",
    "new": "pending",
}


@dataclass(frozen=True)
class MovedLine:
    """A permanent redirect, as the line of sources.yaml to change (``number`` 0: not found)."""

    number: int
    old: str
    new: str


@dataclass(frozen=True)
class SourceHealth:
    """One source as the page shows it."""

    source: SourceState
    name: str
    error: str  # in French; "" when its last fetch did not fail
    warning: str  # the feed was stored with a warning (technical words)
    detail: str  # the failure as recorded (technical words)
    disabled: str  # why it is disabled, in French
    recent: int  # items it brought in the last RECENT_DAYS days
    moved: MovedLine | None

    @property
    def failing(self) -> bool:
        return self.source.status == "failed"


def error_sentence(kind: str | None) -> str:
    """A kind of failure (``ingest.KINDS``) in plain French."""
    return _(ERROR_KINDS[kind]) if kind in ERROR_KINDS else _(_UNKNOWN_KIND)


def _recorded_error(last_error: str | None) -> tuple[str | None, str]:
    """(kind, detail) of an error recorded on a source; kind "warning" for a warning."""
    if not last_error:
        return None, ""
    m = _RECORDED.match(last_error)
    if m and (m["kind"] in KINDS or m["kind"] == _WARNING):
        return m["kind"], m["detail"]
    return None, last_error


def moved_line(config_path: Path, old_url: str, new_url: str) -> MovedLine:
    """The line of sources.yaml that holds ``old_url`` as a ``url:``, and the same line with
    ``new_url``: what to change after a permanent redirect."""
    pattern = re.compile(r"\burl:\s*[\"']?" + re.escape(old_url) + r"[\"']?(?=[\s,}#]|$)")
    try:
        lines = config_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for number, line in enumerate(lines, 1):
        if pattern.search(line):
            return MovedLine(number, line, line.replace(old_url, new_url, 1))
    return MovedLine(0, f"url: {old_url}", f"url: {new_url}")


def _disabled_reason(source: SourceState, config: Config) -> str:
    configured = config.source(source.id)
    if configured is None:
        return _("It is no longer in sources.yaml.")
    if not configured.enabled:
        return _("It is disabled in sources.yaml (enabled: false).")
    return _(
        "The server answered that the feed is gone for good (410): remove it from sources.yaml or change its address."
    )


def source_health(config: Config, sources: list[SourceState], recent: dict[str, int]) -> list[SourceHealth]:
    """Every source with what the page says of it, failing ones first (the longest failing
    first), then those with a permanent redirect to record, the others, the disabled ones."""
    shown = []
    for source in sources:
        kind, detail = _recorded_error(source.last_error)
        failed = source.status == "failed"
        shown.append(
            SourceHealth(
                source=source,
                name=source.title or source.id,
                error=error_sentence(kind if kind != _WARNING else None) if failed else "",
                warning=detail if kind == _WARNING else "",
                detail=detail if failed else "",
                disabled=_disabled_reason(source, config) if source.status == "disabled" else "",
                recent=recent.get(source.id, 0),
                moved=moved_line(config.path, source.url, source.moved_to) if source.moved_to else None,
            )
        )

    def order(h: SourceHealth) -> tuple[int, int, str]:
        rank = 0 if h.failing else 1 if h.moved else 3 if h.source.status == "disabled" else 2
        return rank, -h.source.consecutive_failures, h.name.casefold()

    return sorted(shown, key=order)


def _known_sources(config: Config) -> list[SourceState]:
    """The sources as stored, plus those of sources.yaml never synced yet (shown as new)."""
    stored = {s.id: s for s in get_store().sources()}
    for s in config.sources:
        if s.id not in stored:
            stored[s.id] = SourceState(
                id=s.id,
                url=s.url,
                title=s.title,
                section=s.section,
                lab=s.lab,
                tags=s.tags,
                weight=s.weight,
                enabled=s.enabled,
                status="new" if s.enabled else "disabled",
            )
    return list(stored.values())


@bp.route("/sources")
def sources() -> Any:
    web = state()
    now = web.now()
    recent = get_store().items_brought_since(now - timedelta(days=RECENT_DAYS))
    shown = source_health(web.config, _known_sources(web.config), recent)
    return render_template(
        "web/editor/sources.html",
        sources=shown,
        failing=sum(1 for h in shown if h.failing),
        recent_days=RECENT_DAYS,
        labels=STATUS_LABELS,
        styles=STATUS_STYLES,
        config_name=web.config.path.name,
        newsletter_sections=[s for s in web.config.sections if s.kind == "items"],
        now=now,
    )


def _outcome(result: SourceResult, name: str) -> tuple[str, str]:
    """What a fetch of one source did, in French, with its flash category."""
    locale = state().locale
    if result.outcome == "new":
        return ngettext(
            "%(source)s: %(num)d new item.", "%(source)s: %(num)d new items.", result.new, locale, source=name
        ), "success"
    if result.outcome == "updated":
        return ngettext(
            "%(source)s: nothing new, %(num)d item updated.",
            "%(source)s: nothing new, %(num)d items updated.",
            result.updated,
            locale,
            source=name,
        ), "success"
    if result.outcome == "unchanged":
        return _("%(source)s: fetched, nothing new since the last time.", source=name), "success"
    if result.outcome == "failed":
        return _(
            "%(source)s could not be fetched. %(reason)s",
            source=name,
            reason=error_sentence(result.error_kind),
        ), "error"
    source = get_store().source(result.source_id)
    if not source.enabled:
        return _("%(source)s is disabled: it was not fetched.", source=name), "info"
    if source.retry_after is not None:
        when = format_datetime(source.retry_after, locale, state().timezone)
        return _(
            "%(source)s asked to wait: it will not be fetched before %(when)s.", source=name, when=when
        ), "info"
    return _("%(source)s was not fetched.", source=name), "info"


@bp.route("/sources/<source_id>/relever", methods=["POST"])
def fetch_source(source_id: str) -> Response:
    web = state()
    configured = web.config.source(source_id)
    if configured is None:
        abort(404)
    name = configured.title or configured.id
    try:
        summary = update_sources(get_store(), web.config, source_ids=[source_id], processes=0, now=web.clock)
    except CuratorError as exc:
        flash(error_message(exc), "error")
    else:
        message, category = _outcome(summary.result(source_id), name)
        flash(message, category)
        moved = summary.result(source_id).moved_to
        if moved:
            flash(_("Its address has moved for good: change it in sources.yaml (see below)."), "info")
    return redirect(url_for("editor.sources") + f"#source-{source_id}", code=303)


# --- moving from another reader: OPML in and out (the same code as `curator sources`) --------

#: The largest OPML file the form takes (the request limit, `web: {max_request_bytes}`, also applies).
MAX_OPML_BYTES = 2 * 1024 * 1024


@bp.route("/sources/importer", methods=["POST"])
def import_sources() -> Response:
    """« Importer un fichier OPML »: its feeds are added to sources.yaml, as
    ``curator sources import FILE.opml [--section ID] [--map-folders]`` does."""
    from ..sources import import_opml

    web = state()
    upload = request.files.get("opml")
    data = upload.read(MAX_OPML_BYTES + 1) if upload is not None else b""
    if not data.strip():
        flash(_("Choose an OPML file exported from your feed reader."), "error")
        return redirect(url_for("editor.sources") + "#import", code=303)
    if len(data) > MAX_OPML_BYTES:
        flash(_("This file is too large for an OPML file of subscriptions."), "error")
        return redirect(url_for("editor.sources") + "#import", code=303)
    section = request.form.get("section") or None
    try:
        result = import_opml(
            web.config,
            data,
            filename=(upload.filename if upload is not None and upload.filename else "abonnements.opml"),
            section=section,
            map_folders=request.form.get("map_folders") == "y",
        )
    except CuratorError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for("editor.sources") + "#import", code=303)
    added, present = result.count("added"), result.count("present") + result.count("duplicate")
    flash(
        ngettext(
            "%(num)d source added to %(file)s.",
            "%(num)d sources added to %(file)s.",
            added,
            web.locale,
            file=web.config.path.name,
        )
        + (
            " " + ngettext("%(num)d was already there.", "%(num)d were already there.", present, web.locale)
            if present
            else ""
        )
        + (" " + _("They will be fetched at the next fetch, or now with « Fetch now ».") if added else ""),
        "success" if added else "info",
    )
    for warning in result.warnings[:10]:
        flash(warning, "info")
    return redirect(url_for("editor.sources"), code=303)


@bp.route("/sources/export.opml")
def export_sources() -> Response:
    """« Exporter »: every source as OPML 2.0, which another reader (or curator) imports."""
    from ..sources import export_sources as export

    web = state()
    response = Response(export(web.config, "opml", now=web.now()), mimetype="text/x-opml")
    response.headers["Content-Disposition"] = 'attachment; filename="sources.opml"'
    return response
