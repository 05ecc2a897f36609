"""The layers hold: configuration and the daily fetch load nothing of the web or email stack.

(The import direction itself is checked by import-linter's contract in pyproject.toml, which
`make lint` and `make test` run: a module imports only from its own layer or below.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FeedServer

from curator.config import load_config
from curator.errors import ConfigError

HEAVY = ("flask", "flask_wtf", "werkzeug", "jinja2", "mjml", "markdown_it")

EVERY_BLOCK = """\
newsletter: {{title: Infolettre, publisher: Les labs, site_url: 'https://labs.example/archive/'}}
sections: [{{id: veille, title: Veille}}]
sources: [{{id: veille-education, url: '{url}', section: veille}}]
fetch: {{concurrency: 2, read_timeout: 30}}
curation: {{window: same, keywords: {{atelier: 1}}}}
email: {{rate_limit: 30, smtp: {{host: localhost, security: none}}}}
web: {{login_limit: 5, session_max_hours: 8}}
archive: {{feed_issues: 3, out: public}}
"""

PROBE = """
import json, sys
from curator.config import load_config
config = load_config(sys.argv[1])
loaded = [m for m in {heavy!r} if m in sys.modules]
from curator.cli import cli
try:
    cli(["--db", sys.argv[2], "--config", sys.argv[1], "fetch"])
except SystemExit as exc:
    code = exc.code
fetched = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"load": loaded, "fetch": fetched, "code": code, "web": config.web.session_max_hours}}))
"""


def test_loading_every_block_and_fetching_import_no_web_or_email_stack(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(EVERY_BLOCK.format(url=feed_server.feed("/feed.xml", "rss20.xml")), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), str(config), str(tmp_path / "curator.db")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"load": [], "fetch": [], "code": 0, "web": 8}, out


def test_a_bad_block_fails_at_load(tmp_path: Path) -> None:
    for block, field in (
        ("archive: {bogus: 1}", "bogus"),
        ("web: {login_limit: lots}", "login_limit"),
        ("email: {smtp: {port: '25'}}", "port"),
        ("curation: {window: later}", "window"),
        ("fetch: {concurrency: 0}", "concurrency"),
    ):
        path = tmp_path / "sources.yaml"
        path.write_text(
            "newsletter: {title: T, publisher: P, site_url: 'https://x.example/'}\n"
            "sections: [{id: veille, title: Veille}]\nsources: []\n" + block + "\n",
            encoding="utf-8",
        )
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert str(path) in str(info.value) and f"field '{field}'" in str(info.value), str(info.value)
