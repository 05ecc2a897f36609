"""The email as a reader sees it, in a real headless Chromium at phone (375 px) and desktop (600 px)
widths, and in dark mode: nothing overflows, every item is there and visible, text stays readable.
Screenshots are kept in the session's temporary folder (pytest's basetemp, email-artifacts0/).
The browser is the session's (conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EMAIL_NOW, make_email_issue

from curator import views
from curator.render import render_email
from curator.typography import typography

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the email and its screenshots are kept, to look at after a run (never the checkout)."""
    return tmp_path_factory.mktemp("email-artifacts")


@pytest.fixture(scope="module")
def issue_email(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> tuple[str, list[str]]:
    """A 40-item issue (hostile title, reports, agenda, logo): its HTML and its headings in order."""
    store, config, month = make_email_issue(
        tmp_path_factory.mktemp("email"),
        items=36,
        reports=4,
        events=2,
        email={"logo": {"src": "https://labs.example.org/logo.png", "alt": "Infolettre des labs"}},
    )
    view = views.issue_view(store, config, month)
    rendered = render_email(view, config, now=EMAIL_NOW)
    store.close()
    titles = [typography(p.title) for p in view.picks] + [typography(e.title) for e in view.events]
    (artifacts / "email.html").write_text(rendered.html, encoding="utf-8")
    return rendered.html, titles


def open_email(browser: Any, html: str, width: int, color_scheme: str = "light") -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="fr-FR", color_scheme=color_scheme
    )
    page = context.new_page()
    # Offline, as the tests are: the remote logo is refused (its alt text shows instead).
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="load")
    return page


BOXES = """(selector) => [...document.querySelectorAll(selector)].map(e => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return {text: e.innerText.trim(), left: r.left, right: r.right, width: r.width, height: r.height,
            shown: s.visibility !== 'hidden' && s.display !== 'none' && parseFloat(s.opacity) > 0};
})"""


@pytest.mark.parametrize("width", [375, 600])
def test_no_horizontal_overflow_and_every_item_visible(
    browser: Any, issue_email: tuple[str, list[str]], artifacts: Path, width: int
) -> None:
    html, titles = issue_email
    page = open_email(browser, html, width)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        headings = page.evaluate(BOXES, "h3")
        assert [" ".join(h["text"].split()) for h in headings] == [" ".join(t.split()) for t in titles]
        for h in headings:
            assert h["shown"] and h["width"] > 0 and h["height"] > 0, h
            assert h["left"] >= 0 and h["right"] <= width, h
            assert h["width"] >= min(width, 600) - 2 * 24 - 2  # one column, full width, even on a phone
        for box in page.evaluate(BOXES, "h1, h2, p, a, li, img, strong"):
            if box["width"] > 0:
                assert box["left"] >= -0.5 and box["right"] <= width + 0.5, box
        page.get_by_role("link", name="Voir cette infolettre en ligne").first.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"email-{width}px.png"), full_page=True)
    finally:
        page.context.close()


CONTRAST = """() => {
    const rgb = c => c.match(/[\\d.]+/g).map(Number);
    const lum = ([r, g, b]) => {
        const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = e => {
        for (; e; e = e.parentElement) {
            const c = getComputedStyle(e).backgroundColor;
            const v = rgb(c);
            if (v.length < 4 || v[3] > 0) return v.slice(0, 3);
        }
        return rgb(getComputedStyle(document.documentElement).backgroundColor || 'rgb(255,255,255)');
    };
    return [...document.querySelectorAll('h1, h2, h3, p, a, strong')].filter(e => e.innerText.trim()).map(e => {
        const a = lum(rgb(getComputedStyle(e).color).slice(0, 3)), b = lum(background(e));
        return {text: e.innerText.trim().slice(0, 40), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
    });
}"""


def test_colours_stay_readable_in_dark_mode(
    browser: Any, issue_email: tuple[str, list[str]], artifacts: Path
) -> None:
    html, _titles = issue_email
    page = open_email(browser, html, 600, color_scheme="dark")
    try:
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        low = [c for c in page.evaluate(CONTRAST) if c["ratio"] < 4.5]
        assert low == [], low  # WCAG AA for every piece of text
        page.screenshot(path=str(artifacts / "email-600px-dark.png"))
    finally:
        page.context.close()


STYLES = """() => {
    const colour = (selector, property) => {
        const e = document.querySelector(selector);
        return e ? getComputedStyle(e)[property] : null;
    };
    return {
        body: colour('body', 'backgroundColor'),
        page: colour('.page', 'backgroundColor'),
        section: colour('.card', 'backgroundColor'),
        sectionTable: colour('.card > table', 'backgroundColor'),
        text: colour('.card h3', 'color'),
        muted: colour('.card .muted', 'color'),
        link: colour('.card h3 a', 'color'),
        note: colour('.card .n', 'backgroundColor'),
        header: colour('h1', 'color'),
        footer: colour('.foot', 'backgroundColor'),
        dark: matchMedia('(prefers-color-scheme: dark)').matches,
    };
}"""


def test_dark_mode_styles_apply_where_the_client_asks_for_them(
    browser: Any, issue_email: tuple[str, list[str]]
) -> None:
    """The same page, light then dark (emulate_media): the dark palette replaces the inline light
    colours (body, sections, text, links, notes, footer); the header keeps its colours."""
    html, _titles = issue_email
    page = open_email(browser, html, 600)
    try:
        page.emulate_media(color_scheme="light")
        light = page.evaluate(STYLES)
        assert not light["dark"]
        assert light["body"] == light["page"] == light["footer"] == "rgb(238, 238, 238)"
        assert light["section"] == light["sectionTable"] == "rgb(255, 255, 255)"
        assert (light["text"], light["muted"], light["link"]) == (
            "rgb(22, 22, 22)",
            "rgb(58, 58, 58)",
            "rgb(0, 0, 145)",
        )
        page.emulate_media(color_scheme="dark")
        dark = page.evaluate(STYLES)
        assert dark["dark"]
        assert dark["body"] == dark["page"] == dark["footer"] == "rgb(18, 18, 18)"
        assert dark["section"] == dark["sectionTable"] == "rgb(30, 30, 30)"
        assert dark["note"] == "rgb(27, 27, 53)" != light["note"]
        for key in ("text", "muted", "link"):
            assert dark[key] != light[key], key
        assert dark["header"] == light["header"] == "rgb(255, 255, 255)"  # on the same blue
        page.emulate_media(color_scheme="light")
        assert page.evaluate(STYLES) == light  # and back
    finally:
        page.context.close()
