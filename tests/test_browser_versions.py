"""Two editors in two browsers on the same issue: nothing typed is ever lost, and changes to
different things (the édito, the order of the picks) never conflict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, seed_candidates, serve_app

from curator import editorial
from curator.editors import add_editor
from curator.models import Month
from curator.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]
NOW = datetime(2022, 1, 20, tzinfo=UTC)
JAN = Month.parse("2022-01")
OTHER_EDITOR = ("collegue@labs.example.org", "un autre mot de passe solide")


@pytest.fixture
def site(app: Any, editor_account: Any) -> Iterator[tuple[str, Any]]:
    """Two picks in Veille and an édito, two editors."""
    seed_candidates(app, {"la27eregion": 2}, NOW)
    state = app.extensions["curator"]
    with Store.open(state.db_path) as store:
        add_editor(store, *OTHER_EDITOR, NOW)
        for ref in ("1", "2"):
            editorial.pick(store, state.config, JAN, ref, NOW, section="veille")
        editorial.set_edito(store, state.config, JAN, "Le premier édito", NOW)
    with serve_app(app) as base:
        yield base, state


@pytest.fixture
def editors(browser: Any, site: tuple[str, Any]) -> Iterator[tuple[Any, Any]]:
    """Editor A and editor B, each logged in in a browser of their own, on the issue's page."""
    base, _state = site
    contexts, pages = [], []
    for email, password in ((TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD), OTHER_EDITOR):
        # Tall enough to hold the whole issue: Playwright cannot scroll in the middle of a drag.
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 2000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.errors = []
        page.on("pageerror", lambda error, page=page: page.errors.append(str(error)))
        page.on("dialog", lambda dialog, page=page: (page.errors.append(dialog.message), dialog.dismiss()))
        page.goto(f"{base}/editeur/numeros/2022-01")
        page.get_by_label("Adresse électronique").fill(email)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url("**/editeur/numeros/2022-01")
        contexts.append(context)
        pages.append(page)
    try:
        yield pages[0], pages[1]
        assert pages[0].errors == [] and pages[1].errors == []
    finally:
        for context in contexts:
            context.close()


def _stored_edito(state: Any) -> str:
    with Store.open(state.db_path) as store:
        issue = store.issue(JAN)
        assert issue is not None
        return issue.edito.replace("\r\n", "\n")  # a browser sends a textarea's lines with CRLF


def _save_edito(page: Any, text: str) -> int:
    """Type ``text`` as the édito and save it; the status of the answer."""
    page.get_by_label("Édito (Markdown)").fill(text)
    with page.expect_response(lambda r: r.url.endswith("/edito")) as answer:
        page.get_by_role("button", name="Enregistrer l’édito").click()
    page.wait_for_load_state()
    status: int = answer.value.status
    return status


def test_a_stale_edito_keeps_what_was_typed_beside_the_saved_one(
    site: tuple[str, Any], editors: tuple[Any, Any]
) -> None:
    _base, state = site
    a, b = editors
    assert _save_edito(a, "L’édito de A") == 303
    assert "Édito enregistré" in a.inner_text("main")

    # B's page still shows the first édito: B types over it and saves.
    typed = "L’édito de B, écrit pendant que A enregistrait le sien.\n\nDeux paragraphes."
    assert _save_edito(b, typed) == 409
    main = b.inner_text("main")
    assert "Quelqu’un d’autre a modifié l’édito entre-temps" in main
    assert b.get_by_label("Votre édito (Markdown)").input_value() == typed  # nothing typed is lost
    theirs = b.get_by_label("L’édito enregistré par quelqu’un d’autre")
    assert theirs.input_value() == "L’édito de A" and theirs.get_attribute("readonly") is not None
    assert b.evaluate("document.activeElement.id") == "edito-text"
    assert _stored_edito(state) == "L’édito de A"  # nothing was overwritten

    # B chooses: keep mine.
    b.get_by_role("button", name="Garder mon édito").click()
    assert "Édito enregistré" in b.inner_text("main")
    assert _stored_edito(state) == typed

    # A's page is stale now; A types, saves, sees B's version, and takes it.
    assert _save_edito(a, "Encore une version de A") == 409
    assert a.get_by_label("Votre édito (Markdown)").input_value() == "Encore une version de A"
    a.get_by_role("link", name="Prendre le sien").click()
    assert a.get_by_label("Édito (Markdown)").input_value() == typed
    assert _stored_edito(state) == typed


def _titles(page: Any) -> list[str]:
    return page.locator("[data-drop-section=veille] [data-pick] .pick-title a").all_inner_texts()


def test_moving_a_pick_while_another_editor_writes_the_edito_never_conflicts(
    site: tuple[str, Any], editors: tuple[Any, Any]
) -> None:
    _base, state = site
    a, b = editors
    a.get_by_label("Édito (Markdown)").fill("A écrit l’édito pendant que B range les articles.")

    # B moves a pick with its button, then by dragging it: A's édito, not saved yet, is unaffected.
    b.get_by_role("button", name="Monter : Veille numéro 1").click()
    assert "Déplacé" in b.inner_text("main")
    assert _titles(b) == ["Veille numéro 1", "Veille numéro 0"]

    # A saves from a page drawn before the move: no conflict, the édito is another thing.
    with a.expect_response(lambda r: r.url.endswith("/edito")) as answer:
        a.get_by_role("button", name="Enregistrer l’édito").click()
    assert answer.value.status == 303
    assert "Édito enregistré" in a.inner_text("main")

    # B drags from a page drawn before A's édito: no conflict either.
    with b.expect_navigation():
        b.locator("#pick-1 .drag-handle").drag_to(b.locator("#pick-2"), target_position={"x": 40, "y": 5})
    assert "Déplacé" in b.inner_text("main") and "modifié" not in b.inner_text("main")
    assert _titles(b) == ["Veille numéro 0", "Veille numéro 1"]

    assert _stored_edito(state) == "A écrit l’édito pendant que B range les articles."
    with Store.open(state.db_path) as store:
        assert [p.ref for p in store.picks(JAN, "veille")] == ["1", "2"]
