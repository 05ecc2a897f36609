"""The month's issue: candidates, pick, unpick, move, edito, event and issue."""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from ..models import Month
from .common import ID, MONTH, CuratorGroup, State, _cli_user, _now, echo, pass_state, plural, print_json


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
@click.option(
    "--section",
    metavar="ID",
    help="Only candidates for this section (a section of kind labs lists the labs to portray).",
)
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
    """List the ranked candidates for a month, duplicates grouped, with their reasons.

    For a section of kind labs (--section portraits), the labs to portray: those never
    portrayed first, then those portrayed longest ago.
    """
    from .. import editorial

    now = _now()
    if section is not None and _is_labs_section(state.config, section):
        _lab_candidates(state, month, as_json)
        return
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
        echo(
            f"{limit} of {plural(len(found), 'candidate')} shown (--limit N for more, --json for all).",
            err=True,
        )
    else:
        echo(f"{plural(len(found), 'candidate')}.", err=True)


def _is_labs_section(config: Any, section: str) -> bool:
    return any(s.id == section and s.kind == "labs" for s in config.sections)


def _lab_candidates(state: State, month: Month, as_json: bool) -> None:
    """The labs to portray in the month's issue, as `candidates --section` of kind labs lists them."""
    from .. import editorial

    found = editorial.lab_candidates(state.store, state.config, month)
    if as_json:
        from ..serialize import lab_candidate_json

        print_json([lab_candidate_json(c) for c in found])
        return
    for c in found:
        mark = f"[{c.picked}] " if c.picked else ""
        last = f"last portrayed {c.last_portrayed}" if c.last_portrayed else "never portrayed"
        where = " · ".join(x for x in (c.lab.academie, c.lab.city) if x)
        card = "" if c.filled else " · empty card (`curator labs set`)"
        echo(f"{c.ref:<24} {mark}{c.lab.name}")
        echo(f"{'':>25}{where} · {last}{card}")
    echo(f"{plural(len(found), 'lab')}; `curator pick lab:ID --month {month}` portrays one.", err=True)


@click.command()
@click.argument("ref", metavar="ID")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option(
    "--section",
    metavar="ID",
    help="The section (default: the source's, retours for a report, the first section of kind labs for a lab).",
)
@click.option("--position", type=click.IntRange(1), help="1 = first (default: last).")
@click.option("--note", help="The editor's note, Markdown, shown under the item or the lab's portrait.")
@click.option("--title", "title_override", help="Replace the item's title in the issue (not for a lab).")
@click.option(
    "--summary", "summary_override", help="Replace the item's summary in the issue (not for a lab)."
)
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
    """Place an item (123), a report (r5) or a lab's portrait (lab:ID) in a section of the month's issue.

    A lab's portrait shows its identity card (`curator labs show ID`) and goes into a section
    of kind labs; a lab may be portrayed again in a later issue.
    """
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
    """Take an item, a report or a lab's portrait (lab:ID) out of the month's issue."""
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
    echo(f"Édito of {month} saved ({plural(len(issue.edito), 'character')}).")


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
                if p.portrait is not None:
                    card = p.portrait.card
                    facts = [f"lab:{p.portrait.lab.id}"]
                    facts += [x for x in (p.portrait.lab.academie, p.portrait.lab.city) if x]
                    if card.updated_at is not None and p.portrait.filled:
                        facts.append(f"card of {card.updated_at.astimezone(tz):%Y-%m-%d}")
                    else:
                        facts.append("empty card (`curator labs set`)")
                    echo(f"     {' · '.join(facts)}")
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


