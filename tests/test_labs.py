"""The labs' directory: cards in the store with their history, the vocabulary of sources.yaml,
proposals and their moderation, « labs like yours », the exports, and `curator labs`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geojson
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from curator import labs
from curator.cli import cli
from curator.config import Config, load_config, parse_config
from curator.errors import AlreadyDecided, ConfigError, InvalidValue, StaleEdit
from curator.models import LabCard
from curator.store import Store

NOW = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)

CONFIG = """\
newsletter: {title: Infolettre, publisher: Lab, site_url: "https://labs.example/archive/"}
sections:
  - {id: actualites, title: Actualités}
  - {id: portraits, title: Portrait de lab, kind: labs}
labs:
  - {id: lab-normandie, name: Lab'Innov Normandie, academie: Normandie, city: Rouen}
  - {id: lab-lyon, name: Lab de Lyon, academie: Lyon, city: Lyon}
  - {id: lab-reunion, name: Lab Réunion, academie: La Réunion, city: Saint-Denis}
  - {id: lab-ici, name: Lab ici, academie: Nulle part, city: Ailleurs, lat: 45.5, lon: 4.25}
  - {id: lab-centre, name: Lab 110 bis, academie: Administration centrale, city: Paris}
themes: []
sources:
  - {id: normandie-feed, url: "https://normandie.example/feed", section: actualites, lab: lab-normandie}
  - {id: other-feed, url: "https://other.example/feed", section: actualites}
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "sources.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "c.db") as s:
        yield s


# --- configuration ------------------------------------------------------------------------------


def test_the_vocabulary_defaults_to_the_communitys_and_can_be_set(config: Config) -> None:
    assert [t.label for t in config.innovation_types][:5] == [
        "Pédagogique",
        "Organisationnelle",
        "Numérique",
        "Managériale",
        "Design de service",
    ]
    custom = parse_config(
        CONFIG
        + "labs_vocabulary:\n  innovation_types:\n    - Éco-conception\n    - {id: ia, label: Intelligence artificielle}\n"
    )
    assert [(t.id, t.label) for t in custom.innovation_types] == [
        ("eco-conception", "Éco-conception"),
        ("ia", "Intelligence artificielle"),
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("labs_vocabulary: {innovation_types: []}\n", "expected a list of terms"),
        ("labs_vocabulary: {types: [a]}\n", "unknown key"),
        ("labs_vocabulary:\n  innovation_types: [a, {id: a, label: A}]\n", "duplicate term 'a'"),
        ("labs_vocabulary:\n  innovation_types: [{id: 'Bad id', label: A}]\n", "not a valid id"),
    ],
)
def test_a_bad_vocabulary_names_the_file_and_the_field(extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(CONFIG + extra, "sources.yaml")
    assert message in str(caught.value)
    assert "sources.yaml" in str(caught.value)


def test_lab_coordinates_come_in_pairs() -> None:
    with pytest.raises(ConfigError, match="give both lat and lon"):
        parse_config(CONFIG.replace("lat: 45.5, lon: 4.25", "lat: 45.5"))
    with pytest.raises(ConfigError, match="decimal degrees"):
        parse_config(CONFIG.replace("lat: 45.5", "lat: 145.5"))


def test_curator_check_reports_a_bad_vocabulary_with_the_rest(tmp_path: Path) -> None:
    from curator.config.check import check_text

    report = check_text(CONFIG + "labs_vocabulary: {innovation_types: 3}\n")
    assert not report.valid
    assert any(e.entry == "labs_vocabulary" for e in report.errors)


# --- cards --------------------------------------------------------------------------------------


def test_a_lab_that_never_filled_its_card_has_an_empty_one(store: Store, config: Config) -> None:
    card = labs.card(store, config, "lab-lyon")
    assert card == LabCard(lab="lab-lyon")
    assert store.lab_card_changes("lab-lyon") == []


def test_setting_a_card_keeps_a_history_of_each_change(store: Store, config: Config) -> None:
    card, changed = labs.set_card(
        store,
        config,
        "lab-normandie",
        {"has_place": "oui", "innovation_types": "numerique, Design de service", "stage": "actif"},
        by="ed@example.org",
        now=NOW,
    )
    assert changed
    assert card.has_place is True
    assert card.innovation_types == ("numerique", "design-de-service")  # vocabulary order
    assert card.stage == "actif" and card.version == 1
    again, changed = labs.set_card(store, config, "lab-normandie", {"stage": "actif"}, by="x", now=NOW)
    assert not changed and again.version == 1
    labs.set_card(store, config, "lab-normandie", {"stage": "lancement"}, by="y", now=NOW + timedelta(days=1))
    history = store.lab_card_changes("lab-normandie")
    assert [c.by for c in history] == ["ed@example.org", "y"]
    assert history[1].changes == {"stage": {"old": "actif", "new": "lancement"}}
    assert store.lab_card("lab-normandie").updated_at == NOW + timedelta(days=1)


def test_a_stale_card_edit_is_refused(store: Store, config: Config) -> None:
    labs.set_card(store, config, "lab-lyon", {"team": "A"}, by="a", now=NOW)
    with pytest.raises(StaleEdit):
        labs.set_card(store, config, "lab-lyon", {"team": "B"}, by="b", now=NOW, expected_version=0)
    assert store.lab_card("lab-lyon").team == "A"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"innovation_types": "numerique,quantique"}, "innovation_types", "quantique"),
        ({"contact_email": "not an address"}, "contact_email", "nom@exemple.fr"),
        ({"service_offer": "x" * 3001}, "service_offer", "3,000"),
        ({"place": "<script>alert(1)</script>"}, "place", "HTML"),
        ({"service_offer": "[voir](javascript:alert(1))"}, "service_offer", "HTML"),
        ({"service_offer": "<img src=x onerror=alert(1)>"}, "service_offer", "HTML"),
        ({"team": "&#60;script&#62;"}, "team", "HTML"),
        ({"service_offer": "![x](data:text/html;base64,PHNjcmlwdD4=)"}, "service_offer", "HTML"),
        ({"stage": "en sommeil"}, "stage", "in préfiguration, starting, active"),
        ({"has_place": "peut-être"}, "has_place", "yes or no"),
        ({"feed": "nope"}, "feed", "sources"),
        ({"contact_public": "yes"}, "contact_email", "address to show"),
    ],
)
def test_bad_card_values_are_refused_field_by_field_and_nothing_changes(
    store: Store, config: Config, data: dict[str, str], field: str, words: str
) -> None:
    labs.set_card(store, config, "lab-lyon", {"team": "Équipe"}, by="a", now=NOW)
    with pytest.raises(labs.InvalidLabCard) as caught:
        labs.set_card(store, config, "lab-lyon", {"place": "Un lieu", **data}, by="b", now=NOW, locale="en")
    assert field in caught.value.errors
    assert words in caught.value.errors[field]
    card = store.lab_card("lab-lyon")
    assert card.place == "" and card.version == 1  # all or nothing


