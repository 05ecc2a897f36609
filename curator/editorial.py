"""The editors' work on one month's issue: candidates, picks, notes, the édito and the agenda.

The CLI and the editor area both call these functions; they enforce the rules
(a published issue is frozen, sections and their maximum, stale edits refused)
and leave SQL to the store and scoring to ``curate``.

Stale edits are checked per thing, never per issue, so that two editors (or two
tabs) working on different parts of an issue never block each other:

- the title and the édito each have a version (``title_version``, ``edito_version``);
- a pick's version covers its note and overrides (``edit_pick``; ``unpick`` checks
  it too, so that nobody removes a note they have not seen);
- a move checks the order of the sections it touches (the one it leaves and the one
  it enters), as the page showed it (``layout``): another move, pick or removal in
  those sections makes it stale; the édito, the title, notes, events and the other
  sections never do;
- a pick from the candidates checks, when asked (``new_only``), that nobody picked
  the same thing meanwhile; events are added and removed without a check.

Every check is optional: the CLI passes none.

Lab portraits: a section of kind ``labs`` (« Portrait de lab ») takes the cards of labs
(``lab:ID``, or ``l3`` with the card's row id), and only them; items and reports go into
the other sections. Unlike an article, which goes out once, a lab may be portrayed
again in a later issue: ``lab_candidates`` says when each lab was last portrayed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import curate
from .config import Config, CurationSettings
from .curate import Candidate, SourceInfo
from .errors import (
    EmptyIssue,
    InUseError,
    InvalidValue,
    IssueFrozen,
    NotFoundError,
    NotPicked,
    NotPublished,
    SectionFull,
    StaleEdit,
)
from .i18n import fill, format_month
from .labs import require_lab
from .markup import markdown_to_text
from .models import Event, Issue, Item, Lab, LabCard, Month, Pick, Report, Section, make_ref, parse_ref
from .store import Store
from .text import clean_text, make_excerpt, title_key
from .urls import normalise_url


def settings(config: Config) -> CurationSettings:
    return config.curation


def default_title(config: Config, month: Month) -> str:
    """The issue_title of sources.yaml for ``month``: « Infolettre — janvier 2022 »; « Infolettre
    de {month} » elides before a vowel: « Infolettre d’avril 2022 »."""
    locale = config.newsletter.locale
    pattern = config.newsletter.issue_title.replace("%", "%%").replace("{month}", "%(month)s")
    return fill(pattern, {"month": format_month(month, locale)}, locale)


def get_issue(store: Store, config: Config, month: Month, now: datetime) -> Issue:
    """The month's issue, created (as a draft, with its default title) on first use."""
    return store.issue(month) or store.create_issue(month, default_title(config, month), now)


def peek_issue(store: Store, config: Config, month: Month, now: datetime) -> Issue:
    """The month's issue as stored, or as it will be created (versions 0), without writing anything."""
    return store.issue(month) or Issue(
        month, default_title(config, month), "", "draft", None, 0, now, now, title_version=0, edito_version=0
    )


def require_issue(store: Store, month: Month) -> Issue:
    issue = store.issue(month)
    if issue is None:
        raise NotFoundError(
            f"there is no issue for {month} yet: pick something with `curator pick ID --month {month}` "
            f"or write its édito with `curator edito --month {month} --file FILE`"
        )
    return issue


def _editable(store: Store, config: Config, month: Month, now: datetime) -> Issue:
    issue = get_issue(store, config, month, now)
    if issue.published:
        raise IssueFrozen(month)
    return issue


def _tz(config: Config) -> ZoneInfo:
    return ZoneInfo(config.newsletter.timezone)


def candidate_window(config: Config, month: Month) -> tuple[datetime, datetime, datetime]:
    """(oldest, start, end): items of [start, end) are the month's; older ones back to ``oldest`` too."""
    s = settings(config)
    window = month.previous() if s.window == "previous" else month
    tz = _tz(config)
    start, end = window.start(tz), window.end(tz)
    return start - timedelta(days=s.max_age_days), start, end


