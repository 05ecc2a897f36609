"""The ``curator`` command: each command parses options, calls one domain function, prints."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import CuratorError
from .models import Month

if TYPE_CHECKING:
    from .config import Config
    from .store import Store

F = TypeVar("F", bound=Callable[..., Any])


class MonthType(click.ParamType):
    """A ``YYYY-MM`` month on the command line."""

    name = "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Month:
        if isinstance(value, Month):
            return value
        try:
            return Month.parse(str(value))
        except CuratorError as exc:
            self.fail(str(exc), param, ctx)


MONTH = MonthType()
ID = click.IntRange(1, 999_999_999_999_999_999)  # a stored id: SQLite integers are 64-bit


class State:
    """What every command shares: where the database and the configuration are."""

    def __init__(self, db: str = "curator.db", config: str = "sources.yaml") -> None:
        self.db_path = db
        self.config_path = config
        self._config: Config | None = None
        self._store: Store | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from .config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            from .store import Store

            self._store = Store.open(self.db_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class CuratorGroup(click.Group):
    """Turns domain errors into one clear line and the right exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CuratorError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from None


def _set_db(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        ctx.ensure_object(State).db_path = value
    return value


def _set_config(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        ctx.ensure_object(State).config_path = value
    return value


def common_options(f: F) -> F:
    """``--db`` and ``--config`` are accepted after the command name too."""
    f = click.option(
        "--config",
        type=click.Path(dir_okay=False),
        callback=_set_config,
        expose_value=False,
        help="The configuration file (env CURATOR_CONFIG; default sources.yaml).",
    )(f)
    f = click.option(
        "--db",
        type=click.Path(dir_okay=False),
        callback=_set_db,
        expose_value=False,
        help="The SQLite database (env CURATOR_DB; default curator.db).",
    )(f)
    return f


def pass_state(f: F) -> F:
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(click.get_current_context().find_object(State), *args, **kwargs)

    return common_options(wrapper)  # type: ignore[return-value]


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _now() -> datetime:
    return datetime.now(UTC)


@click.group(
    cls=CuratorGroup,
    context_settings={"auto_envvar_prefix": "CURATOR", "help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    default="curator.db",
    show_default=True,
    envvar="CURATOR_DB",
    type=click.Path(dir_okay=False),
    help="The SQLite database (env CURATOR_DB).",
)
@click.option(
    "--config",
    default="sources.yaml",
    show_default=True,
    envvar="CURATOR_CONFIG",
    type=click.Path(dir_okay=False),
    help="The configuration file (env CURATOR_CONFIG).",
)
@click.version_option(__version__, prog_name="curator")
@click.pass_context
def cli(ctx: click.Context, db: str, config: str) -> None:
    """Curate and publish the monthly infolettre of a community of labs.

    Exit codes: 0 success, 1 a command failed (for fetch: some sources failed,
    everything else was stored), 2 bad usage or an invalid configuration.
    """
    state = ctx.ensure_object(State)
    state.db_path = db
    state.config_path = config
    ctx.call_on_close(state.close)


# --- sources and items ----------------------------------------------------------


@cli.command()
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
    from .update import update_sources

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
        f"{summary.sources} sources: {summary.new} new items, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.skipped} skipped, {summary.failed} failed."
    )
    if summary.failed:
        sys.exit(1)


def _result_line(result: Any) -> str:
    if result.outcome == "failed":
        text = f"{result.source_id}: failed ({result.error_kind}): {result.message}"
        return click.style(text, fg="red")
    if result.outcome == "skipped":
        return f"{result.source_id}: skipped: {result.message}"
    if result.outcome == "unchanged":
        text = f"{result.source_id}: unchanged"
    else:
        text = f"{result.source_id}: {result.new} new, {result.updated} updated"
    if getattr(result, "warning", None):
        text += click.style(f" (warning: {result.warning})", fg="yellow")
    return text


def item_json(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "source": item.source,
        "sources": list(item.sources),
        "title": item.title,
        "url": item.url,
        "published": item.published.isoformat(),
        "published_estimated": item.published_estimated,
        "summary": item.summary,
        "excerpt": item.excerpt,
        "author": item.author,
        "tags": list(item.categories),
        "first_seen": item.first_seen.isoformat(),
        "updated": item.updated.isoformat(),
    }


@cli.command()
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
        print_json([item_json(i) for i in found])
        return
    for item in found:
        flag = "~" if item.published_estimated else " "
        click.echo(f"{item.id:>6}  {item.published:%Y-%m-%d}{flag} {item.source or '-':<20} {item.title}")
    click.echo(f"{len(found)} items.", err=True)


def source_json(s: Any) -> dict[str, Any]:
    def dt(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": s.id,
        "url": s.url,
        "title": s.title,
        "section": s.section,
        "lab": s.lab,
        "tags": list(s.tags),
        "weight": s.weight,
        "enabled": s.enabled,
        "status": s.status,
        "disabled_reason": s.disabled_reason,
        "last_error": s.last_error,
        "last_fetched": dt(s.last_fetched),
        "consecutive_failures": s.consecutive_failures,
        "last_new_item": dt(s.last_new_item),
        "retry_after": dt(s.retry_after),
        "moved_to": s.moved_to,
        "items": s.items,
    }


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its fields).")
@pass_state
def sources(state: State, as_json: bool) -> None:
    """List the sources with their last fetch status (syncs sources.yaml first)."""
    store = state.store
    store.sync_sources(state.config.sources, _now())
    rows = store.sources()
    if as_json:
        print_json([source_json(s) for s in rows])
        return
    for s in rows:
        status = s.status if s.enabled else f"disabled ({s.disabled_reason})"
        line = f"{s.id:<24} {status:<10} {s.items:>5} items  {s.url}"
        if s.last_error:
            line += f"\n{'':<24} last error: {s.last_error}"
        if s.moved_to:
            line += f"\n{'':<24} moved permanently to {s.moved_to}: update sources.yaml"
        click.echo(line)


# --- the web app, experience reports and editors -----------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="The port to listen on."
)
@click.option(
    "--demo",
    "demo_mode",
    is_flag=True,
    help="Allow running without CURATOR_SECRET_KEY (a random key; sessions end with the process).",
)
@click.option(
    "--debug", is_flag=True, help="Reload on code changes and show tracebacks (never in production)."
)
@pass_state
def serve(state: State, host: str, port: int, demo_mode: bool, debug: bool) -> None:
    """Serve the contribution form (/contribuer) and the editor area (/editeur) for local use.

    This is Flask's development server. In production, run the app under a
    WSGI server behind a reverse proxy (see the README):
    gunicorn 'curator.web:create_app_from_env()'. The secret key comes from
    the environment variable CURATOR_SECRET_KEY.
    """
    from .web import create_app

    app = create_app(state.config_path, state.db_path, demo=demo_mode)
    click.echo(
        f"Contribution form: http://{host}:{port}/contribuer  —  editor area: http://{host}:{port}/editeur/"
    )
    app.run(host=host, port=port, debug=debug, use_reloader=debug, threaded=True)


