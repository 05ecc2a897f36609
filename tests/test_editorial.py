"""The editors' work on an issue: picks, positions, notes, frozen issues, stale edits, agenda."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator import editorial, views
from curator.cli import cli
from curator.config import parse_config
from curator.demo import SAMPLE_CONFIG
from curator.errors import ConflictError, StaleEdit, UsageError
from curator.ingest import save_entries
from curator.models import Entry, Month
from curator.store import Store

NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)
JAN = Month.parse("2022-01")


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "sources.yaml"
    path.write_text(SAMPLE_CONFIG.read_text().replace("{base_url}", "http://127.0.0.1:9"))
    return parse_config(path.read_text(), str(path))


def _entries(n: int, prefix: str) -> list[Entry]:
    return [
        make_entry(
            f"{prefix}{i}",
            f"Article {prefix} {i}",
            f"https://example.org/{prefix}/{i}",
            published=datetime(2022, 1, 2 + i % 20, tzinfo=UTC),
            body="Résumé",
        )
        for i in range(n)
    ]


@pytest.fixture
def store(tmp_path: Path, config) -> Store:  # type: ignore[no-untyped-def]
    s = Store.open(tmp_path / "c.db")
    s.sync_sources(config.sources, NOW)
    save_entries(s, "la27eregion", _entries(6, "v"), NOW)
    save_entries(s, "lab-normandie", _entries(4, "n"), NOW)
    return s


def _ids(store: Store, source: str) -> list[str]:
    return [str(i.id) for i in sorted(store.items(source=source), key=lambda i: i.id)]


def test_pick_defaults_to_the_source_section_and_positions(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    v = _ids(store, "la27eregion")
    n = _ids(store, "lab-normandie")
    assert editorial.pick(store, config, JAN, v[0], NOW).section == "veille"
    assert editorial.pick(store, config, JAN, n[0], NOW).section == "actualites"
    editorial.pick(store, config, JAN, v[1], NOW, position=1, note="À lire **absolument**")
    editorial.pick(store, config, JAN, v[2], NOW, position=2)
    assert [p.ref for p in store.picks(JAN, "veille")] == [v[1], v[2], v[0]]
    editorial.move(store, config, JAN, v[0], 1, NOW)
    assert [p.ref for p in store.picks(JAN, "veille")] == [v[0], v[1], v[2]]
    editorial.move(store, config, JAN, v[1], 1, NOW, section="actualites")
    assert [p.ref for p in store.picks(JAN, "actualites")] == [v[1], n[0]]
    assert [(p.ref, p.position) for p in store.picks(JAN, "veille")] == [(v[0], 1), (v[2], 2)]
    editorial.unpick(store, config, JAN, v[0], NOW)
    assert [(p.ref, p.position) for p in store.picks(JAN, "veille")] == [(v[2], 1)]
    view = views.issue_view(store, config, JAN)
    actualites = next(s for s in view.sections if s.section.id == "actualites")
    assert actualites.picks[0].note_html == "<p>À lire <strong>absolument</strong></p>"
    assert view.issue.title == "Infolettre — janvier 2022"


def test_max_picks_and_unknown_section(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    small = replace(
        config, sections=tuple(replace(s, max_picks=2) if s.id == "veille" else s for s in config.sections)
    )
    v = _ids(store, "la27eregion")
    editorial.pick(store, small, JAN, v[0], NOW)
    editorial.pick(store, small, JAN, v[1], NOW)
    with pytest.raises(ConflictError, match="maximum of 2"):
        editorial.pick(store, small, JAN, v[2], NOW)
    with pytest.raises(UsageError, match="unknown section 'nope'"):
        editorial.pick(store, small, JAN, v[2], NOW, section="nope")


def test_published_issue_is_frozen_until_reopened(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    v = _ids(store, "la27eregion")
    editorial.pick(store, config, JAN, v[0], NOW)
    editorial.publish(store, config, JAN, NOW)
    with pytest.raises(ConflictError, match="curator issue reopen --month 2022-01"):
        editorial.pick(store, config, JAN, v[1], NOW)
    with pytest.raises(ConflictError):
        editorial.set_edito(store, config, JAN, "Nouveau", NOW)
    editorial.reopen(store, JAN, NOW)
    editorial.pick(store, config, JAN, v[1], NOW)
    # A published issue's items are no longer candidates for the next month.
    editorial.publish(store, config, JAN, NOW)
    feb = Month.parse("2022-02")
    refs = {c.ref for c in editorial.candidates(store, config, feb, NOW + timedelta(days=10))}
    assert v[0] not in refs and v[1] not in refs and v[2] in refs


def test_stale_edit_is_refused(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    v = _ids(store, "la27eregion")
    editorial.pick(store, config, JAN, v[0], NOW)
    editorial.pick(store, config, JAN, v[1], NOW)
    seen = editorial.layout(store, JAN)  # the order a page shows
    editorial.move(store, config, JAN, v[1], 1, NOW, expected_layout=seen)  # editor A
    with pytest.raises(StaleEdit, match="the section veille was changed by someone else") as caught:
        editorial.move(store, config, JAN, v[1], 2, NOW, expected_layout=seen)  # editor B, stale page
    assert (caught.value.what, caught.value.ref) == ("the section", "veille")
    pick = store.pick_for(JAN, "item", int(v[0]))
    assert pick is not None
    editorial.edit_pick(store, config, JAN, v[0], NOW, note="A", expected_version=pick.version)
    with pytest.raises(ConflictError):
        editorial.edit_pick(store, config, JAN, v[0], NOW, note="B", expected_version=pick.version)
    assert store.pick_for(JAN, "item", int(v[0])).note == "A"  # type: ignore[union-attr]
    with pytest.raises(StaleEdit):  # nobody removes a note they have not seen
        editorial.unpick(store, config, JAN, v[0], NOW, expected_version=pick.version)
    editorial.unpick(store, config, JAN, v[0], NOW, expected_version=pick.version + 1)
    # A pick from a page that showed it unpicked: refused once another editor picked it.
    with pytest.raises(StaleEdit) as caught:
        editorial.pick(store, config, JAN, v[1], NOW, section="appels", new_only=True)
    assert caught.value.what == "the candidate"
    assert store.pick_for(JAN, "item", int(v[1])).section == "veille"  # type: ignore[union-attr]


def test_versions_per_field_never_block_unrelated_changes(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    """The title, the édito, each pick's note and the order of each section have their own
    versions: a change to one never makes a page stale for another."""
    v = _ids(store, "la27eregion")
    seen = editorial.peek_issue(store, config, JAN, NOW)  # nothing stored yet: versions 0
    assert (seen.version, seen.title_version, seen.edito_version) == (0, 0, 0)
    editorial.pick(store, config, JAN, v[0], NOW)  # creates the issue
    editorial.pick(store, config, JAN, v[1], NOW)
    layout = editorial.layout(store, JAN)
    assert layout == {"veille": (v[0], v[1])}
    editorial.set_edito(store, config, JAN, "Bonne année", NOW, expected_version=seen.edito_version)
    editorial.set_title(store, config, JAN, "Un titre", NOW, expected_version=seen.title_version)
    editorial.move(store, config, JAN, v[1], 1, NOW, expected_layout=layout)  # the édito moved on: fine
    editorial.add_event(store, config, JAN, NOW, title="Temps du lab", starts_at=datetime(2022, 1, 27, 14))
    pick = store.pick_for(JAN, "item", int(v[1]))
    assert pick is not None and pick.version == 1  # a move is no change to its note
    editorial.edit_pick(store, config, JAN, v[1], NOW, note="Note", expected_version=pick.version)
    issue = store.issue(JAN)
    assert issue is not None and (issue.title_version, issue.edito_version) == (2, 2)
    editorial.set_edito(store, config, JAN, "Bonne année !", NOW, expected_version=issue.edito_version)
    editorial.set_title(store, config, JAN, "Un autre titre", NOW, expected_version=issue.title_version)
    # The same field, from a stale page: refused, naming the field; the CLI passes no version.
    with pytest.raises(StaleEdit, match="the edito of the issue 2022-01") as caught:
        editorial.set_edito(store, config, JAN, "Autre", NOW, expected_version=issue.edito_version)
    assert caught.value.field == "edito"
    with pytest.raises(StaleEdit) as caught:
        editorial.set_title(store, config, JAN, "Autre", NOW, expected_version=issue.title_version)
    assert caught.value.field == "title"
    # The text already saved is no conflict: there is nothing to choose between.
    editorial.set_edito(store, config, JAN, "Bonne année !", NOW, expected_version=issue.edito_version)
    editorial.set_edito(store, config, JAN, "Sans version", NOW)
    after = store.issue(JAN)
    assert after is not None and (after.edito, after.title) == ("Sans version", "Un autre titre")
    assert after.version > issue.version  # the issue's own version still follows every change


def test_a_move_that_changes_nothing_leaves_the_issue_alone(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    """Moving the last pick down, or a pick to where it is, must not make another editor's page stale."""
    v = _ids(store, "la27eregion")
    for ref in v[:3]:
        editorial.pick(store, config, JAN, ref, NOW, section="veille")
    version = store.issue(JAN).version  # type: ignore[union-attr]
    layout = editorial.layout(store, JAN)
    editorial.move(store, config, JAN, v[2], 3, NOW, expected_layout=layout)
    editorial.move(store, config, JAN, v[2], 99, NOW, expected_layout=layout)  # "last" is where it is
    editorial.move(store, config, JAN, v[1], 2, NOW, section="veille", expected_layout=layout)
    editorial.pick(store, config, JAN, v[0], NOW)  # picked again: keeps its place
    assert store.issue(JAN).version == version  # type: ignore[union-attr]
    assert editorial.layout(store, JAN) == layout
    editorial.move(store, config, JAN, v[2], 1, NOW, expected_layout=layout)
    assert store.issue(JAN).version == version + 1  # type: ignore[union-attr]
    assert [p.ref for p in store.picks(JAN, "veille")] == [v[2], v[0], v[1]]


