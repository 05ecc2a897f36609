"""Lab portraits in the editor area: the issue's page shows its « Portrait de lab » section, adds a
lab from a menu (POST, CSRF, the order of the section as the page showed it), moves, annotates and
removes portraits, through Flask's test client on a real database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import WebClient

from curator import editorial, labs
from curator.models import Month

JAN, FEB = Month.parse("2022-01"), Month.parse("2022-02")
NOW = datetime(2022, 1, 20, tzinfo=UTC)
ISSUE = "/editeur/numeros/2022-01"

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def logged_in(web: WebClient, editor_account: Any) -> WebClient:
    state = web.app.extensions["curator"]
    with web.store() as store:
        store.sync_sources(state.config.sources, NOW)
        labs.set_card(
            store,
            state.config,
            "lab-normandie",
            {"stage": "actif", "service_offer": "Des ateliers."},
            by="t",
            now=NOW,
        )
        labs.set_card(store, state.config, "lab-bretagne", {"stage": "lancement"}, by="t", now=NOW)
    assert web.login().status_code == 303
    return web


def _field(page: str, name: str, form_class: str = "add-portrait") -> str:
    """A hidden field of the first form of ``form_class`` on the page."""
    form = re.search(rf'<form [^>]*class="[^"]*{form_class}[^"]*">(.*?)</form>', page, re.S)
    assert form is not None, form_class
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', form.group(1))
    assert found is not None, name
    return found.group(1)


def _options(page: str) -> dict[str, str]:
    """The labs the add menu offers: value → label."""
    select = re.search(r'<select id="add-lab-portraits" name="ref"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return dict(re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(1)))


def _add(web: WebClient, lab: str, page: str | None = None) -> Any:
    page = page or web.client.get(ISSUE).get_data(as_text=True)
    form = {
        "ref": f"lab:{lab}",
        "section": "portraits",
        "new": "1",
        "layout": _field(page, "layout"),
        "retour": _field(page, "retour"),
    }
    return web.post(f"{ISSUE}/choisir", form)


def _portraits(web: WebClient, month: Month = JAN) -> list[str]:
    with web.store() as store:
        found = store.labs_of_cards([p.ref_id for p in store.picks(month, "portraits")])
        return [found[p.ref_id] for p in store.picks(month, "portraits")]


def test_the_issue_page_adds_a_lab_from_its_menu(logged_in: WebClient) -> None:
    web = logged_in
    page = web.client.get(ISSUE).get_data(as_text=True)
    assert (
        '<h2 id="section-portraits">Portrait de lab' in page and "Aucun lab présenté pour l’instant." in page
    )
    options = _options(page)
    assert list(options)[:2] == ["lab:lab-normandie", "lab:lab-bretagne"]  # filled cards first
    assert options["lab:lab-normandie"] == "Lab’Innov Normandie — jamais présenté"
    assert options["lab:lab-lyon"].endswith("— fiche vide")
    assert '<label for="add-lab-portraits">Lab à présenter</label>' in page
    r = _add(web, "lab-normandie", page)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"{ISSUE}#section-portraits")
    assert _portraits(web) == ["lab-normandie"]
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Ajouté au numéro." in page
    with web.store() as store:
        ref = f"l{store.lab_card_id('lab-normandie')}"
    assert f'id="pick-{ref}"' in page and "Lab’Innov Normandie" in page
    assert 'href="https://labs.example.org/archive/labs/lab-normandie/"' in page
    assert "lab:lab-normandie" not in _options(page)  # already in the issue
    # Portraits are ordered with the buttons, never dragged, and nothing else is dropped among them.
    section = page[page.index('<section aria-labelledby="section-portraits"') :]
    section = section[: section.index("</section>")]
    assert "drop-zone" not in section and "drag-handle" not in section
    assert 'class="portraits"' in section


def test_a_lab_with_an_empty_card_is_flagged(logged_in: WebClient) -> None:
    web = logged_in
    assert _add(web, "lab-lyon").status_code == 303
    page = web.client.get(ISSUE).get_data(as_text=True)
    assert "Ce lab n’a pas encore rempli sa fiche\u00a0: seul son nom paraîtra." in page


def test_adding_needs_the_csrf_token_and_a_post(logged_in: WebClient) -> None:
    web = logged_in
    page = web.client.get(ISSUE).get_data(as_text=True)
    form = {"ref": "lab:lab-normandie", "section": "portraits", "layout": _field(page, "layout")}
    assert web.post(f"{ISSUE}/choisir", form, csrf=False).status_code == 400
    assert web.client.get(f"{ISSUE}/choisir").status_code == 405
    assert web.client.head(ISSUE).status_code == 200
    assert _portraits(web) == []
    with web.store() as store:
        assert store.issue(JAN) is None  # neither the page nor a refused form created anything


def test_a_page_drawn_before_another_portrait_was_added_is_refused(logged_in: WebClient) -> None:
    web = logged_in
    stale = web.client.get(ISSUE).get_data(as_text=True)
    assert _add(web, "lab-normandie", stale).status_code == 303  # editor A
    r = _add(web, "lab-bretagne", stale)  # editor B, from the page drawn before
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Quelqu’un d’autre a modifié l’ordre de cette rubrique entre-temps" in page
    assert _portraits(web) == ["lab-normandie"]
    # The same lab added twice (from two tabs) is refused: it stays where it is.
    r = _add(web, "lab-normandie", stale)
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Quelqu’un d’autre l’a choisi entre-temps" in page
    assert _portraits(web) == ["lab-normandie"]


def test_a_full_section_offers_no_menu_and_refuses_a_third(logged_in: WebClient) -> None:
    web = logged_in
    for lab in ("lab-normandie", "lab-bretagne"):
        assert _add(web, lab).status_code == 303
    page = web.client.get(ISSUE).get_data(as_text=True)
    assert "Cette rubrique est complète\u00a0: retirez un portrait pour présenter un autre lab." in page
    assert 'id="add-lab-portraits"' not in page
    r = web.post(f"{ISSUE}/choisir", {"ref": "lab:lab-lyon", "section": "portraits"})
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Cette rubrique est complète" in page
    assert _portraits(web) == ["lab-normandie", "lab-bretagne"]


def test_move_note_and_remove_a_portrait(logged_in: WebClient) -> None:
    web = logged_in
    for lab in ("lab-normandie", "lab-bretagne"):
        assert _add(web, lab).status_code == 303
    with web.store() as store:
        first, second = (f"l{store.lab_card_id(lab)}" for lab in ("lab-normandie", "lab-bretagne"))
    page = web.client.get(ISSUE).get_data(as_text=True)
    layout = re.search(r'name="layout" value="([^"]*)"', page)
    assert layout is not None
    r = web.post(f"{ISSUE}/deplacer", {"ref": second, "direction": "up", "layout": layout.group(1)})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"#pick-{second}")
    assert _portraits(web) == ["lab-bretagne", "lab-normandie"]
    # The note: a portrait takes a note, and no other wording.
    form_page = web.client.get(f"{ISSUE}/choix/{first}").get_data(as_text=True)
    assert "Note sur le portrait de Lab’Innov Normandie" in form_page
    assert (
        'name="note"' in form_page and 'name="title"' not in form_page and 'name="summary"' not in form_page
    )
    version = re.search(r'name="pick_version" value="(\d+)"', form_page)
    assert version is not None
    r = web.post(
        f"{ISSUE}/choix/{first}",
        {"pick_version": version.group(1), "note": "Un lab **à suivre**.", "title": "Autre nom"},
    )
    assert r.status_code == 303
    page = web.client.get(ISSUE).get_data(as_text=True)
    assert "<strong>à suivre</strong>" in page and "Autre nom" not in page
    with web.store() as store:
        pick = store.pick_for(JAN, "lab", int(first[1:]))
        assert pick is not None and pick.note == "Un lab **à suivre**." and pick.title is None
    # Removing it checks its note's version, as for any pick.
    r = web.post(f"{ISSUE}/retirer", {"ref": first, "pick_version": pick.version - 1})
    assert "lab-normandie" in _portraits(web)
    r = web.post(f"{ISSUE}/retirer", {"ref": first, "pick_version": pick.version})
    assert r.status_code == 303 and _portraits(web) == ["lab-bretagne"]
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Retiré du numéro." in page and "lab:lab-normandie" in _options(page)


def test_the_menu_says_when_a_lab_was_last_portrayed(logged_in: WebClient) -> None:
    web = logged_in
    assert _add(web, "lab-normandie").status_code == 303
    with web.store() as store:
        editorial.publish(store, web.app.extensions["curator"].config, JAN, NOW)
    page = web.client.get("/editeur/numeros/2022-02").get_data(as_text=True)
    options = _options(page)
    assert options["lab:lab-normandie"] == "Lab’Innov Normandie — dernier portrait en janvier 2022"
    assert list(options)[-1] == "lab:lab-normandie"  # portrayed most recently: last
    r = web.post("/editeur/numeros/2022-02/choisir", {"ref": "lab:lab-normandie", "section": "portraits"})
    assert r.status_code == 303 and _portraits(web, FEB) == ["lab-normandie"]  # again, a month later


def test_a_published_issue_shows_its_portraits_without_forms(logged_in: WebClient) -> None:
    web = logged_in
    assert _add(web, "lab-normandie").status_code == 303
    with web.store() as store:
        editorial.publish(store, web.app.extensions["curator"].config, JAN, NOW)
    page = web.client.get(ISSUE).get_data(as_text=True)
    assert "Lab’Innov Normandie" in page and 'id="add-lab-portraits"' not in page
    r = web.post(f"{ISSUE}/choisir", {"ref": "lab:lab-bretagne", "section": "portraits"})
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "publié" in page and _portraits(web) == ["lab-normandie"]


def test_a_lab_sent_into_another_section_is_refused(logged_in: WebClient) -> None:
    """Only a tampered form does this (the menu names the labs section): nothing moves, the page says why."""
    web = logged_in
    r = web.post(f"{ISSUE}/choisir", {"ref": "lab:lab-normandie", "section": "veille"})
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert r.status_code == 303 and "notice--error" in page
    r = web.post(f"{ISSUE}/choisir", {"ref": "lab:nulle-part", "section": "portraits"})
    assert "notice--error" in web.client.get(r.headers["Location"]).get_data(as_text=True)
    with web.store() as store:
        assert store.picks(JAN) == []


@pytest.mark.browser
@pytest.mark.slow
def test_add_a_portrait_in_the_browser(logged_in: WebClient, browser: Any) -> None:
    """From the keyboard-usable menu of the issue's page, in Chromium; no serious axe-core problem."""
    from conftest import serve_app
    from support.browser import log_in_editor, watch_page
    from test_browser_archive import axe_problems

    with serve_app(logged_in.app) as base:
        context = browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 800}, bypass_csp=True
        )
        try:
            page = context.new_page()
            problems = watch_page(page)
            log_in_editor(page, base + ISSUE)
            page.wait_for_url("**" + ISSUE)
            menu = page.get_by_label("Lab à présenter")
            menu.select_option(label="Lab Breizh Éduc — jamais présenté")
            page.get_by_role("button", name="Ajouter : Portrait de lab").click()
            assert "Ajouté au numéro." in page.inner_text("main")
            portraits = page.locator("section.portraits")
            assert portraits.get_by_role("link", name="Lab Breizh Éduc", exact=True).count() == 1
            assert axe_problems(page) == []
            page.set_viewport_size({"width": 375, "height": 800})
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            assert problems == []
        finally:
            context.close()
    assert _portraits(logged_in) == ["lab-bretagne"]
