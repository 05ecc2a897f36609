"""The labs' cards on the web, through Flask's test client on a real SQLite file: the public
form (/contribuer/lab) with its protections, and moderation in the editor area (/editeur/labs)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from conftest import TEST_EDITOR_EMAIL, WebClient

from curator import labs
from curator.demo.labs import DEMO_CARDS, seed_demo_cards
from curator.errors import AlreadyDecided, StaleEdit
from curator.web.messages import error_message

pytestmark = pytest.mark.usefixtures("fast_passwords")

NOW = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)
AUTHOR = {"author_name": "Claire Lemoine", "author_email": "claire.lemoine@ac-normandie.example"}
_HIDDEN_RE = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


class Page(HTMLParser):
    """The elements of a page and their attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v if v is not None else "" for k, v in attrs}))

    def by_id(self, element_id: str) -> dict[str, str]:
        return next(attrs for _tag, attrs in self.elements if attrs.get("id") == element_id)

    def ids(self) -> set[str]:
        return {attrs["id"] for _tag, attrs in self.elements if "id" in attrs}

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.elements if t == tag]

    def controls(self) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t in ("input", "select", "textarea")
            and a.get("type") != "hidden"
            and a.get("name") != "website"
        ]


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def seed_cards(web: WebClient) -> None:
    """The demo labs' cards, as ``curator demo`` fills them."""
    with web.store() as store:
        seed_demo_cards(store, web.app.extensions["curator"].config, NOW)


def card(web: WebClient, lab: str) -> Any:
    with web.store() as store:
        return store.lab_card(lab)


def proposals(web: WebClient, **filters: Any) -> list[Any]:
    with web.store() as store:
        return store.lab_proposals(**filters)


def form_of(web: WebClient, lab: str) -> dict[str, Any]:
    """What a person's browser sends for the card form of ``lab`` left as it is: the hidden
    fields and the card's values (an unticked box is not sent)."""
    response = web.client.get(f"/contribuer/lab?lab={lab}")
    assert response.status_code == 200, text(response)
    data: dict[str, Any] = dict(_HIDDEN_RE.findall(text(response)))
    values = labs.form_data(card(web, lab))
    data.update({k: v for k, v in values.items() if v not in ("", None, [])})
    return data


def send(web: WebClient, lab: str = "lab-normandie", **changes: Any) -> Any:
    """Open the form of ``lab``, change ``changes`` (None: leave the field out), add the author, send."""
    data = {**form_of(web, lab), **AUTHOR, **changes}
    return web.client.post("/contribuer/lab", data={k: v for k, v in data.items() if v is not None})


def propose(web: WebClient, lab: str = "lab-normandie", **changes: Any) -> Any:
    """A pending proposal stored through the form: the proposal."""
    response = send(web, lab, **changes)
    assert response.status_code == 303, text(response)
    return proposals(web, status="pending")[-1]


# --- the public form --------------------------------------------------------------------


def test_the_chooser_lists_the_labs_and_needs_no_script(web: WebClient) -> None:
    response = web.client.get("/contribuer/lab")
    assert response.status_code == 200
    html = text(response)
    assert "Mettre à jour la fiche de votre lab" in html
    page = Page(html)
    [form] = [a for t, a in page.elements if t == "form" and a.get("action") == "/contribuer/lab"]
    assert form["method"] == "get"
    options = re.findall(r'<option value="([^"]*)"', html)
    assert options[0] == "" and set(options[1:]) == {
        lab.id for lab in web.app.extensions["curator"].config.labs
    }
    assert not page.all("script")
    assert page.by_id("lab")["name"] == "lab"
    assert '<label for="lab">Votre lab</label>' in html


