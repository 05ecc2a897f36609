"""In a real browser: pick two items into two sections, reorder them, add a note, find it all in `issue show --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, serve_app

from curator.cli import cli
from curator.models import Entry
from curator.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("fast_passwords")]
NOW = datetime(2022, 1, 20, tzinfo=UTC)


@pytest.fixture
def site(make_app: Any, editor_account: Any) -> Iterator[tuple[str, Any]]:
    app = make_app()
    state = app.extensions["curator"]
    with Store.open(state.db_path) as store:
        store.sync_sources(state.config.sources, NOW)
        for source, prefix in (("la27eregion", "Veille"), ("lab-normandie", "Actualité")):
            store.save_entries(
                source,
                [
                    Entry(
                        key=f"{prefix}{i}",
                        url=f"https://example.org/{source}/{i}",
                        title=f"{prefix} numéro {i}",
                        summary="<p>Résumé</p>",
                        excerpt="Résumé",
                        text="Résumé",
                        published=datetime(2022, 1, 5 + i, tzinfo=UTC),
                    )
                    for i in range(2)
                ],
                NOW,
            )
    with serve_app(app) as base:
        yield base, state


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
