"""One Jinja environment for everything people read, the email renderer and its checks.

Autoescape is on for ``.html``, ``.xml`` and ``.mjml`` templates (and their
``.j2`` variants); undefined variables are errors; the clock is passed in, so
the same data renders to the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from . import i18n
from .errors import RenderError, UsageError
from .models import Event, Month
from .text import clean_text
from .typography import (
    NBSP,
    clean_links,
    clean_url,
    html_to_text_with_links,
    typography,
    typography_html,
    wrap_text,
)

if TYPE_CHECKING:
    from .checklist import EmailFacts
    from .config import Config
    from .views import IssueView, PickView, Portrait

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"

# --- the environment ---------------------------------------------------------------


@dataclass(frozen=True)
class PortraitLines:
    """The short lines of a lab's portrait, as readers read them (French typography applied;
    "" for what the lab has not said)."""

    meta: str  # « Normandie · Rouen · Stade : actif »
    place: str  # « Lieu dédié : un espace modulable au rectorat. »
    types: str  # « Types d’innovation : Pédagogique, Numérique »


def portrait_lines(portrait: Portrait, locale: str) -> PortraitLines:
    """What the email and the archive write under a lab's name in its portrait."""
    lab, card = portrait.lab, portrait.card
    parts = list(dict.fromkeys(x.strip() for x in (lab.academie, lab.city) if x.strip()))  # « Rennes » once
    if portrait.stage:
        parts.append(i18n.gettext("Stage: %(stage)s", locale, stage=portrait.stage))
    place = ""
    if card.has_place is not None or card.place.strip():
        said = card.place.strip() if card.has_place is not False and card.place.strip() else ""
        value = said or (i18n.gettext("yes", locale) if card.has_place else i18n.gettext("no", locale))
        place = i18n.gettext("Dedicated place: %(place)s", locale, place=value)
    types = ""
    if portrait.innovation_types:
        types = i18n.gettext(
            "Types of innovation: %(types)s", locale, types=", ".join(portrait.innovation_types)
        )
    return PortraitLines(
        typography(" · ".join(parts), locale), typography(place, locale), typography(types, locale)
    )


def _autoescape(name: str | None) -> bool:
    if name is None:
        return True
    base = name[:-3] if name.endswith(".j2") else name
    return base.endswith((".html", ".htm", ".xml", ".mjml", ".svg"))


def make_env(
    template_dirs: Sequence[Path] = (), *, locale: str = "fr", timezone: str = "Europe/Paris"
) -> jinja2.Environment:
    """The Jinja environment: the team's own templates first, then the packaged ones."""
    return _make_env(tuple(Path(d) for d in template_dirs), locale, timezone)


@lru_cache(maxsize=1)
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (Jinja's per-user folder in the temporary
    directory), so that a command does not compile its templates every time."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=8)
def _make_env(template_dirs: tuple[Path, ...], locale: str, timezone: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*template_dirs, PACKAGE_TEMPLATES]),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    i18n.install_gettext(env, locale)

    def typo(value: Any) -> Any:
        if isinstance(value, Markup) or hasattr(value, "__html__"):
            return typography_html(str(value.__html__()), locale)
        return typography(str(value), locale)

    def month_name(value: Month | str) -> str:
        return i18n.format_month(value if isinstance(value, Month) else Month.parse(value), locale)

    @lru_cache(maxsize=1024)
    def day(value: date | datetime) -> str:
        return i18n.format_day(value, locale, timezone)

    def when(value: datetime) -> str:
        return i18n.format_datetime(value, locale, timezone)

    def html_text(value: Any) -> Markup:
        """Already-sanitised HTML (feeds, Markdown) with French typography."""
        return typography_html(str(value), locale)

    def hour(value: datetime) -> str:
        """« 15 h 30 », in the newsletter's time zone."""
        return i18n.format_clock(value, locale, timezone)

    def pick_meta(pick: PickView) -> str:
        """« La 27e Région · Lab'Innov Normandie · 5 janvier 2022 »; for a report
        « Retour d'expérience · Lab'Innov Normandie · par Claire Lemoine · 5 janvier 2022 »."""
        if pick.kind == "report":
            parts = [i18n.gettext("Experience report", locale)]
            if pick.lab_name:
                parts.append(pick.lab_name)
            if pick.author:
                parts.append(i18n.gettext("by %(author)s", locale, author=pick.author))
        else:
            parts = list(pick.sources)
            if pick.lab_name and pick.lab_name not in pick.sources:
                parts.append(pick.lab_name)
        parts.append(day(pick.published).replace(" ", NBSP))  # a date is not cut at the end of a line
        return typography(" · ".join(parts), locale)

    def event_when(event: Event) -> str:
        """« jeudi 27 janvier 2022 à 14:00 – 15:30 » (the end's date too when it is another day)."""
        text = when(event.starts_at)
        if event.ends_at is not None:
            same_day = day(event.ends_at) == day(event.starts_at)
            text += " – " + (hour(event.ends_at) if same_day else when(event.ends_at))
        return typography(text, locale)

    env.filters.update(
        pick_meta=pick_meta,
        portrait_lines=lambda portrait: portrait_lines(portrait, locale),
        event_when=event_when,
        typo=typo,
        month_name=month_name,
        day=day,
        when=when,
        hour=hour,
        html_text=html_text,
        isodate=lambda v: v.isoformat(),
        clean_url=clean_url,
        clean_links=clean_links,
        text_links=html_to_text_with_links,
        wrap=wrap_text,
    )
    env.globals.update(
        locale=locale, escape=escape, elide=lambda word, following: i18n.elide(word, following, locale)
    )
    env.filters["number"] = lambda value, sign=False, digits=1: i18n.format_number(
        value, locale, sign=sign, digits=digits
    )
    return env