def _finding_text(f: Any, config: Any) -> str:
    """A finding of the checklist, in English, on one line."""
    d = f.data
    tz = ZoneInfo(config.newsletter.timezone)
    if f.code == "issue_empty":
        return "the issue is empty: pick items or write the édito"
    if f.code == "section_over_max":
        return f"{d['title']} has {d['picks']} picks, more than its max_picks of {d['max_picks']}"
    if f.code == "note_missing":
        return f"{d['title']}: [{d['ref']}] {d['pick_title']} has no editor's note (the section requires one)"
    if f.code == "report_withdrawn":
        return (
            f"report {d['ref']} ({d['title']}) is {d['status']} since it was picked: readers will not "
            "see it; unpick it or approve it again"
        )
    if f.code == "portrait_lab_unknown":
        return (
            f"the portrait [{d['ref']}] is of a lab no longer in {config.path} ({d['lab'] or 'unknown'}): "
            f"readers will not see it; unpick it or list the lab again"
        )
    if f.code == "portrait_empty":
        return (
            f"the portrait [{d['ref']}] {d['title']}: the lab never filled its card, only its name will show"
        )
    if f.code == "unsubscribe_missing":
        return f"no way to unsubscribe: set newsletter.unsubscribe in {config.path}"
    if f.code == "email_failed":
        return f"the email cannot be rendered: {d['error']}"
    if f.code == "section_empty":
        return f"{d['title']} is empty: it will not appear"
    if f.code == "email_too_large":
        return (
            f"the email's HTML is {d['bytes'] / 1000:.0f} KB: Gmail clips messages over "
            f"{d['limit'] / 1000:.0f} KB (shorten summaries or move picks to the next issue)"
        )
    if f.code == "image_without_alt":
        return f"an image of the email has no alt text: {d['src']}"
    if f.code == "link_broken":
        why = f"HTTP {d['status']}" if d["status"] else (d["error"] or "failed")
        where = ", ".join(
            "the édito"
            if p["kind"] == "edito"
            else f"[{p['ref']}] {p['title']}"
            if p["kind"] == "pick"
            else f"event #{p['ref']} {p['title']}"
            for p in d["places"]
        )
        return f"broken link ({why}, checked {d['checked_at'].astimezone(tz):%Y-%m-%d %H:%M}) in {where}: {d['url']}"
    if f.code == "event_past":
        return f"event #{d['event_id']} {d['title']} is over ({d['starts_at'].astimezone(tz):%Y-%m-%d %H:%M})"
    return f.code


@issue_group.command("check")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option(
    "--links",
    "check_links",
    is_flag=True,
    help="Check the issue's links first (HEAD, politely; a link found working is not checked again for a day).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checklist as JSON (see the README).")
@pass_state
def issue_check(state: State, month: Month, check_links: bool, as_json: bool) -> None:
    """Show the pre-publication checklist of a month's issue: one line per point, then a summary.

    Blocking points: an empty issue, a section over its max_picks, a pick without the note its
    section requires, a picked report no longer approved, a portrait of a lab no longer in
    sources.yaml, no unsubscribe address, an email that cannot be rendered. Warnings: empty
    sections, an email Gmail clips (over 102 KB), images without alt text, broken links (as
    last checked: --links checks them), past events, a portrait of a lab whose card is empty.
    Exit codes: 0 nothing blocks, 1 something blocks.
    """
    import sys

    from .. import checklist, editorial, render, views

    store, config, now = state.store, state.config, _now()
    if check_links:
        run = checklist.check_issue_links(store, config, month, now, clock=_now)
        echo(
            f"{plural(run.checked, 'link')} checked, {run.broken} broken; {run.kept} known to work from the last day"
            + (f"; {run.unfinished} not checked in time (run again)" if run.unfinished else "")
            + ".",
            err=True,
        )
    view = views.issue_view(store, config, month, editorial.peek_issue(store, config, month, now))
    found = checklist.issue_checklist(
        store, config, month, now, view=view, email=render.email_facts(view, config, now=now)
    )
    if as_json:
        from ..serialize import checklist_json

        print_json(checklist_json(found))
    else:
        for f in found.findings:
            echo(f"{'BLOCKING' if f.blocking else 'warning':<8}  {_finding_text(f, config)}")
        links = found.links
        if links.checked:
            when = f", last checked {links.last_checked:%Y-%m-%d %H:%M} UTC" if links.last_checked else ""
            link_text = f"{plural(links.total, 'link')}, {links.broken} broken ({links.unchecked} never checked{when})"
        else:
            link_text = f"{plural(links.total, 'link')}, not checked yet (--links checks them)"
        blocking, warnings = len(found.blocking), len(found.warnings)
        echo(f"{month}: {blocking} blocking, {plural(warnings, 'warning')}; {link_text}.")
        if view.issue.published:
            echo(f"{month} is published.")
        elif found.ok:
            echo(f"Nothing blocks: `curator publish --month {month}` publishes it.")
        else:
            echo("Fix the blocking points before publishing.")
    if not found.ok:
        sys.exit(1)
