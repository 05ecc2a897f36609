"""A lab updates its card in a real headless Chromium, as a person would (by the labels), then an
editor reads the changes field by field and approves them; the pages work at 320 px and have no
serious accessibility problem (axe-core)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_EDITOR_EMAIL, serve_app
from support.browser import log_in_editor, watch_page
from test_browser_archive import axe_problems

from curator import labs
from curator.config import load_config
from curator.demo.labs import DEMO_CARDS, seed_demo_cards
from curator.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def site(make_app: Any, editor_account: Any) -> Iterator[tuple[str, str]]:
    app = make_app()
    state = app.extensions["curator"]
    with Store.open(state.db_path) as store:
        seed_demo_cards(store, state.config, datetime(2022, 1, 10, tzinfo=UTC))
    with serve_app(app) as base:
        yield base, state.db_path


def test_a_lab_updates_its_card_and_an_editor_approves_it(page: Any, site: tuple[str, str]) -> None:
    base, db = site
    problems = watch_page(page)
    page.goto(f"{base}/contribuer")
    page.get_by_role("link", name="Mettre à jour la fiche de votre lab").click()

    # Choose the lab: a plain GET form, no script.
    page.get_by_label("Votre lab", exact=True).select_option(label="Lab’Innov Normandie (Normandie)")
    page.get_by_role("button", name="Afficher la fiche").click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Mettre à jour la fiche de Lab’Innov Normandie"

    # The form shows the card as it is.
    assert page.get_by_label("Oui", exact=True).is_checked()
    assert page.get_by_label("Actif", exact=True).is_checked()
    assert page.get_by_label("Numérique", exact=True).is_checked()
    assert not page.get_by_label("Sociale", exact=True).is_checked()
    assert (
        page.get_by_label("Offre de service (facultatif)").input_value()
        == DEMO_CARDS["lab-normandie"]["service_offer"]
    )
    assert page.get_by_label("Adresse de contact (facultatif)").input_value() == "lab-innov@example.org"
    assert page.get_by_label("Afficher l’adresse de contact sur la page du lab").is_checked()

    # Change the stage and a type, say who we are, send.
    page.get_by_label("En lancement", exact=True).check()
    page.get_by_label("Sociale", exact=True).check()
    page.get_by_label("Vos prénom et nom").fill("Claire Lemoine")
    page.get_by_label("Votre adresse électronique").fill("claire@ac-normandie.example")
    page.get_by_role("button", name="Envoyer la mise à jour").click()
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Merci\u00a0: votre mise à jour a bien été envoyée"
    )
    assert page.url.endswith("/contribuer/lab/merci")
    with Store.open(db) as store:
        assert store.lab_card("lab-normandie").stage == "actif"  # not before an editor approves

    # An editor sees the proposal, what it changes field by field, and approves it.
    log_in_editor(page, f"{base}/editeur/labs")
    page.get_by_role("heading", name="Fiches d’identité des labs", level=1).wait_for()
    assert (
        "1"
        in page.get_by_role("navigation", name="Espace éditeur").get_by_role("link", name="Labs").inner_text()
    )
    page.get_by_role("link", name="Proposition n°\u00a01\u00a0: Lab’Innov Normandie").click()
    fields = page.locator(".lab-diff-field h3").all_inner_texts()
    assert fields == ["Types d’innovation", "Stade"]
    stage = page.locator(".lab-diff-field", has=page.get_by_role("heading", name="Stade"))
    assert "actif" in stage.inner_text() and stage.locator("ins").inner_text() == "en lancement"
    types = page.locator(".lab-diff-field", has=page.get_by_role("heading", name="Types d’innovation"))
    assert "Sociale" in types.locator("ins").inner_text()
    page.get_by_role("button", name="Approuver").click()
    assert "Proposition approuvée" in page.get_by_role("status").inner_text()

    with Store.open(db) as store:
        card = store.lab_card("lab-normandie")
        [proposal] = store.lab_proposals()
    assert card.stage == "lancement"
    assert card.innovation_types == ("pedagogique", "numerique", "design-de-service", "sociale")
    assert card.updated_by == TEST_EDITOR_EMAIL and proposal.status == "approved"

    # The card's page shows the change in its history.
    page.get_by_role("link", name="Lab’Innov Normandie").first.click()
    page.get_by_text("proposition n°\u00a01 approuvée").wait_for()
    assert problems == []
    assert page.dialogs == []


def test_errors_lead_to_their_fields_and_nothing_typed_is_lost(page: Any, site: tuple[str, str]) -> None:
    base, db = site
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{base}/contribuer/lab?lab=lab-lyon")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_label("Offre de service (facultatif)").fill(
        "Voir [ici](javascript:alert(1)) <script>alert(2)</script>"
    )
    page.get_by_label("Adresse de contact (facultatif)").fill("pas-une-adresse")
    page.get_by_label("Vos prénom et nom").fill("Ana Ruiz")
    page.get_by_role("button", name="Envoyer la mise à jour").click()
    assert page.title().startswith("Erreur\u00a0:")
    assert page.evaluate("document.activeElement.className") == "error-summary"
    assert "Il y a 3 problèmes" in page.locator(".error-summary").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator("script").count() == 0 and page.dialogs == []
    # What was typed is there, as typed.
    assert (
        page.get_by_label("Offre de service (facultatif)").input_value().endswith("<script>alert(2)</script>")
    )
    assert page.get_by_label("Vos prénom et nom").input_value() == "Ana Ruiz"
    page.get_by_role("link", name="Adresse de contact").click()
    assert page.evaluate("document.activeElement.id") == "contact_email"
    with Store.open(db) as store:
        assert store.lab_proposals() == []


def test_no_serious_accessibility_problem(browser: Any, site: tuple[str, str]) -> None:
    base, db = site
    config_path = Path(db).parent / "sources.yaml"
    # axe-core is injected as a script: the pages' policy forbids scripts of their own, so this context ignores it.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        for path in ("/contribuer/lab", "/contribuer/lab?lab=lab-normandie", "/contribuer/lab/merci"):
            page.goto(base + path)
            assert axe_problems(page) == [], path
        page.goto(f"{base}/contribuer/lab?lab=lab-normandie")
        page.get_by_role("button", name="Envoyer la mise à jour").click()  # no name, no address: errors
        assert axe_problems(page) == [], "the form with errors"
        log_in_editor(page, f"{base}/editeur/labs")
        page.get_by_role("heading", level=1).wait_for()
        assert axe_problems(page) == [], "/editeur/labs"
        page.goto(f"{base}/editeur/labs/fiches/lab-normandie")
        assert axe_problems(page) == [], "the card's page"
        with Store.open(db) as store:
            config = load_config(config_path)
            data = {**labs.form_data(store.lab_card("lab-normandie")), "stage": "lancement"}
            data.update(author_name="Claire", author_email="claire@example.org")
            data["service_offer"] += " Et encore un atelier."
            proposal, _created = labs.propose(store, labs.validate_proposal(data, config), datetime.now(UTC))
        page.goto(f"{base}/editeur/labs/propositions/{proposal.id}")
        assert axe_problems(page) == [], "the proposal's page"
    finally:
        context.close()
