"""The README's first quick-start command: the offline demo runs the whole workflow."""

from __future__ import annotations

from pathlib import Path

import pytest
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


@pytest.mark.slow
def test_the_demo_gives_the_same_ids_everywhere(tmp_path: Path) -> None:
    """The README and the demo's output name ids: two fresh runs must agree on them."""
    runner = CliRunner()
    outputs = []
    for name in ("one", "two"):
        result = runner.invoke(cli, ["demo", "--dir", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs.append(result.output.replace(str(tmp_path / name), "DIR"))
        with Store.open(tmp_path / name / "curator.db") as store:
            outputs.append(repr([(i.id, i.title, i.sources) for i in store.items()]))
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
