"""Lab portraits in the infolettre: a section of kind ``labs`` takes lab cards (``curator pick
lab:ID``), and only them; the email (HTML and text) and the archive show each card compactly,
linking to the lab's page; the archive renders an issue again when a portrayed card changes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import EMAIL_NOW, make_archive_data, make_email_issue, write_test_config

from curator import checklist, editorial, labs, views
from curator.archive import build_archive
from curator.cli import cli
from curator.config import load_config
from curator.errors import InvalidValue, NotPicked, SectionFull
from curator.models import Month
from curator.render import check_email, check_mjml, html_links, render_email
from curator.serialize import issue_json
from curator.store import Store

ROOT = Path(__file__).resolve().parent.parent
JAN, FEB = Month.parse("2022-01"), Month.parse("2022-02")
NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)

NORMANDIE = {
    "has_place": "yes",
    "place": "Un espace modulable au rectorat de Rouen.",
    "innovation_types": "pedagogique,numerique",
    "service_offer": "Ateliers de **design de service** avec les usagers et [prototypes](https://labs.example.org/proto?utm_source=x&id=2).",
    "stage": "actif",
}
BRETAGNE = {
    "has_place": "no",
    "innovation_types": "sociale",
    "service_offer": "Le 110 bus va dans les établissements. " * 20,  # long: cut in the email
    "stage": "lancement",
}
#: Allowed by the card's checks (no HTML, no script link, no entity), but looking for trouble:
#: template syntax, a heading, a tracking pixel, a link with a quote in it, MJML's own words.
HOSTILE_OFFER = (
    "# Notre offre\n\n"
    "{{ 7*7 }} {% if true %}jinja{% endif %} R&D mj-text ]]>\n\n"
    "![pixel](https://evil.example/pixel.gif) "
    '[piège](https://ok.example/page?utm_source=spam&id=3 "titre\\" onmouseover=\\"window.__pwned=1")'
)


@pytest.fixture
def setup(tmp_path: Path) -> Any:
    """The demo's configuration (with its « Portrait de lab » section), a store, two filled cards."""
    config = load_config(write_test_config(tmp_path))
    with Store.open(tmp_path / "curator.db") as store:
        store.sync_sources(config.sources, NOW)
        labs.set_card(store, config, "lab-normandie", NORMANDIE, by="test", now=NOW)
        labs.set_card(store, config, "lab-bretagne", BRETAGNE, by="test", now=NOW)
        yield store, config


def _card_ref(store: Store, lab: str) -> str:
    return f"l{store.lab_card_id(lab)}"


# --- picking ------------------------------------------------------------------------------------


def test_a_lab_goes_into_the_labs_section_with_its_note(setup: Any) -> None:
    store, config = setup
    p = editorial.pick(store, config, JAN, "lab:lab-normandie", NOW, note="Un lab **à suivre**.")
    assert (p.section, p.kind, p.position, p.note) == ("portraits", "lab", 1, "Un lab **à suivre**.")
    assert p.ref == _card_ref(store, "lab-normandie") and p.ref_id == store.lab_card_id("lab-normandie")
    # Its card's row id names it too, and picking it again changes nothing.
    assert editorial.pick(store, config, JAN, p.ref, NOW) == p
    view = views.issue_view(store, config, JAN)
    section = next(s for s in view.sections if s.section.id == "portraits")
    (shown,) = section.picks
    assert shown.title == "Lab'Innov Normandie" and shown.portrait is not None
    assert shown.url == "https://labs.example.org/archive/labs/lab-normandie/"
    assert shown.portrait.stage == "actif"
    assert shown.portrait.innovation_types == ("Pédagogique", "Numérique")
    assert "<strong>design de service</strong>" in shown.portrait.offer_html
    data = issue_json(view)
    (entry,) = next(s for s in data["sections"] if s["id"] == "portraits")["picks"]
    assert entry["kind"] == "lab" and entry["lab"] == "lab-normandie"
    assert entry["portrait"]["innovation_types"] == ["pedagogique", "numerique"]
    assert entry["portrait"]["page_url"] == shown.url
    json.dumps(data)  # every value is JSON