def test_the_form_is_prefilled_with_the_current_card(web: WebClient) -> None:
    seed_cards(web)
    response = web.client.get("/contribuer/lab?lab=lab-normandie")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = text(response)
    assert "<h1>Mettre à jour la fiche de Lab’Innov Normandie</h1>" in html
    page = Page(html)
    hidden = dict(_HIDDEN_RE.findall(html))
    current = card(web, "lab-normandie")
    assert hidden["lab"] == "lab-normandie" and hidden["version"] == str(current.version) == "1"
    assert re.fullmatch(r"[0-9a-f]{32}", hidden["submission_key"])
    assert "checked" in page.by_id("has_place-yes") and "checked" not in page.by_id("has_place-no")
    ticked = {a["value"] for a in page.all("input") if a.get("name") == "innovation_types" and "checked" in a}
    assert ticked == {"pedagogique", "numerique", "design-de-service"}
    assert "checked" in page.by_id("stage-actif")
    assert page.by_id("contact_email")["value"] == "lab-innov@example.org"
    assert "checked" in page.by_id("contact_public")
    assert "Ateliers de **design de service** avec les usagers" in html  # the Markdown as typed
    assert "Un espace modulable au rectorat de Rouen." in html
    # Every control has its label; the service offer says it takes Markdown, and its limit.
    labelled = {a["for"] for a in page.all("label")}
    names = set()
    for control in page.controls():
        assert control["id"] in labelled, control
        names.add(control["name"])
    assert set(labs.FORM_FIELDS) - {"lab"} <= names
    assert "Vous pouvez utiliser Markdown" in html and "Au plus 3\u202f000 caractères" in html
    assert "Mise à jour de la fiche" not in html and "Fiche mise à jour le" in html


def test_a_valid_proposal_waits_for_an_editor_then_303_to_thanks(web: WebClient) -> None:
    seed_cards(web)
    before = card(web, "lab-normandie")
    response = send(web, stage="lancement", innovation_types=["pedagogique", "numerique", "sociale"])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/contribuer/lab/merci")
    [proposal] = proposals(web)
    assert proposal.status == "pending" and proposal.lab == "lab-normandie"
    assert proposal.changed_fields() == ("innovation_types", "stage")
    assert (proposal.author_name, proposal.author_email) == (AUTHOR["author_name"], AUTHOR["author_email"])
    assert card(web, "lab-normandie") == before  # nothing changes before an editor approves
    thanks = web.client.get("/contribuer/lab/merci")
    assert thanks.status_code == 200
    assert "Merci\u00a0: votre mise à jour a bien été envoyée" in text(thanks)
    assert "examine les modifications proposées" in text(thanks)
    assert 'href="/contribuer"' in text(thanks)


def test_an_empty_card_can_be_filled_in(web: WebClient) -> None:
    proposal = propose(
        web,
        "lab-lyon",
        has_place="no",
        service_offer="Des ateliers *numériques*.",
        stage="lancement",
        innovation_types=["numerique"],
        feed="veille-education",
        team="Deux personnes",
    )
    assert proposal.values["has_place"] is False and proposal.values["feed"] == "veille-education"
    assert set(proposal.changed_fields()) == {
        "has_place",
        "innovation_types",
        "service_offer",
        "stage",
        "team",
        "feed",
    }


def test_the_same_form_sent_twice_is_stored_once(web: WebClient) -> None:
    data = {**form_of(web, "lab-lyon"), **AUTHOR, "stage": "actif"}
    assert web.client.post("/contribuer/lab", data=data).status_code == 303
    assert web.client.post("/contribuer/lab", data=data).status_code == 303
    assert len(proposals(web)) == 1


def test_a_proposal_that_changes_nothing_is_refused(web: WebClient) -> None:
    seed_cards(web)
    response = send(web)
    assert response.status_code == 422
    assert "Rien n’a changé" in text(response)
    assert proposals(web) == []