def report_json(report: Any, config: Any = None) -> dict[str, Any]:
    from .reports import report_json as to_json

    return to_json(report, config)


def _optional_config(state: State) -> Any:
    """The configuration if there is one: reports can be listed without it (labs shown by id)."""
    return state.config if Path(state.config_path).exists() else None


def _list_reports(state: State, status: str | None, as_json: bool) -> None:
    from .reports import lab_label, list_reports

    found = list_reports(state.store, status)
    config = _optional_config(state)
    if as_json:
        print_json([report_json(r, config) for r in found])
        return
    for r in found:
        click.echo(
            f"{r.id:>5}  {r.status:<8}  {r.submitted_at:%Y-%m-%d}  {lab_label(r, config)[:28]:<28}  {r.title}"
        )
    click.echo(f"{len(found)} reports.", err=True)


_STATUS = click.Choice(["pending", "approved", "rejected"])


@cli.group(cls=CuratorGroup, invoke_without_command=True)
@click.option("--status", type=_STATUS, help="Only reports with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its fields).")
@click.pass_context
@pass_state
def reports(state: State, ctx: click.Context, status: str | None, as_json: bool) -> None:
    """List experience reports, newest first; moderate them (show, approve, reject)."""
    if ctx.invoked_subcommand is None:
        _list_reports(state, status, as_json)


@reports.command("list")
@click.option("--status", type=_STATUS, help="Only reports with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its fields).")
@pass_state
def reports_list(state: State, status: str | None, as_json: bool) -> None:
    """List experience reports, newest first (the same as `curator reports`)."""
    _list_reports(state, status, as_json)


