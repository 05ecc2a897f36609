"""The web app in tests: the app on a fresh database (``make_app``, ``app``), a client that
speaks its forms (``web``, ``WebClient``), an editor's account, the app under a real WSGI server
(``serve_app``) and candidates to curate (``seed_candidates``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from curator.ingest import save_entries

from .builders import make_entry, write_test_config

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


#: What ``seed_candidates`` titles the items of each source: "Veille numéro 0", "Veille numéro 1", …
CANDIDATE_TITLES = {"la27eregion": "Veille", "lab-normandie": "Actualité"}


def seed_candidates(app: Any, counts: dict[str, int], now: datetime) -> None:
    """Sync the app's sources at ``now``, then store ``counts[source]`` items of January 2022 in
    each source, in order (ids 1, 2, …): "Veille numéro 0", "Veille numéro 1", … in la27eregion,
    "Actualité numéro 0", … in lab-normandie."""
    from curator.store import Store

    state = app.extensions["curator"]
    with Store.open(state.db_path) as store:
        store.sync_sources(state.config.sources, now)
        for source, count in counts.items():
            prefix = CANDIDATE_TITLES[source]
            entries = [
                make_entry(
                    f"{prefix}{i}",
                    f"{prefix} numéro {i}",
                    f"https://example.org/{source}/{i}",
                    published=datetime(2022, 1, 3 + i, tzinfo=UTC),
                    body="Résumé",
                )
                for i in range(count)
            ]
            save_entries(store, source, entries, now)