def test_a_lab_without_a_card_can_be_portrayed(setup: Any) -> None:
    store, config = setup
    p = editorial.pick(store, config, JAN, "lab:lab-lyon", NOW)  # its empty card is created
    assert store.lab_card("lab-lyon").version == 0
    (shown,) = [v for v in views.issue_view(store, config, JAN).picks if v.ref == p.ref]
    assert shown.portrait is not None and not shown.portrait.filled and shown.summary == ""


def test_a_lab_is_refused_outside_a_labs_section_and_items_inside(setup: Any) -> None:
    store, config = setup
    with pytest.raises(InvalidValue) as refused:
        editorial.pick(store, config, JAN, "lab:lab-normandie", NOW, section="veille")
    assert refused.value.problem == "wrong_kind" and "of kind labs (portraits)" in str(refused.value)
    report_id, _ = store.add_report(
        submission_key="k",
        lab="lab-normandie",
        lab_other="",
        author_name="Claire",
        author_email="claire@example.org",
        title="Un retour",
        summary="Résumé.",
        body="Texte.",
        link=None,
        tags=[],
        license="etalab-2.0",
        now=NOW,
    )
    store.change_report(report_id, {"status": "approved"}, editor="t", action="approved", now=NOW)
    with pytest.raises(InvalidValue) as refused:
        editorial.pick(store, config, JAN, f"r{report_id}", NOW, section="portraits")
    assert refused.value.problem == "wrong_kind" and "holds lab portraits" in str(refused.value)
    assert store.picks(JAN) == []


def test_an_unknown_lab_names_the_known_ones(setup: Any) -> None:
    store, config = setup
    with pytest.raises(InvalidValue) as refused:
        editorial.pick(store, config, JAN, "lab:lab-atlantide", NOW)
    assert refused.value.field == "lab" and "lab-normandie" in str(refused.value)
    assert store.lab_cards().keys() == {"lab-normandie", "lab-bretagne"}  # nothing created
    with pytest.raises(InvalidValue):
        editorial.unpick(store, config, JAN, "lab:lab-atlantide", NOW)


