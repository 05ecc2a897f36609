"""The pre-publication checklist of a month's issue: what blocks publishing it, what to look at.

Each finding has a severity (``blocking`` or ``warning``), a stable code and its data, never
text: the CLI says it in English (``curator issue check``), the editor area in French.
Computing the checklist reads the store and costs no network. The email's facts (its size,
its images without alt text) come from the renderer, which the doors call and pass in
(``render.email_facts``, a layer above this one); links are checked only when asked
(:func:`check_issue_links`, through :mod:`curator.links`), and what was found is kept in the
store and shown from there::

    facts = render.email_facts(view, config, now=now)
    found = issue_checklist(store, config, month, now, view=view, email=facts)
    found.blocking, found.warnings, found.links.broken
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from . import editorial, links, views
from .config import Config
from .errors import ChecklistBlocked
from .markup import markdown_links
from .models import Month
from .store import Store
from .typography import clean_url
from .views import IssueView

BLOCKING = "blocking"
WARNING = "warning"

#: Every finding's code, with its severity and (in the comment) its data. The codes are a
#: contract (``curator issue check --json``): add codes, never rename one.
SEVERITIES: Mapping[str, str] = {
    "issue_empty": BLOCKING,  # no pick and no édito: nothing to publish
    "section_over_max": BLOCKING,  # section, title, picks, max_picks
    "note_missing": BLOCKING,  # section, title, ref, pick_title: the section has note_required
    "report_withdrawn": BLOCKING,  # ref, report_id, status, title: picked, no longer approved
    "portrait_lab_unknown": BLOCKING,  # ref, lab: a portrait of a lab no longer in sources.yaml
    "unsubscribe_missing": BLOCKING,  # newsletter.unsubscribe is not set
    "email_failed": BLOCKING,  # error: the email could not be rendered
    "section_empty": WARNING,  # section, title: it will not appear
    "email_too_large": WARNING,  # bytes, limit: Gmail clips the message
    "image_without_alt": WARNING,  # src
    "link_broken": WARNING,  # url, status, error, checked_at, places ({kind, ref, title})
    "event_past": WARNING,  # event_id, title, starts_at, ends_at
    "portrait_empty": WARNING,  # ref, lab, title: the lab never filled its card: only its name shows
}

#: A link found working is checked again after this long; a broken one at every check.
RECHECK_AFTER = timedelta(hours=24)
#: Checks older than this are forgotten when links are checked again.
FORGET_AFTER = timedelta(days=90)


@dataclass(frozen=True)
class Finding:
    """One point of the checklist: its ``code`` (see SEVERITIES), its severity and its data."""

    code: str
    severity: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING


def finding(code: str, **data: Any) -> Finding:
    return Finding(code, SEVERITIES[code], data)


@dataclass(frozen=True)
class EmailFacts:
    """What the checklist needs to know of the rendered email (``render.email_facts`` makes it)."""

    html_bytes: int = 0
    limit: int = 0  # mail clients clip a message whose HTML is larger (0: no limit)
    images_without_alt: tuple[str, ...] = ()
    error: str | None = None  # the email could not be rendered: why


@dataclass(frozen=True)
class LinkSummary:
    """The issue's http(s) links and what the store knows of them."""

    total: int
    checked: int  # with a result in the store
    broken: int
    last_checked: datetime | None  # the latest check among them

    @property
    def unchecked(self) -> int:
        return self.total - self.checked


@dataclass(frozen=True)
class Checklist:
    month: Month
    findings: tuple[Finding, ...]  # blocking ones first
    links: LinkSummary
    email: EmailFacts | None = None  # None: the email was not looked at

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.blocking)

    @property
    def ok(self) -> bool:
        """Nothing blocks publishing."""
        return not self.blocking


def _view(store: Store, config: Config, month: Month, now: datetime) -> IssueView:
    return views.issue_view(store, config, month, editorial.peek_issue(store, config, month, now))


def issue_links(view: IssueView) -> dict[str, list[dict[str, Any]]]:
    """Every http(s) link readers can follow in the issue (as the email writes it, tracking
    parameters removed), with where it is: ``{"kind": "pick" | "edito" | "event", "ref", "title"}``."""
    found: dict[str, list[dict[str, Any]]] = {}

    def add(url: str | None, place: dict[str, Any]) -> None:
        cleaned = clean_url(url)
        if cleaned.lower().startswith(("http://", "https://")):
            places = found.setdefault(cleaned, [])
            if place not in places:
                places.append(place)

    for href in markdown_links(view.issue.edito):
        add(href, {"kind": "edito", "ref": None, "title": None})
    for p in view.picks:
        place = {"kind": "pick", "ref": p.ref, "title": p.title}
        add(p.url, place)
        for href in markdown_links(p.note):
            add(href, place)
        if p.kind == "report":  # its text is on the archive's page
            for href in _html_links(p.body_html):
                add(href, place)
        if p.portrait is not None:  # the lab's service offer
            for href in _html_links(p.portrait.offer_html):
                add(href, place)
    for e in view.events:
        place = {"kind": "event", "ref": str(e.id), "title": e.title}
        add(e.link, place)
        add(e.video_url, place)
    return found


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.hrefs.append(href)