# --- the email ----------------------------------------------------------------------

EMAIL_MJML = "email/issue.mjml.j2"
EMAIL_TEXT = "email/issue.txt.j2"
#: Gmail clips a message whose HTML is larger than about 102 KB.
GMAIL_CLIP_BYTES = 102_000


@dataclass(frozen=True)
class EmailBlock:
    """One part of the email in reading order: the édito, a section of picks, lab portraits, or the agenda."""

    kind: str  # edito, items, labs (portraits) or agenda
    id: str
    title: str
    description: str = ""
    picks: tuple[PickView, ...] = ()
    events: tuple[Event, ...] = ()
    html: str = ""  # the édito, sanitised HTML


@dataclass(frozen=True)
class RenderedEmail:
    """An issue rendered for email: the HTML part, the text part and what produced them."""

    month: Month
    subject: str
    preheader: str
    html: str
    text: str
    mjml: str
    online_url: str
    warnings: tuple[str, ...] = ()

    @property
    def html_size(self) -> int:
        return len(self.html.encode("utf-8"))


def email_blocks(view: IssueView) -> list[EmailBlock]:
    """The édito, the sections that have picks and the agenda, in the order of sources.yaml.

    Without a section of kind ``edito`` (or ``agenda``) the édito comes first (and the agenda last).
    """
    blocks: list[EmailBlock] = []
    kinds = {s.section.kind for s in view.sections}
    if "edito" not in kinds and view.edito_html:
        blocks.append(EmailBlock("edito", "edito", "", html=view.edito_html))
    for s in view.sections:
        section = s.section
        if section.kind == "edito":
            if view.edito_html:
                blocks.append(
                    EmailBlock("edito", section.id, section.title, section.description, html=view.edito_html)
                )
        elif section.kind == "agenda":
            if view.events:
                blocks.append(
                    EmailBlock("agenda", section.id, section.title, section.description, events=view.events)
                )
        elif s.picks:
            kind = "labs" if section.kind == "labs" else "items"
            blocks.append(EmailBlock(kind, section.id, section.title, section.description, picks=s.picks))
    if "agenda" not in kinds and view.events:
        blocks.append(EmailBlock("agenda", "agenda", "", events=view.events))
    return blocks


def _preheader(view: IssueView, locale: str, limit: int = 140) -> str:
    """The line mail clients show after the subject: the édito's start, else the first titles."""
    from .text import html_to_text

    text = " ".join(html_to_text(view.edito_html).split()) if view.edito_html else ""
    if not text:
        titles = [p.title for p in view.picks[:4]]
        if not titles:
            return ""
        text = i18n.gettext("In this issue:", locale) + " " + ", ".join(titles)
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"
    return typography(text, locale)


def issue_urls(config: Config, month: Month) -> dict[str, str]:
    """Where the archive publishes the issue (its page and its agenda) and where readers act."""
    site = config.newsletter.site_url
    site = site if site.endswith("/") else site + "/"
    return {
        "online_url": clean_url(f"{site}{month}/"),
        "ics_url": clean_url(f"{site}{month}/agenda.ics"),
        "form_url": clean_url(config.newsletter.form_url),
        "unsubscribe_url": clean_url(config.newsletter.unsubscribe),
    }


def custom_title(title: str, config: Config, month: Month) -> str:
    """The issue's own title, or "" when it is the default one (« Infolettre — janvier 2022 »,
    which the email's header already says with the newsletter's title and the month)."""
    from .editorial import default_title

    title = " ".join(title.split())
    return "" if title == " ".join(default_title(config, month).split()) else title


