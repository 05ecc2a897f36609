"""The only module that speaks SQL: schema, numbered migrations and typed queries.

Every table is created by a numbered migration in ``MIGRATIONS`` below. They run
automatically when a store is opened, each in its own transaction, so a database
made by an older version of curator upgrades in place without loss. Never edit a
migration that has shipped: add a new one.

Times are stored as ISO 8601 text in UTC (``2022-01-05T09:30:00+00:00``), which
sorts as it reads.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .curate import make_ref, title_key
from .errors import ConflictError, NotFoundError, StoreError
from .models import Editor, Entry, Event, Issue, Item, Month, Pick, Report, ReportChange, Source, SourceState

MIGRATIONS = Migrations("curator")
MMAP_SIZE = 256 * 1024 * 1024  # bytes of the database file read through a memory map


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
    # the same way (curate.title_key: no accents, case or punctuation), stored so
    # that ranking and grouping thousands of candidates costs no text processing.
    db.conn.execute("ALTER TABLE items ADD COLUMN title_key TEXT NOT NULL DEFAULT ''")
    db.conn.execute("ALTER TABLE items ADD COLUMN match_text TEXT NOT NULL DEFAULT ''")
    rows = db.conn.execute("SELECT id, title, excerpt FROM items").fetchall()
    db.conn.executemany(
        "UPDATE items SET title_key = ?, match_text = ? WHERE id = ?",
        [(title_key(t), match_text(t, e), i) for i, t, e in rows],
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


def match_text(title: str, excerpt: str) -> str:
    """What keyword rules are matched against: `` word word … `` (see ``curate.title_key``)."""
    return f" {title_key(title + ' ' + excerpt)} "


# --- helpers ------------------------------------------------------------------


def iso(dt: datetime | None) -> str | None:
    """An aware datetime as the UTC text stored in the database."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _required_dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query: every word, as a prefix."""
    words = _FTS_TOKEN.findall(text)
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def entry_hash(entry: Entry) -> str:
    """A fingerprint of what an entry shows, to tell a real update from a refetch."""
    h = hashlib.sha256()
    for part in (
        entry.url or "",
        entry.title,
        entry.summary,
        entry.author,
        "\x1f".join(entry.categories),
        iso(entry.published) or "",
        iso(entry.updated) or "",
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True)
class SyncResult:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class SaveResult:
    new: int
    updated: int


# --- the store ----------------------------------------------------------------