def _source_infos(config: Config) -> dict[str, SourceInfo]:
    return {s.id: SourceInfo(s.id, s.weight, s.section, s.lab, s.tags) for s in config.sources}


def _items_section(config: Config) -> str:
    return next((s.id for s in config.sections if s.kind == "items"), config.sections[0].id)


def lab_section(config: Config) -> Section | None:
    """The first section of kind ``labs`` (« Portrait de lab »), where a lab's portrait goes by default."""
    return next((s for s in config.sections if s.kind == "labs"), None)


def report_section(config: Config) -> str:
    ids = {s.id for s in config.sections}
    return "retours" if "retours" in ids else _items_section(config)


def item_candidate(item: Item, infos: Mapping[str, SourceInfo], config: Config) -> Candidate:
    sources, lab, section, tags, weight = curate.item_traits(
        infos, _items_section(config), "\x1f".join(item.sources) or None
    )
    return Candidate(
        ref=str(item.id),
        kind="item",
        id=item.id,
        title=item.title,
        url=item.url,
        excerpt=item.excerpt,
        published=item.published,
        sources=sources,
        lab=lab,
        section=section,
        themes=tags,
        author=item.author,
        weight=weight,
    )


def report_candidate(report: Report, config: Config) -> Candidate:
    return Candidate(
        ref=make_ref("report", report.id),
        kind="report",
        id=report.id,
        title=report.title,
        url=normalise_url(report.link) if report.link else None,
        excerpt=report.summary,
        published=report.submitted_at,
        sources=(),
        lab=report.lab,
        section=report_section(config),
        themes=report.tags,
        author=report.author_name,
    )


def candidates(
    store: Store,
    config: Config,
    month: Month,
    now: datetime,
    *,
    section: str | None = None,
    search: str | None = None,
    source: str | None = None,
    lab: str | None = None,
    theme: str | None = None,
    reasons: bool = True,
) -> list[Candidate]:
    """The ranked candidates for a month, duplicates grouped, filters applied.

    With ``reasons=False`` the reasons are left out (fill them with ``explain``
    for the candidates you show): ranking thousands of candidates is then faster.
    """
    if section is not None:
        _section(config, section)
    oldest, _start, end = candidate_window(config, month)
    infos = _source_infos(config)
    scorer = _scorer(config, month, now)
    rows = store.candidate_rows(month, oldest, end)
    if search:
        ids = store.search_item_ids(search)
        rows = [r for r in rows if r.id in ids]
    picks = store.picks(month)
    picked = {(p.kind, p.ref_id): p.section for p in picks}
    wanted = title_key(search) if search else ""
    reports = [
        report_candidate(report, config)._replace(picked=picked.get(("report", report.id)))
        for report in store.unpublished_reports(month)
        if not wanted or wanted in title_key(f"{report.title} {report.summary} {report.body}")
    ]
    result = curate.rank_candidates(
        rows,
        reports,
        infos=infos,
        default_section=_items_section(config),
        scorer=scorer,
        picked_items={p.ref_id: p.section for p in picks if p.kind == "item"},
    )
    if section is not None:
        result = [c for c in result if (c.picked or c.section) == section]
    if source is not None:
        result = [c for c in result if source in c.sources]
    if lab is not None:
        result = [c for c in result if c.lab == lab]
    if theme is not None:
        result = [c for c in result if theme in c.themes]
    if reasons:
        result = [scorer.explain(c) for c in result]
    return result


@dataclass(frozen=True)
class LabCandidate:
    """A lab a portrait could present this month: its card, and when it was last portrayed."""

    lab: Lab
    card: LabCard
    last_portrayed: Month | None  # the latest published issue before this one that portrayed it
    picked: str | None  # the section of this month's issue it is portrayed in, if any

    @property
    def ref(self) -> str:
        return f"lab:{self.lab.id}"

    @property
    def filled(self) -> bool:
        return card_filled(self.card)


