"""Labs' identity cards, their history, and the changes labs propose through the public form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..errors import AlreadyDecided, NotFoundError, StaleEdit
from ..models import LAB_CARD_FIELDS, LabCard, LabCardChange, LabProposal
from .base import StoreBase, _required_dt, from_iso, iso


def _to_row(name: str, value: Any) -> Any:
    """A card field as SQLite stores it."""
    if name == "innovation_types":
        return json.dumps(list(value), ensure_ascii=False)
    if name in ("has_place", "contact_public"):
        return None if value is None else int(bool(value))
    return value


def _plain(name: str, value: Any) -> Any:
    """A card field as a plain, JSON-able value (for the history and the diffs)."""
    return list(value) if name == "innovation_types" else value


class LabsStore(StoreBase):
    """Identity cards (``lab_cards``), their history and the proposals waiting for an editor."""

    @staticmethod
    def _card(row: Mapping[str, Any]) -> LabCard:
        return LabCard(
            lab=row["lab"],
            has_place=None if row["has_place"] is None else bool(row["has_place"]),
            place=row["place"],
            innovation_types=tuple(json.loads(row["innovation_types"])),
            service_offer=row["service_offer"],
            stage=row["stage"],
            team=row["team"],
            contact_email=row["contact_email"],
            contact_public=bool(row["contact_public"]),
            feed=row["feed"],
            version=row["version"],
            updated_at=from_iso(row["updated_at"]),
            updated_by=row["updated_by"],
        )

    def lab_card(self, lab: str) -> LabCard:
        """The lab's card; an empty one (version 0) when the lab never filled it."""
        rows = self._rows("SELECT * FROM lab_cards WHERE lab = ?", [lab])
        return self._card(rows[0]) if rows else LabCard(lab=lab)

    def lab_cards(self) -> dict[str, LabCard]:
        """Every stored card by lab id (labs that never filled theirs are absent)."""
        return {r["lab"]: self._card(r) for r in self._rows("SELECT * FROM lab_cards ORDER BY lab")}

    def lab_card_id(self, lab: str) -> int:
        """The row id that names the lab's card in picks; an empty card is created if needed."""
        with self.write():
            self.conn.execute("INSERT INTO lab_cards (lab) VALUES (?) ON CONFLICT (lab) DO NOTHING", (lab,))
            return int(self.conn.execute("SELECT id FROM lab_cards WHERE lab = ?", (lab,)).fetchone()[0])

    def lab_of_card(self, card_id: int) -> str:
        """The lab whose card has this row id."""
        row = self.conn.execute("SELECT lab FROM lab_cards WHERE id = ?", (card_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no lab card l{card_id}: see `curator labs`")
        return str(row[0])

    def labs_of_cards(self, card_ids: list[int]) -> dict[int, str]:
        """The lab of each card row id (those that exist)."""
        if not card_ids:
            return {}
        rows = self.conn.execute(
            "SELECT id, lab FROM lab_cards WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(card_ids),),
        )
        return {int(i): str(lab) for i, lab in rows}

    def change_lab_card(
        self,
        lab: str,
        values: Mapping[str, Any],
        *,
        by: str,
        origin: str,
        now: datetime,
        expected_version: int | None = None,
        proposal_id: int | None = None,
    ) -> tuple[LabCard, LabCardChange | None]:
        """Change fields of a lab's card and record the change in its history, in one transaction.

        Only the fields that really change are written and recorded; with none, nothing is
        written and the change returned is None. A stale ``expected_version`` raises StaleEdit.
        """
        unknown = set(values) - set(LAB_CARD_FIELDS)
        if unknown:
            raise ValueError(f"a lab card has no field {', '.join(sorted(unknown))}")
        with self.write():
            card = self.lab_card(lab)
            if expected_version is not None and card.version != expected_version:
                raise StaleEdit("the lab card", lab)
            diff: dict[str, dict[str, Any]] = {}
            for name, new in values.items():
                old = _plain(name, getattr(card, name))
                new = _plain(name, new)
                if old != new:
                    diff[name] = {"old": old, "new": new}
            if not diff:
                return card, None
            sets = {name: _to_row(name, d["new"]) for name, d in diff.items()}
            self.conn.execute("INSERT INTO lab_cards (lab) VALUES (?) ON CONFLICT (lab) DO NOTHING", (lab,))
            assignments = "".join(f", {name} = :{name}" for name in sets)
            self.conn.execute(
                "UPDATE lab_cards SET version = version + 1, updated_at = :now, updated_by = :by"
                f"{assignments} WHERE lab = :lab",
                {**sets, "now": iso(now), "by": by, "lab": lab},
            )
            cur = self.conn.execute(
                "INSERT INTO lab_card_changes (lab, at, by, origin, changes, proposal_id) VALUES (?, ?, ?, ?, ?, ?)",
                (lab, iso(now), by, origin, json.dumps(diff, ensure_ascii=False), proposal_id),
            )
            change = LabCardChange(
                id=int(cur.lastrowid or 0),
                lab=lab,
                at=now.astimezone(UTC).replace(microsecond=0),
                by=by,
                origin=origin,
                changes=diff,
                proposal_id=proposal_id,
            )
            return self.lab_card(lab), change

    def lab_card_changes(self, lab: str) -> list[LabCardChange]:
        """A card's history, oldest first."""
        return [
            LabCardChange(
                id=r["id"],
                lab=r["lab"],
                at=_required_dt(r["at"]),
                by=r["by"],
                origin=r["origin"],
                changes=json.loads(r["changes"]),
                proposal_id=r["proposal_id"],
            )
            for r in self._rows("SELECT * FROM lab_card_changes WHERE lab = ? ORDER BY id", [lab])
        ]

    # --- proposals from the public form --------------------------------------------

    @staticmethod
    def _proposal(row: Mapping[str, Any]) -> LabProposal:
        return LabProposal(
            id=row["id"],
            lab=row["lab"],
            status=row["status"],
            values=json.loads(row["proposed"]),
            base=json.loads(row["base"]),
            author_name=row["author_name"],
            author_email=row["author_email"],
            submitted_at=_required_dt(row["submitted_at"]),
            decided_at=from_iso(row["decided_at"]),
            decided_by=row["decided_by"],
            reject_reason=row["reject_reason"],
        )

    def add_lab_proposal(
        self,
        *,
        submission_key: str,
        lab: str,
        values: Mapping[str, Any],
        base: Mapping[str, Any],
        author_name: str,
        author_email: str,
        now: datetime,
    ) -> tuple[int, bool]:
        """Store a pending proposal: (its id, True), or (the id stored before, False) for a known key."""
        with self.write():
            cur = self.conn.execute(
                """INSERT INTO lab_proposals (submission_key, lab, proposed, base, author_name, author_email,
                       submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (submission_key) DO NOTHING""",
                (
                    submission_key,
                    lab,
                    json.dumps({k: _plain(k, v) for k, v in values.items()}, ensure_ascii=False),
                    json.dumps({k: _plain(k, v) for k, v in base.items()}, ensure_ascii=False),
                    author_name,
                    author_email,
                    iso(now),
                ),
            )
            if cur.rowcount == 1:
                return int(cur.lastrowid or 0), True
            row = self.conn.execute(
                "SELECT id FROM lab_proposals WHERE submission_key = ?", (submission_key,)
            ).fetchone()
            return int(row[0]), False

    def lab_proposal(self, proposal_id: int) -> LabProposal:
        rows = self._rows("SELECT * FROM lab_proposals WHERE id = ?", [proposal_id])
        if not rows:
            raise NotFoundError(f"no lab card proposal {proposal_id}: see `curator labs proposals`")
        return self._proposal(rows[0])

    def lab_proposals(self, *, status: str | None = None, lab: str | None = None) -> list[LabProposal]:
        """Proposals oldest first (the order in which they wait), optionally of one status or lab."""
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if lab is not None:
            where.append("lab = ?")
            params.append(lab)
        sql = "SELECT * FROM lab_proposals" + (" WHERE " + " AND ".join(where) if where else "")
        return [self._proposal(r) for r in self._rows(sql + " ORDER BY submitted_at, id", params)]

    def decide_lab_proposal(
        self, proposal_id: int, status: str, *, by: str, now: datetime, reason: str | None = None
    ) -> LabProposal:
        """Mark a pending proposal approved or rejected (AlreadyDecided when it is not pending)."""
        with self.write():
            proposal = self.lab_proposal(proposal_id)
            if proposal.status != "pending":
                raise AlreadyDecided(proposal_id, proposal.status, "lab card proposal")
            self.conn.execute(
                "UPDATE lab_proposals SET status = ?, decided_at = ?, decided_by = ?, reject_reason = ? WHERE id = ?",
                (status, iso(now), by, reason, proposal_id),
            )
            return self.lab_proposal(proposal_id)