INVALID = [
    pytest.param(
        {"innovation_types": ["numerique", "astrologie"]},
        "innovation_types",
        "innovation_types-pedagogique",
        "Type d’innovation inconnu",
        id="unknown-term",
    ),
    pytest.param(
        {"contact_email": "pas-une-adresse"},
        "contact_email",
        "contact_email",
        "Saisissez une adresse électronique au bon format",
        id="bad-contact-email",
    ),
    pytest.param(
        {"service_offer": "Trop long. " * 300},
        "service_offer",
        "service_offer",
        "3\u202f000 caractères au maximum (vous en avez saisi 3\u202f299)",
        id="oversized-offer",
    ),
    pytest.param(
        {"place": "<script>alert(1)</script>"},
        "place",
        "place",
        "Retirez le code HTML",
        id="script-in-place",
    ),
    pytest.param(
        {"service_offer": "[x](javascript:alert(1))"},
        "service_offer",
        "service_offer",
        "ce champ accepte du texte simple ou du Markdown",
        id="script-link-in-offer",
    ),
    pytest.param({"stage": "bientôt"}, "stage", "stage-prefiguration", "Choisissez un stade", id="stage"),
    pytest.param({"feed": "nope"}, "feed", "feed", "Choisissez un flux dans la liste", id="feed"),
    pytest.param(
        {"has_place": "peut-être"}, "has_place", "has_place-yes", "Répondez oui ou non", id="yes-no"
    ),
    pytest.param(
        {"contact_public": "yes", "contact_email": ""},
        "contact_email",
        "contact_email",
        "Saisissez l’adresse à afficher",
        id="public-contact-without-address",
    ),
    pytest.param(
        {"author_email": ""}, "author_email", "author_email", "Saisissez votre adresse", id="no-author"
    ),
    pytest.param(
        {"author_name": " "}, "author_name", "author_name", "Saisissez vos prénom et nom", id="no-name"
    ),
]


@pytest.mark.parametrize(("changes", "field", "anchor", "french"), INVALID)
def test_each_invalid_field_has_a_clear_french_error_and_keeps_what_was_typed(
    web: WebClient, changes: dict[str, Any], field: str, anchor: str, french: str
) -> None:
    seed_cards(web)
    response = send(web, **{"stage": "lancement", "team": "Une équipe <3 & des amis", **changes})
    assert response.status_code == 422
    html = text(response)
    assert html.count("<title>Erreur\u00a0:") == 1
    assert "Il y a un problème" in html
    assert french in html
    assert f'<a href="#{anchor}">' in html  # the summary leads to the field
    page = Page(html)
    assert anchor in page.ids()
    assert page.by_id(anchor)["aria-invalid"] == "true"
    assert f"{field}-error" in page.ids()
    # What was typed comes back, escaped; the card's other values too.
    assert "Une équipe &lt;3 &amp; des amis" in html
    assert "checked" in page.by_id("stage-lancement") or field == "stage"
    for value in changes.values():
        if isinstance(value, str) and value.strip() and field not in ("has_place", "stage", "feed"):
            escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            assert escaped in html, value
    assert "<script>alert(1)</script>" not in html
    assert proposals(web) == []
    # Fixed, the same form goes through, with the same submission key.
    hidden = dict(_HIDDEN_RE.findall(html))
    assert hidden["version"] == "1" and hidden["lab"] == "lab-normandie"


def test_an_unknown_term_keeps_the_known_ones_ticked(web: WebClient) -> None:
    response = send(web, "lab-lyon", innovation_types=["numerique", "astrologie"])
    page = Page(text(response))
    assert "checked" in page.by_id("innovation_types-numerique")
    assert "checked" not in page.by_id("innovation_types-sociale")


