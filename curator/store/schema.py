"""The database schema: numbered migrations, applied in order when a store is opened.

Every table is created by a numbered migration in ``MIGRATIONS`` below. They run
automatically when a store is opened, each in its own transaction, so a database
made by an older version of curator upgrades in place without loss. Never edit a
migration that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..text import title_key
from .frozen import summary_texts_0007, title_key_0005

MIGRATIONS = Migrations("curator")


# --- schema -------------------------------------------------------------------


def _script(db: sqlite_utils.Database, sql: str) -> None:
    """Run several statements inside the migration's transaction (executescript would commit)."""
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {statement!r}")


@MIGRATIONS(name="0001_sources_and_items")
def _m0001(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- One row per source ever declared in sources.yaml. Removing a source
        -- from the file disables it (removed = 1); its items are kept.
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            section TEXT,
            lab TEXT,
            tags TEXT NOT NULL DEFAULT '[]',          -- JSON list of theme ids
            weight REAL NOT NULL DEFAULT 1.0,
            enabled INTEGER NOT NULL DEFAULT 1,       -- as configured
            removed INTEGER NOT NULL DEFAULT 0,       -- gone from sources.yaml
            gone INTEGER NOT NULL DEFAULT 0,          -- answered 410 Gone
            status TEXT NOT NULL DEFAULT 'new',       -- new, ok, unchanged, failed
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,                        -- sha256 of the last body parsed
            last_error TEXT,
            last_fetched TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_new_item TEXT,
            retry_after TEXT,                         -- do not fetch before this time
            moved_to TEXT,                            -- permanent redirect seen
            feed_title TEXT,
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- One row per article, whatever the number of sources it came through.
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            url TEXT UNIQUE,                          -- normalised; NULL when unsafe/absent
            title TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',         -- sanitised HTML
            excerpt TEXT NOT NULL DEFAULT '',         -- plain text, <= 300 characters
            author TEXT NOT NULL DEFAULT '',
            categories TEXT NOT NULL DEFAULT '[]',    -- JSON list
            published TEXT NOT NULL,
            published_estimated INTEGER NOT NULL DEFAULT 0,  -- no date in the feed
            first_seen TEXT NOT NULL,
            updated TEXT NOT NULL,
            content_hash TEXT NOT NULL
        );
        CREATE INDEX items_published ON items(published);

        -- Which source(s) an item came through, and under which entry key.
        CREATE TABLE item_sources (
            source_id TEXT NOT NULL REFERENCES sources(id),
            entry_key TEXT NOT NULL,
            item_id INTEGER NOT NULL REFERENCES items(id),
            first_seen TEXT NOT NULL,
            PRIMARY KEY (source_id, entry_key)
        ) WITHOUT ROWID;
        CREATE INDEX item_sources_item ON item_sources(item_id, first_seen);

        -- Full-text search, insensitive to case and accents.
        CREATE VIRTUAL TABLE items_fts USING fts5(
            title, body, tokenize = 'unicode61 remove_diacritics 2'
        );
        """,
    )


@MIGRATIONS(name="0002_reports_and_editors")
def _m0002(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- Experience reports submitted through the public form. The text is
        -- stored exactly as typed; it is rendered (Markdown, sanitised) on output.
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            submission_key TEXT NOT NULL UNIQUE,      -- one per form shown: a resent form is stored once
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected')),
            lab TEXT,                                 -- a lab id from sources.yaml, NULL if not listed
            lab_other TEXT NOT NULL DEFAULT '',       -- the lab's name, when not listed
            author_name TEXT NOT NULL,
            author_email TEXT NOT NULL,
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            body TEXT NOT NULL,                       -- Markdown
            link TEXT,
            tags TEXT NOT NULL DEFAULT '[]',          -- JSON list of theme ids
            license TEXT NOT NULL,
            submitted_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,       -- bumped by every change
            decided_at TEXT,
            decided_by TEXT,
            reject_reason TEXT
        );
        CREATE INDEX reports_status ON reports(status, submitted_at);

        -- What editors did to a report: who, when, and the fields changed as
        -- JSON {"field": {"old": ..., "new": ...}}.
        CREATE TABLE report_changes (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id),
            at TEXT NOT NULL,
            editor TEXT NOT NULL,
            action TEXT NOT NULL,                     -- edited, approved, rejected
            changes TEXT NOT NULL DEFAULT '{}',
            reason TEXT
        );
        CREATE INDEX report_changes_report ON report_changes(report_id, id);

        -- People who may log in to the editor area; passwords hashed with argon2id.
        CREATE TABLE editors (
            email TEXT PRIMARY KEY COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_login TEXT
        );

        -- Rate limits shared by every web worker: one row per counted event
        -- (a submission, a failed login) in a bucket such as 'submit:<hashed ip>'.
        CREATE TABLE rate_events (
            bucket TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX rate_events_bucket ON rate_events(bucket, at);
        CREATE INDEX rate_events_at ON rate_events(at);
        """,
    )


