"""The pre-publication checklist (curator.checklist), the link checks behind it (curator.links,
against a real HTTP server on 127.0.0.1) and `curator issue check`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, Reply, SeenRequest, make_entry, write_test_config

from curator import checklist, editorial, links, render, views
from curator.checklist import EmailFacts
from curator.cli import cli
from curator.config import load_config, parse_config
from curator.errors import ChecklistBlocked, ConfigError
from curator.ingest import save_entries
from curator.models import LinkCheck, Month
from curator.store import Store

NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)
JAN = Month.parse("2022-01")


class Issue:
    """A store and the test configuration (the demo's: the Veille asks for a note on each pick)."""

    def __init__(self, directory: Path) -> None:
        self.config = load_config(write_test_config(directory))
        self.store = Store.open(directory / "curator.db")
        self.store.sync_sources(self.config.sources, NOW)
        self.db = str(directory / "curator.db")
        self.config_path = str(self.config.path)

    def items(self, source: str, urls: list[str | None]) -> list[str]:
        """Store one item per URL in ``source`` (January 2022); their refs, in order."""
        before = {i.id for i in self.store.items(source=source)}
        entries = [
            make_entry(f"{source}-{len(before) + n}", f"Article {len(before) + n}", url,
                       published=datetime(2022, 1, 3 + n, tzinfo=UTC))
            for n, url in enumerate(urls)
        ]  # fmt: skip
        save_entries(self.store, source, entries, NOW)
        return [
            str(i.id)
            for i in sorted(self.store.items(source=source), key=lambda i: i.id)
            if i.id not in before
        ]

    def pick(self, ref: str, section: str, note: str | None = None) -> None:
        editorial.pick(self.store, self.config, JAN, ref, NOW, section=section, note=note)

    def check(
        self, *, now: datetime = NOW, email: EmailFacts | None = None, config: Any = None
    ) -> checklist.Checklist:
        return checklist.issue_checklist(self.store, config or self.config, JAN, now, email=email)


@pytest.fixture
def issue(tmp_path: Path) -> Iterator[Issue]:
    data = Issue(tmp_path)
    try:
        yield data
    finally:
        data.store.close()


def codes(found: checklist.Checklist, severity: str | None = None) -> list[str]:
    return [f.code for f in found.findings if severity is None or f.severity == severity]


def ready(issue: Issue, urls: list[str | None] | None = None) -> list[str]:
    """An issue with nothing blocking: two Veille picks with their notes, one news item, an édito."""
    veille = issue.items("la27eregion", urls or [None, None])
    for ref in veille:
        issue.pick(ref, "veille", note="Pourquoi le lire : une méthode à essaimer.")
    issue.pick(issue.items("lab-normandie", [None])[0], "actualites")
    editorial.set_edito(issue.store, issue.config, JAN, "Bonne année !", NOW)
    return veille


# --- the domain --------------------------------------------------------------------------


def test_a_ready_issue_has_nothing_blocking(issue: Issue) -> None:
    ready(issue)
    found = issue.check()
    assert found.ok and found.blocking == ()
    # Sections without a pick are said (they will not appear), never blocking.
    assert codes(found) == ["section_empty", "section_empty", "section_empty"]
    assert {f.data["section"] for f in found.findings} == {"retours", "portraits", "appels"}
    assert found.links.total == 0 and found.email is None


def test_an_empty_issue_blocks_once(issue: Issue) -> None:
    found = issue.check()
    assert codes(found) == ["issue_empty"] and not found.ok
    with pytest.raises(ChecklistBlocked) as info:
        checklist.require_publishable(found)
    assert info.value.codes == ("issue_empty",)
    checklist.require_publishable(found, despite_blocking=True)  # the editor's explicit choice


def test_a_pick_without_the_note_its_section_asks_for_blocks(issue: Issue) -> None:
    ready(issue)
    [ref] = issue.items("veille-education", [None])
    issue.pick(ref, "veille")
    assert issue.config.section("veille").note_required
    [f] = checklist.issue_checklist(issue.store, issue.config, JAN, NOW).blocking
    assert (f.code, f.severity, f.data["ref"], f.data["section"]) == (
        "note_missing",
        "blocking",
        ref,
        "veille",
    )
    assert f.data["pick_title"].startswith("Article")
    # A note made only of spaces is no note; a real one clears the point.
    editorial.edit_pick(issue.store, issue.config, JAN, ref, NOW, note="   ")
    assert codes(issue.check(), "blocking") == ["note_missing"]
    editorial.edit_pick(issue.store, issue.config, JAN, ref, NOW, note="À lire.")
    assert issue.check().ok


def test_a_section_over_its_maximum_blocks(issue: Issue) -> None:
    ready(issue)
    smaller = replace(
        issue.config,
        sections=tuple(replace(s, max_picks=1) if s.id == "veille" else s for s in issue.config.sections),
    )
    [f] = issue.check(config=smaller).blocking
    assert f.code == "section_over_max" and (f.data["picks"], f.data["max_picks"]) == (2, 1)


def test_a_report_withdrawn_since_it_was_picked_blocks(issue: Issue) -> None:
    ready(issue)
    report_id, _ = issue.store.add_report(
        submission_key="k",
        lab="lab-normandie",
        lab_other="",
        author_name="Claire Lemoine",
        author_email="claire@example.org",
        title="Des ateliers entre CPE",
        summary="Huit CPE.",
        body="Le contexte.",
        link=None,
        tags=[],
        license="etalab-2.0",
        now=NOW,
    )
    issue.store.change_report(report_id, {"status": "approved"}, editor="test", action="approved", now=NOW)
    issue.pick(f"r{report_id}", "retours")
    assert issue.check().ok
    issue.store.change_report(report_id, {"status": "pending"}, editor="test", action="edited", now=NOW)
    [f] = issue.check().blocking
    assert f.code == "report_withdrawn"
    assert (f.data["ref"], f.data["status"], f.data["title"]) == (
        f"r{report_id}",
        "pending",
        "Des ateliers entre CPE",
    )


def test_no_unsubscribe_address_blocks(issue: Issue) -> None:
    ready(issue)
    silent = replace(issue.config, newsletter=replace(issue.config.newsletter, unsubscribe=""))
    assert codes(issue.check(config=silent), "blocking") == ["unsubscribe_missing"]


def test_what_the_email_says(issue: Issue) -> None:
    ready(issue)
    view = views.issue_view(issue.store, issue.config, JAN)
    facts = render.email_facts(view, issue.config, now=NOW)
    assert facts.error is None and 10_000 < facts.html_bytes < facts.limit == render.GMAIL_CLIP_BYTES
    assert facts.images_without_alt == ()
    assert issue.check(email=facts).ok
    heavy = EmailFacts(html_bytes=150_000, limit=102_000, images_without_alt=("https://img.example/a.png",))
    found = issue.check(email=heavy)
    assert found.ok and codes(found)[-2:] == ["email_too_large", "image_without_alt"]
    assert found.findings[-2].data == {"bytes": 150_000, "limit": 102_000}
    assert codes(issue.check(email=EmailFacts(error="template error")), "blocking") == ["email_failed"]
    assert render.images_without_alt('<img src="https://a/1.png"><img alt="" src="https://a/2.png">') == [
        "https://a/1.png"
    ]


def test_events_in_the_past_relative_to_now(issue: Issue) -> None:
    ready(issue)
    # Times are read in Europe/Paris: 00:30 on the 20th there is 23:30 UTC on the 19th.
    for title, start in (
        ("Tôt le matin", datetime(2022, 1, 20, 0, 30)),
        ("Plus tard", datetime(2022, 1, 20, 1, 30)),
    ):
        editorial.add_event(issue.store, issue.config, JAN, NOW, title=title, starts_at=start)
    found = issue.check(now=datetime(2022, 1, 19, 23, 45, tzinfo=UTC))  # 0:45 in Paris
    [f] = found.warnings[-1:]
    assert f.code == "event_past" and f.data["title"] == "Tôt le matin"
    assert codes(issue.check(now=datetime(2022, 1, 19, 23, 0, tzinfo=UTC))).count("event_past") == 0
    assert codes(issue.check(now=datetime(2022, 1, 21, tzinfo=UTC))).count("event_past") == 2


def test_the_note_required_setting(tmp_path: Path) -> None:
    head = "newsletter: {title: T, publisher: P, site_url: 'https://x.example/'}\nsources: []\n"
    config = parse_config(
        head + "sections: [{id: veille, title: Veille, note_required: true}, {id: b, title: B}]\n"
    )
    assert [s.note_required for s in config.sections] == [True, False]
    for bad in (
        "[{id: agenda, title: Agenda, note_required: true}]",
        "[{id: v, title: V, note_required: oui}]",
    ):
        with pytest.raises(ConfigError) as info:
            parse_config(head + f"sections: {bad}\n")
        assert "note_required" in str(info.value)
    assert load_config(Path(__file__).parent.parent / "sources.yaml").section("veille").note_required


# --- links -------------------------------------------------------------------------------


def serve_links(feed_server: FeedServer) -> dict[str, str]:
    """Pages that work, one missing, one that refuses HEAD, a redirect and a slow one."""

    def no_head(request: SeenRequest) -> Reply:
        return (
            Reply(405)
            if request.method == "HEAD"
            else Reply(200, b"<p>ok</p>", {"Content-Type": "text/html"})
        )

    return {
        "ok": feed_server.route("/ok", Reply(200, b"<p>ok</p>", {"Content-Type": "text/html"})),
        "missing": feed_server.route("/missing", Reply(404, b"no")),
        "no_head": feed_server.route("/no-head", no_head),
        "moved": feed_server.route("/moved", Reply(301, headers={"Location": "/ok"})),
        "slow": feed_server.route("/slow", Reply(200, b"late", delay=3)),
        "gone": feed_server.route("/gone", Reply(410)),
    }


def test_check_links_politely(feed_server: FeedServer) -> None:
    urls = serve_links(feed_server)
    from conftest import run_async

    from curator.config import FetchSettings

    found = run_async(
        links.check_links(
            [*urls.values(), urls["ok"], "mailto:a@b.example"], FetchSettings(), timeout=1, clock=lambda: NOW
        )
    )
    by_url = {c.url: c for c in found}
    assert list(by_url) == list(urls.values())  # each once, in order; mailto: is no web link
    assert by_url[urls["ok"]] == LinkCheck(urls["ok"], True, 200, None, NOW)
    assert (by_url[urls["missing"]].ok, by_url[urls["missing"]].status, by_url[urls["missing"]].error) == (
        False,
        404,
        "http",
    )
    assert by_url[urls["no_head"]].ok and [r.method for r in feed_server.hits("/no-head")] == ["HEAD", "GET"]
    assert by_url[urls["moved"]].ok and by_url[urls["moved"]].status == 200
    assert (by_url[urls["slow"]].ok, by_url[urls["slow"]].error) == (False, "timeout")
    assert by_url[urls["gone"]].status == 410
    # HEAD only where HEAD works; the User-Agent names curator.
    assert [r.method for r in feed_server.hits("/ok")] == ["HEAD"] * 2  # once itself, once after /moved
    assert "curator" in feed_server.hits("/ok")[0].headers["user-agent"]
    closed = links.check_links_now(["http://127.0.0.1:9/nothing"], FetchSettings(), timeout=2)
    assert [(c.ok, c.error) for c in closed] == [(False, "connection")]


def test_link_checks_are_bounded_per_host(feed_server: FeedServer) -> None:
    from curator.config import FetchSettings

    lock = threading.Lock()
    active = [0, 0]  # now, most at once

    def slow(request: SeenRequest) -> Reply:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return Reply(200)

    urls = [feed_server.route(f"/page-{n}", slow) for n in range(6)]
    found = links.check_links_now(urls, FetchSettings(), per_host=2, concurrency=8)
    assert len(found) == 6 and all(c.ok for c in found)
    assert active[1] == 2
    # The whole check has a deadline: what is not done by then waits for the next check.
    partial = links.check_links_now(urls, FetchSettings(), per_host=1, deadline=0.5)
    assert 1 <= len(partial) < 6


def test_the_issue_links_are_checked_once_and_kept_a_day(issue: Issue, feed_server: FeedServer) -> None:
    urls = serve_links(feed_server)
    a, b = ready(issue, [urls["ok"], urls["missing"]])
    editorial.edit_pick(
        issue.store, issue.config, JAN, a, NOW, note=f"Voir [aussi]({urls['missing']}?utm_source=x)."
    )
    editorial.set_edito(
        issue.store, issue.config, JAN, f"Bonne année ! [Le programme]({urls['no_head']})", NOW
    )
    editorial.add_event(
        issue.store,
        issue.config,
        JAN,
        NOW,
        title="Temps du lab",
        starts_at=datetime(2022, 1, 27, 14),
        link=urls["slow"],
    )
    places = checklist.issue_links(views.issue_view(issue.store, issue.config, JAN))
    assert set(places) == {urls["ok"], urls["missing"], urls["no_head"], urls["slow"]}  # tracking removed
    assert [p["kind"] for p in places[urls["missing"]]] == ["pick", "pick"]
    found = issue.check()
    assert (found.links.total, found.links.checked) == (4, 0) and "link_broken" not in codes(found)

    run = checklist.check_issue_links(issue.store, issue.config, JAN, NOW, timeout=1)
    assert (run.total, run.checked, run.kept, run.broken, run.unfinished) == (4, 4, 0, 2, 0)
    assert len(feed_server.hits("/missing")) == 1  # in two places, asked for once
    found = issue.check()
    assert found.ok  # a broken link is a warning
    broken = {f.data["url"]: f for f in found.findings if f.code == "link_broken"}
    assert set(broken) == {urls["missing"], urls["slow"]}
    assert broken[urls["missing"]].data["status"] == 404 and broken[urls["slow"]].data["error"] == "timeout"
    assert {p["ref"] for p in broken[urls["missing"]].data["places"]} == {a, b}
    assert broken[urls["slow"]].data["places"] == [{"kind": "event", "ref": "1", "title": "Temps du lab"}]
    assert (found.links.checked, found.links.broken, found.links.last_checked) == (4, 2, NOW)

    # An hour later, the links that worked are not asked for again; the broken ones are.
    later = NOW + timedelta(hours=1)
    run = checklist.check_issue_links(issue.store, issue.config, JAN, later, timeout=1)
    assert (run.checked, run.kept) == (2, 2)
    assert len(feed_server.hits("/ok")) == 1 and len(feed_server.hits("/missing")) == 2
    # After a day, all of them.
    run = checklist.check_issue_links(issue.store, issue.config, JAN, NOW + timedelta(hours=25), timeout=1)
    assert (run.checked, run.kept) == (4, 0)
    assert issue.store.count("link_checks") == 4


def test_the_store_keeps_the_latest_check(issue: Issue) -> None:
    store = issue.store
    old = LinkCheck("https://a.example/", False, 500, "http", NOW - timedelta(days=100))
    assert store.record_link_checks([old, LinkCheck("https://b.example/", True, 200, None, NOW)]) == 2
    store.record_link_checks([LinkCheck("https://b.example/", False, None, "timeout", NOW)])
    assert store.link_checks(["https://b.example/", "https://c.example/"]) == {
        "https://b.example/": LinkCheck("https://b.example/", False, None, "timeout", NOW)
    }
    assert store.forget_link_checks(checked_before=NOW - timedelta(days=90)) == 1
    assert store.count("link_checks") == 1


# --- the command -------------------------------------------------------------------------


def run(issue: Issue, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", issue.db, "--config", issue.config_path, "issue", "check", *args])


def test_cli_issue_check(issue: Issue) -> None:
    result = run(issue, "--month", "2022-01")
    assert result.exit_code == 1, result.output
    assert "BLOCKING  the issue is empty" in result.output
    assert "2022-01: 1 blocking, 0 warnings; 0 links, not checked yet" in result.output
    ready(issue)
    [ref] = issue.items("veille-education", [None])
    issue.pick(ref, "veille")
    result = run(issue, "--month", "2022-01")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"BLOCKING  Veille: [{ref}] Article 0 has no editor's note (the section requires one)"
    assert "warning   Retours d'expérience is empty: it will not appear" in lines
    assert lines[-2:] == [
        "2022-01: 1 blocking, 3 warnings; 0 links, not checked yet (--links checks them).",
        "Fix the blocking points before publishing.",
    ]
    shown = json.loads(run(issue, "--month", "2022-01", "--json").output)
    assert shown["ok"] is False and (shown["blocking"], shown["warnings"]) == (1, 3)
    assert shown["findings"][0] == {
        "code": "note_missing",
        "severity": "blocking",
        "data": {"section": "veille", "title": "Veille", "ref": ref, "pick_title": "Article 0"},
    }
    assert shown["email"]["error"] is None and shown["email"]["limit"] == 102_000
    editorial.edit_pick(issue.store, issue.config, JAN, ref, NOW, note="À lire.")
    result = run(issue, "--month", "2022-01")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Nothing blocks: `curator publish --month 2022-01` publishes it."


def test_cli_issue_check_links(issue: Issue, feed_server: FeedServer) -> None:
    urls = serve_links(feed_server)
    ready(issue, [urls["ok"], urls["missing"]])
    result = run(issue, "--month", "2022-01", "--links")
    assert result.exit_code == 0, result.output
    assert "2 links checked, 1 broken; 0 known to work from the last day." in result.output
    assert "warning   broken link (HTTP 404, checked " in result.output and urls["missing"] in result.output
    assert "2 links, 1 broken (0 never checked, last checked" in result.output
    shown = json.loads(run(issue, "--month", "2022-01", "--json").output)
    assert shown["links"]["broken"] == 1 and shown["findings"][-1]["data"]["status"] == 404


def test_cli_issue_check_help() -> None:
    result = CliRunner().invoke(cli, ["issue", "check", "--help"])
    assert result.exit_code == 0
    assert (
        "pre-publication checklist" in result.output
        and "--links" in result.output
        and "--json" in result.output
    )
    assert "check" in CliRunner().invoke(cli, ["issue", "--help"]).output
