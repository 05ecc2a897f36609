"""Proofs and sending to the list from the editor area, against a real SMTP server on 127.0.0.1:
a proof with « [TEST] », the list for a published issue only and once its month is typed, in the
background, one send at a time, a stale send resumed, and nobody ever gets two copies."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    EMAIL_NOW,
    TEST_EDITOR_EMAIL,
    TEST_EDITOR_PASSWORD,
    Inbox,
    WebClient,
    make_email_issue,
    smtp_inbox,
)

from curator import editorial
from curator.config import SmtpSettings
from curator.editors import add_editor
from curator.errors import SendInProgress
from curator.mail import is_stale, send_issue, stale_after
from curator.models import Month
from curator.store import SendJob, Store
from curator.web import create_app

pytestmark = pytest.mark.usefixtures("fast_passwords")

MONTH = Month.parse("2022-01")
ADDRESSES = [f"lecteur{n}@ac-exemple.fr" for n in range(1, 9)]
SENDING = "/editeur/numeros/2022-01/envoi"


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with smtp_inbox() as inbox:
        yield inbox


@dataclass
class Site:
    """The app, an editor logged in, the issue of 2022-01 and the list's recipients in a CSV file."""

    app: Any
    web: WebClient
    db: Path
    inbox: Inbox

    def store(self) -> Store:
        return Store.open(self.db, migrate=False)

    def job(self) -> SendJob | None:
        with self.store() as store:
            return store.latest_send_job(MONTH)

    def wait_for_the_end(self, timeout: float = 30.0) -> SendJob:
        """The month's send once it is no longer running (a failure after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job()
            assert job is not None
            if not job.running:
                return job
            assert time.monotonic() < deadline, f"still running after {timeout} s: {job}"
            time.sleep(0.05)

    def page(self) -> str:
        response = self.web.client.get(SENDING)
        assert response.status_code == 200
        return str(response.get_data(as_text=True))

    def send_to_the_list(self, **form: str) -> Any:
        return self.web.post(f"{SENDING}/liste", form)


def make_site(
    directory: Path,
    inbox: Inbox,
    *,
    published: bool = True,
    recipients: Any = "abonnes.csv",
    rate_limit: float = 60_000,
) -> Site:
    (directory / "abonnes.csv").write_text(
        "email;nom\n" + "".join(f"{a};Lecteur {i}\n" for i, a in enumerate(ADDRESSES)), encoding="utf-8"
    )
    email: dict[str, Any] = {
        "rate_limit": rate_limit,
        "smtp": {"host": "127.0.0.1", "port": inbox.settings.port, "timeout": 10},
    }
    if recipients is not None:
        email["recipients"] = recipients
    store, config, month = make_email_issue(
        directory, items=3, reports=0, events=0, hostile=False, email=email
    )
    try:
        if published:
            editorial.publish(store, config, month, EMAIL_NOW)
        add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, EMAIL_NOW)
    finally:
        store.close()
    app = create_app(config.path, directory / "curator.db", testing=True)
    web = WebClient(app)
    assert web.login().status_code == 303
    return Site(app, web, directory / "curator.db", inbox)


@pytest.fixture
def site(tmp_path: Path, smtp: Inbox) -> Site:
    return make_site(tmp_path, smtp)


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def follow(site: Site, response: Any) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    page = site.web.client.get(response.headers["Location"])
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_how_many_would_get_the_issue_and_asks_for_the_month(site: Site) -> None:
    page = site.page()
    assert "Envoyer un test" in page and "Envoyer à la liste" in page
    assert "8 destinataires" in page and "8 à envoyer" in page
    assert "abonnes.csv" in page
    assert 'name="confirmation"' in page and "tapez le mois du numéro" in page
    assert "send-progress.js" not in page  # no script while nothing runs
    assert site.job() is None  # the dry run recorded nothing
    with site.store() as store:
        assert store.sent_recipients(MONTH) == {}


def test_a_draft_offers_proofs_only(tmp_path: Path, smtp: Inbox) -> None:
    site = make_site(tmp_path, smtp, published=False)
    page = site.page()
    assert "Envoyer un test" in page
    assert "Seul un numéro publié peut être envoyé à la liste" in page
    assert 'name="confirmation"' not in page
    said = follow(site, site.send_to_the_list(confirmation="2022-01"))
    assert "Seul un numéro publié peut être envoyé à la liste" in said
    assert site.job() is None and smtp.received() == Counter()


def test_without_recipients_the_page_says_how_to_set_them(tmp_path: Path, smtp: Inbox) -> None:
    site = make_site(tmp_path, smtp, recipients=None)
    page = site.page()
    assert "Aucune liste de destinataires" in page and "recipients" in page
    said = follow(site, site.send_to_the_list(confirmation="2022-01"))
    assert "Aucune liste de destinataires" in said and site.job() is None


def test_an_unreadable_recipients_file_is_said_in_french(site: Site, tmp_path: Path) -> None:
    (tmp_path / "abonnes.csv").write_text(
        "email\nlecteur1@ac-exemple.fr\npas une adresse\n", encoding="utf-8"
    )
    page = site.page()
    assert "La liste des destinataires ne peut pas être lue" in page
    said = follow(site, site.send_to_the_list(confirmation="2022-01"))
    assert "La liste des destinataires ne peut pas être lue" in said
    assert site.job() is None and site.inbox.received() == Counter()


def test_the_pages_need_a_login(site: Site) -> None:
    anonymous = WebClient(site.app)
    for path in (SENDING, f"{SENDING}/etat"):
        assert anonymous.client.get(path).status_code == 302
    assert anonymous.post(f"{SENDING}/test", {}).status_code == 303
    assert site.inbox.received() == Counter()
    assert site.web.client.get("/editeur/numeros/2021-05/envoi").status_code == 404
    assert site.web.client.get("/editeur/numeros/pas-un-mois/envoi").status_code == 404


# --- proofs -----------------------------------------------------------------------------------


def test_a_proof_goes_to_the_editor_with_test_in_the_subject(site: Site) -> None:
    said = follow(site, site.web.post(f"{SENDING}/test", {"to": ""}))
    assert f"Le test a été envoyé à {TEST_EDITOR_EMAIL}" in said
    assert site.inbox.received() == Counter([TEST_EDITOR_EMAIL])
    assert site.inbox.subjects() == ["[TEST] Infolettre — janvier 2022"]
    with site.store() as store:
        assert store.sent_recipients(MONTH) == {}  # a proof is never recorded


def test_a_proof_of_a_draft_to_typed_addresses(tmp_path: Path, smtp: Inbox) -> None:
    site = make_site(tmp_path, smtp, published=False)
    said = follow(site, site.web.post(f"{SENDING}/test", {"to": "a@ac-exemple.fr, b@ac-exemple.fr"}))
    assert "2 adresses" in said
    assert smtp.received() == Counter(["a@ac-exemple.fr", "b@ac-exemple.fr"])
    assert all(s.startswith("[TEST] ") for s in smtp.subjects())


def test_a_bad_proof_address_is_refused_in_french_and_nothing_is_sent(site: Site) -> None:
    response = site.web.post(f"{SENDING}/test", {"to": "a@ac-exemple.fr; pas-une-adresse"})
    assert response.status_code == 422
    page = text_of(response)
    assert "« pas-une-adresse » n’est pas une adresse électronique" in page
    assert 'value="a@ac-exemple.fr; pas-une-adresse"' in response.get_data(as_text=True)
    many = ", ".join(f"x{n}@ac-exemple.fr" for n in range(11))
    assert site.web.post(f"{SENDING}/test", {"to": many}).status_code == 422
    assert site.inbox.received() == Counter()


def test_a_proof_needs_the_csrf_token_and_a_post(site: Site) -> None:
    assert site.web.post(f"{SENDING}/test", {"to": ""}, csrf=False).status_code == 400
    assert site.web.client.get(f"{SENDING}/test").status_code == 405
    assert site.inbox.received() == Counter()


# --- the list ---------------------------------------------------------------------------------


def test_the_month_must_be_typed_to_send_to_the_list(site: Site) -> None:
    for typed in ("", "2022-02", "oui"):
        response = site.send_to_the_list(confirmation=typed)
        assert response.status_code == 422
        assert "Tapez 2022-01 pour confirmer" in text_of(response)
    assert site.job() is None and site.inbox.received() == Counter()


def test_the_list_gets_the_issue_in_the_background_once_each(site: Site) -> None:
    said = follow(site, site.send_to_the_list(confirmation=" 2022-01 "))
    assert "L’envoi à 8 destinataires a commencé" in said
    job = site.wait_for_the_end()
    assert (job.state, job.total, job.sent, job.refused, job.skipped) == ("done", 8, 8, 0, 0)
    assert job.started_by == TEST_EDITOR_EMAIL
    assert site.inbox.received() == Counter(ADDRESSES)
    assert all(not s.startswith("[TEST]") for s in site.inbox.subjects())
    with site.store() as store:
        assert set(store.sent_recipients(MONTH)) == set(ADDRESSES)  # the same records as `curator send`
    status = site.web.client.get(f"{SENDING}/etat").get_json()
    assert status["state"] == "done" and status["sent"] == 8 and status["left"] == 0
    assert status["summary"] == "8 envoyés, 0 refusé, 0 restant."
    page = site.page()
    assert "Le dernier envoi" in page and "Tout le monde sur la liste a déjà reçu ce numéro" in page
    said = follow(site, site.send_to_the_list(confirmation="2022-01"))
    assert "rien n’a été envoyé" in said
    assert site.inbox.received() == Counter(ADDRESSES)


def test_a_list_of_addresses_in_sources_yaml(tmp_path: Path, smtp: Inbox) -> None:
    site = make_site(tmp_path, smtp, recipients=["infolettre@listes.ac-exemple.fr"])
    assert "1 destinataire" in site.page() and "infolettre@listes.ac-exemple.fr" in site.page()
    follow(site, site.send_to_the_list(confirmation="2022-01"))
    assert site.wait_for_the_end().state == "done"
    assert smtp.received() == Counter(["infolettre@listes.ac-exemple.fr"])


def test_a_second_post_while_sending_is_refused_and_nobody_gets_two_copies(site: Site) -> None:
    site.inbox.hold()
    try:
        follow(site, site.send_to_the_list(confirmation="2022-01"))
        job = site.job()
        assert job is not None and job.running
        page = site.page()
        assert 'id="send-progress"' in page and "send-progress.js" in page
        assert 'name="confirmation"' not in page
        for _ in range(2):  # a second click, a second browser, a form sent again
            said = follow(site, site.send_to_the_list(confirmation="2022-01"))
            assert "Ce numéro est déjà en cours d’envoi à la liste" in said
        status = site.web.client.get(f"{SENDING}/etat").get_json()
        assert status["state"] == "running" and status["total"] == 8 and not status["stale"]
        response = site.web.client.get(SENDING)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    finally:
        site.inbox.release()
    assert site.wait_for_the_end().state == "done"
    with site.store() as store:
        assert store.count("send_jobs") == 1
    assert site.inbox.received() == Counter(ADDRESSES)


def test_a_send_stopped_by_the_server_is_resumed_by_sending_again(site: Site) -> None:
    site.inbox.fail_once.add(ADDRESSES[3])
    follow(site, site.send_to_the_list(confirmation="2022-01"))
    job = site.wait_for_the_end()
    assert (job.state, job.sent) == ("stopped", 3)
    assert job.error and "451" in job.error
    page = site.page()
    assert "s’est arrêté avant la fin" in page and "5 à envoyer" in page
    follow(site, site.send_to_the_list(confirmation="2022-01"))
    job = site.wait_for_the_end()
    assert (job.state, job.sent, job.skipped) == ("done", 5, 3)
    assert site.inbox.received() == Counter(ADDRESSES)


def test_a_stale_send_is_resumed_and_nobody_gets_two_copies(site: Site) -> None:
    # A process died while sending: three copies went out, its job stayed "running".
    config = site.app.extensions["curator"].config
    smtp = SmtpSettings(host="127.0.0.1", port=site.inbox.settings.port)
    died = datetime.now(UTC) - timedelta(hours=1)
    with site.store() as store:
        send_issue(store, config, MONTH, ADDRESSES[:3], died, smtp=smtp)
        dead = store.start_send_job(MONTH, started_by="autre@labs.example.org", total=8, now=died)
        for _ in range(3):
            store.count_send_result(dead.id, "sent", died)
    page = site.page()
    assert "ne progresse plus depuis" in page and "Reprendre l’envoi" in page
    assert 'name="confirmation"' not in page
    said = follow(site, site.send_to_the_list(reprendre=str(dead.id)))
    assert "a commencé" in said
    job = site.wait_for_the_end()
    assert job.id != dead.id and (job.state, job.sent, job.skipped) == ("done", 5, 3)
    with site.store() as store:
        old = store.send_job(dead.id)
    assert old.state == "stopped" and old.error and "resumed by editrice@labs.example.org" in old.error
    assert site.inbox.received() == Counter(ADDRESSES)  # everyone, exactly once


def test_a_send_that_is_alive_cannot_be_taken_over(site: Site) -> None:
    site.inbox.hold()
    try:
        follow(site, site.send_to_the_list(confirmation="2022-01"))
        job = site.job()
        assert job is not None and job.running
        said = follow(site, site.send_to_the_list(reprendre=str(job.id)))
        assert "déjà en cours d’envoi" in said
    finally:
        site.inbox.release()
    site.wait_for_the_end()
    with site.store() as store:
        assert store.count("send_jobs") == 1
    assert site.inbox.received() == Counter(ADDRESSES)


def test_a_sender_that_was_taken_over_stops(site: Site) -> None:
    # A send deemed dead while it was only stuck: once it wakes up, it finds its job taken
    # over and stops, leaving the rest to the job that resumed it.
    site.inbox.hold()
    try:
        follow(site, site.send_to_the_list(confirmation="2022-01"))
        stuck = site.job()
        assert stuck is not None and stuck.running
        now = datetime.now(UTC)
        with site.store() as store:
            store.start_send_job(
                MONTH,
                started_by="b@x.fr",
                total=8,
                now=now,
                take_over=stuck.id,
                stale_before=now + timedelta(hours=1),
            )
    finally:
        site.inbox.release()
    deadline = time.monotonic() + 30
    while any(t.name == f"curator-send-2022-01-{stuck.id}" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the sender that was taken over did not stop"
        time.sleep(0.05)
    assert site.inbox.received() == Counter(ADDRESSES[:1])  # the copy in flight, and no other


# --- the store and the engine -----------------------------------------------------------------


def test_the_database_lets_one_send_run_per_month(tmp_path: Path) -> None:
    now = datetime(2022, 2, 3, 9, tzinfo=UTC)
    with Store.open(tmp_path / "c.db") as store:
        first = store.start_send_job(MONTH, started_by="a@x.fr", total=3, now=now)
        with pytest.raises(SendInProgress) as info:
            store.start_send_job(MONTH, started_by="b@x.fr", total=3, now=now)
        assert info.value.job_id == first.id
        other = store.start_send_job(Month.parse("2022-02"), started_by="b@x.fr", total=1, now=now)
        assert other.running
        # Taking over a job that is alive is refused; a stale one is stopped in the same transaction.
        with pytest.raises(SendInProgress):
            store.start_send_job(
                MONTH, started_by="b@x.fr", total=3, now=now, take_over=first.id, stale_before=now
            )
        later = now + timedelta(minutes=10)
        second = store.start_send_job(
            MONTH, started_by="b@x.fr", total=3, now=later, take_over=first.id, stale_before=later
        )
        assert store.send_job(first.id).state == "stopped" and second.running
        store.count_send_result(second.id, "skipped", later)
        store.count_send_result(second.id, "sent", later)
        done = store.finish_send_job(second.id, "done", later)
        assert (done.state, done.sent, done.skipped, done.left) == ("done", 1, 1, 1)
        assert store.latest_send_job(MONTH) == done


def test_a_job_is_stale_after_minutes_without_progress() -> None:
    now = datetime(2022, 2, 3, 9, tzinfo=UTC)
    smtp = SmtpSettings(timeout=30)
    job = SendJob(1, MONTH, "running", 3, 0, 0, 0, None, "a@x.fr", now, now, None)
    assert stale_after(smtp) == timedelta(minutes=5)
    assert stale_after(SmtpSettings(timeout=600)) > timedelta(seconds=1200)
    assert not is_stale(job, now + timedelta(minutes=4), smtp)
    assert is_stale(job, now + timedelta(minutes=6), smtp)
    finished = SendJob(1, MONTH, "done", 3, 3, 0, 0, None, "a@x.fr", now, now, now)
    assert not is_stale(finished, now + timedelta(days=1), smtp)