@MIGRATIONS(name="0003_issues_picks_events")
def _m0003(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- One infolettre per month. Every change bumps `version`, so an edit
        -- made from a stale page is refused instead of silently lost.
        CREATE TABLE issues (
            month TEXT PRIMARY KEY,                   -- YYYY-MM
            title TEXT NOT NULL,
            edito TEXT NOT NULL DEFAULT '',           -- Markdown
            state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published')),
            published_at TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- An item or a report placed in a section of an issue, at a position
        -- (1..n within the section), with an optional note and overrides.
        CREATE TABLE picks (
            id INTEGER PRIMARY KEY,
            month TEXT NOT NULL REFERENCES issues(month),
            section TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('item', 'report')),
            ref_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',            -- Markdown
            title TEXT,                               -- overrides, NULL = the original
            summary TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT,
            UNIQUE (month, kind, ref_id)
        );
        CREATE INDEX picks_section ON picks(month, section, position);
        CREATE INDEX picks_ref ON picks(kind, ref_id);

        -- The agenda of an issue.
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            month TEXT NOT NULL REFERENCES issues(month),
            title TEXT NOT NULL,
            starts_at TEXT NOT NULL,                  -- UTC
            ends_at TEXT,
            place TEXT NOT NULL DEFAULT '',
            video_url TEXT,
            description TEXT NOT NULL DEFAULT '',
            link TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX events_month ON events(month, starts_at);
        """,
    )


@MIGRATIONS(name="0004_sends")
def _m0004(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- Who received which issue by `curator send`: one row per (month, address),
        -- written as soon as the SMTP server accepted that copy, so that a rerun
        -- after a failure skips them. Proofs (--test) are not recorded.
        CREATE TABLE sends (
            month TEXT NOT NULL,                      -- YYYY-MM
            recipient TEXT NOT NULL COLLATE NOCASE,
            message_id TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (month, recipient)
        ) WITHOUT ROWID;
        """,
    )


@MIGRATIONS(name="0005_items_match_keys")
def _m0005(db: sqlite_utils.Database) -> None:
    # The title reduced to what identifies a story, and title + excerpt reduced
    # the same way (text.title_key: no accents, case or punctuation), stored so
    # that ranking and grouping thousands of candidates costs no text processing.
    db.conn.execute("ALTER TABLE items ADD COLUMN title_key TEXT NOT NULL DEFAULT ''")
    db.conn.execute("ALTER TABLE items ADD COLUMN match_text TEXT NOT NULL DEFAULT ''")
    rows = db.conn.execute("SELECT id, title, excerpt FROM items").fetchall()
    db.conn.executemany(
        "UPDATE items SET title_key = ?, match_text = ? WHERE id = ?",
        [(title_key_0005(t), f" {title_key_0005(t + ' ' + e)} ", i) for i, t, e in rows],
    )


_ITEM_SOURCES_OF = """(SELECT group_concat(source_id, char(31)) FROM
    (SELECT source_id FROM item_sources WHERE item_id = {id} GROUP BY source_id ORDER BY min(first_seen), source_id))"""


