"""The suite's rules: hypothesis without deadlines, and nothing written into the checkout.

The shared fixtures and builders live in ``tests/support/``, one module per kind, registered below
(importable as ``support``: pytest's default import mode puts this file's folder on ``sys.path``):

- ``support.feed_server``: a real HTTP server on 127.0.0.1 (``feed_server``), ``run_async``;
- ``support.web``: the web app (``make_app``, ``app``, ``web``, ``editor_account``,
  ``fast_passwords``), ``serve_app``, ``seed_candidates``;
- ``support.builders``: ``make_entry``, the test configuration, the email's issue
  (``make_email_issue``), the archive's data (``make_archive_data``, ``archive_data``);
- ``support.browser``: headless Chromium (``browser``, ``page``);
- ``support.smtp_server``: a real SMTP server on 127.0.0.1 (``smtp_inbox``, ``Inbox``).

Test modules import the helpers from here (``from conftest import FeedServer``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from support.builders import (
    DRAFT_TITLE,
    EMAIL_EDITO,
    EMAIL_HOSTILE_TITLE,
    EMAIL_NOW,
    HOSTILE_MARKDOWN,
    HOSTILE_TEXT,
    HOSTILE_TITLE,
    ArchiveData,
    make_archive_data,
    make_email_issue,
    make_entry,
    write_test_config,
)
from support.feed_server import FEEDS_DIR, FeedServer, Reply, SeenRequest, run_async
from support.smtp_server import Inbox, smtp_inbox
from support.web import (
    TEST_EDITOR_EMAIL,
    TEST_EDITOR_PASSWORD,
    VALID_REPORT,
    WebClient,
    seed_candidates,
    serve_app,
)

#: The fixtures, one module per kind.
pytest_plugins = ["support.feed_server", "support.web", "support.builders", "support.browser"]

#: What test modules import from here.
__all__ = [
    "DRAFT_TITLE",
    "EMAIL_EDITO",
    "EMAIL_HOSTILE_TITLE",
    "EMAIL_NOW",
    "FEEDS_DIR",
    "HOSTILE_MARKDOWN",
    "HOSTILE_TEXT",
    "HOSTILE_TITLE",
    "TEST_EDITOR_EMAIL",
    "TEST_EDITOR_PASSWORD",
    "VALID_REPORT",
    "ArchiveData",
    "FeedServer",
    "Inbox",
    "Reply",
    "SeenRequest",
    "WebClient",
    "make_archive_data",
    "make_email_issue",
    "make_entry",
    "run_async",
    "seed_candidates",
    "serve_app",
    "smtp_inbox",
    "write_test_config",
]

# --- hypothesis: no deadlines, a fixed budget, nothing kept between runs --------------

# A busy machine must not fail a test: how long an example takes is no property of the code.
# No example database (so no .hypothesis/ in the checkout); a test may still set its own
# max_examples. HYPOTHESIS_PROFILE (or --hypothesis-profile) picks another registered profile.
hypothesis_settings.register_profile(
    "ci",  # replaces Hypothesis's own "ci" profile: the same settings with CI=true and without
    parent=hypothesis_settings.get_profile("default"),
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis's other files (its constants and Unicode caches) go to a temporary folder,
    unless HYPOTHESIS_STORAGE_DIRECTORY says where."""
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        home = tempfile.mkdtemp(prefix="curator-hypothesis-")
        set_hypothesis_home_dir(home)
        config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


# --- the checkout stays clean: a run that leaves new files in it fails ----------------

ROOT = Path(__file__).resolve().parent.parent
#: What may appear in the checkout during a run: the environment, tool caches, bytecode.
_ALLOWED_TOP = (".venv/", ".ci/node/", ".pytest_cache/", ".ruff_cache/", ".mypy_cache/")
_NEW_FILES = pytest.StashKey[list[str]]()
_FILES_BEFORE = pytest.StashKey[set[str]]()


def _checkout_files() -> set[str] | None:
    """Untracked and ignored files of the checkout (None without git)."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return None
    exclude = [f":(exclude){p.rstrip('/')}" for p in _ALLOWED_TOP]
    result = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--ignored",
            "--",
            ".",
            *exclude,
        ],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return {
        path
        for line in result.stdout.decode("utf-8", "surrogateescape").split("\0")
        if line[:3] in ("?? ", "!! ")
        for path in [line[3:]]
        if not path.startswith(_ALLOWED_TOP)
        and "__pycache__" not in path.split("/")
        and ".egg-info/" not in path
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # pytest-xdist: the controller checks
        return
    before = _checkout_files()
    if before is not None:
        session.config.stash[_FILES_BEFORE] = before


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_FILES_BEFORE, None)
    after = _checkout_files() if before is not None else None
    if before is None or after is None:
        return
    new = sorted(after - before)
    if os.environ.get("CURATOR_REGEN") == "1":  # asked for: the expected outputs are rewritten
        new = [p for p in new if not p.startswith("tests/data/")]
    if new:
        session.config.stash[_NEW_FILES] = new
        if session.exitstatus == pytest.ExitCode.OK:  # an interrupted or failed run keeps its status
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    new = config.stash.get(_NEW_FILES, [])
    if new:
        terminalreporter.write_sep("=", "tests wrote into the checkout", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(new)} new file(s) in {ROOT} (tests must write under tmp_path):", red=True
        )
        for path in new[:50]:
            terminalreporter.write_line(f"  {path}")
        if len(new) > 50:
            terminalreporter.write_line(f"  … and {len(new) - 50} more")
        terminalreporter.write_line("(files you created yourself during the run count too: run again)")
