"""Hardening of the web app: login limits under concurrency, HEAD, server-side sessions, lockouts, redirects."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from conftest import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, VALID_REPORT, WebClient, write_test_config

from curator import editorial, editors, labs
from curator.cli import cli
from curator.config import load_config
from curator.editors import (
    LoginBusy,
    LoginFailed,
    LoginLimit,
    TooManyAttempts,
    add_editor,
    authenticate,
    unlock_editor,
)
from curator.errors import ConfigError, NotFoundError
from curator.models import Month
from curator.reports import approve, submit, validate_submission
from curator.store import Store

pytestmark = pytest.mark.usefixtures("fast_passwords")

T0 = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)
MONTH = Month.parse("2022-01")
CRLF_TARGET = "/editeur/\r\nLocation: x"


class Clock:
    """The app's injectable clock, moved by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class CountingHasher(PasswordHasher):
    """argon2id with tiny parameters that counts its checks, and how many run at once.

    Each check also waits ``delay`` seconds, as a real one spends 0.4 s: long
    enough for simultaneous logins to overlap.
    """

    def __init__(self, delay: float = 0.05, limit: int = 5) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.delay = delay
        self.lock = threading.Lock()
        self.checks = 0
        self.running = 0
        self.most = 0
        self.reached = threading.Event()  # set once ``limit`` checks have started
        self.limit = limit

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        with self.lock:
            self.checks += 1
            self.running += 1
            self.most = max(self.most, self.running)
            if self.checks >= self.limit:
                self.reached.set()
        try:
            time.sleep(self.delay)
            return super().verify(hash, password)
        finally:
            with self.lock:
                self.running -= 1


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def snapshot(db_path: str | Path) -> dict[str, list[str]]:
    """Every row of every table, to tell whether a request changed anything at all."""
    with closing(sqlite3.connect(db_path)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"'))) for t in sorted(tables)}


def db_path(app: Any) -> str:
    path: str = app.extensions["curator"].db_path
    return path


def rows(app: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db_path(app))) as conn:
        return list(conn.execute(sql, params))


def add_test_editor(app: Any, now: datetime = T0) -> None:
    with Store.open(db_path(app)) as store:
        add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, now)


def cookie(web: WebClient) -> str:
    found = web.client.get_cookie("curator_session")
    assert found is not None
    value: str = found.value
    return value


def replay(app: Any, value: str) -> WebClient:
    """Another browser holding a copy of a session cookie."""
    other = WebClient(app)
    other.client.set_cookie("curator_session", value)
    return other


def session_token(app: Any, value: str) -> str:
    token: str = app.session_interface.get_signing_serializer(app).loads(value)["editor_session"]
    return token


def run_cli(*args: str, **env: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env or None)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed_app(make_app: Any, clock: Clock) -> Any:
    app = make_app(clock=clock)
    add_test_editor(app)
    return app


# --- 1. simultaneous logins cannot pass the limit -------------------------------------


def _attempts(db: Path, passwords: list[str], limit: LoginLimit, barrier: Any, ip: str) -> list[str]:
    """Each password in a thread of its own with its own store, all released by ``barrier``."""

    def attempt(password: str) -> str:
        with Store.open(db, migrate=False) as store:
            barrier.wait()
            try:
                authenticate(store, TEST_EDITOR_EMAIL, password, ip=ip, now=T0, limit=limit)
            except LoginFailed:
                return "failed"
            except TooManyAttempts:
                return "limited"
            return "ok"

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(attempt, passwords))


def _editor_store(tmp_path: Path) -> Path:
    db = tmp_path / "curator.db"
    with Store.open(db) as store:
        add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, T0)
    return db


def test_40_simultaneous_logins_check_at_most_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _editor_store(tmp_path)
    hasher = CountingHasher()
    monkeypatch.setattr(editors, "_hasher", hasher)
    passwords = [f"wrong password {n}" for n in range(39)] + [TEST_EDITOR_PASSWORD]
    limit = LoginLimit(attempts=5, window=900)
    outcomes = _attempts(db, passwords, limit, threading.Barrier(40), "192.0.2.7")
    checked = outcomes.count("failed") + outcomes.count("ok")
    assert hasher.checks == checked  # every password checked is a failure or the success
    assert outcomes.count("failed") <= limit.attempts
    # The right password only gets in if it was among the first attempts, under the limit;
    # its success takes back its own attempt, which leaves room for one more check.
    assert checked <= limit.attempts + outcomes.count("ok")
    assert outcomes.count("limited") >= 40 - limit.attempts - 1
    assert hasher.most <= editors.ARGON2_SLOTS  # argon2's memory: two checks at a time


