"""Publishing from the editor area (/editeur/numeros/<month>/publier), through Flask's test client:
the checklist first, a date, the explicit box for blocking points, the archive rebuilt both or
neither, « Rouvrir » rebuilding it too, and GET/HEAD never acting."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FeedServer, Reply, WebClient, make_entry, seed_candidates

from curator import editorial
from curator.ingest import save_entries
from curator.models import Month

JAN = Month.parse("2022-01")
NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def app(make_app: Any) -> Any:
    """The app with its clock on 20 January 2022 (the publication date cannot be later)."""
    return make_app(clock=lambda: NOW)


@pytest.fixture
def web(app: Any, editor_account: Any) -> WebClient:
    client = WebClient(app)
    seed_candidates(app, {"la27eregion": 2, "lab-normandie": 1}, NOW)
    assert client.login().status_code == 303
    return client


def config(web: WebClient) -> Any:
    return web.app.extensions["curator"].config


def archive_dir(web: WebClient) -> Path:
    out: Path = config(web).archive.out
    return out


def pick(web: WebClient, ref: str, section: str, note: str | None = None) -> None:
    with web.store() as store:
        editorial.pick(store, config(web), JAN, ref, NOW, section=section, note=note)


def prepare(web: WebClient, *, notes: bool = True) -> None:
    """Two Veille items (with the notes the section asks for, or not) and a lab's news."""
    for ref in ("1", "2"):
        pick(web, ref, "veille", note="Une méthode à essaimer." if notes else None)
    pick(web, "3", "actualites")


def issue_state(web: WebClient) -> tuple[str, datetime | None]:
    with web.store() as store:
        issue = store.issue(JAN)
        assert issue is not None
        return issue.state, issue.published_at


def page(web: WebClient, path: str) -> str:
    response = web.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return str(response.get_data(as_text=True))


def publish(web: WebClient, **fields: str) -> Any:
    form = web.hidden("/editeur/numeros/2022-01/publier")
    return web.post("/editeur/numeros/2022-01/publier", {"version": form["version"], **fields})


def test_the_checklist_is_shown_before_publishing(web: WebClient) -> None:
    prepare(web, notes=False)
    issue_page = page(web, "/editeur/numeros/2022-01")
    assert "Avant de publier" in issue_page and "2 points bloquants et 3 points à vérifier." in issue_page
    assert 'href="/editeur/numeros/2022-01/publier">Publier…</a>' in issue_page
    html = page(web, "/editeur/numeros/2022-01/publier")
    assert "<h1>Publier\u00a0: Infolettre — janvier 2022</h1>" in html
    assert (
        "Bloquant\u00a0:</strong> «\u00a0Veille numéro 0\u00a0» n’a pas de note de la rédaction, que la rubrique «\u00a0Veille\u00a0» demande."
        in html
    )
    assert (
        "À vérifier\u00a0:</strong> La rubrique «\u00a0Appels à contributions\u00a0» est vide\u00a0: elle n’apparaîtra pas."
        in html
    )
    assert html.index("Avant de publier") < html.index("Publier le numéro")  # the checklist first
    assert 'name="date" value="2022-01-20" max="2022-01-20"' in html
    assert "Publier malgré les points bloquants" in html
    assert "3 liens, pas encore vérifiés." in html and "Vérifier les liens" in html
    # Looking wrote nothing and built nothing.
    assert issue_state(web) == ("draft", None) and not archive_dir(web).exists()


def test_blocking_points_need_the_explicit_box(web: WebClient) -> None:
    prepare(web, notes=False)
    response = publish(web, date="2022-01-18")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        "Ce numéro a des points bloquants" in html
        and "cochez «\u00a0Publier malgré les points bloquants\u00a0»" in html
    )
    assert issue_state(web) == ("draft", None) and not archive_dir(web).exists()
    response = publish(web, date="2022-01-18", despite_blocking="1")
    assert response.status_code == 303 and response.headers["Location"].endswith("/editeur/numeros/2022-01")
    assert issue_state(web) == ("published", datetime(2022, 1, 18, 8, tzinfo=UTC))
    assert (archive_dir(web) / "2022-01" / "index.html").exists()


