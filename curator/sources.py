"""The editors' operations on the list of sources: import an OPML file, export every source,
add one source, apply the permanent redirects that fetching recorded. Each change is written
into ``sources.yaml`` in place (:class:`~curator.config.edit.SourcesFile`: comments and style
kept, validated, replaced atomically), or only shown with ``dry_run``.

The command line and the editor area call these same functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .config import Config
from .config.edit import SourcesFile, make_source_id, render_entries, source_entry
from .config.reader import ID_RE
from .errors import UsageError
from .models import Source
from .opml import OpmlFeed, OpmlGroup, parse_opml, write_opml
from .store import Store
from .text import MAX_TITLE, cap_text, clean_text, collapse, fold
from .urls import normalise_url

__all__ = [
    "EXPORT_FORMATS",
    "Change",
    "SourcesEdit",
    "add_source",
    "apply_redirects",
    "check_options",
    "existing_source",
    "export_sources",
    "import_opml",
]

EXPORT_FORMATS = ("opml", "yaml", "json")
#: A source's title kept from an OPML file or a feed, at most (characters).
MAX_SOURCE_TITLE = 200
#: Fetches in a row that must have seen the same permanent redirect before it is applied.
REDIRECT_FETCHES = 2


@dataclass(frozen=True)
class Change:
    """What happened to one feed or source: ``added``, ``present`` (already in the file),
    ``duplicate`` (twice in the imported file), ``moved``, ``waiting`` (a redirect seen once)
    or ``conflict`` (its new address is another source's)."""

    action: str
    source_id: str
    url: str
    title: str = ""
    detail: str = ""


@dataclass(frozen=True)
class SourcesEdit:
    """The outcome of an operation on sources.yaml: each change, warnings, the diff of the
    file, and whether it was written (then ``config`` is the new configuration)."""

    path: Path
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    diff: str = ""
    written: bool = False
    config: Config | None = field(default=None, repr=False)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def existing_source(config: Config, url: str) -> Source | None:
    """The source of ``config`` whose URL is ``url`` once both are normalised."""
    wanted = normalise_url(url) or url
    return next((s for s in config.sources if (normalise_url(s.url) or s.url) == wanted), None)


def check_options(config: Config, section: str | None, lab: str | None, tags: Sequence[str]) -> None:
    """Refuse a section, lab or theme that the configuration does not declare."""
    if section is not None:
        known = [s.id for s in config.sections if s.kind == "items"]
        if section not in known:
            raise UsageError(f"unknown section {section!r} (sections that take items: {', '.join(known)})")
    if lab is not None and config.lab(lab) is None:
        raise UsageError(f"unknown lab {lab!r}: add it under 'labs' in {config.path.name} first")
    themes = {t.id for t in config.themes}
    for tag in tags:
        if tag not in themes:
            raise UsageError(f"unknown theme {tag!r}: add it under 'themes' in {config.path.name} first")


# --- import ------------------------------------------------------------------------------


def import_opml(
    config: Config,
    data: bytes,
    *,
    filename: str = "subscriptions.opml",
    section: str | None = None,
    lab: str | None = None,
    tags: Sequence[str] = (),
    map_folders: bool = False,
    dry_run: bool = False,
) -> SourcesEdit:
    """Add the feeds of an OPML file to sources.yaml.

    A feed already there (same normalised URL), or listed twice in the file, is skipped. Ids
    come from ``curator:id`` when the file has it (an export of curator), else from the
    titles. The section is ``section``, else (with ``map_folders``) the innermost folder
    named like a section, else ``curator:section``; the themes are ``tags``, plus (with
    ``map_folders``) every folder named like a theme, plus ``curator:tags``. A malformed
    file is refused whole (:class:`~curator.opml.OpmlError`), before anything is written.
    """
    check_options(config, section, lab, tags)
    document = parse_opml(data, filename)
    present = {normalise_url(s.url) or s.url: s for s in config.sources}
    taken = {s.id for s in config.sources}
    seen: dict[str, int] = {}
    unmatched: dict[str, None] = {}
    changes: list[Change] = []
    new: list[Source] = []
    for feed in document.feeds:
        if feed.url in present:
            found = present[feed.url]
            changes.append(
                Change(
                    "present", found.id, feed.url, feed.title, f"already in {config.path.name} as {found.id}"
                )
            )
            continue
        if feed.url in seen:
            changes.append(
                Change("duplicate", "", feed.url, feed.title, f"listed twice (line {seen[feed.url]})")
            )
            continue
        seen[feed.url] = feed.line
        source = _source_from_opml(feed, config, taken, section, lab, tags, map_folders, unmatched)
        taken.add(source.id)
        new.append(source)
        changes.append(Change("added", source.id, source.url, source.title, source.section or ""))
    warnings = [f"skipped {line}" for line in document.skipped]
    warnings += [
        f"the folder {name!r} is named like no section or theme: it was not used" for name in unmatched
    ]
    return _finish(config, new, changes, warnings, dry_run)


def _source_from_opml(
    feed: OpmlFeed,
    config: Config,
    taken: set[str],
    section: str | None,
    lab: str | None,
    tags: Sequence[str],
    map_folders: bool,
    unmatched: dict[str, None],
) -> Source:
    ours = feed.curator
    sections = {s.id: s for s in config.sections if s.kind == "items"}
    themes = {t.id for t in config.themes}
    title = cap_text(feed.title, MAX_SOURCE_TITLE) if feed.title else ""
    source_id = ours.get("id", "")
    if not (ID_RE.match(source_id) and source_id not in taken):
        source_id = make_source_id(title, feed.url, taken)
    chosen_section = section
    chosen_tags = list(tags)
    if map_folders:
        for folder in reversed(feed.folders):  # the innermost folder first
            matched = False
            for s in sections.values():
                if _same_name(folder, s.id, s.title):
                    matched = True
                    chosen_section = chosen_section or s.id
            for t in config.themes:
                if _same_name(folder, t.id, t.label):
                    matched = True
                    chosen_tags.append(t.id)
            if not matched:
                unmatched.setdefault(folder)
    if chosen_section is None and ours.get("section") in sections:
        chosen_section = ours["section"]
    chosen_tags += [t for t in re.split(r"[\s,]+", ours.get("tags", "")) if t in themes]
    chosen_lab = lab if lab is not None else ours.get("lab") if config.lab(ours.get("lab", "")) else None
    return Source(
        id=source_id,
        url=feed.url,
        title=title,
        section=chosen_section,
        lab=chosen_lab,
        tags=tuple(dict.fromkeys(chosen_tags)),
        weight=_weight(ours.get("weight")),
        enabled=ours.get("enabled", "").lower() != "false",
        site=feed.html_url,
    )


def _same_name(folder: str, ident: str, label: str) -> bool:
    key = fold(folder).strip()
    return key in (fold(ident), fold(label)) or re.sub(r"[^a-z0-9]+", "-", key).strip("-") == ident


def _weight(value: str | None) -> float:
    try:
        weight = float(value or 1.0)
    except ValueError:
        return 1.0
    return weight if 0 <= weight < 1000 else 1.0


def _finish(
    config: Config, new: Sequence[Source], changes: list[Change], warnings: list[str], dry_run: bool
) -> SourcesEdit:
    """Insert ``new`` into the file; validate, and write unless ``dry_run``."""
    edit = SourcesFile(config.path)
    edit.add(new)
    written, new_config = False, None
    if new:
        if dry_run:
            edit.validate()
        else:
            new_config = edit.save()
            written = True
    return SourcesEdit(config.path, tuple(changes), tuple(warnings), edit.diff(), written, new_config)


# --- add ---------------------------------------------------------------------------------


def add_source(
    config: Config,
    url: str,
    *,
    title: str = "",
    site: str = "",
    source_id: str | None = None,
    section: str | None = None,
    lab: str | None = None,
    tags: Sequence[str] = (),
    dry_run: bool = False,
) -> SourcesEdit:
    """Add the feed at ``url`` to sources.yaml (refused if its URL is already there)."""
    check_options(config, section, lab, tags)
    normalised = normalise_url(url)
    if normalised is None:
        raise UsageError(f"{url[:200]!r} is not an http(s) URL")
    found = existing_source(config, normalised)
    if found is not None:
        raise UsageError(f"{normalised} is already in {config.path.name}, as the source {found.id!r}")
    taken = {s.id for s in config.sources}
    title = cap_text(collapse(clean_text(title)), MAX_SOURCE_TITLE)
    if source_id is not None:
        if not ID_RE.match(source_id):
            raise UsageError(
                f"{source_id!r} is not a valid id: use lower-case letters, digits, '-', '_' or '.'"
            )
        if source_id in taken:
            raise UsageError(
                f"the id {source_id!r} is already used in {config.path.name}: choose another with --id"
            )
    source = Source(
        id=source_id or make_source_id(title, normalised, taken),
        url=normalised,
        title=title,
        section=section,
        lab=lab,
        tags=tuple(dict.fromkeys(tags)),
        site=(normalise_url(site) or "") if site else "",
    )
    change = Change("added", source.id, source.url, source.title, source.section or "")
    return _finish(config, [source], [change], [], dry_run)


# --- redirects ---------------------------------------------------------------------------


def apply_redirects(store: Store, config: Config, *, now: datetime, dry_run: bool = False) -> SourcesEdit:
    """Write into sources.yaml the permanent redirects (301, 308) that the last
    REDIRECT_FETCHES fetches of a source all saw. The source keeps its id, so its items and
    its history stay; the store takes the new address at once (forgetting the old one's
    ETag and Last-Modified)."""
    store.sync_sources(config.sources, now)
    states = {s.id: s for s in store.sources()}
    urls = {normalise_url(s.url) or s.url: s.id for s in config.sources}
    edit = SourcesFile(config.path)
    changes: list[Change] = []
    for source in config.sources:
        state = states.get(source.id)
        if state is None or not state.moved_to:
            continue
        target = state.moved_to
        other = urls.get(normalise_url(target) or target)
        if state.moved_count < REDIRECT_FETCHES:
            changes.append(
                Change(
                    "waiting",
                    source.id,
                    target,
                    source.title,
                    f"seen on {state.moved_count} fetch(es) in a row: applied once {REDIRECT_FETCHES} have seen it",
                )
            )
        elif other is not None and other != source.id:
            changes.append(
                Change(
                    "conflict", source.id, target, source.title, f"{target} is already the source {other!r}"
                )
            )
        else:
            edit.set_url(source.id, target)
            changes.append(Change("moved", source.id, target, source.title, source.url))
    written, new_config = False, None
    if edit.changed:
        if dry_run:
            edit.validate()
        else:
            new_config = edit.save()
            store.sync_sources(new_config.sources, now)
            written = True
    return SourcesEdit(config.path, tuple(changes), (), edit.diff(), written, new_config)


# --- export ------------------------------------------------------------------------------


def export_sources(config: Config, fmt: str = "opml", *, now: datetime | None = None) -> str:
    """Every source of the configuration as OPML 2.0 (a folder per section, curator's own
    fields in ``curator:`` attributes), as a ``sources:`` YAML list, or as JSON."""
    if fmt == "opml":
        groups = [
            OpmlGroup(s.title, [_opml_feed(src) for src in config.sources if src.section == s.id])
            for s in config.sections
        ]
        loose = [
            _opml_feed(src) for src in config.sources if src.section not in {s.id for s in config.sections}
        ]
        title = cap_text(f"{config.newsletter.title} — sources", MAX_TITLE)
        return write_opml(title, [g for g in groups if g.feeds] + [OpmlGroup("", loose)], created=now)
    entries = [source_entry(s) for s in config.sources]
    if fmt == "yaml":
        return "sources:\n" + render_entries(entries, flow=True)
    if fmt == "json":
        full = [
            {
                "id": s.id,
                "url": s.url,
                "title": s.title,
                "section": s.section,
                "lab": s.lab,
                "tags": list(s.tags),
                "weight": s.weight,
                "enabled": s.enabled,
                "site": s.site or None,
            }
            for s in config.sources
        ]
        return json.dumps(full, ensure_ascii=False, indent=2) + "\n"
    raise UsageError(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")


def _opml_feed(source: Source) -> OpmlFeed:
    ours = {
        "id": source.id,
        "section": source.section or "",
        "lab": source.lab or "",
        "tags": " ".join(source.tags),
    }
    if source.weight != 1.0:
        ours["weight"] = f"{source.weight:g}"
    if not source.enabled:
        ours["enabled"] = "false"
    return OpmlFeed(url=source.url, title=source.title, html_url=source.site, curator=ours)