def test_the_right_password_is_refused_once_simultaneous_attempts_reach_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _editor_store(tmp_path)
    hasher = CountingHasher(delay=0.2, limit=5)
    monkeypatch.setattr(editors, "_hasher", hasher)
    limit = LoginLimit(attempts=5, window=900)
    barrier = threading.Barrier(39)
    wrong: list[str] = []
    burst = threading.Thread(
        target=lambda: wrong.extend(
            _attempts(db, [f"wrong {n}" for n in range(39)], limit, barrier, "192.0.2.7")
        )
    )
    burst.start()
    try:
        # Five wrong passwords are being checked (none has finished): the right one comes now.
        assert hasher.reached.wait(10)
        with Store.open(db, migrate=False) as store, pytest.raises(TooManyAttempts) as info:
            authenticate(
                store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, ip="198.51.100.2", now=T0, limit=limit
            )
        assert info.value.account
    finally:
        burst.join(30)
    assert wrong.count("failed") == hasher.checks == limit.attempts
    assert wrong.count("limited") == 39 - limit.attempts


def _worker(db: str, barrier: Any, results: Any, worker: int) -> None:
    """One "gunicorn worker": a process of its own, ten simultaneous logins against the shared file."""
    hasher = CountingHasher()
    editors._hasher = hasher
    passwords = [f"wrong {worker}-{n}" for n in range(10)]
    outcomes = _attempts(Path(db), passwords, LoginLimit(5, 900), barrier, f"192.0.2.{worker}")
    results.put((hasher.checks, outcomes))


@pytest.mark.slow
def test_the_limit_holds_across_processes_sharing_the_database(tmp_path: Path) -> None:
    db = _editor_store(tmp_path)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(40)
    results = context.Queue()
    workers = [context.Process(target=_worker, args=(str(db), barrier, results, n)) for n in range(4)]
    for process in workers:
        process.start()
    try:
        found = [results.get(timeout=60) for _ in workers]
    finally:
        for process in workers:
            process.join(30)
    checks = sum(n for n, _ in found)
    outcomes = [o for _, some in found for o in some]
    assert len(outcomes) == 40
    assert checks == outcomes.count("failed") <= 5  # the email's limit, whatever the process or address
    with Store.open(db) as store:
        assert store.rate_count(editors._bucket("email", TEST_EDITOR_EMAIL), T0) == checks


def test_password_checks_run_two_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _editor_store(tmp_path)
    hasher = CountingHasher(delay=0.05, limit=100)
    monkeypatch.setattr(editors, "_hasher", hasher)
    barrier = threading.Barrier(12)

    def attempt(n: int) -> str:  # other people, from other places: no limit stops them
        with Store.open(db, migrate=False) as store:
            barrier.wait()
            try:
                authenticate(store, f"p{n}@labs.example.org", "not the password", ip=f"203.0.113.{n}", now=T0)
            except LoginFailed:
                return "failed"
            return "ok"

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(attempt, range(12))) == ["failed"] * 12
    assert hasher.checks == 12 and hasher.most == editors.ARGON2_SLOTS == 2