def test_publish_with_a_date(web: WebClient) -> None:
    prepare(web)
    html = page(web, "/editeur/numeros/2022-01/publier")
    assert "Publier malgré les points bloquants" not in html  # nothing blocks: no box
    response = publish(web, date="2022-01-18")
    assert response.status_code == 303
    shown = page(web, response.headers["Location"])
    assert "Le numéro est publié, daté du 18 janvier 2022\u00a0: l’archive est à jour." in shown
    assert "Publié le 18 janvier 2022" in shown and 'href="/2022-01/">Le voir dans l’archive</a>' in shown
    assert "Rouvrir ce numéro" in shown and "Publier…" not in shown
    assert issue_state(web) == ("published", datetime(2022, 1, 18, 8, tzinfo=UTC))  # 9:00 in Paris
    archived = (archive_dir(web) / "2022-01" / "index.html").read_text(encoding="utf-8")
    assert "18 janvier 2022" in archived and 'datetime="2022-01-18"' in archived
    assert "18 janvier 2022" in page(web, "/2022-01/")  # served by the app
    # Published: the page offers to reopen, and publishing again is refused.
    html = page(web, "/editeur/numeros/2022-01/publier")
    assert "Rouvrir ce numéro" in html and "Publier le numéro</button>" not in html
    response = web.post("/editeur/numeros/2022-01/publier", {"date": "2022-01-19"})
    assert response.status_code == 409 and "publié et figé" in response.get_data(as_text=True)
    assert issue_state(web)[1] == datetime(2022, 1, 18, 8, tzinfo=UTC)


def test_bad_dates_and_stale_pages_are_refused(web: WebClient) -> None:
    prepare(web)
    for day, message in (
        ("18/01/2022", "Écrivez la date de publication sous la forme AAAA-MM-JJ."),
        ("2022-01-21", "La date de publication ne peut pas être dans le futur."),
        ("2021-09-01", "Cette date de publication est très antérieure au mois du numéro."),
    ):
        response = publish(web, date=day)
        assert response.status_code == 422, day
        html = response.get_data(as_text=True)
        assert message in html and f'value="{day}"' in html
    # The checklist was drawn before another editor changed the issue: not published.
    form = web.hidden("/editeur/numeros/2022-01/publier")
    with web.store() as store:
        editorial.unpick(store, config(web), JAN, "3", NOW)
    response = web.post(
        "/editeur/numeros/2022-01/publier", {"version": form["version"], "date": "2022-01-18"}
    )
    assert response.status_code == 409 and "Quelqu’un d’autre a modifié ce numéro" in response.get_data(
        as_text=True
    )
    assert issue_state(web) == ("draft", None) and not archive_dir(web).exists()


def test_reopen_rebuilds_the_archive(web: WebClient) -> None:
    prepare(web)
    assert publish(web, date="2022-01-18").status_code == 303
    assert (archive_dir(web) / "2022-01").is_dir()
    response = web.post("/editeur/numeros/2022-01/rouvrir")
    assert response.status_code == 303
    shown = page(web, response.headers["Location"])
    assert "Le numéro est de nouveau un brouillon\u00a0: l’archive ne le montre plus." in shown
    assert issue_state(web)[0] == "draft"
    assert not (archive_dir(web) / "2022-01").exists() and (archive_dir(web) / "index.html").exists()
    # Published again, it keeps the date it was first published on.
    assert publish(web, date="2022-01-18").status_code == 303
    assert issue_state(web) == ("published", datetime(2022, 1, 18, 8, tzinfo=UTC))


