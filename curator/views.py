"""An issue as readers will see it: its sections, picks (with notes and overrides applied),
the édito and the agenda; as JSON, and the agenda as an ``.ics`` file. Read-only.

The email renderer, the archive, the editor area and ``curator issue show`` all start here.
A lab's portrait (a pick of kind ``lab``) shows the lab's card as it is now: a published
issue's page is rebuilt when the card changes (``Store.archive_fingerprints``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .config import Config
from .editorial import card_filled, default_title, require_issue
from .i18n import gettext
from .labs import STAGE_LABELS, term_labels
from .markup import markdown_to_html
from .models import Event, Issue, Item, Lab, LabCard, Month, Pick, Report, Section
from .store import Store
from .text import heading_levels, html_to_text, make_excerpt, shift_headings
from .urls import normalise_url

#: A service offer longer than this (as text) is cut to OFFER_EXCERPT in the email, with a
#: link to the lab's page; the archive shows it whole.
OFFER_EMAIL_LENGTH = 450
OFFER_EXCERPT = 300


@dataclass(frozen=True)
class Portrait:
    """A lab's card as a portrait shows it (picks of kind ``lab``), as it is now."""

    lab: Lab
    card: LabCard
    page_url: str  # the lab's page in the archive, absolute
    stage: str  # « actif », in the newsletter's language; "" when the lab has not said
    innovation_types: tuple[str, ...]  # the labels of its types, in vocabulary order
    offer_html: str  # the whole service offer, sanitised HTML, its headings from <h4>
    offer_excerpt: str  # plain text for the email when the offer is long, else ""

    @property
    def filled(self) -> bool:
        return card_filled(self.card)


def lab_page_url(config: Config, lab_id: str) -> str:
    """The address of a lab's page in the archive (``archive: {base_url}``, else ``newsletter.site_url``)."""
    base = config.archive.base_url or config.newsletter.site_url
    return f"{base if base.endswith('/') else base + '/'}labs/{lab_id}/"


def portrait(config: Config, lab: Lab, card: LabCard) -> Portrait:
    """What a portrait of ``lab`` shows of its card."""
    locale = config.newsletter.locale
    offer_html = markdown_to_html(card.service_offer)
    levels = heading_levels(offer_html)
    if levels:  # the lab's name is an <h3>: the offer's headings come below it
        offer_html = shift_headings(offer_html, 4 - min(levels))
    text = " ".join(html_to_text(offer_html).split())
    return Portrait(
        lab=lab,
        card=card,
        page_url=lab_page_url(config, lab.id),
        stage=gettext(STAGE_LABELS[card.stage], locale) if card.stage in STAGE_LABELS else "",
        innovation_types=tuple(term_labels(card.innovation_types, config)),
        offer_html=offer_html,
        offer_excerpt=make_excerpt(text, OFFER_EXCERPT) if len(text) > OFFER_EMAIL_LENGTH else "",
    )


@dataclass(frozen=True)
class PickView:
    pick: Pick
    ref: str
    kind: str
    title: str
    url: str | None
    summary: str  # plain text: the override, or the item's excerpt / the report's summary
    note: str  # Markdown
    note_html: str
    published: datetime
    sources: tuple[str, ...]  # source titles
    source_ids: tuple[str, ...]
    lab: Lab | None
    lab_name: str
    author: str
    body_html: str = ""  # a report's text
    portrait: Portrait | None = None  # a lab's card (kind "lab")


@dataclass(frozen=True)
class SectionView:
    section: Section
    picks: tuple[PickView, ...]


@dataclass(frozen=True)
class IssueView:
    issue: Issue
    sections: tuple[SectionView, ...]  # every configured section, in order
    events: tuple[Event, ...]
    edito_html: str

    @property
    def picks(self) -> list[PickView]:
        return [p for s in self.sections for p in s.picks]


