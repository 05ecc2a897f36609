"""The labs' directory: identity cards, the changes labs propose, « labs like yours », exports.

sources.yaml lists the labs (id, name, académie, city, website); what a lab says of itself
(a dedicated place, its innovation types, its service offer, its stage…) is its card, kept
in the store with its history. Labs propose changes through the public form
(``/contribuer/lab``); an editor approves or rejects them, in the editor area or with
``curator labs proposals``. Editors change a card directly with ``curator labs set``.

The CLI and the web app call the same functions here; every refusal is typed
(``InvalidLabCard`` maps each field to a message in the reader's language).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from babel.numbers import format_decimal

from .config import Config
from .errors import AlreadyDecided, InvalidValue, UsageError
from .i18n import DEFAULT_LOCALE, N_
from .i18n import gettext as _
from .models import LAB_CARD_FIELDS, LAB_STAGES, Lab, LabCard, LabProposal, Source
from .store import Store
from .text import clean_text, fold
from .urls import is_email

#: How each stage reads (« Stade » on the lab's page).
STAGE_LABELS = {
    "prefiguration": N_("in préfiguration"),
    "lancement": N_("starting"),
    "actif": N_("active"),
}

#: The headings of a card, as the lab's page and the form show them.
FIELD_LABELS = {
    "lab": N_("Your lab"),
    "has_place": N_("Dedicated place"),
    "place": N_("Address or description of the place"),
    "innovation_types": N_("Types of innovation"),
    "service_offer": N_("Service offer"),
    "stage": N_("Stage"),
    "team": N_("Team"),
    "contact_email": N_("Contact address"),
    "contact_public": N_("Show the contact address on the lab's page"),
    "feed": N_("Feed"),
    "author_name": N_("Your name"),
    "author_email": N_("Your email address"),
    "reason": N_("Reason for rejecting"),
}

#: The most characters each field accepts (line breaks count as one).
MAX_LENGTHS = {
    "place": 500,
    "service_offer": 3_000,
    "team": 1_000,
    "contact_email": 254,
    "author_name": 200,
    "author_email": 254,
    "reason": 2_000,
}

#: Every field of the public form, in the order people fill them (the names are a contract).
FORM_FIELDS = ("lab", *LAB_CARD_FIELDS, "author_name", "author_email")

_YES = frozenset({"y", "yes", "oui", "o", "on", "1", "true", "vrai"})
_NO = frozenset({"n", "no", "non", "off", "0", "false", "faux"})

# What has no place in a card: HTML tags, and links that run code or embed data.
_TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>?")
_SCHEME_RE = re.compile(r"(?:java|vb)script\s*:|data\s*:[^\s,]*[;,]", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&#\s*x?[0-9a-f]+;?|&[a-z]+;", re.IGNORECASE)


class InvalidLabCard(UsageError):
    """A card, a proposal or a decision that cannot be accepted; ``errors`` maps each field to
    a message (``_form`` for the whole form)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


@dataclass(frozen=True)
class Proposal:
    """A validated proposal from the public form, ready to be stored."""

    lab: str
    values: dict[str, Any]  # every field of LAB_CARD_FIELDS
    author_name: str
    author_email: str


@dataclass(frozen=True)
class FieldDiff:
    """What a proposal changes in one field, as people read it."""

    field: str
    label: str
    old: str  # the card's value now
    new: str  # the proposed value
    moved: bool = False  # the card's value changed since the lab saw it


@dataclass(frozen=True)
class Similar:
    """A lab close to another: the innovation types and the words of the offer they share."""

    lab: Lab
    score: float
    types: tuple[str, ...]  # vocabulary ids, in vocabulary order
    words: tuple[str, ...]  # folded words of the offers, alphabetical


# --- reading what people typed ----------------------------------------------------------


def require_lab(config: Config, lab_id: str) -> Lab:
    """The lab of sources.yaml with this id, or InvalidValue naming the known ones."""
    lab = config.lab(lab_id.strip())
    if lab is None:
        known = ", ".join(lab.id for lab in config.labs) or "none: add labs under 'labs:' in sources.yaml"
        raise InvalidValue(
            "lab", "unknown", f"unknown lab {lab_id!r}: use one of the ids of `curator labs` ({known})"
        )
    return lab


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return "" if value is None else clean_text(str(value))