def test_the_honeypot_answers_like_a_success_and_keeps_nothing(web: WebClient) -> None:
    response = send(web, "lab-lyon", stage="actif", website="https://spam.example")
    assert response.status_code == 303 and response.headers["Location"].endswith("/contribuer/lab/merci")
    assert proposals(web) == []


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_proposals_are_rate_limited_per_address_in_their_own_bucket(make_app: Any) -> None:
    clock = Clock()
    web = WebClient(make_app(web={"submission_limit": 2, "submission_window": 600}, clock=clock))
    assert send(web, "lab-lyon", stage="actif").status_code == 303
    assert send(web, "lab-lyon", stage="actif", author_email="").status_code == 422  # not counted
    assert send(web, "lab-lille", stage="actif").status_code == 303
    response = send(web, "lab-grenoble", stage="actif", team="Trois personnes")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "600"
    html = text(response)
    assert "Vous avez envoyé plusieurs mises à jour en peu de temps" in html
    assert "attendez 10\u00a0minutes" in html or "attendez 10 minutes" in html
    assert "Trois personnes" in html and 'name="lab" value="lab-grenoble"' in html  # nothing is lost
    assert len(proposals(web)) == 2
    # The report form has its own allowance.
    assert web.submit().status_code == 303
    clock.now += timedelta(seconds=601)
    assert send(web, "lab-grenoble", stage="actif").status_code == 303


def test_a_missing_csrf_token_gives_400_with_what_was_typed(web: WebClient) -> None:
    data = {**form_of(web, "lab-lyon"), **AUTHOR, "team": "Notre équipe", "stage": "actif"}
    del data["csrf_token"]
    response = web.client.post("/contribuer/lab", data=data)
    assert response.status_code == 400
    html = text(response)
    assert "Pour votre sécurité, le formulaire a expiré" in html
    assert "Notre équipe" in html and 'value="claire.lemoine@ac-normandie.example"' in html
    assert "checked" in Page(html).by_id("stage-actif")
    assert 'name="lab" value="lab-lyon"' in html
    assert proposals(web) == []
    # Sent again from that page (it carries a fresh token), it goes through.
    again = {**dict(_HIDDEN_RE.findall(html)), **AUTHOR, "team": "Notre équipe", "stage": "actif"}
    assert web.client.post("/contribuer/lab", data=again).status_code == 303


def test_head_and_get_never_act(web: WebClient, editor_account: Any) -> None:
    seed_cards(web)
    proposal = propose(web, stage="lancement")
    assert web.client.head("/contribuer/lab?lab=lab-normandie").status_code == 200
    assert web.login().status_code == 303
    for path in (
        f"/editeur/labs/propositions/{proposal.id}/approuver",
        f"/editeur/labs/propositions/{proposal.id}/refuser",
    ):
        assert web.client.head(path).status_code == 405
        assert web.client.get(path).status_code == 405
    assert web.client.head("/editeur/labs/fiches/lab-normandie").status_code == 200
    assert [p.status for p in proposals(web)] == ["pending"]
    assert card(web, "lab-normandie").version == 1


def test_an_unknown_lab_shows_the_chooser_with_an_error(web: WebClient) -> None:
    response = web.client.get("/contribuer/lab?lab=lab-atlantide")
    assert response.status_code == 404
    html = text(response)
    assert "Ce lab n’est pas dans la liste" in html
    assert '<a href="#lab">' in html and Page(html).by_id("lab")["aria-invalid"] == "true"
    response = web.client.get("/contribuer/lab?lab=")
    assert response.status_code == 422 and "Choisissez votre lab dans la liste." in text(response)
    hostile = web.client.get('/contribuer/lab?lab="><script>alert(1)</script>')
    assert hostile.status_code == 404 and "<script>alert(1)" not in text(hostile)


def test_a_proposal_for_an_unknown_lab_keeps_what_was_typed_and_asks_for_the_lab(web: WebClient) -> None:
    data = {**form_of(web, "lab-lyon"), **AUTHOR, "lab": "lab-atlantide", "team": "Notre équipe"}
    response = web.client.post("/contribuer/lab", data=data)
    assert response.status_code == 422
    html = text(response)
    assert "Choisissez votre lab dans la liste." in html
    page = Page(html)
    assert page.by_id("lab")["aria-invalid"] == "true"  # a list to choose from, in the form
    assert "Notre équipe" in html
    assert proposals(web) == []


