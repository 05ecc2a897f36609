"""Feed autodiscovery for `curator sources add`, against a web page served on 127.0.0.1 with
several <link rel="alternate"> (relative, absolute, under <base href>, and some that are no
feeds), and the usual places (/feed, /rss.xml, /atom.xml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import FEEDS_DIR, FeedServer, Reply

from curator.cli import cli
from curator.config import FetchSettings
from curator.discover import discover

JSONFEED = Path(__file__).parent / "data" / "jsonfeed" / "jsonfeed-org.json"
SETTINGS = FetchSettings(connect_timeout=2, read_timeout=2, deadline=5)

PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <title>Lab'Innov — le blog</title>
  <base href="/blog/">
  <link rel="stylesheet" href="style.css">
  <link rel="alternate" type="application/rss+xml" title="Articles (RSS)" href="feed.xml">
  <link rel="alternate" type="application/atom+xml" title="Articles (Atom)" href="{base}/blog/atom.xml">
  <link rel="alternate" type="application/feed+json" title="Articles (JSON Feed)" href="/blog/feed.json">
  <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/42">
  <link rel="alternate" hreflang="en" href="/en/">
  <link rel="ALTERNATE" type="application/rss+xml; charset=utf-8" title="Commentaires" href="comments/feed.xml">
</head>
<body><h1>Le blog</h1><p>Nos actualités.</p></body>
</html>
"""


