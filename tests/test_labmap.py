"""The académies and their map (curator.labmap): the data file, name lookups, and the inline SVG
as XML: 30 named shapes, links where asked, hostile labels escaped, the locator variant."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import curator
from curator.labmap import MAP_CSS, Academy, academies, attribution, find_academie, france_map

SVG = "{http://www.w3.org/2000/svg}"
DATA = Path(curator.__file__).parent / "data" / "academies.json"

ALL_IDS = {
    "aix-marseille", "amiens", "besancon", "bordeaux", "clermont-ferrand", "corse", "creteil",
    "dijon", "grenoble", "guadeloupe", "guyane", "la-reunion", "lille", "limoges", "lyon",
    "martinique", "mayotte", "montpellier", "nancy-metz", "nantes", "nice", "normandie",
    "orleans-tours", "paris", "poitiers", "reims", "rennes", "strasbourg", "toulouse", "versailles",
}  # fmt: skip
OVERSEAS = {"guadeloupe", "guyane", "la-reunion", "martinique", "mayotte"}


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def shapes(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter() if "academie" in e.get("class", "").split()]


def links_of(root: ET.Element) -> dict[str, ET.Element]:
    """Académie id → its <a>, in document (focus) order."""
    return {a.find(f"{SVG}path").get("id").removeprefix("map-"): a for a in root.iter(f"{SVG}a")}  # type: ignore[union-attr]


# --- The data ---------------------------------------------------------------------


def test_the_data_file_is_small_and_names_its_licence() -> None:
    assert DATA.stat().st_size < 200_000
    assert "CC BY 4.0" in attribution() and "https://creativecommons.org/licenses/by/4.0/" in attribution()
    assert "Natural Earth" in attribution()  # the overseas shapes' source


def test_thirty_academies_with_their_departements() -> None:
    found = academies()
    assert {a.id for a in found} == ALL_IDS
    assert all(isinstance(a, Academy) and a.name and a.chef_lieu for a in found)
    codes = [code for a in found for code in a.departements]
    assert len(codes) == len(set(codes)) == 96 + 5  # each département in one académie
    by_id = {a.id: a for a in found}
    assert by_id["normandie"].departements == ("14", "27", "50", "61", "76")
    assert by_id["normandie"].chef_lieu == "Rouen"
    assert by_id["aix-marseille"].chef_lieu == "Aix-en-Provence"
    assert by_id["corse"].departements == ("2A", "2B")
    assert {a.id for a in found if a.inset == "outremer"} == OVERSEAS
    assert {a.id for a in found if a.inset == "idf"} == {"paris", "creteil", "versailles"}


def test_chief_towns_are_where_they_should_be() -> None:
    for academy in academies():
        if academy.id in OVERSEAS:
            assert -22 < academy.lat < 17 and (-62 < academy.lon < -51 or 44 < academy.lon < 56), academy
        elif academy.id == "corse":
            assert 41.3 < academy.lat < 43.1 and 8.5 < academy.lon < 9.6
        else:  # the mainland's bounding box
            assert 42.3 < academy.lat < 51.1 and -4.8 < academy.lon < 8.3, academy


def test_the_committed_data_is_well_formed() -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert sorted(a["order"] for a in data["academies"]) == list(range(30))
    path_re = re.compile(r"\A(?:M[-\d. ]+l[-\d. ]*z)+\Z")
    for record in data["academies"]:
        assert path_re.match(record["d"]), record["id"]
        assert "d_inset" not in record or path_re.match(record["d_inset"])


# --- Finding an académie by the name a lab writes --------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Normandie", "normandie"),
        ("normandie", "normandie"),
        ("Académie de Normandie", "normandie"),
        ("Caen", "normandie"),
        ("Académie de Rouen", "normandie"),
        ("Réunion", "la-reunion"),
        ("La Réunion", "la-reunion"),
        ("la reunion", "la-reunion"),
        ("Académie de La Réunion", "la-reunion"),
        ("Nancy-Metz", "nancy-metz"),
        ("nancy metz", "nancy-metz"),
        ("Orléans-Tours", "orleans-tours"),
        ("ORLEANS-TOURS", "orleans-tours"),
        ("Aix-Marseille", "aix-marseille"),
        ("Académie d'Aix-Marseille", "aix-marseille"),
        ("Clermont", "clermont-ferrand"),
        ("Clermont-Ferrand", "clermont-ferrand"),
        ("Corse", "corse"),
        ("Académie de Créteil", "creteil"),
        ("Creteil", "creteil"),
        ("Besançon", "besancon"),
        ("Académie de la Guadeloupe", "guadeloupe"),
        ("Académie de Guyane", "guyane"),
        ("  Académie   de  Paris ", "paris"),
    ],
)
def test_find_academie_folds_case_accents_and_the_word_academie(name: str, expected: str) -> None:
    found = find_academie(name)
    assert found is not None and found.id == expected


@pytest.mark.parametrize(
    "name", ["Administration centrale", "administration centrale", "", "Atlantis", "Académie"]
)
def test_find_academie_knows_no_academie_for_the_ministry_or_nonsense(name: str) -> None:
    assert find_academie(name) is None


# --- The map --------------------------------------------------------------------------


def test_the_map_has_thirty_titled_shapes_with_unique_ids() -> None:
    root = parse(france_map({}, title="Carte des labs"))
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    assert root.get("width") is None and root.get("height") is None  # scales to its container
    found = shapes(root)
    assert len(found) == 30
    names = {a.name for a in academies()}
    assert {s.findtext(f"{SVG}title") for s in found} == names
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Carte des labs"
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("role") == "group"
    assert not list(root.iter(f"{SVG}a"))  # no labs, no links


def test_each_link_goes_where_it_was_asked_in_reading_order() -> None:
    links = {
        "mayotte": ("/labs?academie=mayotte", "Mayotte : 1 lab"),
        "nice": ("/labs?academie=nice", "Nice : 1 lab"),
        "lille": ("/labs?academie=lille", "Lille : 3 labs"),
        "paris": ("/labs?academie=paris", "Paris : 2 labs"),
        "rennes": ("/labs?academie=rennes", "Rennes : 1 lab"),
    }
    root = parse(france_map(links, title="Carte"))
    found = links_of(root)
    assert list(found) == ["lille", "paris", "rennes", "nice", "mayotte"]  # north to south, overseas last
    for academie, (href, label) in links.items():
        a = found[academie]
        assert a.get("href") == href and a.get("aria-label") == label
        path = a.find(f"{SVG}path")
        assert path is not None and "academie--lab" in path.get("class", "")
        assert path.findtext(f"{SVG}title") == label
    others = [s for s in shapes(root) if "academie--lab" not in s.get("class", "")]
    assert len(others) == 25


def test_unknown_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="atlantis"):
        france_map({"atlantis": ("/x", "Atlantis")}, title="Carte")
    with pytest.raises(ValueError, match="atlantis"):
        france_map({}, title="Carte", highlight="atlantis")
    with pytest.raises(ValueError, match="id_prefix"):
        france_map({}, title="Carte", id_prefix='x" onload="alert(1)')


def test_hostile_text_is_escaped() -> None:
    hostile = "<script>alert('x')</script> & \"quotes\""
    href = '/labs?a=1&b="2"><script>alert(1)</script>'
    markup = france_map({"normandie": (href, hostile)}, title=hostile)
    assert "<script>" not in markup
    root = parse(markup)  # still well-formed XML
    assert root.findtext(f"{SVG}title") == hostile
    a = links_of(root)["normandie"]
    assert a.get("href") == href and a.get("aria-label") == hostile
    assert a.find(f"{SVG}path").findtext(f"{SVG}title") == hostile  # type: ignore[union-attr]


def test_highlight_marks_one_academie() -> None:
    root = parse(france_map({"normandie": ("/n", "Normandie : 1 lab")}, title="Carte", highlight="normandie"))
    here = [s for s in shapes(root) if "academie--here" in s.get("class", "")]
    assert [s.get("id") for s in here] == ["map-normandie"]
    assert here[0].get("fill") != shapes(root)[0].get("fill")


def test_the_locator_is_one_image_with_one_highlighted_shape() -> None:
    root = parse(
        france_map(
            {"lille": ("/l", "Lille")},
            title="Localisation : Mayotte",
            highlight="mayotte",
            small=True,
            id_prefix="loc",
        )
    )
    assert root.get("role") == "img" and root.get("id") == "loc"
    assert root.findtext(f"{SVG}title") == "Localisation : Mayotte"
    assert not list(root.iter(f"{SVG}a"))
    assert len(shapes(root)) == 30
    here = [s for s in shapes(root) if "academie--here" in s.get("class", "")]
    assert [s.get("id") for s in here] == ["loc-mayotte"]
    assert not [s for s in shapes(root) if "academie--lab" in s.get("class", "")]


def test_two_maps_on_one_page_have_distinct_ids() -> None:
    one = parse(france_map({}, title="A", id_prefix="carte"))
    two = parse(france_map({}, title="B", small=True, highlight="paris", id_prefix="locator"))
    ids_one = {e.get("id") for e in one.iter() if e.get("id")}
    ids_two = {e.get("id") for e in two.iter() if e.get("id")}
    assert ids_one and ids_two and not ids_one & ids_two


def test_the_style_is_inline_unless_the_page_carries_it() -> None:
    inline = parse(france_map({"paris": ("/p", "Paris")}, title="Carte"))
    style = inline.find(f"{SVG}style")
    assert style is not None and style.text == MAP_CSS and "a:focus" in MAP_CSS
    bare = parse(france_map({"paris": ("/p", "Paris")}, title="Carte", inline_style=False))
    assert bare.find(f"{SVG}style") is None
    # The colours do not depend on the stylesheet (a Content-Security-Policy may refuse it).
    assert all(s.get("fill") for s in shapes(bare))


def test_the_insets_are_framed_and_labelled_but_hidden_from_assistive_technology() -> None:
    root = parse(france_map({}, title="Carte"))
    insets = root.find(f"{SVG}g[@class='insets']")
    assert insets is not None and insets.get("aria-hidden") == "true"
    labels = [t.text for t in insets.iter(f"{SVG}text")]
    assert labels == ["Île-de-France", "Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"]