def test_a_change_made_while_the_lab_filled_the_form_is_not_undone(web: WebClient) -> None:
    seed_cards(web)
    opened = form_of(web, "lab-normandie")  # the lab opens the form (version 1)
    with web.store() as store:  # meanwhile an editor changes the team
        labs.set_card(
            store,
            web.app.extensions["curator"].config,
            "lab-normandie",
            {"team": "Trois chargés de mission"},
            by="editrice",
            now=NOW,
        )
    response = web.client.post("/contribuer/lab", data={**opened, **AUTHOR, "stage": "lancement"})
    assert response.status_code == 303
    [proposal] = proposals(web)
    assert proposal.changed_fields() == ("stage",)
    assert proposal.values["team"] == "Trois chargés de mission"


def test_the_report_form_and_its_thanks_lead_to_the_card_form(web: WebClient) -> None:
    assert 'href="/contribuer/lab"' in text(web.client.get("/contribuer"))
    assert 'href="/contribuer/lab"' in text(web.client.get("/contribuer/merci"))


# --- moderation -----------------------------------------------------------------------------


@pytest.fixture
def editor(web: WebClient, editor_account: Any) -> WebClient:
    """The client, with the demo's cards, logged in as an editor."""
    seed_cards(web)
    return web


def test_the_editor_pages_need_a_login(editor: WebClient) -> None:
    proposal = propose(editor, stage="lancement")
    for path in (
        "/editeur/labs",
        f"/editeur/labs/propositions/{proposal.id}",
        "/editeur/labs/fiches/lab-lyon",
    ):
        response = editor.client.get(path)
        assert response.status_code == 302 and "/editeur/connexion" in response.headers["Location"], path
    response = editor.post(f"/editeur/labs/propositions/{proposal.id}/approuver")
    assert response.status_code == 303 and "/editeur/connexion" in response.headers["Location"]
    response = editor.post("/editeur/labs/fiches/lab-lyon", {"stage": "actif", "version": "0"})
    assert response.status_code == 303 and "/editeur/connexion" in response.headers["Location"]
    assert [p.status for p in proposals(editor)] == ["pending"]
    assert card(editor, "lab-lyon").stage == "lancement"


def test_the_list_shows_the_pending_proposals_first_and_each_card(editor: WebClient) -> None:
    first = propose(editor, stage="lancement")
    second = propose(editor, "lab-lyon", team="Une équipe soudée", author_name="Ana <i>Ruiz</i>")
    assert editor.login().status_code == 303
    response = editor.client.get("/editeur/labs")
    assert response.status_code == 200
    html = text(response)
    assert html.index("2 propositions à examiner") < html.index("<h2>Les labs</h2>")
    assert html.index(f"Proposition n°\u00a0{first.id}\u00a0: Lab’Innov Normandie") < html.index(
        f"Proposition n°\u00a0{second.id}\u00a0: Lab de l’académie de Lyon"
    )
    assert "Champs modifiés\u00a0: Stade" in html
    assert "Ana &lt;i&gt;Ruiz&lt;/i&gt;" in html and "<i>Ruiz" not in html
    # Each lab of sources.yaml, with its stage, when its card changed, and what waits.
    for lab in editor.app.extensions["curator"].config.labs:
        assert f'href="/editeur/labs/fiches/{lab.id}"' in html
    row = re.search(r'href="/editeur/labs/fiches/lab-normandie">.*?</tr>', html, re.S)
    assert row and "actif" in row[0] and "10 janvier 2022" in row[0] and "<td>1</td>" in row[0]
    # The nav says how many proposals wait.
    assert re.search(r'href="/editeur/labs">Labs <span class="count">2</span>', html)


