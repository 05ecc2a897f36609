"""HTTP only: fetch one source politely, with timeouts, size limits, redirects and conditional GET.

Nothing here parses a feed or touches the database: :func:`fetch_one` turns a
source's URL (and what the last fetch learnt: ETag, Last-Modified) into a
:class:`Response` carrying the raw body, or raises :class:`FetchFailure` with a
short ``kind`` and a one-line message. :mod:`curator.ingest` runs many of these
at once, bounded by a :class:`Limiter` (so many in all, a few per host).

Everything a server sends is untrusted: the body is counted while it streams
*after* decompression (a small gzip body cannot inflate past ``max_bytes``),
redirects are followed by hand (a limit, loops detected, http(s) only), and
``Retry-After`` is capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import re
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from . import USER_AGENT
from .config import FetchSettings
from .errors import FetchError
from .models import SourceState
from .urls import is_http_url

__all__ = [
    "ACCEPT",
    "KINDS",
    "USER_AGENT",
    "FetchFailure",
    "Limiter",
    "Response",
    "fetch_one",
    "make_client",
    "parse_retry_after",
]

#: What we ask servers for: feeds first (RSS, Atom, JSON Feed), any XML or JSON next, anything last.
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.8, */*;q=0.1"
)

#: The kinds of failure, as recorded on a source and printed by ``curator fetch``.
KINDS = ("dns", "connection", "timeout", "http", "too-large", "redirect", "not-a-feed", "parse")

#: A server may ask us to wait, but not for longer than this.
MAX_RETRY_AFTER = timedelta(days=7)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_CHUNK = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Response:
    """A successful answer: a body to parse, or "not modified" (304)."""

    url: str  # the final URL, after redirects
    status: int  # 200 (or another 2xx), or 304
    body: bytes  # decompressed; empty for a 304
    content_type: str | None
    etag: str | None
    last_modified: str | None
    moved_to: str | None = None  # where a permanent (301/308) redirect pointed
    elapsed: float = 0.0  # seconds on the network

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchFailure(FetchError):
    """A source could not be fetched; ``kind`` is one of :data:`KINDS`.

    ``retry_after`` is set when the server asked us to come back later (429 or
    503 with Retry-After), ``gone`` when it answered 410, and ``moved_to`` when a
    permanent redirect was followed before the failure.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: datetime | None = None,
        gone: bool = False,
        moved_to: str | None = None,
    ) -> None:
        super().__init__(kind, _one_line(message))
        self.message = _one_line(message)
        self.status = status
        self.retry_after = retry_after
        self.gone = gone
        self.moved_to = moved_to
        self.elapsed = 0.0  # seconds spent before failing

    def __reduce__(self) -> tuple[object, ...]:  # picklable despite keyword-only arguments
        return (
            _rebuild_failure,
            (self.kind, self.message, self.status, self.retry_after, self.gone, self.moved_to),
        )


def _rebuild_failure(
    kind: str,
    message: str,
    status: int | None,
    retry_after: datetime | None,
    gone: bool,
    moved_to: str | None,
) -> FetchFailure:
    return FetchFailure(kind, message, status=status, retry_after=retry_after, gone=gone, moved_to=moved_to)


class Limiter:
    """At most ``total`` requests in flight, and at most ``per_host`` to any one host.

    A request waits for its host's slot first, then for a global one, so the
    global slots are only ever held by requests that are really running.
    """

    def __init__(self, total: int, per_host: int) -> None:
        self.total = asyncio.Semaphore(max(1, total))
        self.per_host = max(1, per_host)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = httpx.URL(url).host.lower()
        sem = self._hosts.get(host)
        if sem is None:
            sem = self._hosts[host] = asyncio.Semaphore(self.per_host)
        async with sem, self.total:
            yield


def make_client(
    settings: FetchSettings, *, concurrency: int | None = None, user_agent: str = USER_AGENT
) -> httpx.AsyncClient:
    """The HTTP client for one run: timeouts, pool size and polite headers; redirects by hand."""
    size = max(1, concurrency or settings.concurrency)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.deadline,
        ),
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
        follow_redirects=False,
        headers={
            "User-Agent": user_agent,
            "Accept": ACCEPT,
            # Only what we can decompress ourselves, with a size limit.
            "Accept-Encoding": "gzip, deflate",
        },
    )


