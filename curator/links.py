"""HTTP only: check that links work, politely, before an issue goes out.

Each link is asked for once with HEAD (nothing downloaded), and with GET only when the
server refuses HEAD itself (405, 501 and the like) or drops the connection; the body of a
GET is never read. The client is fetch.py's (the User-Agent naming curator, its timeouts and
redirect limit); at most ``concurrency`` links are checked at once and at most ``per_host`` on
one host; each link has ``timeout`` seconds, redirects included, and the whole check stops
after ``deadline`` (links not checked by then are left for the next time). Nothing here
touches the store: :mod:`curator.checklist` decides which links to check and keeps what
was found.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx

from .config import FetchSettings
from .fetch import Limiter, make_client
from .models import LinkCheck
from .urls import is_http_url

__all__ = ["CONCURRENCY", "DEADLINE", "HEAD_REFUSED", "PER_HOST", "TIMEOUT", "check_links", "check_links_now"]

#: Seconds a link has to answer, redirects included.
TIMEOUT = 10.0
#: Links checked at once, and at once on one host.
CONCURRENCY = 8
PER_HOST = 2
#: Seconds the whole check may take: what is not checked by then waits for the next check.
DEADLINE = 25.0
#: What a server answers when it refuses the HEAD method rather than the page: ask with GET.
HEAD_REFUSED = frozenset({400, 403, 405, 501})
ACCEPT = "text/html, application/xhtml+xml, */*;q=0.8"


async def check_links(
    urls: Iterable[str],
    settings: FetchSettings,
    *,
    clock: Callable[[], datetime] | None = None,
    timeout: float = TIMEOUT,
    concurrency: int = CONCURRENCY,
    per_host: int = PER_HOST,
    deadline: float = DEADLINE,
) -> list[LinkCheck]:
    """Check each http(s) URL of ``urls`` once; the checks that finished within ``deadline``,
    in the order of ``urls``. ``clock`` gives the time each check is recorded at."""
    now = clock or _utcnow
    unique = [url for url in dict.fromkeys(urls) if is_http_url(url)]
    if not unique:
        return []
    limiter = Limiter(concurrency, per_host)
    async with make_client(settings, concurrency=concurrency) as client:
        client.max_redirects = settings.max_redirects
        tasks = [asyncio.create_task(_check(client, url, limiter, timeout, now)) for url in unique]
        done, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return [task.result() for task in tasks if task in done and task.exception() is None]


def check_links_now(
    urls: Iterable[str],
    settings: FetchSettings,
    *,
    clock: Callable[[], datetime] | None = None,
    timeout: float = TIMEOUT,
    concurrency: int = CONCURRENCY,
    per_host: int = PER_HOST,
    deadline: float = DEADLINE,
) -> list[LinkCheck]:
    """:func:`check_links` from synchronous code (a command, a web request)."""
    coroutine = check_links(
        urls,
        settings,
        clock=clock,
        timeout=timeout,
        concurrency=concurrency,
        per_host=per_host,
        deadline=deadline,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as thread:  # called from a running loop: run beside it
        return thread.submit(asyncio.run, coroutine).result()


async def _check(
    client: httpx.AsyncClient, url: str, limiter: Limiter, timeout: float, now: Callable[[], datetime]
) -> LinkCheck:
    async with limiter.slot(url):
        try:
            async with asyncio.timeout(timeout):
                try:
                    status = await _status(client, "HEAD", url)
                except httpx.RemoteProtocolError:
                    status = None  # some servers drop HEAD requests
                if status is None or status in HEAD_REFUSED:
                    status = await _status(client, "GET", url)
        except TimeoutError:
            return LinkCheck(url, False, None, "timeout", now())
        except httpx.HTTPError as exc:
            return LinkCheck(url, False, None, _kind(exc), now())
    ok = 200 <= status < 300
    return LinkCheck(url, ok, status, None if ok else "http", now())


async def _status(client: httpx.AsyncClient, method: str, url: str) -> int:
    """The final status of ``method`` on ``url``, redirects followed; the body is never read."""
    async with client.stream(method, url, headers={"Accept": ACCEPT}, follow_redirects=True) as response:
        return response.status_code


def _kind(exc: httpx.HTTPError) -> str:
    """The kind of a failure, in the words of fetch.py's KINDS."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, (httpx.TooManyRedirects, httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return "redirect"
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror) or _DNS_WORDS.search(str(cause)):
            return "dns"
        cause = cause.__cause__ or cause.__context__
    return "connection"


_DNS_WORDS = re.compile(
    r"name or service not known|nodename nor servname|getaddrinfo failed|"
    r"temporary failure in name resolution|no address associated|name resolution",
    re.IGNORECASE,
)


def _utcnow() -> datetime:
    return datetime.now(UTC)