def lab_candidates(store: Store, config: Config, month: Month) -> list[LabCandidate]:
    """Every lab of sources.yaml as a candidate for a portrait in the month's issue: those never
    portrayed first, then those portrayed longest ago; labs that filled their card before those
    that did not, then in the order of sources.yaml. Reads only (no card is created)."""
    cards = store.lab_cards()
    last: dict[str, Month] = {}
    picked: dict[str, str] = {}
    sections = {(p.kind, p.ref_id): p.section for p in store.picks(month)}
    for lab_id, card_id, when, state in store.portraits():
        if when == month:
            if ("lab", card_id) in sections:
                picked[lab_id] = sections[("lab", card_id)]
        elif state == "published" and when < month:
            last[lab_id] = when  # oldest first: the latest one stays
    found = [
        LabCandidate(lab, cards.get(lab.id) or LabCard(lab=lab.id), last.get(lab.id), picked.get(lab.id))
        for lab in config.labs
    ]
    order = {lab.id: n for n, lab in enumerate(config.labs)}
    never = Month(1900, 1)
    found.sort(key=lambda c: (c.last_portrayed or never, not c.filled, order[c.lab.id]))
    return found


def scoring_time(config: Config, month: Month, now: datetime) -> datetime:
    """When recency is counted from: now, or the end of the month's window if that is earlier
    (an issue prepared after its month, or looked at years later, still ranks its news first)."""
    _oldest, _start, end = candidate_window(config, month)
    return min(now, end)


def _scorer(config: Config, month: Month, now: datetime) -> curate.Scorer:
    return curate.Scorer(
        [(t.id, t.label, t.keywords) for t in config.themes],
        settings(config),
        scoring_time(config, month, now),
        {lab.id: lab.name for lab in config.labs},
    )


def explain(config: Config, month: Month, now: datetime, found: Sequence[Candidate]) -> list[Candidate]:
    """The same candidates with the reasons for their scores."""
    scorer = _scorer(config, month, now)
    return [scorer.explain(c) for c in found]


#: The kinds of section that take picks: items (feed items and reports) and labs (lab portraits).
PICK_SECTIONS = ("items", "labs")


def _section(config: Config, section_id: str) -> Section:
    """A section that takes picks (kind: items or labs); the édito and the agenda have their own commands."""
    known = ", ".join(s.id for s in config.sections if s.kind in PICK_SECTIONS)
    try:
        section = config.section(section_id)
    except KeyError:
        raise InvalidValue(
            "section",
            "unknown",
            f"unknown section {section_id!r} (sections in {config.path}: {known})",
            value=section_id,
        ) from None
    if section.kind not in PICK_SECTIONS:
        command = "curator edito" if section.kind == "edito" else "curator event add"
        raise InvalidValue(
            "section",
            "unknown",
            f"the section {section_id!r} is the {section.kind}: use `{command}` (sections that take picks: {known})",
            value=section_id,
        )
    return section


def _check_kind(config: Config, section: Section, kind: str, ref: str) -> None:
    """Refuse a lab's portrait outside a section of kind labs, and anything else in one."""
    if section.kind == "labs" and kind != "lab":
        others = ", ".join(s.id for s in config.sections if s.kind == "items") or "none"
        raise InvalidValue(
            "section",
            "wrong_kind",
            f"the section {section.id!r} holds lab portraits (pick a lab with `curator pick lab:ID`): "
            f"put {ref} in a section for items and reports ({others})",
            value=section.id,
            kind=kind,
        )
    if section.kind != "labs" and kind == "lab":
        portraits = ", ".join(s.id for s in config.sections if s.kind == "labs")
        raise InvalidValue(
            "section",
            "wrong_kind",
            f"the section {section.id!r} holds items and reports: a lab's portrait goes into a section "
            + (f"of kind labs ({portraits})" if portraits else _NO_LABS_SECTION),
            value=section.id,
            kind=kind,
        )


_NO_LABS_SECTION = (
    "of kind labs, and there is none: add a section with kind: labs to sources.yaml, "
    "e.g. - {id: portraits, title: Portrait de lab, kind: labs}"
)


