"""Frozen value types that cross module boundaries (no SQL rows, no feedparser dicts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from .errors import UsageError

_MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")


@dataclass(frozen=True, order=True)
class Month:
    """One month, the identity of an issue: ``Month.parse("2022-01")``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9998:
            raise UsageError(f"invalid month {self.year:04d}-{self.month:02d}: use YYYY-MM, e.g. 2022-01")

    @classmethod
    def parse(cls, text: str) -> Month:
        m = _MONTH_RE.match(text.strip()) if isinstance(text, str) else None
        if not m:
            raise UsageError(f"invalid month {text!r}: use YYYY-MM, e.g. 2022-01")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def start(self, tz: Any = UTC) -> datetime:
        """The first instant of the month in ``tz``, as an aware datetime."""
        return datetime(self.year, self.month, 1, tzinfo=tz)

    def end(self, tz: Any = UTC) -> datetime:
        """The first instant of the next month in ``tz`` (exclusive bound)."""
        return self.next().start(tz)


@dataclass(frozen=True)
class Newsletter:
    title: str
    publisher: str
    site_url: str
    locale: str = "fr"
    timezone: str = "Europe/Paris"
    from_address: str = ""
    reply_to: str = ""
    description: str = ""
    form_url: str = ""
    unsubscribe: str = ""
    issue_title: str = "Infolettre — {month}"  # {month} becomes « janvier 2022 »


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    max_picks: int | None = None
    description: str = ""
    kind: str = "items"  # items; edito (the issue's édito); agenda (its events); labs (lab portraits)
    note_required: bool = False  # each pick needs an editor's note (the pre-publication checklist says so)


@dataclass(frozen=True)
class Lab:
    """A lab as sources.yaml lists it; what the lab says of itself is its ``LabCard`` (in the store)."""

    id: str
    name: str
    academie: str = ""
    city: str = ""
    website: str = ""
    lat: float | None = None  # where the lab is, for the map export; else its académie's chief town
    lon: float | None = None


@dataclass(frozen=True)
class VocabularyTerm:
    """One innovation type a lab may tick (``labs_vocabulary:`` in sources.yaml)."""

    id: str
    label: str


#: The fields of a lab's identity card, in the order of the form (the names are a contract:
#: ``curator labs --json``, ``curator labs set --FIELD``, the public form).
LAB_CARD_FIELDS = (
    "has_place",
    "place",
    "innovation_types",
    "service_offer",
    "stage",
    "team",
    "contact_email",
    "contact_public",
    "feed",
)

#: A lab's stage, from the first meetings to a running lab ("" while the lab has not said).
LAB_STAGES = ("prefiguration", "lancement", "actif")


@dataclass(frozen=True)
class LabCard:
    """A lab's identity card (« fiche d'identité »): what the lab says of itself.

    A lab that never filled it has an empty card (``version`` 0, ``updated_at`` None).
    """

    lab: str  # the lab's id in sources.yaml
    has_place: bool | None = None  # a dedicated place? None: not said
    place: str = ""  # its address or a description
    innovation_types: tuple[str, ...] = ()  # vocabulary term ids
    service_offer: str = ""  # short Markdown
    stage: str = ""  # one of LAB_STAGES, "" when not said
    team: str = ""
    contact_email: str = ""
    contact_public: bool = False  # the lab agrees to show contact_email on its public page
    feed: str | None = None  # a source id; None: the source with ``lab:`` set to this lab, if any
    version: int = 0  # bumped by every change, to refuse stale edits
    updated_at: datetime | None = None
    updated_by: str | None = None

    def values(self) -> dict[str, Any]:
        """The card's fields (``LAB_CARD_FIELDS``) as plain values (lists for tuples)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name in LAB_CARD_FIELDS
            for value in [getattr(self, name)]
        }


@dataclass(frozen=True)
class LabCardChange:
    """One entry of a card's history: who changed which fields, when, and through what."""

    id: int
    lab: str
    at: datetime
    by: str  # an editor's email, "<user> (cli)", or "proposal #N" approved by an editor
    origin: str  # editor, cli, proposal, demo
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {"old": …, "new": …}
    proposal_id: int | None = None


@dataclass(frozen=True)
class LabProposal:
    """A change to a lab's card sent through the public form, waiting for an editor."""

    id: int
    lab: str
    status: str  # pending, approved, rejected
    values: dict[str, Any]  # the whole card as proposed (LAB_CARD_FIELDS)
    base: dict[str, Any]  # the card as the form showed it, to tell what the lab changed
    author_name: str
    author_email: str
    submitted_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reject_reason: str | None = None

    def changed_fields(self) -> tuple[str, ...]:
        """The fields the lab changed, compared with the card the form showed it."""
        return tuple(f for f in LAB_CARD_FIELDS if self.values.get(f) != self.base.get(f))


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    id: str
    url: str
    title: str = ""
    section: str | None = None
    lab: str | None = None
    tags: tuple[str, ...] = ()
    weight: float = 1.0
    enabled: bool = True
    site: str = ""  # the web page the feed belongs to (an OPML htmlUrl), or ""


