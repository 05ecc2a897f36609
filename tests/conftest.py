"""Shared fixtures: a real HTTP server on 127.0.0.1 serving feed files and scripted replies.
Also the suite's rules: hypothesis without deadlines, and nothing written into the checkout."""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from curator.ingest import save_entries

# --- hypothesis: no deadlines, a fixed budget, nothing kept between runs --------------

# A busy machine must not fail a test: how long an example takes is no property of the code.
# No example database (so no .hypothesis/ in the checkout); a test may still set its own
# max_examples. HYPOTHESIS_PROFILE (or --hypothesis-profile) picks another registered profile.
hypothesis_settings.register_profile(
    "ci",  # replaces Hypothesis's own "ci" profile: the same settings with CI=true and without
    parent=hypothesis_settings.get_profile("default"),
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis's other files (its constants and Unicode caches) go to a temporary folder,
    unless HYPOTHESIS_STORAGE_DIRECTORY says where."""
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        home = tempfile.mkdtemp(prefix="curator-hypothesis-")
        set_hypothesis_home_dir(home)
        config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


# --- the checkout stays clean: a run that leaves new files in it fails ----------------

ROOT = Path(__file__).resolve().parent.parent
#: What may appear in the checkout during a run: the environment, tool caches, bytecode.
_ALLOWED_TOP = (".venv/", ".ci/node/", ".pytest_cache/", ".ruff_cache/", ".mypy_cache/")
_NEW_FILES = pytest.StashKey[list[str]]()
_FILES_BEFORE = pytest.StashKey[set[str]]()


def _checkout_files() -> set[str] | None:
    """Untracked and ignored files of the checkout (None without git)."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return None
    exclude = [f":(exclude){p.rstrip('/')}" for p in _ALLOWED_TOP]
    result = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--ignored",
            "--",
            ".",
            *exclude,
        ],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return {
        path
        for line in result.stdout.decode("utf-8", "surrogateescape").split("\0")
        if line[:3] in ("?? ", "!! ")
        for path in [line[3:]]
        if not path.startswith(_ALLOWED_TOP)
        and "__pycache__" not in path.split("/")
        and ".egg-info/" not in path
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # pytest-xdist: the controller checks
        return
    before = _checkout_files()
    if before is not None:
        session.config.stash[_FILES_BEFORE] = before


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_FILES_BEFORE, None)
    after = _checkout_files() if before is not None else None
    if before is None or after is None:
        return
    new = sorted(after - before)
    if os.environ.get("CURATOR_REGEN") == "1":  # asked for: the expected outputs are rewritten
        new = [p for p in new if not p.startswith("tests/data/")]
    if new:
        session.config.stash[_NEW_FILES] = new
        if session.exitstatus == pytest.ExitCode.OK:  # an interrupted or failed run keeps its status
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    new = config.stash.get(_NEW_FILES, [])
    if new:
        terminalreporter.write_sep("=", "tests wrote into the checkout", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(new)} new file(s) in {ROOT} (tests must write under tmp_path):", red=True
        )
        for path in new[:50]:
            terminalreporter.write_line(f"  {path}")
        if len(new) > 50:
            terminalreporter.write_line(f"  … and {len(new) - 50} more")
        terminalreporter.write_line("(files you created yourself during the run count too: run again)")


# --- a real HTTP server on 127.0.0.1, for the fetch and update tests ---------------

FEEDS_DIR = Path(__file__).parent / "data" / "feeds"