def test_an_unknown_lab_names_the_known_ones(store: Store, config: Config) -> None:
    with pytest.raises(InvalidValue) as caught:
        labs.set_card(store, config, "lab-paris", {"stage": "actif"}, by="a", now=NOW)
    assert "lab-paris" in str(caught.value) and "lab-normandie" in str(caught.value)


def test_errors_speak_french_by_default(store: Store, config: Config) -> None:
    with pytest.raises(labs.InvalidLabCard) as caught:
        labs.set_card(store, config, "lab-lyon", {"stage": "?", "place": "<b>x</b>"}, by="a", now=NOW)
    assert caught.value.errors["stage"].startswith("Choisissez un stade")
    assert "en préfiguration" in caught.value.errors["stage"]
    assert caught.value.errors["place"].startswith("Retirez le code HTML")


def test_the_lab_feed_is_the_cards_or_the_labs_source(store: Store, config: Config) -> None:
    normandie = config.lab("lab-normandie")
    assert normandie is not None
    assert labs.lab_feed(config, normandie, store.lab_card("lab-normandie")).id == "normandie-feed"  # type: ignore[union-attr]
    card, _ = labs.set_card(store, config, "lab-normandie", {"feed": "other-feed"}, by="a", now=NOW)
    assert labs.lab_feed(config, normandie, card).id == "other-feed"  # type: ignore[union-attr]


