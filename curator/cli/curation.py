"""The month's issue: candidates, pick, unpick, move, edito, event and issue."""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from ..models import Month
from .common import ID, MONTH, CuratorGroup, State, _cli_user, _now, echo, pass_state, print_json


def _reasons_text(reasons: Any) -> str:
    parts = []
    for r in reasons:
        if r.code == "recency":
            parts.append(f"age {r.detail} d ×{r.points:g}")
        elif r.code == "report":
            parts.append(f"report +{r.points:g}")
        elif r.code == "duplicates":
            parts.append(f"also in {r.detail} more +{r.points:g}")
        else:
            parts.append(f"{r.code} {r.detail} +{r.points:g}")
    return ", ".join(parts)


@click.command()
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--section", metavar="ID", help="Only candidates for this section.")
@click.option("--search", metavar="TEXT", help="Full-text search (accents and case ignored).")
@click.option("--source", metavar="ID", help="Only candidates from this source.")
@click.option("--lab", metavar="ID", help="Only candidates from this lab.")
@click.option("--theme", metavar="ID", help="Only candidates with this theme.")
@click.option(
    "--limit", type=click.IntRange(1), default=50, show_default=True, help="At most this many (text output)."
)
@click.option("--json", "as_json", is_flag=True, help="Print every candidate as a JSON array.")
@pass_state
def candidates(
    state: State,
    month: Month,
    section: str | None,
    search: str | None,
    source: str | None,
    lab: str | None,
    theme: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the ranked candidates for a month, duplicates grouped, with their reasons."""
    from .. import editorial

    now = _now()
    found = editorial.candidates(
        state.store,
        state.config,
        month,
        now,
        section=section,
        search=search,
        source=source,
        lab=lab,
        theme=theme,
        reasons=False,
    )
    if as_json:
        from ..serialize import candidate_json

        print_json([candidate_json(c) for c in editorial.explain(state.config, month, now, found)])
        return
    for c in editorial.explain(state.config, month, now, found[:limit]):
        mark = f"[{c.picked}] " if c.picked else ""
        echo(f"{c.ref:>7}  {c.score:6.2f}  {c.published:%Y-%m-%d}  {mark}{c.title}")
        origin = ", ".join(c.sources) if c.sources else f"report by {c.author}"
        echo(f"{'':>17}{c.section or '-'} · {origin} · {_reasons_text(c.reasons)}")
        if c.also_seen:
            echo(f"{'':>17}also seen as: {', '.join(c.also_seen)}")
    if len(found) > limit:
        echo(f"{limit} of {len(found)} candidates shown (--limit N for more, --json for all).", err=True)
    else:
        echo(f"{len(found)} candidates.", err=True)


@click.command()
@click.argument("ref", metavar="ID")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--section", metavar="ID", help="The section (default: the source's, or retours for a report).")
@click.option("--position", type=click.IntRange(1), help="1 = first (default: last).")
@click.option("--note", help="The editor's note, Markdown, shown under the item.")
@click.option("--title", "title_override", help="Replace the item's title in the issue.")
@click.option("--summary", "summary_override", help="Replace the item's summary in the issue.")
@pass_state
def pick(
    state: State,
    ref: str,
    month: Month,
    section: str | None,
    position: int | None,
    note: str | None,
    title_override: str | None,
    summary_override: str | None,
) -> None:
    """Place an item (123) or a report (r5) in a section of the month's issue."""
    from .. import editorial

    now = _now()
    p = editorial.pick(
        state.store,
        state.config,
        month,
        ref,
        now,
        section=section,
        position=position,
        note=note,
        title=title_override,
        summary=summary_override,
        by=_cli_user(),
    )
    echo(f"{p.ref} is #{p.position} in {p.section} of {month}.")


@click.command()
@click.argument("ref", metavar="ID")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@pass_state
def unpick(state: State, ref: str, month: Month) -> None:
    """Take an item or a report out of the month's issue."""
    from .. import editorial

    p = editorial.unpick(state.store, state.config, month, ref, _now())
    echo(f"{p.ref} removed from {p.section} of {month}.")


@click.command()
@click.argument("ref", metavar="ID")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--position", type=click.IntRange(1), required=True, help="The new position, 1 = first.")
@click.option("--section", metavar="ID", help="Move it to another section as well.")
@pass_state
def move(state: State, ref: str, month: Month, position: int, section: str | None) -> None:
    """Move a pick to another position (or section) of the month's issue."""
    from .. import editorial

    p = editorial.move(
        state.store, state.config, month, ref, position, _now(), section=section, by=_cli_user()
    )
    echo(f"{p.ref} is #{p.position} in {p.section} of {month}.")


@click.command()
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    required=True,
    help="A Markdown file, or - for standard input.",
)
@pass_state
def edito(state: State, month: Month, file: Any) -> None:
    """Write the month's édito (Markdown) from a file or standard input."""
    from .. import editorial

    issue = editorial.set_edito(state.store, state.config, month, file.read(), _now())
    echo(f"Édito of {month} saved ({len(issue.edito)} characters).")


