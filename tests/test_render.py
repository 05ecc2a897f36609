"""The email: its HTML parsed (sections, items, order, escaping, alt, lang, links), the text part,
French typography, the MJML checks, custom templates, `curator draft` and the reference validator."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import EMAIL_HOSTILE_TITLE, EMAIL_NOW, make_email_issue
from hypothesis import given
from hypothesis import strategies as st

from curator import editorial, views
from curator.cli import cli
from curator.config import parse_email
from curator.errors import ConfigError, RenderError, UsageError
from curator.mail import build_message
from curator.render import GMAIL_CLIP_BYTES, check_email, check_mjml, html_links, render_email
from curator.typography import html_to_text_with_links, typography, typography_html, wrap_text

ROOT = Path(__file__).parent.parent
NBSP, NNBSP = "\u00a0", "\u202f"
LOGO = {"logo": {"src": "https://labs.example.org/logo.png", "alt": "Logo des labs"}}


# --- a small DOM over html.parser: enough to look at the email's structure ------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Any] = field(default_factory=list)  # Node or str
    parent: Node | None = None

    def iter(self, tag: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if tag is None or child.tag == tag:
                    found.append(child)
                found.extend(child.iter(tag))
        return found

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def ancestor(self, tag: str) -> Node | None:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def squash(text: str) -> str:
    return " ".join(text.replace(NBSP, " ").replace(NNBSP, " ").split())


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def issue(tmp_path: Path) -> tuple[Any, Any, Any]:
    store, config, month = make_email_issue(tmp_path, items=12, reports=2, events=2, email=LOGO)
    yield store, config, month
    store.close()


@pytest.fixture
def rendered(issue: tuple[Any, Any, Any]) -> Any:
    store, config, month = issue
    return render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)


# --- the HTML --------------------------------------------------------------------------------


def test_sections_and_items_in_order(issue: tuple[Any, Any, Any], rendered: Any) -> None:
    store, config, month = issue
    view = views.issue_view(store, config, month)
    doc = parse(rendered.html)
    headings = [squash(h.text) for h in doc.iter("h2")]
    assert headings == [
        "Édito",
        "Retours d’expérience",
        "Actualités des labs",
        "Veille",
        "Appels à contributions",
        "Agenda",
    ]
    titles = [squash(h.text) for h in doc.iter("h3")]
    expected = [squash(typography(p.title)) for p in view.picks] + ["Temps du lab n° 1", "Temps du lab n° 2"]
    assert titles == expected
    # Each item sits after its section's heading and before the next one.
    order = [(n.tag, squash(n.text)) for n in doc.iter() if n.tag in ("h2", "h3")]
    veille = order.index(("h2", "Veille"))
    appels = order.index(("h2", "Appels à contributions"))
    veille_titles = [
        squash(typography(p.title)) for s in view.sections if s.section.id == "veille" for p in s.picks
    ]
    assert [t for _, t in order[veille + 1 : appels]] == veille_titles


def test_items_show_link_source_lab_date_summary_and_note(issue: tuple[Any, Any, Any], rendered: Any) -> None:
    doc = parse(rendered.html)
    h3 = next(h for h in doc.iter("h3") if squash(h.text).startswith("Article numéro 10 "))
    assert (
        h3.iter("a")[0].attrs["href"] == "https://news.example.org/lab-normandie/10?id=10"
    )  # utm_medium gone
    block = h3.parent
    assert block is not None
    text = squash(block.text)
    assert "Lab’Innov Normandie · 10 janvier 2022" in text
    assert "Les labs d’académie ont expérimenté" in text
    assert "Pourquoi nous l’avons retenu : À lire avant le temps du lab : la fiche pratique." in text
    note_link = next(a for a in block.iter("a") if squash(a.text) == "la fiche pratique")
    assert note_link.attrs["href"] == "https://labs.example.org/fiches/9"  # fbclid stripped


def test_reports_show_lab_and_author(rendered: Any) -> None:
    doc = parse(rendered.html)
    first = next(h for h in doc.iter("h3") if squash(h.text).startswith("Retour n° 1"))
    assert first.parent is not None
    assert "Retour d’expérience · Lab’Innov Normandie · par Claire Lemoine 1 · 17 janvier 2022" in squash(
        first.parent.text
    )
    second = next(h for h in doc.iter("h3") if squash(h.text).startswith("Retour n° 2"))
    assert not second.iter("a")  # no link of its own...
    assert second.parent is not None
    assert "Lab des Hauts-de-France · par Claire Lemoine 2" in squash(second.parent.text)
    more = [a for a in second.parent.iter("a") if squash(a.text) == "Lire le retour complet en ligne"]
    assert (
        more[0].attrs["href"].startswith("https://labs.example.org/archive/2022-01/#r")
    )  # ...but the archive's


def test_hostile_title_is_text_not_markup(rendered: Any) -> None:
    doc = parse(rendered.html)
    assert not doc.iter("script")
    assert not [b for b in doc.iter("b") if b.text == "gras"]
    assert any(squash(h.text) == squash(typography(EMAIL_HOSTILE_TITLE)) for h in doc.iter("h3"))
    assert "&lt;script&gt;alert(" in rendered.mjml and "<script>" not in rendered.mjml
    assert 'Tom & Jerry <script>alert("x")</script> <b>gras</b>' in rendered.text


def test_lang_alt_colours_and_header(rendered: Any) -> None:
    doc = parse(rendered.html)
    assert doc.iter("html")[0].attrs["lang"] == "fr"
    images = doc.iter("img")
    assert images and all(img.attrs.get("alt") for img in images)
    assert all(img.attrs["src"].startswith("https://") for img in images)
    metas = {m.attrs.get("name"): m.attrs.get("content") for m in doc.iter("meta")}
    assert metas["color-scheme"] == metas["supported-color-schemes"] == "light dark"
    assert doc.iter("title")[0].text == "Infolettre — janvier 2022"
    h1 = doc.iter("h1")[0]
    assert squash(h1.text) == "Infolettre des labs d’académie"
    assert "janvier 2022" in squash(h1.parent.text)  # type: ignore[union-attr]
    # Every block of text has its colour set (dark mode in mail clients keeps what is explicit).
    for div in doc.iter("div"):
        if "font-family" in div.attrs.get("style", ""):
            assert "color:#" in div.attrs["style"].replace(" ", "")
    # The preheader comes first in the body, hidden.
    body = doc.iter("body")[0]
    first = body.iter("div")[0]
    assert "display:none" in first.attrs["style"] and squash(first.text) == squash(rendered.preheader)
    assert rendered.preheader.startswith("Bonne année à toutes et à tous")


def test_a_custom_title_is_in_the_header_escaped_with_the_month(issue: tuple[Any, Any, Any]) -> None:
    store, config, month = issue

    def header(html: str) -> list[str]:
        """The header's lines: the newsletter's title, then each paragraph."""
        block = parse(html).iter("h1")[0].parent
        assert block is not None
        return [squash(n.text) for n in block.children if isinstance(n, Node)]

    default = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    assert header(default.html) == [
        "Infolettre des labs d’académie",
        "janvier 2022",  # the default title (« Infolettre — janvier 2022 ») says nothing more
        "Voir cette infolettre en ligne",
    ]
    assert "Infolettre — janvier 2022" not in default.text.split("\n\n")[0]  # the default title: not repeated
    title = 'Spécial <b>co-développement</b> & « tiers-lieux » : "ateliers"'
    editorial.set_title(store, config, month, title, EMAIL_NOW)
    rendered = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    doc = parse(rendered.html)
    assert header(rendered.html) == [
        "Infolettre des labs d’académie",
        "janvier 2022",  # the month stays...
        squash(typography(title)),  # ...and the issue's own title follows
        "Voir cette infolettre en ligne",
    ]
    assert not [b for b in doc.iter("b") if "co-développement" in b.text]  # text, not markup
    assert "Spécial &lt;b&gt;co-développement&lt;/b&gt; &amp; «" in rendered.html
    assert rendered.subject == typography(title) == doc.iter("title")[0].text
    assert rendered.text.startswith(f"INFOLETTRE DES LABS D’ACADÉMIE\njanvier 2022\n{typography(title)}\n\n")
    # Back to the default title: the header is as before.
    editorial.set_title(store, config, month, "Infolettre — janvier 2022", EMAIL_NOW)
    again = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    assert (again.html, again.text) == (default.html, default.text)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(one: str, two: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _dark_rules(html: str) -> dict[str, dict[str, str]]:
    """The rules of the email's ``@media (prefers-color-scheme: dark)``: selector → property → value."""
    m = re.search(r"@media \(prefers-color-scheme: dark\) \{(.*?)\}\s*</style>", html, re.DOTALL)
    assert m, "no dark-mode media query in the email"
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", m.group(1)):
        declarations = {}
        for declaration in body.split(";"):
            if declaration.strip():
                name, value = declaration.split(":", 1)
                assert value.strip().endswith("!important")  # over the inline light colours
                declarations[name.strip()] = value.replace("!important", "").strip()
        for selector in selectors.split(","):
            rules.setdefault(" ".join(selector.split()), {}).update(declarations)
    return rules


