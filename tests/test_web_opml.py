"""« Importer un fichier OPML » and « Exporter » on /editeur/sources: the code of `curator sources`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from conftest import WebClient

from curator.config import load_config
from curator.opml import parse_opml

pytestmark = pytest.mark.usefixtures("fast_passwords", "editor_account")
OPML = Path(__file__).parent / "data" / "opml"


def _import(web: WebClient, data: bytes, **fields: str) -> Any:
    return web.client.post(
        "/editeur/sources/importer",
        data={"csrf_token": web.token(), "opml": (io.BytesIO(data), "abonnements.opml"), **fields},
        content_type="multipart/form-data",
    )


def test_an_opml_file_is_imported_into_sources_yaml_and_shown(web: WebClient) -> None:
    assert web.login().status_code == 303
    config_path = web.app.extensions["curator"].config.path
    before = len(load_config(config_path).sources)
    data = next(p for p in sorted(OPML.glob("*.opml")) if "malformed" not in p.name).read_bytes()
    response = _import(web, data, section="veille")
    assert response.status_code == 303
    after = load_config(config_path).sources
    assert len(after) > before
    page = web.client.get("/editeur/sources").get_data(as_text=True)
    assert "ajoutée" in page or "ajoutées" in page
    assert after[-1].id in page  # the app reads the changed sources.yaml again
    again = _import(web, data, section="veille")  # the same file again adds nothing
    assert again.status_code == 303 and len(load_config(config_path).sources) == len(after)


def test_a_malformed_opml_file_changes_nothing_and_says_where(web: WebClient) -> None:
    assert web.login().status_code == 303
    config_path = web.app.extensions["curator"].config.path
    text = config_path.read_bytes()
    malformed = next(OPML.glob("*malformed*")).read_bytes()
    response = _import(web, malformed)
    assert response.status_code == 303
    page = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "mal formé (ligne" in page
    assert config_path.read_bytes() == text


def test_the_export_is_opml_that_lists_every_source(web: WebClient) -> None:
    assert web.login().status_code == 303
    response = web.client.get("/editeur/sources/export.opml")
    assert response.status_code == 200 and response.mimetype == "text/x-opml"
    document = parse_opml(response.get_data(), "sources.opml")
    config = web.app.extensions["curator"].config
    assert {f.url for f in document.feeds} >= {s.url for s in config.sources if s.url.startswith("http")}


def test_anonymous_visitors_can_neither_import_nor_export(web: WebClient) -> None:
    assert web.client.get("/editeur/sources/export.opml").status_code == 302
    response = web.client.post("/editeur/sources/importer", data={"csrf_token": web.token()})
    assert response.status_code == 303 and "/editeur/connexion" in response.headers["Location"]