def _parse_when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use YYYY-MM-DD HH:MM (Europe/Paris time)", param_hint=name
        ) from None


@click.group(cls=CuratorGroup)
def event() -> None:
    """Manage the agenda of an issue (add, list, remove)."""


@event.command("add")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--title", required=True, help="The event's title.")
@click.option("--start", required=True, help="Start, YYYY-MM-DD HH:MM in the newsletter's time zone.")
@click.option("--end", help="End, YYYY-MM-DD HH:MM.")
@click.option("--place", default="", help="Where it takes place.")
@click.option("--video", "video_url", help="A video-conference link (https).")
@click.option("--description", default="", help="A short description.")
@click.option("--link", help="A page about the event (https).")
@pass_state
def event_add(
    state: State,
    month: Month,
    title: str,
    start: str,
    end: str | None,
    place: str,
    video_url: str | None,
    description: str,
    link: str | None,
) -> None:
    """Add an event to the agenda of an issue."""
    from .. import editorial

    starts_at = _parse_when(start, "--start")
    assert starts_at is not None
    e = editorial.add_event(
        state.store,
        state.config,
        month,
        _now(),
        title=title,
        starts_at=starts_at,
        ends_at=_parse_when(end, "--end"),
        place=place,
        video_url=video_url,
        description=description,
        link=link,
    )
    echo(f"Event {e.id} added to {month}.")


@event.command("list")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_state
def event_list(state: State, month: Month, as_json: bool) -> None:
    """List the agenda of an issue."""
    from zoneinfo import ZoneInfo

    from ..serialize import event_json

    events = state.store.events(month)
    if as_json:
        print_json([event_json(e) for e in events])
        return
    tz = ZoneInfo(state.config.newsletter.timezone)
    for e in events:
        echo(
            f"{e.id:>4}  {e.starts_at.astimezone(tz):%Y-%m-%d %H:%M}  {e.title}  {e.place or e.video_url or ''}"
        )


@event.command("remove")
@click.argument("event_id", metavar="ID", type=ID)
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@pass_state
def event_remove(state: State, event_id: int, month: Month) -> None:
    """Remove an event from the agenda of an issue."""
    from .. import editorial

    e = editorial.remove_event(state.store, state.config, month, event_id, _now())
    echo(f"Event {e.id} ({e.title}) removed.")


@click.group("issue", cls=CuratorGroup)
def issue_group() -> None:
    """Show, retitle or reopen a month's issue."""


@issue_group.command("show")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON (see the README).")
@pass_state
def issue_show(state: State, month: Month, as_json: bool) -> None:
    """Show the issue as it stands: sections, picks in order with notes, events."""
    from .. import views

    view = views.issue_view(state.store, state.config, month)
    if as_json:
        from ..serialize import issue_json

        print_json(issue_json(view))
        return
    issue = view.issue
    tz = ZoneInfo(state.config.newsletter.timezone)
    when = ""
    if issue.state == "published" and issue.published_at:
        when = f", published {issue.published_at.astimezone(tz):%Y-%m-%d}"
    echo(f"{issue.title} [{issue.state}{when}, version {issue.version}]")
    for s in view.sections:
        if s.section.kind == "edito":
            echo(f"\n{s.section.title}")
            echo(textwrap.indent(_first_lines(issue.edito), "  ") if issue.edito else "  (none yet)")
        elif s.section.kind == "agenda":
            echo(f"\n{s.section.title} ({len(view.events)}; times in {tz.key})")
            for e in view.events:
                start, end_at = e.starts_at.astimezone(tz), e.ends_at.astimezone(tz) if e.ends_at else None
                same_day = end_at is not None and end_at.date() == start.date()
                end = f"–{end_at:%H:%M}" if same_day else f" – {end_at:%Y-%m-%d %H:%M}" if end_at else ""
                where = f" · {e.place}" if e.place else ""
                echo(f"  #{e.id}  {start:%Y-%m-%d %H:%M}{end}  {e.title}{where}")
        else:
            limit = f"/{s.section.max_picks}" if s.section.max_picks else ""
            echo(f"\n{s.section.title} ({len(s.picks)}{limit})")
            for p in s.picks:
                echo(f"  {p.pick.position}. [{p.ref}] {p.title}")
                if p.note:
                    echo(f"     note: {p.note}")


def _first_lines(text: str, lines: int = 4) -> str:
    """The first lines of a text, with « … » when there is more."""
    kept = text.strip().splitlines()
    return "\n".join(kept[:lines]) + ("\n…" if len(kept) > lines else "")


@issue_group.command("title")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.argument("title")
@pass_state
def issue_title(state: State, month: Month, title: str) -> None:
    """Change the title of a month's issue."""
    from .. import editorial

    issue = editorial.set_title(state.store, state.config, month, title, _now())
    echo(f"{month}: {issue.title}")


@issue_group.command("reopen")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@pass_state
def issue_reopen(state: State, month: Month) -> None:
    """Reopen a published issue so that it can be changed again."""
    from .. import editorial

    editorial.reopen(state.store, month, _now())
    echo(f"{month} is a draft again; `curator publish --month {month}` freezes it.")