@dataclass
class Reply:
    """What the test server answers on one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    chunked: bool = False  # no Content-Length: the body in chunks


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]  # names lower-cased


class FeedServer:
    """A threaded ``http.server`` serving scripted replies; see ``feed_server``."""

    LAST_MODIFIED = "Wed, 15 May 2024 08:00:00 GMT"

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Callable[[SeenRequest], Reply]] = {}
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), make_handler(self))
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, reply: Reply | Callable[[SeenRequest], Reply]) -> str:
        """Answer ``reply`` on ``path``; return its full URL."""
        self.routes[path] = reply
        return self.url(path)

    def feed(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: bool = True,
        last_modified: bool = True,
        gzip: bool = False,
    ) -> str:
        """Serve a feed (bytes, or a file name in tests/data/feeds) with conditional GET."""
        data = (FEEDS_DIR / body).read_bytes() if isinstance(body, str) else body
        tag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'

        def answer(request: SeenRequest) -> Reply:
            headers = {"Content-Type": content_type}
            if etag:
                headers["ETag"] = tag
            if last_modified:
                headers["Last-Modified"] = self.LAST_MODIFIED
            if etag and request.headers.get("if-none-match") == tag:
                return Reply(304, headers={"ETag": tag})
            if (
                last_modified
                and "if-none-match" not in request.headers
                and request.headers.get("if-modified-since") == self.LAST_MODIFIED
            ):
                return Reply(304)
            if gzip:
                headers["Content-Encoding"] = "gzip"
                return Reply(200, gzip_module.compress(data), headers)
            return Reply(200, data, headers)

        return self.route(path, answer)

    def hits(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _record(self, request: SeenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default, 5, makes concurrent clients wait for SYN retries
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up is not news
            super().handle_error(request, client_address)


def make_handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            request = SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()})
            server._record(request)
            route = server.routes.get(self.path)
            if route is None:
                reply = Reply(404, b"not found", {"Content-Type": "text/plain"})
            else:
                reply = route(request) if callable(route) else route
            if reply.delay and server.stopping.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(reply.body), 65536):
                        piece = reply.body[i : i + 65536]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.status != 304:
                        self.wfile.write(reply.body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A real HTTP server on 127.0.0.1; add routes with ``.route()`` and ``.feed()``."""
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


# --- the web app: a test configuration, the app, a client that speaks its forms ----

TEST_EDITOR_EMAIL = "editrice@labs.example.org"
TEST_EDITOR_PASSWORD = "un mot de passe solide"

#: A valid submission of the public form (the field names are a contract).
VALID_REPORT: dict[str, Any] = {
    "lab": "lab-normandie",
    "lab_other": "",
    "author_name": "Claire Lemoine",
    "author_email": "claire.lemoine@ac-normandie.example",
    "title": "Des ateliers de co-développement entre CPE",
    "summary": "Huit CPE se sont retrouvés une fois par mois pour traiter une situation concrète.",
    "body": "## Le contexte\n\nDes CPE **isolés** face à des situations délicates.\n\n- une séance par mois\n- six étapes",
    "link": "https://labs.example.org/normandie/codev",
    "tags": ["facilitation", "communaute"],
    "license": "etalab-2.0",
    "consent": "y",
}

_HIDDEN_RE = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def write_test_config(directory: Path, web: dict[str, Any] | None = None) -> Path:
    """The demo's sources.yaml (feeds on a closed port), with an optional ``web:`` block."""
    import yaml

    from curator.demo import SAMPLE_CONFIG

    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", "http://127.0.0.1:9")
    if web:
        text += "\n" + yaml.safe_dump({"web": web})
    path = directory / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class WebClient:
    """Flask's test client plus what a browser does: read the hidden fields, send them back."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()

    def hidden(self, path: str = "/contribuer") -> dict[str, str]:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return dict(_HIDDEN_RE.findall(response.get_data(as_text=True)))

    def token(self) -> str:
        return self.hidden("/contribuer")["csrf_token"]

    def submit(self, **fields: Any) -> Any:
        """Fill the form as a person would (VALID_REPORT unless changed) and send it."""
        data = {**self.hidden("/contribuer"), **VALID_REPORT, **fields}
        return self.client.post("/contribuer", data={k: v for k, v in data.items() if v is not None})

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        payload = dict(data or {})
        if csrf:
            payload.setdefault("csrf_token", self.token())
        return self.client.post(path, data=payload, **kwargs)

    def login(self, email: str = TEST_EDITOR_EMAIL, password: str = TEST_EDITOR_PASSWORD) -> Any:
        return self.post("/editeur/connexion", {"email": email, "password": password})

    def store(self) -> Any:
        from curator.store import Store

        return Store.open(self.app.extensions["curator"].db_path)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Any]:
    """``make_app(web={...}, **overrides)``: a test app on a fresh database in tmp_path."""

    def make(web: dict[str, Any] | None = None, **overrides: Any) -> Any:
        from curator.web import create_app

        overrides.setdefault("testing", True)
        return create_app(write_test_config(tmp_path, web), tmp_path / "curator.db", **overrides)

    return make


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


@pytest.fixture
def web(app: Any) -> WebClient:
    return WebClient(app)


@pytest.fixture
def editor_account(app: Any) -> tuple[str, str]:
    """An editor in the app's database: (email, password)."""
    from datetime import UTC, datetime

    from curator.editors import add_editor
    from curator.store import Store

    with Store.open(app.extensions["curator"].db_path) as store:
        add_editor(store, TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD, datetime.now(UTC))
    return TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run a WSGI app under werkzeug's threaded server on 127.0.0.1; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny parameters: the same code paths, a hundred times faster."""
    from argon2 import PasswordHasher

    from curator import editors

    monkeypatch.setattr(editors, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


# --- the email: a month's issue with every kind of content (test_render, test_mail, browser) ---

from datetime import UTC, datetime  # noqa: E402 (this section was appended)

EMAIL_NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)
EMAIL_HOSTILE_TITLE = 'Tom & Jerry <script>alert("x")</script> <b>gras</b> « guillemets » : vraiment ?'
EMAIL_EDITO = (
    "Bonne année à toutes et à tous ! Ce mois-ci, l'équipe a lu pour vous "
    "[le rapport annuel](https://labs.example.org/rapport?utm_source=infolettre&page=2) ; bonne lecture."
)