def _html_links(html: str) -> list[str]:
    """The hrefs of sanitised HTML (a report's text, rendered from its Markdown)."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.hrefs


def issue_checklist(
    store: Store,
    config: Config,
    month: Month,
    now: datetime,
    *,
    view: IssueView | None = None,
    email: EmailFacts | None = None,
) -> Checklist:
    """The checklist of the month's issue as it stands (stored or not yet), at ``now``.

    ``view`` may be given when the caller has it already; ``email`` carries the rendered
    email's facts (without it the email is not looked at). Links are not checked here: the
    results of the last :func:`check_issue_links` are used.
    """
    view = view or _view(store, config, month, now)
    blocking: list[Finding] = []
    warnings: list[Finding] = []
    picks = store.picks(month)
    stored = Counter(p.section for p in picks)
    if not picks and not view.issue.edito.strip():
        blocking.append(finding("issue_empty"))
    for sv in view.sections:
        s = sv.section
        if s.kind not in editorial.PICK_SECTIONS:
            continue
        if s.max_picks is not None and stored[s.id] > s.max_picks:
            blocking.append(
                finding(
                    "section_over_max", section=s.id, title=s.title, picks=stored[s.id], max_picks=s.max_picks
                )
            )
        if s.note_required:
            blocking.extend(
                finding("note_missing", section=s.id, title=s.title, ref=p.ref, pick_title=p.title)
                for p in sv.picks
                if not p.note.strip()
            )
        if not sv.picks and picks:  # an empty issue is said once, not section by section
            warnings.append(finding("section_empty", section=s.id, title=s.title))
    report_picks = [p for p in picks if p.kind == "report"]
    if report_picks:
        reports = {r.id: r for r in store.reports(ids=[p.ref_id for p in report_picks])}
        for p in report_picks:
            report = reports.get(p.ref_id)
            if report is None or report.status != "approved":
                blocking.append(
                    finding(
                        "report_withdrawn",
                        ref=p.ref,
                        report_id=p.ref_id,
                        status=report.status if report else "deleted",
                        title=p.title or (report.title if report else ""),
                    )
                )
    lab_picks = [p for p in picks if p.kind == "lab"]
    if lab_picks:
        shown = {p.pick.ref_id: p for p in view.picks if p.kind == "lab"}
        labs = store.labs_of_cards([p.ref_id for p in lab_picks])
        for p in lab_picks:
            pv = shown.get(p.ref_id)
            if pv is None:
                blocking.append(finding("portrait_lab_unknown", ref=p.ref, lab=labs.get(p.ref_id, "")))
            elif pv.portrait is not None and not pv.portrait.filled:
                warnings.append(finding("portrait_empty", ref=p.ref, lab=pv.portrait.lab.id, title=pv.title))
    if not clean_url(config.newsletter.unsubscribe):
        blocking.append(finding("unsubscribe_missing"))
    if email is not None:
        if email.error is not None:
            blocking.append(finding("email_failed", error=email.error))
        else:
            if email.limit and email.html_bytes > email.limit:
                warnings.append(finding("email_too_large", bytes=email.html_bytes, limit=email.limit))
            warnings.extend(finding("image_without_alt", src=src) for src in email.images_without_alt)
    for e in view.events:
        if (e.ends_at or e.starts_at) < now:
            warnings.append(
                finding("event_past", event_id=e.id, title=e.title, starts_at=e.starts_at, ends_at=e.ends_at)
            )
    places = issue_links(view)
    known = store.link_checks(places)
    broken = [known[url] for url in places if url in known and not known[url].ok]
    warnings.extend(
        finding(
            "link_broken",
            url=c.url,
            status=c.status,
            error=c.error,
            checked_at=c.checked_at,
            places=places[c.url],
        )
        for c in broken
    )
    summary = LinkSummary(
        total=len(places),
        checked=len(known),
        broken=len(broken),
        last_checked=max((c.checked_at for c in known.values()), default=None),
    )
    return Checklist(month, (*blocking, *warnings), summary, email)


def require_publishable(checklist: Checklist, *, despite_blocking: bool = False) -> None:
    """Refuse (ChecklistBlocked) an issue whose checklist blocks, unless ``despite_blocking``."""
    if checklist.blocking and not despite_blocking:
        raise ChecklistBlocked(checklist.month, tuple(f.code for f in checklist.blocking))


@dataclass(frozen=True)
class LinkRun:
    """What :func:`check_issue_links` did."""

    total: int  # http(s) links in the issue
    checked: int  # checked now
    kept: int  # found working less than RECHECK_AFTER ago: not checked again
    broken: int  # broken among those checked now
    unfinished: int  # not checked within the deadline: left for the next check


def check_issue_links(
    store: Store,
    config: Config,
    month: Month,
    now: datetime,
    *,
    force: bool = False,
    clock: Callable[[], datetime] | None = None,
    timeout: float = links.TIMEOUT,
    deadline: float = links.DEADLINE,
) -> LinkRun:
    """Check the issue's links that are due (never checked, broken, or found working more than
    RECHECK_AFTER ago; every one with ``force``) and keep the results in the store."""
    places = issue_links(_view(store, config, month, now))
    known = store.link_checks(places)
    due = [
        url
        for url in places
        if force or url not in known or not known[url].ok or now - known[url].checked_at >= RECHECK_AFTER
    ]
    results = links.check_links_now(
        due, config.fetch, clock=clock or (lambda: now), timeout=timeout, deadline=deadline
    )
    store.record_link_checks(results)
    store.forget_link_checks(checked_before=now - FORGET_AFTER)
    return LinkRun(
        total=len(places),
        checked=len(results),
        kept=len(places) - len(due),
        broken=sum(not r.ok for r in results),
        unfinished=len(due) - len(results),
    )