def _many(data: Mapping[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",") if "," in value else [value]
    return [clean_text(str(v)).strip() for v in value if str(v).strip()]


def _length(text: str) -> int:
    return len(text.replace("\r\n", "\n"))


def _hostile(text: str) -> bool:
    """HTML, a script link or an entity that could hide one: a card is plain text and Markdown."""
    return bool(_TAG_RE.search(text) or _SCHEME_RE.search(text) or _ENTITY_RE.search(text))


def _checked_text(data: Mapping[str, Any], name: str, errors: dict[str, str], locale: str) -> str:
    text = _text(data, name).strip()
    if _length(text) > MAX_LENGTHS[name]:
        errors[name] = _(
            "At most %(max)s characters (you typed %(count)s).",
            locale,
            max=format_decimal(MAX_LENGTHS[name], locale=locale),
            count=format_decimal(_length(text), locale=locale),
        )
    elif _hostile(text):
        errors[name] = (
            _(
                "Remove the HTML code: this field takes plain text or Markdown, and links that start with https://.",
                locale,
            )
            if name == "service_offer"
            else _(
                "Remove the HTML code: this field takes plain text, and links that start with https://.",
                locale,
            )
        )
    return text


def _yes_no(data: Mapping[str, Any], name: str, errors: dict[str, str], locale: str) -> bool | None:
    text = fold(_text(data, name).strip())
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    errors[name] = _("Answer yes or no.", locale)
    return None


def _innovation_types(
    data: Mapping[str, Any], config: Config, errors: dict[str, str], locale: str
) -> tuple[str, ...]:
    by_key = {}
    for term in config.innovation_types:
        by_key[term.id] = term.id
        by_key[fold(term.label)] = term.id
    chosen, unknown = set(), []
    for value in _many(data, "innovation_types"):
        term_id = by_key.get(value) or by_key.get(fold(value))
        if term_id is None:
            unknown.append(value)
        else:
            chosen.add(term_id)
    if unknown:
        errors["innovation_types"] = _(
            "Unknown type of innovation: %(terms)s. Choose among: %(known)s.",
            locale,
            terms=", ".join(unknown[:5])[:200],
            known=", ".join(t.label for t in config.innovation_types),
        )
    return tuple(t.id for t in config.innovation_types if t.id in chosen)


def _stage(data: Mapping[str, Any], errors: dict[str, str], locale: str) -> str:
    text = fold(_text(data, "stage").strip())
    for stage in LAB_STAGES:
        if text in (stage, fold(_(STAGE_LABELS[stage], locale)), fold(STAGE_LABELS[stage])):
            return stage
    if text:
        errors["stage"] = _(
            "Choose a stage: %(stages)s.",
            locale,
            stages=", ".join(_(STAGE_LABELS[s], locale) for s in LAB_STAGES),
        )
    return ""


def _email(data: Mapping[str, Any], name: str, errors: dict[str, str], locale: str, *, required: bool) -> str:
    email = _text(data, name).strip()
    if not email:
        if required:
            errors[name] = _("Enter your email address.", locale)
    elif not is_email(email):
        errors[name] = _("Enter an email address in the right format, like nom@exemple.fr.", locale)
    return email


def _feed(data: Mapping[str, Any], config: Config, errors: dict[str, str], locale: str) -> str | None:
    source_id = _text(data, "feed").strip()
    if not source_id:
        return None
    if config.source(source_id) is None:
        errors["feed"] = _("Choose a feed from the list of sources.", locale)
    return source_id


_READERS = {
    "has_place": lambda data, config, errors, locale: _yes_no(data, "has_place", errors, locale),
    "place": lambda data, config, errors, locale: _checked_text(data, "place", errors, locale),
    "innovation_types": _innovation_types,
    "service_offer": lambda data, config, errors, locale: _checked_text(
        data, "service_offer", errors, locale
    ),
    "stage": lambda data, config, errors, locale: _stage(data, errors, locale),
    "team": lambda data, config, errors, locale: _checked_text(data, "team", errors, locale),
    "contact_email": lambda data, config, errors, locale: _email(
        data, "contact_email", errors, locale, required=False
    ),
    "contact_public": lambda data, config, errors, locale: bool(
        _yes_no(data, "contact_public", errors, locale)
    ),
    "feed": _feed,
}


def validate_card(
    data: Mapping[str, Any], config: Config, *, locale: str = DEFAULT_LOCALE, partial: bool = False
) -> dict[str, Any]:
    """Check card fields as people typed them; the values to store, or InvalidLabCard.

    ``data`` maps field names to text (``innovation_types`` to a list, or text with commas;
    yes/no fields take yes, no, oui, non, true, false). With ``partial``, only the fields
    present are read (``curator labs set``); else every field is, a missing one being empty.
    """
    errors: dict[str, str] = {}
    names = [n for n in LAB_CARD_FIELDS if n in data] if partial else list(LAB_CARD_FIELDS)
    values = {name: _READERS[name](data, config, errors, locale) for name in names}
    if values.get("contact_public"):
        email = values.get("contact_email")
        if email == "" or (email is None and not partial):
            errors.setdefault("contact_email", _("Enter the address to show on the lab's page.", locale))
    if errors:
        raise InvalidLabCard({name: errors[name] for name in FORM_FIELDS if name in errors})
    return values


def validate_proposal(data: Mapping[str, Any], config: Config, *, locale: str = DEFAULT_LOCALE) -> Proposal:
    """Check what the public form (``/contribuer/lab``) sent; raise InvalidLabCard with a message per field."""
    errors: dict[str, str] = {}
    lab_id = _text(data, "lab").strip()
    if config.lab(lab_id) is None:
        errors["lab"] = _("Choose your lab in the list.", locale)
    try:
        values = validate_card(data, config, locale=locale)
    except InvalidLabCard as exc:
        errors.update(exc.errors)
        values = {}
    author_name = _text(data, "author_name").strip()
    if not author_name:
        errors["author_name"] = _("Enter your name.", locale)
    elif _length(author_name) > MAX_LENGTHS["author_name"]:
        errors["author_name"] = _(
            "At most %(max)s characters (you typed %(count)s).",
            locale,
            max=format_decimal(MAX_LENGTHS["author_name"], locale=locale),
            count=format_decimal(_length(author_name), locale=locale),
        )
    author_email = _email(data, "author_email", errors, locale, required=True)
    if errors:
        raise InvalidLabCard({name: errors[name] for name in FORM_FIELDS if name in errors})
    return Proposal(lab_id, values, author_name, author_email)


def form_data(card: LabCard) -> dict[str, Any]:
    """A card as the values of the form (yes/no fields as ``yes``, ``no`` or empty)."""
    values = card.values()
    values["has_place"] = {True: "yes", False: "no", None: ""}[card.has_place]
    values["contact_public"] = "yes" if card.contact_public else ""
    values["feed"] = card.feed or ""
    values["lab"] = card.lab
    return values


# --- changing cards -------------------------------------------------------------------------


def card(store: Store, config: Config, lab_id: str) -> LabCard:
    """The card of a lab of sources.yaml (InvalidValue for an unknown id)."""
    return store.lab_card(require_lab(config, lab_id).id)


def set_card(
    store: Store,
    config: Config,
    lab_id: str,
    data: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    origin: str = "editor",
    expected_version: int | None = None,
    locale: str = DEFAULT_LOCALE,
) -> tuple[LabCard, bool]:
    """Change the fields of ``data`` (as typed; see :func:`validate_card`) of a lab's card.

    Returns (the card, whether it changed). Nothing is written unless every field is valid.
    """
    lab = require_lab(config, lab_id)
    values = validate_card(data, config, locale=locale, partial=True)
    if (
        values.get("contact_public")
        and "contact_email" not in values
        and not store.lab_card(lab.id).contact_email
    ):
        raise InvalidLabCard({"contact_email": _("Enter the address to show on the lab's page.", locale)})
    changed, change = store.change_lab_card(
        lab.id, values, by=by, origin=origin, now=now, expected_version=expected_version
    )
    return changed, change is not None


def new_submission_key() -> str:
    """A key for one display of the form: the same form sent twice is stored once."""
    return uuid.uuid4().hex


def card_as_seen(store: Store, lab_id: str, version: int | None) -> dict[str, Any]:
    """The card's fields as they were at ``version`` (the one a form showed): today's card with
    the changes made since undone, from its history; today's card when that is not known."""
    current = store.lab_card(lab_id)
    values = current.values()
    if version is None or not 0 <= version < current.version:
        return values
    changes = store.lab_card_changes(lab_id)
    later = current.version - version
    if later > len(changes):
        return values
    for change in reversed(changes[len(changes) - later :]):
        for name, diff in change.changes.items():
            if name in values:
                values[name] = diff.get("old")
    return values


def propose(
    store: Store,
    proposal: Proposal,
    now: datetime,
    *,
    key: str | None = None,
    seen_version: int | None = None,
    locale: str = DEFAULT_LOCALE,
) -> tuple[LabProposal, bool]:
    """Store a proposal as pending: (it, True), or (the one stored before, False) for the same form sent twice.

    ``seen_version`` is the version of the card the form showed: what the lab changed is
    what differs from that card, so that a change made meanwhile (by an editor, or another
    member of the lab) is neither undone nor shown as the lab's. Without it, the card as it
    is now. A proposal that changes nothing is refused (InvalidLabCard on ``_form``).
    """
    with store.write():
        current = store.lab_card(proposal.lab).values()
        seen = card_as_seen(store, proposal.lab, seen_version)
        typed = {k: list(v) if isinstance(v, tuple) else v for k, v in proposal.values.items()}
        changed = [f for f in LAB_CARD_FIELDS if typed.get(f) != seen.get(f)]
        if not changed:
            raise InvalidLabCard(
                {"_form": _("Nothing changed: edit the fields to update, then send the form.", locale)}
            )
        # The stored proposal: the lab's fields as typed, the others as the card is now; its
        # base is the card as the lab saw it for the fields it changed, else as it is now.
        values = {f: typed.get(f) if f in changed else current.get(f) for f in LAB_CARD_FIELDS}
        base = {f: seen.get(f) if f in changed else current.get(f) for f in LAB_CARD_FIELDS}
        content = json.dumps(
            [proposal.lab, values, proposal.author_name, proposal.author_email], ensure_ascii=False
        )
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]
        proposal_id, created = store.add_lab_proposal(
            submission_key=f"{key or new_submission_key()}:{digest}",
            lab=proposal.lab,
            values=values,
            base=base,
            author_name=proposal.author_name,
            author_email=proposal.author_email,
            now=now,
        )
        return store.lab_proposal(proposal_id), created