def make_email_issue(
    directory: Path,
    *,
    items: int = 12,
    reports: int = 2,
    events: int = 2,
    hostile: bool = True,
    email: dict[str, Any] | None = None,
) -> tuple[Any, Any, Any]:
    """A store and a configuration in ``directory`` with the issue of 2022-01 ready to render:
    ``items`` feed items picked across sections (the first one with a hostile title), ``reports``
    approved reports, ``events`` agenda entries, an édito; returns (store, config, month)."""
    import re as re_module
    from datetime import timedelta

    import yaml

    from curator import editorial
    from curator.config import load_config
    from curator.demo import SAMPLE_CONFIG
    from curator.models import Entry, Month
    from curator.reports import approve
    from curator.store import Store

    now = EMAIL_NOW
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", "http://127.0.0.1:9")
    text = re_module.sub(r", max_picks: \d+", "", text)  # a 40-item issue fits
    if email:
        text += "\n" + yaml.safe_dump({"email": email}, allow_unicode=True)
    path = directory / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    month = Month.parse("2022-01")
    store = Store.open(directory / "curator.db")
    store.sync_sources(config.sources, now)
    sources = ["la27eregion", "lab-normandie", "veille-education", "lab-110bis"]
    sections = ["veille", "actualites", "veille", "appels"]
    summary = (
        "Les labs d'académie ont expérimenté de nouveaux formats d'ateliers : co-développement, "
        "design des politiques publiques et prototypes avec les usagers. Retour sur six mois de travail, "
        "ce qui a marché, ce qui reste à faire et les outils à réutiliser dans votre académie !"
    )
    for n in range(items):
        source = sources[n % len(sources)]
        title = (
            EMAIL_HOSTILE_TITLE
            if hostile and n == 0
            else f"Article numéro {n + 1} : l'innovation publique en classe"
        )
        entry = Entry(
            key=f"e{n}",
            url=f"https://news.example.org/{source}/{n + 1}?id={n + 1}&utm_medium=rss",
            title=title,
            summary=f"<p>{summary}</p>",
            excerpt=summary,
            text=summary,
            published=datetime(2022, 1, 1 + n % 28, 9, tzinfo=UTC),
        )
        save_entries(store, source, [entry], now)
        item = next(i for i in store.items(source=source) if i.title == title)
        note = (
            f"À lire avant le temps du lab : [la fiche pratique](https://labs.example.org/fiches/{n}?fbclid=abc)."
            if n % 3 == 0
            else ""
        )
        editorial.pick(
            store, config, month, str(item.id), now, section=sections[n % len(sections)], note=note
        )
    for n in range(reports):
        report_id, _ = store.add_report(
            submission_key=f"k{n}",
            lab="lab-normandie" if n % 2 == 0 else None,
            lab_other="" if n % 2 == 0 else "Lab des Hauts-de-France",
            author_name=f"Claire Lemoine {n + 1}",
            author_email="claire@example.org",
            title=f"Retour n° {n + 1} : des ateliers de co-développement entre CPE",
            summary="Huit CPE se sont retrouvés une fois par mois pour traiter une situation concrète.",
            body="## Le contexte\n\nDes CPE isolés.",
            link="https://labs.example.org/normandie/codev" if n % 2 == 0 else None,
            tags=["facilitation"],
            license="etalab-2.0",
            now=now - timedelta(days=3),
        )
        approve(store, report_id, editor="test", now=now)
        editorial.pick(
            store, config, month, f"r{report_id}", now, section="retours", note="Un *bel* exemple."
        )
    for n in range(events):
        editorial.add_event(
            store,
            config,
            month,
            now,
            title=f"Temps du lab n° {n + 1}",
            starts_at=datetime(2022, 1, 27 + n, 14, 0),
            ends_at=datetime(2022, 1, 27 + n, 15, 30),
            place="En visioconférence" if n % 2 == 0 else "Paris, 110 rue de Grenelle",
            video_url="https://visio.example.org/temps-du-lab" if n % 2 == 0 else None,
            description="Les ambassadeurs présentent leurs projets !",
            link="https://labs.example.org/agenda/temps-du-lab" if n % 2 == 1 else None,
        )
    editorial.set_edito(store, config, month, EMAIL_EDITO, now)
    return store, config, month