def resolve_ref(store: Store, config: Config, ref: str) -> tuple[str, int]:
    """(kind, id) of what ``ref`` names: an item (``123``), a report (``r5``), a lab's card
    (``l3``) or a lab of sources.yaml (``lab:lab-normandie``: its card, created empty if
    needed, since the card's row id names it in picks). An unknown lab is an InvalidValue
    naming the known ones."""
    text = str(ref).strip()
    if text[:4].lower() == "lab:":
        return "lab", store.lab_card_id(require_lab(config, text[4:]).id)
    return parse_ref(text)


def picked_ref(store: Store, config: Config, month: Month, ref: str) -> tuple[str, int]:
    """(kind, id) of a pick of the month's issue that ``ref`` names, as :func:`resolve_ref` reads
    it, but without writing anything: ``lab:ID`` is found among the month's portraits (NotPicked
    when the lab is not portrayed in it)."""
    text = str(ref).strip()
    if text[:4].lower() != "lab:":
        return parse_ref(text)
    lab_id = text[4:].strip()
    cards = [p.ref_id for p in store.picks(month) if p.kind == "lab"]
    for card_id, lab in store.labs_of_cards(cards).items():
        if lab == lab_id:
            return "lab", card_id
    require_lab(config, lab_id)  # an unknown lab is said as such
    raise NotPicked(f"lab:{lab_id}", month)


def _portrayed_lab(store: Store, config: Config, card_id: int) -> Lab:
    """The lab of sources.yaml whose card has this row id."""
    return require_lab(config, store.lab_of_card(card_id))


def card_filled(card: LabCard) -> bool:
    """Whether a lab said anything on its card (a portrait of an empty card shows only its name)."""
    return bool(
        card.has_place is not None
        or card.place.strip()
        or card.innovation_types
        or card.service_offer.strip()
        or card.stage
        or card.team.strip()
    )


def _lab_candidate(store: Store, config: Config, card_id: int) -> Candidate:
    lab = _portrayed_lab(store, config, card_id)
    card = store.lab_card(lab.id)
    section = lab_section(config)
    return Candidate(
        ref=make_ref("lab", card_id),
        kind="lab",
        id=card_id,
        title=lab.name,
        url=None,
        excerpt=make_excerpt(markdown_to_text(card.service_offer), 300) if card.service_offer else "",
        published=card.updated_at or datetime(1970, 1, 1, tzinfo=UTC),
        sources=(),
        lab=lab.id,
        section=section.id if section else None,
        themes=(),
    )


def _resolve(store: Store, config: Config, kind: str, ref_id: int) -> Candidate:
    if kind == "lab":
        return _lab_candidate(store, config, ref_id)
    if kind == "item":
        item = store.item(ref_id)
        return item_candidate(item, _source_infos(config), config)
    report = store.report(ref_id)
    if report.status != "approved":
        raise InvalidValue(
            "report",
            "not_approved",
            f"report r{ref_id} is {report.status}: only approved reports can be picked "
            f"(`curator reports approve {ref_id}`)",
            status=report.status,
        )
    return report_candidate(report, config)


