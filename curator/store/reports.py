"""Experience reports, their moderation log, editors, their sessions and rate limits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import NotFoundError, StaleEdit
from ..models import Editor, Month, Report, ReportChange
from .base import StoreBase, _required_dt, from_iso, iso


@dataclass(frozen=True)
class EditorSession:
    """A logged-in browser as stored: its id is the sha256 of the token in its cookie."""

    id: str
    email: str
    created_at: datetime
    last_seen: datetime


class ReportsStore(StoreBase):
    """Experience reports, editors and rate limits."""

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
                raise StaleEdit("report", report_id)
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

    def add_editor_session(self, session_id: str, email: str, *, now: datetime, ip: str) -> None:
        with self.write():
            self.conn.execute(
                "INSERT INTO editor_sessions (id, email, created_at, last_seen, ip) VALUES (?, ?, ?, ?, ?)",
                (session_id, email, iso(now), iso(now), ip),
            )

    def editor_session(self, session_id: str) -> EditorSession | None:
        rows = self._rows("SELECT * FROM editor_sessions WHERE id = ?", [session_id])
        if not rows:
            return None
        row = rows[0]
        return EditorSession(
            id=row["id"],
            email=row["email"],
            created_at=_required_dt(row["created_at"]),
            last_seen=_required_dt(row["last_seen"]),
        )

    def touch_editor_session(self, session_id: str, now: datetime) -> None:
        with self.write():
            self.conn.execute("UPDATE editor_sessions SET last_seen = ? WHERE id = ?", (iso(now), session_id))

    def delete_editor_session(self, session_id: str) -> None:
        with self.write():
            self.conn.execute("DELETE FROM editor_sessions WHERE id = ?", (session_id,))

    def delete_editor_sessions(self, email: str) -> int:
        """End every session of one editor; how many there were."""
        with self.write():
            return self.conn.execute("DELETE FROM editor_sessions WHERE email = ?", (email,)).rowcount

    def purge_editor_sessions(self, *, created_before: datetime, seen_before: datetime) -> int:
        """Delete the sessions that ended: opened before ``created_before`` or idle since ``seen_before``."""
        with self.write():
            return self.conn.execute(
                "DELETE FROM editor_sessions WHERE created_at < ? OR last_seen < ?",
                (iso(created_before), iso(seen_before)),
            ).rowcount

    def rate_count(self, bucket: str, since: datetime) -> int:
        """How many events ``bucket`` has had since ``since``."""
        return int(
            self.conn.execute(
                "SELECT count(*) FROM rate_events WHERE bucket = ? AND at >= ?", (bucket, iso(since))
            ).fetchone()[0]
        )

    def rate_times(self, bucket: str, since: datetime) -> list[datetime]:
        """When ``bucket``'s events since ``since`` happened, oldest first."""
        rows = self.conn.execute(
            "SELECT at FROM rate_events WHERE bucket = ? AND at >= ? ORDER BY at", (bucket, iso(since))
        )
        return [_required_dt(r[0]) for r in rows]

    def rate_buckets(self, prefix: str) -> dict[str, int]:
        """The buckets whose name starts with ``prefix``, with how many events each holds."""
        rows = self.conn.execute(
            "SELECT bucket, count(*) FROM rate_events WHERE bucket >= ? AND bucket < ? GROUP BY bucket",
            (prefix, prefix + "\U0010ffff"),
        )
        return {str(bucket): int(n) for bucket, n in rows}

    def rate_add(self, bucket: str, now: datetime) -> int:
        """Record one event in ``bucket`` (whatever the count): its id, to remove it again."""
        with self.write():
            # Forget what no limit can still need (windows are at most a day).
            self.conn.execute("DELETE FROM rate_events WHERE at < ?", (iso(now - timedelta(days=1)),))
            cur = self.conn.execute("INSERT INTO rate_events (bucket, at) VALUES (?, ?)", (bucket, iso(now)))
            return int(cur.lastrowid or 0)

    def rate_take(self, bucket: str, *, limit: int, since: datetime, now: datetime) -> bool:
        """Record one event in ``bucket`` unless it already had ``limit`` since ``since`` (atomic)."""
        with self.write():
            if self.rate_count(bucket, since) >= limit:
                return False
            self.rate_add(bucket, now)
            return True

    def rate_remove(self, event_ids: Iterable[int]) -> None:
        """Remove events recorded by ``rate_add``."""
        with self.write():
            self.conn.executemany("DELETE FROM rate_events WHERE rowid = ?", [(i,) for i in event_ids])

    def rate_forget(self, bucket: str, count: int) -> int:
        """Remove the ``count`` latest events of ``bucket``; how many there were."""
        with self.write():
            return self.conn.execute(
                """DELETE FROM rate_events WHERE rowid IN (
                     SELECT rowid FROM rate_events WHERE bucket = ? ORDER BY at DESC, rowid DESC LIMIT ?)""",
                (bucket, count),
            ).rowcount

    def rate_clear(self, bucket: str) -> int:
        """Remove every event of ``bucket``; how many there were."""
        with self.write():
            return self.conn.execute("DELETE FROM rate_events WHERE bucket = ?", (bucket,)).rowcount

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
