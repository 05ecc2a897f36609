"""Sources: list them (``curator sources``), import, export, add one, apply redirects; and
``curator check``, which validates the whole configuration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import FetchError, NotFoundError, UsageError
from ..text import terminal_safe
from .common import State, _now, echo, pass_state, print_json

if TYPE_CHECKING:
    from ..discover import Discovery, FoundFeed, Inspection
    from ..sources import SourcesEdit

# --- curator sources ---------------------------------------------------------------------


@click.group(invoke_without_command=True, short_help="List the sources; import, export and add them.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its fields).")
@pass_state
def sources(state: State, as_json: bool) -> None:
    """List the sources with their last fetch status (syncs sources.yaml first).

    The commands below change sources.yaml in place, keeping its comments and style.
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    store = state.store
    store.sync_sources(state.config.sources, _now())
    rows = store.sources()
    if as_json:
        from ..serialize import source_json

        print_json([source_json(s) for s in rows])
        return
    for s in rows:
        status = s.status if s.enabled else f"disabled ({s.disabled_reason})"
        line = f"{s.id:<24} {status:<10} {s.items:>5} items  {s.url}"
        if s.last_error:
            line += f"\n{'':<24} last error: {s.last_error}"
        if s.moved_to:
            line += f"\n{'':<24} moved permanently to {s.moved_to}: update sources.yaml"
        echo(line)


_SECTION = click.option("--section", metavar="ID", help="Put the new sources in this section.")
_LAB = click.option("--lab", metavar="ID", help="The lab whose feeds these are.")
_TAG = click.option(
    "--tag", "tags", multiple=True, metavar="THEME", help="Give them this theme (repeatable)."
)
_DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Print what would change (with a diff); write nothing."
)