def test_reopen_is_both_or_neither(web: WebClient) -> None:
    prepare(web)
    assert publish(web, date="2022-01-18").status_code == 303
    before = issue_state(web)
    out = archive_dir(web)
    shutil.rmtree(out)
    out.write_text("not a folder", encoding="utf-8")  # the archive cannot be built any more
    response = web.post("/editeur/numeros/2022-01/rouvrir", {"retour": "/editeur/numeros/2022-01/publier"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/publier")
    shown = page(web, response.headers["Location"])
    assert "Le numéro n’a pas été rouvert\u00a0: l’archive n’a pas pu être reconstruite sans lui" in shown
    assert "Il est toujours publié, et l’archive en ligne n’a pas changé." in shown
    assert issue_state(web) == before


def test_publish_is_both_or_neither(web: WebClient) -> None:
    prepare(web)
    out = archive_dir(web)
    out.write_text("not a folder", encoding="utf-8")
    response = publish(web, date="2022-01-18")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Le numéro n’a pas été publié\u00a0: l’archive n’a pas pu être reconstruite" in html
    assert "Il est toujours à l’état de brouillon" in html
    assert issue_state(web) == ("draft", None)


def test_get_and_head_never_act(web: WebClient) -> None:
    prepare(web)
    form = web.hidden("/editeur/numeros/2022-01/publier")
    body = {**form, "date": "2022-01-18", "despite_blocking": "1"}
    for method in ("GET", "HEAD"):
        response = web.client.open("/editeur/numeros/2022-01/publier", method=method, data=body)
        assert response.status_code == 200
        response = web.client.open("/editeur/numeros/2022-01/publier/liens", method=method, data=body)
        assert response.status_code == 405
    assert issue_state(web) == ("draft", None) and not archive_dir(web).exists()
    with web.store() as store:
        assert store.count("link_checks") == 0
    # Without its CSRF token, a POST does nothing either.
    forged = {k: v for k, v in body.items() if k != "csrf_token"}
    assert web.post("/editeur/numeros/2022-01/publier", forged, csrf=False).status_code == 400
    assert web.client.post("/editeur/numeros/2022-01/publier/liens").status_code == 400
    assert issue_state(web) == ("draft", None)


def test_check_links_on_request(web: WebClient, feed_server: FeedServer) -> None:
    ok = feed_server.route("/ok", Reply(200, b"<p>ok</p>"))
    missing = feed_server.route("/missing", Reply(404))
    with web.store() as store:
        entries = [
            make_entry(f"local-{n}", f"Un article local {n}", url, published=datetime(2022, 1, 5, tzinfo=UTC))
            for n, url in enumerate((ok, missing))
        ]
        save_entries(store, "veille-education", entries, NOW)
        refs = [str(i.id) for i in sorted(store.items(source="veille-education"), key=lambda i: i.id)]
    for ref in refs:
        pick(web, ref, "veille", note="À lire.")
    page(web, "/editeur/numeros/2022-01")
    page(web, "/editeur/numeros/2022-01/publier")
    assert feed_server.requests == []  # showing the pages checks nothing
    response = web.post("/editeur/numeros/2022-01/publier/liens")
    assert response.status_code == 303 and response.headers["Location"].endswith("/publier#links")
    html = page(web, response.headers["Location"])
    assert "2 liens vérifiés, dont 1 en erreur." in html
    assert f"Lien cassé (HTTP 404) dans «\u00a0Un article local 1\u00a0»\u00a0: {missing}" in html
    assert "2 liens, vérifiés pour la dernière fois le 20 janvier 2022\u00a0: 1 en erreur." in html
    assert len(feed_server.hits("/ok")) == len(feed_server.hits("/missing")) == 1
    # Asked again the same day: the working link is not asked for again.
    response = web.post("/editeur/numeros/2022-01/publier/liens")
    html = page(web, response.headers["Location"])
    assert "1 lien vérifié, 1 en erreur." in html
    assert "1 lien fonctionnait il y a moins d’un jour\u00a0: il n’a pas été vérifié de nouveau." in html
    assert len(feed_server.hits("/ok")) == 1
    # A broken link is a point to check, not a blocking one.
    assert "Rien à signaler" not in html and "point bloquant" not in html