def test_test_contrast_helper_matches_known_wcag_ratios() -> None:
    assert round(_contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(_contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-below-AA grey
    assert _contrast("#161616", "#ffffff") == _contrast("#ffffff", "#161616")


def test_dark_mode_palette_keeps_wcag_aa_contrast(rendered: Any) -> None:
    html = rendered.html
    metas = {m.attrs.get("name"): m.attrs.get("content") for m in parse(html).iter("meta")}
    assert metas["color-scheme"] == "light dark" and ":root { color-scheme: light dark;" in html
    rules = _dark_rules(html)
    page, card = rules["body"]["background"], rules[".card"]["background"]
    assert rules[".page"]["background"] == rules[".foot"]["background"] == page
    assert rules[".card > table"]["background"] == card and rules[".foot > table"]["background"] == page
    note = rules[".card .n"]["background"]
    pairs = {  # every text of the dark palette on the background it sits on
        "text on a section": (rules[".card p"]["color"], card),
        "headings and items on a section": (rules[".card h3"]["color"], card),
        "muted text on a section": (rules[".card .muted"]["color"], card),
        "links and section titles": (rules[".card a"]["color"], card),
        "section titles": (rules[".card h2"]["color"], card),
        "a note's text": (rules[".card div"]["color"], note),
        "a note's links": (rules[".card a"]["color"], note),
        "the footer's text": (rules[".foot p"]["color"], page),
        "the footer's links": (rules[".foot a"]["color"], page),
    }
    low = {what: round(_contrast(*pair), 2) for what, pair in pairs.items() if _contrast(*pair) < 4.5}
    assert low == {}, low  # WCAG AA for text: 4.5:1
    # The dark scheme really is dark, and the light colours it replaces are all set inline.
    assert _luminance(page) < 0.02 and _luminance(card) < 0.02 and _luminance(note) < 0.02
    doc = parse(html)
    sections = [d for d in doc.iter("div") if "card" in d.attrs.get("class", "").split()]
    assert len(sections) == 6 and all("background-color:#ffffff" in d.attrs["style"] for d in sections)
    muted = [p for p in doc.iter("p") if p.attrs.get("class") == "muted"]
    assert muted and all("color:#3a3a3a" in p.attrs["style"] for p in muted)


def test_links_are_absolute_clean_and_all_in_the_text_part(rendered: Any) -> None:
    links = html_links(rendered.html)
    assert links
    for href in links:
        assert re.match(r"^(https?://[^/]+/|mailto:)", href), href
        assert "utm_" not in href and "fbclid" not in href and NBSP not in href, href
        assert href in rendered.text, href
    assert "https://labs.example.org/archive/2022-01/" in links  # « Voir cette infolettre en ligne »
    assert "https://labs.example.org/archive/2022-01/agenda.ics" in links
    assert "https://labs.example.org/contribuer" in links
    assert "https://listes.example.org/sympa/sigrequest/infolettre-labs" in links
    assert "https://labs.example.org/rapport?page=2" in links  # from the édito, tracking stripped
    doc = parse(rendered.html)
    online = [a for a in doc.iter("a") if squash(a.text) == "Voir cette infolettre en ligne"]
    assert len(online) == 2 and all(
        a.attrs["href"] == "https://labs.example.org/archive/2022-01/" for a in online
    )
    assert rendered.warnings == ()


def test_agenda_dates_places_and_video(rendered: Any) -> None:
    doc = parse(rendered.html)
    event = next(h for h in doc.iter("h3") if squash(h.text) == "Temps du lab n° 1").parent
    assert event is not None
    text = squash(event.text)
    assert "jeudi 27 janvier 2022 à 14 h – 15 h 30" in text  # French hours: « 14 h », « 15 h 30 »
    assert "En visioconférence" in text
    assert [a.attrs["href"] for a in event.iter("a")] == ["https://visio.example.org/temps-du-lab"]
    second = next(h for h in doc.iter("h3") if squash(h.text) == "Temps du lab n° 2")
    assert second.iter("a")[0].attrs["href"] == "https://labs.example.org/agenda/temps-du-lab"
    assert "Paris, 110 rue de Grenelle" in squash(second.parent.text)  # type: ignore[union-attr]


def test_french_typography_everywhere_but_urls(rendered: Any) -> None:
    html = rendered.html
    assert f"Article numéro 2{NBSP}: l’innovation" in html
    assert f"«{NBSP}guillemets{NBSP}»{NBSP}: vraiment{NNBSP}?" in html
    assert f"tous{NNBSP}!" in html and f"Voir cette infolettre en ligne{NBSP}:" in rendered.text
    assert f"14{NBSP}h – 15{NBSP}h{NBSP}30" in html  # hours as French writes them, spaces that hold
    for href in html_links(html):
        assert NBSP not in href and NNBSP not in href and "’" not in href
    assert f"Rejoindre la visioconférence{NBSP}: https://visio.example.org/temps-du-lab" in rendered.text


def test_text_part(issue: tuple[Any, Any, Any], rendered: Any) -> None:
    store, config, month = issue
    text = rendered.text
    assert text.startswith("INFOLETTRE DES LABS D’ACADÉMIE\njanvier 2022\n")
    positions = [
        text.index(h) for h in ("ÉDITO", "RETOURS D’EXPÉRIENCE", "ACTUALITÉS DES LABS", "VEILLE", "AGENDA")
    ]
    assert positions == sorted(positions)
    view = views.issue_view(store, config, month)
    starts = [text.index("* " + typography(p.title)[:20]) for p in view.picks]
    assert starts == sorted(starts)
    flat = " ".join(text.split())
    assert "le rapport annuel <https://labs.example.org/rapport?page=2>" in flat
    assert "jeudi 27 janvier 2022 à 14 h – 15 h 30" in flat
    assert "Se désabonner" in text and "<p>" not in text and "&amp;" not in text
    assert all(len(line) <= 76 or "://" in line for line in text.splitlines())


def test_rendering_is_deterministic(issue: tuple[Any, Any, Any], rendered: Any) -> None:
    store, config, month = issue
    again = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    assert (again.html, again.text, again.mjml) == (rendered.html, rendered.text, rendered.mjml)


def test_a_40_item_issue_stays_under_gmail_clipping(tmp_path: Path) -> None:
    store, config, month = make_email_issue(tmp_path, items=36, reports=4, events=3, email=LOGO)
    view = views.issue_view(store, config, month)
    assert len(view.picks) == 40
    rendered = render_email(view, config, now=EMAIL_NOW)
    assert rendered.html_size < GMAIL_CLIP_BYTES and rendered.warnings == ()
    assert len(parse(rendered.html).iter("h3")) == 43
    store.close()


def test_edito_first_and_agenda_last_without_their_sections(issue: tuple[Any, Any, Any]) -> None:
    store, config, month = issue
    config = replace(config, sections=tuple(s for s in config.sections if s.kind == "items"))
    rendered = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    headings = [squash(h.text) for h in parse(rendered.html).iter("h2")]
    assert headings[0] == "Édito" and headings[-1] == "Agenda"


# --- the checks on our own output ---------------------------------------------------------


def test_check_email_reports_what_breaks_the_rules() -> None:
    html = (
        '<!doctype html><html><body><img src="http://x.example/p.gif" width="1" height="1">'
        '<a href="/relative">a</a><a href="https://x.example/?utm_source=n">b</a>'
        '<a href="https://ok.example/">c</a></body></html>'
    )
    problems = " | ".join(check_email(html, "text with https://ok.example/ only"))
    assert "no lang attribute" in problems
    assert (
        "no alt text" in problems and "not an absolute https URL" in problems and "tracking pixel" in problems
    )
    assert "'/relative'" in problems and "utm_source" in problems
    assert "the text part lacks 2 link(s)" in problems
    big = "<html lang='fr'>" + "x" * GMAIL_CLIP_BYTES + "</html>"
    assert any("Gmail clips" in p for p in check_email(big, ""))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            '<mjml lang="fr"><mj-body><mj-section><mj-text>x</mj-text></mj-section></mj-body></mjml>',
            "line 1: <mj-text> cannot be inside <mj-section>",
        ),
        (
            '<mjml lang="fr"><mj-body><mj-section><mj-column><mj-txt>x</mj-txt></mj-column></mj-section></mj-body></mjml>',
            "unknown element <mj-txt>",
        ),
        (
            '<mjml lang="fr"><mj-body><mj-section><mj-column>\n<mj-image src="https://x.example/a.png" />'
            "</mj-column></mj-section></mj-body></mjml>",
            "line 2: <mj-image> needs alt",
        ),
        (
            '<mjml lang="fr"><mj-body><mj-section><mj-column><mj-image alt="" src="http://x.example/a.png" />'
            "</mj-column></mj-section></mj-body></mjml>",
            "src must be an absolute https URL",
        ),
        (
            '<mjml lang="fr"><mj-body><mj-section><mj-column></mj-section></mj-body></mjml>',
            "closes <mj-column>",
        ),
        ('<mjml lang="fr"><mj-body>', "<mj-body> is never closed"),
    ],
)
def test_check_mjml_finds_what_mjml_python_accepts(source: str, message: str) -> None:
    problems = check_mjml(source)
    assert any(message in p for p in problems), problems


