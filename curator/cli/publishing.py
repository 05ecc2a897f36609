"""The email and the static archive: draft, send, publish, build."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..models import Month
from .common import MONTH, State, _now, pass_state, plural

_TEMPLATES_OPTION = click.option(
    "--templates",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder with your own email/issue.mjml.j2 and/or email/issue.txt.j2 "
    "(default: the email.templates setting, else the packaged templates).",
)


@click.command()
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write MONTH/email.html, email.txt and email.eml (default: drafts/ next to sources.yaml).",
)
@_TEMPLATES_OPTION
@pass_state
def draft(state: State, month: Month, out: Path | None, templates: Path | None) -> None:
    """Render the month's issue as an email (HTML, plain text and a .eml to open) to proofread."""
    from ..mail import draft_issue
    from ..mail.drafts import default_drafts_dir

    out = out or default_drafts_dir(state.config)
    paths = draft_issue(state.store, state.config, month, out, _now(), templates=templates)
    for warning in paths.warnings:
        click.echo(click.style(f"warning: {warning}", fg="yellow"), err=True)
    click.echo(f"{paths.html}\n{paths.text}\n{paths.eml}")
    click.echo(
        f"{month}: {len(paths.rendered.html.encode()) / 1000:.0f} KB of HTML. "
        f"Send a proof with `curator send --month {month} --test --to YOUR@ADDRESS`.",
        err=True,
    )


@click.command()
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
@click.option(
    "--strict",
    is_flag=True,
    help="Stop at the first bad line of the recipients file (default: report it, skip it, send to the others).",
)
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
    strict: bool,
    templates: Path | None,
) -> None:
    """Send the month's issue by SMTP, one message per recipient; a rerun skips those already served.

    Without --to and --recipients, the list of `email: {recipients: …}` in sources.yaml is used.
    A line of the recipients file that holds no email address is reported with
    its line number and skipped (--strict: stop there, send nothing).

    Exit codes: 0 every recipient got the issue (or had it already), 1 some
    were refused or sending stopped (rerun the same command to resume), 2 bad
    usage (no recipient, unpublished issue without --test, bad --to address,
    bad line in the recipients file with --strict...).
    """
    from ..errors import UsageError
    from ..mail import send_issue, smtp_settings
    from ..mail.recipients import collect_recipients

    if test and recipients is not None:
        raise UsageError("--test sends a proof to the --to addresses only: leave out --recipients")
    if not to and recipients is None and not test:
        # The list of the editor area's « Envoyer à la liste »: email: {recipients: …}.
        email = state.config.email
        to, recipients = email.recipients, email.recipients_file
    found = collect_recipients(to, recipients, strict=strict)
    for line in found.skipped:
        click.echo(click.style(f"warning: {line} (line skipped)", fg="yellow"), err=True)
    addresses = list(found.addresses)
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
        + (
            f"; {plural(len(found.skipped), 'bad line')} of {recipients} skipped (--strict stops on them)"
            if found.skipped
            else ""
        )
        + "."
    )
    if summary.refused:
        sys.exit(1)


# --- the static archive -------------------------------------------------------------

_OUT_HELP = "The archive folder (default: archive: {out: …} in sources.yaml, else archive/)."
_BASE_URL_HELP = "The archive's public address, for feeds and the sitemap (default: newsletter.site_url)."


def _print_build(report: Any) -> None:
    """How many files were rendered (the others were reused from the previous build), then
    what changed on disk: a file rendered again that came out identical is unchanged."""
    click.echo(
        f"Archive of {plural(len(report.issues), 'issue')} in {report.out_dir}/: "
        f"{plural(report.rendered, 'file')} rendered, {report.reused} reused; "
        f"{len(report.written)} changed on disk, {report.kept} unchanged, "
        f"{len(report.removed)} removed ({report.seconds:.2f} s)."
    )
    click.echo(f"Open {report.out_dir / 'index.html'} or serve the folder (`curator serve` serves it at /).")


@click.command()
@click.option("--month", type=MONTH, required=True, help="The issue's month.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=_OUT_HELP)
@click.option("--base-url", help=_BASE_URL_HELP)
@click.option(
    "--date",
    "published_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The publication date readers see (default: the issue's first one, else today).",
)
@pass_state
def publish(
    state: State, month: Month, out: Path | None, base_url: str | None, published_on: datetime | None
) -> None:
    """Freeze the month's issue (published, with its date) and rebuild the static archive."""
    from .. import archive

    config = state.config
    out = out or archive.default_out_dir(config)
    done = archive.publish_issue(
        state.store,
        config,
        month,
        out,
        _now(),
        base_url=base_url,
        published_on=published_on.date() if published_on else None,
    )
    issue = done.issue
    assert issue.published_at is not None
    click.echo(f"{month} is published ({issue.published_at:%Y-%m-%d %H:%M} UTC): {issue.title}")
    _print_build(done.report)


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=_OUT_HELP)
@click.option("--base-url", help=_BASE_URL_HELP)
@click.option("--full", is_flag=True, help="Render every page again instead of keeping the unchanged ones.")
@pass_state
def build(state: State, out: Path | None, base_url: str | None, full: bool) -> None:
    """Rebuild the static archive of the published issues, without publishing anything new."""
    from .. import archive

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