def approve_proposal(
    store: Store,
    config: Config,
    proposal_id: int,
    *,
    editor: str,
    now: datetime,
    locale: str = DEFAULT_LOCALE,
) -> tuple[LabProposal, LabCard]:
    """Apply what the lab changed (the fields that differ from the card it saw), then mark it approved.

    The values are checked again against today's sources.yaml (a term or a feed may
    have gone since); both or neither happen.
    """
    with store.write():
        proposal = store.lab_proposal(proposal_id)
        if proposal.status != "pending":
            raise AlreadyDecided(proposal_id, proposal.status, "lab card proposal")
        require_lab(config, proposal.lab)
        changed = {name: proposal.values[name] for name in proposal.changed_fields()}
        values = validate_card(_as_form(changed), config, locale=locale, partial=True)
        lab_card, _change = store.change_lab_card(
            proposal.lab, values, by=editor, origin="proposal", now=now, proposal_id=proposal_id
        )
        decided = store.decide_lab_proposal(proposal_id, "approved", by=editor, now=now)
    return decided, lab_card


def reject_proposal(
    store: Store, proposal_id: int, *, reason: str, editor: str, now: datetime, locale: str = DEFAULT_LOCALE
) -> LabProposal:
    """Reject a proposal with a reason (kept with it); the card does not change."""
    text = clean_text(reason).strip()
    if not text:
        raise InvalidLabCard({"reason": _("Say why the proposal is rejected.", locale)})
    if _length(text) > MAX_LENGTHS["reason"]:
        raise InvalidLabCard(
            {
                "reason": _(
                    "At most %(max)s characters (you typed %(count)s).",
                    locale,
                    max=format_decimal(MAX_LENGTHS["reason"], locale=locale),
                    count=format_decimal(_length(text), locale=locale),
                )
            }
        )
    return store.decide_lab_proposal(proposal_id, "rejected", by=editor, now=now, reason=text)


