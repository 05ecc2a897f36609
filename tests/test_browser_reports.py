"""What a person sees, in a real headless Chromium: the form by its labels, moderation, hostile input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, serve_app

from curator.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def site(make_app: Any, editor_account: Any) -> Iterator[tuple[str, str]]:
    app = make_app()
    with serve_app(app) as base:
        yield base, app.extensions["curator"].db_path


def fill_form(page: Any, **values: str) -> None:
    """Fill the contribution form by its visible labels, as a person would."""
    if "lab_other" in values:
        page.get_by_label("Votre lab", exact=True).select_option(label="Un autre lab")
        page.get_by_label("Nom de votre lab, s’il n’est pas dans la liste").fill(values["lab_other"])
    else:
        page.get_by_label("Votre lab", exact=True).select_option(label="Lab’Innov Normandie (Normandie)")
    page.get_by_label("Vos prénom et nom").fill(values.get("author_name", "Claire Lemoine"))
    page.get_by_label("Votre adresse électronique").fill(
        values.get("author_email", "claire@ac-normandie.example")
    )
    page.get_by_label("Titre", exact=True).fill(values.get("title", "Des ateliers de co-développement"))
    page.get_by_label("Résumé").fill(values.get("summary", "Huit CPE, une fois par mois."))
    page.get_by_label("Votre retour d’expérience").fill(
        values.get("body", "Le **contexte**, puis ce que nous avons fait.")
    )
    page.get_by_label("Lien pour en savoir plus (facultatif)").fill(
        values.get("link", "https://labs.example.org/codev")
    )
    page.get_by_label("Facilitation").check()
    page.get_by_label("Licence Ouverte 2.0").check()
    page.get_by_label("J’accepte que mon retour soit publié").check()


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/editeur/")
    assert "/editeur/connexion" in page.url
    page.get_by_label("Adresse électronique").fill(TEST_EDITOR_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_EDITOR_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Retours d’expérience", level=1).wait_for()


def test_a_person_submits_a_report_and_an_editor_approves_it(page: Any, site: tuple[str, str]) -> None:
    base, db = site
    page.goto(f"{base}/contribuer")
    fill_form(page, title="Un an de temps du lab en visio")
    page.get_by_role("button", name="Envoyer mon retour").click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Merci\u00a0: votre retour a bien été envoyé"
    assert page.url.endswith("/contribuer/merci")

    log_in(page, base)
    page.get_by_role("link", name="Un an de temps du lab en visio").click()
    page.get_by_role("heading", name="Tel qu’il paraîtra dans l’infolettre").wait_for()
    assert page.locator(".preview strong").inner_text() == "contexte"
    page.get_by_role("button", name="Approuver").click()
    assert "Retour approuvé" in page.get_by_role("status").inner_text()
    with Store.open(db) as store:
        [report] = store.reports()
    assert report.status == "approved" and report.decided_by == TEST_EDITOR_EMAIL
    assert page.dialogs == []


HOSTILE = {
    "lab_other": '<script>alert("lab")</script>',
    "author_name": '<img src=x onerror=alert("name")>',
    "author_email": '"><svg/onload=alert(1)>@example.org',
    "title": '<b id="injected">titre</b><script>alert("title")</script>',
    "summary": '</textarea><img id="injected-summary" src=x onerror=alert("summary")>',
    "body": '[clic](javascript:alert("body")) <iframe id="injected-frame" src="javascript:alert(2)"></iframe>',
    "link": 'https://example.org/"><script>alert("link")</script>',
}

INJECTED = "script, iframe, svg, object, embed, [onerror], [onload], [id^=injected], a[href^='javascript:' i]"


def test_hostile_input_is_stored_verbatim_and_never_executed(page: Any, site: tuple[str, str]) -> None:
    base, db = site
    page.goto(f"{base}/contribuer")
    # First with an error (no consent): the form comes back with the hostile text in it.
    fill_form(page, **HOSTILE)
    page.get_by_label("J’accepte que mon retour soit publié").uncheck()
    page.get_by_role("button", name="Envoyer mon retour").click()
    assert "Il y a un problème" in page.content()
    assert page.locator(INJECTED).count() == 0
    assert page.get_by_label("Titre", exact=True).input_value() == HOSTILE["title"]
    assert page.get_by_label("Résumé").input_value() == HOSTILE["summary"]
    page.get_by_label("J’accepte que mon retour soit publié").check()
    page.get_by_role("button", name="Envoyer mon retour").click()
    assert page.url.endswith("/contribuer/merci")

    with Store.open(db) as store:
        [report] = store.reports()
    for field, value in HOSTILE.items():
        assert getattr(report, field) == value, field

    log_in(page, base)
    for path in ("/editeur/", f"/editeur/retours/{report.id}", f"/editeur/retours/{report.id}/modifier"):
        page.goto(base + path)
        assert page.locator(INJECTED).count() == 0, path
    page.goto(f"{base}/editeur/retours/{report.id}")
    # Shown as text, for the editor to read.
    assert HOSTILE["title"] in page.get_by_role("heading", level=3).inner_text()
    assert 'javascript:alert("body")' in page.locator(".report-body").inner_text()
    assert page.dialogs == []


def test_the_form_works_at_320_pixels_and_with_the_keyboard(page: Any, site: tuple[str, str]) -> None:
    base, _db = site
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{base}/contribuer")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Aller au contenu"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    # Send the empty form with the keyboard: the summary of errors takes the focus.
    page.get_by_role("button", name="Envoyer mon retour").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.title().startswith("Erreur\u00a0:")
    assert page.evaluate("document.activeElement.className") == "error-summary"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # Each link of the summary leads to its field.
    page.get_by_role("link", name=re.compile("^Titre")).click()
    assert page.evaluate("document.activeElement.id") == "title"
