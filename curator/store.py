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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .errors import NotFoundError, StoreError
from .models import Entry, Item, Source, SourceState

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
        """
    )


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

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description or ()]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]  # type: ignore[misc]

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
                    self.db["sources"].insert(values)
                    added.append(sid)
                    continue
                differs = any(row[k] != v for k, v in values.items() if k != "updated_at")
                if not differs:
                    continue
                if row["url"] != src.url:
                    # A new address: forget what the old one told us.
                    values.update(
                        etag=None, last_modified=None, content_hash=None, gone=0,
                        moved_to=None, retry_after=None, consecutive_failures=0,
                    )
                self.db["sources"].update(sid, values)
                changed.append(sid)
            for sid, row in existing.items():
                if sid not in wanted and not row["removed"]:
                    self.db["sources"].update(sid, {"removed": 1, "updated_at": iso(now)})
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
                    self.conn.execute(
                        "INSERT OR IGNORE INTO item_sources (source_id, entry_key, item_id, first_seen) VALUES (?, ?, ?, ?)",
                        (source_id, e.key, item_id, now_s),
                    )
                    known[e.key] = item_id
                if item_id is None:
                    published = iso(e.published) or now_s
                    cur = self.conn.execute(
                        """INSERT INTO items (url, title, summary, excerpt, author, categories, published,
                               published_estimated, first_seen, updated, content_hash)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (
                            e.url, e.title, e.summary, e.excerpt, e.author,
                            json.dumps(list(e.categories), ensure_ascii=False),
                            published, int(e.published is None), now_s,
                            iso(e.updated) or published, h,
                        ),
                    )
                    item_id = int(cur.lastrowid or 0)
                    self.conn.execute(
                        "INSERT INTO item_sources (source_id, entry_key, item_id, first_seen) VALUES (?, ?, ?, ?)",
                        (source_id, e.key, item_id, now_s),
                    )
                    self.conn.execute(
                        "INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)",
                        (item_id, e.title, e.text or e.excerpt),
                    )
                    if e.url:
                        by_url[e.url] = (item_id, h)
                    known[e.key] = item_id
                    hashes[item_id] = h
                    new += 1
                elif hashes.get(item_id) != h:
                    self._update_item(item_id, e, h, now_s)
                    hashes[item_id] = h
                    updated += 1
        return SaveResult(new, updated)

    def _update_item(self, item_id: int, e: Entry, h: str, now_s: str) -> None:
        sets = "title = ?, summary = ?, excerpt = ?, author = ?, categories = ?, updated = ?, content_hash = ?"
        params: list[Any] = [
            e.title, e.summary, e.excerpt, e.author,
            json.dumps(list(e.categories), ensure_ascii=False),
            iso(e.updated) or now_s, h,
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

    _ITEM_SELECT = """
        SELECT items.*,
          (SELECT group_concat(source_id, char(31)) FROM
             (SELECT source_id FROM item_sources s WHERE s.item_id = items.id ORDER BY s.first_seen, s.source_id)
          ) AS sources
        FROM items
    """

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


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