def _as_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values as the text :func:`validate_card` reads."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("has_place", "contact_public"):
            out[name] = {True: "yes", False: "no", None: ""}[value]
        elif value is None:
            out[name] = ""
        else:
            out[name] = value
    return out


# --- showing cards --------------------------------------------------------------------------


def term_labels(term_ids: Iterable[str], config: Config) -> list[str]:
    labels = {t.id: t.label for t in config.innovation_types}
    return [labels.get(t, t) for t in term_ids]


def display_value(name: str, value: Any, config: Config, locale: str = DEFAULT_LOCALE) -> str:
    """A field's value as people read it (« oui », « Numérique, Pédagogique », « actif »…)."""
    if name in ("has_place", "contact_public"):
        return {True: _("yes", locale), False: _("no", locale), None: ""}[value]
    if name == "innovation_types":
        return ", ".join(term_labels(value or (), config))
    if name == "stage":
        return _(STAGE_LABELS[value], locale) if value in STAGE_LABELS else ""
    if name == "feed":
        source = config.source(value) if value else None
        return (source.title or source.id) if source is not None else (value or "")
    return "" if value is None else str(value)


def proposal_diff(
    store: Store, config: Config, proposal: LabProposal, *, locale: str = DEFAULT_LOCALE
) -> list[FieldDiff]:
    """What approving the proposal would change, field by field, against the card as it is now."""
    current = store.lab_card(proposal.lab).values()
    return [
        FieldDiff(
            field=name,
            label=_(FIELD_LABELS[name], locale),
            old=display_value(name, current.get(name), config, locale),
            new=display_value(name, proposal.values.get(name), config, locale),
            moved=current.get(name) != proposal.base.get(name),
        )
        for name in proposal.changed_fields()
    ]


