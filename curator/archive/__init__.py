"""The static archive: builds every published issue into a folder, swapped in atomically.

``build_archive`` writes the whole site (index, a page per issue with its
email version and agenda, a page and an Atom feed per lab, a page per theme,
the Atom feed of the issues, search, sitemap, 404 and accessibility pages)
into a folder beside ``out_dir`` and puts it in place with one rename (the
previous archive stays beside it, ``.archive.spare``, for the next build to
recycle). Only published issues appear. A file whose inputs did not change
since the previous build is kept as it was (same bytes, same mtime), so
publishing one more issue rewrites only the pages it changes.

    from curator.archive import build_archive, publish_issue
    done = publish_issue(store, config, Month.parse("2022-01"), Path("archive"), now)
    done.issue.published_at, done.report.written
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .. import editorial
from ..config import ArchiveSettings, Config
from ..errors import ArchiveBuildFailed, CuratorError, UsageError
from ..models import Issue, Month
from ..store import Store
from ..urls import is_http_url
from .cache import Previous
from .site import BuildReport, build_files, report
from .writer import UnsafePathError, check_output, locked, staging, swap_in

__all__ = [
    "BuildReport",
    "Publication",
    "UnsafePathError",
    "build_archive",
    "default_out_dir",
    "publish_issue",
    "reopen_issue",
]


def default_out_dir(config: Config) -> Path:
    """Where the archive goes without ``--out``: ``archive: {out: …}``, else ``archive/``."""
    return config.archive.out


def _base_url(config: Config, settings: ArchiveSettings, base_url: str | None) -> str:
    url = base_url or settings.base_url or config.newsletter.site_url
    if not is_http_url(url):
        raise UsageError(f"the archive's base URL {url!r} is not an http(s) URL")
    return url.rstrip("/") + "/"


def build_archive(
    store: Store,
    config: Config,
    out_dir: Path,
    *,
    now: datetime,
    base_url: str | None = None,
    only_changed: bool = True,
) -> BuildReport:
    """Build the archive of every published issue into ``out_dir``, atomically.

    ``base_url`` is the archive's public address, used where only an absolute
    URL will do (feeds, sitemap, canonical and OpenGraph links); pages link to
    each other with relative links, so the folder works from any path. Default:
    ``archive: {base_url: …}``, else ``newsletter.site_url``. With
    ``only_changed`` (the default) the previous build's files whose inputs did
    not change are kept without being rendered again; ``False`` renders
    everything (files that come out identical still keep their mtime). The
    report counts both: the files ``rendered`` or ``reused``, and the files
    ``written`` (new bytes) or ``kept`` (unchanged on disk). ``now``
    is only recorded in the report: the files depend on the data alone, so two
    builds from the same database are byte-identical.
    """
    started = time.perf_counter()
    settings = config.archive
    base = _base_url(config, settings, base_url)
    folder = check_output(Path(out_dir))
    with locked(folder):
        folder = check_output(Path(out_dir))
        previous = Previous.load(folder, trust_keys=only_changed)
        with staging(folder) as writer:
            builder, digests = build_files(store, config, settings, base, writer, previous)
            writer.finish()
            swap_in(writer.root, folder)
    return report(builder, digests, Path(out_dir), started, now)


@dataclass(frozen=True)
class Publication:
    issue: Issue  # as frozen, with its publication date (or as reopened: a draft)
    report: BuildReport


def publish_issue(
    store: Store,
    config: Config,
    month: Month,
    out_dir: Path,
    now: datetime,
    *,
    base_url: str | None = None,
    published_on: date | None = None,
) -> Publication:
    """Freeze the month's issue (state published, publication date) and rebuild the archive.

    ``published_on`` is the publication date readers see (default: the first one the issue
    had, else today). Both or neither: when the archive cannot be built, the issue is put
    back as it was (a draft stays a draft, a date stays the same) and the previous archive
    is left intact.
    """
    before = editorial.require_issue(store, month)
    issue = editorial.publish(store, config, month, now, published_on=published_on)
    try:
        built = build_archive(store, config, out_dir, now=now, base_url=base_url)
    except BaseException as exc:
        if (before.state, before.published_at) != (issue.state, issue.published_at):
            store.update_issue(month, now, state=before.state, published_at=before.published_at)
        if not isinstance(exc, CuratorError):
            raise
        state = "still published" if before.published else "not published"
        error = ArchiveBuildFailed(
            month,
            "publish",
            before.state,
            str(exc),
            f"{exc}\nThe issue {month} is {state}: the archive could not be rebuilt (the previous one is "
            f"intact). Fix the problem, then run `curator publish --month {month}` again.",
        )
        error.exit_code = exc.exit_code
        raise error from exc
    return Publication(issue, built)


def reopen_issue(
    store: Store,
    config: Config,
    month: Month,
    out_dir: Path,
    now: datetime,
    *,
    base_url: str | None = None,
) -> Publication:
    """Reopen the month's published issue (a draft again) and rebuild the archive without it.

    Both or neither, as ``publish_issue``: when the archive cannot be built, the issue is
    published again as it was (with its publication date) and the previous archive is intact.
    """
    before = editorial.require_issue(store, month)
    issue = editorial.reopen(store, month, now)
    try:
        built = build_archive(store, config, out_dir, now=now, base_url=base_url)
    except BaseException as exc:
        store.update_issue(month, now, state=before.state, published_at=before.published_at)
        if not isinstance(exc, CuratorError):
            raise
        error = ArchiveBuildFailed(
            month,
            "reopen",
            before.state,
            str(exc),
            f"{exc}\nThe issue {month} is still published: the archive could not be rebuilt without it "
            f"(the previous one is intact). Fix the problem, then reopen it again.",
        )
        error.exit_code = exc.exit_code
        raise error from exc
    return Publication(issue, built)
