"""The ``curator`` command: each command parses options, calls one domain function, prints."""

from __future__ import annotations

import click

from .. import __version__
from . import curation, feeds, labs, publishing, reports, sources
from .common import CuratorGroup, State

__all__ = ["cli", "main"]


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


for command in (
    feeds.fetch,
    feeds.items,
    sources.sources,
    sources.check,
    reports.serve,
    reports.reports,
    reports.editors,
    labs.labs,
    reports.demo,
    curation.candidates,
    curation.pick,
    curation.unpick,
    curation.move,
    curation.edito,
    curation.event,
    curation.issue_group,
    publishing.draft,
    publishing.send,
    publishing.publish,
    publishing.build,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="curator")