@MIGRATIONS(name="0006_items_sources")
def _m0006(db: sqlite_utils.Database) -> None:
    # Each item's source ids, first seen first, joined by U+001F: what every
    # list of items shows and what ranking candidates weighs, kept on the row
    # so that neither needs a subquery per item. save_entries, the only writer
    # of item_sources, writes it (one statement per shared item, none for a
    # new one); the trigger keeps it right if links are ever deleted.
    db.conn.execute("ALTER TABLE items ADD COLUMN sources TEXT")
    db.conn.execute(f"UPDATE items SET sources = {_ITEM_SOURCES_OF.format(id='items.id')}")
    _script(
        db,
        f"""
        CREATE TRIGGER item_sources_removed AFTER DELETE ON item_sources
        BEGIN
            UPDATE items SET sources = {_ITEM_SOURCES_OF.format(id="OLD.item_id")} WHERE id = OLD.item_id;
        END;
        """,
    )


@MIGRATIONS(name="0007_items_texts_from_summaries")
def _m0007(db: sqlite_utils.Database) -> None:
    # Search covered the title and the 300-character excerpt only, and excerpts kept the
    # words of trailing links (« Lire la suite »): both are made again from the stored
    # summaries, as fetching now makes them. (The entry hash does not change: no item
    # looks updated at the next fetch.)
    rows = db.conn.execute("SELECT id, title, summary FROM items").fetchall()
    items: list[tuple[str, str, int]] = []
    search: list[tuple[int, str, str]] = []
    for item_id, title, summary in rows:
        excerpt, text = summary_texts_0007(summary)
        items.append((excerpt, f" {title_key_0005(title + ' ' + excerpt)} ", item_id))
        search.append((item_id, title, text or excerpt))
    db.conn.executemany("UPDATE items SET excerpt = ?, match_text = ? WHERE id = ?", items)
    db.conn.executemany("DELETE FROM items_fts WHERE rowid = ?", [(i,) for i, _t, _b in search])
    db.conn.executemany("INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)", search)


def match_text(title: str, excerpt: str) -> str:
    """What keyword rules are matched against: `` word word … `` (see ``text.title_key``)."""
    return f" {title_key(title + ' ' + excerpt)} "


@MIGRATIONS(name="0008_items_shared_urls")
def _m0008(db: sqlite_utils.Database) -> None:
    # A URL that several entries of one feed share with distinct ids (a podcast whose
    # episodes all link to the show's page, a blog's monthly log page) identifies none
    # of them: such items are stored apart (url_shared = 1) and never merged by URL.
    # items.url loses its UNIQUE constraint for that; a partial unique index keeps it
    # for every other item, which is what merging the same article from two feeds needs.
    # SQLite cannot drop a constraint: items is rebuilt, with item_sources (which
    # references it) set aside and put back, and the trigger dropped meanwhile.
    #
    # Stores that already merged such entries are repaired at the next fetch: of the
    # links from one source to one item, only the first is kept, and that source's
    # conditional-GET state is cleared so its next fetch parses the feed again and
    # stores the entries whose links were dropped as items of their own.
    _script(
        db,
        """
        CREATE TEMP TABLE m0008_merged AS
            SELECT source_id, item_id, min(first_seen || char(31) || entry_key) AS keep
            FROM item_sources GROUP BY source_id, item_id HAVING count(*) > 1;
        CREATE TEMP TABLE m0008_links AS
            SELECT l.* FROM item_sources l
            WHERE NOT EXISTS (
                SELECT 1 FROM m0008_merged m
                WHERE m.source_id = l.source_id AND m.item_id = l.item_id
                  AND m.keep != l.first_seen || char(31) || l.entry_key);
        UPDATE sources SET etag = NULL, last_modified = NULL, content_hash = NULL
            WHERE id IN (SELECT source_id FROM m0008_merged);

        DROP TRIGGER item_sources_removed;
        DELETE FROM item_sources;
        CREATE TABLE items_new (
            id INTEGER PRIMARY KEY,
            url TEXT,                                 -- normalised; NULL when unsafe/absent
            url_shared INTEGER NOT NULL DEFAULT 0,    -- 1: several entries of its feed share this URL
            title TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',         -- sanitised HTML
            excerpt TEXT NOT NULL DEFAULT '',         -- plain text, <= 300 characters
            author TEXT NOT NULL DEFAULT '',
            categories TEXT NOT NULL DEFAULT '[]',    -- JSON list
            published TEXT NOT NULL,
            published_estimated INTEGER NOT NULL DEFAULT 0,  -- no date in the feed
            first_seen TEXT NOT NULL,
            updated TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            title_key TEXT NOT NULL DEFAULT '',
            match_text TEXT NOT NULL DEFAULT '',
            sources TEXT                              -- source ids, first seen first, joined by U+001F
        );
        INSERT INTO items_new (id, url, title, summary, excerpt, author, categories, published,
                               published_estimated, first_seen, updated, content_hash, title_key,
                               match_text, sources)
            SELECT id, url, title, summary, excerpt, author, categories, published,
                   published_estimated, first_seen, updated, content_hash, title_key,
                   match_text, sources
            FROM items;
        DROP TABLE items;
        ALTER TABLE items_new RENAME TO items;
        CREATE INDEX items_published ON items(published);
        CREATE INDEX items_url ON items(url);
        CREATE UNIQUE INDEX items_url_unique ON items(url) WHERE url_shared = 0;

        INSERT INTO item_sources SELECT * FROM m0008_links;
        DROP TABLE m0008_links;
        DROP TABLE m0008_merged;
        CREATE TRIGGER item_sources_removed AFTER DELETE ON item_sources
        BEGIN
            UPDATE items SET sources = (SELECT group_concat(source_id, char(31)) FROM
                (SELECT source_id FROM item_sources WHERE item_id = OLD.item_id
                 GROUP BY source_id ORDER BY min(first_seen), source_id))
            WHERE id = OLD.item_id;
        END;
        UPDATE items SET sources = (SELECT group_concat(source_id, char(31)) FROM
                (SELECT source_id FROM item_sources WHERE item_id = items.id
                 GROUP BY source_id ORDER BY min(first_seen), source_id))
            WHERE id IN (SELECT item_id FROM item_sources);
        """,
    )