def email_templates_dir(config: Config, templates: Path | None = None) -> Path | None:
    """The team's template folder: ``templates`` if given, else ``email: {templates: DIR}``."""
    if templates is None:
        templates = config.email.templates
        where = f"{config.path}, email, field 'templates'"
    else:
        where = "--templates"
    if templates is None:
        return None
    templates = Path(templates)
    if not templates.is_dir():
        raise UsageError(f"{where}: {templates} is not a folder")
    if not (templates / "email").is_dir() and (templates / "issue.mjml.j2").exists():
        raise UsageError(
            f"{where}: put your templates in {templates / 'email'}/ (as in the package: "
            f"email/issue.mjml.j2 and email/issue.txt.j2), not directly in {templates}/"
        )
    return templates


def render_email(
    view: IssueView, config: Config, *, templates: Path | None = None, now: datetime
) -> RenderedEmail:
    """Render an issue as an email: Jinja → MJML → HTML (mjml-python), and the text part.

    ``templates`` is a folder laid out like the package's ``templates/`` (only
    ``email/issue.mjml.j2`` or ``email/issue.txt.j2`` need be there); without it the
    ``email: {templates: …}`` setting, then the packaged templates, are used. The MJML
    is checked before it is converted (mjml-python accepts almost anything); the HTML
    is checked against the email rules, and what breaks them is in ``warnings``.
    """
    newsletter = config.newsletter
    locale = newsletter.locale
    settings = config.email
    folder = email_templates_dir(config, templates)
    env = make_env([folder] if folder else [], locale=locale, timezone=newsletter.timezone)
    month = view.issue.month
    urls = issue_urls(config, month)
    subject = typography(view.issue.title, locale)
    preheader = _preheader(view, locale)
    context: dict[str, Any] = {
        "view": view,
        "issue": view.issue,
        "month": month,
        "newsletter": newsletter,
        "blocks": email_blocks(view),
        "subject": subject,
        "custom_title": custom_title(view.issue.title, config, month),
        "preheader": preheader,
        "logo": settings.logo,
        "now": now,
        **urls,
        "ics_url": urls["ics_url"] if view.events else "",
    }
    # Content is cleaned where it enters curator; this is the last line of defence for
    # what a store made by an older version may hold: a control character anywhere in
    # the MJML makes mjml-python fail, and one bad title must never stop an issue.
    mjml_source = clean_text(_render_template(env, EMAIL_MJML, context))
    mjml_name = _template_path(env, EMAIL_MJML)
    problems = check_mjml(mjml_source)
    if problems:
        raise RenderError(
            f"{mjml_name} produced invalid MJML: "
            + "; ".join(problems[:5])
            + " (fix the template, or remove it to use the default one)"
        )
    try:
        import mjml

        html = mjml.mjml2html(mjml_source, fonts={}, disable_comments=True)
    except ValueError as exc:
        raise RenderError(
            f"{mjml_name}: MJML error: {exc} (if you changed the template, fix it or remove it to use "
            "the default one; otherwise report this error with the issue's month)"
        ) from None
    html = _ensure_lang(html, locale).rstrip("\n") + "\n"
    text = clean_text(_render_template(env, EMAIL_TEXT, context))
    warnings = check_email(html, text)
    if not urls["unsubscribe_url"]:
        warnings.append(
            f"no way to unsubscribe: set newsletter.unsubscribe (an https URL or a mailto: address) in {config.path}"
        )
    return RenderedEmail(
        month, subject, preheader, html, text, mjml_source, urls["online_url"], tuple(warnings)
    )


def _template_path(env: jinja2.Environment, name: str) -> str:
    try:
        return env.get_template(name).filename or name
    except jinja2.TemplateError:
        return name


def _render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or name}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.TemplateNotFound:
        raise RenderError(f"template {name} not found (is curator installed with its templates?)") from None
    try:
        return template.render(context)
    except jinja2.TemplateError as exc:
        line = _template_line(exc, template.filename)
        raise RenderError(f"{template.filename or name}{line}: template error: {exc}") from None


def _template_line(exc: BaseException, filename: str | None) -> str:
    tb = exc.__traceback__
    line = ""
    while tb is not None:
        if filename and tb.tb_frame.f_code.co_filename == filename:
            line = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return line


