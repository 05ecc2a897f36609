"""The archive in headless Chromium: accessibility (axe-core), small screens, dark theme, search,
hostile content that stays inert, and not one request to another site."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import HOSTILE_TITLE, make_archive_data, serve_app

from curator.archive import build_archive
from curator.demo import serve_directory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
#: axe-core: $AXE_CORE_JS, else where .ci/run installs it (npm install --prefix .ci/node axe-core@4).
AXE_PLACES = [
    ROOT / ".ci/node/node_modules/axe-core/axe.min.js",
    ROOT / ".ci/axe/node_modules/axe-core/axe.min.js",
]
AXE = (
    Path(os.environ["AXE_CORE_JS"])
    if os.environ.get("AXE_CORE_JS")
    else next((p for p in AXE_PLACES if p.exists()), AXE_PLACES[0])
)
SUBPATH = "sous/chemin/archive"  # the archive works from any path: here, three folders down
PAGES = {
    "index": "index.html",
    "issue": "2022-01/index.html",
    "lab": "labs/lab-normandie/index.html",
    "labs": "labs/index.html",
    "theme": "themes/facilitation/index.html",
    "theme year": "themes/facilitation/2021/index.html",
    "search": "recherche/index.html?q=atelier",
    "accessibility": "accessibilite/index.html",
    "404": "404.html",
}


def tool_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    directory = tmp_path_factory.mktemp("archive")
    data = make_archive_data(directory)
    out = directory / "served" / SUBPATH
    out.parent.mkdir(parents=True)
    build_archive(data.store, data.config, out, now=datetime(2022, 2, 1, tzinfo=UTC))
    yield out, data
    data.store.close()


@pytest.fixture(scope="module")
def base(site: tuple[Path, Any]) -> Iterator[str]:
    out, _ = site
    with serve_directory(out.parents[2]) as url:
        yield f"{url}/{SUBPATH}/"


@pytest.fixture(scope="module")
def visit(browser: Any) -> Iterator[Any]:
    """``visit(url, **context_options)`` → a page at ``url``; one page per set of options, reused.

    Requests to other hosts are blocked and recorded: there must be none."""
    pages: dict[str, Any] = {}
    external: list[str] = []

    def route(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "file://", "data:")):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    def open_page(url: str, **options: Any) -> Any:
        options.setdefault("locale", "fr-FR")
        key = json.dumps(options, sort_keys=True)
        if key not in pages:
            context = browser.new_context(bypass_csp=True, **options)  # bypass_csp: to inject axe-core
            context.route("**/*", route)
            page = context.new_page()
            page.on(
                "dialog", lambda dialog, page=page: (page.dialogs.append(dialog.message), dialog.dismiss())
            )
            page.on("pageerror", lambda error, page=page: page.errors.append(str(error)))
            page.set_default_timeout(30_000)  # generous for a busy machine
            pages[key] = page
        page = pages[key]
        page.dialogs, page.errors = [], []
        response = page.goto(url)
        assert response is None or response.status in (200, 304), (url, response.status)
        return page

    yield open_page
    for page in pages.values():
        page.context.close()
    assert external == [], f"requests to other sites: {external}"


def axe_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    if not AXE.exists():
        tool_missing(
            f"axe-core is missing: npm install --prefix .ci/node axe-core@4 (or set AXE_CORE_JS); looked for {AXE}"
        )
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def wait_for_results(page: Any) -> None:
    page.wait_for_function("document.getElementById('search-status').textContent.length > 0")


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_problem(visit: Any, base: str, name: str) -> None:
    page = visit(base + PAGES[name])
    if name == "search":
        wait_for_results(page)
    assert axe_problems(page) == []
    assert page.errors == []


@pytest.mark.parametrize("name", ["issue", "search"])
def test_no_serious_accessibility_problem_in_the_dark_theme(visit: Any, base: str, name: str) -> None:
    page = visit(base + PAGES[name], color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(22, 22, 22)"
    if name == "search":
        wait_for_results(page)
    assert axe_problems(page) == []


def test_the_contribution_form_has_no_serious_accessibility_problem(
    visit: Any, site: tuple[Path, Any]
) -> None:
    from curator.web import create_app

    out, data = site
    app = create_app(
        data.config.path, data.directory / "curator.db", testing=True, CURATOR_ARCHIVE_DIR=str(out)
    )
    with serve_app(app) as url:
        form = visit(url + "/contribuer")
        assert axe_problems(form) == []
        home = visit(url + "/")  # the archive, served by `curator serve`
        assert "Infolettre — janvier 2022" in home.content()
        assert axe_problems(home) == []


@pytest.mark.parametrize("name", ["index", "issue", "search", "lab", "theme", "accessibility"])
def test_readable_at_320_pixels_without_horizontal_scrolling(visit: Any, base: str, name: str) -> None:
    page = visit(base + PAGES[name], viewport={"width": 320, "height": 640})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{name} is {width} px wide"


def test_hostile_content_is_inert(visit: Any, base: str) -> None:
    for path in (
        "2022-01/index.html",
        "2022-01/email.html",
        "index.html",
        "themes/facilitation/index.html",
        "recherche/index.html?q=pi%C3%A9g%C3%A9",
    ):
        page = visit(base + path)
        if "recherche" in path:
            wait_for_results(page)
        assert page.evaluate("window.__pwned") is None, path
        assert page.dialogs == [], path
        handlers = page.evaluate(
            "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
            ".filter(n => n.startsWith('on'))"
        )
        assert handlers == [], path
        hrefs = page.evaluate(
            "[...document.querySelectorAll('[href],[src]')].map(e => e.getAttribute('href') || e.getAttribute('src'))"
        )
        assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")], path
        assert page.evaluate("document.querySelectorAll('iframe, object, embed, svg').length") == 0, path


def test_the_hostile_title_is_shown_as_text(visit: Any, base: str) -> None:
    page = visit(base + "2022-01/index.html")
    headings = page.locator("h3").all_inner_texts()
    assert HOSTILE_TITLE in headings
    scripts = page.evaluate("[...document.scripts].map(s => s.type || 'text/javascript')")
    assert scripts == ["application/ld+json"]
    data = json.loads(
        page.evaluate("document.querySelector('script[type=\"application/ld+json\"]').textContent")
    )
    assert data["headline"] == "Infolettre — janvier 2022"


def test_search_works_without_a_server(visit: Any, base: str, site: tuple[Path, Any]) -> None:
    page = visit(base + "recherche/index.html")
    page.fill("#q", "co-développement")
    page.click("button[type=submit]")
    wait_for_results(page)
    status = page.locator("#search-status").inner_text()
    assert "résultat" in status and "co-développement" in status
    titles = page.locator("#search-results h2").all_inner_texts()
    assert "Co-développement entre CPE" in titles
    assert "q=co-d%C3%A9veloppement" in page.url or "q=co-développement" in page.url
    page.locator("#search-results a", has_text="Co-développement entre CPE").first.click()
    page.wait_for_url("**/2021-12/index.html#r1")
    assert page.locator("#r1").is_visible()
    # accents and case do not matter; every word must be found
    page = visit(base + "recherche/index.html?q=DEVELOPPEMENT%20cpe")
    wait_for_results(page)
    assert "Co-développement entre CPE" in page.locator("#search-results h2").all_inner_texts()
    page = visit(base + "recherche/index.html?q=zzzz")
    wait_for_results(page)
    assert "Aucun résultat" in page.locator("#search-status").inner_text()
    # and straight from the disk (file://), as the demo opens it
    out, _ = site
    page = visit((out / "recherche" / "index.html").as_uri() + "?q=atelier")
    wait_for_results(page)
    assert page.locator("#search-results li").count() > 0


def test_keyboard_users_can_skip_to_the_content(visit: Any, base: str) -> None:
    page = visit(base + "2022-01/index.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"


def test_the_accessibility_check_finds_problems(visit: Any, site: tuple[Path, Any]) -> None:
    out, _ = site
    bad = out.parent / "bad.html"  # outside the archive: a page with two known serious problems
    bad.write_text(
        '<!DOCTYPE html><html><head><title>x</title></head><body><img src="data:,">'
        '<p style="color:#bbb;background:#fff">peu lisible</p></body></html>',
        encoding="utf-8",
    )
    problems = axe_problems(visit(bad.as_uri()))
    assert any("image-alt" in p for p in problems) and any("color-contrast" in p for p in problems)
    assert any("html-has-lang" in p for p in problems)
