"""In a real browser: pick two items into two sections, reorder them, add a note, find it all in `issue show --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, seed_candidates, serve_app
from support.browser import log_in_editor, watch_page

from curator.cli import cli
from curator.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]
NOW = datetime(2022, 1, 20, tzinfo=UTC)


@pytest.fixture
def site(app: Any, editor_account: Any) -> Iterator[tuple[str, Any]]:
    seed_candidates(app, {"la27eregion": 2, "lab-normandie": 2}, NOW)
    with serve_app(app) as base:
        yield base, app.extensions["curator"]


def test_pick_reorder_and_note_in_the_browser(site: tuple[str, Any], page: Any) -> None:
    base, state = site
    page.goto(f"{base}/editeur/numeros/2022-01/candidats")
    page.get_by_label("Adresse électronique").fill(TEST_EDITOR_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_EDITOR_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Candidats pour")

    # Two items into "Veille", one into "Actualités des labs", with the keyboard-usable forms.
    for title, section in (
        ("Veille numéro 0", "Veille"),
        ("Veille numéro 1", "Veille"),
        ("Actualité numéro 1", "Actualités des labs"),
    ):
        page.get_by_label(f"Rubrique pour {title}").select_option(label=section)
        page.get_by_role("button", name=f"Choisir : {title}").click()
        assert "Ajouté au numéro" in page.inner_text("main")

    page.get_by_role("link", name="Retour au numéro").click()
    # Picked in the order 0 then 1: move "Veille numéro 1" to the top.
    page.get_by_role("button", name="Monter : Veille numéro 1").click()
    assert "Déplacé" in page.inner_text("main")
    page.get_by_role("link", name="Note et formulation : Veille numéro 0").click()
    page.get_by_label("Note de la rédaction (Markdown)").fill("À lire : une **méthode** à essaimer.")
    page.get_by_role("button", name="Enregistrer").click()
    assert "Modifications enregistrées" in page.inner_text("main") or "enregistr" in page.inner_text("main")
    assert page.locator("strong", has_text="méthode").count() == 1
    assert page.dialogs == []

    result = CliRunner().invoke(
        cli,
        [
            "--db",
            state.db_path,
            "--config",
            str(state.config.path),
            "issue",
            "show",
            "--month",
            "2022-01",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    sections = {s["id"]: s["picks"] for s in shown["sections"]}
    assert [p["title"] for p in sections["veille"]] == ["Veille numéro 1", "Veille numéro 0"]
    assert [p["title"] for p in sections["actualites"]] == ["Actualité numéro 1"]
    assert sections["veille"][1]["note"] == "À lire : une **méthode** à essaimer."
    assert Path(state.db_path).exists()


def _log_in(page: Any, url: str) -> None:
    # Tall enough to hold the whole issue: Playwright cannot scroll in the middle of a drag
    # (a person's browser scrolls by itself near the window's edge).
    page.set_viewport_size({"width": 1024, "height": 2400})
    log_in_editor(page, url)


def _titles(page: Any, section: str) -> list[str]:
    return page.locator(f"[data-drop-section={section}] [data-pick] .pick-title a").all_inner_texts()


def test_drag_and_drop_reorders_and_moves_between_sections(site: tuple[str, Any], page: Any) -> None:
    """The enhancement: a drop submits the same move as the buttons (CSRF, version), within
    a section, into another one and into an empty one; the page runs under its CSP."""
    base, state = site
    with Store.open(state.db_path) as store:
        from curator import editorial

        for ref, section in (("1", "veille"), ("2", "veille"), ("3", "actualites")):
            editorial.pick(store, state.config, _month(), ref, NOW, section=section)
    problems = watch_page(page)
    _log_in(page, f"{base}/editeur/numeros/2022-01")
    assert page.locator("#reorder-hint").is_visible()  # the script ran
    assert _titles(page, "veille") == ["Veille numéro 0", "Veille numéro 1"]

    # Within a section: "Veille numéro 1" dropped on the top half of "Veille numéro 0".
    with page.expect_navigation():
        page.locator("#pick-2 .drag-handle").drag_to(
            page.locator("#pick-1"), target_position={"x": 40, "y": 5}
        )
    assert "Déplacé" in page.inner_text("main")
    assert _titles(page, "veille") == ["Veille numéro 1", "Veille numéro 0"]

    # Into another section, between its two picks.
    with page.expect_navigation():
        page.locator("#pick-3 .drag-handle").drag_to(
            page.locator("#pick-1"), target_position={"x": 40, "y": 5}
        )
    assert _titles(page, "veille") == ["Veille numéro 1", "Actualité numéro 0", "Veille numéro 0"]
    assert _titles(page, "actualites") == []

    # Into an empty section, by its heading.
    with page.expect_navigation():
        page.locator("#pick-1 .drag-handle").drag_to(page.locator("#section-appels"))
    assert _titles(page, "appels") == ["Veille numéro 0"]
    assert problems == [] and page.dialogs == []

    with Store.open(state.db_path) as store:
        picks = [(p.section, p.position, p.ref_id) for p in store.picks(_month())]
    assert sorted(picks) == [("appels", 1, 1), ("veille", 1, 2), ("veille", 2, 3)]

    # The text of a pick stays selectable (only its handle drags).
    summary = page.locator("#pick-2 > p").nth(1)
    box = summary.bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    assert "Résumé" in page.evaluate("String(getSelection())")


def test_a_drop_counts_the_picks_the_page_does_not_show(site: tuple[str, Any], page: Any) -> None:
    """A picked report withdrawn from approval stays in its section, hidden from the page:
    the positions a drop sends are the stored ones, so the move lands where it was dropped."""
    base, state = site
    with Store.open(state.db_path) as store:
        from curator import editorial

        rid, _ = store.add_report(
            submission_key="k",
            lab="lab-normandie",
            lab_other="",
            author_name="A",
            author_email="a@example.org",
            title="Retour",
            summary="s",
            body="b",
            link=None,
            tags=[],
            license="etalab-2.0",
            now=NOW,
        )
        store.change_report(rid, {"status": "approved"}, editor="t", action="approved", now=NOW)
        for ref in (f"r{rid}", "1", "2"):
            editorial.pick(store, state.config, _month(), ref, NOW, section="veille")
        store.change_report(rid, {"status": "pending"}, editor="t", action="edited", now=NOW)
    _log_in(page, f"{base}/editeur/numeros/2022-01")
    assert _titles(page, "veille") == ["Veille numéro 0", "Veille numéro 1"]
    height = page.locator("#pick-2").bounding_box()["height"]
    with page.expect_navigation():  # "Veille numéro 0" onto the bottom half of "Veille numéro 1"
        page.locator("#pick-1 .drag-handle").drag_to(
            page.locator("#pick-2"), target_position={"x": 40, "y": height - 5}
        )
    assert _titles(page, "veille") == ["Veille numéro 1", "Veille numéro 0"]
    with Store.open(state.db_path) as store:
        assert [(p.kind, p.ref_id) for p in store.picks(_month(), "veille")] == [
            ("report", rid),
            ("item", 2),
            ("item", 1),
        ]


def test_the_keyboard_moves_a_pick_to_another_section(site: tuple[str, Any], page: Any) -> None:
    """No dragging needed (WCAG 2.5.7): each pick has a section menu and a button; its note stays."""
    base, state = site
    with Store.open(state.db_path) as store:
        from curator import editorial

        editorial.pick(store, state.config, _month(), "1", NOW, section="veille", note="Garder la note")
        editorial.pick(store, state.config, _month(), "3", NOW, section="actualites")
    _log_in(page, f"{base}/editeur/numeros/2022-01")
    # The section menu is among the pick's other actions, in a disclosure opened from the keyboard.
    page.locator("#pick-1 summary", has_text="Plus d’actions").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Rubrique pour Veille numéro 0").select_option(label="Actualités des labs")
    page.get_by_label("Rubrique pour Veille numéro 0").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/numeros/2022-01#pick-1")
    assert _titles(page, "actualites") == ["Actualité numéro 0", "Veille numéro 0"]
    with Store.open(state.db_path) as store:
        assert store.pick_for(_month(), "item", 1).note == "Garder la note"  # type: ignore[union-attr]


def test_a_drop_on_a_stale_page_is_refused(site: tuple[str, Any], page: Any) -> None:
    base, state = site
    with Store.open(state.db_path) as store:
        from curator import editorial

        for ref in ("1", "2"):
            editorial.pick(store, state.config, _month(), ref, NOW, section="veille")
        _log_in(page, f"{base}/editeur/numeros/2022-01")
        editorial.pick(store, state.config, _month(), "3", NOW, section="veille")  # another editor
    with page.expect_navigation():
        page.locator("#pick-2 .drag-handle").drag_to(
            page.locator("#pick-1"), target_position={"x": 40, "y": 5}
        )
    assert "modifié" in page.inner_text("main")  # the conflict message; nothing moved
    with Store.open(state.db_path) as store:
        assert [p.ref_id for p in store.picks(_month())] == [1, 2, 3]


def _month() -> Any:
    from curator.models import Month

    return Month.parse("2022-01")