def _ensure_lang(html: str, locale: str) -> str:
    """``lang`` on the ``<html>`` element: mjml-python takes it from ``<mjml lang="fr">``, and
    writes ``lang="und"`` (undetermined) when a custom template leaves it out."""
    lang = locale.split("_")[0].split("-")[0]
    html = html.replace(' lang="und"', f' lang="{lang}"')  # in tags only: text has &#34; for "
    m = re.search(r"<html\b[^>]*>", html[:500], re.IGNORECASE)
    if m and not re.search(r"\slang=", m.group(0), re.IGNORECASE):
        return html[: m.start()] + m.group(0)[:-1] + f' lang="{lang}">' + html[m.end() :]
    return html


# --- checking our own output ---------------------------------------------------------

#: Which MJML elements may contain which (MJML 4 and 5); other elements hold HTML or nothing.
_MJML_CHILDREN: dict[str, frozenset[str]] = {
    "mjml": frozenset({"mj-head", "mj-body", "mj-include"}),
    "mj-head": frozenset(
        {
            "mj-attributes",
            "mj-breakpoint",
            "mj-font",
            "mj-html-attributes",
            "mj-preview",
            "mj-style",
            "mj-title",
            "mj-raw",
            "mj-include",
        }
    ),
    "mj-body": frozenset({"mj-section", "mj-wrapper", "mj-hero", "mj-raw", "mj-include"}),
    "mj-wrapper": frozenset({"mj-section", "mj-hero", "mj-raw", "mj-include"}),
    "mj-section": frozenset({"mj-column", "mj-group", "mj-raw", "mj-include"}),
    "mj-group": frozenset({"mj-column", "mj-raw"}),
    "mj-column": frozenset(
        {
            "mj-accordion",
            "mj-button",
            "mj-carousel",
            "mj-divider",
            "mj-image",
            "mj-navbar",
            "mj-raw",
            "mj-social",
            "mj-spacer",
            "mj-table",
            "mj-text",
            "mj-include",
        }
    ),
    "mj-accordion": frozenset({"mj-accordion-element", "mj-raw"}),
    "mj-accordion-element": frozenset({"mj-accordion-title", "mj-accordion-text", "mj-raw"}),
    "mj-carousel": frozenset({"mj-carousel-image"}),
    "mj-navbar": frozenset({"mj-navbar-link", "mj-raw"}),
    "mj-social": frozenset({"mj-social-element", "mj-raw"}),
    "mj-html-attributes": frozenset({"mj-selector"}),
    "mj-selector": frozenset({"mj-html-attribute"}),
}
_MJML_CHILDREN["mj-hero"] = _MJML_CHILDREN["mj-column"]
#: Elements whose content is HTML or text (MJML's "ending tags") or that hold nothing.
_MJML_LEAVES = frozenset(
    {"mj-text", "mj-button", "mj-table", "mj-raw", "mj-navbar-link", "mj-social-element",
     "mj-accordion-title", "mj-accordion-text", "mj-style", "mj-title", "mj-preview", "mj-image",
     "mj-divider", "mj-spacer", "mj-carousel-image", "mj-font", "mj-breakpoint", "mj-html-attribute",
     "mj-include"}
)  # fmt: skip
_MJML_TAG_RE = re.compile(r"<(/?)(mjml|mj-[a-z-]+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>", re.IGNORECASE)
_ATTR_RE = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(\"[^\"]*\"|'[^']*')")


def check_mjml(source: str) -> list[str]:
    """What is wrong with an MJML document, as "line N: problem" messages (empty: valid).

    mjml-python (MRML) renders unknown elements and misplaced ones without a word,
    so curator checks the structure itself: known elements, allowed parents, every
    element closed, and the email rules that belong to MJML (``alt`` and an https
    ``src`` on every ``<mj-image>``). Without ``<mjml lang="…">`` the HTML gets the
    newsletter's language all the same (see ``_ensure_lang``).
    """
    problems: list[str] = []
    stack: list[tuple[str, int]] = []
    known = set(_MJML_CHILDREN) | _MJML_LEAVES | {"mj-attributes"}
    for m in _MJML_TAG_RE.finditer(source):
        closing, name, attrs, self_closing = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
        top = stack[-1][0] if stack else ""
        if (top in _MJML_LEAVES or top == "mj-attributes") and not (closing and name == top):
            # Markup inside an ending tag is its content; inside <mj-attributes>, element
            # names only give defaults.
            continue
        line = m.start()  # an offset until the end, when problems are reported
        if closing:
            if name != top:
                problems.append(f"line {line}: </{name}> closes <{top or 'nothing'}>")
            else:
                stack.pop()
            continue
        if name not in known:
            problems.append(f"line {line}: unknown element <{name}>")
        elif not stack:
            if name != "mjml":
                problems.append(f"line {line}: <{name}> outside <mjml>")
        elif name == "mj-attributes":
            if top != "mj-head":
                problems.append(f"line {line}: <mj-attributes> must be inside <mj-head>")
        elif name not in _MJML_CHILDREN.get(top, frozenset()):
            problems.append(f"line {line}: <{name}> cannot be inside <{top}>")
        values = {k.lower(): v[1:-1] for k, v in _ATTR_RE.findall(attrs)}
        if name == "mj-image":
            if "alt" not in values:
                problems.append(f'line {line}: <mj-image> needs alt (alt="" for a decorative image)')
            if not values.get("src", "").startswith("https://"):
                problems.append(f"line {line}: <mj-image> src must be an absolute https URL")
        if not self_closing:
            stack.append((name, line))
    problems.extend(f"line {line}: <{name}> is never closed" for name, line in stack)
    return [
        re.sub(r"^line (\d+)", lambda m: f"line {source.count(chr(10), 0, int(m.group(1))) + 1}", p)
        for p in problems
    ]