@MIGRATIONS(name="0009_editor_sessions")
def _m0009(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- One row per logged-in browser. The cookie holds a random token; only its
        -- sha256 is stored. Logging out deletes the row, a password change or the
        -- removal of the editor deletes all of the editor's rows, so a copied
        -- cookie stops working at once. Sessions end after an idle time (last_seen)
        -- and after an absolute lifetime (created_at), whatever their use.
        CREATE TABLE editor_sessions (
            id TEXT PRIMARY KEY,                      -- sha256 of the token in the cookie
            email TEXT NOT NULL COLLATE NOCASE REFERENCES editors(email) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            ip TEXT NOT NULL DEFAULT ''               -- hashed, like rate_events buckets
        );
        CREATE INDEX editor_sessions_email ON editor_sessions(email);
        """,
    )


@MIGRATIONS(name="0010_link_checks")
def _m0010(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- The pre-publication checklist checks every link of an issue once, politely,
        -- and keeps the outcome here so that the issue page does not check them again
        -- at every view.
        CREATE TABLE link_checks (
            url TEXT PRIMARY KEY,
            ok INTEGER NOT NULL,                      -- 1: the link works
            status INTEGER,                           -- the HTTP status, NULL when none came
            error TEXT,                               -- why it failed, in a few words
            checked_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    )


@MIGRATIONS(name="0011_send_jobs")
def _m0011(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- A send to the list started from the editor area: it runs in the background,
        -- with the same resumable engine and the same records (sends) as `curator send`.
        -- One job at most runs per month, so a second click never sends twice.
        CREATE TABLE send_jobs (
            id INTEGER PRIMARY KEY,
            month TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'running'
                CHECK (state IN ('running', 'done', 'stopped', 'failed')),
            total INTEGER NOT NULL DEFAULT 0,         -- recipients to serve
            sent INTEGER NOT NULL DEFAULT 0,
            refused INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,       -- already served by an earlier run
            error TEXT,
            started_by TEXT NOT NULL,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE UNIQUE INDEX send_jobs_one_running ON send_jobs(month) WHERE state = 'running';
        """,
    )


