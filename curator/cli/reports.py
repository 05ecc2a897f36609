"""The web app, experience reports and editors: serve, reports, editors; and the offline demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import ID, CuratorGroup, State, _cli_user, _now, pass_state, plural, print_json


@click.command()
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
    from ..web import create_app

    app = create_app(state.config_path, state.db_path, demo=demo_mode)
    click.echo(
        f"Contribution form: http://{host}:{port}/contribuer  —  editor area: http://{host}:{port}/editeur/"
    )
    app.run(host=host, port=port, debug=debug, use_reloader=debug, threaded=True)


def _optional_config(state: State) -> Any:
    """The configuration if there is one: reports can be listed without it (labs shown by id)."""
    return state.config if Path(state.config_path).exists() else None


def _list_reports(state: State, status: str | None, as_json: bool) -> None:
    from ..reports import lab_label, list_reports

    found = list_reports(state.store, status)
    config = _optional_config(state)
    if as_json:
        from ..serialize import report_json

        print_json([report_json(r, config) for r in found])
        return
    for r in found:
        click.echo(
            f"{r.id:>5}  {r.status:<8}  {r.submitted_at:%Y-%m-%d}  {lab_label(r, config)[:28]:<28}  {r.title}"
        )
    click.echo(f"{plural(len(found), 'report')}.", err=True)


_STATUS = click.Choice(["pending", "approved", "rejected"])


@click.group(cls=CuratorGroup, invoke_without_command=True)
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
    from ..reports import LICENSES, lab_label, theme_labels

    store = state.store
    r = store.report(report_id)
    history = store.report_changes(report_id)
    config = _optional_config(state)
    if as_json:
        from ..serialize import report_history_json, report_json

        data = report_json(r, config)
        data["history"] = report_history_json(history)
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
    from ..reports import approve

    r = approve(state.store, report_id, editor=_cli_user(), now=_now())
    click.echo(f"Report {r.id} approved: {r.title}")


@reports.command("reject")
@click.argument("report_id", metavar="ID", type=ID)
@click.option("--reason", required=True, help="Why it is rejected (kept with the report, for the editors).")
@pass_state
def reports_reject(state: State, report_id: int, reason: str) -> None:
    """Reject a report, with a reason."""
    from ..reports import reject

    r = reject(state.store, report_id, reason=reason, editor=_cli_user(), now=_now(), locale="en")
    click.echo(f"Report {r.id} rejected: {r.title}")


@click.group(cls=CuratorGroup)
def editors() -> None:
    """Manage who may log in to the editor area of the web app (add, list, remove, unlock)."""


@editors.command("add")
@click.argument("email")
@click.option("--update", is_flag=True, help="Change the password of an existing editor instead.")
@pass_state
def editors_add(state: State, email: str, update: bool) -> None:
    """Create an editor; the password is asked twice (or read from CURATOR_EDITOR_PASSWORD).

    With --update, the new password also ends every open session of the editor.
    """
    import os

    from ..editors import MIN_PASSWORD_LENGTH, add_editor, normalise_email

    if not update and state.store.editor(normalise_email(email)) is not None:
        from ..errors import UsageError

        raise UsageError(
            f"editor {normalise_email(email)} already exists: use --update to change the password"
        )
    password = os.environ.get("CURATOR_EDITOR_PASSWORD")
    if not password:
        password = click.prompt(
            f"Password (at least {MIN_PASSWORD_LENGTH} characters)", hide_input=True, confirmation_prompt=True
        )
    editor = add_editor(state.store, email, password, _now(), update=update)
    if update:
        click.echo(
            f"Editor {editor.email} updated: their open sessions ended; they log in again at /editeur/connexion."
        )
    else:
        click.echo(f"Editor {editor.email} added: they can log in at /editeur/connexion.")


@editors.command("list")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array of {email, created_at, last_login}."
)
@pass_state
def editors_list(state: State, as_json: bool) -> None:
    """List the editors and when they last logged in."""
    from ..editors import list_editors

    found = list_editors(state.store)
    if as_json:
        from ..serialize import editor_json

        print_json([editor_json(e) for e in found])
        return
    for e in found:
        last = f"{e.last_login:%Y-%m-%d %H:%M} UTC" if e.last_login else "never"
        click.echo(f"{e.email:<40} added {e.created_at:%Y-%m-%d}, last login {last}")
    click.echo(f"{plural(len(found), 'editor')}.", err=True)


@editors.command("remove")
@click.argument("email")
@pass_state
def editors_remove(state: State, email: str) -> None:
    """Remove an editor; their open sessions end at once."""
    from ..editors import remove_editor

    remove_editor(state.store, email)
    click.echo(f"Editor {email} removed.")


@editors.command("unlock")
@click.argument("email")
@pass_state
def editors_unlock(state: State, email: str) -> None:
    """Let a locked-out editor log in again at once: forget the failed logins of EMAIL.

    After too many failed logins an account is locked for the login window
    (15 minutes by default); this lifts the lock before then, and the
    failures of EMAIL stop counting against the addresses they came from.
    """
    from ..editors import normalise_email, unlock_editor

    forgotten = unlock_editor(state.store, email)
    if forgotten:
        click.echo(
            f"Editor {normalise_email(email)} unlocked: {plural(forgotten, 'failed login')} forgotten."
        )
    else:
        click.echo(f"Editor {normalise_email(email)} had no failed logins to forget: nothing to unlock.")


# --- the offline demo -----------------------------------------------------------


@click.command()
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
    from ..demo import run_demo

    run_demo(directory, echo=click.echo)