@sources.command("import", short_help="Add the feeds of an OPML file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@_SECTION
@_LAB
@_TAG
@click.option(
    "--map-folders",
    is_flag=True,
    help="A folder named like a section (id or title) puts its feeds in it; one named like a theme tags them.",
)
@_DRY_RUN
@pass_state
def import_(
    state: State,
    file: str,
    section: str | None,
    lab: str | None,
    tags: tuple[str, ...],
    map_folders: bool,
    dry_run: bool,
) -> None:
    """Add the feeds of an OPML file (from Miniflux, FreshRSS, Feedly, NetNewsWire…) to sources.yaml.

    Feeds already there (same URL) are skipped. A malformed file is refused whole,
    with the line of the error, and sources.yaml is left unchanged.
    """
    from ..sources import import_opml

    path = Path(file)
    data = _read_limited(path)
    edit = import_opml(
        state.config,
        data,
        filename=str(path),
        section=section,
        lab=lab,
        tags=tags,
        map_folders=map_folders,
        dry_run=dry_run,
    )
    for change in edit.changes:
        if change.action == "added":
            echo(f"+ {change.source_id:<28} {change.url}  ({change.title or 'untitled'})")
        else:
            echo(f"= {change.title or change.url}: {change.url} skipped, {change.detail}")
    for warning in edit.warnings:
        click.echo(click.style(terminal_safe(f"warning: {warning}"), fg="yellow"))
    added, present, twice = edit.count("added"), edit.count("present"), edit.count("duplicate")
    name = edit.path.name
    tail = f"{present} already there, {twice} listed twice, {len(edit.warnings)} warning(s)"
    if dry_run:
        if edit.diff:
            click.echo(edit.diff, nl=False)
        click.echo(f"Dry run: {added} source(s) would be added to {name} ({tail}); nothing was written.")
    elif added:
        click.echo(f"{added} source(s) added to {name} ({tail}). Fetch them with `curator fetch`.")
    else:
        click.echo(f"Nothing to add to {name} ({tail}).")


_MAX_OPML = 10 * 1024 * 1024


def _read_limited(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(_MAX_OPML + 1)
    if len(data) > _MAX_OPML:
        raise UsageError(f"{path}: larger than 10 MB, not a list of subscriptions")
    return data


@sources.command("export", short_help="Write every source as OPML, YAML or JSON.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["opml", "yaml", "json"]),
    default="opml",
    show_default=True,
    help="OPML 2.0 (for another reader), a sources: list of YAML, or JSON.",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (default: print).")
@pass_state
def export(state: State, fmt: str, out: str | None) -> None:
    """Write every source of sources.yaml, grouped by section in OPML.

    The OPML keeps curator's own fields in curator: attributes, so that importing it into
    an empty configuration gives the same sources.
    """
    from ..config.edit import write_atomically
    from ..sources import export_sources

    text = export_sources(state.config, fmt, now=_now())
    if out is None:
        click.echo(text, nl=False)
        return
    write_atomically(Path(out), text.encode("utf-8"))
    click.echo(f"{len(state.config.sources)} source(s) written to {out}.", err=True)


@sources.command("add", short_help="Add a feed, or find it from a web page.")
@click.argument("url")
@_SECTION
@click.option("--id", "source_id", metavar="ID", help="The new source's id (default: made from its title).")
@_LAB
@_TAG
@click.option("--title", help="Its title (default: the feed's).")
@click.option(
    "--pick",
    type=click.IntRange(1),
    metavar="N",
    help="When the page has several feeds, take the Nth of the list (needed when not on a terminal).",
)
@_DRY_RUN
@pass_state
def add(
    state: State,
    url: str,
    section: str | None,
    source_id: str | None,
    lab: str | None,
    tags: tuple[str, ...],
    title: str | None,
    pick: int | None,
    dry_run: bool,
) -> None:
    """Add one source: a feed's URL, or a web page whose feeds are found for you.

    A page's <link rel="alternate"> feeds (RSS, Atom, JSON Feed) are read, and /feed,
    /rss.xml and /atom.xml are tried; every candidate is checked to be a feed.
    """
    from ..discover import discover
    from ..sources import add_source, check_options, existing_source
    from ..text import clean_text

    config = state.config
    check_options(config, section, lab, tags)
    url = clean_text(url).strip()
    found = existing_source(config, url)
    if found is not None:
        raise UsageError(f"{url} is already in {config.path.name}, as the source {found.id!r}")
    discovery = discover(url, config.fetch)
    feed = _choose(discovery, pick)
    site = discovery.page.final_url if feed.via != "given" else (discovery.page.site or "")
    edit = add_source(
        config,
        feed.url,
        title=title or feed.title or discovery.page.title,
        site=site or "",
        source_id=source_id,
        section=section,
        lab=lab,
        tags=tags,
        dry_run=dry_run,
    )
    change = edit.changes[0]
    if dry_run:
        click.echo(edit.diff, nl=False)
        echo(
            f"Dry run: {change.source_id} ({change.url}) would be added to {edit.path.name}; nothing was written."
        )
    else:
        echo(
            f"Added {change.source_id} ({change.url}) to {edit.path.name}. Fetch it with `curator fetch --source {change.source_id}`."
        )


def _choose(discovery: Discovery, pick: int | None) -> FoundFeed:
    page = discovery.page
    if not discovery.feeds:
        if page.kind is None:
            raise FetchError(page.error_kind or "connection", f"{discovery.url}: {page.error}")
        what = "a web page without a feed" if page.kind == "html" else f"not a feed ({page.error})"
        raise NotFoundError(
            f'{discovery.url} is {what}: no <link rel="alternate"> feed, and nothing at /feed, /rss.xml or /atom.xml'
        )
    feeds = discovery.feeds
    if pick is not None and pick > len(feeds):
        raise UsageError(f"--pick {pick}: there are only {len(feeds)} feed(s) at {discovery.url}")
    if len(feeds) == 1:
        return feeds[0]
    if pick is not None:
        return feeds[pick - 1]
    listing = "\n".join(f"  {n}. {f.url}  ({f.title or f.kind})" for n, f in enumerate(feeds, 1))
    if not _on_terminal():
        raise UsageError(f"{len(feeds)} feeds found at {discovery.url}:\n{listing}\nchoose one with --pick N")
    echo(f"{len(feeds)} feeds found at {discovery.url}:\n{listing}")
    number: int = click.prompt("Which one", type=click.IntRange(1, len(feeds)))
    return feeds[number - 1]


def _on_terminal() -> bool:
    """Whether someone can answer a question (standard input is a terminal)."""
    return sys.stdin.isatty()


@sources.command("apply-redirects", short_help="Apply permanent redirects seen twice.")
@_DRY_RUN
@pass_state
def apply_redirects_(state: State, dry_run: bool) -> None:
    """Write into sources.yaml the permanent redirects (301, 308) seen on two fetches in a row.

    Each source keeps its id, and so its items.
    """
    from ..sources import apply_redirects

    edit = apply_redirects(state.store, state.config, now=_now(), dry_run=dry_run)
    _print_redirects(edit, dry_run)


def _print_redirects(edit: SourcesEdit, dry_run: bool) -> None:
    for change in edit.changes:
        if change.action == "moved":
            echo(f"{change.source_id}: {change.detail} → {change.url}")
        else:
            echo(f"{change.source_id}: not yet: {change.url}, {change.detail}")
    moved = edit.count("moved")
    if dry_run:
        if edit.diff:
            click.echo(edit.diff, nl=False)
        click.echo(f"Dry run: {moved} address(es) would change in {edit.path.name}; nothing was written.")
    elif moved:
        click.echo(f"{moved} address(es) changed in {edit.path.name}.")
    else:
        click.echo(f"No redirect to apply to {edit.path.name}.")


# --- curator check -----------------------------------------------------------------------


@click.command(short_help="Validate the configuration: every error at once.")
@click.option(
    "--network",
    is_flag=True,
    help="Also fetch each enabled source once, politely: status, type, feed or not, redirect, time. Stores nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON object.")
@pass_state
def check(state: State, network: bool, as_json: bool) -> None:
    """Validate the whole configuration and report every error at once.

    One line per error, with file, line, entry and field, then a summary. Exit code 0
    when valid, 2 when not; with --network, 1 when valid but a source is not a working feed.
    """
    from ..config.check import check_config

    report = check_config(state.config_path)
    probes: list[tuple[Any, Inspection]] = []
    if network:
        from ..discover import probe_sources

        probes = probe_sources([s for s in report.sources if s.enabled], report.fetch)
    failing = [(s, p) for s, p in probes if not p.is_feed]
    if as_json:
        print_json(
            {
                "file": str(report.path),
                "valid": report.valid,
                "summary": report.summary(),
                "errors": [
                    {"file": e.path, "line": e.line, "entry": e.entry, "field": e.field, "message": e.message}
                    for e in report.errors
                ],
                "network": [_probe_json(s.id, p) for s, p in probes] if network else None,
            }
        )
    else:
        for error in report.errors:
            echo(str(error))
        for source, probe in probes:
            click.echo(_probe_line(source.id, probe))  # made terminal-safe, then coloured
        click.echo(report.summary())
        if network:
            click.echo(
                f"{len(probes)} source(s) fetched: {len(probes) - len(failing)} feed(s), {len(failing)} failing; "
                f"{sum(1 for _, p in probes if p.moved_to)} moved permanently."
            )
    if not report.valid:
        sys.exit(2)
    if failing:
        sys.exit(1)


def _probe_json(source_id: str, p: Inspection) -> dict[str, Any]:
    return {
        "id": source_id,
        "url": p.url,
        "status": p.status,
        "content_type": p.content_type,
        "feed": p.is_feed,
        "kind": p.kind,
        "entries": p.entries,
        "moved_to": p.moved_to,
        "seconds": round(p.elapsed, 3),
        "error": p.error,
        "error_kind": p.error_kind,
    }


def _probe_line(source_id: str, p: Inspection) -> str:
    took = f"{p.elapsed:.2f} s"
    if p.kind is None:
        line = (
            click.style(terminal_safe(f"{source_id}: failed ({p.error_kind}): {p.error}"), fg="red")
            + f"  {took}"
        )
    elif p.is_feed:
        line = (
            f"{source_id}: {p.status} {p.content_type or '-'}, {p.kind} feed of {p.entries} entries, {took}"
        )
    else:
        line = click.style(
            terminal_safe(f"{source_id}: {p.status} {p.content_type or '-'}, not a feed: {p.error}"), fg="red"
        )
        line += f"  {took}"
    if p.moved_to:
        line += click.style(
            terminal_safe(
                f"\n    moved permanently to {p.moved_to}: `curator sources apply-redirects` after two fetches"
            ),
            fg="yellow",
        )
    return line
