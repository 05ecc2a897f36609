"""One published issue as the archive needs it: a JSON-able digest, rendered once and cached.

The digest holds every piece of the archive that comes from one issue, already
rendered: its content (for its page and, with absolute links, for the Atom
feed), a card per entry for the lab and theme pages, an Atom entry per lab
entry, its search records, its agenda as iCalendar and the index's one-line
summary. The build keeps it in the archive (``.curator/issues/2022-01.json``),
so that the pages made of many issues (feeds, labs, themes, search) are mostly
joined from cached pieces, and publishing one more issue renders one issue.

A lab's portrait is on the issue's page and in the search, with the lab's card
as it is now (the issue is rendered again when the card changes); it is not one
of the lab's publications (its page, its feed), nor on the theme pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from .. import i18n, views
from ..config import Config
from ..errors import RenderError
from ..models import Event, Month, Theme
from ..render import make_env, portrait_lines, render_email
from ..reports import LICENSES
from ..store import Store
from ..text import clean_text, fold, heading_levels, html_to_text, make_excerpt, shift_headings
from ..typography import clean_links, clean_url, typography, typography_html
from ..views import IssueView

Digest = dict[str, Any]
Link = dict[str, str] | None  # the month and title of the previous or next issue

#: Placeholders in cached HTML: the way to the archive's root ("../" in a page, its URL in a feed)
#: and the name of a folder's page ("index.html" in a page, "" in a feed). Private-use characters:
#: data that contains them only gets a path in its text.
ROOT = "\ue000"
INDEX = "\ue001"
_SEP = "\ue002"  # between the pieces of one issue rendered at once
SUMMARY_LENGTH = 200
SEARCH_TEXT_LENGTH = 400

_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«\"“])")


def headings_from(html: str, top: int) -> str:
    """(Sanitised) HTML with its headings moved so that its highest one is ``<h{top}>``."""
    levels = heading_levels(html)
    return shift_headings(html, top - min(levels)) if levels else html


class ThemeMatcher:
    """The themes of an entry: its source's or report's tags, and the themes whose keywords it mentions."""

    def __init__(self, themes: Sequence[Theme]) -> None:
        self._patterns = [
            (t.id, re.compile(r"\b(?:" + "|".join(re.escape(fold(k)) for k in t.keywords) + r")"))
            for t in themes
            if t.keywords
        ]
        self._known = {t.id for t in themes}

    def __call__(self, tags: Iterable[str], text: str) -> list[str]:
        found = {t for t in tags if t in self._known}
        folded = fold(text)
        found.update(theme for theme, pattern in self._patterns if pattern.search(folded))
        return sorted(found)


@dataclass
class Context:
    """What rendering an issue needs besides the issue: the configuration, templates and addresses."""

    config: Config
    env: jinja2.Environment
    base_url: str  # absolute, ends with "/"
    themes: ThemeMatcher
    _days: dict[date, str] = field(default_factory=dict)

    @classmethod
    def make(cls, config: Config, templates: Path | None, base_url: str) -> Context:
        newsletter = config.newsletter
        env = make_env(
            [templates] if templates else [], locale=newsletter.locale, timezone=newsletter.timezone
        )
        return cls(config, env, base_url, ThemeMatcher(config.themes))

    @property
    def locale(self) -> str:
        return self.config.newsletter.locale or "fr"

    @property
    def tz(self) -> str:
        return self.config.newsletter.timezone

    def day(self, value: datetime) -> str:
        """« 5 janvier 2022 » (Babel is slow: the same day is formatted once)."""
        local = value.astimezone(ZoneInfo(self.tz)).date()
        if local not in self._days:
            self._days[local] = i18n.format_day(local, self.locale, self.tz)
        return self._days[local]


def one_line_summary(edito_text: str, titles: Sequence[str], locale: str) -> str:
    """The index's line about an issue: the édito's first sentence, else its first titles."""
    text = " ".join(edito_text.split())
    if text:
        return make_excerpt(_SENTENCE_END_RE.split(text, maxsplit=1)[0], SUMMARY_LENGTH)
    if not titles:
        return ""
    return make_excerpt(i18n.gettext("In this issue:", locale) + " " + ", ".join(titles[:4]), SUMMARY_LENGTH)


def _event(e: Event, ctx: Context) -> dict[str, Any]:
    end = end_label = ""
    if e.ends_at is not None:
        end = e.ends_at.isoformat()
        same_day = ctx.day(e.ends_at) == ctx.day(e.starts_at)
        end_label = (
            i18n.format_clock(e.ends_at, ctx.locale, ctx.tz)
            if same_day
            else i18n.format_datetime(e.ends_at, ctx.locale, ctx.tz)
        )
    return {
        "id": e.id,
        "title": e.title,
        "start": e.starts_at.isoformat(),
        "start_label": i18n.format_datetime(e.starts_at, ctx.locale, ctx.tz),
        "end": end,
        "end_label": end_label,
        "place": e.place,
        "description": e.description,
        "video_url": clean_url(e.video_url),
        "link": clean_url(e.link),
    }


def _text(html: str) -> str:
    """The words of our own sanitised HTML, for the search index (shown as text, never parsed)."""
    return " ".join(html_to_text(html).split("\n")) if html else ""


def _html(value: str, top: int) -> str:
    return headings_from(str(clean_links(Markup(value))), top) if value else ""


def _split(text: str, count: int) -> list[str]:
    parts = text.split(_SEP)[:-1] if count else []
    assert len(parts) == count, "a template dropped the separator between pieces"
    return [p.strip("\n") for p in parts]


def render_issue(store: Store, ctx: Context, view: IssueView, key: str) -> tuple[Digest, dict[str, str]]:
    """Render one published issue: its digest (what every build reads) and its cached pieces.

    The pieces are read only by the pages that need them: ``html`` (its content, with
    ROOT and INDEX placeholders), ``atom.xml`` (its entry in the feed of the issues),
    ``search.json`` (its search records), per lab ``lab-reports:ID`` and ``lab-news:ID``
    (the cards of its entries, for the lab's page) and ``lab-atom:ID`` (their entries in
    the lab's feed), per theme ``theme:ID`` (the cards of its entries), and ``ics``.
    """
    config = ctx.config
    issue = view.issue
    month = str(issue.month)
    assert issue.published_at is not None, f"{month} is not published"
    report_ids = [p.pick.ref_id for p in view.picks if p.kind == "report"]
    reports = {r.id: r for r in store.reports(ids=report_ids)} if report_ids else {}
    source_tags = {s.id: s.tags for s in config.sources}
    locale = ctx.locale

    def typo(text: str) -> str:
        return typography(text, locale) if text else ""

    published = issue.published_at.astimezone(UTC)
    updated = max(issue.updated_at, published).astimezone(UTC)

    sections: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for s in view.sections:
        section = s.section
        if (section.kind == "edito" and not view.edito_html) or (
            section.kind == "agenda" and not view.events
        ):
            continue
        if section.kind in ("items", "labs") and not s.picks:
            continue
        picks = []
        for p in s.picks:
            report = reports.get(p.pick.ref_id) if p.kind == "report" else None
            tags = (
                report.tags if report else tuple(t for sid in p.source_ids for t in source_tags.get(sid, ()))
            )
            portrait = None
            if p.portrait is not None:
                lines = portrait_lines(p.portrait, locale)
                offer_html = _html(p.portrait.offer_html, 4)
                portrait = {
                    "meta": lines.meta,
                    "place": lines.place,
                    "types": lines.types,
                    "offer_t": typography_html(offer_html, locale) if offer_html else "",
                }
            license = LICENSES.get(report.license) if report else None
            note_html = _html(p.note_html, 4)
            body_html = _html(p.body_html, 4)
            url = clean_url(p.url)
            entry = {
                "anchor": p.ref,  # the email links to the archive's page with #ref
                "uid": f"{month}-{p.ref}",
                "kind": p.kind,
                "title": p.title,
                "title_t": typo(p.title),
                "url": "" if url.startswith("mailto:") or portrait else url,
                "summary": p.summary,
                "summary_t": typo(p.summary),
                "note_html": note_html,
                "note_t": typography_html(note_html, locale) if note_html else "",
                "body_html": body_html,
                "body_t": typography_html(body_html, locale) if body_html else "",
                "date": p.published.astimezone(UTC).date().isoformat(),
                "day": ctx.day(p.published),
                "sources_t": typo(", ".join(x for x in p.sources if x != p.lab_name)),  # the lab is shown
                "lab": p.lab.id if p.lab else "",
                "lab_name": p.lab_name,
                "lab_name_t": typo(p.lab_name),
                "author": p.author if p.kind == "report" else "",
                "author_t": typo(p.author) if p.kind == "report" else "",
                "license": list(license) if license else None,
                "themes": [] if portrait else ctx.themes(tags, f"{p.title} {p.summary}"),
                "section_title": section.title,
                "month": month,
                "portrait": portrait,
            }
            picks.append(entry)
            entries.append(entry)
        sections.append(
            {
                "id": section.id,
                "title": section.title,
                "kind": section.kind,
                "description": section.description,
                "picks": picks,
            }
        )

    edito_text = html_to_text(view.edito_html) if view.edito_html else ""
    env = ctx.env
    page_html = env.get_template("archive/_issue_content.html").render(
        sections=sections,
        events=[_event(e, ctx) for e in view.events],
        edito_html=Markup(_html(view.edito_html, 3)),  # sanitised by markup.markdown_to_html
        month=month,
        root=ROOT,
        index=INDEX,
    )
    cards_html = env.get_template("archive/_cards.html").render(
        entries=entries, root=ROOT, sep=_SEP, issue_title=typo(issue.title)
    )
    cards = _split(cards_html, len(entries))
    atom = [_atom_entry(e, ctx, published, updated, issue.title) for e in entries if _lab_entry(e)]
    atom_xml = iter(
        _split(env.get_template("archive/_entries.xml").render(entries=atom, sep=_SEP), len(atom))
    )
    for e, card in zip(entries, cards, strict=True):
        e["card"] = card
        e["atom"] = next(atom_xml) if _lab_entry(e) else ""

    page = f"{month}/index.html"
    # The search shows these as they are (textContent): with French typography already.
    search = [
        [
            typo(issue.title),
            typo(make_excerpt(edito_text, SEARCH_TEXT_LENGTH)) if edito_text else "",
            page,
            i18n.format_month(issue.month, ctx.locale),
            "",
        ]
    ]
    for e in entries:
        text = " ".join(x for x in (e["summary"], _text(e["note_html"]), _text(e["body_html"])) if x)
        search.append(
            [
                e["title_t"],
                typo(make_excerpt(text, SEARCH_TEXT_LENGTH)) if text else "",
                f"{page}#{e['anchor']}",
                typo(issue.title),
                typo(e["section_title"]),
            ]
        )
    summary = one_line_summary(edito_text, [e["title"] for e in entries], ctx.locale)
    labs: dict[str, list[int]] = {}  # lab id -> [reports, news]
    themes: dict[str, list[str]] = {}  # theme id -> cards
    for e in entries:
        if _lab_entry(e):
            labs.setdefault(e["lab"], [0, 0])[0 if e["kind"] == "report" else 1] += 1
        for theme in e["themes"]:
            themes.setdefault(theme, []).append(e["card"])
    issue_entry = {
        "id": f"{ctx.base_url}{month}/",
        "title": clean_text(typography(issue.title, ctx.locale)),
        "url": f"{ctx.base_url}{month}/",
        "published": atom_time(published),
        "updated": atom_time(updated),
        "author": "",
        "summary": clean_text(summary),
        "content": clean_text(page_html.replace(ROOT, ctx.base_url).replace(INDEX, "")),
    }
    meta = {
        "key": key,
        "month": month,
        "title": issue.title,
        "published_at": published.isoformat(),
        "updated_at": updated.isoformat(),
        "published_day": ctx.day(issue.published_at),
        "summary": summary,
        "count": len(entries),
        "ics": bool(view.events),
        "labs": {lab: [reports, news] for lab, (reports, news) in sorted(labs.items())},
        "themes": {theme: len(cards) for theme, cards in sorted(themes.items())},
        "portraits": sorted({e["lab"] for e in entries if e["kind"] == "lab"}),  # the labs it portrays
    }
    pieces = {
        "html": page_html,
        "atom.xml": env.get_template("archive/_entries.xml").render(entries=[issue_entry], sep=""),
        "search.json": json.dumps(search, ensure_ascii=False, separators=(",", ":")),
    }
    for lab in labs:
        mine = [e for e in entries if e["lab"] == lab and _lab_entry(e)]
        pieces[f"lab-reports:{lab}"] = "\n".join(e["card"] for e in mine if e["kind"] == "report")
        pieces[f"lab-news:{lab}"] = "\n".join(e["card"] for e in mine if e["kind"] != "report")
        pieces[f"lab-atom:{lab}"] = "\n".join(e["atom"] for e in mine)
    for theme, theme_cards in themes.items():
        pieces[f"theme:{theme}"] = "\n".join(theme_cards)
    if view.events:
        pieces["ics"] = views.events_ics(config, issue.month, view.events).decode("utf-8")
    return meta, pieces


def _lab_entry(e: dict[str, Any]) -> bool:
    """Whether an entry is one of its lab's publications (a report or news; not a portrait)."""
    return bool(e["lab"]) and e["kind"] != "lab"


def _atom_entry(
    e: dict[str, Any], ctx: Context, published: datetime, updated: datetime, issue_title: str
) -> dict[str, Any]:
    """A lab's report or news as an entry of the lab's Atom feed."""
    issue_url = f"{ctx.base_url}{e['month']}/#{e['anchor']}"
    parts = [f"<p>{escape(e['summary'])}</p>" if e["summary"] else "", e["note_html"], e["body_html"]]
    if e["license"]:
        parts.append(f'<p><a href="{escape(e["license"][1])}">{escape(e["license"][0])}</a></p>')
    parts.append(f'<p><a href="{escape(issue_url)}">{escape(issue_title)}</a></p>')
    return {
        "id": issue_url,
        "title": clean_text(typography(e["title"], ctx.locale)),
        "url": e["url"] if e["kind"] == "item" and e["url"] else issue_url,
        "published": atom_time(published),
        "updated": atom_time(updated),
        "author": clean_text(e["author"]),
        "summary": "",
        "content": clean_text("".join(parts)),
    }


def issue_and_email(store: Store, ctx: Context, month: Month, key: str) -> tuple[Digest, dict[str, str]]:
    """The digest and pieces of a published issue, its email version (the HTML readers got) among them."""
    view = views.issue_view(store, ctx.config, month)
    assert view.issue.published_at is not None
    email = render_email(view, ctx.config, now=view.issue.published_at).html
    meta, pieces = render_issue(store, ctx, view, key)
    pieces["email.html"] = email
    return meta, pieces


def render_page(ctx: Context, template: str, **context: Any) -> str:
    """A page of the archive: ``template`` with what every page needs (overridden by ``context``)."""
    values: dict[str, Any] = {
        "lang": ctx.locale.split("_")[0],
        "newsletter": ctx.config.newsletter,
        "root": "",
        "current": "",
        "description": "",
        "canonical": "",
    }
    values.update(context)
    try:
        # Text is cleaned where it enters curator; a store made by an older version may
        # still hold a control character, which no page (nor the XML of a feed) may carry.
        return clean_text(ctx.env.get_template(template).render(values))
    except jinja2.TemplateError as exc:
        raise RenderError(f"{template}: {exc}") from exc


def issue_page(ctx: Context, d: Digest, content: str, older: Link, newer: Link) -> str:
    """The page of an issue: its content, OpenGraph and schema.org metadata, links to its neighbours."""
    newsletter = ctx.config.newsletter
    canonical = f"{ctx.base_url}{d['month']}/"
    json_ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": d["title"],
        "description": d["summary"],
        "datePublished": d["published_at"],
        "dateModified": d["updated_at"],
        "inLanguage": ctx.locale,
        "url": canonical,
        "mainEntityOfPage": canonical,
        "isPartOf": {"@type": "Periodical", "name": newsletter.title, "url": ctx.base_url},
        "publisher": {"@type": "Organization", "name": newsletter.publisher},
        "author": {"@type": "Organization", "name": newsletter.publisher},
    }
    return render_page(
        ctx,
        "archive/issue.html",
        d=d,
        root="../",
        current="issues",
        description=d["summary"],
        canonical=canonical,
        og_locale={"fr": "fr_FR"}.get(ctx.locale, ctx.locale),
        json_ld=json_for_script(json_ld),
        content=Markup(
            content.replace(ROOT, "../").replace(INDEX, "index.html")
        ),  # our template, sanitised parts
        email=True,
        older=older,
        newer=newer,
    )


def dumps(data: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def json_for_script(data: Any) -> Markup:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # every character that could end the element or the string is escaped


def atom_time(value: datetime | str) -> str:
    """A time as Atom writes it, in UTC (``2022-01-05T09:30:00Z``)."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