def test_without_a_labs_section_the_error_says_how_to_add_one(tmp_path: Path) -> None:
    text = write_test_config(tmp_path).read_text(encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(text.replace("  - {id: portraits, title: Portrait de lab, kind: labs}\n", ""))
    config = load_config(path)
    with Store.open(tmp_path / "c.db") as store, pytest.raises(InvalidValue) as refused:
        editorial.pick(store, config, JAN, "lab:lab-normandie", NOW)
    assert refused.value.problem == "no_labs_section"
    assert "add a section with kind: labs to sources.yaml" in str(refused.value)


def test_the_labs_section_holds_two_portraits(setup: Any) -> None:
    store, config = setup
    assert config.section("portraits").max_picks == 2
    editorial.pick(store, config, JAN, "lab:lab-normandie", NOW)
    editorial.pick(store, config, JAN, "lab:lab-bretagne", NOW)
    with pytest.raises(SectionFull):
        editorial.pick(store, config, JAN, "lab:lab-lyon", NOW)
    assert len(store.picks(JAN, "portraits")) == 2


def test_note_move_and_unpick_by_lab_id_or_ref(setup: Any) -> None:
    store, config = setup
    a = editorial.pick(store, config, JAN, "lab:lab-normandie", NOW)
    b = editorial.pick(store, config, JAN, "lab:lab-bretagne", NOW)
    edited = editorial.edit_pick(store, config, JAN, "lab:lab-bretagne", NOW, note="Le *110 bus*.")
    assert edited.note == "Le *110 bus*." and edited.version == b.version + 1
    # A portrait is the lab's own words: no title or summary of the editors.
    with pytest.raises(InvalidValue) as refused:
        editorial.edit_pick(store, config, JAN, b.ref, NOW, title="Autre nom")
    assert refused.value.problem == "portrait_wording"
    with pytest.raises(InvalidValue):
        editorial.pick(store, config, JAN, "lab:lab-lyon", NOW, summary="Résumé")
    moved = editorial.move(store, config, JAN, "lab:lab-bretagne", 1, NOW)
    assert moved.position == 1 and [p.ref for p in store.picks(JAN, "portraits")] == [b.ref, a.ref]
    assert editorial.unpick(store, config, JAN, "lab:lab-bretagne", NOW).ref == b.ref
    assert editorial.unpick(store, config, JAN, a.ref, NOW).ref == a.ref
    assert store.picks(JAN) == []
    with pytest.raises(NotPicked):
        editorial.unpick(store, config, JAN, "lab:lab-normandie", NOW)


def test_a_lab_may_be_portrayed_again_and_candidates_say_when_it_last_was(setup: Any) -> None:
    store, config = setup
    first = [c.lab.id for c in editorial.lab_candidates(store, config, JAN)]
    # Never portrayed first; those that filled their card before the others; then sources.yaml's order.
    assert first[:2] == ["lab-normandie", "lab-bretagne"] and len(first) == len(config.labs)
    editorial.pick(store, config, JAN, "lab:lab-normandie", NOW, note="Une note.")
    picked = {c.lab.id: c.picked for c in editorial.lab_candidates(store, config, JAN)}
    assert picked["lab-normandie"] == "portraits" and picked["lab-bretagne"] is None
    editorial.publish(store, config, JAN, NOW)
    # An article goes out once; a lab may be portrayed again.
    again = editorial.pick(store, config, FEB, "lab:lab-normandie", NOW)
    assert again.month == FEB
    editorial.unpick(store, config, FEB, again.ref, NOW)
    found = editorial.lab_candidates(store, config, FEB)
    assert found[-1].lab.id == "lab-normandie" and found[-1].last_portrayed == JAN
    assert found[0].lab.id == "lab-bretagne" and found[0].last_portrayed is None


# --- the email ------------------------------------------------------------------------------------


@pytest.fixture
def email_issue(tmp_path: Path) -> Any:
    store, config, month = make_email_issue(tmp_path, items=4, reports=1, events=1)
    labs.set_card(store, config, "lab-normandie", NORMANDIE, by="test", now=EMAIL_NOW)
    labs.set_card(store, config, "lab-bretagne", BRETAGNE, by="test", now=EMAIL_NOW)
    editorial.pick(store, config, month, "lab:lab-normandie", EMAIL_NOW, note="Un lab **à suivre**.")
    editorial.pick(store, config, month, "lab:lab-bretagne", EMAIL_NOW)
    try:
        yield store, config, month
    finally:
        store.close()


def _render(store: Store, config: Any, month: Month) -> Any:
    return render_email(views.issue_view(store, config, month), config, now=EMAIL_NOW)


def _portraits_part(html: str) -> str:
    start = html.index("Portrait de lab")
    return html[start : html.index("Veille", start)]


def test_the_email_shows_each_portrait_with_a_link_to_the_lab_page(email_issue: Any) -> None:
    store, config, month = email_issue
    rendered = _render(store, config, month)
    assert rendered.warnings == ()
    assert check_mjml(rendered.mjml) == []
    part = _portraits_part(rendered.html)
    page = "https://labs.example.org/archive/labs/lab-normandie/"
    assert f'href="{page}"' in part and "Voir la fiche du lab" in part
    assert "Lab’Innov Normandie" in part
    assert "Normandie · Rouen · Stade\u00a0: actif" in part
    assert "Lieu dédié\u00a0: Un espace modulable au rectorat de Rouen." in part
    assert "Types d’innovation\u00a0: Pédagogique, Numérique" in part
    assert "<strong>design de service</strong>" in part
    assert 'href="https://labs.example.org/proto?id=2"' in part  # the offer's link, without tracking
    assert "Pourquoi nous l’avons retenu" in part and "<strong>à suivre</strong>" in part
    # The other lab: no dedicated place, its long offer cut at a word, its whole card online.
    assert "Lieu dédié\u00a0: non" in part and "Stade\u00a0: en lancement" in part
    assert "Le 110 bus va dans les établissements." in part and "…" in part
    assert part.count("Le 110 bus") < 20
    assert "https://labs.example.org/archive/labs/lab-bretagne/" in html_links(rendered.html)
    # The portraits come after « Actualités des labs », as in sources.yaml.
    assert rendered.html.index("Actualités des labs") < rendered.html.index("Portrait de lab")


def test_the_text_part_carries_the_portraits_and_their_links(email_issue: Any) -> None:
    store, config, month = email_issue
    text = _render(store, config, month).text
    part = text[text.index("PORTRAIT DE LAB") : text.index("VEILLE")]
    assert "* Lab’Innov Normandie\n  https://labs.example.org/archive/labs/lab-normandie/\n" in part
    assert "  Normandie · Rouen · Stade\u00a0: actif\n" in part
    assert "Types d’innovation\u00a0: Pédagogique, Numérique" in part
    assert "prototypes <https://labs.example.org/proto?id=2>" in " ".join(part.split())
    assert "  > Pourquoi nous l’avons retenu\u00a0: Un lab à suivre." in part
    assert "https://labs.example.org/archive/labs/lab-bretagne/" in part
    assert all(len(line) <= 78 or "https://" in line for line in part.splitlines())


def test_the_portraits_stay_readable_in_dark_mode(email_issue: Any) -> None:
    """Every colour of a portrait is one the dark palette overrides (its classes) or the note's."""
    store, config, month = email_issue
    part = _portraits_part(_render(store, config, month).mjml)
    colours = set(re.findall(r"color:(#[0-9a-f]{6})", part))
    assert colours <= {"#000091", "#161616", "#3a3a3a"}  # blue, ink, muted: each has its dark rule
    assert 'class="muted"' in part and 'class="n"' in part and 'class="s"' in part


def test_a_hostile_looking_offer_renders_as_text(tmp_path: Path) -> None:
    store, config, month = make_email_issue(tmp_path, items=1, reports=0, events=0, hostile=False)
    with store:
        # Allowed by the card's checks: it is only text and Markdown.
        labs.set_card(store, config, "lab-lille", {"service_offer": HOSTILE_OFFER}, by="t", now=EMAIL_NOW)
        # A store written without them (an older version, SQL by hand) is no worse.
        store.change_lab_card(
            "lab-reunion",
            {"service_offer": '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> ok'},
            by="sql",
            origin="cli",
            now=EMAIL_NOW,
        )
        for lab in ("lab-lille", "lab-reunion"):
            editorial.pick(store, config, month, f"lab:{lab}", EMAIL_NOW)
        rendered = _render(store, config, month)
        assert check_mjml(rendered.mjml) == [] and check_email(rendered.html, rendered.text) == []
        part = _portraits_part(rendered.html)
        assert "{{ 7*7 }}" in part and "49" not in part and "jinja" in part  # never evaluated
        assert "<h1" not in part and "<h4>Notre offre</h4>" in part  # below the lab's name
        assert "evil.example" not in part  # an image is its alt text: nothing to track readers with
        assert 'href="https://ok.example/page?id=3"' in part
        assert "&lt;script&gt;window.__pwned=1" in part  # shown as text
        tags = _tags(part)
        assert not {"script", "img", "iframe", "h1"} & {tag for tag, _attrs in tags}
        assert not [name for _tag, attrs in tags for name in attrs if name.startswith("on")]
        assert "{{ 7*7 }}" in rendered.text and "<script>" in rendered.text  # the text part is plain text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every element of an HTML fragment, with its attributes (as a browser would read them)."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.slow
def test_the_reference_validator_accepts_the_portraits(email_issue: Any, tmp_path: Path) -> None:
    mjml_cli = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mjml"
    if shutil.which("node") is None or not mjml_cli.exists():
        reason = "the reference MJML validator is not installed (make node-tools)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; under CI this check must run")
        pytest.skip(reason)
    store, config, month = email_issue
    source = tmp_path / "issue.mjml"
    source.write_text(_render(store, config, month).mjml, encoding="utf-8")
    result = subprocess.run(
        [str(mjml_cli), "--validate", str(source)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the checklist ------------------------------------------------------------------------------


def test_the_checklist_warns_of_an_empty_card_and_blocks_a_lab_gone_from_sources_yaml(setup: Any) -> None:
    store, config = setup
    empty = editorial.pick(store, config, JAN, "lab:lab-lyon", NOW)
    found = checklist.issue_checklist(store, config, JAN, NOW)
    codes = {f.code: f for f in found.findings}
    assert codes["portrait_empty"].severity == "warning"
    assert codes["portrait_empty"].data == {
        "ref": empty.ref,
        "lab": "lab-lyon",
        "title": "Lab de l'académie de Lyon",
    }
    labs.set_card(store, config, "lab-lyon", {"stage": "actif"}, by="t", now=NOW)
    assert "portrait_empty" not in {
        f.code for f in checklist.issue_checklist(store, config, JAN, NOW).findings
    }
    gone = replace(config, labs=tuple(lab for lab in config.labs if lab.id != "lab-lyon"))
    found = checklist.issue_checklist(store, gone, JAN, NOW)
    (blocking,) = [f for f in found.blocking if f.code == "portrait_lab_unknown"]
    assert blocking.data == {"ref": empty.ref, "lab": "lab-lyon"}


def test_a_labs_section_may_require_a_note(tmp_path: Path) -> None:
    text = write_test_config(tmp_path).read_text(encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(
        text.replace(
            "title: Portrait de lab, kind: labs}", "title: Portrait de lab, kind: labs, note_required: true}"
        )
    )
    config = load_config(path)
    with Store.open(tmp_path / "c.db") as store:
        p = editorial.pick(store, config, JAN, "lab:lab-normandie", NOW)
        missing = [
            f for f in checklist.issue_checklist(store, config, JAN, NOW).blocking if f.code == "note_missing"
        ]
        assert [f.data["ref"] for f in missing] == [p.ref]
        editorial.edit_pick(store, config, JAN, p.ref, NOW, note="Parce que.")
        assert not [
            f for f in checklist.issue_checklist(store, config, JAN, NOW).blocking if f.code == "note_missing"
        ]


# --- the archive ----------------------------------------------------------------------------------


def _portray_in_january(data: Any) -> None:
    """Reopen the archive data's January issue, portray a lab in it, publish it again."""
    store, config = data.store, data.config
    when = datetime(2022, 1, 26, tzinfo=UTC)
    editorial.reopen(store, JAN, when)
    labs.set_card(store, config, "lab-normandie", NORMANDIE, by="t", now=when)
    editorial.pick(store, config, JAN, "lab:lab-normandie", when, note="Un lab **à suivre**.")
    editorial.publish(store, config, JAN, when)


def test_the_archive_issue_page_shows_the_portrait(tmp_path: Path) -> None:
    data = make_archive_data(tmp_path)
    with data.store:
        _portray_in_january(data)
        out = tmp_path / "archive"
        build_archive(data.store, data.config, out, now=datetime(2022, 2, 1, tzinfo=UTC))
    page = (out / "2022-01" / "index.html").read_text(encoding="utf-8")
    start = page.index('class="section section--labs"')
    part = page[start : page.index("</section>", start)]
    assert '<h2 id="s-portraits">Portrait de lab</h2>' in part
    assert '<a href="../labs/lab-normandie/index.html">Lab’Innov Normandie</a>' in part
    assert "Normandie · Rouen · Stade\u00a0: actif" in part
    assert "Types d’innovation\u00a0: Pédagogique, Numérique" in part
    assert "<strong>design de service</strong>" in part and "<strong>à suivre</strong>" in part
    assert (out / "labs" / "lab-normandie" / "index.html").exists()  # the link leads somewhere
    # A portrait is not one of the lab's publications: its page and feed do not list it.
    feed = (out / "labs" / "lab-normandie" / "feed.xml").read_text(encoding="utf-8")
    assert "design de service" not in feed
    # The search finds it.
    assert "Lab’Innov Normandie" in (out / "recherche" / "index.js").read_text(encoding="utf-8")


def test_a_changed_card_rebuilds_the_issue_page_in_an_incremental_publish(tmp_path: Path) -> None:
    data = make_archive_data(tmp_path)
    out = tmp_path / "archive"
    with data.store:
        _portray_in_january(data)
        build_archive(data.store, data.config, out, now=datetime(2022, 2, 1, tzinfo=UTC))
        same = build_archive(data.store, data.config, out, now=datetime(2022, 2, 2, tzinfo=UTC))
        assert same.rendered_issues == ()
        labs.set_card(
            data.store,
            data.config,
            "lab-normandie",
            {"service_offer": "Une offre toute neuve : des *résidences* d'un mois."},
            by="t",
            now=datetime(2022, 2, 3, tzinfo=UTC),
        )
        again = build_archive(data.store, data.config, out, now=datetime(2022, 2, 3, tzinfo=UTC))
    assert again.rendered_issues == ("2022-01",)
    page = (out / "2022-01" / "index.html").read_text(encoding="utf-8")
    assert "<em>résidences</em>" in page and "design de service" not in page
    assert "2022-01/index.html" in again.written


# --- the command line ---------------------------------------------------------------------------


def test_curator_pick_candidates_and_issue_show(tmp_path: Path) -> None:
    config = write_test_config(tmp_path)
    db = tmp_path / "c.db"

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), *args])

    assert run("labs", "set", "lab-normandie", "--stage", "actif").exit_code == 0
    result = run("pick", "lab:lab-normandie", "--month", "2022-01", "--note", "Un lab à suivre.")
    assert result.exit_code == 0, result.output
    ref = re.match(r"(l\d+) is #1 in portraits of 2022-01\.", result.output)
    assert ref, result.output
    refused = run("pick", "lab:lab-bretagne", "--month", "2022-01", "--section", "veille")
    assert refused.exit_code == 2 and "of kind labs (portraits)" in refused.output
    unknown = run("pick", "lab:nulle-part", "--month", "2022-01")
    assert unknown.exit_code == 2 and "lab-normandie" in unknown.output
    listed = run("candidates", "--month", "2022-01", "--section", "portraits")
    assert listed.exit_code == 0, listed.output
    assert "lab:lab-normandie        [portraits] Lab'Innov Normandie" in listed.output
    assert "never portrayed" in listed.output and "empty card" in listed.output
    as_json = json.loads(run("candidates", "--month", "2022-01", "--section", "portraits", "--json").output)
    assert as_json[0]["ref"] == "lab:lab-normandie" and as_json[0]["picked"] == "portraits"
    assert {"ref", "kind", "lab", "name", "last_portrayed", "picked", "card_filled"} <= set(as_json[0])
    shown = run("issue", "show", "--month", "2022-01")
    assert f"Portrait de lab (1/2)\n  1. [{ref.group(1)}] Lab'Innov Normandie\n" in shown.output
    assert (
        "lab:lab-normandie · Normandie · Rouen" in shown.output and "note: Un lab à suivre." in shown.output
    )
    moved = run("unpick", "lab:lab-normandie", "--month", "2022-01")
    assert moved.exit_code == 0 and "removed from portraits" in moved.output