# --- proposals ----------------------------------------------------------------------------------


def _proposal(store: Store, config: Config, lab: str = "lab-lyon", **changes: object) -> labs.Proposal:
    data = {
        **labs.form_data(store.lab_card(lab)),
        **changes,
        "author_name": "Ada",
        "author_email": "ada@example.fr",
    }
    return labs.validate_proposal(data, config)


def test_a_proposal_waits_and_approving_applies_only_what_the_lab_changed(
    store: Store, config: Config
) -> None:
    labs.set_card(store, config, "lab-lyon", {"team": "Avant", "stage": "lancement"}, by="ed", now=NOW)
    proposal, created = labs.propose(
        store, _proposal(store, config, stage="actif", place="Salle 12"), NOW, key="k1"
    )
    assert created and proposal.status == "pending"
    assert set(proposal.changed_fields()) == {"stage", "place"}
    assert store.lab_card("lab-lyon").stage == "lancement"  # nothing changes before an editor decides
    # Meanwhile an editor changes the team: approving must not put the old team back.
    labs.set_card(store, config, "lab-lyon", {"team": "Après"}, by="ed", now=NOW)
    diff = labs.proposal_diff(store, config, proposal)
    assert [(d.field, d.old, d.new) for d in diff] == [
        ("place", "", "Salle 12"),
        ("stage", "en lancement", "actif"),
    ]
    assert [d.label for d in diff] == ["Adresse ou description du lieu", "Stade"]
    decided, card = labs.approve_proposal(store, config, proposal.id, editor="ed@example.org", now=NOW)
    assert decided.status == "approved" and decided.decided_by == "ed@example.org"
    assert (card.stage, card.place, card.team) == ("actif", "Salle 12", "Après")
    last = store.lab_card_changes("lab-lyon")[-1]
    assert last.origin == "proposal" and last.proposal_id == proposal.id
    with pytest.raises(AlreadyDecided):
        labs.approve_proposal(store, config, proposal.id, editor="ed", now=NOW)


def test_the_same_form_sent_twice_is_one_proposal(store: Store, config: Config) -> None:
    first, created = labs.propose(store, _proposal(store, config, team="Nous"), NOW, key="same")
    second, again = labs.propose(store, _proposal(store, config, team="Nous"), NOW, key="same")
    assert created and not again and first.id == second.id
    assert len(store.lab_proposals(status="pending")) == 1


def test_a_proposal_that_changes_nothing_is_refused(store: Store, config: Config) -> None:
    with pytest.raises(labs.InvalidLabCard) as caught:
        labs.propose(store, _proposal(store, config), NOW)
    assert "_form" in caught.value.errors


def test_a_proposal_needs_who_sends_it_and_a_known_lab(store: Store, config: Config) -> None:
    with pytest.raises(labs.InvalidLabCard) as caught:
        labs.validate_proposal({"lab": "lab-x", "author_email": "nope"}, config, locale="en")
    assert set(caught.value.errors) >= {"lab", "author_name", "author_email"}


def test_rejecting_needs_a_reason_and_leaves_the_card(store: Store, config: Config) -> None:
    proposal, _ = labs.propose(store, _proposal(store, config, stage="actif"), NOW)
    with pytest.raises(labs.InvalidLabCard):
        labs.reject_proposal(store, proposal.id, reason="  ", editor="ed", now=NOW)
    rejected = labs.reject_proposal(store, proposal.id, reason="Doublon", editor="ed", now=NOW)
    assert rejected.status == "rejected" and rejected.reject_reason == "Doublon"
    assert store.lab_card("lab-lyon").stage == ""


