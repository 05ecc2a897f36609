"""Sources and their items: sync, fetch records, storing entries, lists, candidate rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..errors import NotFoundError
from ..models import CandidateRow, Entry, Item, Month, Source, SourceState
from ..text import title_key
from .base import (
    EntryPlan,
    SaveResult,
    StoreBase,
    StoredItem,
    SyncResult,
    _chunks,
    _required_dt,
    from_iso,
    fts_query,
    iso,
)
from .schema import _ITEM_SOURCES_OF, match_text


class ItemsStore(StoreBase):
    """Sources and their items."""

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
                        moved_count=0,
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
            moved_count=row.get("moved_count") or 0,
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

    def items_brought_since(self, since: datetime) -> dict[str, int]:
        """How many items each source brought since ``since`` (first seen through it then);
        sources that brought none are left out."""
        rows = self.conn.execute(
            "SELECT source_id, count(*) FROM item_sources WHERE first_seen >= ? GROUP BY source_id",
            (iso(since),),
        )
        return {source_id: int(n) for source_id, n in rows}

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
        """Record the outcome of one fetch of a source (status: ok, unchanged, failed).

        ``moved_to`` is where a permanent redirect pointed: the fetches in a row that saw the
        same target are counted (``moved_count``). A fetch that saw none breaks the count, and
        one that got its answer from the address itself (ok, unchanged) forgets the target."""
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
            sql_moved = "moved_count = CASE WHEN moved_to IS :moved_to THEN moved_count + 1 ELSE 1 END"
        elif status == "failed":
            sql_moved = "moved_count = 0"
        else:
            sets["moved_to"] = None
            sql_moved = "moved_count = 0"
        if gone:
            sets["gone"] = 1
        if feed_title:
            sets["feed_title"] = feed_title
        if new_items:
            sets["last_new_item"] = iso(now)
        assignments = ", ".join(f"{k} = :{k}" for k in sets)
        with self.write():
            cur = self.conn.execute(
                f"UPDATE sources SET {sql_moved}, {assignments}, {sql_fail} WHERE id = :id",
                {**sets, "id": source_id},
            )
            if cur.rowcount != 1:
                raise NotFoundError(f"no source {source_id!r}")

    # items

    def entry_state(
        self, source_id: str, entries: Sequence[Entry]
    ) -> tuple[dict[str, StoredItem], dict[str, StoredItem]]:
        """What the store knows about a source's entries, for ``ingest.plan_entries``: the items
        its entry keys stand for, and the items that own one of the entries' URLs (those whose
        URL no feed shares)."""
        by_key: dict[str, StoredItem] = {}
        keys = list(dict.fromkeys(e.key for e in entries))
        for chunk in _chunks(keys, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"""SELECT l.entry_key, i.id, i.url, i.url_shared, i.content_hash, i.sources
                    FROM item_sources l JOIN items i ON i.id = l.item_id
                    WHERE l.source_id = ? AND l.entry_key IN ({marks})""",
                [source_id, *chunk],
            )
            for key, *item in rows:
                by_key[key] = _stored(*item)
        by_url: dict[str, StoredItem] = {}
        urls = list(dict.fromkeys(e.url for e in entries if e.url))
        for chunk in _chunks(urls, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"""SELECT id, url, url_shared, content_hash, sources FROM items
                    WHERE url_shared = 0 AND url IN ({marks})""",
                chunk,
            )
            for row in rows:
                item = _stored(*row)
                by_url[str(item.url)] = item
        return by_key, by_url

    def apply_entries(self, source_id: str, plan: EntryPlan, now: datetime) -> SaveResult:
        """Write what ``ingest.plan_entries`` decided for a source's entries, in one transaction."""
        now_s = iso(now)
        assert now_s is not None
        with self.write():
            self.conn.executemany(
                "UPDATE items SET url_shared = 1 WHERE id = ? AND url_shared = 0",
                [(item_id,) for item_id in plan.now_shared],
            )
            # Updates first: a URL an item gives up may be the one a new item takes.
            for item_id, e, h, url, url_shared in plan.updates:
                self._update_item(item_id, e, h, now_s, url=url, url_shared=url_shared)
            # New items get their ids here (max + 1, as SQLite would: this transaction
            # holds the write lock), so that they are written with one executemany per
            # table rather than three statements each.
            next_id = int(self.conn.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0]) + 1
            new_rows: list[tuple[Any, ...]] = []
            texts: list[tuple[Any, ...]] = []
            links: list[tuple[Any, ...]] = []
            for _temp_id, e, h, url_shared in plan.new:
                item_id = next_id
                next_id += 1
                published = iso(e.published) or now_s
                new_rows.append(
                    (
                        item_id,
                        e.url,
                        int(url_shared),
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
            self.conn.executemany(
                """INSERT INTO items (id, url, url_shared, title, summary, excerpt, author, categories,
                       published, published_estimated, first_seen, updated, content_hash, title_key,
                       match_text, sources)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                new_rows,
            )
            links += [(source_id, key, item_id, now_s) for key, item_id in plan.links]
            self.conn.executemany(
                "INSERT OR IGNORE INTO item_sources (source_id, entry_key, item_id, first_seen) VALUES (?, ?, ?, ?)",
                links,
            )
            self.conn.executemany("INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)", texts)
            self.conn.executemany(
                f"UPDATE items SET sources = {_ITEM_SOURCES_OF.format(id='?1')} WHERE id = ?1",
                [(item_id,) for item_id in dict.fromkeys(item_id for _key, item_id in plan.links)],
            )
        return SaveResult(len(plan.new), len(plan.updates))

    def _update_item(
        self, item_id: int, e: Entry, h: str, now_s: str, *, url: str | None, url_shared: bool
    ) -> None:
        sets = (
            "url = ?, url_shared = ?, title = ?, summary = ?, excerpt = ?, author = ?, categories = ?"
            ", updated = ?, content_hash = ?, title_key = ?, match_text = ?"
        )
        params: list[Any] = [
            url,
            int(url_shared),
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

    def candidate_rows(self, month: Month, oldest: datetime, end: datetime) -> list[CandidateRow]:
        """Items published in [oldest, end) that no other published issue carries yet (and that
        some source still links to), newest first, in a lean form for ranking thousands quickly.

        """
        sql = """
            SELECT items.id, items.url, items.title, items.excerpt, items.published, items.author,
                   items.title_key, items.sources, items.match_text
            FROM items
            WHERE items.published >= ? AND items.published < ? AND items.sources IS NOT NULL
              AND items.id NOT IN (
                SELECT p.ref_id FROM picks p JOIN issues i ON i.month = p.month
                WHERE p.kind = 'item' AND i.state = 'published' AND p.month != ?)
            ORDER BY items.published DESC, items.id DESC"""
        return list(map(CandidateRow._make, self.conn.execute(sql, (iso(oldest), iso(end), str(month)))))

    def search_item_ids(self, text: str) -> set[int]:
        q = fts_query(text)
        if q is None:
            return set()
        return {r[0] for r in self.conn.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ?", (q,))}

    def items_by_ids(self, ids: Iterable[int]) -> dict[int, Item]:
        wanted = list(dict.fromkeys(ids))
        found: dict[int, Item] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            for row in self._rows(self._ITEM_SELECT + f" WHERE items.id IN ({marks})", list(chunk)):
                found[row["id"]] = self._item(row)
        return found


def _stored(
    item_id: int, url: str | None, url_shared: int, content_hash: str, sources: str | None
) -> StoredItem:
    owner = sources.split("\x1f")[0] if sources else None
    return StoredItem(item_id, url, bool(url_shared), content_hash, owner)