# --- the static archive: a store with published issues, a draft and hostile content ----

#: Strings that would run script if the archive let them through; the browser tests watch window.__pwned.
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">Titre piégé</script><script>window.__pwned=2</script>'
HOSTILE_TEXT = '"><svg onload="window.__pwned=3"><script>window.__pwned=4</script>'
HOSTILE_MARKDOWN = (
    "<script>window.__pwned=5</script> [un lien](javascript:window.__pwned=6) "
    "<img src=x onerror=window.__pwned=7> <iframe src=https://evil.example/></iframe>"
)
DRAFT_TITLE = "Brouillon secret à ne jamais publier"


@dataclass
class ArchiveData:
    """A configuration and a store with three published issues (2021-11 … 2022-01) and a draft (2022-02)."""

    config: Any
    store: Any
    directory: Path
    published: list[str]
    draft: str

    def publish(self, month: str, titles: tuple[str, ...] = ("Une actualité de plus",)) -> None:
        """Add a published issue for ``month`` with items from the Normandy lab's feed."""
        from datetime import UTC

        from curator import editorial
        from curator.models import Entry, Month

        m = Month.parse(month)
        when = m.start(UTC).replace(day=10)
        entries = [
            Entry(
                key=f"{month}-{i}",
                url=f"https://labs.example.org/normandie/{month}/{i}",
                title=title,
                summary=f"<p>{title}</p>",
                excerpt=f"{title} : un atelier de design.",
                text=title,
                published=when,
            )
            for i, title in enumerate(titles)
        ]
        save_entries(self.store, "lab-normandie", entries, when)
        ids = [i.id for i in self.store.items(source="lab-normandie") if i.title in titles]
        for item_id in sorted(ids):
            editorial.pick(self.store, self.config, m, str(item_id), when)
        editorial.publish(self.store, self.config, m, when.replace(day=28))
        self.published.append(month)


