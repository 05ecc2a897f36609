"""Publication dates: `curator publish --date`, what the archive and its feed show, the demo's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import ArchiveData

from curator import archive, editorial
from curator.cli import cli
from curator.errors import InvalidValue
from curator.models import Month

NOW = datetime(2022, 2, 20, 12, tzinfo=UTC)
JAN = Month.parse("2022-01")


def test_publish_on_a_date_shows_that_date_in_the_archive_and_its_feed(archive_data: ArchiveData) -> None:
    editorial.reopen(archive_data.store, JAN, NOW)
    out = archive_data.directory / "site"
    done = archive.publish_issue(
        archive_data.store, archive_data.config, JAN, out, NOW, published_on=date(2022, 2, 3)
    )
    assert done.issue.published_at == datetime(2022, 2, 3, 8, tzinfo=UTC)  # 9:00 in Paris
    page = (out / "2022-01" / "index.html").read_text(encoding="utf-8")
    assert "3 février 2022" in page and 'datetime="2022-02-03"' in page
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    (entry,) = [e for e in feed.entries if "2022-01" in e.link]
    assert entry.published.startswith("2022-02-03")


def test_a_date_in_the_future_or_long_before_the_month_is_refused(archive_data: ArchiveData) -> None:
    editorial.reopen(archive_data.store, JAN, NOW)
    for day, problem in ((date(2022, 2, 21), "future"), (date(2021, 10, 1), "too_early")):
        with pytest.raises(InvalidValue) as info:
            editorial.publish(archive_data.store, archive_data.config, JAN, NOW, published_on=day)
        assert info.value.problem == problem
    assert not editorial.require_issue(archive_data.store, JAN).published


def test_cli_publish_date(archive_data: ArchiveData, tmp_path: Path) -> None:
    db, config = str(archive_data.directory / "curator.db"), str(archive_data.config.path)
    editorial.reopen(archive_data.store, JAN, NOW)
    out = tmp_path / "site"
    args = ["--db", db, "--config", config, "publish", "--month", "2022-01", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--date", "2022-02-03"])
    assert result.exit_code == 0, result.output
    assert "2022-02-03" in result.output
    result = CliRunner().invoke(cli, [*args, "--date", "3 février"])
    assert result.exit_code == 2 and "%Y-%m-%d" in result.output


def test_the_demo_publishes_january_in_early_february(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "demo" / "archive" / "2022-01" / "index.html").read_text(encoding="utf-8")
    assert "3 février 2022" in page