def test_check_mjml_accepts_ending_tags_and_attributes() -> None:
    source = (
        '<mjml lang="fr"><mj-head><mj-attributes><mj-text color="#000" /><mj-class name="x" /></mj-attributes>'
        "<mj-style>a > b { color: red }</mj-style></mj-head><mj-body><mj-section><mj-column>"
        "<mj-text><p>Du <b>HTML</b> <mj-fake> dans un texte</p></mj-text>"
        '<mj-button href="https://x.example/">Go</mj-button></mj-column></mj-section></mj-body></mjml>'
    )
    assert check_mjml(source) == []


def test_the_default_template_passes_its_own_checks(rendered: Any) -> None:
    assert check_mjml(rendered.mjml) == []


# --- typography and plain text helpers ---------------------------------------------------------


def test_typography_html_keeps_tags_entities_and_urls() -> None:
    html = '<p title="a : b">Tom &amp; Jerry ; l&#39;oui <a href="https://x.example/?a=1&amp;b=2">« lien »</a> !</p>'
    out = str(typography_html(html))
    assert '<p title="a : b">' in out and '<a href="https://x.example/?a=1&amp;b=2">' in out
    assert f"Tom &amp; Jerry{NNBSP}; l’oui" in out and f"«{NBSP}lien{NBSP}»" in out


