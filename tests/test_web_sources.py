"""The health of the sources in the editor area (/editeur/sources), against a real feed server on
127.0.0.1: failing sources first, their errors in French, the line of sources.yaml to change
after a permanent redirect, and « Relever maintenant » for one source."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, FeedServer, Reply, WebClient

from curator.demo import SAMPLE_CONFIG
from curator.editors import add_editor
from curator.ingest import KINDS, update_sources
from curator.store import Store
from curator.web import create_app
from curator.web.sources import ERROR_KINDS, error_sentence, moved_line

pytestmark = pytest.mark.usefixtures("fast_passwords")


class Newsroom:
    """The app on the sample configuration, its feeds served by ``feed_server``, an editor logged in."""

    def __init__(self, directory: Path, server: FeedServer) -> None:
        self.server = server
        self.config_path = directory / "sources.yaml"
        text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", server.base)
        self.config_path.write_text(text, encoding="utf-8")
        self.db = directory / "curator.db"
        self.app = create_app(self.config_path, self.db, testing=True)
        with Store.open(self.db) as store:
            add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, datetime.now(UTC))
        self.web = WebClient(self.app)
        assert self.web.login().status_code == 303

    def fetch(self, *source_ids: str) -> None:
        with Store.open(self.db) as store:
            update_sources(store, self.app.extensions["curator"].config, source_ids=source_ids, processes=0)

    def page(self) -> str:
        response = self.web.client.get("/editeur/sources")
        assert response.status_code == 200
        return str(response.get_data(as_text=True))

    def fetch_now(self, source_id: str) -> str:
        """« Relever maintenant »: what the page says after it."""
        response = self.web.post(f"/editeur/sources/{source_id}/relever")
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/editeur/sources#source-{source_id}")
        return text(self.web.client.get(response.headers["Location"]).get_data(as_text=True))


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def order(html: str) -> list[str]:
    return re.findall(r'<li id="source-([^"]+)">', html)


@pytest.fixture
def newsroom(tmp_path: Path, feed_server: FeedServer) -> Iterator[Newsroom]:
    feed_server.feed("/lab110bis.atom", "atom10.xml")
    feed_server.route("/la27eregion.xml", Reply(404, b"not here", {"Content-Type": "text/plain"}))
    feed_server.feed("/veille-education.xml", "page.html", content_type="text/html; charset=utf-8")
    feed_server.route(
        "/lab-normandie.xml", Reply(301, headers={"Location": feed_server.url("/normandie/feed.xml")})
    )
    feed_server.feed("/normandie/feed.xml", "rss20.xml")
    yield Newsroom(tmp_path, feed_server)


def test_failing_sources_come_first_with_their_error_in_french(newsroom: Newsroom) -> None:
    newsroom.fetch()
    newsroom.fetch("veille-education")  # two failures in a row for it, one for la27eregion
    html = newsroom.page()
    assert order(html) == ["veille-education", "la27eregion", "lab-normandie", "lab-110bis"]
    page = text(html)
    assert "4 sources — 2 en échec : elles viennent en premier." in page
    assert "Ce que renvoie l’adresse n’est pas un flux, RSS, Atom ou JSON Feed" in page
    assert "Le serveur a répondu par une erreur au lieu du flux." in page
    assert "HTTP 404" in page  # the details, for whoever fixes it
    veille = text(html.split('id="source-veille-education"')[1].split("</li>")[0])
    assert "en échec" in veille and "Échecs consécutifs 2" in veille
    assert "Dernier nouvel article jamais" in veille
    lab = text(html.split('id="source-lab-110bis"')[1].split("</li>")[0])
    assert (
        "fonctionne" in lab and "Échecs consécutifs 0" in lab and "Dernier nouvel article jamais" not in lab
    )
    with Store.open(newsroom.db) as store:
        brought = store.items_brought_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert brought["lab-110bis"] > 0
    assert f"Articles des 30 derniers jours {brought['lab-110bis']}" in lab
    assert html.count(">Relever maintenant<") == 4
    assert "Sources" in text(html.split("</nav>")[0])  # in the editor area's navigation


def test_a_permanent_redirect_shows_the_line_of_sources_yaml_to_change(newsroom: Newsroom) -> None:
    newsroom.fetch("lab-normandie")
    old = newsroom.server.url("/lab-normandie.xml")
    new = newsroom.server.url("/normandie/feed.xml")
    lines = newsroom.config_path.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if old in line)
    html = newsroom.page()
    page = text(html)
    assert f"Ce flux a déménagé définitivement à l’adresse {new}" in page
    assert f"Ligne {number} du fichier sources.yaml :" in page
    assert f"<pre>    url: &#34;{old}&#34;</pre>" in html
    assert f"<pre>    url: &#34;{new}&#34;</pre>" in html


def test_the_moved_line_is_found_in_flow_style_and_otherwise_written_out(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - {id: a, url: https://a.example/feed, section: veille}\n"
        "  - {id: b, url: https://a.example/feed2, section: veille}\n",
        encoding="utf-8",
    )
    moved = moved_line(path, "https://a.example/feed", "https://a.example/rss")
    assert (moved.number, moved.new) == (2, "  - {id: a, url: https://a.example/rss, section: veille}")
    assert (
        moved_line(path, "https://gone.example/", "https://new.example/").old == "url: https://gone.example/"
    )


def test_fetch_now_fetches_one_source_and_says_what_it_brought(newsroom: Newsroom) -> None:
    said = newsroom.fetch_now("lab-110bis")
    assert re.search(r"Lab 110 bis — actualités : \d+ nouveaux articles\.", said), said
    assert [r.path for r in newsroom.server.requests] == ["/lab110bis.atom"]  # that source only
    said = newsroom.fetch_now("lab-110bis")
    assert "Lab 110 bis — actualités : relevée, rien de nouveau depuis la dernière fois." in said
    said = newsroom.fetch_now("la27eregion")
    assert (
        "La 27e Région n’a pas pu être relevée. Le serveur a répondu par une erreur au lieu du flux." in said
    )
    assert order(newsroom.page())[0] == "la27eregion"
    said = newsroom.fetch_now("lab-normandie")
    assert "nouveaux articles" in said and "Son adresse a changé définitivement" in said


def test_fetch_now_honours_a_server_that_asked_to_wait(newsroom: Newsroom) -> None:
    newsroom.server.route("/la27eregion.xml", Reply(503, b"busy", {"Retry-After": "3600"}))
    said = newsroom.fetch_now("la27eregion")
    assert "La 27e Région n’a pas pu être relevée" in said
    said = newsroom.fetch_now("la27eregion")
    assert "La 27e Région a demandé d’attendre : elle ne sera pas relevée avant le" in said
    assert len(newsroom.server.hits("/la27eregion.xml")) == 1  # not asked again
    assert "(le serveur a demandé d’attendre)" in text(newsroom.page())


def test_fetch_now_is_a_post_with_its_token_for_a_known_source(newsroom: Newsroom) -> None:
    assert newsroom.web.client.get("/editeur/sources/lab-110bis/relever").status_code == 405
    assert newsroom.web.post("/editeur/sources/lab-110bis/relever", csrf=False).status_code == 400
    assert newsroom.web.post("/editeur/sources/nope/relever").status_code == 404
    assert newsroom.server.requests == []
    anonymous = WebClient(newsroom.app)
    assert anonymous.client.get("/editeur/sources").status_code == 302


def test_every_kind_of_failure_is_said_in_french(app: Any) -> None:
    assert set(ERROR_KINDS) == set(KINDS)
    with app.test_request_context():
        sentences = {kind: error_sentence(kind) for kind in KINDS}
        assert sentences["timeout"] == "Le serveur a mis trop de temps à répondre."
        assert sentences["dns"].startswith("Le nom du serveur est introuvable")
        assert error_sentence("something-new") == "Le dernier relevé a échoué."
    assert len(set(sentences.values())) == len(KINDS)
