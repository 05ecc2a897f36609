"""Sends to the list started from the editor area (``send_jobs``): start one, count its
progress, finish it. At most one runs per month: the database refuses a second."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import NotFoundError, SendInProgress
from ..models import Month
from .base import StoreBase, _required_dt, from_iso, iso

#: What a job's row counts, by the outcome of each recipient (``mail.SendResult.outcome``).
_COUNTERS = {"sent": "sent", "refused": "refused", "skipped": "skipped"}


@dataclass(frozen=True)
class SendJob:
    """One send of a month's issue to the list, in the background; ``state`` is running,
    done, stopped (a failure of the SMTP server, or the process died: resume it) or failed."""

    id: int
    month: Month
    state: str
    total: int  # recipients, including those already served by an earlier send
    sent: int
    refused: int
    skipped: int  # already served by an earlier send
    error: str | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def left(self) -> int:
        """Recipients not yet handled by this job."""
        return max(0, self.total - self.sent - self.refused - self.skipped)


class JobsStore(StoreBase):
    """Background sends to the list."""

    @staticmethod
    def _send_job(row: dict[str, Any]) -> SendJob:
        return SendJob(
            id=row["id"],
            month=Month.parse(row["month"]),
            state=row["state"],
            total=row["total"],
            sent=row["sent"],
            refused=row["refused"],
            skipped=row["skipped"],
            error=row["error"],
            started_by=row["started_by"],
            started_at=_required_dt(row["started_at"]),
            updated_at=_required_dt(row["updated_at"]),
            finished_at=from_iso(row["finished_at"]),
        )

    def send_job(self, job_id: int) -> SendJob:
        rows = self._rows("SELECT * FROM send_jobs WHERE id = ?", [job_id])
        if not rows:
            raise NotFoundError(f"no send job {job_id}")
        return self._send_job(rows[0])

    def latest_send_job(self, month: Month) -> SendJob | None:
        """The month's running send, else its last one, else None."""
        rows = self._rows(
            "SELECT * FROM send_jobs WHERE month = ? ORDER BY state = 'running' DESC, id DESC LIMIT 1",
            [str(month)],
        )
        return self._send_job(rows[0]) if rows else None

    def start_send_job(
        self,
        month: Month,
        *,
        started_by: str,
        total: int,
        now: datetime,
        take_over: int | None = None,
        stale_before: datetime | None = None,
    ) -> SendJob:
        """Record a new running send of the month's issue; SendInProgress if one runs already.

        ``take_over`` names a running job to replace, which must have made no progress since
        ``stale_before`` (its process died): it is marked stopped in the same transaction,
        so two editors resuming it at once start one job, not two.
        """
        with self.write():
            if take_over is not None:
                cur = self.conn.execute(
                    """UPDATE send_jobs SET state = 'stopped', finished_at = :now, updated_at = :now,
                              error = 'interrupted: no progress since ' || updated_at || ', resumed by ' || :by
                       WHERE id = :id AND month = :month AND state = 'running' AND updated_at < :before""",
                    {
                        "now": iso(now),
                        "by": started_by,
                        "id": take_over,
                        "month": str(month),
                        "before": iso(stale_before or now),
                    },
                )
                if cur.rowcount != 1:
                    raise SendInProgress(month, take_over)
            try:
                cur = self.conn.execute(
                    """INSERT INTO send_jobs (month, state, total, started_by, started_at, updated_at)
                       VALUES (?, 'running', ?, ?, ?, ?)""",
                    (str(month), total, started_by, iso(now), iso(now)),
                )
            except sqlite3.IntegrityError:  # the unique index: one running job per month
                running = self._rows(
                    "SELECT id FROM send_jobs WHERE month = ? AND state = 'running'", [str(month)]
                )
                raise SendInProgress(month, running[0]["id"] if running else None) from None
            job_id = cur.lastrowid
        assert job_id is not None
        return self.send_job(job_id)

    def count_send_result(self, job_id: int, outcome: str, now: datetime) -> bool:
        """One more recipient handled by the running job (sent, refused or skipped); False
        if the job no longer runs (it was taken over: its sender must stop)."""
        column = _COUNTERS.get(outcome)
        if column is None:
            raise ValueError(f"not an outcome a send job counts: {outcome!r}")
        with self.write():
            cur = self.conn.execute(
                f"""UPDATE send_jobs SET {column} = {column} + 1, updated_at = ?
                    WHERE id = ? AND state = 'running'""",
                (iso(now), job_id),
            )
        return cur.rowcount == 1

    def touch_send_job(self, job_id: int, now: datetime) -> bool:
        """The running job is alive (it is waiting between two messages); False if it no
        longer runs."""
        with self.write():
            cur = self.conn.execute(
                "UPDATE send_jobs SET updated_at = ? WHERE id = ? AND state = 'running'", (iso(now), job_id)
            )
        return cur.rowcount == 1

    def finish_send_job(self, job_id: int, state: str, now: datetime, error: str | None = None) -> SendJob:
        """End a running job: done, stopped or failed (with why)."""
        if state not in ("done", "stopped", "failed"):
            raise ValueError(f"not a final state: {state!r}")
        with self.write():
            self.conn.execute(
                """UPDATE send_jobs SET state = ?, error = ?, finished_at = ?, updated_at = ?
                   WHERE id = ? AND state = 'running'""",
                (state, error, iso(now), iso(now), job_id),
            )
        return self.send_job(job_id)