def test_approving_checks_the_values_against_todays_vocabulary(
    tmp_path: Path, store: Store, config: Config
) -> None:
    proposal, _ = labs.propose(store, _proposal(store, config, innovation_types=["sociale"]), NOW)
    smaller = parse_config(CONFIG + "labs_vocabulary: {innovation_types: [Numérique]}\n")
    with pytest.raises(labs.InvalidLabCard):
        labs.approve_proposal(store, smaller, proposal.id, editor="ed", now=NOW)
    assert store.lab_proposal(proposal.id).status == "pending"  # both or neither
    assert store.lab_card("lab-lyon").innovation_types == ()


# --- labs like yours ----------------------------------------------------------------------------

TERMS = ["pedagogique", "organisationnelle", "numerique", "manageriale", "design-de-service", "sociale"]
WORDS = ["ateliers", "facilitation", "prototypage", "formation", "recherche", "usagers", "numérique"]

cards_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from(TERMS), unique=True, max_size=4),
        st.lists(st.sampled_from(WORDS), max_size=5),
    ),
    min_size=5,
    max_size=5,
)


@given(cards_strategy)
def test_similarity_is_symmetric_and_never_the_lab_itself(specs: list[tuple[list[str], list[str]]]) -> None:
    config = parse_config(CONFIG)
    ids = [lab.id for lab in config.labs]
    cards = {
        lab_id: LabCard(lab=lab_id, innovation_types=tuple(types), service_offer=" ".join(words))
        for lab_id, (types, words) in zip(ids, specs, strict=True)
    }
    for a in ids:
        for b in ids:
            assert labs.similarity(cards[a], cards[b]) == labs.similarity(cards[b], cards[a])
        close = labs.similar_labs(config, cards, a)
        assert len(close) <= 3
        assert all(s.lab.id != a and s.score > 0 for s in close)
        assert [s.score for s in close] == sorted((s.score for s in close), reverse=True)


def test_similar_labs_say_why(config: Config) -> None:
    cards = {
        "lab-normandie": LabCard(
            "lab-normandie",
            innovation_types=("numerique", "sociale"),
            service_offer="Ateliers de **prototypage**",
        ),
        "lab-lyon": LabCard("lab-lyon", innovation_types=("numerique",), service_offer="prototypage rapide"),
        "lab-reunion": LabCard("lab-reunion", innovation_types=("pedagogique",)),
    }
    close = labs.similar_labs(config, cards, "lab-normandie")
    assert [s.lab.id for s in close] == ["lab-lyon"]
    assert labs.similarity_reason(close[0], config) == (
        "Types d’innovation en commun\u00a0: Numérique · Offre de service proche\u00a0: prototypage"
    )


# --- exports ------------------------------------------------------------------------------------


def _filled(store: Store, config: Config) -> None:
    labs.set_card(
        store,
        config,
        "lab-normandie",
        {
            "innovation_types": "numerique",
            "contact_email": "secret@example.fr",
            "service_offer": "Ateliers, « formation »",
        },
        by="a",
        now=NOW,
    )
    labs.set_card(
        store,
        config,
        "lab-lyon",
        {"contact_email": "public@example.fr", "contact_public": "yes", "has_place": "no"},
        by="a",
        now=NOW,
    )


def test_the_geojson_export_validates_with_a_point_per_lab(store: Store, config: Config) -> None:
    _filled(store, config)
    data = geojson.loads(labs.export_labs(labs.directory(store, config), "geojson"))
    assert data.is_valid, data.errors()
    features = {f["id"]: f for f in data["features"]}
    assert list(features) == [lab.id for lab in config.labs]
    # Its own coordinates first, else its académie's chief town, else its city's.
    assert features["lab-ici"]["geometry"]["coordinates"] == [4.25, 45.5]
    assert features["lab-ici"]["properties"]["located_at"] == "lab"
    lon, lat = features["lab-normandie"]["geometry"]["coordinates"]
    assert 48.5 < lat < 50 and 0 < lon < 2  # Rouen
    lon, lat = features["lab-reunion"]["geometry"]["coordinates"]
    assert -21.5 < lat < -20.8 and 55 < lon < 56
    assert features["lab-centre"]["geometry"] is not None  # Paris, from its city
    # Only the addresses the labs agreed to show.
    assert features["lab-normandie"]["properties"]["contact_email"] == ""
    assert features["lab-lyon"]["properties"]["contact_email"] == "public@example.fr"


