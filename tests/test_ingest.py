"""update_sources end to end: a real HTTP server on 127.0.0.1, a real SQLite file, real feeds."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import FEEDS_DIR, FeedServer, Reply, SeenRequest, run_async

from curator import feeds
from curator.config import Config, FetchSettings
from curator.errors import UsageError
from curator.fetch import Response
from curator.ingest import POOL_AFTER_BODIES, SourceResult, UpdateSummary, _Parsers, update_sources
from curator.models import Newsletter, ParsedFeed, Section, Source
from curator.store import Store

NOW = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
# Generous timeouts (a busy machine must not fail a test); the slow server's own test is shorter.
SETTINGS = FetchSettings(
    connect_timeout=10.0, read_timeout=10.0, deadline=20.0, max_bytes=256 * 1024, max_redirects=3
)

FORMATS = {
    "rss090": "rss090.xml",
    "rss091": "rss091.xml",
    "rss10": "rss10.rdf",
    "rss20": "rss20.xml",
    "atom03": "atom03.xml",
    "atom10": "atom10.xml",
    "latin1": "latin1.xml",  # served as UTF-8 (a wrong header): feedparser recovers
    "relative": "relative.xml",
}


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def make_config(*sources: Source, fetch: FetchSettings = SETTINGS) -> Config:
    return Config(
        path=Path("sources.yaml"),
        newsletter=Newsletter(title="Infolettre", publisher="Labs", site_url="https://labs.example/archive/"),
        sections=(Section("veille", "Veille"),),
        labs=(),
        themes=(),
        sources=tuple(sources),
        fetch=fetch,
    )


def rss(title: str, items: list[tuple[str, str, str]]) -> bytes:
    """A small RSS 2.0 feed of (guid, title, link) items."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>']
    for guid, item_title, link in items:
        parts.append(
            f"<item><guid>{guid}</guid><title>{item_title}</title><link>{link}</link>"
            f"<pubDate>Mon, 10 Jun 2024 08:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;{item_title}, en détail.&lt;/p&gt;</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "curator.db") as s:
        yield s


def run(
    store: Store, config: Config, clock: Callable[[], datetime] = lambda: NOW, **kw: object
) -> UpdateSummary:
    return update_sources(store, config, now=clock, **kw)  # type: ignore[arg-type]


# --- the happy path -------------------------------------------------------------


def test_every_format_is_fetched_and_stored(store: Store, feed_server: FeedServer) -> None:
    sources = [Source(id=sid, url=feed_server.feed(f"/{name}", name)) for sid, name in FORMATS.items()]
    # Latin-1 as servers send it: the charset in the XML prolog only, or in the header too.
    sources.append(
        Source(id="latin1-prolog", url=feed_server.feed("/l1", "latin1.xml", content_type="text/xml"))
    )
    sources.append(
        Source(
            id="latin1-header",
            url=feed_server.feed("/l2", "latin1.xml", content_type="application/rss+xml; charset=ISO-8859-1"),
        )
    )
    seen: list[tuple[SourceResult, str]] = []
    summary = run(
        store, make_config(*sources), on_result=lambda r: seen.append((r, threading.current_thread().name))
    )

    assert summary.sources == len(FORMATS) + 2 and summary.failed == 0 and summary.ok
    assert {r.source_id for r, _ in seen} == {*FORMATS, "latin1-prolog", "latin1-header"}
    assert all(thread == threading.main_thread().name for _, thread in seen)  # called in the caller's thread
    latin1 = ("latin1", "latin1-prolog", "latin1-header")
    for sid in FORMATS.keys() - latin1:
        result = summary.result(sid)
        assert result.outcome == "new" and result.new >= 1, result
        state = store.source(sid)
        assert state.status == "ok" and state.etag and state.content_hash and state.last_error is None
        assert state.last_fetched == NOW and state.last_new_item == NOW and state.items == result.new
    # The same Latin-1 articles through three sources: stored by the first, linked to the others.
    assert sorted(summary.result(sid).outcome for sid in latin1) == ["new", "unchanged", "unchanged"]
    assert all(store.source(sid).items == 2 and store.source(sid).status == "ok" for sid in latin1)
    assert store.count("items") == summary.new
    for sid in latin1:
        assert summary.result(sid).warning is None
        assert any("Élèves ambassadeurs" in item.title for item in store.items(source=sid))
    assert {tuple(sorted(i.sources)) for i in store.items(search="ambassadeurs")} == {tuple(sorted(latin1))}
    relative = store.items(source="relative")
    assert all(item.url is None or item.url.startswith("http") for item in relative)


def test_second_run_adds_nothing_and_parses_nothing(
    store: Store, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [Source(id=sid, url=feed_server.feed(f"/{name}", name)) for sid, name in FORMATS.items()]
    config = make_config(*sources)
    first = run(store, config)
    items = store.count("items")

    calls = count_parses(monkeypatch)
    second = run(store, config)
    assert calls == []  # 304: not parsed
    assert second.new == second.updated == 0 and second.unchanged == len(FORMATS)
    assert store.count("items") == items == first.new
    for sid, name in FORMATS.items():
        assert feed_server.hits(f"/{name}")[-1].headers["if-none-match"] == store.source(sid).etag
        assert store.source(sid).status == "unchanged"


def test_304_by_last_modified_alone(
    store: Store, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(Source(id="a", url=feed_server.feed("/a", "atom10.xml", etag=False)))
    run(store, config)
    calls = count_parses(monkeypatch)
    assert run(store, config).result("a").outcome == "unchanged"
    assert calls == []
    assert feed_server.hits("/a")[-1].headers["if-modified-since"] == FeedServer.LAST_MODIFIED


def test_same_body_is_not_parsed_again(
    store: Store, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(
        Source(id="a", url=feed_server.feed("/a", "rss20.xml", etag=False, last_modified=False))
    )
    run(store, config)
    calls = count_parses(monkeypatch)
    result = run(store, config).result("a")
    assert result.outcome == "unchanged" and calls == []
    assert len(feed_server.hits("/a")) == 2  # fetched in full twice, parsed once


def test_entry_updated_upstream_updates_its_row(store: Store, feed_server: FeedServer) -> None:
    url = feed_server.feed("/a", rss("A", [("a-1", "Premier titre", "https://a.example/1")]))
    config = make_config(Source(id="a", url=url))
    assert run(store, config).result("a").new == 1
    feed_server.feed(
        "/a",
        rss("A", [("a-1", "Titre corrigé", "https://a.example/1"), ("a-2", "Autre", "https://a.example/2")]),
    )
    result = run(store, config).result("a")
    assert (result.outcome, result.new, result.updated) == ("new", 1, 1)
    assert store.count("items") == 2
    assert {i.title for i in store.items()} == {"Titre corrigé", "Autre"}


def test_only_updated_entries_give_updated(store: Store, feed_server: FeedServer) -> None:
    config = make_config(
        Source(id="a", url=feed_server.feed("/a", rss("A", [("1", "Avant", "https://a.example/1")])))
    )
    run(store, config)
    feed_server.feed("/a", rss("A", [("1", "Après", "https://a.example/1")]))
    result = run(store, config).result("a")
    assert (result.outcome, result.new, result.updated) == ("updated", 0, 1)


def test_same_article_through_two_sources_is_stored_once(store: Store, feed_server: FeedServer) -> None:
    a = feed_server.feed("/a", rss("A", [("a-1", "Un article partagé", "https://news.example/article")]))
    b = feed_server.feed(
        "/b", rss("B", [("urn:b:77", "Un article partagé", "https://NEWS.example/article?utm_source=b#top")])
    )
    summary = run(store, make_config(Source(id="a", url=a), Source(id="b", url=b)))
    assert summary.failed == 0
    (item,) = store.items()
    assert item.url == "https://news.example/article"
    assert set(item.sources) == {"a", "b"}


def test_malformed_feed_is_stored_with_a_warning(store: Store, feed_server: FeedServer) -> None:
    config = make_config(Source(id="m", url=feed_server.feed("/m", "malformed.xml")))
    result = run(store, config).result("m")
    assert result.outcome == "new" and result.new >= 1
    assert result.warning and result.warning.startswith("malformed feed")
    state = store.source("m")
    assert state.status == "ok" and state.last_error == f"warning: {result.warning}"
    again = run(store, config).result("m")  # a 304 keeps the warning
    assert again.outcome == "unchanged" and again.warning == result.warning
    assert store.source("m").last_error == state.last_error


# --- failures -------------------------------------------------------------------


@pytest.mark.slow
def test_one_failing_source_never_stops_the_others(store: Store, feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (8 * SETTINGS.max_bytes))
    routes = {
        "missing": ("/missing", Reply(404)),
        "broken": ("/broken", Reply(500)),
        "html": (
            "/page.html",
            Reply(200, (FEEDS_DIR / "page.html").read_bytes(), {"Content-Type": "text/html"}),
        ),
        "empty": ("/empty", Reply(200, b"", {"Content-Type": "application/rss+xml"})),
        "slow": ("/slow", Reply(200, b"<rss/>", delay=60)),  # cut short when the server stops
        "big": ("/big", Reply(200, b"<rss>" + b" " * SETTINGS.max_bytes, chunked=True)),
        "bomb": ("/bomb", Reply(200, bomb, {"Content-Encoding": "gzip"})),
        "loop": ("/loop", Reply(302, headers={"Location": "/loop"})),
    }
    sources = [Source(id=sid, url=feed_server.route(path, reply)) for sid, (path, reply) in routes.items()]
    sources.append(Source(id="good", url=feed_server.feed("/good", "rss20.xml")))
    # A read timeout short enough to keep the test quick, long enough for the good feed on a busy machine.
    summary = run(store, make_config(*sources, fetch=dataclasses.replace(SETTINGS, read_timeout=4.0)))

    kinds = {r.source_id: r.error_kind for r in summary.failures}
    assert kinds == {
        "missing": "http",
        "broken": "http",
        "html": "not-a-feed",
        "empty": "not-a-feed",
        "slow": "timeout",
        "big": "too-large",
        "bomb": "too-large",
        "loop": "redirect",
    }
    assert summary.failed == 8 and not summary.ok
    assert summary.result("good").outcome == "new"
    assert {i.source for i in store.items()} == {"good"}
    assert summary.result("missing").message == "HTTP 404 Not Found"
    assert "HTML page" in (summary.result("html").message or "")
    for sid in routes:
        state = store.source(sid)
        result = summary.result(sid)
        assert state.status == "failed" and state.consecutive_failures == 1
        assert state.last_error == f"{result.error_kind}: {result.message}"
        assert "\n" not in state.last_error


def test_consecutive_failures_count_and_reset(store: Store, feed_server: FeedServer) -> None:
    config = make_config(Source(id="a", url=feed_server.route("/a", Reply(500))))
    run(store, config)
    run(store, config)
    assert store.source("a").consecutive_failures == 2
    feed_server.feed("/a", "rss20.xml")
    assert run(store, config).result("a").outcome == "new"
    state = store.source("a")
    assert state.consecutive_failures == 0 and state.last_error is None and state.status == "ok"


def test_410_disables_the_source(store: Store, feed_server: FeedServer) -> None:
    config = make_config(
        Source(id="gone", url=feed_server.route("/gone", Reply(410))),
        Source(id="ok", url=feed_server.feed("/ok", "rss20.xml")),
    )
    result = run(store, config).result("gone")
    assert result.outcome == "failed" and "410" in (result.message or "")
    state = store.source("gone")
    assert not state.enabled and state.status == "disabled" and "410" in (state.disabled_reason or "")

    summary = run(store, config)  # not fetched again, and told why
    assert summary.result("ok").outcome == "unchanged"
    skipped = summary.result("gone")
    assert skipped.outcome == "skipped" and "410" in (skipped.message or "")
    assert run(store, config, source_ids=["gone"]).result("gone").outcome == "skipped"
    assert len(feed_server.hits("/gone")) == 1


def test_retry_after_is_honoured_by_the_next_runs(store: Store, feed_server: FeedServer) -> None:
    feed_server.route("/busy", Reply(429, headers={"Retry-After": "120"}))
    config = make_config(Source(id="busy", url=feed_server.url("/busy")))
    clock = Clock()
    first = run(store, config, clock).result("busy")
    assert first.outcome == "failed" and first.error_kind == "http" and "429" in (first.message or "")
    assert store.source("busy").retry_after == NOW + timedelta(seconds=120)

    clock.advance(seconds=60)
    skipped = run(store, config, clock).result("busy")
    assert skipped.outcome == "skipped" and "retry after 2024-07-01 09:02 UTC" in (skipped.message or "")
    assert len(feed_server.hits("/busy")) == 1

    clock.advance(seconds=61)
    feed_server.feed("/busy", "rss20.xml")
    assert run(store, config, clock).result("busy").outcome == "new"
    assert store.source("busy").retry_after is None


def test_503_retry_after_as_a_date(store: Store, feed_server: FeedServer) -> None:
    feed_server.route("/down", Reply(503, headers={"Retry-After": "Mon, 01 Jul 2024 12:00:00 GMT"}))
    config = make_config(Source(id="down", url=feed_server.url("/down")))
    run(store, config)
    assert store.source("down").retry_after == datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    assert run(store, config).result("down").outcome == "skipped"


def test_permanent_redirect_is_recorded(store: Store, feed_server: FeedServer) -> None:
    new = feed_server.feed("/new", "rss20.xml")
    config = make_config(
        Source(id="a", url=feed_server.route("/old", Reply(301, headers={"Location": "/new"})))
    )
    result = run(store, config).result("a")
    assert result.outcome == "new" and result.moved_to == new
    assert result.warning and "update sources.yaml" in result.warning
    assert store.source("a").moved_to == new


def test_parser_crash_is_a_failure_of_that_source_only(
    store: Store, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = feeds.parse_feed

    def fragile(body: bytes, **kw: object) -> ParsedFeed:
        if b"Lab 110 bis" in body:
            raise RecursionError("maximum recursion depth exceeded")
        return real(body, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds, "parse_feed", fragile)
    config = make_config(
        Source(id="a", url=feed_server.feed("/a", "rss20.xml")),
        Source(id="b", url=feed_server.feed("/b", "atom10.xml")),
    )
    summary = run(store, config)
    assert summary.result("a").error_kind == "parse" and "RecursionError" in (
        summary.result("a").message or ""
    )
    assert summary.result("b").outcome == "new"


def test_a_source_that_cannot_be_stored_does_not_sink_its_batch(
    store: Store, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store.apply_entries

    def picky(source_id: str, *args: object, **kw: object) -> object:
        if source_id == "a":
            raise ValueError("naive datetime given to the store")
        return real(source_id, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "apply_entries", picky)
    config = make_config(
        Source(id="a", url=feed_server.feed("/a", "rss20.xml")),
        Source(id="b", url=feed_server.feed("/b", "atom10.xml")),
    )
    summary = run(store, config)
    assert summary.result("a").error_kind == "store"
    assert summary.result("b").outcome == "new"
    assert store.source("a").status == "failed" and store.count("items") == summary.result("b").new


# --- choosing what to fetch --------------------------------------------------------


def test_source_ids_fetch_only_those(store: Store, feed_server: FeedServer) -> None:
    config = make_config(
        Source(id="a", url=feed_server.feed("/a", "rss20.xml")),
        Source(id="b", url=feed_server.feed("/b", "atom10.xml")),
    )
    summary = run(store, config, source_ids=["b"])
    assert [r.source_id for r in summary.results] == ["b"]
    assert feed_server.hits("/a") == []


def test_unknown_source_id_is_a_usage_error(store: Store, feed_server: FeedServer) -> None:
    config = make_config(Source(id="a", url=feed_server.feed("/a", "rss20.xml")))
    with pytest.raises(UsageError, match="'nope'"):
        run(store, config, source_ids=["a", "nope"])
    assert feed_server.requests == []


def test_disabled_sources_are_not_fetched(store: Store, feed_server: FeedServer) -> None:
    config = make_config(
        Source(id="a", url=feed_server.feed("/a", "rss20.xml")),
        Source(id="off", url=feed_server.feed("/off", "atom10.xml"), enabled=False),
    )
    assert [r.source_id for r in run(store, config).results] == ["a"]
    assert feed_server.hits("/off") == []


def test_concurrency_is_validated(store: Store) -> None:
    with pytest.raises(UsageError):
        run(store, make_config(), concurrency=0)


# --- parsing in a pool of processes -----------------------------------------------


def test_the_process_pool_parses_like_the_thread() -> None:
    body = (FEEDS_DIR / "latin1.xml").read_bytes()
    response = Response("https://labs.example/feed", 200, body, "application/rss+xml", None, None)

    async def parse(processes: int) -> tuple[ParsedFeed, int]:
        parsers = _Parsers(processes)
        try:
            if processes and not parsers.fork_now():  # forked when this process has one thread
                parsers._start_pool()
                assert parsers._ready is not None
                await parsers._ready
            return await parsers.parse(response, NOW), parsers.in_pool
        finally:
            parsers.close()

    (in_pool, used), (in_thread, unused) = run_async(parse(2)), run_async(parse(0))
    assert in_pool == in_thread and in_pool.entries
    assert (used, unused) == (1, 0)


def test_a_big_run_uses_the_pool_and_stores_the_same(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = sorted(
        p.name for p in FEEDS_DIR.iterdir() if p.suffix in (".xml", ".rdf") and p.name != "empty.xml"
    )
    assert len(names) > POOL_AFTER_BODIES
    pool_ready = threading.Event()
    sources = []
    for i, name in enumerate(names):
        feed_server.feed(f"/{i}", name)
        answer = feed_server.routes[f"/{i}"]
        if i >= POOL_AFTER_BODIES:  # the first bodies start the pool, the others wait for it
            feed_server.route(f"/{i}", after(answer, event=pool_ready))
        sources.append(Source(id=f"s{i:02d}", url=feed_server.url(f"/{i}")))
    config = make_config(*sources, fetch=FetchSettings(read_timeout=40, deadline=60, per_host=16))
    used: list[int] = []
    real_close, real_start = _Parsers.close, _Parsers._start_pool

    def start(self: _Parsers) -> None:
        real_start(self)
        assert self._ready is not None
        self._ready.add_done_callback(lambda _: pool_ready.set())

    def close(self: _Parsers) -> None:
        used.append(self.in_pool)
        real_close(self)

    monkeypatch.setattr(_Parsers, "_start_pool", start)
    monkeypatch.setattr(_Parsers, "close", close)
    results = {}
    for processes in (2, 0):
        pool_ready.clear()
        if processes == 0:
            pool_ready.set()
        with Store.open(tmp_path / f"{processes}.db") as s:
            summary = run(s, config, processes=processes)
            assert summary.failed == 0 and summary.new > 0
            results[processes] = sorted((i.url or "", i.title, i.sources) for i in s.items())
    assert results[0] == results[2]
    assert used[0] >= 1 and used[1] == 0


# --- a killed run -------------------------------------------------------------------

KILLED_RUN = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from curator.config import Config, FetchSettings
    from curator.models import Newsletter, Section, Source
    from curator.store import Store
    from curator.ingest import update_sources

    def main() -> None:
        db, urls = sys.argv[1], json.loads(sys.argv[2])
        config = Config(
            path=Path("sources.yaml"),
            newsletter=Newsletter(title="t", publisher="p", site_url="https://labs.example/"),
            sections=(Section("veille", "Veille"),), labs=(), themes=(),
            sources=tuple(Source(id=f"s{i:02d}", url=u) for i, u in enumerate(urls)),
            fetch=FetchSettings(read_timeout=30),
        )
        # processes=2: on Linux the parser pool is forked (this script has one thread).
        update_sources(Store.open(db), config, concurrency=3, processes=2,
                       on_result=lambda r: print(r.source_id, r.outcome, flush=True))
        print("finished", flush=True)

    if __name__ == "__main__":
        main()
    """
)


@pytest.mark.slow
def test_sigkill_mid_run_leaves_a_consistent_database(tmp_path: Path, feed_server: FeedServer) -> None:
    n = 40
    urls = []
    for i in range(n):
        items = [
            (f"s{i}-{k}", f"Article {k} de la source {i}", f"https://s{i}.example/{k}") for k in range(3)
        ]
        feed_server.feed(f"/s{i}", rss(f"Source {i}", items))
        urls.append(feed_server.url(f"/s{i}"))
    # Slow answers, so the run is still going when the first batch is committed.
    for i, url in enumerate(urls):
        answer = feed_server.routes[f"/s{i}"]
        feed_server.route(f"/slow{i}", after(answer, seconds=0.2))
        urls[i] = url.replace(f"/s{i}", f"/slow{i}")
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    db = tmp_path / "curator.db"

    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), json.dumps(urls)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once its batch is committed
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    assert first.strip().endswith("new"), first
    assert proc.returncode == -signal.SIGKILL
    assert wait_until(lambda: not processes_running(str(script))), "parser processes outlived their parent"

    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = store.count("items")
        assert 3 <= stored < 3 * n
        assert store.count("item_sources") == stored
        sources = (Source(id=f"s{i:02d}", url=u) for i, u in enumerate(urls))
        config = make_config(*sources, fetch=FetchSettings(read_timeout=30, per_host=n))
        summary = run(store, config, concurrency=n)
        assert summary.failed == 0
        assert (
            summary.unchanged >= 1
            and summary.unchanged + sum(r.outcome == "new" for r in summary.results) == n
        )
        assert store.count("items") == store.count("item_sources") == 3 * n
        assert run(store, config, concurrency=n).new == 0


def after(
    answer: Callable[[SeenRequest], Reply], *, seconds: float = 0.0, event: threading.Event | None = None
) -> Callable[[SeenRequest], Reply]:
    """A route that answers like ``answer``, once ``event`` is set, ``seconds`` later."""

    def route(request: SeenRequest) -> Reply:
        if event is not None:
            event.wait(30)
        reply = answer(request)
        reply.delay = seconds
        return reply

    return route


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = feeds.parse_feed

    def spy(body: bytes, *, url: str, **kw: object) -> ParsedFeed:
        calls.append(url)
        return real(body, url=url, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds, "parse_feed", spy)
    return calls


def processes_running(marker: str) -> list[int]:
    """Pids of the processes whose command line mentions ``marker`` (Linux; elsewhere none)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
