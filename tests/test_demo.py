"""The README's first quick-start command: the offline demo runs the whole workflow."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from curator.cli import cli
from curator.models import Month
from curator.store import Store


def test_demo_runs_offline_and_twice(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    with Store.open(tmp_path / "demo" / "curator.db") as store:
        assert store.count("items") >= 10
        assert {s.status for s in store.sources()} == {"ok"}
        picks = store.picks(Month.parse("2022-01"))
        assert {p.section for p in picks} >= {"retours", "actualites", "veille"}
        assert store.events(Month.parse("2022-01"))
        items_before = store.count("items")
    again = runner.invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert again.exit_code == 0, again.output
    assert "kept from an earlier run" in again.output
    with Store.open(tmp_path / "demo" / "curator.db") as store:
        assert store.count("items") == items_before