def test_a_login_that_waits_too_long_for_its_turn_is_told_to_retry(
    timed_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(editors, "ARGON2_WAIT", 0.1)
    web = WebClient(timed_app)
    held = [editors._argon2_slots.acquire(timeout=5) for _ in range(editors.ARGON2_SLOTS)]
    try:
        assert all(held)
        with Store.open(db_path(timed_app)) as store, pytest.raises(LoginBusy):
            authenticate(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, ip="192.0.2.1", now=T0)
        response = web.login()
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert "Beaucoup de personnes se connectent en même temps" in text(response)
    finally:
        for taken in held:
            if taken:
                editors._argon2_slots.release()
    # A login whose password was never checked does not count as a failure.
    assert rows(timed_app, "SELECT count(*) FROM rate_events") == [(0,)]
    assert web.login().status_code == 303


# --- the editor area with something in it -----------------------------------------------


class Area:
    """An app with an editor, a pending report, an approved one picked in 2022-01 and an event."""

    def __init__(self, app: Any, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        config = app.extensions["curator"].config
        with Store.open(db_path(app)) as store:
            add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, T0)
            pending, _ = submit(store, validate_submission(VALID_REPORT, config), T0)
            picked, _ = submit(store, validate_submission({**VALID_REPORT, "title": "Approuvé"}, config), T0)
            approve(store, picked.id, editor="test", now=T0)
            editorial.pick(store, config, MONTH, f"r{picked.id}", T0)
            event = editorial.add_event(
                store, config, MONTH, T0, title="Temps du lab", starts_at=datetime(2022, 1, 27, 14)
            )
            lab_card = {
                "lab": "lab-lyon",
                "stage": "actif",
                "author_name": "Ana",
                "author_email": "ana@example.org",
            }
            proposal, _ = labs.propose(store, labs.validate_proposal(lab_card, config), T0)
        self.pending = pending.id
        self.ref = f"r{picked.id}"
        self.event = event.id
        self.proposal = proposal.id

    def path(self, rule: str) -> str:
        values = {"month": str(MONTH), "report_id": str(self.pending), "ref": self.ref}
        values["event_id"] = str(self.event)
        values["source_id"] = "la27eregion"
        values["proposal_id"] = str(self.proposal)
        values["lab_id"] = "lab-lyon"
        path = rule
        for name, value in values.items():
            for converter in ("", "int:", "int(max=999999999999999999):"):
                path = path.replace(f"<{converter}{name}>", value)
        assert "<" not in path, rule
        return path

    def form(self, web: WebClient, endpoint: str = "", **extra: str) -> dict[str, Any]:
        """A body that every form of the app would act on: every field, with current versions."""
        with Store.open(db_path(self.app)) as store:
            issue = store.issue(MONTH)
            report = store.report(self.pending)
        assert issue is not None
        version = report.version if endpoint.endswith("_report") else issue.version
        return {
            **VALID_REPORT,
            "csrf_token": web.token(),
            "submission_key": "0123456789abcdef0123456789abcdef",
            "email": TEST_EDITOR_EMAIL,
            "password": TEST_EDITOR_PASSWORD,
            "title": "Un titre changé",
            "reason": "Hors sujet",
            "version": str(version),
            "ref": self.ref,
            "direction": "down",
            "section": "veille",
            "note": "Une note",
            "summary": "Un résumé",
            "pick_version": "1",
            "edito": "Un édito",
            "start_date": "2022-01-28",
            "start_time": "10:00",
            **extra,
        }

    def rules(self, *, post_only: bool = False) -> list[Any]:
        found = [r for r in self.app.url_map.iter_rules() if "POST" in (r.methods or ())]
        if post_only:
            found = [r for r in found if (r.methods or set()) - {"HEAD", "OPTIONS"} == {"POST"}]
        return found


@pytest.fixture
def area(make_app: Any, clock: Clock) -> Area:
    return Area(make_app(clock=clock), clock)


# --- 2. HEAD shows, never acts -----------------------------------------------------------


def test_head_with_a_form_body_changes_nothing_on_any_post_route(area: Area) -> None:
    anonymous = WebClient(area.app)
    editor = WebClient(area.app)
    assert editor.login().status_code == 303
    rules = area.rules()
    assert {r.endpoint for r in rules} >= {"public.contribute", "editor.login", "editor.edit_report"}
    for rule in rules:
        path = area.path(rule.rule)
        web = editor if rule.rule.startswith("/editeur") and rule.endpoint != "editor.login" else anonymous
        data = area.form(web, rule.endpoint)
        before = snapshot(db_path(area.app))
        response = web.client.open(path, method="HEAD", data=data)
        assert snapshot(db_path(area.app)) == before, (rule.rule, response.status_code)
        assert response.status_code != 303, rule.rule
        if "GET" in (rule.methods or ()):
            assert response.status_code == 200, rule.rule
        else:
            assert response.status_code == 405, rule.rule
    # HEAD did not log anybody in.
    assert anonymous.client.get("/editeur/").status_code == 302


@pytest.mark.parametrize(
    ("endpoint", "table"),
    [
        ("public.contribute", "reports"),
        ("editor.login", "editor_sessions"),
        ("editor.edit_report", "report_changes"),
    ],
)
def test_the_same_body_posted_does_act(area: Area, endpoint: str, table: str) -> None:
    # The body of the HEAD test is one that these forms act on: the test above is meaningful.
    web = WebClient(area.app)
    if endpoint != "editor.login":
        assert web.login().status_code == 303
    [rule] = [r for r in area.rules() if r.endpoint == endpoint]
    data = area.form(web, endpoint)
    before = rows(area.app, f'SELECT count(*) FROM "{table}"')[0][0]
    response = web.client.post(area.path(rule.rule), data=data)
    assert response.status_code == 303, text(response)
    assert rows(area.app, f'SELECT count(*) FROM "{table}"')[0][0] == before + 1


# --- 6. GET on an action: 405 -------------------------------------------------------------


def test_a_get_on_a_post_only_route_is_405_logged_in_or_not(area: Area) -> None:
    anonymous = WebClient(area.app)
    editor = WebClient(area.app)
    editor.login()
    rules = area.rules(post_only=True)
    assert {r.endpoint for r in rules} >= {"editor.logout", "editor.approve_report", "editor.pick"}
    before = snapshot(db_path(area.app))
    for rule in rules:
        for web in (anonymous, editor):
            response = web.client.get(area.path(rule.rule))
            assert response.status_code == 405, (rule.rule, response.status_code)
            assert response.headers["Allow"] == "POST"
            assert "Cette action n’est pas possible ici" in text(response)
    assert snapshot(db_path(area.app)) == before
    assert editor.client.get("/editeur/").status_code == 200  # the GET on logout did not log out


# --- 5. line breaks in redirect targets --------------------------------------------------


def test_a_line_break_in_suivant_is_refused_before_logging_in(area: Area) -> None:
    web = WebClient(area.app)
    query = "suivant=/editeur/%0D%0ALocation:%20x"
    assert web.client.get(f"/editeur/connexion?{query}").status_code == 400
    before = snapshot(db_path(area.app))
    login = {"email": TEST_EDITOR_EMAIL, "password": TEST_EDITOR_PASSWORD}
    response = web.post(f"/editeur/connexion?{query}", login)
    assert response.status_code == 400 and "La requête n’est pas valide" in text(response)
    assert web.post("/editeur/connexion", {**login, "suivant": CRLF_TARGET}).status_code == 400
    assert snapshot(db_path(area.app)) == before  # no session, no last login
    assert web.client.get("/editeur/").status_code == 302
    # Logged in, the login page redirects to the target: the same target is refused.
    assert web.login().status_code == 303
    assert web.client.get(f"/editeur/connexion?{query}").status_code == 400
    assert web.post("/editeur/connexion", {**login, "suivant": "/editeur/retours/1"}).status_code == 303


def test_a_line_break_in_retour_is_refused_before_any_change(area: Area) -> None:
    web = WebClient(area.app)
    web.login()
    rules = [r for r in area.rules() if r.rule.startswith("/editeur/") and r.endpoint != "editor.login"]
    assert {r.endpoint for r in rules} >= {"editor.pick", "editor.move", "editor.edito", "editor.add_event"}
    for rule in rules:
        before = snapshot(db_path(area.app))
        response = web.client.post(area.path(rule.rule), data=area.form(web, retour=CRLF_TARGET))
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert snapshot(db_path(area.app)) == before, rule.rule
    # The same form with a target of ours acts and goes back there.
    back = "/editeur/numeros/2022-01/candidats?q=atelier"
    response = web.client.post("/editeur/numeros/2022-01/edito", data=area.form(web, retour=back))
    assert response.status_code == 303 and response.headers["Location"] == back
    with Store.open(db_path(area.app)) as store:
        issue = store.issue(MONTH)
        assert issue is not None and issue.edito == "Un édito"


# --- 3. server-side sessions ---------------------------------------------------------------


def test_a_cookie_replayed_after_logout_is_refused(timed_app: Any) -> None:
    web = WebClient(timed_app)
    assert web.login().status_code == 303
    copied = cookie(web)
    assert replay(timed_app, copied).client.get("/editeur/").status_code == 200  # a copy works, until...
    assert web.post("/editeur/deconnexion").status_code == 303
    response = replay(timed_app, copied).client.get("/editeur/")
    assert response.status_code == 302 and "/editeur/connexion" in response.headers["Location"]
    assert rows(timed_app, "SELECT count(*) FROM editor_sessions") == [(0,)]


def test_the_database_keeps_only_a_hash_of_the_token(timed_app: Any) -> None:
    web = WebClient(timed_app)
    web.login()
    token = session_token(timed_app, cookie(web))
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    [(session_id, email, ip)] = rows(timed_app, "SELECT id, email, ip FROM editor_sessions")
    assert session_id == hashlib.sha256(token.encode()).hexdigest()
    assert email == TEST_EDITOR_EMAIL and ip and "127.0.0.1" not in ip
    assert token not in repr(snapshot(db_path(timed_app)))


def test_a_cookie_replayed_after_a_password_change_is_refused(timed_app: Any) -> None:
    web = WebClient(timed_app)
    web.login()
    copied = cookie(web)
    with Store.open(db_path(timed_app)) as store:
        add_editor(store, TEST_EDITOR_EMAIL, "a completely new one", T0, update=True)
    assert replay(timed_app, copied).client.get("/editeur/").status_code == 302
    # The same with the command line.
    web.login(password="a completely new one")
    copied = cookie(web)
    result = run_cli(
        "--db",
        db_path(timed_app),
        "editors",
        "add",
        TEST_EDITOR_EMAIL,
        "--update",
        CURATOR_EDITOR_PASSWORD="yet another new one",
    )
    assert result.exit_code == 0, result.output
    assert replay(timed_app, copied).client.get("/editeur/").status_code == 302
    assert web.client.get("/editeur/").status_code == 302
    assert rows(timed_app, "SELECT count(*) FROM editor_sessions") == [(0,)]


def test_removing_an_editor_ends_their_sessions_at_once(timed_app: Any) -> None:
    web = WebClient(timed_app)
    web.login()
    copied = cookie(web)
    result = run_cli("--db", db_path(timed_app), "editors", "remove", TEST_EDITOR_EMAIL)
    assert result.exit_code == 0, result.output
    assert rows(timed_app, "SELECT count(*) FROM editor_sessions") == [(0,)]  # the foreign key cascades
    assert replay(timed_app, copied).client.get("/editeur/").status_code == 302


def test_sessions_end_after_the_absolute_lifetime_however_much_they_are_used(
    make_app: Any, clock: Clock
) -> None:
    app = make_app(web={"session_hours": 1, "session_max_hours": 2}, clock=clock)
    add_test_editor(app)
    web = WebClient(app)
    web.login()
    copied = cookie(web)
    for _ in range(3):  # used every 30 minutes: never idle
        clock.now += timedelta(minutes=30)
        assert web.client.get("/editeur/").status_code == 200
    clock.now = T0 + timedelta(hours=2)
    assert web.client.get("/editeur/").status_code == 302
    assert replay(app, copied).client.get("/editeur/").status_code == 302
    assert rows(app, "SELECT count(*) FROM editor_sessions") == [(0,)]


def test_sessions_end_when_idle_and_last_seen_is_written_at_most_once_a_minute(
    make_app: Any, clock: Clock
) -> None:
    app = make_app(web={"session_hours": 1, "session_max_hours": 12}, clock=clock)
    add_test_editor(app)
    web = WebClient(app)
    web.login()

    def last_seen() -> str:
        [(seen,)] = rows(app, "SELECT last_seen FROM editor_sessions")
        return str(seen)

    clock.now = T0 + timedelta(seconds=30)
    assert web.client.get("/editeur/").status_code == 200
    assert last_seen() == T0.isoformat()  # not a write per request
    clock.now = T0 + timedelta(seconds=61)
    assert web.client.get("/editeur/").status_code == 200
    assert last_seen() == clock.now.isoformat()
    clock.now += timedelta(minutes=59)
    assert web.client.get("/editeur/").status_code == 200
    clock.now += timedelta(minutes=60, seconds=1)  # an hour and a second without a request
    assert web.client.get("/editeur/").status_code == 302


def test_login_purges_sessions_that_ended(make_app: Any, clock: Clock) -> None:
    app = make_app(web={"session_hours": 1, "session_max_hours": 2}, clock=clock)
    add_test_editor(app)
    for _ in range(3):
        WebClient(app).login()  # three browsers, never logged out
    assert rows(app, "SELECT count(*) FROM editor_sessions") == [(3,)]
    clock.now += timedelta(hours=3)
    WebClient(app).login()
    assert rows(app, "SELECT count(*) FROM editor_sessions") == [(1,)]


def test_session_max_hours_is_a_validated_web_setting(tmp_path: Path) -> None:
    assert load_config(write_test_config(tmp_path)).web.session_max_hours == 12
    settings = load_config(write_test_config(tmp_path, {"session_max_hours": 4})).web
    assert settings.session_max_hours == 4
    for bad, message in ((0, "must be between 1 and 744"), ("4h", "expected a whole number")):
        with pytest.raises(ConfigError, match=message) as info:
            load_config(write_test_config(tmp_path, {"session_max_hours": bad}))
        assert info.value.field == "session_max_hours"


def test_a_cookie_of_the_old_kind_opens_nothing(timed_app: Any) -> None:
    # Before server-side sessions the cookie held the email and a fingerprint of the password hash.
    web = WebClient(timed_app)
    with Store.open(db_path(timed_app)) as store, web.client.session_transaction() as session:
        session["editor"] = TEST_EDITOR_EMAIL
        password_hash = store.editor_password_hash(TEST_EDITOR_EMAIL)
        session["editor_token"] = hashlib.sha256(password_hash.encode()).hexdigest()[:32]
    assert web.client.get("/editeur/").status_code == 302


# --- 4. a locked-out editor is told how long, and how to unlock -----------------------------


def test_a_locked_out_editor_is_told_how_long_and_how_an_administrator_unlocks(
    timed_app: Any, clock: Clock
) -> None:
    web = WebClient(timed_app)
    for _ in range(5):
        assert web.login(password="mauvais mot de passe").status_code == 422
    clock.now += timedelta(minutes=5)
    response = web.login()
    assert response.status_code == 429 and response.headers["Retry-After"] == "600"
    page = text(response)
    assert "Trop de connexions échouées pour ce compte" in page
    assert "bloqué encore 10 minutes" in page
    assert f"curator editors unlock {TEST_EDITOR_EMAIL}" in page
    # The account is locked from every address.
    elsewhere = web.client.post(
        "/editeur/connexion",
        data={"csrf_token": web.token(), "email": TEST_EDITOR_EMAIL, "password": TEST_EDITOR_PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert elsewhere.status_code == 429 and "curator editors unlock" in text(elsewhere)
    clock.now = T0 + timedelta(minutes=14, seconds=1)
    assert "bloqué encore 1 minute," in text(web.login())  # one minute, not « 1 minutes »
    clock.now = T0 + timedelta(minutes=15, seconds=1)
    assert web.login().status_code == 303


def test_an_address_locked_by_failures_on_other_accounts_is_only_told_to_wait(
    timed_app: Any,
) -> None:
    web = WebClient(timed_app)
    for n in range(5):
        assert web.login(email=f"quelquun{n}@labs.example.org", password="au hasard 1234").status_code == 422
    response = web.login()
    assert response.status_code == 429
    assert "attendez 15 minutes" in text(response) and "unlock" not in text(response)


def test_curator_editors_unlock_lets_a_locked_out_editor_in_at_once(timed_app: Any) -> None:
    web = WebClient(timed_app)
    for _ in range(5):
        web.login(password="mauvais mot de passe")
    assert web.login().status_code == 429
    result = run_cli("--db", db_path(timed_app), "editors", "unlock", TEST_EDITOR_EMAIL.upper())
    assert result.exit_code == 0, result.output
    assert f"Editor {TEST_EDITOR_EMAIL} unlocked: 5 failed logins forgotten." in result.output
    # From the very address that failed: its failures on this account are forgotten too.
    assert web.login().status_code == 303
    result = run_cli("--db", db_path(timed_app), "editors", "unlock", TEST_EDITOR_EMAIL)
    assert result.exit_code == 0 and "nothing to unlock" in result.output
    result = run_cli("--db", db_path(timed_app), "editors", "unlock", "nobody@labs.example.org")
    assert result.exit_code == 1 and "no editor nobody@labs.example.org" in result.output
    help_text = run_cli("editors", "unlock", "--help").output
    assert "locked-out editor" in help_text and "EMAIL" in help_text


def test_unlocking_keeps_what_an_address_did_against_other_accounts(tmp_path: Path) -> None:
    db = _editor_store(tmp_path)
    limit = LoginLimit(attempts=5, window=900)
    ip = "192.0.2.66"
    with Store.open(db) as store:
        for n in range(3):
            with pytest.raises(LoginFailed):
                authenticate(store, f"other{n}@labs.example.org", "guess guess", ip=ip, now=T0, limit=limit)
        for _ in range(2):
            with pytest.raises(LoginFailed):
                authenticate(store, TEST_EDITOR_EMAIL, "guess guess", ip=ip, now=T0, limit=limit)
        with pytest.raises(TooManyAttempts) as info:
            authenticate(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, ip=ip, now=T0, limit=limit)
        assert not info.value.account  # the address is locked, not the account
        assert unlock_editor(store, TEST_EDITOR_EMAIL) == 2
        assert store.rate_count(editors._bucket("ip", ip), T0) == 3
        assert authenticate(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, ip=ip, now=T0, limit=limit)
        with pytest.raises(NotFoundError):
            unlock_editor(store, "other0@labs.example.org")