def test_html_to_text_keeps_links_and_lists() -> None:
    html = (
        '<p>Lire <a href="https://x.example/a?utm_source=y&amp;id=2">l’article</a> et '
        '<a href="https://x.example/b">https://x.example/b</a>.</p><ul><li>un</li><li>deux</li></ul>'
        "<ol><li>premier</li></ol>"
    )
    assert html_to_text_with_links(html) == (
        "Lire l’article <https://x.example/a?id=2> et https://x.example/b.\n\n- un\n\n- deux\n\n1. premier"
    )


words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=30
)


@given(st.lists(words, min_size=1, max_size=40), st.integers(10, 90))
def test_wrap_never_cuts_a_word(parts: list[str], width: int) -> None:
    text = " ".join(parts)
    wrapped = wrap_text(text, width=width, indent="  ")
    assert wrapped.split() == parts
    for line in wrapped.split("\n"):
        assert line.startswith("  ")
        assert len(line) <= width or " " not in line.strip()


# --- custom templates, settings and errors -------------------------------------------------------


def test_custom_templates_from_the_option_and_the_setting(
    issue: tuple[Any, Any, Any], tmp_path: Path
) -> None:
    store, config, month = issue
    custom = tmp_path / "mine"
    (custom / "email").mkdir(parents=True)
    (custom / "email" / "issue.txt.j2").write_text(
        "Notre version : {{ subject }} {{ online_url }}\n", encoding="utf-8"
    )
    view = views.issue_view(store, config, month)
    text = render_email(view, config, templates=custom, now=EMAIL_NOW).text
    assert text.startswith("Notre version : Infolettre")
    with_setting = replace(config, email=replace(config.email, templates=config.path.parent / "mine"))
    assert render_email(view, with_setting, now=EMAIL_NOW).text.startswith("Notre version")
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "issue.mjml.j2").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match=r"put your templates in .*flat/email"):
        render_email(view, config, templates=flat, now=EMAIL_NOW)


