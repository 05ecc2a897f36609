"""In a real browser: from the issue to « Publier », the checklist first, a date, the button, and
the archive's page of the issue with that date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, seed_candidates, serve_app

from curator import editorial
from curator.models import Month
from curator.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]
NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)
JAN = Month.parse("2022-01")


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app(clock=lambda: NOW)


@pytest.fixture
def site(app: Any, editor_account: Any) -> Iterator[tuple[str, Any]]:
    state = app.extensions["curator"]
    seed_candidates(app, {"la27eregion": 2, "lab-normandie": 1}, NOW)
    with Store.open(state.db_path) as store:
        editorial.pick(store, state.config, JAN, "1", NOW, section="veille", note="Une méthode à essaimer.")
        editorial.pick(store, state.config, JAN, "2", NOW, section="veille")  # no note: a blocking point
        editorial.pick(store, state.config, JAN, "3", NOW, section="actualites")
    with serve_app(app) as base:
        yield base, state


def test_publish_from_the_browser_after_the_checklist(site: tuple[str, Any], page: Any) -> None:
    base, state = site
    page.goto(f"{base}/editeur/numeros/2022-01")
    page.get_by_label("Adresse électronique").fill(TEST_EDITOR_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_EDITOR_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    # The issue's page says what blocks, and leads to « Publier… ».
    checklist = page.get_by_role("region", name="Avant de publier")
    assert "1 point bloquant et 3 points à vérifier." in checklist.inner_text()
    checklist.get_by_text("Voir les points").click()
    assert "«\u00a0Veille numéro 1\u00a0» n’a pas de note de la rédaction" in checklist.inner_text()
    page.get_by_role("link", name="Publier…").click()

    # The publish page: the checklist first, then the date and the button.
    assert page.get_by_role("heading", level=1).inner_text() == "Publier\u00a0: Infolettre — janvier 2022"
    points = page.get_by_role("region", name="Avant de publier")
    assert (
        "Bloquant\u00a0: «\u00a0Veille numéro 1\u00a0» n’a pas de note de la rédaction" in points.inner_text()
    )
    button = page.get_by_role("button", name="Publier le numéro")
    assert points.bounding_box()["y"] < button.bounding_box()["y"]
    date = page.get_by_label("Date de publication")
    assert date.input_value() == "2022-01-20"  # today, by default
    date.fill("2022-01-18")

    # Without the explicit box, nothing is published.
    button.click()
    assert "Ce numéro a des points bloquants" in page.inner_text("main")
    with Store.open(state.db_path) as store:
        issue = store.issue(JAN)
        assert issue is not None and not issue.published
    page.get_by_label("Publier malgré les points bloquants").check()
    page.get_by_role("button", name="Publier le numéro").click()
    shown = page.inner_text("main")
    assert "Le numéro est publié, daté du 18 janvier 2022\u00a0: l’archive est à jour." in shown
    assert page.get_by_role("button", name="Rouvrir ce numéro").is_visible()

    # The archive's page of the issue exists, with the chosen date.
    assert (state.config.archive.out / "2022-01" / "index.html").exists()
    page.get_by_role("link", name="Le voir dans l’archive").click()
    assert page.url == f"{base}/2022-01/"
    assert "18 janvier 2022" in page.inner_text("body")
    assert page.locator('time[datetime="2022-01-18"]').count() >= 1
    assert page.dialogs == []
