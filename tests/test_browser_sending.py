"""In a real browser: send a published issue to a list of 50 addresses, reload the page halfway
(the send goes on, its progress is shown and kept up to date by its script), and each address
gets exactly one copy; the health of the sources, with the failing one first."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    EMAIL_NOW,
    TEST_EDITOR_EMAIL,
    TEST_EDITOR_PASSWORD,
    FeedServer,
    Inbox,
    Reply,
    make_email_issue,
    serve_app,
    smtp_inbox,
)
from support.browser import log_in_editor, watch_page

from curator import editorial
from curator.demo import SAMPLE_CONFIG
from curator.editors import add_editor
from curator.ingest import update_sources
from curator.store import Store
from curator.web import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]

ADDRESSES = [f"abonne{n:02d}@ac-exemple.fr" for n in range(1, 51)]
#: Messages a minute: 50 take about 10 seconds, time enough to reload the page in the middle.
RATE = 300


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with smtp_inbox() as inbox:
        yield inbox


def test_sending_to_a_list_of_50_with_a_reload_halfway(tmp_path: Path, smtp: Inbox, page: Any) -> None:
    (tmp_path / "abonnes.csv").write_text("email\n" + "\n".join(ADDRESSES) + "\n", encoding="utf-8")
    email = {
        "rate_limit": RATE,
        "smtp": {"host": "127.0.0.1", "port": smtp.settings.port, "timeout": 10},
        "recipients": "abonnes.csv",
    }
    store, config, month = make_email_issue(
        tmp_path, items=3, reports=0, events=0, hostile=False, email=email
    )
    editorial.publish(store, config, month, EMAIL_NOW)
    add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, EMAIL_NOW)
    store.close()
    app = create_app(config.path, tmp_path / "curator.db", testing=True)
    problems = watch_page(page)
    with serve_app(app) as base:
        log_in_editor(page, f"{base}/editeur/numeros/2022-01/envoi")
        assert "50 destinataires" in page.inner_text("#liste ~ p#list-count")
        # The month must be typed: the browser's own check first, then the server's.
        page.get_by_label("Pour confirmer, tapez le mois du numéro : 2022-01").fill("2022-02")
        page.get_by_role("button", name="Envoyer à la liste").click()
        assert "Tapez 2022-01 pour confirmer" in page.inner_text("main")
        assert smtp.received() == Counter()
        assert problems == ["422 " + page.url]
        problems.clear()

        page.get_by_label("Pour confirmer, tapez le mois du numéro : 2022-01").fill("2022-01")
        page.get_by_role("button", name="Envoyer à la liste").click()
        assert "L’envoi à 50 destinataires a commencé" in page.inner_text("main")
        assert page.locator("#send-progress").is_visible()

        smtp.wait_for(10)
        page.reload()  # halfway: the send goes on, and the page shows where it is
        assert len(smtp.messages) < len(ADDRESSES), "the send ended before the reload: slow it down"
        assert page.locator("#send-progress").is_visible()
        shown = int(page.locator("#send-progress-bar").get_attribute("value"))
        assert shown >= 10
        # The script keeps the progress up to date without reloading (the page's CSP allows
        # no string evaluation, so the bar is read from here)...
        summary = page.locator("#send-progress [data-summary]").inner_text()
        deadline = time.monotonic() + 20
        while int(page.locator("#send-progress-bar").get_attribute("value") or 0) <= shown:
            assert time.monotonic() < deadline, "the progress bar did not move"
            page.wait_for_timeout(100)
        assert page.locator("#send-progress [data-summary]").inner_text() != summary
        # ...and shows the outcome once the send has ended.
        page.get_by_text("Le dernier envoi, commencé par").wait_for(timeout=60_000)
        main = page.inner_text("main")
        assert "50 envoyés, 0 refusé, 0 restant" in main
        assert "Tout le monde sur la liste a déjà reçu ce numéro" in main
    assert smtp.received() == Counter(ADDRESSES)  # each address, exactly one copy
    assert problems == [] and page.dialogs == []
    with Store.open(tmp_path / "curator.db") as store:
        assert len(store.sent_recipients(month)) == 50
        assert store.count("send_jobs") == 1


@pytest.fixture
def newsroom(tmp_path: Path, feed_server: FeedServer) -> Iterator[tuple[str, Any]]:
    feed_server.feed("/lab110bis.atom", "atom10.xml")
    feed_server.feed("/lab-normandie.xml", "rss20.xml")
    feed_server.feed("/la27eregion.xml", "rss10.rdf")
    feed_server.route("/veille-education.xml", Reply(500, b"oops", {"Content-Type": "text/plain"}))
    path = tmp_path / "sources.yaml"
    path.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", feed_server.base))
    app = create_app(path, tmp_path / "curator.db", testing=True)
    with Store.open(tmp_path / "curator.db") as store:
        add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, datetime.now(UTC))
        update_sources(store, app.extensions["curator"].config, processes=0)
    with serve_app(app) as base:
        yield base, feed_server


def test_the_sources_page_shows_the_failing_source_first(newsroom: tuple[str, Any], page: Any) -> None:
    base, feed_server = newsroom
    problems = watch_page(page)
    log_in_editor(page, f"{base}/editeur/")
    page.get_by_role("navigation", name="Espace éditeur").get_by_role("link", name="Sources").click()
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0].startswith("Veille innovation éducative") and "en échec" in headings[0]
    first = page.locator("main li").first
    assert "Le serveur a répondu par une erreur au lieu du flux." in first.inner_text()
    problems.clear()  # the page shows the failure; the 500 was the feed's, not the page's
    feed_server.feed("/veille-education.xml", "rss091.xml")  # repaired
    first.get_by_role("button", name="Relever maintenant").click()
    assert "Veille innovation éducative\u00a0: " in page.inner_text("main [role=status]")
    assert "nouveaux articles" in page.inner_text("main [role=status]")
    assert "en échec" not in " ".join(page.locator("main h2").all_inner_texts())
    assert problems == [] and page.dialogs == []


def test_a_proof_sent_from_the_browser_is_received(tmp_path: Path, smtp: Inbox, page: Any) -> None:
    email = {"smtp": {"host": "127.0.0.1", "port": smtp.settings.port, "timeout": 10}}
    store, config, _month = make_email_issue(
        tmp_path, items=3, reports=0, events=0, hostile=False, email=email
    )
    add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, EMAIL_NOW)
    store.close()
    app = create_app(config.path, tmp_path / "curator.db", testing=True)
    with serve_app(app) as base:
        log_in_editor(page, f"{base}/editeur/numeros/2022-01/envoi")
        page.locator("#to").fill("relecture@ac-exemple.fr")
        page.get_by_role("button", name="Envoyer un test").click()
        smtp.wait_for(1)
    assert smtp.received() == Counter(["relecture@ac-exemple.fr"])
    assert all(s.startswith("[TEST]") for s in smtp.subjects())