@dataclass(frozen=True)
class Entry:
    """One entry parsed from a feed, sanitised, before it is stored.

    ``key`` is its identity within its source: the entry's id/guid, else its
    normalised link, else a hash of its title and date.
    """

    key: str
    url: str | None
    title: str
    summary: str  # sanitised HTML
    excerpt: str  # plain text, at most 300 characters, cut at a word
    text: str = ""  # the whole summary as plain text, for full-text search
    author: str = ""
    categories: tuple[str, ...] = ()
    published: datetime | None = None  # aware, UTC
    updated: datetime | None = None  # aware, UTC


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed document yields: its own metadata, entries and any warning."""

    title: str
    link: str | None
    entries: tuple[Entry, ...]
    warning: str | None = None  # set when the feed was malformed but usable


@dataclass(frozen=True)
class Item:
    """A stored watch item, possibly reached through several sources."""

    id: int
    url: str | None
    title: str
    summary: str
    excerpt: str
    author: str
    categories: tuple[str, ...]
    published: datetime
    published_estimated: bool  # True when the feed gave no date (first-seen time)
    first_seen: datetime
    updated: datetime
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def source(self) -> str | None:
        return self.sources[0] if self.sources else None


@dataclass(frozen=True)
class SourceState:
    """A source as recorded in the store: its config plus what fetching learnt."""

    id: str
    url: str
    title: str
    section: str | None
    lab: str | None
    tags: tuple[str, ...]
    weight: float
    enabled: bool
    status: str  # ok, unchanged, failed, disabled, new
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    last_error: str | None = None
    last_fetched: datetime | None = None
    consecutive_failures: int = 0
    last_new_item: datetime | None = None
    retry_after: datetime | None = None
    moved_to: str | None = None
    disabled_reason: str | None = None
    items: int = 0
    moved_count: int = 0  # consecutive fetches that were permanently redirected to moved_to


@dataclass(frozen=True)
class Issue:
    """One month's infolettre."""

    month: Month
    title: str
    edito: str  # Markdown
    state: str  # draft or published
    published_at: datetime | None
    version: int  # bumped by every change (the archive re-renders a published issue when it moves)
    created_at: datetime
    updated_at: datetime
    title_version: int = 1  # bumped when the title changes: what a title edit checks
    edito_version: int = 1  # bumped when the édito changes: what an édito edit checks

    @property
    def published(self) -> bool:
        return self.state == "published"


@dataclass(frozen=True)
class Pick:
    """An item or a report placed in a section of an issue."""

    id: int
    month: Month
    section: str
    kind: str  # item, report or lab (a lab's card: ref_id is the card's row id)
    ref_id: int
    position: int  # 1..n within its section
    note: str = ""  # Markdown
    title: str | None = None  # override
    summary: str | None = None  # override
    version: int = 1
    updated_by: str | None = None

    @property
    def ref(self) -> str:
        return make_ref(self.kind, self.ref_id)


@dataclass(frozen=True)
class Event:
    """An agenda entry of an issue; times are aware (UTC in the store)."""

    id: int
    month: Month
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    place: str = ""
    video_url: str | None = None
    description: str = ""
    link: str | None = None


@dataclass(frozen=True)
class Report:
    """An experience report submitted through the public form (the Markdown kept verbatim)."""

    id: int
    status: str  # pending, approved, rejected
    lab: str | None  # a lab id from sources.yaml; None when the lab is not listed
    lab_other: str  # the lab's name as typed, when it is not listed
    author_name: str
    author_email: str
    title: str
    summary: str
    body: str  # Markdown, exactly as submitted (or as last edited)
    link: str | None
    tags: tuple[str, ...]  # theme ids
    license: str  # etalab-2.0, cc-by-4.0 or cc-by-sa-4.0
    submitted_at: datetime
    updated_at: datetime
    version: int = 1  # bumped by every change, to refuse stale edits
    decided_at: datetime | None = None
    decided_by: str | None = None
    reject_reason: str | None = None


@dataclass(frozen=True)
class ReportChange:
    """One entry of a report's history: who did what, when, and the fields it changed."""

    id: int
    report_id: int
    at: datetime
    editor: str  # an editor's email, or "<user> (cli)"
    action: str  # edited, approved, rejected
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {"old": …, "new": …}
    reason: str | None = None


@dataclass(frozen=True)
class LinkCheck:
    """What checking one link found: ``ok`` when it answered 2xx (after redirects).

    ``status`` is the last HTTP status (None when none came); ``error`` a short kind of failure
    (``timeout``, ``dns``, ``connection``, ``redirect``, ``http``), None when it works.
    """

    url: str
    ok: bool
    status: int | None
    error: str | None
    checked_at: datetime  # aware, UTC


@dataclass(frozen=True)
class Editor:
    """A person who may log in to the editor area (the password hash never leaves the store)."""

    email: str
    created_at: datetime
    last_login: datetime | None = None


class CandidateRow(NamedTuple):
    """An item as ranking needs it, in a lean form (``Store.candidate_rows``: thousands are read)."""

    id: int
    url: str | None
    title: str
    excerpt: str
    published: str  # ISO 8601, UTC
    author: str
    title_key: str  # text.title_key of the title
    sources: str | None  # source ids, first seen first, joined by U+001F
    match_text: str  # `` word word … `` of title and excerpt, for keyword rules


# --- references to what can be picked ------------------------------------------


def parse_ref(ref: str) -> tuple[str, int]:
    """``"123"`` → ("item", 123); ``"r5"`` or ``"report:5"`` → ("report", 5); ``"l3"`` → ("lab", 3).

    A lab's card is named by the row id of its card (``l3``); ``lab:ID`` with the
    lab's id in sources.yaml is resolved by ``editorial``, which asks the store.
    """
    text = str(ref).strip().lower()
    kind = "item"
    for prefix, name in (("report:", "report"), ("r", "report"), ("l", "lab")):
        if text.startswith(prefix):
            kind, text = name, text[len(prefix) :]
            break
    else:
        if text.startswith("item:"):
            text = text[5:]
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise UsageError(
            f"invalid id {ref!r}: use an item id (123), a report id (r5) or a lab (lab:ID), "
            "as shown by `curator candidates` and `curator labs`"
        )
    return kind, int(text)


def make_ref(kind: str, id: int) -> str:
    if kind == "report":
        return f"r{id}"
    if kind == "lab":
        return f"l{id}"
    return str(id)
