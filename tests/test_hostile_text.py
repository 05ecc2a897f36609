"""Issue 10: one bad character must never stop an issue, and no entry is lost to a shared URL.

End to end through the command line, with a real HTTP server on 127.0.0.1 serving the
feeds and a real SQLite file: fetch, pick, draft, publish and build.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner, Result
from conftest import FeedServer, WebClient

from curator.cli import cli
from curator.store import MIGRATIONS, Store
from curator.text import MAX_SUMMARY, MAX_TITLE, cap_text, clean_text, terminal_safe

HOSTILE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile</title><link>https://hostile.example/</link>
<item><guid>ctrl</guid><title>x &#x1; y</title><link>https://hostile.example/ctrl</link>
  <pubDate>Mon, 10 Jan 2022 08:00:00 GMT</pubDate><description>un &#x1; r\xc3\xa9sum\xc3\xa9</description></item>
<item><guid>ffff</guid><title>non &#xFFFF; caract\xc3\xa8re</title><link>https://hostile.example/ffff</link>
  <pubDate>Mon, 10 Jan 2022 09:00:00 GMT</pubDate><description>fin &#xFFFE;</description></item>
<item><guid>surrogate</guid><title>seul &#xD800; ici</title><link>https://hostile.example/surrogate</link>
  <pubDate>Mon, 10 Jan 2022 10:00:00 GMT</pubDate><description>demi &#xDC00;</description></item>
<item><guid>esc</guid><title>\x1b[2J efface &#x1b;]0;titre&#x7;</title><link>https://hostile.example/esc</link>
  <pubDate>Mon, 10 Jan 2022 11:00:00 GMT</pubDate><description>&lt;p&gt;\x1b[31mrouge&lt;/p&gt;</description></item>
<item><guid>good</guid><title>Une bonne entr\xc3\xa9e</title><link>https://hostile.example/good</link>
  <pubDate>Mon, 10 Jan 2022 12:00:00 GMT</pubDate><description>Rien \xc3\xa0 signaler.</description></item>
</channel></rss>
"""


def _config(directory: Path, *sources: tuple[str, str]) -> Path:
    lines = "\n".join(
        f"  - {{id: {sid}, url: '{url}', title: {sid}, section: veille}}" for sid, url in sources
    )
    path = directory / "sources.yaml"
    path.write_text(
        f"""newsletter:
  title: Infolettre
  publisher: Les labs
  site_url: https://labs.example/archive/
  unsubscribe: https://labs.example/desabonnement
sections:
  - {{id: edito, title: Édito}}
  - {{id: veille, title: Veille, max_picks: 200}}
  - {{id: agenda, title: Agenda}}
sources:
{lines}
""",
        encoding="utf-8",
    )
    return path