def issue_view(store: Store, config: Config, month: Month, issue: Issue | None = None) -> IssueView:
    """Everything a template needs about an issue: sections with resolved picks, events, édito.

    ``issue`` may be given (e.g. from ``peek_issue``) to show one that is not stored yet.
    """
    issue = issue or require_issue(store, month)
    picks = store.picks(month)
    items = store.items_by_ids(p.ref_id for p in picks if p.kind == "item")
    # A report that is no longer approved never reaches readers, even if it is still picked.
    reports = {
        r.id: r
        for r in store.reports(ids=[p.ref_id for p in picks if p.kind == "report"])
        if r.status == "approved"
    }
    titles = {s.id: (s.title or s.id) for s in config.sources}
    labs = {lab.id: lab for lab in config.labs}
    source_lab = {s.id: s.lab for s in config.sources}
    portraits = _portraits(store, config, [p.ref_id for p in picks if p.kind == "lab"])
    by_section: dict[str, list[PickView]] = {}
    for p in picks:
        if p.kind == "lab":
            view = _portrait_view(p, portraits.get(p.ref_id), issue)
        else:
            view = _pick_view(p, items, reports, titles, labs, source_lab)
        if view is not None:
            by_section.setdefault(p.section, []).append(view)
    sections = tuple(
        SectionView(s, tuple(sorted(by_section.get(s.id, []), key=lambda v: v.pick.position)))
        for s in config.sections
    )
    return IssueView(issue, sections, tuple(store.events(month)), markdown_to_html(issue.edito))


def _portraits(store: Store, config: Config, card_ids: list[int]) -> dict[int, Portrait]:
    """The portraits of these card row ids; a lab no longer in sources.yaml has none."""
    if not card_ids:
        return {}
    cards = store.lab_cards()
    labs = {lab.id: lab for lab in config.labs}
    return {
        card_id: portrait(config, labs[lab_id], cards.get(lab_id) or LabCard(lab=lab_id))
        for card_id, lab_id in store.labs_of_cards(card_ids).items()
        if lab_id in labs
    }


def _portrait_view(p: Pick, found: Portrait | None, issue: Issue) -> PickView | None:
    if found is None:
        return None  # the lab left sources.yaml: the checklist says so
    lab = found.lab
    return PickView(
        pick=p,
        ref=p.ref,
        kind="lab",
        title=lab.name,
        url=found.page_url,
        summary=make_excerpt(html_to_text(found.offer_html), OFFER_EXCERPT) if found.offer_html else "",
        note=p.note,
        note_html=markdown_to_html(p.note),
        published=found.card.updated_at or issue.updated_at,
        sources=(),
        source_ids=(),
        lab=lab,
        lab_name=lab.name,
        author="",
        portrait=found,
    )


def _pick_view(
    p: Pick,
    items: dict[int, Item],
    reports: dict[int, Report],
    titles: dict[str, str],
    labs: dict[str, Lab],
    source_lab: dict[str, str | None],
) -> PickView | None:
    if p.kind == "item":
        item = items.get(p.ref_id)
        if item is None:
            return None
        lab_id = next((source_lab[s] for s in item.sources if source_lab.get(s)), None)
        lab = labs.get(lab_id or "")
        return PickView(
            pick=p,
            ref=p.ref,
            kind="item",
            title=p.title or item.title,
            url=item.url,
            summary=p.summary or item.excerpt,
            note=p.note,
            note_html=markdown_to_html(p.note),
            published=item.published,
            sources=tuple(titles.get(s, s) for s in item.sources),
            source_ids=item.sources,
            lab=lab,
            lab_name=lab.name if lab else "",
            author=item.author,
        )
    report = reports.get(p.ref_id)
    if report is None:
        return None
    lab = labs.get(report.lab or "")
    return PickView(
        pick=p,
        ref=p.ref,
        kind="report",
        title=p.title or report.title,
        url=report.link,
        summary=p.summary or report.summary,
        note=p.note,
        note_html=markdown_to_html(p.note),
        published=report.submitted_at,
        sources=(),
        source_ids=(),
        lab=lab,
        lab_name=lab.name if lab else report.lab_other,
        author=report.author_name,
        body_html=markdown_to_html(report.body),
    )


def events_ics(config: Config, month: Month, events: Sequence[Event]) -> bytes:
    """The agenda of an issue as an iCalendar file (RFC 5545)."""
    from icalendar import Calendar
    from icalendar import Event as IcsEvent

    cal = Calendar()
    cal.add("prodid", "-//curator//infolettre//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", default_title(config, month))
    host = (normalise_url(config.newsletter.site_url) or "curator.invalid").split("/")[2]
    for e in events:
        ev = IcsEvent()
        ev.add("uid", f"{month}-{e.id}@{host}")
        ev.add("summary", e.title)
        ev.add("dtstart", e.starts_at)
        ev.add("dtend", e.ends_at or e.starts_at + timedelta(hours=1))
        ev.add("dtstamp", e.starts_at)
        location = e.place or e.video_url or ""
        if location:
            ev.add("location", location)
        description = "\n\n".join(x for x in (e.description, e.video_url or "", e.link or "") if x)
        if description:
            ev.add("description", description)
        if e.link or e.video_url:
            ev.add("url", e.link or e.video_url)
        cal.add_component(ev)
    return bytes(cal.to_ical())
