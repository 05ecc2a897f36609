"""The outcome of link checks (``link_checks``): one row per URL, the latest check, so that the
pre-publication checklist shows what is known without checking again at every view."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..models import LinkCheck
from .base import StoreBase, _chunks, _required_dt, iso


class LinkChecksStore(StoreBase):
    """The latest check of each link."""

    def link_checks(self, urls: Iterable[str]) -> dict[str, LinkCheck]:
        """The latest check of each of ``urls`` that was ever checked."""
        wanted = list(dict.fromkeys(urls))
        found: dict[str, LinkCheck] = {}
        for chunk in _chunks(wanted, 500):
            rows = self._rows(
                "SELECT url, ok, status, error, checked_at FROM link_checks WHERE url IN "
                f"({', '.join('?' * len(chunk))})",
                list(chunk),
            )
            for row in rows:
                found[row["url"]] = LinkCheck(
                    url=row["url"],
                    ok=bool(row["ok"]),
                    status=row["status"],
                    error=row["error"],
                    checked_at=_required_dt(row["checked_at"]),
                )
        return found

    def record_link_checks(self, checks: Iterable[LinkCheck]) -> int:
        """Keep each check as its URL's latest (one transaction); returns how many."""
        rows = [(c.url, int(c.ok), c.status, c.error, iso(c.checked_at)) for c in checks]
        if not rows:
            return 0
        with self.write():
            self.conn.executemany(
                """INSERT INTO link_checks (url, ok, status, error, checked_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO UPDATE SET ok = excluded.ok, status = excluded.status,
                       error = excluded.error, checked_at = excluded.checked_at""",
                rows,
            )
        return len(rows)

    def forget_link_checks(self, *, checked_before: datetime) -> int:
        """Drop the checks older than ``checked_before`` (links no issue shows any more)."""
        with self.write():
            cur = self.conn.execute("DELETE FROM link_checks WHERE checked_at < ?", (iso(checked_before),))
            return cur.rowcount
