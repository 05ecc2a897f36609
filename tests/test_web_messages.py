"""The web says the domain's refusals in French, chosen by the error's type and data, never its text."""

from __future__ import annotations

from typing import Any

import pytest

from curator.errors import (
    AlreadyDecided,
    CuratorError,
    EmptyIssue,
    InUseError,
    InvalidValue,
    IssueFrozen,
    NotFoundError,
    NotPicked,
    NotPublished,
    SectionFull,
    StaleEdit,
)
from curator.models import Month
from curator.web.messages import error_message

JAN = Month.parse("2022-01")

CASES: list[tuple[CuratorError, str]] = [
    (InUseError("r1 was already published", JAN), "Déjà publié dans le numéro 2022-01"),
    (IssueFrozen(JAN), "publié et figé"),
    (SectionFull("veille", 12, "sources.yaml"), "rubrique est pleine"),
    (StaleEdit("the issue", JAN), "Quelqu’un d’autre a modifié ce numéro"),
    (StaleEdit("report", 3), "Quelqu’un d’autre a modifié ce retour"),
    (StaleEdit("the issue", JAN, field="edito"), "Quelqu’un d’autre a modifié l’édito entre-temps"),
    (StaleEdit("the issue", JAN, field="title"), "Quelqu’un d’autre a modifié le titre entre-temps"),
    (StaleEdit("the section", "veille"), "Quelqu’un d’autre a modifié l’ordre de cette rubrique"),
    (StaleEdit("the candidate", "12"), "Quelqu’un d’autre l’a choisi entre-temps"),
    (StaleEdit("the pick", "12"), "il n’a donc pas été retiré"),
    (NotPicked("12", JAN), "ne fait plus partie du numéro"),
    (NotPublished(JAN), "n’est pas publié"),
    (EmptyIssue(JAN), "Ce numéro est vide"),
    (AlreadyDecided(3, "approved"), "était déjà approuvé"),
    (AlreadyDecided(3, "rejected"), "était déjà refusé"),
    (
        InvalidValue("edito", "too_long", "the édito is at most 20,000 characters", limit=20_000),
        "20\u202f000",
    ),
    (InvalidValue("title", "required", "an event needs a title"), "Renseignez le titre"),
    (InvalidValue("link", "not_http", "the link 'x' is not an http(s) URL", value="x"), "Pour le lien"),
    (
        InvalidValue("start", "date_range", "not plausible", low=1900, high=2999),
        "entre les années 1900 et 2999",
    ),
    (InvalidValue("end", "ends_before_start", "an event cannot end before it starts"), "finir avant"),
    (NotFoundError("no item 5: see `curator items`"), "Introuvable"),
]


@pytest.mark.parametrize(
    ("error", "french"), CASES, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else ""
)
def test_each_refusal_has_its_french_message(app: Any, error: CuratorError, french: str) -> None:
    with app.test_request_context("/editeur/"):
        message = error_message(error)
    assert french in message, message
    assert str(error) not in message and "curator " not in message  # no English CLI text, no command
