"""The only package that speaks SQL: schema, numbered migrations and typed queries.

Every table is created by a numbered migration in ``schema.py``. They run
automatically when a store is opened, so a database made by an older version of
curator upgrades in place without loss. Never edit a migration that has
shipped: add a new one.

Times are stored as ISO 8601 text in UTC (``2022-01-05T09:30:00+00:00``), which
sorts as it reads.
"""

from __future__ import annotations

from .base import (
    MMAP_SIZE,
    EntryPlan,
    SaveResult,
    StoredItem,
    SyncResult,
    entry_hash,
    from_iso,
    fts_query,
    iso,
)
from .issues import IssuesStore
from .items import ItemsStore
from .jobs import JobsStore, SendJob
from .labs import LabsStore
from .links import LinkChecksStore
from .reports import ReportsStore
from .schema import MIGRATIONS, match_text

__all__ = [
    "MIGRATIONS",
    "MMAP_SIZE",
    "EntryPlan",
    "SaveResult",
    "SendJob",
    "Store",
    "StoredItem",
    "SyncResult",
    "entry_hash",
    "from_iso",
    "fts_query",
    "iso",
    "match_text",
]


class Store(ItemsStore, ReportsStore, IssuesStore, JobsStore, LinkChecksStore, LabsStore):
    """A curator database. Open with ``Store.open(path)``; one per thread.

    Its queries are grouped by domain: sources and items (``items.py``), reports
    and editors (``reports.py``), issues, picks and events (``issues.py``), sends
    to the list running in the background (``jobs.py``), the latest check of each
    link (``links.py``), labs' identity cards and the changes labs propose (``labs.py``).
    """
