"""The store: migrations, source sync, item identity and search."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils
from conftest import make_entry as entry

from curator.errors import StaleEdit, StoreError
from curator.ingest import save_entries
from curator.models import Entry, Month, Source
from curator.store import MIGRATIONS, Store

NOW = datetime(2022, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "c.db")
    s.sync_sources(
        [Source(id="a", url="https://a.example/feed"), Source(id="b", url="https://b.example/feed")], NOW
    )
    return s


def test_open_sets_wal_and_foreign_keys(store: Store) -> None:
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_old_database_upgrades_without_loss(tmp_path: Path) -> None:
    """A database made when only the first migration existed keeps its rows."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    names = [m.name for m in MIGRATIONS._migrations]
    assert len(names) >= 2, "add an upgrade test when the second migration lands"
    MIGRATIONS.apply(db, stop_before=names[1])
    db.conn.execute(
        "INSERT INTO sources (id, url, added_at, updated_at) VALUES ('old', 'https://o.example/', '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00')"
    )
    db.conn.execute(
        "INSERT INTO items (url, title, published, first_seen, updated, content_hash) VALUES ('https://o.example/1', 'Ancien', '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00', 'h')"
    )
    db.conn.close()
    with Store.open(path) as store:
        assert [m.name for m in MIGRATIONS.applied(store.db)] == names
        assert [i.title for i in store.items()] == ["Ancien"]
        assert store.source("old").url == "https://o.example/"