_TAG_ATTRS_RE = re.compile(r"<(a|img|link|script|iframe|form|html)\b([^>]*)>", re.IGNORECASE)


def html_links(html: str) -> list[str]:
    """Every ``href`` of an ``<a>`` in an HTML document, entities decoded, in order."""
    from html import unescape

    found = []
    for m in _TAG_ATTRS_RE.finditer(html):
        if m.group(1).lower() == "a":
            attrs = {k.lower(): unescape(v[1:-1]) for k, v in _ATTR_RE.findall(m.group(2))}
            if "href" in attrs:
                found.append(attrs["href"])
    return found


def check_email(html: str, text: str) -> list[str]:
    """The email rules that the HTML (and the text part) break, as messages for the editors."""
    from html import unescape

    problems: list[str] = []
    links: list[str] = []
    size = len(html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        problems.append(
            f"the HTML is {size / 1000:.0f} KB: Gmail clips messages over 102 KB "
            "(shorten the summaries or move picks to the next issue)"
        )
    for m in _TAG_ATTRS_RE.finditer(html):
        tag = m.group(1).lower()
        attrs = {k.lower(): unescape(v[1:-1]) for k, v in _ATTR_RE.findall(m.group(2))}
        if tag == "html":
            if not attrs.get("lang"):
                problems.append('the <html> element has no lang attribute (<mjml lang="fr">)')
        elif tag in ("script", "iframe", "form"):
            problems.append(f"the HTML contains a <{tag}> element: mail clients block it")
        elif tag == "img":
            src = attrs.get("src", "")
            if "alt" not in attrs:
                problems.append(f"an image has no alt text: {src}")
            if not src.startswith("https://"):
                problems.append(f"an image is not an absolute https URL: {src!r}")
            if attrs.get("width") in ("0", "1") or attrs.get("height") in ("0", "1"):
                problems.append(f"a 1-pixel image looks like a tracking pixel: {src}")
        elif tag == "a":
            href = attrs.get("href")
            if href is None:
                continue
            links.append(href)
            if not href or clean_url(href) != href:
                problems.append(f"a link is not an absolute http(s) or mailto URL without tracking: {href!r}")
    missing = [u for u in dict.fromkeys(links) if u and u not in text]
    if missing:
        problems.append(
            f"the text part lacks {len(missing)} link(s) of the HTML part: {', '.join(missing[:3])}"
        )
    return problems


# --- what the pre-publication checklist needs to know of the email --------------------


def images_without_alt(html: str) -> list[str]:
    """The ``src`` of every ``<img>`` of an HTML document that has no ``alt`` attribute, in order."""
    from html import unescape

    found = []
    for m in _TAG_ATTRS_RE.finditer(html):
        if m.group(1).lower() == "img":
            attrs = {k.lower(): unescape(v[1:-1]) for k, v in _ATTR_RE.findall(m.group(2))}
            if "alt" not in attrs:
                found.append(attrs.get("src", ""))
    return found


def email_facts(view: IssueView, config: Config, *, now: datetime) -> EmailFacts:
    """Render the issue's email and say what the checklist (``curator.checklist``) looks at: its
    size against Gmail's limit and its images without alt text; or why it cannot be rendered."""
    from .checklist import EmailFacts

    try:
        rendered = render_email(view, config, now=now)
    except (RenderError, UsageError) as exc:
        return EmailFacts(error=str(exc))
    return EmailFacts(
        html_bytes=rendered.html_size,
        limit=GMAIL_CLIP_BYTES,
        images_without_alt=tuple(images_without_alt(rendered.html)),
    )