def serve_site(server: FeedServer) -> str:
    """A page naming four feeds (one missing, one not a feed), and the usual places."""
    page = PAGE.format(base=server.base).encode()
    server.route("/blog/", Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
    server.feed("/blog/feed.xml", "rss20.xml")
    server.feed("/blog/atom.xml", "atom10.xml", content_type="application/atom+xml")
    server.feed("/blog/feed.json", JSONFEED.read_bytes(), content_type="application/feed+json")
    server.route(
        "/wp-json/wp/v2/pages/42",
        Reply(200, b'{"id": 42, "title": {"rendered": "Accueil"}}', {"Content-Type": "application/json"}),
    )
    server.route("/feed", Reply(301, headers={"Location": "/blog/feed.xml"}))  # the same feed again
    server.feed("/atom.xml", "atom03.xml", content_type="application/atom+xml")
    return server.url("/blog/")


def test_a_page_with_several_alternate_links(feed_server: FeedServer) -> None:
    found = discover(serve_site(feed_server), SETTINGS)
    assert found.page.kind == "html" and found.page.title == "Lab'Innov — le blog"
    base = feed_server.base
    assert [(f.url, f.kind, f.via, f.title) for f in found.feeds] == [
        (f"{base}/blog/feed.xml", "rss", "link", "Articles (RSS)"),
        (f"{base}/blog/atom.xml", "atom", "link", "Articles (Atom)"),
        (f"{base}/blog/feed.json", "json", "link", "Articles (JSON Feed)"),
        (f"{base}/atom.xml", "atom", "guess", "Carnet du Lab Éducation Normandie"),
    ]
    asked = {r.path for r in feed_server.requests}
    assert {"/wp-json/wp/v2/pages/42", "/blog/comments/feed.xml", "/feed", "/rss.xml", "/atom.xml"} <= asked
    assert "/en/" not in asked and "/blog/style.css" not in asked
    assert all(r.headers["user-agent"].startswith("curator/") for r in feed_server.requests)


def test_a_feed_address_is_checked_and_a_permanent_redirect_followed(feed_server: FeedServer) -> None:
    feed_server.feed("/new.xml", "rss20.xml")
    feed_server.route("/old.xml", Reply(301, headers={"Location": "/new.xml"}))
    found = discover(feed_server.url("/old.xml"), SETTINGS)
    assert [(f.url, f.kind, f.via) for f in found.feeds] == [(feed_server.url("/new.xml"), "rss", "given")]
    assert found.page.entries == 3 and found.page.title == "Lab 110 bis – le blog"
    assert len(feed_server.hits("/new.xml")) == 1  # nothing else was asked


def test_a_page_without_feeds_and_an_address_that_does_not_answer(feed_server: FeedServer) -> None:
    url = feed_server.route(
        "/plain", Reply(200, b"<html><title>Rien</title><p>Rien.</p></html>", {"Content-Type": "text/html"})
    )
    found = discover(url, SETTINGS)
    assert found.feeds == () and found.page.kind == "html"
    closed = discover("http://127.0.0.1:9/feed", SETTINGS)
    assert closed.feeds == () and closed.page.kind is None and closed.page.error_kind == "connection"


# --- curator sources add --------------------------------------------------------------------

CONFIG = """\
# Our sources
newsletter: {title: Infolettre, publisher: Les labs, site_url: 'https://labs.example/archive/'}
sections: [{id: veille, title: Veille}]
themes: [{id: design, label: Design}]
sources:
  # the first one
  - id: first
    url: https://first.example/feed
    title: First   # a comment that stays
# the end
"""


def add(tmp_path: Path, *args: str) -> Result:
    config = tmp_path / "sources.yaml"
    if not config.exists():
        config.write_text(CONFIG, encoding="utf-8")
    return CliRunner().invoke(
        cli, ["--db", str(tmp_path / "c.db"), "--config", str(config), "sources", "add", *args]
    )


def test_add_asks_which_feed_or_takes_pick(tmp_path: Path, feed_server: FeedServer) -> None:
    page = serve_site(feed_server)
    refused = add(tmp_path, page)
    assert refused.exit_code == 2
    assert "4 feeds found at" in refused.output and "choose one with --pick N" in refused.output
    assert f"3. {feed_server.base}/blog/feed.json  (Articles (JSON Feed))" in refused.output
    assert (tmp_path / "sources.yaml").read_text(encoding="utf-8") == CONFIG

    added = add(tmp_path, page, "--pick", "3", "--section", "veille", "--tag", "design")
    assert added.exit_code == 0, added.output
    assert "Added articles-json-feed" in added.output
    text = (tmp_path / "sources.yaml").read_text(encoding="utf-8")
    assert text.startswith(CONFIG.removesuffix("# the end\n"))
    assert text.endswith(
        f"  - id: articles-json-feed\n    url: {feed_server.base}/blog/feed.json\n    title: Articles (JSON Feed)\n"
        f"    section: veille\n    tags: [design]\n    site: {feed_server.base}/blog/\n# the end\n"
    )
    again = add(tmp_path, f"{feed_server.base}/blog/feed.json")
    assert (
        again.exit_code == 2 and "already in sources.yaml, as the source 'articles-json-feed'" in again.output
    )
    too_far = add(tmp_path, page, "--pick", "9")
    assert too_far.exit_code == 2 and "there are only 4 feed(s)" in too_far.output


def test_add_on_a_terminal_lists_the_feeds_and_asks(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("curator.cli.sources._on_terminal", lambda: True)
    config = tmp_path / "sources.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["--db", str(tmp_path / "c.db"), "--config", str(config), "sources", "add", serve_site(feed_server)],
        input="9\n2\n",
    )
    assert result.exit_code == 0, result.output
    assert f"2. {feed_server.base}/blog/atom.xml  (Articles (Atom))" in result.output
    assert "Which one: 9" in result.output and "Added articles-atom" in result.output


def test_add_a_feed_url_takes_its_title_and_refuses_a_taken_id(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.feed("/feed.xml", "rss20.xml")
    taken = add(tmp_path, url, "--id", "first")
    assert taken.exit_code == 2 and "already used" in taken.output
    dry = add(tmp_path, url, "--dry-run")
    assert (
        dry.exit_code == 0
        and "+  - id: lab-110-bis-le-blog" in dry.output
        and "nothing was written" in dry.output
    )
    assert (tmp_path / "sources.yaml").read_text(encoding="utf-8") == CONFIG
    added = add(tmp_path, url)
    assert added.exit_code == 0, added.output
    data = yaml.safe_load((tmp_path / "sources.yaml").read_text(encoding="utf-8"))
    assert data["sources"][1] == {
        "id": "lab-110-bis-le-blog",
        "url": url,
        "title": "Lab 110 bis – le blog",
        "site": "https://lab110bis.ac-exemple.fr/",
    }


@pytest.mark.parametrize(
    ("route", "reply", "code", "message"),
    [
        (
            "/nothing",
            Reply(
                200,
                (FEEDS_DIR / "page.html").read_bytes().replace(b"alternate", b"x"),
                {"Content-Type": "text/html"},
            ),
            1,
            "a web page without a feed",
        ),
        ("/missing", Reply(404, b"", {}), 1, "HTTP 404"),
        (
            "/bytes",
            Reply(200, b"\x00\x01binary", {"Content-Type": "application/octet-stream"}),
            1,
            "not a feed",
        ),
    ],
)
def test_add_what_has_no_feed(
    tmp_path: Path, feed_server: FeedServer, route: str, reply: Reply, code: int, message: str
) -> None:
    result = add(tmp_path, feed_server.route(route, reply))
    assert result.exit_code == code and message in result.output
    assert (tmp_path / "sources.yaml").read_text(encoding="utf-8") == CONFIG