def lab_feed(config: Config, lab: Lab, lab_card: LabCard) -> Source | None:
    """The lab's feed: the one its card names, else the first source of sources.yaml with ``lab:`` set to it."""
    if lab_card.feed:
        return config.source(lab_card.feed)
    return next((s for s in config.sources if s.lab == lab.id), None)


def lab_row(lab: Lab, lab_card: LabCard) -> dict[str, Any]:
    """A lab and its card as ``curator labs --json`` prints it (the keys are documented in the README)."""
    return {
        "id": lab.id,
        "name": lab.name,
        "academie": lab.academie,
        "city": lab.city,
        "website": lab.website,
        "has_place": lab_card.has_place,
        "place": lab_card.place,
        "innovation_types": list(lab_card.innovation_types),
        "service_offer": lab_card.service_offer,
        "stage": lab_card.stage,
        "team": lab_card.team,
        "contact_email": lab_card.contact_email,
        "contact_public": lab_card.contact_public,
        "feed": lab_card.feed,
        "version": lab_card.version,
        "updated_at": lab_card.updated_at.isoformat() if lab_card.updated_at else None,
    }


def directory(store: Store, config: Config) -> list[tuple[Lab, LabCard]]:
    """Every lab of sources.yaml with its card, in the order of the file."""
    cards = store.lab_cards()
    return [(lab, cards.get(lab.id) or LabCard(lab=lab.id)) for lab in config.labs]


# --- labs like yours ----------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W\d_]{5,}")
#: Words too common in a service offer to bring two labs together.
_STOPWORDS = frozenset(
    fold(w)
    for w in [
        "accompagnement",
        "accompagner",
        "aussi",
        "autour",
        "avant",
        "avoir",
        "cette",
        "comme",
        "dans",
        "depuis",
        "elles",
        "entre",
        "faire",
        "leurs",
        "leur",
        "mais",
        "nous",
        "notre",
        "nos",
        "offre",
        "offrons",
        "pour",
        "proposons",
        "propose",
        "sont",
        "tous",
        "toutes",
        "travers",
        "votre",
        "vous",
        "projet",
        "projets",
        "service",
        "services",
        "académie",
        "academie",
        "labs",
        "ainsi",
        "chaque",
        "autres",
        "autre",
        "plus",
        "moins",
        "selon",
        "sans",
        "sous",
        "très",
        "where",
        "which",
        "their",
        "about",
        "with",
        "from",
        "that",
    ]
)


