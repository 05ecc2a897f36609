"""Fixed behaviour stays fixed: the rendered email (HTML and text) and one archive issue page,
byte for byte, against expected-output files in ``tests/data/golden/``.

Set CURATOR_REGEN=1 to rewrite them from the current code, then review the diff: a change
there is a change every reader sees.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import EMAIL_NOW, make_archive_data, make_email_issue

from curator import editorial, labs, views
from curator.archive import build_archive
from curator.models import Month
from curator.render import render_email

GOLDEN = Path(__file__).parent / "data" / "golden"
REGEN = os.environ.get("CURATOR_REGEN") == "1"

#: The card of the lab portrayed in both (« Portrait de lab »).
CARD = {
    "has_place": "yes",
    "place": "Un espace modulable au rectorat de Rouen.",
    "innovation_types": "pedagogique,numerique,design-de-service",
    "service_offer": "Ateliers de **design de service** avec les usagers et prototypage d'outils numériques.",
    "stage": "actif",
}


def _check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with CURATOR_REGEN=1"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        # The first differing line, to read the change without a 60 kB diff.
        for n, (a, e) in enumerate(zip(actual.splitlines(), expected.splitlines(), strict=False), 1):
            if a != e:
                pytest.fail(f"{name}:{n} differs\n  expected: {e[:300]}\n  actual:   {a[:300]}")
        pytest.fail(f"{name}: the length differs ({len(actual)} against {len(expected)} characters)")


def test_the_email_is_as_expected(tmp_path: Path) -> None:
    store, config, month = make_email_issue(tmp_path, items=8, reports=2, events=2)
    with store:
        labs.set_card(store, config, "lab-normandie", CARD, by="test", now=EMAIL_NOW)
        editorial.pick(store, config, month, "lab:lab-normandie", EMAIL_NOW, note="Un lab *à suivre*.")
        rendered = render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)
    _check("email.html", rendered.html)
    _check("email.txt", rendered.text)


def test_an_archive_issue_page_is_as_expected(tmp_path: Path) -> None:
    data = make_archive_data(tmp_path)
    with data.store:
        jan, when = Month.parse("2022-01"), datetime(2022, 1, 25, 8, tzinfo=UTC)  # as it was published
        editorial.reopen(data.store, jan, when)
        labs.set_card(data.store, data.config, "lab-normandie", CARD, by="test", now=when)
        editorial.pick(data.store, data.config, jan, "lab:lab-normandie", when, note="Un lab *à suivre*.")
        editorial.publish(data.store, data.config, jan, when)
        build_archive(data.store, data.config, tmp_path / "archive", now=datetime(2022, 2, 1, tzinfo=UTC))
    _check(
        "archive-2022-01.html", (tmp_path / "archive" / "2022-01" / "index.html").read_text(encoding="utf-8")
    )