@reports.command("show")
@click.argument("report_id", metavar="ID", type=ID)
@click.option("--json", "as_json", is_flag=True, help="Print the report and its history as JSON.")
@pass_state
def reports_show(state: State, report_id: int, as_json: bool) -> None:
    """Show one report, its Markdown text and its history."""
    from .reports import LICENSES, lab_label, theme_labels

    store = state.store
    r = store.report(report_id)
    history = store.report_changes(report_id)
    config = _optional_config(state)
    if as_json:
        data = report_json(r, config)
        data["history"] = [
            {
                "at": c.at.isoformat(),
                "editor": c.editor,
                "action": c.action,
                "changes": c.changes,
                "reason": c.reason,
            }
            for c in history
        ]
        print_json(data)
        return
    lines = [
        f"Report {r.id}: {r.title}",
        f"status:    {r.status}"
        + (f" (by {r.decided_by}, {r.decided_at:%Y-%m-%d %H:%M} UTC)" if r.decided_at else ""),
    ]
    if r.reject_reason:
        lines.append(f"reason:    {r.reject_reason}")
    lines += [
        f"lab:       {lab_label(r, config)}" + ("" if r.lab else " (not in sources.yaml)"),
        f"author:    {r.author_name} <{r.author_email}>",
        f"submitted: {r.submitted_at:%Y-%m-%d %H:%M} UTC",
        f"themes:    {', '.join(theme_labels(r.tags, config)) or '-'}",
        f"licence:   {LICENSES[r.license][0] if r.license in LICENSES else r.license}",
        f"link:      {r.link or '-'}",
        "",
        r.summary,
        "",
        r.body,
    ]
    if history:
        lines += ["", "History:"]
        for c in history:
            what = ", ".join(c.changes) if c.action == "edited" else c.action
            lines.append(
                f"  {c.at:%Y-%m-%d %H:%M} UTC  {c.editor}: {what}" + (f" ({c.reason})" if c.reason else "")
            )
    click.echo("\n".join(lines))


@reports.command("approve")
@click.argument("report_id", metavar="ID", type=ID)
@pass_state
def reports_approve(state: State, report_id: int) -> None:
    """Approve a report: it becomes a candidate for the « Retours d'expérience » section."""
    from .reports import approve

    r = approve(state.store, report_id, editor=_cli_user(), now=_now())
    click.echo(f"Report {r.id} approved: {r.title}")


@reports.command("reject")
@click.argument("report_id", metavar="ID", type=ID)
@click.option("--reason", required=True, help="Why it is rejected (kept with the report, for the editors).")
@pass_state
def reports_reject(state: State, report_id: int, reason: str) -> None:
    """Reject a report, with a reason."""
    from .reports import reject

    r = reject(state.store, report_id, reason=reason, editor=_cli_user(), now=_now(), locale="en")
    click.echo(f"Report {r.id} rejected: {r.title}")


@cli.group(cls=CuratorGroup)
def editors() -> None:
    """Manage who may log in to the editor area of the web app (add, list, remove)."""


@editors.command("add")
@click.argument("email")
@click.option("--update", is_flag=True, help="Change the password of an existing editor instead.")
@pass_state
def editors_add(state: State, email: str, update: bool) -> None:
    """Create an editor; the password is asked twice (or read from CURATOR_EDITOR_PASSWORD)."""
    import os

    from .editors import MIN_PASSWORD_LENGTH, add_editor, normalise_email

    if not update and state.store.editor(normalise_email(email)) is not None:
        from .errors import UsageError

        raise UsageError(
            f"editor {normalise_email(email)} already exists: use --update to change the password"
        )
    password = os.environ.get("CURATOR_EDITOR_PASSWORD")
    if not password:
        password = click.prompt(
            f"Password (at least {MIN_PASSWORD_LENGTH} characters)", hide_input=True, confirmation_prompt=True
        )
    editor = add_editor(state.store, email, password, _now(), update=update)
    click.echo(
        f"Editor {editor.email} {'updated' if update else 'added'}: they can log in at /editeur/connexion."
    )


