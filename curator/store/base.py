"""What every part of the store shares: opening, migrating, transactions, row helpers."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import sqlite_utils

from ..errors import StoreError
from ..models import Entry
from .schema import MIGRATIONS

MMAP_SIZE = 256 * 1024 * 1024  # bytes of the database file read through a memory map


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
class StoredItem:
    """What deciding about a feed's entries needs to know of a stored item."""

    id: int
    url: str | None
    url_shared: bool  # several entries of its feed share its URL: it owns no URL
    content_hash: str
    owner: str | None  # the source that brought it first, which says what it shows


@dataclass
class EntryPlan:
    """What a source's entries mean for the store (``ingest.plan_entries``), for the store to apply.

    New items have negative ids (-1, -2…) in the plan; the store gives them theirs.
    """

    #: (temporary id, entry, content hash, url shared)
    new: list[tuple[int, Entry, str, bool]] = field(default_factory=list)
    #: (entry key, existing item id): the same article as an item already stored
    links: list[tuple[str, int]] = field(default_factory=list)
    #: (item id, entry, content hash, its URL, url shared)
    updates: list[tuple[int, Entry, str, str | None, bool]] = field(default_factory=list)
    #: items whose URL the feed now shares between several entries
    now_shared: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class SaveResult:
    new: int
    updated: int


class StoreBase:
    """The connection and its transactions; ``Store`` adds the queries of each domain."""

    """A curator database. Open with ``Store.open(path)``; one per thread."""

    def __init__(self, db: sqlite_utils.Database, path: str) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.path = path
        self._depth = 0
        self._lock = threading.RLock()

    # opening and transactions

    @classmethod
    def open(cls, path: str | Path, *, migrate: bool = True) -> Self:
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[Self]:
        """One write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # locked past the busy timeout, read-only...
                raise self._cannot_write(exc) from exc
            self._depth = 1
            try:
                yield self
            except BaseException as exc:
                self._depth = 0
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise self._cannot_write(exc) from exc
                raise
            self._depth = 0
            try:
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:  # disk full, I/O error
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise self._cannot_write(exc) from exc

    def _cannot_write(self, exc: sqlite3.OperationalError) -> StoreError:
        """SQLite's failures stay inside the store: the layers above see a StoreError."""
        return StoreError(f"{self.path}: cannot write to the database ({exc})")

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description or ()]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def count(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