def test_the_proposal_page_shows_what_would_change_field_by_field(editor: WebClient) -> None:
    offer = DEMO_CARDS["lab-normandie"]["service_offer"]
    changed_offer = offer.replace("prototypage rapide", "prototypage au long cours") + " Et 3 < 5 & 2 > 1."
    proposal = propose(editor, stage="lancement", service_offer=changed_offer)
    assert editor.login().status_code == 303
    response = editor.client.get(f"/editeur/labs/propositions/{proposal.id}")
    assert response.status_code == 200
    html = text(response)
    assert "Claire Lemoine" in html and "mailto:claire.lemoine%40ac-normandie.example" in html
    headings = re.findall(r'<h3 id="diff-(\w+)">([^<]+)</h3>', html)
    assert headings == [("service_offer", "Offre de service"), ("stage", "Stade")]  # only what changes
    stage = html[html.index('id="diff-stage"') :]
    assert "actif" in stage and "<ins>en lancement</ins>" in stage
    offer_part = html[html.index('id="diff-service_offer"') : html.index('id="diff-stage"')]
    # The offer as text, word by word: what goes is struck, what comes is marked.
    assert "<del>rapide</del>" in offer_part and "<ins>au long cours</ins>" in offer_part
    assert "**design de service**" in offer_part  # the Markdown as typed, not rendered
    assert "3 &lt; 5 &amp; 2 &gt; 1." in offer_part
    assert "La fiche a changé après" not in html
    assert 'action="/editeur/labs/propositions/1/approuver"' in html


def test_the_proposal_page_says_when_the_card_changed_since_the_lab_saw_it(editor: WebClient) -> None:
    proposal = propose(editor, stage="lancement")
    with editor.store() as store:
        labs.set_card(
            store,
            editor.app.extensions["curator"].config,
            "lab-normandie",
            {"stage": "prefiguration"},
            by="x",
            now=NOW,
        )
    assert editor.login().status_code == 303
    html = text(editor.client.get(f"/editeur/labs/propositions/{proposal.id}"))
    assert "La fiche a changé après que le lab a ouvert le formulaire" in html
    assert "le lab a vu «\u00a0actif\u00a0»" in html


def test_approving_applies_only_the_changed_fields_and_records_the_history(editor: WebClient) -> None:
    proposal = propose(editor, stage="lancement", innovation_types=["numerique", "sociale"])
    with editor.store() as store:  # an editor changes the team after the lab sent its proposal
        labs.set_card(
            store,
            editor.app.extensions["curator"].config,
            "lab-normandie",
            {"team": "Trois chargés"},
            by="x",
            now=NOW,
        )
    assert editor.login().status_code == 303
    response = editor.post(f"/editeur/labs/propositions/{proposal.id}/approuver")
    assert response.status_code == 303 and response.headers["Location"].endswith("/editeur/labs")
    listing = text(editor.client.get("/editeur/labs"))
    assert "Proposition approuvée\u00a0: la fiche de Lab’Innov Normandie est à jour." in listing
    assert "0 proposition à examiner" in listing
    now = card(editor, "lab-normandie")
    assert now.stage == "lancement" and now.innovation_types == ("numerique", "sociale")
    assert now.team == "Trois chargés"  # not put back to what the lab saw
    assert now.service_offer == DEMO_CARDS["lab-normandie"]["service_offer"]
    with editor.store() as store:
        last = store.lab_card_changes("lab-normandie")[-1]
        decided = store.lab_proposal(proposal.id)
    assert (last.origin, last.proposal_id, last.by) == ("proposal", proposal.id, TEST_EDITOR_EMAIL)
    assert set(last.changes) == {"stage", "innovation_types"}
    assert decided.status == "approved" and decided.decided_by == TEST_EDITOR_EMAIL
    # The card's page shows it in its history, with a link to the proposal.
    page = text(editor.client.get("/editeur/labs/fiches/lab-normandie"))
    assert f"proposition n°\u00a0{proposal.id} approuvée par {TEST_EDITOR_EMAIL}" in page
    assert f'href="/editeur/labs/propositions/{proposal.id}"' in page
    # The proposal's page, decided, shows what the lab proposed and no buttons.
    decided_page = text(editor.client.get(f"/editeur/labs/propositions/{proposal.id}"))
    assert "Ce que le lab a proposé" in decided_page and "approuvée" in decided_page
    assert "/approuver" not in decided_page