@pytest.mark.parametrize(
    ("mjml", "message"),
    [
        (
            '<mjml lang="fr"><mj-body><mj-section><mj-text>x</mj-text></mj-section></mj-body></mjml>',
            r"mine/email/issue\.mjml\.j2 produced invalid MJML: line 1: <mj-text> cannot be inside <mj-section>",
        ),
        (
            '<mjml lang="fr"><mj-body><mj-section><mj-column><mj-text>a < b</mj-text></mj-column></mj-section></mj-body></mjml>',
            r"mine/email/issue\.mjml\.j2: MJML error",
        ),
        ("{% if %}", r"mine/email/issue\.mjml\.j2:1: template error"),
        (
            "{{ nothing_like_this.here }}",
            r"mine/email/issue\.mjml\.j2:1: template error: 'nothing_like_this' is undefined",
        ),
    ],
)
def test_template_errors_name_the_template(
    issue: tuple[Any, Any, Any], tmp_path: Path, mjml: str, message: str
) -> None:
    store, config, month = issue
    custom = tmp_path / "mine"
    (custom / "email").mkdir(parents=True)
    (custom / "email" / "issue.mjml.j2").write_text(mjml, encoding="utf-8")
    with pytest.raises(RenderError, match=message):
        render_email(views.issue_view(store, config, month), config, templates=custom, now=EMAIL_NOW)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"colour": "red"}, "email, field 'colour': unknown key"),
        (
            {"logo": {"src": "http://x.example/l.png"}},
            "field 'logo': 'http://x.example/l.png' is not an https URL",
        ),
        ({"rate_limit": 0}, "field 'rate_limit': expected a number of messages per minute"),
        ({"smtp": {"security": "tls"}}, "email.smtp, field 'security': expected one of none, starttls, ssl"),
        ({"smtp": {"port": "25"}}, "email.smtp, field 'port'"),
        ({"list_id": "not an id"}, "field 'list_id'"),
        ("oops", "email: expected a mapping"),
    ],
)
def test_email_settings_are_validated(issue: tuple[Any, Any, Any], block: Any, message: str) -> None:
    _store, config, _month = issue
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_email(block, str(config.path), config.newsletter)