def test_item_sources_are_kept_on_the_row_across_an_upgrade(tmp_path: Path) -> None:
    """0006 copies each item's sources onto its row; save_entries and a trigger keep them right."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    MIGRATIONS.apply(db, stop_before="0006_items_sources")
    for sid in ("a", "b", "c"):
        db.conn.execute(
            "INSERT INTO sources (id, url, added_at, updated_at) VALUES (?, ?, '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00')",
            (sid, f"https://{sid}.example/"),
        )
    db.conn.execute(
        "INSERT INTO items (id, url, title, published, first_seen, updated, content_hash) VALUES (1, 'https://o.example/1', 'Partagé', '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00', 'h')"
    )
    db.conn.executemany(
        "INSERT INTO item_sources (source_id, entry_key, item_id, first_seen) VALUES (?, ?, 1, ?)",
        [("b", "k1", "2021-01-01T00:00:00+00:00"), ("a", "k2", "2021-01-02T00:00:00+00:00")],
    )
    db.conn.close()
    with Store.open(path) as store:
        assert store.item(1).sources == ("b", "a")  # first seen first
        save_entries(store, "c", [entry("k3", "Partagé", "https://o.example/1")], NOW)
        save_entries(store, "a", [entry("k4", "Partagé", "https://o.example/1")], NOW)  # a second key of a
        assert store.item(1).sources == ("b", "a", "c")
        save_entries(store, "c", [entry("n1", "Nouveau", "https://o.example/2")], NOW)
        assert [i.sources for i in store.items(source="c")] == [("c",), ("b", "a", "c")]
        with store.write():
            store.conn.execute("DELETE FROM item_sources WHERE source_id = 'b'")
        assert store.item(1).sources == ("a", "c")
        with store.write():
            store.conn.execute("DELETE FROM item_sources WHERE item_id = 1")
        assert store.item(1).sources == ()
        jan = Month.parse("2022-01")
        rows = store.candidate_rows(jan, datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
        assert [r.id for r in rows] == [2]  # an item no source links to is no candidate


def test_0007_makes_excerpts_and_search_text_again_from_the_summaries(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    MIGRATIONS.apply(db, stop_before="0007_items_texts_from_summaries")
    db.conn.execute(
        "INSERT INTO sources (id, url, added_at, updated_at) VALUES ('a', 'https://a.example/', '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00')"
    )
    summary = (
        "<p>Un atelier sur la chronobiologie des élèves.</p>"
        '<p><a href="https://a.example/kit.pdf" rel="noopener">Télécharger le kit</a></p>'
    )
    old_excerpt = "Un atelier sur la chronobiologie des élèves. Télécharger le kit"
    db.conn.execute(
        "INSERT INTO items (id, url, title, summary, excerpt, published, first_seen, updated, content_hash, sources)"
        " VALUES (1, 'https://a.example/1', 'Atelier', ?, ?, '2022-01-05T00:00:00+00:00',"
        " '2022-01-05T00:00:00+00:00', '2022-01-05T00:00:00+00:00', 'h', 'a')",
        (summary, old_excerpt),
    )
    db.conn.execute("INSERT INTO items_fts (rowid, title, body) VALUES (1, 'Atelier', 'Un atelier')")
    db.conn.close()
    with Store.open(path) as store:
        item = store.item(1)
        assert item.excerpt == "Un atelier sur la chronobiologie des élèves."
        assert [i.id for i in store.items(search="chronobiologie")] == [1]
        assert [i.id for i in store.items(search="kit")] == [1]  # the whole text is searchable


def test_database_from_a_newer_curator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('curator', '9999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer curator"):
        Store.open(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"c\.db"):
        Store.open(path)


def test_sync_sources_adds_changes_and_disables(store: Store) -> None:
    result = store.sync_sources(
        [Source(id="a", url="https://a.example/feed", weight=2.0), Source(id="c", url="https://c.example/")],
        NOW,
    )
    assert result.added == ("c",) and result.changed == ("a",) and result.removed == ("b",)
    save_entries(store, "a", [entry("1")], NOW)
    store.sync_sources([Source(id="c", url="https://c.example/")], NOW)
    states = {s.id: s for s in store.sources(include_removed=True)}
    assert not states["a"].enabled and states["a"].status == "disabled"
    assert states["a"].disabled_reason == "removed from sources.yaml"
    assert store.count("items") == 1  # never deleted


def test_identity_update_and_cross_source_dedup(store: Store) -> None:
    r = save_entries(store, "a", [entry("g1", "Un", "https://x.example/1"), entry("g2", "Deux")], NOW)
    assert (r.new, r.updated) == (2, 0)
    r = save_entries(store, "a", [entry("g1", "Un", "https://x.example/1"), entry("g2", "Deux")], NOW)
    assert (r.new, r.updated) == (0, 0)
    later = NOW + timedelta(hours=1)
    r = save_entries(store, "a", [entry("g1", "Un (mis à jour)", "https://x.example/1")], later)
    assert (r.new, r.updated) == (0, 1)
    r = save_entries(store, "b", [entry("other-guid", "Un, ailleurs", "https://x.example/1")], later)
    assert (r.new, r.updated) == (0, 0)  # linked, but source "a" brought it first and owns its text
    items = {i.url: i for i in store.items()}
    assert items["https://x.example/1"].sources == ("a", "b")
    assert items["https://x.example/1"].title == "Un (mis à jour)"
    assert store.count("items") == 2
    for _ in range(2):  # fetching both again rewrites nothing
        ra = save_entries(store, "a", [entry("g1", "Un (mis à jour)", "https://x.example/1")], later)
        rb = save_entries(store, "b", [entry("other-guid", "Un, ailleurs", "https://x.example/1")], later)
        assert (ra.updated, rb.updated) == (0, 0)


def _saved(store: Store, source: str, entries: list[Entry], now: datetime) -> tuple[int, int]:
    r = save_entries(store, source, entries, now)
    return r.new, r.updated


def test_a_link_that_changes_to_the_url_of_a_new_entry_is_stored_without_failing(store: Store) -> None:
    """An entry's link corrected to the URL that another entry of the same fetch also has:
    the fetch must store, not fail on the unique URL (and roll the whole feed back every time).
    Two entries of one feed with one URL and distinct ids are two articles (issue 10)."""
    save_entries(store, "a", [entry("k1", "Premier", "https://x.example/old")], NOW)
    later = NOW + timedelta(hours=1)
    corrected = [
        entry("k1", "Premier (corrigé)", "https://x.example/new"),
        entry("k2", "Autre", "https://x.example/new"),
    ]
    assert _saved(store, "a", corrected, later) == (1, 1)
    assert sorted((i.title, i.url) for i in store.items()) == [
        ("Autre", "https://x.example/new"),
        ("Premier (corrigé)", "https://x.example/new"),
    ]
    assert _saved(store, "a", corrected, later) == (0, 0)  # and nothing flips on the next fetch
    twins = [entry("n1", "Nouveau", "https://y.example/1"), entry("n2", "Autre", "https://y.example/1")]
    assert _saved(store, "b", twins, later) == (2, 0)
    assert _saved(store, "b", twins, later) == (0, 0)
    assert store.count("items") == 4


def test_a_url_shared_within_one_feed_keys_its_entries_by_id_and_merges_nothing(store: Store) -> None:
    """A podcast's 100 episodes all linking to the show's page are 100 items; that page
    reached from another feed is not merged with any of them. The same article reached
    through two feeds, once in each, is still one item."""
    home = "https://podcast.example/"
    episodes = [entry(f"ep{n}", f"Épisode {n}", home) for n in range(100)]
    assert _saved(store, "a", episodes, NOW) == (100, 0)
    assert _saved(store, "a", episodes, NOW) == (0, 0)
    assert _saved(store, "b", [entry("elsewhere", "La page du podcast", home)], NOW) == (1, 0)
    assert store.count("items") == 101
    # Cross-feed merging of one article still works.
    assert _saved(store, "a", [*episodes, entry("art", "Article", "https://x.example/article")], NOW) == (
        1,
        0,
    )
    assert _saved(store, "b", [entry("other-id", "Article", "https://x.example/article")], NOW) == (0, 0)
    assert store.count("items") == 102
    (article,) = [i for i in store.items() if i.url == "https://x.example/article"]
    assert article.sources == ("a", "b")


def test_an_item_whose_url_becomes_shared_is_no_longer_a_merge_target(store: Store) -> None:
    page = "https://blog.example/journal-de-janvier"
    assert _saved(store, "a", [entry("u1", "Mise à jour 1", page)], NOW) == (1, 0)
    later = NOW + timedelta(hours=1)
    log = [entry("u1", "Mise à jour 1", page), entry("u2", "Mise à jour 2", page), entry("u3", "3", page)]
    assert _saved(store, "a", log, later) == (2, 0)
    assert _saved(store, "b", [entry("x", "Le journal", page)], later) == (1, 0)
    assert store.count("items") == 4


def test_a_url_given_up_by_an_item_is_free_for_a_new_entry(store: Store) -> None:
    """k1 moves from /old to /new while a new entry k3 is published at /old: two articles."""
    save_entries(store, "a", [entry("k1", "Premier", "https://x.example/old")], NOW)
    later = NOW + timedelta(hours=1)
    feed = [
        entry("k1", "Premier", "https://x.example/new"),
        entry("k3", "Troisième", "https://x.example/old"),
    ]
    assert _saved(store, "a", feed, later) == (1, 1)
    assert sorted((i.title, i.url) for i in store.items()) == [
        ("Premier", "https://x.example/new"),
        ("Troisième", "https://x.example/old"),
    ]
    assert _saved(store, "a", feed, later) == (0, 0)
    # The same when the new entry comes first in the feed: the stored entry moves first.
    save_entries(store, "b", [entry("m1", "Un", "https://z.example/old")], NOW)
    feed = [entry("m3", "Trois", "https://z.example/old"), entry("m1", "Un", "https://z.example/new")]
    assert _saved(store, "b", feed, later) == (1, 1)
    assert sorted((i.title, i.url) for i in store.items(source="b")) == [
        ("Trois", "https://z.example/old"),
        ("Un", "https://z.example/new"),
    ]
    assert _saved(store, "b", feed, later) == (0, 0)


def test_published_falls_back_to_first_seen(store: Store) -> None:
    save_entries(store, "a", [entry("1"), entry("2", published=datetime(2022, 1, 2, tzinfo=UTC))], NOW)
    by_key = {i.title: i for i in store.items()}
    undated = next(i for i in store.items() if i.published_estimated)
    assert undated.published == NOW
    assert not by_key["Titre"].published_estimated or by_key["Titre"].published == NOW


def test_search_ignores_accents_and_case(store: Store) -> None:
    save_entries(
        store,
        "a",
        [entry("1", "Education et numérique"), entry("2", "ÉDUCATION populaire"), entry("3", "Autre chose")],
        NOW,
    )
    assert {i.title for i in store.items(search="éducation")} == {
        "Education et numérique",
        "ÉDUCATION populaire",
    }
    assert {i.title for i in store.items(search="NUMERIQUE")} == {"Education et numérique"}
    assert store.items(search='"); DROP TABLE items; --') == []
    assert store.items(search="   ") == []


def test_items_month_window(store: Store) -> None:
    save_entries(
        store,
        "a",
        [
            entry("dec", "Décembre", published=datetime(2021, 12, 31, 23, 30, tzinfo=UTC)),
            entry("jan", "Janvier", published=datetime(2022, 1, 10, tzinfo=UTC)),
        ],
        NOW,
    )
    from zoneinfo import ZoneInfo

    from curator.models import Month

    paris = ZoneInfo("Europe/Paris")
    m = Month.parse("2022-01")
    # 2021-12-31 23:30 UTC is already January in Paris.
    assert {i.title for i in store.items(start=m.start(paris), end=m.end(paris))} == {"Décembre", "Janvier"}


def test_the_title_and_the_edito_have_versions_of_their_own(store: Store) -> None:
    """Migration 0012: each changes only its own version (and the issue's, which every change
    bumps); a stale field version is refused naming the field; a move leaves a pick's version."""
    jan = Month.parse("2022-01")
    issue = store.create_issue(jan, "Infolettre", NOW)
    assert (issue.version, issue.title_version, issue.edito_version) == (1, 1, 1)
    issue = store.update_issue(jan, NOW, field_versions={"edito": 1}, edito="Bonjour")
    assert (issue.version, issue.title_version, issue.edito_version) == (2, 1, 2)
    issue = store.update_issue(jan, NOW, field_versions={"title": 1}, title="Un titre")
    assert (issue.version, issue.title_version, issue.edito_version) == (3, 2, 2)
    with pytest.raises(StaleEdit) as caught:
        store.update_issue(jan, NOW, field_versions={"edito": 1}, edito="Trop tard")
    assert caught.value.field == "edito"
    assert store.issue(jan).edito == "Bonjour"  # type: ignore[union-attr]
    issue = store.update_issue(jan, NOW, state="published")
    assert (issue.version, issue.title_version, issue.edito_version) == (4, 2, 2)
    save_entries(
        store, "a", [entry("1", "Un", "https://a.example/1"), entry("2", "Deux", "https://a.example/2")], NOW
    )
    first, second = (i.id for i in sorted(store.items(), key=lambda i: i.id))
    store.place_pick(jan, "item", first, "veille", None, NOW)
    store.place_pick(jan, "item", second, "veille", None, NOW)
    moved = store.place_pick(jan, "item", second, "veille", 1, NOW)
    assert (moved.position, moved.version) == (1, 1)
