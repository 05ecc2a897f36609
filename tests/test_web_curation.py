"""The editors' curation screens (/editeur/numeros), through Flask's test client."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import WebClient, seed_candidates

from curator.models import Month

JAN = Month.parse("2022-01")
NOW = datetime(2022, 1, 20, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def logged_in(web: WebClient, editor_account: Any) -> WebClient:
    seed_candidates(web.app, {"la27eregion": 3}, NOW)
    assert web.login().status_code == 303
    return web


def _ids(web: WebClient) -> list[int]:
    with web.store() as store:
        return sorted(i.id for i in store.items())


def _version(web: WebClient) -> int:
    """The version a page shows: 0 for an issue that does not exist yet."""
    with web.store() as store:
        issue = store.issue(JAN)
        return issue.version if issue is not None else 0


def test_candidates_page_pick_reorder_note(logged_in: WebClient) -> None:
    web = logged_in
    page = web.client.get("/editeur/numeros/2022-01/candidats?q=veille")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Veille numéro 2" in html and "Score" in html
    a, b, c = (str(i) for i in _ids(web))
    for ref in (a, b):
        r = web.post(
            "/editeur/numeros/2022-01/choisir", {"ref": ref, "section": "veille", "version": _version(web)}
        )
        assert r.status_code == 303
    r = web.post(
        "/editeur/numeros/2022-01/choisir", {"ref": c, "section": "actualites", "version": _version(web)}
    )
    assert r.status_code == 303
    # Reorder with the buttons that work without JavaScript.
    r = web.post("/editeur/numeros/2022-01/deplacer", {"ref": b, "direction": "up", "version": _version(web)})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"#pick-{b}")
    with web.store() as store:
        assert [p.ref for p in store.picks(JAN, "veille")] == [b, a]
    # A note and a title override.
    form = web.hidden(f"/editeur/numeros/2022-01/choix/{a}")
    r = web.post(
        f"/editeur/numeros/2022-01/choix/{a}",
        {
            "pick_version": form["pick_version"],
            "note": "Un **bel** exemple",
            "title": "Titre revu",
            "summary": "",
        },
    )
    assert r.status_code == 303
    issue_page = web.client.get("/editeur/numeros/2022-01").get_data(as_text=True)
    assert "Titre revu" in issue_page and "<strong>bel</strong>" in issue_page
    assert issue_page.index(f"[{b}]") < issue_page.index(f"[{a}]")


def test_picks_from_the_same_page_never_block_each_other(logged_in: WebClient) -> None:
    """Two editors on the same candidates page: each picks something else, and both are in the
    issue; picking what the other one picked meanwhile is refused, and it stays where they put it."""
    web = logged_in
    a, b, _c = (str(i) for i in _ids(web))
    page = web.client.get("/editeur/numeros/2022-01/candidats").get_data(as_text=True)
    with web.store() as store:
        assert store.issue(JAN) is None  # looking writes nothing
    form = {"new": re.search(r'name="new" value="(\d)"', page).group(1)}  # type: ignore[union-attr]
    r = web.post("/editeur/numeros/2022-01/choisir", {**form, "ref": a, "section": "appels"})  # editor A
    assert r.status_code == 303
    r = web.post("/editeur/numeros/2022-01/choisir", {**form, "ref": b})  # editor B, the same page
    assert r.status_code == 303
    assert "Ajouté au numéro" in web.client.get(r.headers["Location"]).get_data(as_text=True)
    r = web.post("/editeur/numeros/2022-01/choisir", {**form, "ref": a, "section": "veille"})  # B again
    assert r.status_code == 303
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Quelqu’un d’autre l’a choisi entre-temps" in page
    with web.store() as store:
        assert sorted((p.ref, p.section) for p in store.picks(JAN)) == [(a, "appels"), (b, "veille")]


def test_edito_events_and_frozen_issue(logged_in: WebClient) -> None:
    web = logged_in
    web.client.get("/editeur/numeros/2022-01")
    r = web.post("/editeur/numeros/2022-01/edito", {"edito": "Bonne année !", "version": _version(web)})
    assert r.status_code == 303
    r = web.post(
        "/editeur/numeros/2022-01/evenements",
        {"title": "Temps du lab", "start_date": "2022-01-27", "start_time": "14:00", "place": "En visio"},
    )
    assert r.status_code == 303
    page = web.client.get("/editeur/numeros/2022-01").get_data(as_text=True)
    assert "Temps du lab" in page and "Bonne année" in page
    event_id = re.search(r"/evenements/(\d+)/supprimer", page).group(1)  # type: ignore[union-attr]
    with web.store() as store:
        from curator import editorial

        config = web.app.extensions["curator"].config
        editorial.pick(store, config, JAN, str(_ids(web)[0]), NOW)
        editorial.publish(store, config, JAN, NOW)
    r = web.post(f"/editeur/numeros/2022-01/evenements/{event_id}/supprimer")
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "publié et figé" in page
    with web.store() as store:
        assert len(store.events(JAN)) == 1
    assert web.post("/editeur/numeros/2022-01/rouvrir").status_code == 303
    with web.store() as store:
        assert store.issue(JAN).state == "draft"  # type: ignore[union-attr]


def test_bad_month_is_404(logged_in: WebClient) -> None:
    assert logged_in.client.get("/editeur/numeros/2022-13").status_code == 404
    assert logged_in.client.get("/editeur/numeros/../../etc").status_code == 404


def test_an_article_already_published_is_refused_with_a_message(logged_in: WebClient) -> None:
    web = logged_in
    a = str(_ids(web)[0])
    with web.store() as store:
        from curator import editorial

        config = web.app.extensions["curator"].config
        editorial.pick(store, config, Month.parse("2021-12"), a, NOW)
        editorial.publish(store, config, Month.parse("2021-12"), NOW)
    r = web.post("/editeur/numeros/2022-01/choisir", {"ref": a, "version": _version(web)})
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Déjà publié dans le numéro 2021-12" in page


def test_only_a_draft_issue_page_runs_its_reordering_script(logged_in: WebClient) -> None:
    """Drag and drop: the issue page may load /static/reorder.js (no inline script);
    every other page stays script-free, and a published issue offers no reordering."""
    web = logged_in
    with web.store() as store:
        from curator import editorial

        config = web.app.extensions["curator"].config
        editorial.pick(store, config, JAN, str(_ids(web)[0]), NOW, section="veille")
    page = web.client.get("/editeur/numeros/2022-01")
    html = page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/reorder.js" defer>']
    assert 'id="reorder-form"' in html and 'data-drop-section="veille"' in html
    script = web.client.get("/static/reorder.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    for url in ("/editeur/numeros/2022-01/candidats", "/editeur/numeros", "/contribuer"):
        assert "script-src" not in web.client.get(url).headers["Content-Security-Policy"], url
    # A drop posts ref, section and position to the same endpoint as the buttons.
    ref = str(_ids(web)[1])
    web.post("/editeur/numeros/2022-01/choisir", {"ref": ref, "section": "veille", "version": _version(web)})
    r = web.post(
        "/editeur/numeros/2022-01/deplacer",
        {"ref": ref, "section": "appels", "position": "1", "version": _version(web)},
    )
    assert r.status_code == 303
    with web.store() as store:
        assert [p.ref for p in store.picks(JAN, "appels")] == [ref]
        editorial.publish(store, config, JAN, NOW)
    published = web.client.get("/editeur/numeros/2022-01")
    html = published.get_data(as_text=True)
    assert "<script" not in html and "reorder-form" not in html and "data-drop-section" not in html
    assert "script-src" not in published.headers["Content-Security-Policy"]


def test_a_pick_moves_to_another_section_without_a_position(logged_in: WebClient) -> None:
    """The section menu of each pick: last in the new section; in its own section, it stays."""
    web = logged_in
    a, b, c = (str(i) for i in _ids(web))
    for ref, section in ((a, "veille"), (b, "appels"), (c, "appels")):
        web.post(
            "/editeur/numeros/2022-01/choisir", {"ref": ref, "section": section, "version": _version(web)}
        )
    r = web.post(
        "/editeur/numeros/2022-01/deplacer", {"ref": a, "section": "appels", "version": _version(web)}
    )
    assert r.status_code == 303
    before = _version(web)
    r = web.post("/editeur/numeros/2022-01/deplacer", {"ref": b, "section": "appels", "version": before})
    assert r.status_code == 303 and _version(web) == before  # nothing to do, and it says so
    assert "Rien à déplacer" in web.client.get(r.headers["Location"]).get_data(as_text=True)
    with web.store() as store:
        assert [p.ref for p in store.picks(JAN, "appels")] == [b, c, a]
    r = web.post(
        "/editeur/numeros/2022-01/deplacer", {"ref": a, "position": "premier", "version": _version(web)}
    )
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Choisissez une position" in page


def _field(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found is not None, name
    return found.group(1)


def _textarea(page: str, element_id: str) -> str:
    found = re.search(rf'<textarea id="{element_id}"[^>]*>\n(.*?)</textarea>', page, re.S)
    assert found is not None, element_id
    return found.group(1)


def test_an_edito_conflict_keeps_the_typing_beside_the_saved_version(logged_in: WebClient) -> None:
    """B's page is stale: B's édito comes back in the form (409), A's beside it; B keeps theirs or mine."""
    web = logged_in
    stale = web.client.get("/editeur/numeros/2022-01").get_data(as_text=True)
    r = web.post(
        "/editeur/numeros/2022-01/edito",
        {"edito": "Le texte de A", "edito_version": _field(stale, "edito_version")},
    )
    assert r.status_code == 303  # editor A
    typed = "Le texte de B, tapé longuement"
    r = web.post(
        "/editeur/numeros/2022-01/edito", {"edito": typed, "edito_version": _field(stale, "edito_version")}
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Quelqu’un d’autre a modifié l’édito entre-temps" in page
    assert _textarea(page, "edito-text") == typed  # the typing, in the form that is sent
    assert _textarea(page, "edito-theirs") == "Le texte de A"  # the saved version, beside it
    assert "Garder mon édito" in page and "Prendre le sien" in page
    with web.store() as store:
        assert store.issue(JAN).edito == "Le texte de A"  # type: ignore[union-attr]
    # "Keep mine": the same form again, with the version it now carries.
    r = web.post(
        "/editeur/numeros/2022-01/edito", {"edito": typed, "edito_version": _field(page, "edito_version")}
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("#edito")
    with web.store() as store:
        assert store.issue(JAN).edito == typed  # type: ignore[union-attr]


def test_a_title_conflict_keeps_the_typing(logged_in: WebClient) -> None:
    web = logged_in
    stale = web.client.get("/editeur/numeros/2022-01").get_data(as_text=True)
    version = _field(stale, "title_version")
    r = web.post("/editeur/numeros/2022-01/titre", {"title": "Titre A", "title_version": version})
    assert r.status_code == 303  # editor A
    r = web.post("/editeur/numeros/2022-01/titre", {"title": "Titre B", "title_version": version})
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "Quelqu’un d’autre a modifié le titre" in page
    assert 'name="title" value="Titre B"' in page and 'id="issue-title-theirs" value="Titre A"' in page
    # A refusal that is no conflict keeps the typing too (422), with its reason.
    r = web.post("/editeur/numeros/2022-01/edito", {"edito": "x" * 20_001})
    assert r.status_code == 422 and "x" * 20_001 in r.get_data(as_text=True)


def test_changes_to_different_things_never_conflict(logged_in: WebClient) -> None:
    """From pages drawn before any of them: an édito, a title, a move, a note and an event."""
    web = logged_in
    a, b, _c = (str(i) for i in _ids(web))
    for ref in (a, b):
        web.post("/editeur/numeros/2022-01/choisir", {"ref": ref, "section": "veille"})
    stale = web.client.get("/editeur/numeros/2022-01").get_data(as_text=True)
    note_form = web.hidden(f"/editeur/numeros/2022-01/choix/{a}")
    edito = {"edito": "Un édito", "edito_version": _field(stale, "edito_version")}
    assert web.post("/editeur/numeros/2022-01/edito", edito).status_code == 303
    title = {"title": "Un titre", "title_version": _field(stale, "title_version")}
    assert web.post("/editeur/numeros/2022-01/titre", title).status_code == 303
    move = {"ref": b, "direction": "up", "layout": _field(stale, "layout")}
    r = web.post("/editeur/numeros/2022-01/deplacer", move)
    assert "Déplacé" in web.client.get(r.headers["Location"]).get_data(as_text=True)
    note = {"pick_version": note_form["pick_version"], "note": "Une note", "title": "", "summary": ""}
    assert web.post(f"/editeur/numeros/2022-01/choix/{a}", note).status_code == 303
    event = {"title": "Temps du lab", "start_date": "2022-01-27", "start_time": "14:00"}
    assert web.post("/editeur/numeros/2022-01/evenements", event).status_code == 303
    with web.store() as store:
        issue = store.issue(JAN)
        assert issue is not None and (issue.edito, issue.title) == ("Un édito", "Un titre")
        assert [p.ref for p in store.picks(JAN, "veille")] == [b, a]
        assert store.pick_for(JAN, "item", int(a)).note == "Une note"  # type: ignore[union-attr]
    # The same move again, from the stale page: the order it saw is gone, so it is refused.
    r = web.post("/editeur/numeros/2022-01/deplacer", {**move, "ref": a})
    page = web.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Quelqu’un d’autre a modifié l’ordre de cette rubrique entre-temps" in page
    with web.store() as store:
        assert [p.ref for p in store.picks(JAN, "veille")] == [b, a]


def test_a_note_conflict_shows_both_versions(logged_in: WebClient) -> None:
    web = logged_in
    a = str(_ids(web)[0])
    web.post("/editeur/numeros/2022-01/choisir", {"ref": a, "section": "veille"})
    form = web.hidden(f"/editeur/numeros/2022-01/choix/{a}")
    mine = {"pick_version": form["pick_version"], "title": "", "summary": ""}
    assert web.post(f"/editeur/numeros/2022-01/choix/{a}", {**mine, "note": "Note de A"}).status_code == 303
    r = web.post(f"/editeur/numeros/2022-01/choix/{a}", {**mine, "note": "Note de B", "title": "Titre B"})
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "Votre texte est conservé ci-dessous" in page
    assert _textarea(page, "note") == "Note de B" and _textarea(page, "note-theirs") == "Note de A"
    assert 'name="title" value="Titre B"' in page and 'id="title-theirs" value=""' in page
    assert 'id="summary-theirs"' not in page  # the same on both sides: nothing to choose
    assert "Garder ma version" in page and "Prendre la sienne" in page
    r = web.post(
        f"/editeur/numeros/2022-01/choix/{a}",
        {
            "pick_version": _field(page, "pick_version"),
            "note": "Note de B",
            "title": "Titre B",
            "summary": "",
        },
    )
    assert r.status_code == 303
    with web.store() as store:
        pick = store.pick_for(JAN, "item", int(a))
        assert pick is not None and (pick.note, pick.title) == ("Note de B", "Titre B")
    # Removed meanwhile: the note typed for it stays on the page, to copy.
    form = web.hidden(f"/editeur/numeros/2022-01/choix/{a}")
    with web.store() as store:
        from curator import editorial

        editorial.unpick(store, web.app.extensions["curator"].config, JAN, a, NOW)
    r = web.post(
        f"/editeur/numeros/2022-01/choix/{a}", {**form, "note": "Ma note", "title": "", "summary": ""}
    )
    assert r.status_code == 409 and _textarea(r.get_data(as_text=True), "note") == "Ma note"