def pick(
    store: Store,
    config: Config,
    month: Month,
    ref: str,
    now: datetime,
    *,
    section: str | None = None,
    position: int | None = None,
    note: str | None = None,
    title: str | None = None,
    summary: str | None = None,
    by: str | None = None,
    new_only: bool = False,
    expected_layout: Mapping[str, Sequence[str]] | None = None,
) -> Pick:
    """Place an item (``"123"``), a report (``"r5"``) or a lab's portrait (``"lab:ID"``, ``"l3"``)
    in a section of the month's issue (a portrait only in a section of kind labs, the first
    one by default; items and reports only in the others).

    Already picked, it moves (to ``position``, else it keeps its place within
    its section, else it goes last in the new one). ``note``, ``title`` and
    ``summary`` set the editor's note and overrides in the same transaction.

    ``new_only`` refuses (StaleEdit) to move what is already picked: the page that
    offered it saw it unpicked, so another editor picked it meanwhile.
    ``expected_layout`` (see ``layout``) refuses a change to the order of a section
    that is no longer the one the page showed.
    """
    kind, ref_id = resolve_ref(store, config, ref)
    ref = make_ref(kind, ref_id)
    candidate = _resolve(store, config, kind, ref_id)
    if position is not None and position < 1:
        raise InvalidValue("position", "position", "--position starts at 1")
    overrides = _overrides(note=note, title=title, summary=summary)
    _portrait_wording(kind, overrides)
    with store.write():
        _editable(store, config, month, now)
        for other, state in store.picks_of(kind, ref_id):
            # An article goes out once; a lab may be portrayed again in a later issue.
            if kind != "lab" and state == "published" and other.month != month:
                raise InUseError(
                    f"{ref} was already published in the issue {other.month}: an article goes out once",
                    other.month,
                )
        existing = store.pick_for(month, kind, ref_id)
        if existing is not None and new_only:
            raise StaleEdit("the candidate", ref)
        if kind == "lab" and not section and existing is None and candidate.section is None:
            raise InvalidValue(
                "section",
                "no_labs_section",
                f"{ref} is a lab's portrait, which goes into a section {_NO_LABS_SECTION}",
            )
        target = _section(
            config,
            section
            or (existing.section if existing else None)
            or candidate.section
            or _items_section(config),
        )
        _check_kind(config, target, kind, ref)
        if expected_layout is not None:
            touched = {target.id} | ({existing.section} if existing else set())
            _check_layout(store, month, touched, expected_layout)
        if target.max_picks is not None and (existing is None or existing.section != target.id):
            count = len(store.picks(month, target.id))
            if count >= target.max_picks:
                raise SectionFull(target.id, target.max_picks, config.path)
        if existing is not None and position is None and existing.section == target.id:
            position = existing.position
        if existing is not None and existing.section == target.id and not overrides:
            others = len(store.picks(month, target.id)) - 1
            if min(max(1, position or 1), others + 1) == existing.position:
                # Nothing changes: the issue keeps its version, so no other editor's page goes stale.
                return existing
        result = store.place_pick(month, kind, ref_id, target.id, position, now, by=by)
        if overrides:
            result = store.edit_pick(month, kind, ref_id, now, overrides, by=by)
        store.touch_issue(month, now)
    return result


def _overrides(**values: str | None) -> dict[str, str | None]:
    """Validated note and overrides: empty text restores the original (the note becomes empty)."""
    cleaned: dict[str, str | None] = {}
    for name, value in values.items():
        if value is None:
            continue
        text = clean_text(value).strip()
        if name == "title" and len(text) > 300:
            raise InvalidValue("title", "too_long", "a title override is at most 300 characters", limit=300)
        if name in ("summary", "note") and len(text) > 5_000:
            raise InvalidValue(name, "too_long", f"a {name} is at most 5,000 characters", limit=5_000)
        cleaned[name] = text if (text or name == "note") else None
    return cleaned


def _portrait_wording(kind: str, values: Mapping[str, str | None]) -> None:
    """A portrait shows the lab's card as the lab wrote it: it takes a note, no other wording."""
    for name in ("title", "summary"):
        if kind == "lab" and values.get(name) is not None:
            raise InvalidValue(
                name,
                "portrait_wording",
                f"a lab's portrait shows its card as the lab wrote it: it takes a --note, not a --{name} "
                "(`curator labs set` changes the card)",
            )


def layout(store: Store, month: Month) -> dict[str, tuple[str, ...]]:
    """The refs of each section's picks, in order (those a page does not show too): what a
    move checks. A section without picks is absent."""
    result: dict[str, list[str]] = {}
    for p in store.picks(month):
        result.setdefault(p.section, []).append(p.ref)
    return {section: tuple(refs) for section, refs in result.items()}


def _check_layout(
    store: Store, month: Month, sections: set[str], expected: Mapping[str, Sequence[str]]
) -> None:
    """Refuse a change to the order of ``sections`` when it is not the one ``expected`` says."""
    current = layout(store, month)
    for section in sorted(sections):
        if tuple(current.get(section, ())) != tuple(expected.get(section, ())):
            raise StaleEdit("the section", section)