# --- the message and `curator draft` ---------------------------------------------------------------


def test_message_is_multipart_alternative_with_list_headers(
    issue: tuple[Any, Any, Any], rendered: Any
) -> None:
    _store, config, _month = issue
    msg = email.message_from_bytes(
        build_message(rendered, config, EMAIL_NOW, to="a@example.org").as_bytes(), policy=email.policy.default
    )
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.iter_parts()  # type: ignore[misc]
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content() == rendered.text and html.get_content() == rendered.html
    assert msg["From"] == "Infolettre des labs <infolettre@labs.example.org>"
    assert msg["Reply-To"] == "lab110bis@labs.example.org"
    assert msg["To"] == "a@example.org"
    assert msg["Subject"] == "Infolettre — janvier 2022"
    assert msg["Date"] == "Thu, 20 Jan 2022 13:00:00 +0100"
    assert re.match(r"^<2022-01\.20220120120000\.[0-9a-f]{20}@labs\.example\.org>$", msg["Message-ID"])
    assert msg["List-Id"] == "Infolettre des labs d'académie <infolettre.labs.example.org>"
    assert msg["List-Unsubscribe"].strip() == "<https://listes.example.org/sympa/sigrequest/infolettre-labs>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    test = build_message(rendered, config, EMAIL_NOW, test=True)
    assert test["Subject"] == "[TEST] Infolettre — janvier 2022"
    mailto = replace(
        config,
        newsletter=replace(
            config.newsletter, unsubscribe="mailto:sympa@listes.example.org?subject=unsubscribe"
        ),
    )
    msg = build_message(rendered, mailto, EMAIL_NOW)
    assert msg["List-Unsubscribe"].strip() == "<mailto:sympa@listes.example.org?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] is None


