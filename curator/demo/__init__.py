"""The offline demo: bundled sample feeds served on 127.0.0.1, run through the whole workflow."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

DEMO_DIR = Path(__file__).parent
FEEDS_DIR = DEMO_DIR / "feeds"
SAMPLE_CONFIG = DEMO_DIR / "sources.yaml"
SAMPLE_MONTH = "2022-01"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def guess_type(self, path: str | object) -> str:
        name = str(path)
        if name.endswith(".atom"):
            return "application/atom+xml"
        if name.endswith((".xml", ".rss", ".rdf")):
            return "application/xml"
        return super().guess_type(path)  # type: ignore[arg-type]


@contextmanager
def serve_directory(directory: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a folder over HTTP on a free loopback port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_sample_config(path: Path, base_url: str) -> Path:
    """Write the sample configuration with its feed URLs pointing at ``base_url``."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", base_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _program() -> str:
    """How to call curator again from here: ``curator`` if it is on the PATH, else the path used."""
    import os
    import shutil
    import sys

    argv0 = sys.argv[0]
    if os.path.basename(argv0) == "curator" and shutil.which("curator") != os.path.abspath(argv0):
        return os.path.relpath(argv0)
    return "curator"


def run_demo(directory: Path, echo: Callable[[str], None] = print) -> None:
    """The whole monthly workflow on the sample feeds, in ``directory``: fetch, reports, picking."""
    from datetime import UTC, date, datetime

    from .. import views
    from ..config import load_config
    from ..ingest import update_sources
    from ..models import Month
    from ..store import Store
    from .issue import build_sample_issue
    from .reports import seed_demo_reports

    directory.mkdir(parents=True, exist_ok=True)
    db_path = directory / "curator.db"
    config_path = directory / "sources.yaml"
    month = Month.parse(SAMPLE_MONTH)
    echo(f"curator demo: working in {directory}/ (offline: sample feeds served on 127.0.0.1)")
    with serve_directory(FEEDS_DIR) as base_url:
        config = load_config(write_sample_config(config_path, base_url))
        with Store.open(db_path) as store:
            echo("\n1. Fetching the sample feeds")
            summary = update_sources(
                store,
                config,
                concurrency=1,  # one feed after the other: the same ids on every machine
                processes=0,
                on_result=lambda r: echo(
                    f"   {r.source_id}: {r.outcome}"
                    + (f", {r.new} new" if r.new else "")
                    + (f" ({r.message})" if r.message else "")
                ),
            )
            echo(
                f"   {summary.new} new items, {summary.failed} failed; {store.count('items')} items in the store."
            )
    with Store.open(db_path) as store:
        now = datetime.now(UTC)
        echo("\n2. Experience reports sent by the labs through the form")
        demo = seed_demo_reports(store)
        echo(f"   {demo.approved} approved, {demo.pending} pending, {demo.rejected} rejected.")
        from .labs import seed_demo_cards

        cards = seed_demo_cards(store, config, now)
        echo(
            f"   {cards} lab identity cards filled in"
            + ("" if cards else " (kept from an earlier run)")
            + "."
        )

        echo(f"\n3. Picking the issue of {month}")
        picks, built = build_sample_issue(store, config, month, now)
        view = views.issue_view(store, config, month)
        echo(f"   {view.issue.title}: {picks} picks" + ("" if built else " (kept from an earlier run)"))
        for section in view.sections:
            for p in section.picks:
                echo(f"   {section.section.title:<24} {p.pick.position}. [{p.ref}] {p.title}")
        echo(f"   agenda: {len(view.events)} events")

        from ..mail import draft_issue

        echo(f"\n4. Drafting the email of {month}")
        paths = draft_issue(store, config, month, directory / "drafts", now)
        for warning in paths.warnings:
            echo(f"   warning: {warning}")
        echo(f"   HTML email:  {paths.html}")
        echo(f"   plain text:  {paths.text}")
        echo(f"   to open in a mail client: {paths.eml}")

        from ..archive import publish_issue

        echo(f"\n5. Publishing {month} to the web archive")
        archive = directory / "archive"  # its index.html opens in a browser straight from the disk
        # Janvier 2022 went out at the beginning of February, as the real one would have.
        publish_issue(store, config, month, archive, now, published_on=date(2022, 2, 3))
        echo(f"   open {archive / 'index.html'} in a browser (it works straight from the disk),")
        echo("   or serve it with the web app below, at http://127.0.0.1:8000/")

    cli = f"{_program()} --db {db_path} --config {config_path}"
    echo("\nDone. Next:")
    echo(f"   {cli} candidates --month {month}      # the ranked candidates, with their reasons")
    echo(f"   {cli} issue show --month {month}")
    echo(f"   {cli} issue reopen --month {month}   # it is published: reopen it to pick, move or edit")
    echo(
        f"   {cli} serve --demo                     # the form and the editor area on http://127.0.0.1:8000/"
    )
    echo(f"     (editor login: {demo.editor_email} / {demo.editor_password})")