def offer_words(text: str) -> frozenset[str]:
    """The folded words of a service offer that tell what it is about (five letters or more)."""
    plain = re.sub(r"\]\([^)]*\)|https?://\S+", " ", text)
    return frozenset(w for w in _WORD_RE.findall(fold(plain)) if w not in _STOPWORDS)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def similarity(a: LabCard, b: LabCard) -> float:
    """How close two cards are, from 0 to 1.5: shared innovation types, then shared words of the offer.

    Symmetric by construction (Jaccard indices of sets).
    """
    types = _jaccard(frozenset(a.innovation_types), frozenset(b.innovation_types))
    words = _jaccard(offer_words(a.service_offer), offer_words(b.service_offer))
    return types + 0.5 * words


def similar_labs(
    config: Config, cards: Mapping[str, LabCard], lab_id: str, *, limit: int = 3
) -> list[Similar]:
    """The ``limit`` labs closest to ``lab_id`` (never itself, never one with nothing in common)."""
    mine = cards.get(lab_id) or LabCard(lab=lab_id)
    order = {t.id: i for i, t in enumerate(config.innovation_types)}
    my_words = offer_words(mine.service_offer)
    found: list[Similar] = []
    for lab in config.labs:
        if lab.id == lab_id:
            continue
        other = cards.get(lab.id) or LabCard(lab=lab.id)
        score = similarity(mine, other)
        if score <= 0:
            continue
        types = tuple(
            sorted(set(mine.innovation_types) & set(other.innovation_types), key=lambda t: order.get(t, 99))
        )
        words = tuple(sorted(my_words & offer_words(other.service_offer)))
        found.append(Similar(lab, score, types, words))
    found.sort(key=lambda s: (-s.score, fold(s.lab.name), s.lab.id))
    return found[:limit]


def similarity_reason(similar: Similar, config: Config, locale: str = DEFAULT_LOCALE) -> str:
    """Why a lab is close, in a sentence (« 2 types d’innovation en commun : … »)."""
    parts = []
    if similar.types:
        parts.append(
            _(
                "Types of innovation in common: %(types)s",
                locale,
                types=", ".join(term_labels(similar.types, config)),
            )
        )
    if similar.words:
        parts.append(_("Close service offer: %(words)s", locale, words=", ".join(similar.words[:4])))
    return " · ".join(parts)


# --- exports ----------------------------------------------------------------------------------

EXPORT_FORMATS = ("yaml", "json", "csv", "geojson")


def lab_point(lab: Lab) -> tuple[float, float, str] | None:
    """Where to put the lab on a map: (lon, lat, where from), or None when nothing says.

    The lab's own ``lat``/``lon`` in sources.yaml first, else the chief town of its
    académie (from its ``academie``, else its ``city``), from the bundled table.
    """
    from .labmap import find_academie

    if lab.lat is not None and lab.lon is not None:
        return lab.lon, lab.lat, "lab"
    for name in (lab.academie, lab.city):
        academie = find_academie(name) if name else None
        if academie is not None:
            return academie.lon, academie.lat, "academie"
    return None


def _public_row(lab: Lab, lab_card: LabCard) -> dict[str, Any]:
    """A lab's row for an export, which may be published: the address only where the lab agrees."""
    row = lab_row(lab, lab_card)
    if not lab_card.contact_public:
        row["contact_email"] = ""
    del row["contact_public"], row["version"]
    return row


def export_labs(entries: Sequence[tuple[Lab, LabCard]], fmt: str) -> str:
    """The directory as ``yaml``, ``json``, ``csv`` or ``geojson`` (one point per lab)."""
    rows = [_public_row(lab, c) for lab, c in entries]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        return str(yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=100))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **row,
                    "innovation_types": ";".join(row["innovation_types"]),
                    "has_place": {True: "yes", False: "no", None: ""}[row["has_place"]],
                }
            )
        return out.getvalue()
    if fmt == "geojson":
        features = []
        for (lab, _c), row in zip(entries, rows, strict=True):
            point = lab_point(lab)
            geometry = None
            if point is not None:
                geometry = {"type": "Point", "coordinates": [round(point[0], 5), round(point[1], 5)]}
                row = {**row, "located_at": point[2]}
            features.append({"type": "Feature", "id": lab.id, "geometry": geometry, "properties": row})
        return (
            json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=2)
            + "\n"
        )
    raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
