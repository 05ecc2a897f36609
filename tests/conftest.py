"""Shared fixtures: a real HTTP server on 127.0.0.1 serving feed files and scripted replies."""

from __future__ import annotations

import gzip as gzip_module
import hashlib
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

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
HOSTILE_TITLE = 'Tom & Jerry <script>alert("x")</script> <b>gras</b> « guillemets » : vraiment ?'
EDITO = (
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
        title = HOSTILE_TITLE if hostile and n == 0 else f"Article numéro {n + 1} : l'innovation publique en classe"
        entry = Entry(
            key=f"e{n}",
            url=f"https://news.example.org/{source}/{n + 1}?id={n + 1}&utm_medium=rss",
            title=title,
            summary=f"<p>{summary}</p>",
            excerpt=summary,
            text=summary,
            published=datetime(2022, 1, 1 + n % 28, 9, tzinfo=UTC),
        )
        store.save_entries(source, [entry], now)
        item = next(i for i in store.items(source=source) if i.title == title)
        note = (
            f"À lire avant le temps du lab : [la fiche pratique](https://labs.example.org/fiches/{n}?fbclid=abc)."
            if n % 3 == 0
            else ""
        )
        editorial.pick(store, config, month, str(item.id), now, section=sections[n % len(sections)], note=note)
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
        editorial.pick(store, config, month, f"r{report_id}", now, section="retours", note="Un *bel* exemple.")
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
    editorial.set_edito(store, config, month, EDITO, now)
    return store, config, month
