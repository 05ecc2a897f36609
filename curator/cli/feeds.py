"""Feeds and items: fetch, items (the sources commands are in sources.py)."""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import click

from ..models import Month
from ..text import terminal_safe
from .common import MONTH, State, echo, pass_state, plural, print_json


@click.command()
@click.option(
    "--source", "source_ids", multiple=True, metavar="ID", help="Fetch only this source (repeatable)."
)
@click.option(
    "--concurrency", type=click.IntRange(1, 256), help="How many sources to fetch at once (default 16)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and the summary.")
@pass_state
def fetch(state: State, source_ids: tuple[str, ...], concurrency: int | None, quiet: bool) -> None:
    """Fetch the enabled sources and store their new items."""
    from ..ingest import update_sources

    config = state.config
    store = state.store
    total = len(source_ids) or sum(1 for s in config.sources if s.enabled)
    show_bar = sys.stderr.isatty() and not quiet
    bar_ctx = click.progressbar(length=total, label="Fetching", file=sys.stderr) if show_bar else None
    bar = bar_ctx.__enter__() if bar_ctx else None

    def on_result(result: Any) -> None:
        if bar is not None:
            bar.update(1)
        if quiet and result.outcome != "failed":
            return
        line = _result_line(result)
        if bar is not None:
            click.echo("\r\033[K" + line)
        else:
            click.echo(line)

    try:
        summary = update_sources(
            store, config, source_ids=source_ids or None, concurrency=concurrency, on_result=on_result
        )
    finally:
        if bar_ctx is not None:
            bar_ctx.__exit__(None, None, None)
    click.echo(
        f"{plural(summary.sources, 'source')}: {plural(summary.new, 'new item')}, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.skipped} skipped, {summary.failed} failed."
    )
    if summary.failed:
        sys.exit(1)


def _result_line(result: Any) -> str:
    if result.outcome == "failed":
        text = terminal_safe(f"{result.source_id}: failed ({result.error_kind}): {result.message}")
        return click.style(text, fg="red")
    if result.outcome == "skipped":
        return terminal_safe(f"{result.source_id}: skipped: {result.message}")
    if result.outcome == "unchanged":
        text = f"{result.source_id}: unchanged"
    else:
        text = f"{result.source_id}: {result.new} new, {result.updated} updated"
    if getattr(result, "warning", None):
        text += click.style(terminal_safe(f" (warning: {result.warning})"), fg="yellow")
    return text


@click.command()
@click.option(
    "--month", type=MONTH, help="Only items published in this month (in the newsletter's time zone)."
)
@click.option("--source", metavar="ID", help="Only items from this source.")
@click.option(
    "--search", metavar="TEXT", help="Full-text search in titles and summaries (accents and case ignored)."
)
@click.option("--limit", type=click.IntRange(1), help="At most this many items.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its fields).")
@pass_state
def items(
    state: State,
    month: Month | None,
    source: str | None,
    search: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List stored items, newest first."""
    from zoneinfo import ZoneInfo

    start = end = None
    if month is not None:
        tz = ZoneInfo(state.config.newsletter.timezone) if Path(state.config_path).exists() else UTC
        start, end = month.start(tz), month.end(tz)
    found = state.store.items(start=start, end=end, source=source, search=search, limit=limit)
    if as_json:
        from ..serialize import item_json

        print_json([item_json(i) for i in found])
        return
    for item in found:
        flag = "~" if item.published_estimated else " "
        echo(f"{item.id:>6}  {item.published:%Y-%m-%d}{flag} {item.source or '-':<20} {item.title}")
    click.echo(f"{plural(len(found), 'item')}.", err=True)