def _field_versions(name: str, expected_version: int | None) -> dict[str, int]:
    """The version a change to ``name`` (title, edito) checks. Version 0 stands for an issue
    that did not exist when the page was drawn: it matches the issue just created (version 1)."""
    return {} if expected_version is None else {name: max(expected_version, 1)}


def unpick(
    store: Store,
    config: Config,
    month: Month,
    ref: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> Pick:
    """Take a pick out of the issue; ``expected_version`` is the pick's (its note and overrides),
    so that nobody removes a note written meanwhile without having seen it."""
    kind, ref_id = picked_ref(store, config, month, ref)
    ref = make_ref(kind, ref_id)
    with store.write():
        _editable(store, config, month, now)
        current = store.pick_for(month, kind, ref_id)
        if current is not None and expected_version is not None and current.version != expected_version:
            raise StaleEdit("the pick", ref)
        removed = store.remove_pick(month, kind, ref_id)
        store.touch_issue(month, now)
    return removed


def move(
    store: Store,
    config: Config,
    month: Month,
    ref: str,
    position: int | None,
    now: datetime,
    *,
    section: str | None = None,
    by: str | None = None,
    expected_layout: Mapping[str, Sequence[str]] | None = None,
) -> Pick:
    """Move a pick to ``position`` in its section (or in another ``section``; with no
    position, it goes last there).

    ``expected_layout`` is the order of the sections as the page showed it (``layout``):
    the move is refused (StaleEdit) when the section it leaves or enters changed since.
    A move checks nothing else: the édito, the title and notes never make it stale.
    """
    kind, ref_id = picked_ref(store, config, month, ref)
    ref = make_ref(kind, ref_id)
    existing = store.pick_for(month, kind, ref_id)
    if existing is None:
        raise NotPicked(ref, month)
    return pick(
        store,
        config,
        month,
        ref,
        now,
        section=section or existing.section,
        position=position,
        by=by,
        expected_layout=expected_layout,
    )


def edit_pick(
    store: Store,
    config: Config,
    month: Month,
    ref: str,
    now: datetime,
    *,
    by: str | None = None,
    expected_version: int | None = None,
    **values: str | None,
) -> Pick:
    """Set a pick's ``note``, ``title`` or ``summary`` override (empty text restores the original);
    a lab's portrait takes a note only."""
    kind, ref_id = picked_ref(store, config, month, ref)
    cleaned = _overrides(**values)
    _portrait_wording(kind, cleaned)
    with store.write():
        _editable(store, config, month, now)
        result = store.edit_pick(month, kind, ref_id, now, cleaned, expected_version=expected_version, by=by)
        store.touch_issue(month, now)
    return result


def set_edito(
    store: Store,
    config: Config,
    month: Month,
    text: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> Issue:
    """Set the édito; ``expected_version`` is the édito's own (``Issue.edito_version``): only
    another change to the édito makes it stale. The same text as the stored one changes nothing."""
    text = clean_text(text).strip()
    if len(text) > 20_000:
        raise InvalidValue("edito", "too_long", "the édito is at most 20,000 characters", limit=20_000)
    with store.write():
        issue = _editable(store, config, month, now)
        if issue.edito == text:
            return issue  # nothing changes: no other editor's page goes stale
        return store.update_issue(
            month, now, field_versions=_field_versions("edito", expected_version), edito=text
        )


def set_title(
    store: Store,
    config: Config,
    month: Month,
    title: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> Issue:
    """Set the issue's title; ``expected_version`` is the title's own (``Issue.title_version``)."""
    title = " ".join(clean_text(title).split())
    if not title or len(title) > 200:
        raise InvalidValue("title", "too_long", "an issue title is 1 to 200 characters", limit=200)
    with store.write():
        issue = _editable(store, config, month, now)
        if issue.title == title:
            return issue
        return store.update_issue(
            month, now, field_versions=_field_versions("title", expected_version), title=title
        )


def add_event(
    store: Store,
    config: Config,
    month: Month,
    now: datetime,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str = "",
    video_url: str | None = None,
    description: str = "",
    link: str | None = None,
) -> Event:
    """Add an agenda entry; naive times are read in the newsletter's time zone (Europe/Paris)."""
    tz = _tz(config)
    starts_at = _event_time(starts_at, tz, "start")
    if ends_at is not None:
        ends_at = _event_time(ends_at, tz, "end")
        if ends_at < starts_at:
            raise InvalidValue("end", "ends_before_start", "an event cannot end before it starts")
    title = " ".join(clean_text(title).split())
    place, description = clean_text(place), clean_text(description)
    if not title:
        raise InvalidValue("title", "required", "an event needs a title")
    for field, name, url in (("video_url", "video link", video_url), ("link", "link", link)):
        if url and normalise_url(url) is None:
            raise InvalidValue(field, "not_http", f"the {name} {url!r} is not an http(s) URL", value=url)
    with store.write():
        _editable(store, config, month, now)
        event = store.add_event(
            month,
            now,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            place=place.strip(),
            video_url=normalise_url(video_url) if video_url else None,
            description=description.strip(),
            link=normalise_url(link) if link else None,
        )
        store.touch_issue(month, now)
    return event


#: An agenda's dates stay within these years: others are typing mistakes (0001, 20222)
#: and, at the edges of the calendar, cannot even be converted to UTC.
EVENT_YEARS = (1900, 2999)


def _event_time(when: datetime, tz: ZoneInfo, name: str) -> datetime:
    """``when`` made aware (naive means the newsletter's time zone), within EVENT_YEARS."""
    low, high = EVENT_YEARS
    if not low <= when.year <= high:
        raise InvalidValue(
            name,
            "date_range",
            f"the event's {name} date {when.date().isoformat()} is not plausible: give a year between {low} and {high}",
            low=low,
            high=high,
        )
    return when if when.tzinfo else when.replace(tzinfo=tz)


def remove_event(store: Store, config: Config, month: Month, event_id: int, now: datetime) -> Event:
    with store.write():
        _editable(store, config, month, now)
        event = store.remove_event(month, event_id)
        store.touch_issue(month, now)
    return event


def reopen(store: Store, month: Month, now: datetime) -> Issue:
    issue = require_issue(store, month)
    if not issue.published:
        raise NotPublished(month)
    return store.update_issue(month, now, state="draft")


#: The hour of the day a publication date given as a day stands for, in the newsletter's time zone.
PUBLICATION_HOUR = 9


def publication_time(config: Config, month: Month, day: date, now: datetime) -> datetime:
    """The moment a publication date given as a day stands for (9:00 in the newsletter's time
    zone); an InvalidValue for a day in the future or long before the issue's month."""
    earliest = month.start(_tz(config)).date() - timedelta(days=62)
    today = now.astimezone(_tz(config)).date()
    if day > today:
        raise InvalidValue("date", "future", f"the publication date {day.isoformat()} is in the future")
    if day < earliest:
        raise InvalidValue(
            "date",
            "too_early",
            f"the publication date {day.isoformat()} is long before {month}: give a date from {earliest.isoformat()}",
            earliest=earliest,
        )
    return datetime.combine(day, time(PUBLICATION_HOUR), tzinfo=_tz(config)).astimezone(UTC)


def publish(
    store: Store, config: Config, month: Month, now: datetime, *, published_on: date | None = None
) -> Issue:
    """Freeze the issue: state published, with its publication date: ``published_on`` if given,
    else the first one it had, else ``now``."""
    issue = require_issue(store, month)
    if not store.picks(month) and not issue.edito:
        raise EmptyIssue(month)
    if published_on is not None:
        when = publication_time(config, month, published_on, now)
    else:
        when = issue.published_at or now
    return store.update_issue(month, now, state="published", published_at=when)


# --- the issue as readers will see it ------------------------------------------