@editors.command("list")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array of {email, created_at, last_login}."
)
@pass_state
def editors_list(state: State, as_json: bool) -> None:
    """List the editors and when they last logged in."""
    from .editors import list_editors

    found = list_editors(state.store)
    if as_json:
        print_json(
            [
                {
                    "email": e.email,
                    "created_at": e.created_at.isoformat(),
                    "last_login": e.last_login.isoformat() if e.last_login else None,
                }
                for e in found
            ]
        )
        return
    for e in found:
        last = f"{e.last_login:%Y-%m-%d %H:%M} UTC" if e.last_login else "never"
        click.echo(f"{e.email:<40} added {e.created_at:%Y-%m-%d}, last login {last}")
    click.echo(f"{len(found)} editors.", err=True)


@editors.command("remove")
@click.argument("email")
@pass_state
def editors_remove(state: State, email: str) -> None:
    """Remove an editor; their open sessions end at their next request."""
    from .editors import remove_editor

    remove_editor(state.store, email)
    click.echo(f"Editor {email} removed.")


# --- the offline demo -----------------------------------------------------------


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where the demo writes its configuration, database and output.",
)
def demo(directory: Path) -> None:
    """Run the whole monthly workflow on bundled sample feeds, offline."""
    from .demo import run_demo

    run_demo(directory, echo=click.echo)


# --- the month's issue ------------------------------------------------------------


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


def candidate_json(c: Any) -> dict[str, Any]:
    return {
        "ref": c.ref,
        "kind": c.kind,
        "id": c.id,
        "title": c.title,
        "url": c.url,
        "excerpt": c.excerpt,
        "published": c.published.isoformat(),
        "sources": list(c.sources),
        "lab": c.lab,
        "section": c.section,
        "themes": list(c.themes),
        "score": c.score,
        "reasons": [{"code": r.code, "detail": r.detail, "points": r.points} for r in c.reasons],
        "also_seen": list(c.also_seen),
        "picked": c.picked,
    }


@cli.command()
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
    from . import editorial

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
        print_json([candidate_json(c) for c in editorial.explain(state.config, now, found)])
        return
    for c in editorial.explain(state.config, now, found[:limit]):
        mark = f"[{c.picked}] " if c.picked else ""
        click.echo(f"{c.ref:>7}  {c.score:6.2f}  {c.published:%Y-%m-%d}  {mark}{c.title}")
        origin = ", ".join(c.sources) if c.sources else f"report by {c.author}"
        click.echo(f"{'':>17}{c.section or '-'} · {origin} · {_reasons_text(c.reasons)}")
        if c.also_seen:
            click.echo(f"{'':>17}also seen as: {', '.join(c.also_seen)}")
    click.echo(f"{len(found)} candidates.", err=True)


@cli.command()
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
    from . import editorial

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
    click.echo(f"{p.ref} is #{p.position} in {p.section} of {month}.")


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@pass_state
def unpick(state: State, ref: str, month: Month) -> None:
    """Take an item or a report out of the month's issue."""
    from . import editorial

    p = editorial.unpick(state.store, state.config, month, ref, _now())
    click.echo(f"{p.ref} removed from {p.section} of {month}.")


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--position", type=click.IntRange(1), required=True, help="The new position, 1 = first.")
@click.option("--section", metavar="ID", help="Move it to another section as well.")
@pass_state
def move(state: State, ref: str, month: Month, position: int, section: str | None) -> None:
    """Move a pick to another position (or section) of the month's issue."""
    from . import editorial

    p = editorial.move(
        state.store, state.config, month, ref, position, _now(), section=section, by=_cli_user()
    )
    click.echo(f"{p.ref} is #{p.position} in {p.section} of {month}.")


@cli.command()
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
    from . import editorial

    issue = editorial.set_edito(state.store, state.config, month, file.read(), _now())
    click.echo(f"Édito of {month} saved ({len(issue.edito)} characters).")


def _cli_user() -> str:
    import getpass

    try:
        return f"{getpass.getuser()} (cli)"
    except Exception:
        return "cli"


def _parse_when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use YYYY-MM-DD HH:MM (Europe/Paris time)", param_hint=name
        ) from None


@cli.group(cls=CuratorGroup)
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
    from . import editorial

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
    click.echo(f"Event {e.id} added to {month}.")


@event.command("list")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_state
def event_list(state: State, month: Month, as_json: bool) -> None:
    """List the agenda of an issue."""
    from zoneinfo import ZoneInfo

    from .editorial import event_json

    events = state.store.events(month)
    if as_json:
        print_json([event_json(e) for e in events])
        return
    tz = ZoneInfo(state.config.newsletter.timezone)
    for e in events:
        click.echo(
            f"{e.id:>4}  {e.starts_at.astimezone(tz):%Y-%m-%d %H:%M}  {e.title}  {e.place or e.video_url or ''}"
        )


