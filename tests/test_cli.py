"""The command line: help everywhere, fast start-up, global options."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from curator.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert command.help, f"`curator {' '.join(path)}` has no help text"
    if not isinstance(command, click.Group):
        assert "--db" in result.output or path == ("demo",)


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in cli.commands:
        assert name in result.output


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from curator.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('feedparser', 'httpx', 'flask', 'mjml', 'nh3', 'babel', 'sqlite_utils', 'yaml') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_python_m_curator() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "curator", "--version"], capture_output=True, text=True, check=True
    )
    assert "curator" in out.stdout


def test_bad_month_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "items", "--month", "2022-13"])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_counts_say_one_report_and_two_reports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from curator.cli.common import plural

    assert [plural(n, "report") for n in (0, 1, 2)] == ["0 reports", "1 report", "2 reports"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
    from datetime import UTC, datetime

    from curator.store import Store

    with Store.open(tmp_path / "c.db") as store:
        store.add_report(
            submission_key="k",
            lab=None,
            lab_other="Lab de Mayotte",
            author_name="Élodie Arnaud",
            author_email="elodie@example.org",
            title="Un atelier",
            summary="Résumé.",
            body="Texte.",
            link=None,
            tags=[],
            license="etalab-2.0",
            now=datetime(2022, 1, 5, tzinfo=UTC),
        )
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "reports", "list"])
    assert result.exit_code == 0, result.output
    assert "1 report." in result.output