def make_archive_data(directory: Path) -> ArchiveData:
    from datetime import UTC, datetime

    from curator import editorial
    from curator.config import load_config
    from curator.models import Entry, Month
    from curator.store import Store

    config = load_config(write_test_config(directory))
    store = Store.open(directory / "curator.db")
    t0 = datetime(2021, 11, 2, 9, tzinfo=UTC)
    store.sync_sources(config.sources, t0)

    def entries(prefix: str, month: Month, n: int, title: str) -> list[Entry]:
        start = month.start(UTC)
        return [
            Entry(
                key=f"{prefix}-{month}-{i}",
                url=f"https://example.org/{prefix}/{month}/{i}",
                title=f"{title} n° {i + 1} ({month})",
                summary="<p>Résumé.</p>",
                excerpt=f"Ce que l'on retient : un prototype testé avec les usagers, numéro {i + 1}.",
                text="Résumé",
                author="Équipe du lab",
                published=start.replace(day=3 + i),
            )
            for i in range(n)
        ]

    months = [Month.parse(m) for m in ("2021-11", "2021-12", "2022-01", "2022-02")]
    for m in months:
        save_entries(
            store, "la27eregion", entries("veille", m, 3, "Design des politiques publiques"), m.start(UTC)
        )
        save_entries(
            store, "lab-normandie", entries("normandie", m, 2, "L'atelier de co-développement"), m.start(UTC)
        )
        save_entries(store, "lab-110bis", entries("lab110", m, 1, "Temps du lab"), m.start(UTC))
    hostile = Entry(
        key="hostile",
        url="javascript:window.__pwned=8",
        title=HOSTILE_TITLE,
        summary=HOSTILE_TEXT,
        excerpt=HOSTILE_TEXT,
        text="piégé",
        published=datetime(2022, 1, 9, tzinfo=UTC),
    )
    save_entries(store, "veille-education", [hostile], datetime(2022, 1, 9, tzinfo=UTC))

    def report(key: str, title: str, summary: str, body: str, link: str | None, lab: str | None) -> int:
        report_id, _ = store.add_report(
            submission_key=key,
            lab=lab,
            lab_other="" if lab else "Lab de Mayotte",
            author_name="Claire Lemoine",
            author_email="claire@example.org",
            title=title,
            summary=summary,
            body=body,
            link=link,
            tags=["facilitation"],
            license="etalab-2.0",
            now=t0,
        )
        store.change_report(report_id, {"status": "approved"}, editor="test", action="approved", now=t0)
        return report_id

    good = report(
        "good",
        "Co-développement entre CPE",
        "Huit CPE, une situation par mois.",
        "# Le contexte\n\nDes CPE **isolés**.\n\n## Ce que nous avons fait\n\n- une séance par mois",
        "https://labs.example.org/normandie/codev",
        "lab-normandie",
    )
    bad = report("bad", HOSTILE_TITLE, HOSTILE_TEXT, HOSTILE_MARKDOWN, "javascript:window.__pwned=9", None)

    def items(source: str, month: Month) -> list[str]:
        return [
            str(i.id)
            for i in sorted(store.items(source=source), key=lambda i: i.id)
            if str(month) in (i.url or "")
        ]

    for m in months:
        now = m.start(UTC).replace(day=20)
        for source in ("la27eregion", "lab-normandie", "lab-110bis"):
            for ref in items(source, m):
                editorial.pick(
                    store,
                    config,
                    m,
                    ref,
                    now,
                    note="Pourquoi c'est **important** : à lire." if source == "la27eregion" else None,
                )
        editorial.set_edito(
            store, config, m, f"Bonjour à toutes et à tous ! Voici le numéro de {m}. Bonne lecture.", now
        )
    editorial.pick(store, config, months[1], f"r{good}", months[1].start(UTC).replace(day=20))
    jan = months[2]
    jan_now = jan.start(UTC).replace(day=20)
    hostile_id = next(i.id for i in store.items(source="veille-education"))
    editorial.pick(store, config, jan, str(hostile_id), jan_now, note=HOSTILE_MARKDOWN)
    editorial.pick(store, config, jan, f"r{bad}", jan_now)
    editorial.set_edito(store, config, jan, "Bonne année ! " + HOSTILE_MARKDOWN, jan_now)
    editorial.add_event(
        store,
        config,
        jan,
        jan_now,
        title="Temps du lab <script>window.__pwned=10</script>",
        starts_at=datetime(2022, 1, 27, 14),
        ends_at=datetime(2022, 1, 27, 15, 30),
        video_url="https://visio.example.org/temps-du-lab",
        description=HOSTILE_TEXT,
    )
    editorial.set_title(store, config, months[3], DRAFT_TITLE, months[3].start(UTC))
    for m in months[:3]:
        editorial.publish(store, config, m, m.start(UTC).replace(day=25, hour=8))
    return ArchiveData(config, store, directory, [str(m) for m in months[:3]], str(months[3]))


@pytest.fixture
def archive_data(tmp_path: Path) -> Iterator[ArchiveData]:
    data = make_archive_data(tmp_path)
    try:
        yield data
    finally:
        data.store.close()


# --- a real browser: headless Chromium from Debian, driven by Playwright ---

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module (Playwright's loop must stop before other modules use asyncio);
    skipped locally without it, a failure under CI (CI=true)."""
    import os

    if not CHROMIUM.exists():
        reason = f"no browser: {CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; under CI the browser tests must run")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A French page; every dialog that opens (there must be none) is recorded in ``page.dialogs``."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(30_000)  # generous for a busy machine; a page that works answers at once
    try:
        yield page
    finally:
        context.close()


T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, in a thread of its own if another test left a loop running in this one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