def test_approving_twice_says_it_was_already_done(editor: WebClient) -> None:
    proposal = propose(editor, stage="lancement")
    assert editor.login().status_code == 303
    path = f"/editeur/labs/propositions/{proposal.id}"
    assert editor.post(f"{path}/approuver").status_code == 303
    version = card(editor, "lab-normandie").version
    again = editor.post(f"{path}/approuver")
    assert again.status_code == 303 and again.headers["Location"].endswith(path)
    html = text(editor.client.get(path))
    assert "notice--info" in html and "Cette proposition était déjà approuvée." in html
    refused = editor.post(f"{path}/refuser", {"reason": "Trop tard"})
    assert refused.status_code == 303
    assert "Cette proposition était déjà approuvée." in text(editor.client.get(path))
    assert card(editor, "lab-normandie").version == version
    assert proposals(editor)[0].status == "approved"


def test_rejecting_needs_a_reason_and_leaves_the_card(editor: WebClient) -> None:
    proposal = propose(editor, stage="lancement")
    before = card(editor, "lab-normandie")
    assert editor.login().status_code == 303
    path = f"/editeur/labs/propositions/{proposal.id}/refuser"
    response = editor.post(path, {"reason": "   "})
    assert response.status_code == 422
    html = text(response)
    assert "Indiquez pourquoi la proposition est refusée." in html and '<a href="#reason">' in html
    assert proposals(editor)[0].status == "pending"
    response = editor.post(path, {"reason": "Le lab est <b>actif</b> depuis 2020."})
    assert response.status_code == 303
    [rejected] = proposals(editor)
    assert rejected.status == "rejected" and rejected.reject_reason == "Le lab est <b>actif</b> depuis 2020."
    assert card(editor, "lab-normandie") == before
    page = text(editor.client.get(f"/editeur/labs/propositions/{proposal.id}"))
    assert "Le lab est &lt;b&gt;actif&lt;/b&gt; depuis 2020." in page and "refusée" in page


def test_an_unknown_proposal_or_lab_is_404(editor: WebClient) -> None:
    assert editor.login().status_code == 303
    assert editor.client.get("/editeur/labs/propositions/99").status_code == 404
    assert editor.post("/editeur/labs/propositions/99/approuver").status_code == 404
    response = editor.client.get("/editeur/labs/fiches/lab-atlantide")
    assert response.status_code == 404 and "Lab introuvable" in text(response)


