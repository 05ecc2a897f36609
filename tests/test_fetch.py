"""curator.fetch against a real HTTP server on 127.0.0.1: headers, 304s, limits, redirects, errors."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import FEEDS_DIR, FeedServer, Reply, SeenRequest, run_async

from curator import USER_AGENT
from curator.config import FetchSettings
from curator.fetch import FetchFailure, Limiter, Response, fetch_one, make_client, parse_retry_after
from curator.models import SourceState

SETTINGS = FetchSettings(
    concurrency=8,
    per_host=4,
    connect_timeout=10.0,  # generous: a busy machine must not fail a test
    read_timeout=30.0,
    deadline=60.0,
    max_bytes=256 * 1024,
    max_redirects=3,
)
NOW = datetime(2024, 5, 20, 12, 0, tzinfo=UTC)


def state(url: str, **kw: object) -> SourceState:
    values: dict[str, object] = {
        "id": "s",
        "url": url,
        "title": "",
        "section": None,
        "lab": None,
        "tags": (),
        "weight": 1.0,
        "enabled": True,
        "status": "new",
    }
    values.update(kw)
    return SourceState(**values)  # type: ignore[arg-type]


def fetch(url: str, settings: FetchSettings = SETTINGS, **kw: object) -> Response:
    async def go() -> Response:
        async with make_client(settings) as client:
            return await fetch_one(client, state(url, **kw), settings, now=lambda: NOW)

    return run_async(go())


def failure(url: str, settings: FetchSettings = SETTINGS, **kw: object) -> FetchFailure:
    with pytest.raises(FetchFailure) as info:
        fetch(url, settings, **kw)
    assert "\n" not in info.value.message
    return info.value


# --- success, politeness and conditional GET ------------------------------------


def test_body_content_type_and_polite_headers(feed_server: FeedServer) -> None:
    url = feed_server.feed("/rss20.xml", "rss20.xml")
    r = fetch(url)
    assert r.status == 200 and not r.not_modified
    assert r.body == (FEEDS_DIR / "rss20.xml").read_bytes()
    assert r.content_type == "application/rss+xml; charset=utf-8"
    assert r.etag and r.last_modified == FeedServer.LAST_MODIFIED
    assert r.url == url and r.moved_to is None
    (request,) = feed_server.hits("/rss20.xml")
    assert request.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("curator/") and "https://github.com/curator-infolettre/curator" in USER_AGENT
    assert "application/rss+xml" in request.headers["accept"]
    assert "gzip" in request.headers["accept-encoding"]
    assert "if-none-match" not in request.headers


def test_304_by_etag(feed_server: FeedServer) -> None:
    url = feed_server.feed("/f", "atom10.xml", last_modified=False)
    first = fetch(url)
    second = fetch(url, etag=first.etag)
    assert second.not_modified and second.body == b""
    assert feed_server.hits("/f")[-1].headers["if-none-match"] == first.etag


def test_304_by_last_modified(feed_server: FeedServer) -> None:
    url = feed_server.feed("/f", "atom10.xml", etag=False)
    first = fetch(url)
    assert first.etag is None
    second = fetch(url, last_modified=first.last_modified)
    assert second.not_modified
    assert feed_server.hits("/f")[-1].headers["if-modified-since"] == FeedServer.LAST_MODIFIED


def test_gzip_body_is_decompressed(feed_server: FeedServer) -> None:
    url = feed_server.feed("/f", "rss20.xml", gzip=True)
    assert fetch(url).body == (FEEDS_DIR / "rss20.xml").read_bytes()


@pytest.mark.parametrize("wrap", [zlib.compress, lambda data: zlib.compress(data)[2:-4]], ids=["zlib", "raw"])
def test_deflate_body_is_decompressed(feed_server: FeedServer, wrap: object) -> None:
    data = (FEEDS_DIR / "rss20.xml").read_bytes()
    url = feed_server.route("/d", Reply(200, wrap(data), {"Content-Encoding": "deflate"}))  # type: ignore[operator]
    assert fetch(url).body == data


# --- HTTP errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text"),
    [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error"), (403, "HTTP 403")],
)
def test_http_errors(feed_server: FeedServer, status: int, text: str) -> None:
    url = feed_server.route("/e", Reply(status, b"<html>error</html>", {"Content-Type": "text/html"}))
    exc = failure(url)
    assert exc.kind == "http" and exc.status == status and exc.message.startswith(text)
    assert not exc.gone and exc.retry_after is None


def test_410_is_gone(feed_server: FeedServer) -> None:
    exc = failure(feed_server.route("/gone", Reply(410)))
    assert exc.kind == "http" and exc.gone and "410" in exc.message


def test_429_with_retry_after_seconds(feed_server: FeedServer) -> None:
    exc = failure(feed_server.route("/busy", Reply(429, headers={"Retry-After": "120"})))
    assert exc.kind == "http" and exc.status == 429
    assert exc.retry_after == NOW + timedelta(seconds=120)
    assert "retry after" in exc.message


def test_503_with_retry_after_date(feed_server: FeedServer) -> None:
    exc = failure(
        feed_server.route("/down", Reply(503, headers={"Retry-After": "Mon, 20 May 2024 13:30:00 GMT"}))
    )
    assert exc.retry_after == datetime(2024, 5, 20, 13, 30, tzinfo=UTC)


def test_503_without_retry_after(feed_server: FeedServer) -> None:
    exc = failure(feed_server.route("/down", Reply(503)))
    assert exc.status == 503 and exc.retry_after is None


def test_parse_retry_after() -> None:
    assert parse_retry_after("30", NOW) == NOW + timedelta(seconds=30)
    assert parse_retry_after("Mon, 20 May 2024 12:05:00 GMT", NOW) == NOW + timedelta(minutes=5)
    assert parse_retry_after("Mon, 20 May 2024 11:00:00 GMT", NOW) is None  # past
    assert parse_retry_after("0", NOW) is None
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("", NOW) is None
    assert parse_retry_after("99999999999", NOW) == NOW + timedelta(days=7)  # capped
    assert parse_retry_after("Fri, 31 Dec 2999 23:59:59 GMT", NOW) == NOW + timedelta(days=7)


# --- redirects ------------------------------------------------------------------------


def test_permanent_redirect_is_followed_and_recorded(feed_server: FeedServer) -> None:
    target = feed_server.feed("/new", "rss20.xml")
    url = feed_server.route("/old", Reply(301, headers={"Location": "/new"}))
    r = fetch(url)
    assert r.status == 200 and r.url == target and r.moved_to == target


def test_308_then_302_records_only_the_permanent_part(feed_server: FeedServer) -> None:
    feed_server.feed("/final", "rss20.xml")
    feed_server.route("/middle", Reply(302, headers={"Location": "/final"}))
    url = feed_server.route("/old", Reply(308, headers={"Location": feed_server.url("/middle")}))
    assert fetch(url).moved_to == feed_server.url("/middle")


def test_temporary_redirect_is_not_recorded(feed_server: FeedServer) -> None:
    feed_server.feed("/final", "rss20.xml")
    url = feed_server.route("/tmp", Reply(307, headers={"Location": "/final"}))
    r = fetch(url)
    assert r.moved_to is None and r.url == feed_server.url("/final")


def test_redirect_loop(feed_server: FeedServer) -> None:
    feed_server.route("/a", Reply(302, headers={"Location": "/b"}))
    feed_server.route("/b", Reply(302, headers={"Location": "/a"}))
    exc = failure(feed_server.url("/a"))
    assert exc.kind == "redirect" and "redirect loop" in exc.message
    assert len(feed_server.requests) == 2


def test_too_many_redirects(feed_server: FeedServer) -> None:
    for i in range(10):
        feed_server.route(f"/r{i}", Reply(302, headers={"Location": f"/r{i + 1}"}))
    exc = failure(feed_server.url("/r0"))
    assert exc.kind == "redirect" and "too many redirects" in exc.message
    assert len(feed_server.requests) == SETTINGS.max_redirects + 1


@pytest.mark.parametrize("location", ["javascript:alert(1)", "ftp://127.0.0.1/feed", "data:text/xml,<rss/>"])
def test_redirect_to_a_non_http_url(feed_server: FeedServer, location: str) -> None:
    exc = failure(feed_server.route("/x", Reply(301, headers={"Location": location})))
    assert exc.kind == "redirect"
    assert len(feed_server.requests) == 1


# --- limits and timeouts -----------------------------------------------------------


def test_server_too_slow_to_answer(feed_server: FeedServer) -> None:
    url = feed_server.route("/slow", Reply(200, b"<rss/>", delay=30))
    exc = failure(url, FetchSettings(read_timeout=0.3))
    assert exc.kind == "timeout" and "0.3 s" in exc.message  # not the reply, 30 s later


def test_deadline_covers_the_whole_source(feed_server: FeedServer) -> None:
    url = feed_server.route("/slow", Reply(200, b"<rss/>", delay=30))
    settings = FetchSettings(read_timeout=10, deadline=0.3)
    exc = failure(url, settings)
    assert exc.kind == "timeout" and "within 0.3 s" in exc.message


def test_declared_oversized_body(feed_server: FeedServer) -> None:
    exc = failure(feed_server.route("/big", Reply(200, b"x" * (SETTINGS.max_bytes + 1))))
    assert exc.kind == "too-large" and "256 KB" in exc.message


def test_streamed_oversized_body(feed_server: FeedServer) -> None:
    exc = failure(feed_server.route("/big", Reply(200, b"x" * (SETTINGS.max_bytes * 3), chunked=True)))
    assert exc.kind == "too-large"


def test_body_at_the_limit_is_accepted(feed_server: FeedServer) -> None:
    url = feed_server.route("/ok", Reply(200, b"x" * SETTINGS.max_bytes, chunked=True))
    assert len(fetch(url).body) == SETTINGS.max_bytes


def test_gzip_bomb(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (40 * SETTINGS.max_bytes))
    assert len(bomb) < SETTINGS.max_bytes / 10
    exc = failure(feed_server.route("/bomb", Reply(200, bomb, {"Content-Encoding": "gzip"})))
    assert exc.kind == "too-large"


def test_corrupt_gzip(feed_server: FeedServer) -> None:
    exc = failure(
        feed_server.route("/bad", Reply(200, b"\x1f\x8b\x08\x00garbage" * 10, {"Content-Encoding": "gzip"}))
    )
    assert exc.kind == "http" and "corrupt" in exc.message


def test_unsupported_content_encoding(feed_server: FeedServer) -> None:
    exc = failure(feed_server.route("/br", Reply(200, b"....", {"Content-Encoding": "br"})))
    assert exc.kind == "http" and "Content-Encoding" in exc.message


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exc = failure(f"http://127.0.0.1:{port}/feed")
    assert exc.kind == "connection" and exc.message == f"connection refused by 127.0.0.1:{port}"


def test_dns_failure_is_told_apart() -> None:
    """Without touching the network: a resolver error, as httpx raises it."""
    from curator.fetch import _describe

    request = httpx.Request("GET", "https://no-such-host.invalid/feed")
    exc = httpx.ConnectError("[Errno -2] Name or service not known", request=request)
    exc.__cause__ = socket.gaierror(-2, "Name or service not known")
    kind, message = _describe(exc, SETTINGS)
    assert kind == "dns" and "no-such-host.invalid" in message


def test_failures_survive_pickling() -> None:
    import pickle

    exc = FetchFailure("http", "HTTP 429", status=429, retry_after=NOW, moved_to="https://a.example/")
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.kind, copy.message, copy.status, copy.retry_after, copy.moved_to) == (
        "http",
        "HTTP 429",
        429,
        NOW,
        "https://a.example/",
    )


def test_per_host_and_global_limits(feed_server: FeedServer) -> None:
    lock = threading.Lock()
    running: dict[str, int] = {}  # requests in flight, by Host header and in all ("*")
    most: dict[str, int] = {}
    overlapped = threading.Event()  # two requests were in flight at once

    def slow(request: SeenRequest) -> Reply:
        keys = (request.headers["host"].split(":")[0], "*")
        with lock:
            for key in keys:
                running[key] = running.get(key, 0) + 1
                most[key] = max(most.get(key, 0), running[key])
            if running["*"] >= 2:
                overlapped.set()
        if not overlapped.wait(30):  # however slowly a busy machine sends the second one
            overlapped.set()  # it never came: the assertions below say so, without more waiting
        time.sleep(0.1)
        with lock:
            for key in keys:
                running[key] -= 1
        return Reply(200, b"<rss/>")

    urls = [feed_server.route(f"/f{i}", slow) for i in range(8)]
    # The same server under two host names: 127.0.0.1 and localhost.
    urls += [u.replace("127.0.0.1", "localhost") for u in urls[:4]]
    settings = FetchSettings(per_host=2, concurrency=3, read_timeout=60)

    async def go() -> list[Response]:
        limiter = Limiter(settings.concurrency, settings.per_host)
        async with make_client(settings) as client:
            return await asyncio.gather(
                *(fetch_one(client, state(u), settings, limiter=limiter) for u in urls)
            )

    assert all(r.status == 200 for r in run_async(go()))
    assert most["127.0.0.1"] <= 2 and most["localhost"] <= 2  # per host
    assert 2 <= most["*"] <= 3  # in all, and they did run at once