async def fetch_one(
    client: httpx.AsyncClient,
    source: SourceState,
    settings: FetchSettings,
    *,
    limiter: Limiter | None = None,
    now: Callable[[], datetime] | None = None,
) -> Response:
    """Fetch ``source.url``; return a :class:`Response` or raise :class:`FetchFailure`.

    Sends If-None-Match / If-Modified-Since from what the store remembers. The
    deadline (``settings.deadline``) covers every redirect and the whole body,
    and starts once the request got its slot from ``limiter``. ``now`` is the
    clock a Retry-After in seconds is counted from.
    """
    limiter = limiter or Limiter(settings.concurrency, settings.per_host)
    headers: dict[str, str] = {}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified

    loop = asyncio.get_running_loop()
    url = source.url
    if not is_http_url(url):
        raise FetchFailure("connection", f"{url[:200]!r} is not an http(s) URL")
    seen = [url]
    moved_to: str | None = None
    all_permanent = True
    deadline_at: float | None = None
    started = 0.0
    try:
        for _hop in range(settings.max_redirects + 1):
            async with limiter.slot(url):
                if deadline_at is None:
                    started = time.perf_counter()
                    deadline_at = loop.time() + settings.deadline
                async with asyncio.timeout_at(deadline_at):
                    result = await _request(client, url, headers, settings, now or _utcnow)
            if isinstance(result, Response):
                return dataclasses.replace(result, moved_to=moved_to, elapsed=time.perf_counter() - started)
            status, location = result
            target = _resolve(url, location)
            if target is None:
                raise FetchFailure(
                    "redirect",
                    f"HTTP {status} to {location[:200]!r}, which is not an http(s) URL",
                    status=status,
                )
            if status in _PERMANENT and all_permanent:
                moved_to = target
            else:
                all_permanent = False
            if target in seen:
                chain = " → ".join([*seen[seen.index(target) :], target])
                raise FetchFailure("redirect", f"redirect loop: {_shorten(chain)}", moved_to=moved_to)
            seen.append(target)
            url = target
        raise FetchFailure(
            "redirect", f"too many redirects (more than {settings.max_redirects})", moved_to=moved_to
        )
    except FetchFailure as exc:
        if exc.moved_to is None and moved_to is not None:
            exc.moved_to = moved_to
        exc.elapsed = time.perf_counter() - started if started else 0.0
        raise
    except TimeoutError:
        failure = FetchFailure(
            "timeout", f"no complete answer within {settings.deadline:g} s", moved_to=moved_to
        )
    except httpx.InvalidURL as exc:
        # The URL we started from was checked above, so this is a redirect's Location.
        failure = FetchFailure("redirect", f"redirect to an unusable URL: {exc}", moved_to=moved_to)
    except httpx.HTTPError as exc:
        kind, message = _describe(exc, settings)
        failure = FetchFailure(kind, message, moved_to=moved_to)
    failure.elapsed = time.perf_counter() - started if started else 0.0
    raise failure


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _request(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    settings: FetchSettings,
    now: Callable[[], datetime],
) -> Response | tuple[int, str]:
    """One request: a Response, or (status, location) for a redirect to follow."""
    async with client.stream("GET", url, headers=headers) as r:
        status = r.status_code
        if status in _REDIRECTS and r.headers.get("location"):
            return status, r.headers["location"]
        if status == 304:
            return _response(r, b"")
        if status >= 300 or status < 200:
            raise _status_failure(r, now())
        body = await _read_body(r, settings.max_bytes)
        return _response(r, body)


def _response(r: httpx.Response, body: bytes) -> Response:
    return Response(
        url=str(r.url),
        status=r.status_code,
        body=body,
        content_type=_header(r, "content-type"),
        etag=_header(r, "etag"),
        last_modified=_header(r, "last-modified"),
    )


def _header(r: httpx.Response, name: str) -> str | None:
    value = r.headers.get(name)
    if value is None:
        return None
    value = value.strip()
    # Stored and sent back later: keep it short and printable.
    return value[:500] if value and value.isprintable() else None


def _status_failure(r: httpx.Response, now: datetime) -> FetchFailure:
    status = r.status_code
    reason = f"HTTP {status} {r.reason_phrase}".strip() if r.reason_phrase.isprintable() else f"HTTP {status}"
    if status == 410:
        return FetchFailure(
            "http",
            f"{reason}: the feed is gone; source disabled, remove it or change its url",
            status=status,
            gone=True,
        )
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(r.headers.get("retry-after"), now)
        if retry_after is not None:
            reason += f", retry after {retry_after:%Y-%m-%d %H:%M} UTC"
    return FetchFailure("http", reason, status=status, retry_after=retry_after)


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """A Retry-After header (seconds or an HTTP date) as an aware UTC time, capped at a week."""
    if not value:
        return None
    value = value.strip()
    when: datetime | None
    if value.isdigit():
        when = now + timedelta(seconds=min(int(value[:9]), int(MAX_RETRY_AFTER.total_seconds())))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
    if when <= now:
        return None
    return min(when, now + MAX_RETRY_AFTER)