def test_an_editor_edits_a_card_and_sees_its_history(editor: WebClient) -> None:
    assert editor.login().status_code == 303
    page = editor.client.get("/editeur/labs/fiches/lab-lyon")
    assert page.status_code == 200
    hidden = dict(_HIDDEN_RE.findall(text(page)))
    values = labs.form_data(card(editor, "lab-lyon"))
    data = {**{k: v for k, v in values.items() if v not in ("", None, [])}, **hidden}
    response = editor.client.post(
        "/editeur/labs/fiches/lab-lyon",
        data={**data, "stage": "actif", "has_place": "yes", "place": "Une salle"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/editeur/labs/fiches/lab-lyon"
    )
    now = card(editor, "lab-lyon")
    assert (now.stage, now.has_place, now.place, now.updated_by) == (
        "actif",
        True,
        "Une salle",
        TEST_EDITOR_EMAIL,
    )
    html = text(editor.client.get("/editeur/labs/fiches/lab-lyon"))
    assert "Fiche enregistrée." in html
    assert f"modifiée par {TEST_EDITOR_EMAIL} dans l’espace éditeur" in html
    assert "remplie par la démo" in html
    assert html.index("dans l’espace éditeur") < html.index("remplie par la démo")  # newest first
    # Sent again unchanged: nothing is written.
    hidden = dict(_HIDDEN_RE.findall(html))
    same = {**{k: v for k, v in labs.form_data(now).items() if v not in ("", None, [])}, **hidden}
    assert editor.client.post("/editeur/labs/fiches/lab-lyon", data=same).status_code == 303
    assert card(editor, "lab-lyon").version == now.version


def test_an_invalid_card_edit_keeps_what_was_typed(editor: WebClient) -> None:
    assert editor.login().status_code == 303
    hidden = dict(_HIDDEN_RE.findall(text(editor.client.get("/editeur/labs/fiches/lab-lyon"))))
    response = editor.client.post(
        "/editeur/labs/fiches/lab-lyon",
        data={
            **hidden,
            "contact_email": "pas-une-adresse",
            "team": "Notre équipe",
            "innovation_types": "astrologie",
        },
    )
    assert response.status_code == 422
    html = text(response)
    assert "Il y a 2 problèmes" in html and "Notre équipe" in html and 'value="pas-une-adresse"' in html
    assert card(editor, "lab-lyon").team == ""


def test_a_stale_card_edit_is_a_conflict_that_keeps_what_was_typed(editor: WebClient) -> None:
    assert editor.login().status_code == 303
    hidden = dict(_HIDDEN_RE.findall(text(editor.client.get("/editeur/labs/fiches/lab-lyon"))))
    with editor.store() as store:  # someone else saves the card meanwhile
        labs.set_card(
            store, editor.app.extensions["curator"].config, "lab-lyon", {"team": "La leur"}, by="x", now=NOW
        )
    response = editor.client.post(
        "/editeur/labs/fiches/lab-lyon", data={**hidden, "team": "La mienne", "stage": "actif"}
    )
    assert response.status_code == 409
    html = text(response)
    assert "Quelqu’un d’autre a modifié cette fiche pendant que vous la modifiiez" in html
    assert "La mienne" in html
    assert card(editor, "lab-lyon").team == "La leur"
    # Sent again from that page (the version it carries is the new one), the editor's values win.
    again = dict(_HIDDEN_RE.findall(html))
    assert again["version"] == str(card(editor, "lab-lyon").version)
    response = editor.client.post(
        "/editeur/labs/fiches/lab-lyon", data={**again, "team": "La mienne", "stage": "actif"}
    )
    assert response.status_code == 303 and card(editor, "lab-lyon").team == "La mienne"


def test_the_refusals_of_the_labs_are_said_in_french(app: Any) -> None:
    with app.test_request_context("/editeur/labs"):
        assert (
            error_message(AlreadyDecided(3, "approved", "lab card proposal"))
            == "Cette proposition était déjà approuvée."
        )
        assert (
            error_message(AlreadyDecided(3, "rejected", "lab card proposal"))
            == "Cette proposition était déjà refusée."
        )
        assert "Quelqu’un d’autre a modifié cette fiche" in error_message(
            StaleEdit("the lab card", "lab-lyon")
        )
        message = error_message(labs.InvalidLabCard({"stage": "Choisissez un stade."}))
        assert message == "Stade\u00a0: Choisissez un stade."
        from curator.errors import InvalidValue

        assert "n’est plus dans la liste des labs" in error_message(
            InvalidValue("lab", "unknown", "unknown lab")
        )


def test_a_request_too_large_says_so_for_the_card(make_app: Any) -> None:
    web = WebClient(make_app(web={"max_request_bytes": 64 * 1024}))
    response = send(web, "lab-lyon", service_offer="x" * 70_000)
    assert response.status_code == 413
    assert "Raccourcissez les textes de la fiche" in text(response)