class Store:
    """A curator database. Open with ``Store.open(path)``; one per thread."""

    def __init__(self, db: sqlite_utils.Database, path: str) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.path = path
        self._depth = 0
        self._lock = threading.RLock()

    # opening and transactions

    @classmethod
    def open(cls, path: str | Path, *, migrate: bool = True) -> Store:
        path = str(path)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"{path}: cannot switch the database to WAL mode")
            conn.execute("PRAGMA synchronous = NORMAL")
            # Read pages through a memory map rather than a read() call each:
            # ranking a month's candidates touches thousands of scattered rows.
            conn.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path}: cannot open the database ({exc}); check the path given with --db"
            ) from None
        store = cls(sqlite_utils.Database(conn), path)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        try:
            known = {m.name for m in MIGRATIONS._migrations}
            applied = {m.name for m in MIGRATIONS.applied(self.db)}
            unknown = applied - known
            if unknown:
                raise StoreError(
                    f"{self.path}: this database was made by a newer curator "
                    f"(migrations {', '.join(sorted(unknown))}); upgrade curator"
                )
            if MIGRATIONS.pending(self.db):
                # BEGIN IMMEDIATE: two processes opening a new database at once
                # cannot both apply the same migration.
                with self.write():
                    MIGRATIONS.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable curator database ({exc})") from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[Store]:
        """One write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description or ()]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    # sources

    def sync_sources(self, sources: Iterable[Source], now: datetime) -> SyncResult:
        """Make the sources table match the configuration; never deletes items."""
        wanted = {s.id: s for s in sources}
        added: list[str] = []
        changed: list[str] = []
        removed: list[str] = []
        with self.write():
            existing = {r["id"]: r for r in self._rows("SELECT * FROM sources")}
            for sid, src in wanted.items():
                row = existing.get(sid)
                values = {
                    "id": sid,
                    "url": src.url,
                    "title": src.title,
                    "section": src.section,
                    "lab": src.lab,
                    "tags": json.dumps(list(src.tags), ensure_ascii=False),
                    "weight": src.weight,
                    "enabled": int(src.enabled),
                    "removed": 0,
                    "updated_at": iso(now),
                }
                if row is None:
                    values["added_at"] = iso(now)
                    self.db.table("sources").insert(values)
                    added.append(sid)
                    continue
                differs = any(row[k] != v for k, v in values.items() if k != "updated_at")
                if not differs:
                    continue
                if row["url"] != src.url:
                    # A new address: forget what the old one told us.
                    values.update(
                        etag=None,
                        last_modified=None,
                        content_hash=None,
                        gone=0,
                        moved_to=None,
                        retry_after=None,
                        consecutive_failures=0,
                    )
                self.db.table("sources").update(sid, values)
                changed.append(sid)
            for sid, row in existing.items():
                if sid not in wanted and not row["removed"]:
                    self.db.table("sources").update(sid, {"removed": 1, "updated_at": iso(now)})
                    removed.append(sid)
        return SyncResult(tuple(added), tuple(changed), tuple(removed))

    def _source_state(self, row: dict[str, Any]) -> SourceState:
        active = row["enabled"] and not row["removed"] and not row["gone"]
        status = row["status"] if active else "disabled"
        if row["removed"]:
            reason = "removed from sources.yaml"
        elif row["gone"]:
            reason = "the server answered 410 Gone: remove it or change its url"
        elif not row["enabled"]:
            reason = "enabled: false in sources.yaml"
        else:
            reason = None
        return SourceState(
            id=row["id"],
            url=row["url"],
            title=row["title"] or row["feed_title"] or "",
            section=row["section"],
            lab=row["lab"],
            tags=tuple(json.loads(row["tags"])),
            weight=row["weight"],
            enabled=bool(active),
            status=status,
            etag=row["etag"],
            last_modified=row["last_modified"],
            content_hash=row["content_hash"],
            last_error=row["last_error"],
            last_fetched=from_iso(row["last_fetched"]),
            consecutive_failures=row["consecutive_failures"],
            last_new_item=from_iso(row["last_new_item"]),
            retry_after=from_iso(row["retry_after"]),
            moved_to=row["moved_to"],
            disabled_reason=reason,
            items=row.get("n_items", 0) or 0,
        )

    def sources(self, *, include_removed: bool = False) -> list[SourceState]:
        where = "" if include_removed else "WHERE s.removed = 0"
        rows = self._rows(
            f"""SELECT s.*, (SELECT count(*) FROM item_sources i WHERE i.source_id = s.id) AS n_items
                FROM sources s {where} ORDER BY s.id"""
        )
        return [self._source_state(r) for r in rows]

    def source(self, source_id: str) -> SourceState:
        rows = self._rows(
            """SELECT s.*, (SELECT count(*) FROM item_sources i WHERE i.source_id = s.id) AS n_items
               FROM sources s WHERE s.id = ?""",
            [source_id],
        )
        if not rows:
            raise NotFoundError(f"no source {source_id!r}: see `curator sources`")
        return self._source_state(rows[0])

    def record_fetch(
        self,
        source_id: str,
        *,
        status: str,
        now: datetime,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        content_hash: str | None = None,
        retry_after: datetime | None = None,
        moved_to: str | None = None,
        gone: bool = False,
        feed_title: str | None = None,
        new_items: int = 0,
    ) -> None:
        """Record the outcome of one fetch of a source (status: ok, unchanged, failed)."""
        sets: dict[str, Any] = {
            "status": status,
            "last_fetched": iso(now),
            "last_error": error,
            "retry_after": iso(retry_after),
            "updated_at": iso(now),
        }
        if status == "failed":
            sql_fail = "consecutive_failures = consecutive_failures + 1"
        else:
            sql_fail = "consecutive_failures = 0"
        if etag is not None or status == "ok":
            sets["etag"] = etag
        if last_modified is not None or status == "ok":
            sets["last_modified"] = last_modified
        if content_hash is not None:
            sets["content_hash"] = content_hash
        if moved_to is not None:
            sets["moved_to"] = moved_to
        if gone:
            sets["gone"] = 1
        if feed_title:
            sets["feed_title"] = feed_title
        if new_items:
            sets["last_new_item"] = iso(now)
        assignments = ", ".join(f"{k} = :{k}" for k in sets)
        with self.write():
            cur = self.conn.execute(
                f"UPDATE sources SET {assignments}, {sql_fail} WHERE id = :id",
                {**sets, "id": source_id},
            )
            if cur.rowcount != 1:
                raise NotFoundError(f"no source {source_id!r}")

    # items

    def save_entries(self, source_id: str, entries: Sequence[Entry], now: datetime) -> SaveResult:
        """Store a source's entries: new ones added, changed ones updated, none duplicated.

        An entry is matched first by (source, entry key), then by normalised URL,
        so that the same article reached through two sources is stored once.
        """
        if not entries:
            return SaveResult(0, 0)
        now_s = iso(now)
        assert now_s is not None
        new = updated = 0
        with self.write():
            keys = [e.key for e in entries]
            known: dict[str, int] = {}
            for chunk in _chunks(keys, 500):
                marks = ",".join("?" * len(chunk))
                for key, item_id in self.conn.execute(
                    f"SELECT entry_key, item_id FROM item_sources WHERE source_id = ? AND entry_key IN ({marks})",
                    [source_id, *chunk],
                ):
                    known[key] = item_id
            urls = [e.url for e in entries if e.url and e.key not in known]
            by_url: dict[str, tuple[int, str]] = {}
            for chunk in _chunks(urls, 500):
                marks = ",".join("?" * len(chunk))
                for url, item_id, h in self.conn.execute(
                    f"SELECT url, id, content_hash FROM items WHERE url IN ({marks})", chunk
                ):
                    by_url[url] = (item_id, h)
            hashes: dict[int, str] = {}
            ids = list(known.values())
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for item_id, h in self.conn.execute(
                    f"SELECT id, content_hash FROM items WHERE id IN ({marks})", chunk
                ):
                    hashes[item_id] = h

            # New items get their ids here (max + 1, as SQLite would: this
            # transaction holds the write lock), so that they are written with
            # one executemany per table rather than three statements each.
            next_id = int(self.conn.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0]) + 1
            new_rows: list[tuple[Any, ...]] = []
            links: list[tuple[Any, ...]] = []
            texts: list[tuple[Any, ...]] = []
            shared: list[tuple[int]] = []  # existing items linked to this source

            def flush() -> None:
                self.conn.executemany(
                    """INSERT INTO items (id, url, title, summary, excerpt, author, categories, published,
                           published_estimated, first_seen, updated, content_hash, title_key, match_text,
                           sources)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    new_rows,
                )
                self.conn.executemany(
                    "INSERT OR IGNORE INTO item_sources (source_id, entry_key, item_id, first_seen) VALUES (?, ?, ?, ?)",
                    links,
                )
                self.conn.executemany("INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)", texts)
                self.conn.executemany(
                    f"UPDATE items SET sources = {_ITEM_SOURCES_OF.format(id='?1')} WHERE id = ?1", shared
                )
                new_rows.clear()
                links.clear()
                texts.clear()
                shared.clear()

            seen_keys: set[str] = set()
            for e in entries:
                if e.key in seen_keys:  # the same entry twice in one feed
                    continue
                seen_keys.add(e.key)
                h = entry_hash(e)
                item_id = known.get(e.key)
                if item_id is None and e.url and e.url in by_url:
                    item_id, old_hash = by_url[e.url]
                    hashes[item_id] = old_hash
                    links.append((source_id, e.key, item_id, now_s))
                    shared.append((item_id,))
                    known[e.key] = item_id
                if item_id is None:
                    item_id = next_id
                    next_id += 1
                    published = iso(e.published) or now_s
                    new_rows.append(
                        (
                            item_id,
                            e.url,
                            e.title,
                            e.summary,
                            e.excerpt,
                            e.author,
                            json.dumps(list(e.categories), ensure_ascii=False),
                            published,
                            int(e.published is None),
                            now_s,
                            iso(e.updated) or published,
                            h,
                            title_key(e.title),
                            match_text(e.title, e.excerpt),
                            source_id,
                        )
                    )
                    links.append((source_id, e.key, item_id, now_s))
                    texts.append((item_id, e.title, e.text or e.excerpt))
                    if e.url:
                        by_url[e.url] = (item_id, h)
                    known[e.key] = item_id
                    hashes[item_id] = h
                    new += 1
                elif hashes.get(item_id) != h:
                    flush()  # the row to update may be one written by this call
                    if self._owner(item_id) not in (None, source_id):
                        # An article shared with another source: the source that brought it
                        # first owns what it shows, or each fetch would rewrite it in turn.
                        continue
                    self._update_item(item_id, e, h, now_s)
                    hashes[item_id] = h
                    updated += 1
            flush()
        return SaveResult(new, updated)

    def _owner(self, item_id: int) -> str | None:
        row = self.conn.execute("SELECT sources FROM items WHERE id = ?", (item_id,)).fetchone()
        return str(row[0]).split("\x1f")[0] if row and row[0] else None

    def _update_item(self, item_id: int, e: Entry, h: str, now_s: str) -> None:
        sets = (
            "title = ?, summary = ?, excerpt = ?, author = ?, categories = ?, updated = ?, content_hash = ?"
            ", title_key = ?, match_text = ?"
        )
        params: list[Any] = [
            e.title,
            e.summary,
            e.excerpt,
            e.author,
            json.dumps(list(e.categories), ensure_ascii=False),
            iso(e.updated) or now_s,
            h,
            title_key(e.title),
            match_text(e.title, e.excerpt),
        ]
        if e.published is not None:
            sets += ", published = ?, published_estimated = 0"
            params.append(iso(e.published))
        if e.url:
            # Keep the URL unless another item already owns it.
            sets += ", url = coalesce((SELECT ? WHERE NOT EXISTS (SELECT 1 FROM items WHERE url = ? AND id != ?)), url)"
            params += [e.url, e.url, item_id]
        self.conn.execute(f"UPDATE items SET {sets} WHERE id = ?", [*params, item_id])
        self.conn.execute("DELETE FROM items_fts WHERE rowid = ?", (item_id,))
        self.conn.execute(
            "INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)",
            (item_id, e.title, e.text or e.excerpt),
        )

    def _item(self, row: dict[str, Any]) -> Item:
        return Item(
            id=row["id"],
            url=row["url"],
            title=row["title"],
            summary=row["summary"],
            excerpt=row["excerpt"],
            author=row["author"],
            categories=tuple(json.loads(row["categories"])),
            published=_required_dt(row["published"]),
            published_estimated=bool(row["published_estimated"]),
            first_seen=_required_dt(row["first_seen"]),
            updated=_required_dt(row["updated"]),
            sources=tuple(row["sources"].split("\x1f")) if row.get("sources") else (),
        )

    _ITEM_SELECT = "SELECT items.* FROM items"

    def items(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        source: str | None = None,
        search: str | None = None,
        limit: int | None = None,
    ) -> list[Item]:
        """Items newest first, filtered by published time [start, end), source and text."""
        where: list[str] = []
        params: list[Any] = []
        if start is not None:
            where.append("items.published >= ?")
            params.append(iso(start))
        if end is not None:
            where.append("items.published < ?")
            params.append(iso(end))
        if source is not None:
            where.append("items.id IN (SELECT item_id FROM item_sources WHERE source_id = ?)")
            params.append(source)
        if search is not None:
            q = fts_query(search)
            if q is None:
                return []
            where.append("items.id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            params.append(q)
        sql = self._ITEM_SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY items.published DESC, items.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._item(r) for r in self._rows(sql, params)]

    def item(self, item_id: int) -> Item:
        rows = self._rows(self._ITEM_SELECT + " WHERE items.id = ?", [item_id])
        if not rows:
            raise NotFoundError(f"no item {item_id}: see `curator items`")
        return self._item(rows[0])

    def count(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    # --- reports and editors ----------------------------------------------------

    _REPORT_CHANGEABLE = frozenset(
        {"lab", "lab_other", "title", "summary", "body", "link", "tags", "status", "reject_reason"}
    )

    @staticmethod
    def _report(row: dict[str, Any]) -> Report:
        return Report(
            id=row["id"],
            status=row["status"],
            lab=row["lab"],
            lab_other=row["lab_other"],
            author_name=row["author_name"],
            author_email=row["author_email"],
            title=row["title"],
            summary=row["summary"],
            body=row["body"],
            link=row["link"],
            tags=tuple(json.loads(row["tags"])),
            license=row["license"],
            submitted_at=_required_dt(row["submitted_at"]),
            updated_at=_required_dt(row["updated_at"]),
            version=row["version"],
            decided_at=from_iso(row["decided_at"]),
            decided_by=row["decided_by"],
            reject_reason=row["reject_reason"],
        )

    def add_report(
        self,
        *,
        submission_key: str,
        lab: str | None,
        lab_other: str,
        author_name: str,
        author_email: str,
        title: str,
        summary: str,
        body: str,
        link: str | None,
        tags: Sequence[str],
        license: str,
        now: datetime,
    ) -> tuple[int, bool]:
        """Store a new pending report: (its id, True), or (the id stored before, False) for a known key."""
        with self.write():
            cur = self.conn.execute(
                """INSERT INTO reports (submission_key, lab, lab_other, author_name, author_email, title, summary,
                       body, link, tags, license, submitted_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (submission_key) DO NOTHING""",
                (
                    submission_key,
                    lab,
                    lab_other,
                    author_name,
                    author_email,
                    title,
                    summary,
                    body,
                    link,
                    json.dumps(list(tags), ensure_ascii=False),
                    license,
                    iso(now),
                    iso(now),
                ),
            )
            if cur.rowcount == 1:
                return int(cur.lastrowid or 0), True
            row = self.conn.execute(
                "SELECT id FROM reports WHERE submission_key = ?", (submission_key,)
            ).fetchone()
            return int(row[0]), False

    def report(self, report_id: int) -> Report:
        rows = self._rows("SELECT * FROM reports WHERE id = ?", [report_id])
        if not rows:
            raise NotFoundError(f"no report {report_id}: see `curator reports`")
        return self._report(rows[0])

    def reports(
        self, *, status: str | None = None, ids: Iterable[int] | None = None, limit: int | None = None
    ) -> list[Report]:
        """Reports newest first, optionally only those with ``status`` or among ``ids``."""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if ids is not None:
            wanted = [int(i) for i in ids]
            if not wanted:
                return []
            where.append("id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(wanted))
        sql = "SELECT * FROM reports"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY submitted_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._report(r) for r in self._rows(sql, params)]

    def report_counts(self) -> dict[str, int]:
        """How many reports there are in each status (every status present, zero included)."""
        counts = {"pending": 0, "approved": 0, "rejected": 0}
        for status, n in self.conn.execute("SELECT status, count(*) FROM reports GROUP BY status"):
            counts[status] = n
        return counts

    def change_report(
        self,
        report_id: int,
        values: dict[str, Any],
        *,
        editor: str,
        action: str,
        now: datetime,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> tuple[Report, ReportChange | None]:
        """Change a report and record who changed what in its history, in one transaction.

        Only the fields that really change are written and recorded; with none,
        nothing is written and the change returned is None. A status change
        records the decision (``decided_at``, ``decided_by``). A stale
        ``expected_version`` raises ConflictError.
        """
        unknown = set(values) - self._REPORT_CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a report")
        with self.write():
            rows = self._rows("SELECT * FROM reports WHERE id = ?", [report_id])
            if not rows:
                raise NotFoundError(f"no report {report_id}: see `curator reports`")
            row = rows[0]
            if expected_version is not None and row["version"] != expected_version:
                raise ConflictError(
                    f"report {report_id} was changed by someone else in the meantime: reload it and try again"
                )
            diff: dict[str, dict[str, Any]] = {}
            for key, new in values.items():
                old = json.loads(row[key]) if key == "tags" else row[key]
                new = list(new) if key == "tags" else new
                if old != new:
                    diff[key] = {"old": old, "new": new}
            if not diff:
                return self._report(row), None
            sets = {
                k: json.dumps(d["new"], ensure_ascii=False) if k == "tags" else d["new"]
                for k, d in diff.items()
            }
            if "status" in diff:
                sets.update(decided_at=iso(now), decided_by=editor)
            assignments = "".join(f", {k} = :{k}" for k in sets)
            self.conn.execute(
                f"UPDATE reports SET version = version + 1, updated_at = :now{assignments} WHERE id = :id",
                {**sets, "now": iso(now), "id": report_id},
            )
            cur = self.conn.execute(
                "INSERT INTO report_changes (report_id, at, editor, action, changes, reason) VALUES (?, ?, ?, ?, ?, ?)",
                (report_id, iso(now), editor, action, json.dumps(diff, ensure_ascii=False), reason),
            )
            change = ReportChange(
                id=int(cur.lastrowid or 0),
                report_id=report_id,
                at=now.astimezone(UTC).replace(microsecond=0),
                editor=editor,
                action=action,
                changes=diff,
                reason=reason,
            )
            return self.report(report_id), change

    def report_changes(self, report_id: int) -> list[ReportChange]:
        """A report's history, oldest first."""
        rows = self._rows("SELECT * FROM report_changes WHERE report_id = ? ORDER BY id", [report_id])
        return [
            ReportChange(
                id=r["id"],
                report_id=r["report_id"],
                at=_required_dt(r["at"]),
                editor=r["editor"],
                action=r["action"],
                changes=json.loads(r["changes"]),
                reason=r["reason"],
            )
            for r in rows
        ]

    @staticmethod
    def _editor(row: dict[str, Any]) -> Editor:
        return Editor(
            email=row["email"],
            created_at=_required_dt(row["created_at"]),
            last_login=from_iso(row["last_login"]),
        )

    def add_editor(self, email: str, password_hash: str, now: datetime) -> bool:
        """Create an editor; False (and nothing changed) if the email is already known."""
        with self.write():
            cur = self.conn.execute(
                "INSERT INTO editors (email, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (email, password_hash, iso(now)),
            )
            return cur.rowcount == 1

    def set_editor_password(self, email: str, password_hash: str) -> bool:
        with self.write():
            cur = self.conn.execute(
                "UPDATE editors SET password_hash = ? WHERE email = ?", (password_hash, email)
            )
            return cur.rowcount == 1

    def editor(self, email: str) -> Editor | None:
        rows = self._rows("SELECT * FROM editors WHERE email = ?", [email])
        return self._editor(rows[0]) if rows else None

    def editor_password_hash(self, email: str) -> str | None:
        row = self.conn.execute("SELECT password_hash FROM editors WHERE email = ?", (email,)).fetchone()
        return str(row[0]) if row else None

    def editors(self) -> list[Editor]:
        return [self._editor(r) for r in self._rows("SELECT * FROM editors ORDER BY email")]

    def remove_editor(self, email: str) -> bool:
        with self.write():
            return self.conn.execute("DELETE FROM editors WHERE email = ?", (email,)).rowcount == 1

    def record_editor_login(self, email: str, now: datetime) -> None:
        with self.write():
            self.conn.execute("UPDATE editors SET last_login = ? WHERE email = ?", (iso(now), email))

    def rate_count(self, bucket: str, since: datetime) -> int:
        """How many events ``bucket`` has had since ``since``."""
        return int(
            self.conn.execute(
                "SELECT count(*) FROM rate_events WHERE bucket = ? AND at >= ?", (bucket, iso(since))
            ).fetchone()[0]
        )

    def rate_take(self, bucket: str, *, limit: int, since: datetime, now: datetime) -> bool:
        """Record one event in ``bucket`` unless it already had ``limit`` since ``since`` (atomic)."""
        with self.write():
            # Forget what no limit can still need (windows are at most a day).
            self.conn.execute("DELETE FROM rate_events WHERE at < ?", (iso(now - timedelta(days=1)),))
            if self.rate_count(bucket, since) >= limit:
                return False
            self.conn.execute("INSERT INTO rate_events (bucket, at) VALUES (?, ?)", (bucket, iso(now)))
            return True

    def rate_clear(self, bucket: str) -> None:
        with self.write():
            self.conn.execute("DELETE FROM rate_events WHERE bucket = ?", (bucket,))

    # --- issues, picks and events ---------------------------------------------

    def _issue(self, row: dict[str, Any]) -> Issue:
        return Issue(
            month=Month.parse(row["month"]),
            title=row["title"],
            edito=row["edito"],
            state=row["state"],
            published_at=from_iso(row["published_at"]),
            version=row["version"],
            created_at=_required_dt(row["created_at"]),
            updated_at=_required_dt(row["updated_at"]),
        )

    def issue(self, month: Month) -> Issue | None:
        rows = self._rows("SELECT * FROM issues WHERE month = ?", [str(month)])
        return self._issue(rows[0]) if rows else None

    def issues(self, *, state: str | None = None) -> list[Issue]:
        sql, params = "SELECT * FROM issues", []
        if state:
            sql += " WHERE state = ?"
            params.append(state)
        return [self._issue(r) for r in self._rows(sql + " ORDER BY month DESC", params)]

    def create_issue(self, month: Month, title: str, now: datetime) -> Issue:
        with self.write():
            self.conn.execute(
                "INSERT OR IGNORE INTO issues (month, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (str(month), title, iso(now), iso(now)),
            )
        issue = self.issue(month)
        assert issue is not None
        return issue

    def update_issue(
        self, month: Month, now: datetime, *, expected_version: int | None = None, **values: Any
    ) -> Issue:
        """Change an issue's title, edito, state or published_at; bumps its version."""
        allowed = {"title", "edito", "state", "published_at"}
        if not set(values) <= allowed:
            raise ValueError(f"cannot update {set(values) - allowed}")
        values = {k: iso(v) if isinstance(v, datetime) else v for k, v in values.items()}
        self.touch_issue(month, now, expected_version=expected_version, **values)
        issue = self.issue(month)
        assert issue is not None
        return issue

    def touch_issue(
        self, month: Month, now: datetime, *, expected_version: int | None = None, **values: Any
    ) -> int:
        """Bump an issue's version (and set ``values``), refusing a stale ``expected_version``."""
        sets = "".join(f", {k} = :{k}" for k in values)
        sql = f"UPDATE issues SET version = version + 1, updated_at = :now{sets} WHERE month = :month"
        params = {**values, "now": iso(now), "month": str(month)}
        if expected_version is not None:
            sql += " AND version = :expected"
            params["expected"] = expected_version
        with self.write():
            cur = self.conn.execute(sql, params)
            if cur.rowcount != 1:
                if self.issue(month) is None:
                    raise NotFoundError(f"no issue for {month}")
                raise ConflictError(
                    f"the issue {month} was changed by someone else in the meantime: reload it and try again"
                )
            return int(
                self.conn.execute("SELECT version FROM issues WHERE month = ?", (str(month),)).fetchone()[0]
            )

    @staticmethod
    def _pick(row: dict[str, Any]) -> Pick:
        return Pick(
            id=row["id"],
            month=Month.parse(row["month"]),
            section=row["section"],
            kind=row["kind"],
            ref_id=row["ref_id"],
            position=row["position"],
            note=row["note"],
            title=row["title"],
            summary=row["summary"],
            version=row["version"],
            updated_by=row["updated_by"],
        )

    def picks(self, month: Month, section: str | None = None) -> list[Pick]:
        sql, params = "SELECT * FROM picks WHERE month = ?", [str(month)]
        if section is not None:
            sql += " AND section = ?"
            params.append(section)
        return [self._pick(r) for r in self._rows(sql + " ORDER BY section, position", params)]

    def pick_for(self, month: Month, kind: str, ref_id: int) -> Pick | None:
        rows = self._rows(
            "SELECT * FROM picks WHERE month = ? AND kind = ? AND ref_id = ?", [str(month), kind, ref_id]
        )
        return self._pick(rows[0]) if rows else None

    def picks_of(self, kind: str, ref_id: int) -> list[tuple[Pick, str]]:
        """Every pick of an item or a report, with the state of its issue (draft or published)."""
        rows = self._rows(
            """SELECT p.*, i.state AS issue_state FROM picks p JOIN issues i ON i.month = p.month
               WHERE p.kind = ? AND p.ref_id = ? ORDER BY p.month""",
            [kind, ref_id],
        )
        return [(self._pick(r), r["issue_state"]) for r in rows]

    def _renumber(self, month: Month, section: str) -> None:
        ids = [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM picks WHERE month = ? AND section = ? ORDER BY position, updated_at DESC, id",
                (str(month), section),
            )
        ]
        self.conn.executemany(
            "UPDATE picks SET position = ? WHERE id = ?", [(n, i) for n, i in enumerate(ids, 1)]
        )

    def place_pick(
        self,
        month: Month,
        kind: str,
        ref_id: int,
        section: str,
        position: int | None,
        now: datetime,
        *,
        by: str | None = None,
        note: str | None = None,
    ) -> Pick:
        """Put an item or a report at ``position`` (1-based; None = last) of ``section``.

        Already picked elsewhere in the issue, it moves. Positions stay 1..n.
        """
        with self.write():
            existing = self.pick_for(month, kind, ref_id)
            count = self.conn.execute(
                "SELECT count(*) FROM picks WHERE month = ? AND section = ? AND id != ?",
                (str(month), section, existing.id if existing else -1),
            ).fetchone()[0]
            target = count + 1 if position is None else max(1, min(position, count + 1))
            if existing is not None:
                # Take it out of its place first.
                self.conn.execute(
                    "UPDATE picks SET position = position - 1 WHERE month = ? AND section = ? AND position > ?",
                    (str(month), existing.section, existing.position),
                )
            self.conn.execute(
                "UPDATE picks SET position = position + 1 WHERE month = ? AND section = ? AND position >= ?"
                + (" AND id != ?" if existing else ""),
                (str(month), section, target, *([existing.id] if existing else [])),
            )
            if existing is None:
                self.conn.execute(
                    """INSERT INTO picks (month, section, kind, ref_id, position, note, created_at, updated_at, updated_by)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (str(month), section, kind, ref_id, target, note or "", iso(now), iso(now), by),
                )
            else:
                self.conn.execute(
                    """UPDATE picks SET section = ?, position = ?, version = version + 1, updated_at = ?, updated_by = ?
                       {note} WHERE id = ?""".replace("{note}", ", note = ?" if note is not None else ""),
                    (section, target, iso(now), by, *([note] if note is not None else []), existing.id),
                )
                if existing.section != section:
                    self._renumber(month, existing.section)
            self._renumber(month, section)
            pick = self.pick_for(month, kind, ref_id)
            assert pick is not None
            return pick

    def remove_pick(self, month: Month, kind: str, ref_id: int) -> Pick:
        with self.write():
            pick = self.pick_for(month, kind, ref_id)
            if pick is None:
                raise NotFoundError(f"{make_ref(kind, ref_id)} is not picked in {month}")
            self.conn.execute("DELETE FROM picks WHERE id = ?", (pick.id,))
            self._renumber(month, pick.section)
            return pick

    def edit_pick(
        self,
        month: Month,
        kind: str,
        ref_id: int,
        now: datetime,
        values: Mapping[str, str | None],
        *,
        expected_version: int | None = None,
        by: str | None = None,
    ) -> Pick:
        """Change a pick's note or its title/summary overrides (None restores the original)."""
        if not set(values) <= {"note", "title", "summary"}:
            raise ValueError(f"cannot edit {set(values)}")
        sets = "".join(f", {k} = :{k}" for k in values)
        sql = (
            f"UPDATE picks SET version = version + 1, updated_at = :now, updated_by = :by{sets} "
            "WHERE month = :month AND kind = :kind AND ref_id = :ref_id"
        )
        params: dict[str, Any] = {
            **values,
            "now": iso(now),
            "by": by,
            "month": str(month),
            "kind": kind,
            "ref_id": ref_id,
        }
        if expected_version is not None:
            sql += " AND version = :expected"
            params["expected"] = expected_version
        with self.write():
            if self.conn.execute(sql, params).rowcount != 1:
                if self.pick_for(month, kind, ref_id) is None:
                    raise NotFoundError(f"{make_ref(kind, ref_id)} is not picked in {month}")
                raise ConflictError(
                    f"{make_ref(kind, ref_id)} was changed by someone else in the meantime: reload and try again"
                )
        pick = self.pick_for(month, kind, ref_id)
        assert pick is not None
        return pick

    @staticmethod
    def _event(row: dict[str, Any]) -> Event:
        return Event(
            id=row["id"],
            month=Month.parse(row["month"]),
            title=row["title"],
            starts_at=_required_dt(row["starts_at"]),
            ends_at=from_iso(row["ends_at"]),
            place=row["place"],
            video_url=row["video_url"],
            description=row["description"],
            link=row["link"],
        )

    def events(self, month: Month) -> list[Event]:
        rows = self._rows("SELECT * FROM events WHERE month = ? ORDER BY starts_at, id", [str(month)])
        return [self._event(r) for r in rows]

    def add_event(self, month: Month, now: datetime, **values: Any) -> Event:
        row = {k: iso(v) if isinstance(v, datetime) else v for k, v in values.items()}
        row.update(month=str(month), created_at=iso(now))
        with self.write():
            cols = ", ".join(row)
            marks = ", ".join(f":{k}" for k in row)
            event_id = self.conn.execute(f"INSERT INTO events ({cols}) VALUES ({marks})", row).lastrowid
        rows = self._rows("SELECT * FROM events WHERE id = ?", [event_id])
        return self._event(rows[0])

    def remove_event(self, month: Month, event_id: int) -> Event:
        with self.write():
            rows = self._rows("SELECT * FROM events WHERE id = ? AND month = ?", [event_id, str(month)])
            if not rows:
                raise NotFoundError(
                    f"no event {event_id} in {month}: see `curator event list --month {month}`"
                )
            self.conn.execute("DELETE FROM events WHERE id = ?", (event_id,))
        return self._event(rows[0])

    def candidate_rows(self, month: Month, oldest: datetime, end: datetime) -> list[tuple[Any, ...]]:
        """Items published in [oldest, end) that no other published issue carries yet, newest
        first, in a lean form for ranking thousands of them quickly.

        Rows are (id, url, title, excerpt, published, author, title_key, sources, match_text):
        ``sources`` the item's source ids, first seen first, joined by U+001F.
        """
        sql = """
            SELECT items.id, items.url, items.title, items.excerpt, items.published, items.author,
                   items.title_key, items.sources, items.match_text
            FROM items
            WHERE items.published >= ? AND items.published < ?
              AND items.id NOT IN (
                SELECT p.ref_id FROM picks p JOIN issues i ON i.month = p.month
                WHERE p.kind = 'item' AND i.state = 'published' AND p.month != ?)
            ORDER BY items.published DESC, items.id DESC"""
        return self.conn.execute(sql, (iso(oldest), iso(end), str(month))).fetchall()

    def search_item_ids(self, text: str) -> set[int]:
        q = fts_query(text)
        if q is None:
            return set()
        return {r[0] for r in self.conn.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ?", (q,))}

    def unpublished_reports(self, month: Month) -> list[Report]:
        """Approved reports that no other published issue carries yet."""
        rows = self._rows(
            """SELECT * FROM reports WHERE status = 'approved' AND id NOT IN (
                 SELECT p.ref_id FROM picks p JOIN issues i ON i.month = p.month
                 WHERE p.kind = 'report' AND i.state = 'published' AND p.month != ?)
               ORDER BY submitted_at DESC, id DESC""",
            [str(month)],
        )
        return [self._report(r) for r in rows]

    def items_by_ids(self, ids: Iterable[int]) -> dict[int, Item]:
        wanted = list(dict.fromkeys(ids))
        found: dict[int, Item] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            for row in self._rows(self._ITEM_SELECT + f" WHERE items.id IN ({marks})", list(chunk)):
                found[row["id"]] = self._item(row)
        return found

    # --- archive ----------------------------------------------------------------

    def archive_fingerprints(self) -> list[tuple[Month, str]]:
        """Each published issue, oldest first, with a fingerprint of everything its pages show.

        It changes when the issue changes (every edit bumps its version), when a
        feed updates one of its items or adds a source to it, and when one of
        its reports is edited. The archive re-renders an issue only then.
        """
        rows = self.conn.execute(
            """
            SELECT i.month, i.version || '|' || i.updated_at || '|' || coalesce(i.published_at, ''),
                   coalesce((SELECT group_concat(part, ' ') FROM (
                       SELECT p.id || ':' || p.kind || ':' || p.ref_id || ':' || coalesce(
                                  it.content_hash || ':' || coalesce(it.sources, ''),
                                  r.version || '@' || r.updated_at, '-') AS part
                       FROM picks p
                       LEFT JOIN items it ON p.kind = 'item' AND it.id = p.ref_id
                       LEFT JOIN reports r ON p.kind = 'report' AND r.id = p.ref_id
                       WHERE p.month = i.month ORDER BY p.id)), '')
            FROM issues i WHERE i.state = 'published' ORDER BY i.month
            """
        ).fetchall()
        return [(Month.parse(month), f"{head}|{parts}") for month, head, parts in rows]

    # --- end of archive -----------------------------------------------------------

    # --- sends ---------------------------------------------------------------------

    def sent_recipients(self, month: Month) -> dict[str, datetime]:
        """The addresses that already received the month's issue, with when."""
        rows = self.conn.execute("SELECT recipient, sent_at FROM sends WHERE month = ?", (str(month),))
        return {r: _required_dt(at) for r, at in rows}

    def record_send(self, month: Month, recipient: str, message_id: str, now: datetime) -> None:
        """Record that ``recipient`` got the month's issue (committed at once)."""
        with self.write():
            self.conn.execute(
                "INSERT OR IGNORE INTO sends (month, recipient, message_id, sent_at) VALUES (?, ?, ?, ?)",
                (str(month), recipient, message_id, iso(now)),
            )

    # --- end of sends ----------------------------------------------------------------


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
