"""`curator check`: every error of the configuration at once, one line each with file, line,
entry and field; a summary; exit 0 or 2; `--json`; and `--network` against 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from conftest import FeedServer, Reply

from curator.cli import cli
from curator.config.check import check_text

REPOSITORY = Path(__file__).parent.parent

BROKEN = """\
newsletter:
  title: Infolettre
  publisher: Labs
  site_url: ftp://labs.example/
  bogus: 1
sections:
  - {id: veille, title: Veille}
  - {id: agenda, title: Agenda}
  - {id: veille, title: Encore}
labs:
  - {id: lab-a, name: Lab A}
themes:
  - {id: design, label: Design}
sources:
  - {id: a, url: https://a.example/feed, section: veile, lab: lab-z, tags: [design, nope]}
  - {id: b, url: ftp://b.example/feed, colour: red}
  - {id: a, url: https://c.example/feed}
  - {url: https://d.example/feed, section: agenda}
  - {id: "Bad Id", url: https://e.example/, weight: heavy}
  - just text
fetch: {concurrency: 0, per_host: lots}
web: {login_limit: lots}
extra: 1
"""

EXPECTED = [
    "sources.yaml:1, top level, field 'extra': unknown key",
    "sources.yaml:2, newsletter, field 'bogus': unknown key",
    "sources.yaml:2, newsletter, field 'site_url': 'ftp://labs.example/' is not an http(s) URL",
    "sources.yaml:9, sections[veille], field 'id': duplicate id 'veille' (first used by entry #1)",
    "sources.yaml:15, sources[a], field 'section': unknown section 'veile' (known: agenda, veille)",
    "sources.yaml:15, sources[a], field 'lab': unknown lab 'lab-z'",
    "sources.yaml:15, sources[a], field 'tags': unknown theme 'nope'",
    "sources.yaml:16, sources[b], field 'colour': unknown key",
    "sources.yaml:16, sources[b], field 'url': 'ftp://b.example/feed' is not an http(s) URL",
    "sources.yaml:17, sources[a], field 'id': duplicate id 'a' (first used by entry #1)",
    "sources.yaml:18, sources[3], field 'id': is required",
    "sources.yaml:18, sources[3], field 'section': the section 'agenda' (kind agenda) holds no feed items",
    "sources.yaml:19, sources[Bad Id], field 'id': 'Bad Id' is not a valid id",
    "sources.yaml:19, sources[Bad Id], field 'weight': expected a number, got text",
    "sources.yaml, sources[5]: expected a mapping (key: value), got text",
    "sources.yaml:21, fetch, field 'concurrency': must be at least 1",
    "sources.yaml:21, fetch, field 'per_host': expected a whole number, got text",
    "sources.yaml:22, web, field 'login_limit': expected a whole number, got text",
]


def check(tmp_path: Path, text: str, *args: str) -> Result:
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    return CliRunner().invoke(
        cli, ["--db", str(tmp_path / "c.db"), "--config", str(tmp_path / "sources.yaml"), "check", *args]
    )


def test_every_error_at_once_one_line_each(tmp_path: Path) -> None:
    result = check(tmp_path, BROKEN)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == len(EXPECTED) + 1
    for line, expected in zip(lines, EXPECTED, strict=False):
        assert line.startswith(f"{tmp_path}/{expected}"), (line, expected)
    assert lines[-1] == "sources.yaml: 18 errors in 11 entries."
    assert not (tmp_path / "c.db").exists()  # checking opens no database


def test_the_same_findings_as_json(tmp_path: Path) -> None:
    result = check(tmp_path, BROKEN, "--json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["network"] is None
    assert len(data["errors"]) == 18
    assert data["errors"][4] == {
        "file": str(tmp_path / "sources.yaml"),
        "line": 15,
        "entry": "sources[a]",
        "field": "section",
        "message": "unknown section 'veile' (known: agenda, veille)",
    }


def test_the_repository_configuration_is_valid(tmp_path: Path) -> None:
    result = check(tmp_path, (REPOSITORY / "sources.yaml").read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.output
    assert result.output == "sources.yaml is valid: 12 sources, 7 sections, 15 labs, 6 themes.\n"


def test_invalid_yaml_and_a_duplicate_key_stop_at_their_line() -> None:
    (error,) = check_text("newsletter:\n  title: [unclosed\nsections: []\n").errors
    assert error.line == 3 and "invalid YAML" in str(error)
    (error,) = check_text("sources: []\nsources: []\n").errors
    assert error.line == 2 and "duplicate key 'sources'" in str(error)


def test_missing_required_keys_are_all_named() -> None:
    report = check_text("fetch: {concurrency: 2}\n")
    assert [(e.field, e.message) for e in report.errors] == [
        ("newsletter", "is required"),
        ("sections", "is required"),
        ("sources", "is required"),
    ]
    assert check_text("newsletter: {title: T}\n").summary() == "sources.yaml: 4 errors in 2 entries."


NETWORK = """\
newsletter: {{title: Infolettre, publisher: Labs, site_url: 'https://labs.example/'}}
sections: [{{id: veille, title: Veille}}]
sources:
  - {{id: rss, url: '{base}/rss.xml'}}
  - {{id: json, url: '{base}/feed.json'}}
  - {{id: moved, url: '{base}/old'}}
  - {{id: missing, url: '{base}/missing'}}
  - {{id: page, url: '{base}/page'}}
  - {{id: closed, url: 'http://127.0.0.1:9/feed'}}
  - {{id: disabled, url: '{base}/disabled', enabled: false}}
fetch: {{connect_timeout: 2, read_timeout: 2, deadline: 5}}
"""


def test_network_probes_each_enabled_source_once_and_stores_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.feed("/rss.xml", "rss20.xml")
    feed_server.feed(
        "/feed.json",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        content_type="application/feed+json",
    )
    feed_server.feed("/new", "atom10.xml", content_type="application/atom+xml")
    feed_server.route("/old", Reply(301, headers={"Location": "/new"}))
    feed_server.route("/page", Reply(200, b"<!doctype html><title>x</title>", {"Content-Type": "text/html"}))
    text = NETWORK.format(base=feed_server.base)
    result = check(tmp_path, text, "--network")
    assert result.exit_code == 1, result.output  # valid, but not every source is a working feed
    out = result.output
    assert "rss: 200 application/rss+xml; charset=utf-8, rss feed of 3 entries, " in out
    assert "json: 200 application/feed+json, json feed of 0 entries" in out
    assert "moved: 200 application/atom+xml, atom feed of 2 entries" in out
    assert f"moved permanently to {feed_server.base}/new" in out
    assert "missing: failed (http): HTTP 404 Not Found" in out
    assert "page: 200 text/html, not a feed: not a feed: the document is an HTML page" in out
    assert "closed: failed (connection)" in out
    assert "disabled" not in out
    assert out.splitlines()[-2:] == [
        "sources.yaml is valid: 7 sources, 1 section, 0 labs, 0 themes.",
        "6 source(s) fetched: 3 feed(s), 3 failing; 1 moved permanently.",
    ]
    assert len(feed_server.hits("/rss.xml")) == 1 and not feed_server.hits("/disabled")
    assert not (tmp_path / "c.db").exists()

    data = json.loads(check(tmp_path, text, "--network", "--json").stdout)
    by_id = {p["id"]: p for p in data["network"]}
    assert set(by_id) == {"rss", "json", "moved", "missing", "page", "closed"}
    assert by_id["moved"]["moved_to"] == f"{feed_server.base}/new" and by_id["moved"]["feed"] is True
    assert by_id["missing"] | {"seconds": 0} == {
        "id": "missing",
        "url": f"{feed_server.base}/missing",
        "status": 404,
        "content_type": None,
        "feed": False,
        "kind": None,
        "entries": 0,
        "moved_to": None,
        "seconds": 0,
        "error": "HTTP 404 Not Found",
        "error_kind": "http",
    }
