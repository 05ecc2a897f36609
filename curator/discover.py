"""What is at an address: a feed (RSS, Atom or JSON Feed), or a web page naming its feeds.

:func:`discover` serves ``curator sources add``: given a feed, it checks that it is one;
given a page, it reads the page's ``<link rel="alternate">`` (RSS, Atom, JSON Feed; relative
or absolute, with ``<base href>``), also tries ``/feed``, ``/rss.xml`` and ``/atom.xml``,
and keeps the candidates that really are feeds. :func:`probe_sources` serves ``curator check
--network``: one request per source, reporting status, type, redirect and time.

Everything goes through the fetch client of :mod:`curator.fetch` (timeouts, size limit,
redirects by hand, a few requests per host at once) and nothing is stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, TypeVar

import httpx

from .config import FetchSettings
from .errors import ParseError
from .feeds import parse_feed
from .fetch import FetchFailure, Limiter, fetch_one, make_client
from .jsonfeed import looks_like_json
from .models import Source, SourceState
from .text import cap_text, clean_text, collapse
from .urls import normalise_url

__all__ = ["GUESSES", "Discovery", "FoundFeed", "Inspection", "discover", "probe_sources"]

#: Where feeds often are, tried on a page's site besides what the page declares.
GUESSES = ("/feed", "/rss.xml", "/atom.xml")
#: A page naming more alternates than this: only the first ones are tried.
MAX_CANDIDATES = 12
#: ``<link type>`` values that may name a feed (application/json is checked: WordPress
#: also names its REST API so).
FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/rdf+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
}
_TITLE = 300

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class FoundFeed:
    """A feed found for an address: ``via`` says how (``given``, ``link`` or ``guess``)."""

    url: str
    title: str
    kind: str  # rss, atom or json
    via: str


@dataclasses.dataclass(frozen=True)
class Inspection:
    """One request to one address, and what came back."""

    url: str  # as asked
    final_url: str | None = None  # after redirects
    status: int | None = None
    content_type: str | None = None
    kind: str | None = None  # rss, atom, json (feeds), html, other; None when nothing came
    title: str = ""  # the feed's title, or the page's <title>
    site: str | None = None  # the feed's own link (its site)
    entries: int = 0
    moved_to: str | None = None  # a permanent redirect's target
    elapsed: float = 0.0  # seconds
    error: str | None = None  # why it failed or is not a feed, one line
    error_kind: str | None = None  # one of fetch.KINDS, or not-a-feed
    links: tuple[FoundFeed, ...] = ()  # what an HTML page declares

    @property
    def is_feed(self) -> bool:
        return self.kind in ("rss", "atom", "json")

    @property
    def feed_url(self) -> str:
        """Where to read the feed from: the target of a permanent redirect, else the address."""
        return self.moved_to or normalise_url(self.url) or self.url


@dataclasses.dataclass(frozen=True)
class Discovery:
    """What :func:`discover` found for ``url``."""

    url: str
    page: Inspection
    feeds: tuple[FoundFeed, ...]


def discover(url: str, settings: FetchSettings) -> Discovery:
    """The feeds at ``url``: itself if it is a feed, else those its page names or that the
    usual places hold, each checked to be a feed."""
    return _run(_discover(url, settings))


async def _discover(url: str, settings: FetchSettings) -> Discovery:
    limiter = Limiter(4, settings.per_host)
    async with make_client(settings, concurrency=4) as client:
        page = await inspect(client, url, settings, limiter)
        if page.is_feed:
            return Discovery(url, page, (FoundFeed(page.feed_url, page.title, page.kind or "rss", "given"),))
        if page.kind != "html" or page.final_url is None:
            return Discovery(url, page, ())
        candidates: dict[str, FoundFeed] = {}
        for link in page.links[:MAX_CANDIDATES]:
            candidates.setdefault(link.url, link)
        for path in GUESSES:
            guess = normalise_url(path, base=page.final_url)
            if guess:
                candidates.setdefault(guess, FoundFeed(guess, "", "", "guess"))
        checked = await asyncio.gather(*(inspect(client, c, settings, limiter) for c in candidates))
    feeds: dict[str, FoundFeed] = {}
    for candidate, result in zip(candidates.values(), checked, strict=True):
        if result.is_feed and result.feed_url not in feeds:
            title = candidate.title or result.title
            feeds[result.feed_url] = FoundFeed(result.feed_url, title, result.kind or "rss", candidate.via)
    return Discovery(url, page, tuple(feeds.values()))


def probe_sources(
    sources: Sequence[Source], settings: FetchSettings, *, concurrency: int | None = None
) -> list[tuple[Source, Inspection]]:
    """One polite request to each source (within the fetch limits), in the order given."""
    return _run(_probe(sources, settings, concurrency or settings.concurrency))


async def _probe(
    sources: Sequence[Source], settings: FetchSettings, concurrency: int
) -> list[tuple[Source, Inspection]]:
    limiter = Limiter(concurrency, settings.per_host)
    async with make_client(settings, concurrency=concurrency) as client:
        results = await asyncio.gather(*(inspect(client, s.url, settings, limiter) for s in sources))
    return list(zip(sources, results, strict=True))


async def inspect(
    client: httpx.AsyncClient, url: str, settings: FetchSettings, limiter: Limiter
) -> Inspection:
    """Fetch ``url`` once (no conditional GET) and say what it is."""
    state = SourceState(
        id="inspect",
        url=url,
        title="",
        section=None,
        lab=None,
        tags=(),
        weight=1.0,
        enabled=True,
        status="new",
    )
    try:
        response = await fetch_one(client, state, settings, limiter=limiter)
    except FetchFailure as failure:
        return Inspection(
            url,
            status=failure.status,
            moved_to=failure.moved_to,
            elapsed=failure.elapsed,
            error=failure.message,
            error_kind=failure.kind,
        )
    except Exception as exc:  # a bug must not stop the other addresses
        return Inspection(
            url, error=f"unexpected error: {type(exc).__name__}: {exc}", error_kind="connection"
        )
    found = Inspection(
        url,
        final_url=response.url,
        status=response.status,
        content_type=response.content_type,
        moved_to=response.moved_to,
        elapsed=response.elapsed,
    )
    body = response.body
    loop = asyncio.get_running_loop()
    try:
        parsed = await loop.run_in_executor(
            None,
            lambda: parse_feed(
                body, url=response.url, content_type=response.content_type, fetched_at=datetime.now(UTC)
            ),
        )
    except ParseError as exc:
        problem = " ".join(str(exc).split())[:300]
    except Exception as exc:  # a parser bug on hostile input: not a feed, for us
        problem = f"the parser failed: {type(exc).__name__}"
    else:
        return dataclasses.replace(
            found,
            kind=_feed_kind(body, response.content_type),
            title=parsed.title,
            site=parsed.link,
            entries=len(parsed.entries),
        )
    if _is_html(body, response.content_type):
        page = _read_page(body, response.url)
        return dataclasses.replace(
            found, kind="html", title=page.title, links=page.feeds, error=problem, error_kind="not-a-feed"
        )
    return dataclasses.replace(found, kind="other", error=problem, error_kind="not-a-feed")


def _feed_kind(body: bytes, content_type: str | None) -> str:
    if looks_like_json(body, content_type):
        return "json"
    head = body[:4096].lower()
    return "atom" if b"<feed" in head and b"<rss" not in head else "rss"


def _is_html(body: bytes, content_type: str | None) -> bool:
    mime = (content_type or "").split(";")[0].strip().lower()
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return (
        mime in ("text/html", "application/xhtml+xml")
        or head.startswith(b"<!doctype html")
        or b"<html" in head
    )


@dataclasses.dataclass
class _Page:
    title: str = ""
    feeds: tuple[FoundFeed, ...] = ()


def _read_page(body: bytes, url: str) -> _Page:
    """The ``<title>`` of an HTML page and the feeds its ``<link rel="alternate">`` name."""
    parser = _LinkParser()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except Exception:  # html.parser copes with nearly anything; keep what was read
        pass
    base = normalise_url(parser.base, base=url) if parser.base else url
    feeds: dict[str, FoundFeed] = {}
    for href, kind, title in parser.links:
        target = normalise_url(href, base=base or url)
        if target and target not in feeds:
            feeds[target] = FoundFeed(target, cap_text(collapse(clean_text(title)), _TITLE), kind, "link")
    return _Page(cap_text(collapse(clean_text(parser.title)), _TITLE), tuple(feeds.values()))


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str, str]] = []  # (href, kind, title)
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "link" and len(self.links) < 100:
            rel = values.get("rel", "").lower().split()
            kind = FEED_TYPES.get(values.get("type", "").split(";")[0].strip().lower())
            if ("alternate" in rel or "feed" in rel) and kind and values.get("href"):
                self.links.append((values["href"], kind, values.get("title", "")))
        elif tag == "title" and not self.title:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and len(self.title) < 1000:
            self.title += data


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, or in a thread of its own when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="curator-discover") as thread:
        return thread.submit(asyncio.run, coroutine).result()