@MIGRATIONS(name="0012_issue_field_versions")
def _m0012(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- Versions per thing, not per issue: a change to the édito never conflicts
        -- with a move of a pick, nor the title with a pick's note. Picks already carry
        -- their own version; the issue's title and édito get theirs.
        ALTER TABLE issues ADD COLUMN title_version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE issues ADD COLUMN edito_version INTEGER NOT NULL DEFAULT 1;
        """,
    )


@MIGRATIONS(name="0013_sources_moved_count")
def _m0013(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- How many fetches in a row were permanently redirected (301, 308) to moved_to:
        -- `curator sources apply-redirects` writes a redirect into sources.yaml only once
        -- two fetches in a row have seen it, so that one misconfigured answer moves nothing.
        ALTER TABLE sources ADD COLUMN moved_count INTEGER NOT NULL DEFAULT 0;
        -- A redirect recorded before this count existed was seen at least once.
        UPDATE sources SET moved_count = 1 WHERE moved_to IS NOT NULL;
        """,
    )


@MIGRATIONS(name="0014_lab_cards")
def _m0014(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        -- A lab's identity card (« fiche d'identité »): what the lab says of itself. The list of
        -- labs (id, name, académie, city, website) stays in sources.yaml; a lab without a row
        -- here has an empty card. The row id names the card in picks (kind 'lab').
        CREATE TABLE lab_cards (
            id INTEGER PRIMARY KEY,
            lab TEXT NOT NULL UNIQUE,                 -- the lab's id in sources.yaml
            has_place INTEGER,                        -- 1 yes, 0 no, NULL not said
            place TEXT NOT NULL DEFAULT '',
            innovation_types TEXT NOT NULL DEFAULT '[]',  -- JSON list of vocabulary term ids
            service_offer TEXT NOT NULL DEFAULT '',   -- Markdown
            stage TEXT NOT NULL DEFAULT ''
                CHECK (stage IN ('', 'prefiguration', 'lancement', 'actif')),
            team TEXT NOT NULL DEFAULT '',
            contact_email TEXT NOT NULL DEFAULT '',
            contact_public INTEGER NOT NULL DEFAULT 0,   -- the lab agrees to show its address
            feed TEXT,                                -- a source id; NULL: the lab's source, if any
            version INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT,
            updated_by TEXT
        );

        -- The history of each card: who changed which fields, old and new values, and how.
        CREATE TABLE lab_card_changes (
            id INTEGER PRIMARY KEY,
            lab TEXT NOT NULL,
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            origin TEXT NOT NULL,                     -- editor, cli, proposal, demo
            changes TEXT NOT NULL,                    -- JSON {field: {old, new}}
            proposal_id INTEGER REFERENCES lab_proposals(id)
        );
        CREATE INDEX lab_card_changes_lab ON lab_card_changes(lab, at);

        -- A change to a card sent through the public form (/contribuer/lab), waiting for an
        -- editor. It keeps the whole card as proposed and as the form showed it (base), so
        -- that an editor sees what the lab changed even if the card moved since.
        CREATE TABLE lab_proposals (
            id INTEGER PRIMARY KEY,
            submission_key TEXT NOT NULL UNIQUE,      -- one display of the form + a content hash
            lab TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected')),
            proposed TEXT NOT NULL,                   -- JSON: the card's fields as proposed
            base TEXT NOT NULL,                       -- JSON: the card's fields as the form showed them
            author_name TEXT NOT NULL,
            author_email TEXT NOT NULL,
            submitted_at TEXT NOT NULL,
            decided_at TEXT,
            decided_by TEXT,
            reject_reason TEXT
        );
        CREATE INDEX lab_proposals_status ON lab_proposals(status, submitted_at);

        -- Picks may now be a lab's card (a « Portrait de lab »): SQLite cannot change a CHECK
        -- constraint in place, so the table is rebuilt with the same rows.
        CREATE TABLE picks_new (
            id INTEGER PRIMARY KEY,
            month TEXT NOT NULL REFERENCES issues(month),
            section TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('item', 'report', 'lab')),
            ref_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',            -- Markdown
            title TEXT,                               -- overrides, NULL = the original
            summary TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT,
            UNIQUE (month, kind, ref_id)
        );
        INSERT INTO picks_new SELECT id, month, section, kind, ref_id, position, note, title, summary,
            version, created_at, updated_at, updated_by FROM picks;
        DROP TABLE picks;
        ALTER TABLE picks_new RENAME TO picks;
        CREATE INDEX picks_section ON picks(month, section, position);
        CREATE INDEX picks_ref ON picks(kind, ref_id);
        """,
    )