def test_the_other_exports_carry_the_documented_keys(store: Store, config: Config) -> None:
    _filled(store, config)
    entries = labs.directory(store, config)
    as_json = json.loads(labs.export_labs(entries, "json"))
    as_yaml = yaml.safe_load(labs.export_labs(entries, "yaml"))
    assert as_json == as_yaml
    keys = {"id", "name", "academie", "city", "website", "has_place", "place", "innovation_types"}
    keys |= {"service_offer", "stage", "contact_email", "updated_at"}
    assert keys <= set(as_json[0])
    rows = list(csv.DictReader(io.StringIO(labs.export_labs(entries, "csv"))))
    assert rows[0]["innovation_types"] == "numerique"
    assert rows[0]["service_offer"] == "Ateliers, « formation »"
    assert rows[1]["has_place"] == "no"


# --- the store ----------------------------------------------------------------------------------


def test_picks_accept_lab_cards_after_the_migration(store: Store) -> None:
    card_id = store.lab_card_id("lab-lyon")
    assert store.lab_card_id("lab-lyon") == card_id
    assert store.lab_of_card(card_id) == "lab-lyon"
    with store.write():
        store.conn.execute(
            "INSERT INTO issues (month, title, created_at, updated_at) VALUES ('2024-03', 't', ?, ?) ON CONFLICT DO NOTHING",
            (NOW.isoformat(), NOW.isoformat()),
        )
        store.conn.execute(
            "INSERT INTO picks (month, section, kind, ref_id, position, created_at, updated_at) "
            "VALUES ('2024-03', 'portraits', 'lab', ?, 1, ?, ?)",
            (card_id, NOW.isoformat(), NOW.isoformat()),
        )
    with pytest.raises(sqlite3.IntegrityError), store.write():
        store.conn.execute(
            "INSERT INTO picks (month, section, kind, ref_id, position, created_at, updated_at) "
            "VALUES ('2024-03', 'x', 'podcast', 1, 1, ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )


# --- the CLI --------------------------------------------------------------------------------------


class Cli:
    def __init__(self, directory: Path) -> None:
        self.config = directory / "sources.yaml"
        self.config.write_text(CONFIG, encoding="utf-8")
        self.db = directory / "c.db"

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            cli, ["--db", str(self.db), "--config", str(self.config), *args], input=input
        )


def test_curator_labs_lists_sets_shows_and_exports(tmp_path: Path) -> None:
    run = Cli(tmp_path)
    offer = tmp_path / "offre.md"
    offer.write_text("Des **ateliers** de prototypage.\n", encoding="utf-8")
    result = run(
        "labs", "set", "lab-normandie", "--stage", "actif", "--has-place", "yes",
        "--innovation-types", "numerique,design-de-service", "--service-offer", f"@{offer}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "updated (version 1)" in result.output
    run("labs", "set", "lab-lyon", "--innovation-types", "numerique", "--service-offer", "prototypage")
    listing = run("labs")
    assert listing.exit_code == 0
    assert "lab-normandie" in listing.output and "never filled" in listing.output
    rows = json.loads(run("labs", "--json").output)
    assert rows[0]["stage"] == "actif" and rows[0]["innovation_types"] == ["numerique", "design-de-service"]
    shown = run("labs", "show", "lab-normandie")
    assert (
        "Dedicated place: yes" in shown.output
        and "Labs like it:" in shown.output
        and "lab-lyon" in shown.output
    )
    assert "History:" in shown.output
    shown_json = json.loads(run("labs", "show", "lab-normandie", "--json").output)
    assert shown_json["similar"][0]["id"] == "lab-lyon" and len(shown_json["history"]) == 1
    out = tmp_path / "labs.geojson"
    exported = run("labs", "export", "--format", "geojson", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert geojson.loads(out.read_text(encoding="utf-8")).is_valid


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["labs", "set", "lab-x", "--stage", "actif"], "unknown lab 'lab-x'"),
        (
            ["labs", "set", "lab-lyon", "--innovation-types", "quantique"],
            "Unknown type of innovation: quantique",
        ),
        (["labs", "set", "lab-lyon", "--contact-email", "nope"], "contact_email"),
        (["labs", "set", "lab-lyon", "--place", "<iframe src=x>"], "Remove the HTML"),
        (["labs", "set", "lab-lyon"], "nothing to set"),
        (["labs", "set", "lab-lyon", "--service-offer", "@/nonexistent/offre.md"], "cannot read the file"),
        (["labs", "show", "nope"], "unknown lab 'nope'"),
        (["labs", "proposals", "approve", "9"], "no lab card proposal 9"),
    ],
)
def test_curator_labs_refuses_bad_input_clearly(tmp_path: Path, args: list[str], words: str) -> None:
    run = Cli(tmp_path)
    result = run(*args)
    assert result.exit_code != 0
    assert words in result.output
    assert "Traceback" not in result.output
    assert run("labs", "--json").exit_code == 0
    assert all(row["version"] == 0 for row in json.loads(run("labs", "--json").output))