class Curator:
    """``curator`` run through click's runner in one folder (its own sources.yaml and database)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.db = directory / "curator.db"

    def __call__(self, *args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(
            cli, ["--db", str(self.db), "--config", str(self.dir / "sources.yaml"), *args]
        )
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    def items(self) -> list[dict[str, Any]]:
        import json

        return json.loads(self("items", "--json").stdout)


@pytest.fixture
def curator(tmp_path: Path) -> Curator:
    return Curator(tmp_path)


def test_clean_text_keeps_text_and_drops_what_breaks_the_email() -> None:
    assert clean_text("a\tb\nc\r\n") == "a\tb\nc\r\n"
    assert clean_text("x\x01y\x7f\x9b\ufffe\uffff\U0001fffe\ufdd0z") == "xyz"
    assert clean_text("demi \ud800 ici") == "demi \ufffd ici"
    assert clean_text("« Éducation » — ok\u00a0!") == "« Éducation » — ok\u00a0!"
    assert terminal_safe("\x1b[2Jtitre\x9b\r") == "?[2Jtitre??"
    capped = cap_text("mot " * 1000, 100)
    assert len(capped) <= 100 and capped.endswith("mot…")


def test_a_hostile_feed_is_fetched_picked_drafted_published_and_built(
    curator: Curator, feed_server: FeedServer
) -> None:
    _config(curator.dir, ("hostile", feed_server.feed("/hostile.xml", HOSTILE_FEED)))
    fetched = curator("fetch")
    assert "hostile: 5 new" in fetched.output
    assert "lone surrogate" in fetched.output  # the source says what was replaced
    items = curator.items()
    assert len(items) == 5  # no entry lost
    titles = {i["title"] for i in items}
    assert titles == {"x y", "non caractère", "seul \ufffd ici", "[2J efface ]0;titre", "Une bonne entrée"}
    for item in items:
        assert clean_text(item["title"]) == item["title"]

    for item in items:
        curator("pick", str(item["id"]), "--month", "2022-01", "--note", "à lire\x01\x1b[31m\uffff")
    shown = curator("issue", "show", "--month", "2022-01").output
    assert "\x1b" not in shown and "\x01" not in shown and "à lire[31m" in shown
    assert "\x1b" not in curator("items").output
    assert "\x1b" not in curator("candidates", "--month", "2022-01").output

    drafted = curator("draft", "--month", "2022-01", "--out", str(curator.dir / "drafts"))
    assert "email.html" in drafted.output
    html = (curator.dir / "drafts" / "2022-01" / "email.html").read_text(encoding="utf-8")
    assert "Une bonne entrée" in html and "seul \ufffd ici" in html

    archive = curator.dir / "archive"
    curator("publish", "--month", "2022-01", "--out", str(archive))
    page = (archive / "2022-01" / "index.html").read_text(encoding="utf-8")
    assert "Une bonne entrée" in page and "non caractère" in page
    assert clean_text(page) == page
    curator("build", "--out", str(archive))


def test_a_store_that_already_holds_control_characters_still_drafts_and_builds(
    curator: Curator, feed_server: FeedServer
) -> None:
    """Render defensively: a title stored by an older version with ESC and U+FFFF in it."""
    _config(curator.dir, ("hostile", feed_server.feed("/hostile.xml", HOSTILE_FEED)))
    curator("fetch")
    with sqlite3.connect(curator.db) as conn:
        conn.execute("UPDATE items SET title = 'vieux \x01 titre \uffff', excerpt = 'x\x0b' WHERE id = 1")
    curator("pick", "1", "--month", "2022-01")
    curator("draft", "--month", "2022-01", "--out", str(curator.dir / "drafts"))
    curator("publish", "--month", "2022-01", "--out", str(curator.dir / "archive"))
    assert "vieux  titre" in (curator.dir / "archive" / "2022-01" / "index.html").read_text(encoding="utf-8")


def test_an_archive_that_cannot_be_built_leaves_the_issue_a_draft(
    curator: Curator, feed_server: FeedServer
) -> None:
    _config(curator.dir, ("hostile", feed_server.feed("/hostile.xml", HOSTILE_FEED)))
    curator("fetch")
    curator("pick", "1", "--month", "2022-01")
    blocked = curator.dir / "not-a-folder"
    blocked.write_text("a file where the archive should go", encoding="utf-8")
    failed = curator("publish", "--month", "2022-01", "--out", str(blocked), ok=False)
    assert failed.exit_code != 0 and "Traceback" not in failed.output
    with Store.open(curator.db) as store:
        issue = store.issue(__import__("curator.models").models.Month.parse("2022-01"))
        assert issue is not None and issue.state == "draft" and issue.published_at is None
    curator("build", "--out", str(curator.dir / "archive"))  # a later build still works
    curator("publish", "--month", "2022-01", "--out", str(curator.dir / "archive"))


def _episodes(n: int, home: str, *, enclosures: bool) -> bytes:
    items = []
    for i in range(n):
        enclosure = (
            f'<enclosure url="https://media.example/ep{i}.mp3" length="1" type="audio/mpeg"/>'
            if enclosures
            else ""
        )
        items.append(
            f"<item><guid isPermaLink='false'>episode-{i}</guid><title>Épisode {i}</title><link>{home}</link>"
            f"{enclosure}<pubDate>Mon, 10 Jan 2022 08:{i % 60:02d}:00 GMT</pubDate>"
            f"<description>Le numéro {i}.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Un podcast</title>'
        f"<link>{home}</link>{''.join(items)}</channel></rss>"
    ).encode()


def test_a_podcast_whose_episodes_link_to_its_home_page_keeps_every_episode(
    curator: Curator, feed_server: FeedServer
) -> None:
    home = "https://podcast.example/"
    _config(
        curator.dir,
        ("podcast", feed_server.feed("/podcast.xml", _episodes(100, home, enclosures=True))),
        ("bare", feed_server.feed("/bare.xml", _episodes(100, "https://bare.example/", enclosures=False))),
        ("page", feed_server.feed("/page.xml", _episodes(1, "https://bare.example/", enclosures=False))),
    )
    curator("fetch")
    items = curator.items()
    podcast = [i for i in items if i["source"] == "podcast"]
    assert len(podcast) == 100
    assert {i["url"] for i in podcast} == {f"https://media.example/ep{n}.mp3" for n in range(100)}
    bare = [i for i in items if i["source"] == "bare"]
    assert len(bare) == 100  # no enclosure: keyed by id, the shared URL merges nothing
    assert len([i for i in items if i["source"] == "page"]) == 1  # not merged into one of them
    assert "0 new" in curator("fetch").output or "unchanged" in curator("fetch").output


def test_the_migration_repairs_entries_merged_by_a_shared_url_at_the_next_fetch(
    curator: Curator, feed_server: FeedServer
) -> None:
    """A store made before migration 0008 merged a feed's 100 episodes into one item: the
    migration drops the extra links and forgets the source's ETag, so the next fetch
    stores every episode."""
    home = "https://podcast.example/"
    url = feed_server.feed("/podcast.xml", _episodes(100, home, enclosures=False))
    _config(curator.dir, ("podcast", url))
    db = sqlite_utils.Database(curator.db)
    MIGRATIONS.apply(db, stop_before="0008_items_shared_urls")
    now = "2022-01-10T08:00:00+00:00"
    db.conn.execute(
        "INSERT INTO sources (id, url, status, etag, content_hash, added_at, updated_at) "
        "VALUES ('podcast', ?, 'ok', '\"old\"', 'abc', ?, ?)",
        (url, now, now),
    )
    db.conn.execute(
        "INSERT INTO items (id, url, title, published, first_seen, updated, content_hash, sources) "
        "VALUES (1, ?, 'Épisode 0', ?, ?, ?, 'h', 'podcast')",
        (home, now, now, now),
    )
    db.conn.executemany(
        "INSERT INTO item_sources (source_id, entry_key, item_id, first_seen) VALUES ('podcast', ?, 1, ?)",
        [(f"episode-{i}", now) for i in range(100)],
    )
    db.conn.commit()
    db.close()

    with Store.open(curator.db) as store:  # migrates
        assert store.count("item_sources") == 1
        assert store.source("podcast").etag is None
    fetched = curator("fetch").output
    assert "99 new" in fetched
    assert len(curator.items()) == 100
    # One item per URL still holds for the items whose URL no feed shares.
    with Store.open(curator.db) as store, pytest.raises(sqlite3.IntegrityError):
        store.conn.execute(
            "INSERT INTO items (url, title, published, first_seen, updated, content_hash) "
            "VALUES ('https://x.example/a', 't', ?, ?, ?, 'h'), ('https://x.example/a', 't', ?, ?, ?, 'h')",
            (now,) * 6,
        )


def test_a_huge_title_and_summary_are_capped(curator: Curator, feed_server: FeedServer) -> None:
    title = "mot " * 1_000_000  # 4,000,000 characters
    summary = "<p>" + "texte " * 200_000 + "</p>"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Gros</title>'
        f"<item><guid>big</guid><title>{title}</title><link>https://big.example/1</link>"
        f"<pubDate>Mon, 10 Jan 2022 08:00:00 GMT</pubDate><description><![CDATA[{summary}]]></description></item>"
        "</channel></rss>"
    ).encode()
    _config(curator.dir, ("big", feed_server.feed("/big.xml", body)))
    curator("fetch")
    (item,) = curator.items()
    assert len(item["title"]) <= MAX_TITLE and item["title"].endswith("…")
    with Store.open(curator.db) as store:
        stored = store.item(item["id"])
        assert len(stored.summary) <= MAX_SUMMARY and stored.summary.endswith("texte</p><p>…</p>")
    curator("pick", str(item["id"]), "--month", "2022-01")
    curator("draft", "--month", "2022-01", "--out", str(curator.dir / "drafts"))
    assert (curator.dir / "drafts" / "2022-01" / "email.html").stat().st_size < 200_000


def test_an_event_in_year_one_is_a_clear_error(curator: Curator) -> None:
    _config(curator.dir)
    result = curator("event", "add", "--month", "2022-01", "--title", "Temps du lab",
                     "--start", "0001-01-01 00:00", ok=False)  # fmt: skip
    assert result.exit_code == 2
    assert "year between" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.usefixtures("fast_passwords", "editor_account")
def test_the_form_and_the_editor_forms_strip_what_breaks_the_email(web: WebClient) -> None:
    response = web.submit(title="Un titre \uffff propre\x01", summary="Résumé\ufffe", body="Corps \x1b[31m")
    assert response.status_code == 303
    with web.store() as store:
        (report,) = store.reports()
        assert (report.title, report.summary, report.body) == ("Un titre  propre", "Résumé", "Corps [31m")
    assert web.login().status_code == 303
    response = web.post(
        "/editeur/numeros/2022-01/evenements",
        {"title": "Temps du lab", "start_date": "0001-01-01", "start_time": "10:00", "version": "0"},
    )
    assert response.status_code == 422  # a message, not a 500, and the form as it was typed
    page = response.get_data(as_text=True)
    assert "entre les années 1900 et 2999" in page and 'value="0001-01-01"' in page


def test_every_distinct_entry_of_a_corpus_is_stored(curator: Curator, feed_server: FeedServer) -> None:
    """Every feed the tests and the demo ship, plus the podcast: each distinct entry of each
    feed is stored (as a link from its source), whatever URLs the entries share."""
    from datetime import UTC, datetime

    from conftest import FEEDS_DIR

    from curator.demo import SAMPLE_CONFIG
    from curator.errors import ParseError
    from curator.feeds import parse_feed

    files = sorted(FEEDS_DIR.glob("*.xml")) + sorted(FEEDS_DIR.glob("*.rdf"))
    files += sorted((SAMPLE_CONFIG.parent / "feeds").glob("*.*"))
    bodies = {f"f{n}": path.read_bytes() for n, path in enumerate(files)}
    bodies["podcast"] = _episodes(50, "https://podcast.example/", enclosures=False)
    expected = 0
    for sid, body in bodies.items():
        try:
            parsed = parse_feed(body, url=f"http://127.0.0.1/{sid}.xml", fetched_at=datetime.now(UTC))
        except ParseError:
            continue
        expected += len(parsed.entries)
    _config(curator.dir, *[(sid, feed_server.feed(f"/{sid}.xml", body)) for sid, body in bodies.items()])
    curator("fetch", ok=False)  # the empty and malformed files fail, as they should
    with Store.open(curator.db) as store:
        assert store.count("item_sources") == expected