def test_candidates_group_duplicates_and_filter(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    save_entries(
        store,
        "veille-education",
        [
            make_entry(
                "dup",
                "« Article v 1 »",
                "https://other.example/copy",
                published=datetime(2022, 1, 5, tzinfo=UTC),
                body="",
            )
        ],
        NOW,
    )
    found = editorial.candidates(store, config, JAN, NOW)
    head = next(c for c in found if c.title == "Article v 1")
    assert len(head.also_seen) == 1 and "veille-education" in head.sources
    assert all(
        c.section == "actualites" for c in editorial.candidates(store, config, JAN, NOW, section="actualites")
    )
    assert {c.title for c in editorial.candidates(store, config, JAN, NOW, source="lab-normandie")} == {
        f"Article n {i}" for i in range(4)
    }
    assert editorial.candidates(store, config, JAN, NOW, lab="lab-normandie")
    assert [c.ref for c in editorial.candidates(store, config, JAN, NOW, search="ARTICLE N 2")]


def test_recency_counts_from_the_end_of_the_window_for_a_past_month(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    """Looked at years later (or prepared after its month), an issue still ranks its newest items
    first, with ages counted from the end of its window, the same in the ranking and the reasons."""
    years_later = datetime(2026, 11, 29, tzinfo=UTC)
    found = editorial.candidates(store, config, JAN, years_later)
    on_time = editorial.candidates(store, config, JAN, datetime(2022, 2, 1, tzinfo=UTC))
    assert [(c.ref, c.score) for c in found] == [(c.ref, c.score) for c in on_time]
    newest = max(found, key=lambda c: c.published)
    recency = next(r for r in newest.reasons if r.code == "recency")
    assert int(recency.detail) < 31 and recency.points > 0.5
    shown = editorial.explain(
        config, JAN, years_later, editorial.candidates(store, config, JAN, years_later, reasons=False)
    )
    assert [c.reasons for c in shown] == [c.reasons for c in found]


def test_events_and_ics(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    e = editorial.add_event(
        store,
        config,
        JAN,
        NOW,
        title="Temps du lab",
        starts_at=datetime(2022, 1, 27, 14, 0),
        ends_at=datetime(2022, 1, 27, 15, 30),
        video_url="https://visio.example/lab",
        description="Les ambassadeurs",
    )
    assert e.starts_at == datetime(2022, 1, 27, 13, 0, tzinfo=UTC)  # 14:00 in Paris
    with pytest.raises(UsageError, match="not an http"):
        editorial.add_event(
            store, config, JAN, NOW, title="X", starts_at=datetime(2022, 1, 3), link="javascript:alert(1)"
        )
    from icalendar import Calendar

    cal = Calendar.from_ical(views.events_ics(config, JAN, store.events(JAN)))
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert str(events[0]["summary"]) == "Temps du lab"
    assert events[0].decoded("dtstart") == datetime(2022, 1, 27, 13, 0, tzinfo=UTC)
    editorial.remove_event(store, config, JAN, e.id, NOW)
    assert store.events(JAN) == []


ops = st.lists(
    st.tuples(
        st.sampled_from(["pick", "unpick", "move"]),
        st.integers(0, 5),
        st.sampled_from(["veille", "actualites"]),
        st.one_of(st.none(), st.integers(1, 8)),
    ),
    max_size=25,
)


@pytest.mark.slow
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=ops)
def test_positions_stay_one_to_n(tmp_path_factory, config, ops) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(tmp_path_factory.mktemp("h") / "c.db")
    store.sync_sources(config.sources, NOW)
    save_entries(store, "la27eregion", _entries(6, "v"), NOW)
    ids = _ids(store, "la27eregion")
    for op, index, section, position in ops:
        ref = ids[index]
        picked = store.pick_for(JAN, "item", int(ref)) is not None
        if op == "pick":
            editorial.pick(store, config, JAN, ref, NOW, section=section, position=position)
        elif op == "unpick" and picked:
            editorial.unpick(store, config, JAN, ref, NOW)
        elif op == "move" and picked:
            editorial.move(store, config, JAN, ref, position or 1, NOW, section=section)
        for s in ("veille", "actualites"):
            assert [p.position for p in store.picks(JAN, s)] == list(range(1, len(store.picks(JAN, s)) + 1))
    store.close()


def test_cli_curation_round_trip(tmp_path: Path, store: Store, config) -> None:  # type: ignore[no-untyped-def]
    v = _ids(store, "la27eregion")
    store.close()
    base = ["--db", str(tmp_path / "c.db"), "--config", str(config.path)]
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(cli, [*base, *args], input=input)
        assert result.exit_code == 0, result.output
        return result.output

    listed = run("candidates", "--month", "2022-01", "--limit", "3")
    assert "3 of 10 candidates shown" in listed
    assert len(re.findall(r"^ +\d+ +[\d.]+  2022-01-\d\d  Article ", listed, re.MULTILINE)) == 3  # 3 titles
    assert "10 candidates." in run("candidates", "--month", "2022-01")
    data = json.loads(run("candidates", "--month", "2022-01", "--json"))
    assert {"ref", "score", "reasons", "also_seen", "section"} <= set(data[0])
    run("pick", v[0], "--month", "2022-01", "--note", "Pourquoi c'est important")
    run("pick", v[1], "--month", "2022-01", "--section", "actualites", "--title", "Titre revu")
    run("move", v[1], "--month", "2022-01", "--position", "1", "--section", "veille")
    run("edito", "--month", "2022-01", "--file", "-", input="Bonne année à toutes et à tous !")
    run(
        "event",
        "add",
        "--month",
        "2022-01",
        "--title",
        "Temps du lab",
        "--start",
        "2022-01-27 14:00",
        "--place",
        "En visio",
    )
    shown = json.loads(run("issue", "show", "--month", "2022-01", "--json"))
    veille = next(s for s in shown["sections"] if s["id"] == "veille")
    assert [(p["ref"], p["position"]) for p in veille["picks"]] == [(v[1], 1), (v[0], 2)]
    assert veille["picks"][0]["title"] == "Titre revu"
    assert veille["picks"][1]["note"] == "Pourquoi c'est important"
    assert shown["edito"].startswith("Bonne année")
    assert shown["events"][0]["title"] == "Temps du lab"
    run(
        "event",
        "add",
        "--month",
        "2022-01",
        "--title",
        "Séminaire",
        "--start",
        "2022-01-27 14:00",
        "--end",
        "2022-01-28 12:00",
    )
    text = run("issue", "show", "--month", "2022-01")
    assert "2022-01-27 14:00 – 2022-01-28 12:00  Séminaire" in text  # two days: the end date too
    assert (
        "Bonne année à toutes et à tous !" in text and "2022-01-27 14:00  Temps du lab" in text
    )  # Paris time
    assert "(none yet)" not in text and "times in Europe/Paris" in text
    run("unpick", v[0], "--month", "2022-01")
    result = runner.invoke(cli, [*base, "pick", "nope", "--month", "2022-01"])
    assert result.exit_code == 2 and "invalid id" in result.output
    result = runner.invoke(cli, [*base, "issue", "show", "--month", "2021-05"])
    assert result.exit_code == 1 and "no issue for 2021-05" in result.output.replace(
        "there is no issue for", "no issue for"
    )


def test_picking_rules_from_the_review(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    v = _ids(store, "la27eregion")
    # Only sections that take picks.
    with pytest.raises(UsageError, match="is the edito: use `curator edito`"):
        editorial.pick(store, config, JAN, v[0], NOW, section="edito")
    with pytest.raises(UsageError, match="curator event add"):
        editorial.pick(store, config, JAN, v[0], NOW, section="agenda")
    # Picking again with a note keeps the place; a bad override changes nothing.
    for ref in v[:3]:
        editorial.pick(store, config, JAN, ref, NOW)
    editorial.pick(store, config, JAN, v[0], NOW, note="Une note")
    assert [(p.ref, p.position) for p in store.picks(JAN, "veille")] == [(v[0], 1), (v[1], 2), (v[2], 3)]
    with pytest.raises(UsageError, match="300"):
        editorial.pick(store, config, JAN, v[3], NOW, title="x" * 301)
    assert store.pick_for(JAN, "item", int(v[3])) is None
    # An article goes out once.
    editorial.publish(store, config, JAN, NOW)
    from curator.errors import InUseError

    with pytest.raises(InUseError, match="already published in the issue 2022-01"):
        editorial.pick(store, config, Month.parse("2022-02"), v[0], NOW)
    # Ids must be plain, bounded numbers.
    for bad in ("²", "99999999999999999999", "-1", "r"):
        with pytest.raises(UsageError):
            editorial.pick(store, config, Month.parse("2022-02"), bad, NOW)