def test_curator_labs_proposals_shows_the_diff_and_decides(tmp_path: Path) -> None:
    run = Cli(tmp_path)
    config = load_config(run.config)
    with Store.open(run.db) as store:
        labs.set_card(store, config, "lab-lyon", {"stage": "lancement"}, by="ed", now=NOW)
        first, _ = labs.propose(store, _proposal(store, config, stage="actif", team="Ada, Bob"), NOW)
        second, _ = labs.propose(store, _proposal(store, config, place="Ailleurs"), NOW)
    listing = run("labs", "proposals")
    assert listing.exit_code == 0, listing.output
    assert f"#{first.id}  lab-lyon  pending" in listing.output
    assert "      - starting\n      + active" in listing.output
    assert "+ Ada, Bob" in listing.output
    data = json.loads(run("labs", "proposals", "--json").output)
    assert data[0]["changes"]["stage"] == {"old": "starting", "new": "active", "changed_since": False}
    assert run("labs", "proposals", "approve", str(first.id)).exit_code == 0
    assert run("labs", "proposals", "reject", str(second.id), "--reason", "Doublon").exit_code == 0
    again = run("labs", "proposals", "approve", str(first.id))
    assert again.exit_code != 0 and "already approved" in again.output
    assert json.loads(run("labs", "show", "lab-lyon", "--json").output)["stage"] == "actif"
    assert "0 proposals" in run("labs", "proposals").output


def test_a_form_drawn_before_an_editors_change_does_not_undo_it(store: Store, config: Config) -> None:
    labs.set_card(store, config, "lab-lyon", {"team": "Avant", "stage": "lancement"}, by="ed", now=NOW)
    shown = store.lab_card("lab-lyon")  # the form shows version 1
    labs.set_card(store, config, "lab-lyon", {"team": "Après"}, by="ed", now=NOW)  # meanwhile
    typed = {
        **labs.form_data(shown),
        "stage": "actif",
        "author_name": "Ada",
        "author_email": "ada@example.fr",
    }
    proposal, _ = labs.propose(store, labs.validate_proposal(typed, config), NOW, seen_version=shown.version)
    assert proposal.changed_fields() == ("stage",)
    assert [d.field for d in labs.proposal_diff(store, config, proposal)] == ["stage"]
    _decided, card = labs.approve_proposal(store, config, proposal.id, editor="ed", now=NOW)
    assert (card.team, card.stage) == ("Après", "actif")
    # The lab typing again what it saw, with nothing changed, proposes nothing.
    again = {**labs.form_data(shown), "author_name": "Ada", "author_email": "ada@example.fr"}
    with pytest.raises(labs.InvalidLabCard):
        labs.propose(store, labs.validate_proposal(again, config), NOW, seen_version=shown.version)
