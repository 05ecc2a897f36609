"""The issue page one works in, in a real browser, on the demo's issue (11 picks, two of them lab
portraits, an édito, an agenda), reopened so that every action shows: a few screens tall on a
laptop, no horizontal scrolling on a phone, no serious accessibility problem (axe-core), and a
favicon."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import serve_app
from test_browser_archive import axe_problems

from curator.cli import cli
from curator.demo import SAMPLE_MONTH, run_demo
from curator.demo.reports import DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD
from curator.web import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ISSUE = f"/editeur/numeros/{SAMPLE_MONTH}"
CANDIDATES = f"{ISSUE}/candidats"
#: At most this many pixels tall at 1280×800: four screens and a bit (the page was 6,036 px before;
#: the demo's two lab portraits added some 360 px).
MAX_HEIGHT = 3500


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """The demo's issue, reopened, under the web app: (base URL, every (path, status) answered)."""
    directory = tmp_path_factory.mktemp("issue-page") / "demo"
    run_demo(directory, echo=lambda _line: None)
    db, config = str(directory / "curator.db"), str(directory / "sources.yaml")
    result = CliRunner().invoke(
        cli, ["--db", db, "--config", config, "issue", "reopen", "--month", SAMPLE_MONTH]
    )
    assert result.exit_code == 0, result.output
    app = create_app(config, db, testing=True)
    answered: list[tuple[str, int]] = []
    inner = app.wsgi_app

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            answered.append((environ.get("PATH_INFO", ""), int(status.split()[0])))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = recording  # type: ignore[method-assign]
    with serve_app(app) as base:
        yield base, answered


@pytest.fixture
def editor(browser: Any, demo: tuple[str, list[tuple[str, int]]]) -> Iterator[Any]:
    """A page logged in as the demo's editor, at 1280×800 (bypass_csp: to inject axe-core)."""
    base, _answered = demo
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(base + ISSUE)
    page.get_by_label("Adresse électronique").fill(DEMO_EDITOR_EMAIL)
    page.get_by_label("Mot de passe").fill(DEMO_EDITOR_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**" + ISSUE)
    page.base = base
    try:
        yield page
        assert page.errors == []
    finally:
        context.close()


def _height(page: Any) -> int:
    height: int = page.evaluate("document.documentElement.scrollHeight")
    return height


def test_the_issue_page_is_a_few_screens_tall(editor: Any) -> None:
    page = editor
    assert page.locator("[data-pick]").count() == 11 and page.locator("#reorder-hint").is_visible()
    height = _height(page)
    assert height <= MAX_HEIGHT, f"the issue page is {height} px tall at 1280×800"
    # Each pick's other actions wait in a closed disclosure, which the keyboard opens.
    disclosures = page.locator("[data-pick] details.more-actions")
    assert disclosures.count() == 11
    assert page.locator("[data-pick] details[open]").count() == 0
    first = page.locator("[data-pick]").first
    menu = first.locator("select[name=section]")
    assert not menu.is_visible()
    first.locator("summary").focus()
    page.keyboard.press("Enter")
    assert menu.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "section"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Déplacer dans cette rubrique")
    # The agenda's form waits in its disclosure too.
    assert not page.get_by_label("Date de début").is_visible()
    page.get_by_text("Ajouter un événement").click()
    assert page.get_by_label("Date de début").is_visible()


@pytest.mark.parametrize("path", [ISSUE, CANDIDATES])
def test_no_horizontal_scrolling_at_375_pixels(editor: Any, path: str) -> None:
    page = editor
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(page.base + path)
    for summary in page.locator("details > summary").all()[:3]:  # open disclosures must fit too
        summary.click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width} px wide at 375 px"


@pytest.mark.parametrize("path", [ISSUE, CANDIDATES])
def test_no_serious_accessibility_problem(editor: Any, path: str) -> None:
    page = editor
    page.goto(page.base + path)
    assert axe_problems(page) == []
    if path == ISSUE:  # with a pick's actions and the agenda's form open
        page.locator("[data-pick] summary").first.click()
        page.get_by_text("Ajouter un événement").click()
        assert axe_problems(page) == []


def test_no_serious_accessibility_problem_in_a_conflict(editor: Any) -> None:
    """The édito refused as stale: both versions side by side, still accessible, still narrow."""
    page = editor
    page.goto(page.base + ISSUE)
    # Another tab of the same editor saves an édito: this page is stale.
    other = page.request.post(
        page.base + ISSUE + "/edito",
        form={
            "csrf_token": page.locator("input[name=csrf_token]").first.input_value(),
            "edito_version": page.locator("input[name=edito_version]").input_value(),
            "edito": "L’édito enregistré dans un autre onglet",
        },
    )
    assert other.ok
    page.get_by_label("Édito (Markdown)").fill("Un édito tapé sur une page périmée")
    with page.expect_response(lambda r: r.url.endswith("/edito")) as answer:
        page.get_by_role("button", name="Enregistrer l’édito").click()
    assert answer.value.status == 409
    assert page.get_by_label("Votre édito (Markdown)").input_value() == "Un édito tapé sur une page périmée"
    theirs = page.get_by_label("L’édito enregistré par quelqu’un d’autre").input_value()
    assert theirs == "L’édito enregistré dans un autre onglet"
    assert axe_problems(page) == []


def test_the_candidates_search_box_is_large(editor: Any) -> None:
    page = editor
    page.goto(page.base + CANDIDATES)
    box = page.get_by_label("Rechercher dans les candidats").bounding_box()
    assert box is not None and box["width"] >= 600 and box["height"] >= 40


def test_the_favicon_is_found(editor: Any, demo: tuple[str, list[tuple[str, int]]]) -> None:
    page = editor
    base, answered = demo
    page.goto(base + CANDIDATES)
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon == "/static/favicon.svg"
    for _ in range(50):  # the browser asks for it by itself, a moment after the page
        if any(path == icon for path, _status in answered):
            break
        page.wait_for_timeout(100)
    requested = [status for path, status in answered if path == icon]
    assert requested and set(requested) <= {200, 304}
    response = page.request.get(base + icon)
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    legacy = page.request.get(base + "/favicon.ico")  # for browsers that ask for it anyway
    assert legacy.status == 200 and legacy.headers["content-type"].startswith("image/svg+xml")
    # Nothing the pages of this module asked for was missing.
    assert [(path, status) for path, status in answered if status == 404] == []
