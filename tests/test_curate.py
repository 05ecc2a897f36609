"""Ranking and duplicate grouping, on realistic French titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from curator.config import CurationSettings, parse_curation
from curator.curate import (
    Candidate,
    group_duplicates,
    rank,
    score_candidate,
)
from curator.errors import ConfigError, UsageError
from curator.models import parse_ref
from curator.text import title_key

NOW = datetime(2022, 1, 20, tzinfo=UTC)


def cand(
    ref: str, title: str, url: str | None = None, days: int = 1, source: str = "s", **kw: object
) -> Candidate:
    kind = "report" if ref.startswith("r") else "item"
    return Candidate(
        ref=ref,
        kind=kind,
        id=int(ref.lstrip("r")),
        title=title,
        url=url,
        excerpt=kw.pop("excerpt", ""),  # type: ignore[arg-type]
        published=NOW - timedelta(days=days),
        sources=(source,) if kind == "item" else (),
        lab=kw.pop("lab", None),
        section="veille",
        themes=kw.pop("themes", ()),
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "« Réinventer le service public » : cinq ans de résidences",
            "Réinventer le service public : cinq ans de résidences",
        ),
        ("L’école de demain", "L'école de demain"),
        ("ÉDUCATION NATIONALE : le lab 110 bis", "Education nationale - le lab 110 bis"),
        ("Les labs d’académie… et après ?", "Les labs d'académie et après"),
        ("Cœur de métier", "Coeur de métier"),
        ("Appel à contributions !", "Appel a contributions"),
    ],
)
def test_same_story_titles(a: str, b: str) -> None:
    assert title_key(a) == title_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Le lab de Normandie s'installe", "Le lab de Bretagne s'installe"),
        ("Temps du lab de janvier", "Temps du lab de février"),
    ],
)
def test_different_stories(a: str, b: str) -> None:
    assert title_key(a) != title_key(b)


def test_grouping_by_url_and_by_title() -> None:
    grouped = group_duplicates(
        [
            cand("1", "Réinventer le service public", "https://a.example/x", days=3, source="la27"),
            cand("2", "« Réinventer le service public »", "https://other.example/y", days=2, source="veille"),
            cand("3", "Tout autre chose", "https://a.example/x", days=1, source="normandie"),
            cand("4", "Sans rapport", None),
        ]
    )
    assert len(grouped) == 2
    head = next(c for c in grouped if c.ref == "1")
    assert set(head.also_seen) == {"2", "3"}
    assert head.sources == ("la27", "veille", "normandie")


def test_picked_member_represents_its_group() -> None:
    grouped = group_duplicates(
        [cand("1", "Même titre", days=5), cand("2", "Même titre", days=1)._replace(picked="veille")]
    )
    assert [c.ref for c in grouped] == ["2"]
    assert grouped[0].also_seen == ("1",)


def test_score_reasons() -> None:
    settings = CurationSettings(keywords={"appel à contributions": 1.0})
    themes = [("facilitation", "Facilitation", ("atelier", "co-dev")), ("design", "Design", ("prototype",))]
    c = score_candidate(
        cand(
            "1",
            "Un atelier de co-dev",
            excerpt="Appel à contributions pour les labs",
            lab="lab-a",
            themes=("design",),
        ),
        weight=1.5,
        themes=themes,
        settings=settings,
        now=NOW,
        lab_name="Lab A",
    )
    codes = [r.code for r in c.reasons]
    assert codes == ["weight", "theme", "theme", "keyword", "lab", "recency"]
    assert "Facilitation (atelier)" in [r.detail for r in c.reasons]
    assert set(c.themes) == {"design", "facilitation"}
    assert c.score == pytest.approx((1.5 + 0.5 + 0.5 + 1.0 + 0.5) / (1 + 1 / 30), rel=1e-3)


def test_ranking_prefers_weight_reports_and_recency() -> None:
    settings = CurationSettings()
    old = score_candidate(cand("1", "Ancien", days=60), weight=1.0, themes=[], settings=settings, now=NOW)
    new = score_candidate(cand("2", "Récent", days=1), weight=1.0, themes=[], settings=settings, now=NOW)
    heavy = score_candidate(
        cand("3", "Source importante", days=1), weight=3.0, themes=[], settings=settings, now=NOW
    )
    report = score_candidate(
        cand("r4", "Retour d'expérience", days=1), weight=1.0, themes=[], settings=settings, now=NOW
    )
    assert [c.ref for c in rank([old, new, heavy, report])] == ["3", "r4", "2", "1"]


def test_parse_ref() -> None:
    assert parse_ref("123") == ("item", 123)
    assert parse_ref("r5") == ("report", 5)
    assert parse_ref("report:5") == ("report", 5)
    with pytest.raises(UsageError, match="r5"):
        parse_ref("abc")


def test_curation_settings_validation() -> None:
    assert parse_curation({"window": "previous", "max_age_days": 30}).window == "previous"
    with pytest.raises(ConfigError, match="field 'window'"):
        parse_curation({"window": "later"})
    with pytest.raises(ConfigError, match="field 'colour'"):
        parse_curation({"colour": 1})
