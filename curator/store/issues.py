"""Issues, picks, events, what the archive needs to know and the record of sends."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..errors import NotFoundError, NotPicked, StaleEdit
from ..models import Event, Issue, Month, Pick, make_ref
from .base import StoreBase, _required_dt, from_iso, iso


class IssuesStore(StoreBase):
    """Issues, picks, events, archive fingerprints and sends."""

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
            title_version=row["title_version"],
            edito_version=row["edito_version"],
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
        self,
        month: Month,
        now: datetime,
        *,
        expected_version: int | None = None,
        field_versions: Mapping[str, int] | None = None,
        **values: Any,
    ) -> Issue:
        """Change an issue's title, edito, state or published_at; bumps its version, and the
        version of its title or édito when it sets them.

        ``field_versions`` (``{"edito": 3}``) refuses the change (StaleEdit naming the field)
        when that field's version is no longer the one given; ``expected_version``, when the
        issue's is not.
        """
        allowed = {"title", "edito", "state", "published_at"}
        if not set(values) <= allowed:
            raise ValueError(f"cannot update {set(values) - allowed}")
        values = {k: iso(v) if isinstance(v, datetime) else v for k, v in values.items()}
        self.touch_issue(
            month, now, expected_version=expected_version, field_versions=field_versions, **values
        )
        issue = self.issue(month)
        assert issue is not None
        return issue

    #: The fields of an issue that carry a version of their own (``title_version``, ``edito_version``).
    VERSIONED_FIELDS = ("title", "edito")

    def touch_issue(
        self,
        month: Month,
        now: datetime,
        *,
        expected_version: int | None = None,
        field_versions: Mapping[str, int] | None = None,
        **values: Any,
    ) -> int:
        """Bump an issue's version (and set ``values``, bumping the version of a versioned field
        set), refusing a stale ``expected_version`` or ``field_versions``."""
        expected_fields = dict(field_versions or {})
        if not set(expected_fields) <= set(self.VERSIONED_FIELDS):
            raise ValueError(f"no version for {set(expected_fields) - set(self.VERSIONED_FIELDS)}")
        sets = "".join(f", {k} = :{k}" for k in values)
        sets += "".join(f", {k}_version = {k}_version + 1" for k in self.VERSIONED_FIELDS if k in values)
        sql = f"UPDATE issues SET version = version + 1, updated_at = :now{sets} WHERE month = :month"
        params = {**values, "now": iso(now), "month": str(month)}
        if expected_version is not None:
            sql += " AND version = :expected"
            params["expected"] = expected_version
        for name, version in expected_fields.items():
            sql += f" AND {name}_version = :expected_{name}"
            params[f"expected_{name}"] = version
        with self.write():
            cur = self.conn.execute(sql, params)
            if cur.rowcount != 1:
                current = self.issue(month)
                if current is None:
                    raise NotFoundError(f"no issue for {month}")
                stale = next(
                    (k for k, v in expected_fields.items() if getattr(current, f"{k}_version") != v), None
                )
                raise StaleEdit("the issue", month, field=stale)
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
        """Every pick of an item, a report or a lab's card, with the state of its issue (draft or published)."""
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
                # A pick's version covers its note and overrides, not its place: a move never
                # makes another editor's open note stale (the order has its own check, in editorial).
                self.conn.execute(
                    """UPDATE picks SET section = ?, position = ?, updated_at = ?, updated_by = ?
                       {note} WHERE id = ?""".replace(
                        "{note}", ", note = ?, version = version + 1" if note is not None else ""
                    ),
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
                raise NotPicked(make_ref(kind, ref_id), month)
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
                    raise NotPicked(make_ref(kind, ref_id), month)
                raise StaleEdit("the pick", make_ref(kind, ref_id))
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

    # --- archive ----------------------------------------------------------------

    def archive_fingerprints(self) -> list[tuple[Month, str]]:
        """Each published issue, oldest first, with a fingerprint of everything its pages show.

        It changes when the issue changes (every edit bumps its version), when a
        feed updates one of its items or adds a source to it, when one of its
        reports is edited, and when the card of a lab it portrays changes (the
        archive shows portraits with the card as it is now). The archive
        re-renders an issue only then.
        """
        rows = self.conn.execute(
            """
            SELECT i.month, i.version || '|' || i.updated_at || '|' || coalesce(i.published_at, ''),
                   coalesce((SELECT group_concat(part, ' ') FROM (
                       SELECT p.id || ':' || p.kind || ':' || p.ref_id || ':' || coalesce(
                                  it.content_hash || ':' || coalesce(it.sources, ''),
                                  r.version || '@' || r.updated_at,
                                  lc.lab || '#' || lc.version || '@' || coalesce(lc.updated_at, ''),
                                  '-') AS part
                       FROM picks p
                       LEFT JOIN items it ON p.kind = 'item' AND it.id = p.ref_id
                       LEFT JOIN reports r ON p.kind = 'report' AND r.id = p.ref_id
                       LEFT JOIN lab_cards lc ON p.kind = 'lab' AND lc.id = p.ref_id
                       WHERE p.month = i.month ORDER BY p.id)), '')
            FROM issues i WHERE i.state = 'published' ORDER BY i.month
            """
        ).fetchall()
        return [(Month.parse(month), f"{head}|{parts}") for month, head, parts in rows]

    # --- lab portraits -------------------------------------------------------------

    def portraits(self) -> list[tuple[str, int, Month, str]]:
        """Every lab portrait of every issue: (lab id, card row id, month, the issue's state),
        oldest month first (what tells the editors when a lab was last portrayed)."""
        rows = self.conn.execute(
            """SELECT lc.lab, p.ref_id, p.month, i.state FROM picks p
               JOIN lab_cards lc ON lc.id = p.ref_id
               JOIN issues i ON i.month = p.month
               WHERE p.kind = 'lab' ORDER BY p.month, p.id"""
        ).fetchall()
        return [
            (str(lab), int(card_id), Month.parse(month), str(state)) for lab, card_id, month, state in rows
        ]

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