def _run(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["--db", str(tmp_path / "curator.db"), "--config", str(tmp_path / "sources.yaml"), *args]
    )


def test_draft_command_writes_html_text_and_eml(issue: tuple[Any, Any, Any], tmp_path: Path) -> None:
    store, _config, _month = issue
    store.close()
    out = tmp_path / "out"
    result = _run(tmp_path, "draft", "--month", "2022-01", "--out", str(out))
    assert result.exit_code == 0, result.output
    folder = out / "2022-01"
    assert result.stdout.split() == [
        str(folder / "email.html"),
        str(folder / "email.txt"),
        str(folder / "email.eml"),
    ]
    html = (folder / "email.html").read_text(encoding="utf-8")
    assert parse(html).iter("html")[0].attrs["lang"] == "fr"
    assert (folder / "email.txt").read_text(encoding="utf-8").startswith("INFOLETTRE DES LABS")
    msg = email.message_from_bytes((folder / "email.eml").read_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative" and msg["X-Unsent"] == "1"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert not list(folder.glob(".*.tmp"))


def test_draft_goes_next_to_sources_yaml_by_default(
    issue: tuple[Any, Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, config, _month = issue
    store.close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the folder of sources.yaml
    result = _run(tmp_path, "draft", "--month", "2022-01")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "drafts" / "2022-01"
    assert result.stdout.split() == [str(folder / f"email.{ext}") for ext in ("html", "txt", "eml")]
    assert all((folder / f"email.{ext}").is_file() for ext in ("html", "txt", "eml"))
    assert list(elsewhere.iterdir()) == []
    from curator.mail.drafts import default_drafts_dir

    assert default_drafts_dir(config) == tmp_path / "drafts"
    # A relative --config: next to it, said relative to where the command runs.
    result = CliRunner().invoke(
        cli, ["--db", "../curator.db", "--config", "../sources.yaml", "draft", "--month", "2022-01"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[0] == "../drafts/2022-01/email.html"
    # --out still wins.
    result = _run(tmp_path, "draft", "--month", "2022-01", "--out", "here")
    assert result.exit_code == 0, result.output
    assert (elsewhere / "here" / "2022-01" / "email.html").is_file()


def test_draft_errors_say_how_to_fix_them(issue: tuple[Any, Any, Any], tmp_path: Path) -> None:
    store, config, _month = issue
    editorial.set_edito(store, config, editorial.Month.parse("2022-02"), "Rien encore.", EMAIL_NOW)
    store.close()
    result = _run(tmp_path, "draft", "--month", "2022-13")
    assert result.exit_code == 2 and "use YYYY-MM, e.g. 2022-01" in result.output
    result = _run(tmp_path, "draft", "--month", "2021-05")
    assert result.exit_code == 1 and "`curator pick ID --month 2021-05`" in result.output
    result = _run(tmp_path, "draft", "--month", "2022-02")
    assert result.exit_code == 1 and "has no picks yet" in result.output
    assert "`curator candidates --month 2022-02`" in result.output
    broken = tmp_path / "broken" / "email"
    broken.mkdir(parents=True)
    (broken / "issue.mjml.j2").write_text(
        "<mjml lang='fr'><mj-body><mj-foo/></mj-body></mjml>", encoding="utf-8"
    )
    result = _run(tmp_path, "draft", "--month", "2022-01", "--templates", str(broken.parent))
    assert result.exit_code == 1
    assert f"{broken / 'issue.mjml.j2'} produced invalid MJML" in result.output


def test_draft_warns_when_gmail_would_clip(issue: tuple[Any, Any, Any], tmp_path: Path) -> None:
    store, _config, _month = issue
    store.close()
    big = tmp_path / "big" / "email"
    big.mkdir(parents=True)
    source = (Path(__file__).parent.parent / "curator" / "templates" / "email" / "issue.mjml.j2").read_text()
    padding = "<mj-text>" + "Du texte. " * 12_000 + "</mj-text>"
    source = source.replace("<mj-column>\n{% if logo %}", "<mj-column>\n" + padding + "\n{% if logo %}", 1)
    (big / "issue.mjml.j2").write_text(source, encoding="utf-8")
    result = _run(
        tmp_path, "draft", "--month", "2022-01", "--out", str(tmp_path / "o"), "--templates", str(big.parent)
    )
    assert result.exit_code == 0, result.output
    assert "warning: the HTML is" in result.stderr and "Gmail clips messages over 102 KB" in result.stderr


# --- the reference validator ---------------------------------------------------------------------------

MJML_CLI = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mjml"


def test_mjml_is_valid_for_the_reference_validator(tmp_path: Path) -> None:
    """`mjml --validate` (the JavaScript MJML, installed by .ci/run) accepts what the template produces."""
    node = shutil.which("node")
    if node is None or not MJML_CLI.exists():
        reason = (
            "the reference MJML validator is not installed: "
            + ("node is missing" if node is None else f"{MJML_CLI} is missing")
            + " (npm install --prefix .ci/node --no-audit --no-fund --no-save mjml@4.15.3)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; under CI this check must run")
        pytest.skip(reason)
    store, config, month = make_email_issue(tmp_path, items=14, reports=2, events=2, email=LOGO)
    rendered = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    store.close()
    source = tmp_path / "issue.mjml"
    source.write_text(rendered.mjml, encoding="utf-8")
    result = subprocess.run(
        [str(MJML_CLI), "--validate", str(source)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # ...and it does reject what is wrong, so a pass means something.
    source.write_text(
        rendered.mjml.replace("<mj-text", "<mj-txt").replace("</mj-text>", "</mj-txt>"), encoding="utf-8"
    )
    result = subprocess.run(
        [str(MJML_CLI), "--validate", str(source)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0


def test_a_small_issue_without_edito_agenda_or_links(tmp_path: Path) -> None:
    store, config, month = make_email_issue(tmp_path, items=2, reports=0, events=0, hostile=False)
    store.update_issue(month, EMAIL_NOW, edito="")
    config = replace(config, newsletter=replace(config.newsletter, form_url="", unsubscribe=""))
    rendered = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    store.close()
    doc = parse(rendered.html)
    assert [squash(h.text) for h in doc.iter("h2")] == ["Actualités des labs", "Veille"]
    assert not any(h.endswith(".ics") for h in html_links(rendered.html))
    assert rendered.preheader == (  # the titles in reading order
        f"Au sommaire{NBSP}: Article numéro 2{NBSP}: l’innovation publique en classe, "
        f"Article numéro 1{NBSP}: l’innovation publique en classe"
    )
    assert rendered.warnings == (
        f"no way to unsubscribe: set newsletter.unsubscribe (an https URL or a mailto: address) in {config.path}",
    )
    assert "AGENDA" not in rendered.text and "Se désabonner" not in rendered.text


def test_a_custom_template_without_lang_still_gives_lang(issue: tuple[Any, Any, Any], tmp_path: Path) -> None:
    store, config, month = issue
    custom = tmp_path / "mine" / "email"
    custom.mkdir(parents=True)
    (custom / "issue.mjml.j2").write_text(
        "<mjml><mj-body><mj-section><mj-column><mj-text>{{ subject }}</mj-text></mj-column></mj-section>"
        "</mj-body></mjml>",
        encoding="utf-8",
    )
    view = views.issue_view(store, config, month)
    rendered = render_email(view, config, templates=custom.parent, now=EMAIL_NOW)
    assert parse(rendered.html).iter("html")[0].attrs["lang"] == "fr"