@event.command("remove")
@click.argument("event_id", metavar="ID", type=ID)
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@pass_state
def event_remove(state: State, event_id: int, month: Month) -> None:
    """Remove an event from the agenda of an issue."""
    from . import editorial

    e = editorial.remove_event(state.store, state.config, month, event_id, _now())
    click.echo(f"Event {e.id} ({e.title}) removed.")


@cli.group("issue", cls=CuratorGroup)
def issue_group() -> None:
    """Show, retitle or reopen a month's issue."""


@issue_group.command("show")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON (see the README).")
@pass_state
def issue_show(state: State, month: Month, as_json: bool) -> None:
    """Show the issue as it stands: sections, picks in order with notes, events."""
    from . import editorial

    view = editorial.issue_view(state.store, state.config, month)
    if as_json:
        print_json(editorial.issue_json(view))
        return
    issue = view.issue
    click.echo(f"{issue.title} [{issue.state}, version {issue.version}]")
    if issue.edito:
        click.echo(f"\nÉdito: {issue.edito[:200]}")
    for s in view.sections:
        limit = f"/{s.section.max_picks}" if s.section.max_picks else ""
        click.echo(f"\n{s.section.title} ({len(s.picks)}{limit})")
        for p in s.picks:
            click.echo(f"  {p.pick.position}. [{p.ref}] {p.title}")
            if p.note:
                click.echo(f"     note: {p.note}")
    if view.events:
        click.echo("\nAgenda")
        for e in view.events:
            click.echo(f"  {e.starts_at:%Y-%m-%d %H:%M} UTC  {e.title}")


@issue_group.command("title")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.argument("title")
@pass_state
def issue_title(state: State, month: Month, title: str) -> None:
    """Change the title of a month's issue."""
    from . import editorial

    issue = editorial.set_title(state.store, state.config, month, title, _now())
    click.echo(f"{month}: {issue.title}")


@issue_group.command("reopen")
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@pass_state
def issue_reopen(state: State, month: Month) -> None:
    """Reopen a published issue so that it can be changed again."""
    from . import editorial

    editorial.reopen(state.store, month, _now())
    click.echo(f"{month} is a draft again; `curator publish --month {month}` freezes it.")


# --- the email: draft and send -------------------------------------------------------


_TEMPLATES_OPTION = click.option(
    "--templates",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder with your own email/issue.mjml.j2 and/or email/issue.txt.j2 "
    "(default: the email.templates setting, else the packaged templates).",
)


@cli.command()
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("drafts"),
    show_default=True,
    help="Where to write MONTH/email.html, email.txt and email.eml.",
)
@_TEMPLATES_OPTION
@pass_state
def draft(state: State, month: Month, out: Path, templates: Path | None) -> None:
    """Render the month's issue as an email (HTML, plain text and a .eml to open) to proofread."""
    from .mail import draft_issue

    paths = draft_issue(state.store, state.config, month, out, _now(), templates=templates)
    for warning in paths.warnings:
        click.echo(click.style(f"warning: {warning}", fg="yellow"), err=True)
    click.echo(f"{paths.html}\n{paths.text}\n{paths.eml}")
    click.echo(
        f"{month}: {len(paths.rendered.html.encode()) / 1000:.0f} KB of HTML. "
        f"Send a proof with `curator send --month {month} --test --to YOUR@ADDRESS`.",
        err=True,
    )