async def _read_body(r: httpx.Response, limit: int) -> bytes:
    """The body, decompressed here with a limit, so that a gzip bomb cannot explode."""
    too_large = FetchFailure("too-large", f"the body is larger than {_size(limit)}")
    declared = r.headers.get("content-length", "")
    encodings = [e.strip().lower() for e in r.headers.get("content-encoding", "").split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    decoder = _Decoder(encodings)
    parts: list[bytes] = []
    size = 0
    async for raw in r.aiter_raw(_CHUNK):
        for data in decoder(raw):
            size += len(data)
            if size > limit:
                raise too_large
            parts.append(data)
    for data in decoder(None):
        size += len(data)
        if size > limit:
            raise too_large
        parts.append(data)
    return b"".join(parts)


class _Decoder:
    """Undoes Content-Encoding (gzip, deflate) chunk by chunk, never inflating much at once."""

    def __init__(self, encodings: list[str]) -> None:
        self._steps: list[_Inflater] = []
        for encoding in reversed(encodings):  # the last one applied is undone first
            if encoding in ("gzip", "x-gzip"):
                self._steps.append(_Inflater(16 + zlib.MAX_WBITS))
            elif encoding == "deflate":
                self._steps.append(_Inflater(None))
            else:
                raise FetchFailure("http", f"unsupported Content-Encoding {encoding[:40]!r}")

    def __call__(self, data: bytes | None) -> Iterator[bytes]:
        """Decoded pieces of ``data`` (of at most a chunk each); ``None`` at the end."""
        if not self._steps:
            if data:
                yield data
            return
        try:
            yield from self._through(0, data)
        except zlib.error:
            raise FetchFailure("http", "the compressed body is corrupt") from None

    def _through(self, index: int, data: bytes | None) -> Iterator[bytes]:
        if index == len(self._steps):
            if data:
                yield data
            return
        step = self._steps[index]
        for piece in step.feed(data) if data is not None else step.finish():
            yield from self._through(index + 1, piece)
        if data is None:
            yield from self._through(index + 1, None)


class _Inflater:
    """One zlib stream; ``wbits=None`` is "deflate", zlib-wrapped or raw (servers send both)."""

    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits
        self._z: Any = zlib.decompressobj(wbits) if wbits is not None else None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._z is None:
            zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        while data:
            piece = self._z.decompress(data, _CHUNK)
            if piece:
                yield piece
            data = self._z.unconsumed_tail

    def finish(self) -> Iterator[bytes]:
        if self._z is not None:
            rest = self._z.flush()
            if rest:
                yield rest


def _resolve(base: str, location: str) -> str | None:
    try:
        target = str(httpx.URL(base).join(location.strip()))
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    return target if is_http_url(target) else None


def _describe(exc: httpx.HTTPError, settings: FetchSettings) -> tuple[str, str]:
    """The kind and one-line message of a transport error."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "timeout", f"could not connect within {settings.connect_timeout:g} s"
    if isinstance(exc, httpx.ReadTimeout):
        return "timeout", f"the server stopped answering for {settings.read_timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"timed out ({type(exc).__name__})"
    cause = _root_cause(exc)
    if isinstance(cause, socket.gaierror) or _looks_like_dns(str(exc)):
        host = _host_of(exc)
        return "dns", f"cannot resolve the host name{' ' + host if host else ''} ({_clean(cause or exc)})"
    if isinstance(cause, ssl.SSLError):
        return "connection", f"TLS error: {_clean(cause)}"
    if isinstance(cause, ConnectionRefusedError):
        return "connection", f"connection refused by {_host_of(exc, port=True) or 'the server'}"
    if isinstance(cause, ConnectionResetError):
        return "connection", "the server reset the connection"
    if isinstance(exc, httpx.ConnectError):
        return "connection", f"cannot connect to {_host_of(exc) or 'the server'}: {_clean(cause or exc)}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection", f"the server broke the HTTP protocol: {_clean(exc)}"
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return "connection", f"unusable URL: {_clean(exc)}"
    if isinstance(exc, httpx.TransportError):
        return "connection", f"the connection failed: {_clean(cause or exc)}"
    return "connection", _clean(exc)


def _root_cause(exc: BaseException) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc.__cause__ or exc.__context__
    last: BaseException | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        last = current
        if isinstance(current, (socket.gaierror, ssl.SSLError, ConnectionError)):
            return current
        current = current.__cause__ or current.__context__
    return last


_DNS_WORDS = re.compile(
    r"name or service not known|nodename nor servname|getaddrinfo failed|"
    r"temporary failure in name resolution|no address associated|name resolution",
    re.IGNORECASE,
)


def _looks_like_dns(text: str) -> bool:
    return bool(_DNS_WORDS.search(text))


def _host_of(exc: httpx.HTTPError, *, port: bool = False) -> str:
    try:
        url = exc.request.url
    except RuntimeError:
        return ""
    return f"{url.host}:{url.port}" if port and url.port else url.host


def _clean(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return _one_line(text)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:299] + "…"


def _shorten(text: str) -> str:
    return text if len(text) <= 280 else text[:279] + "…"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"