@cli.command()
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option(
    "--to", "to", multiple=True, metavar="ADDRESS", help="A recipient (repeatable), e.g. the list's address."
)
@click.option(
    "--recipients",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A CSV file of recipients (a column named email, or addresses in the first column).",
)
@click.option("--test", is_flag=True, help="Send a proof: « [TEST] » in the subject, nothing recorded.")
@click.option(
    "--smtp-host", metavar="HOST", help="The SMTP server (default: email.smtp.host, else localhost)."
)
@click.option(
    "--smtp-port",
    type=click.IntRange(1, 65535),
    help="Its port (default 25, 587 with --starttls, 465 with --ssl).",
)
@click.option("--starttls", "security", flag_value="starttls", default=None, help="Encrypt with STARTTLS.")
@click.option("--ssl", "security", flag_value="ssl", help="Connect over TLS (SMTPS).")
@click.option(
    "--smtp-user", metavar="USER", help="Log in as USER; the password is read from CURATOR_SMTP_PASSWORD."
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.01),
    help="At most this many messages a minute (default: email.rate_limit, else 60).",
)
@click.option("--dry-run", is_flag=True, help="List who would receive the issue, send nothing.")
@_TEMPLATES_OPTION
@pass_state
def send(
    state: State,
    month: Month,
    to: tuple[str, ...],
    recipients: Path | None,
    test: bool,
    smtp_host: str | None,
    smtp_port: int | None,
    security: str | None,
    smtp_user: str | None,
    rate: float | None,
    dry_run: bool,
    templates: Path | None,
) -> None:
    """Send the month's issue by SMTP, one message per recipient; a rerun skips those already served.

    Exit codes: 0 every recipient got the issue (or had it already), 1 some
    were refused or sending stopped (rerun the same command to resume), 2 bad
    usage (no recipient, unpublished issue without --test, bad address...).
    """
    from .errors import UsageError
    from .mail import recipients_from, send_issue, smtp_settings

    if test and recipients is not None:
        raise UsageError("--test sends a proof to the --to addresses only: leave out --recipients")
    addresses = recipients_from(to, recipients)
    settings = smtp_settings(state.config, host=smtp_host, port=smtp_port, security=security, user=smtp_user)
    labels = {"sent": "sent", "skipped": "skipped", "refused": "REFUSED", "would send": "would send"}

    def on_result(result: Any) -> None:
        line = f"{labels[result.outcome]:<10} {result.recipient}" + (
            f"  ({result.detail})" if result.detail else ""
        )
        click.echo(click.style(line, fg="red") if result.outcome == "refused" else line)

    summary = send_issue(
        state.store,
        state.config,
        month,
        addresses,
        _now(),
        smtp=settings,
        test=test,
        rate_limit=rate,
        templates=templates,
        dry_run=dry_run,
        on_result=on_result,
    )
    click.echo(
        f"{month}{' (test)' if test else ''}: {summary.count('sent')} sent, "
        f"{summary.count('skipped')} already sent before, {summary.count('refused')} refused"
        + (f", {summary.count('would send')} to send" if dry_run else "")
        + "."
    )
    if summary.refused:
        sys.exit(1)


# --- the static archive -------------------------------------------------------------

_OUT_HELP = "The archive folder (default: archive: {out: …} in sources.yaml, else archive/)."
_BASE_URL_HELP = "The archive's public address, for feeds and the sitemap (default: newsletter.site_url)."


def _print_build(report: Any) -> None:
    issues = f"{len(report.issues)} issue" + ("s" if len(report.issues) != 1 else "")
    click.echo(
        f"Archive of {issues} in {report.out_dir}/: {len(report.written)} files written, "
        f"{report.kept} unchanged, {len(report.removed)} removed ({report.seconds:.2f} s)."
    )
    click.echo(f"Open {report.out_dir / 'index.html'} or serve the folder (`curator serve` serves it at /).")


@cli.command()
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=_OUT_HELP)
@click.option("--base-url", help=_BASE_URL_HELP)
@pass_state
def publish(state: State, month: Month, out: Path | None, base_url: str | None) -> None:
    """Freeze the month's issue (published, with its date) and rebuild the static archive."""
    from . import archive

    config = state.config
    out = out or archive.default_out_dir(config)
    done = archive.publish_issue(state.store, config, month, out, _now(), base_url=base_url)
    issue = done.issue
    assert issue.published_at is not None
    click.echo(f"{month} is published ({issue.published_at:%Y-%m-%d %H:%M} UTC): {issue.title}")
    _print_build(done.report)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=_OUT_HELP)
@click.option("--base-url", help=_BASE_URL_HELP)
@click.option("--full", is_flag=True, help="Render every page again instead of keeping the unchanged ones.")
@pass_state
def build(state: State, out: Path | None, base_url: str | None, full: bool) -> None:
    """Rebuild the static archive of the published issues, without publishing anything new."""
    from . import archive

    config = state.config
    report = archive.build_archive(
        state.store,
        config,
        out or archive.default_out_dir(config),
        now=_now(),
        base_url=base_url,
        only_changed=not full,
    )
    _print_build(report)


def main() -> None:
    cli(prog_name="curator")
