"""Fetch, parse and store every enabled source: the job behind ``curator fetch``.

What a feed's entries mean for the store (a new item, an update, the same article as an
item of another feed) is decided by :func:`plan_entries`, a pure function over what the
store knows; the store only applies the plan (:func:`save_entries` does both, in one
transaction).

One run is a pipeline with three stages, so that none holds the others back:

* the network, in an asyncio loop (:mod:`curator.fetch`): many sources at once,
  a few per host;
* parsing (feedparser, about 30 ms a feed), which is CPU-bound: in one helper
  thread for small runs, in a pool of processes (one per core) for runs of
  PARALLEL_MIN_SOURCES sources or more; a 304, or a body identical to the last
  one parsed (same sha256), is never parsed;
* the store, from one dedicated thread: results are written in batches, each
  batch one transaction, so a killed run leaves a consistent database and the
  next run picks up where it stopped.

A broken source is normal: its failure is recorded on its row and the others go
on. ``on_result`` is called as each source's result is committed, in the
caller's thread (unless that thread already runs an event loop: then the run has
a thread of its own, and ``on_result`` is called there).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from .config import Config, FetchSettings
from .errors import ParseError, StoreError, UsageError
from .fetch import FetchFailure, Limiter, Response, fetch_one, make_client
from .models import Entry, ParsedFeed, SourceState
from .store import EntryPlan, SaveResult, Store, StoredItem, entry_hash

__all__ = ["KINDS", "SourceResult", "UpdateSummary", "plan_entries", "save_entries", "update_sources"]

Outcome = Literal["new", "updated", "unchanged", "failed", "skipped"]

#: Why a source failed: the fetch kinds, plus "store" when its entries could not be saved.
KINDS = ("dns", "connection", "timeout", "http", "too-large", "redirect", "not-a-feed", "parse", "store")

#: Below this many sources to fetch, parsing stays in one thread of this process.
PARALLEL_MIN_SOURCES = 16
#: At most this many parsing processes, however many cores.
MAX_PROCESSES = 8
#: Spawned (not forked) pools start only once this many bodies needed parsing.
POOL_AFTER_BODIES = 8
#: Results are committed every BATCH_SIZE results or BATCH_SECONDS, whichever comes first.
BATCH_SIZE = 50
BATCH_SECONDS = 0.5

_WARNING = "warning: "


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(frozen=True)
class SourceResult:
    """How one source fared in a run; ``message`` is one line."""

    source_id: str
    outcome: Outcome
    new: int = 0  # items added
    updated: int = 0  # items changed upstream
    error_kind: str | None = None  # one of KINDS when outcome == "failed"
    message: str | None = None  # the reason of a failure or a skip
    warning: str | None = None  # stored anyway, but worth a look (malformed feed, moved)
    moved_to: str | None = None  # a permanent redirect: update sources.yaml
    elapsed: float = 0.0  # seconds from the first request to the parsed result

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


@dataclasses.dataclass(frozen=True)
class UpdateSummary:
    """The results of one run, in the order sources finished.

    ``new`` and ``updated`` count items; ``unchanged``, ``skipped`` and
    ``failed`` count sources.
    """

    results: tuple[SourceResult, ...]
    elapsed: float = 0.0

    @property
    def sources(self) -> int:
        return len(self.results)

    @property
    def new(self) -> int:
        return sum(r.new for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.results)

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def failures(self) -> tuple[SourceResult, ...]:
        return tuple(r for r in self.results if r.failed)

    @property
    def ok(self) -> bool:
        return not self.failed

    def result(self, source_id: str) -> SourceResult:
        for r in self.results:
            if r.source_id == source_id:
                return r
        raise KeyError(source_id)

    def _count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


def update_sources(
    store: Store,
    config: Config,
    *,
    source_ids: Sequence[str] | None = None,
    concurrency: int | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
    now: Callable[[], datetime] = _utcnow,
    processes: int | None = None,
) -> UpdateSummary:
    """Sync the sources from ``config``, fetch them and store what is new.

    Every enabled source is fetched, or only ``source_ids`` (an unknown id is a
    :class:`UsageError`). A source that asked us to wait (Retry-After) or that is
    disabled is skipped. ``processes`` is the size of the parsing pool: ``None``
    chooses (one per core for runs of PARALLEL_MIN_SOURCES sources or more),
    ``0`` parses in a thread of this process.
    """
    started = time.perf_counter()
    if concurrency is not None and concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, not {concurrency}")
    if source_ids:
        known = {s.id for s in config.sources}
        unknown = [sid for sid in source_ids if sid not in known]
        if unknown:
            raise UsageError(
                f"unknown source {', '.join(repr(s) for s in unknown)}: "
                f"see `curator sources` or {config.path.name}"
            )
    store.sync_sources(config.sources, now())
    states = {s.id: s for s in store.sources()}
    if source_ids:
        selected = [states[sid] for sid in dict.fromkeys(source_ids)]
    else:  # the enabled ones in the configuration; those gone (410) are reported as skipped
        configured = {s.id for s in config.sources if s.enabled}
        selected = [s for s in states.values() if s.id in configured]

    results: list[SourceResult] = []

    def emit(result: SourceResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    to_fetch: list[SourceState] = []
    current = now()
    for source in selected:
        if not source.enabled:
            emit(SourceResult(source.id, "skipped", message=f"disabled: {source.disabled_reason}"))
        elif source.retry_after is not None and source.retry_after > current:
            emit(
                SourceResult(
                    source.id,
                    "skipped",
                    message=f"retry after {source.retry_after:%Y-%m-%d %H:%M} UTC, as the server asked",
                )
            )
        else:
            to_fetch.append(source)

    if to_fetch:
        if processes is None:
            cores = _cpu_count()
            processes = (
                min(cores, MAX_PROCESSES) if cores > 1 and len(to_fetch) >= PARALLEL_MIN_SOURCES else 0
            )
        run = _Run(store, config.fetch, concurrency or config.fetch.concurrency, now, processes, emit)
        run.parsers.fork_now()  # before the run starts any thread
        try:
            _run_coroutine(run.run(to_fetch))
        finally:
            run.close()
    return UpdateSummary(tuple(results), time.perf_counter() - started)


def _run_coroutine(coroutine: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run``, or, when this thread already runs an event loop (a notebook,
    Playwright's sync API...), the same in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="curator-fetch") as thread:
        thread.submit(asyncio.run, coroutine).result()


# --- what a feed's entries mean for the store ----------------------------------------


def save_entries(store: Store, source_id: str, entries: Sequence[Entry], now: datetime) -> SaveResult:
    """Store a source's entries, in one transaction: new ones added, changed ones updated,
    none duplicated (see :func:`plan_entries`)."""
    if not entries:
        return SaveResult(0, 0)
    with store.write():
        by_key, by_url = store.entry_state(source_id, entries)
        plan = plan_entries(source_id, entries, by_key, by_url)
        return store.apply_entries(source_id, plan, now)


def plan_entries(
    source_id: str,
    entries: Sequence[Entry],
    by_key: Mapping[str, StoredItem],
    by_url: Mapping[str, StoredItem],
) -> EntryPlan:
    """Decide what a source's entries mean for the store; pure.

    ``by_key`` holds the items this source's entry keys already stand for, ``by_url`` the
    items that own one of the entries' URLs (those whose URL no feed shares). An entry is
    matched first by its key, then by its URL, so that the same article reached through
    two feeds is stored once. A URL that several entries of this feed share, with
    distinct keys (a podcast's episodes all linking to the show's page, a monthly log
    page), identifies none of them: those entries are items of their own, never merged
    by that URL, here or from another feed. An item shared with another source is shown
    as the source that brought it first says; two entries of one feed that stand for one
    item (an old merge) are shown as the first says.
    """
    unique: dict[str, Entry] = {}
    for e in entries:
        unique.setdefault(e.key, e)  # the same entry twice in one feed: the first one
    counts: dict[str, int] = {}
    for e in unique.values():
        if e.url:
            counts[e.url] = counts.get(e.url, 0) + 1
    shared_urls = {url for url, n in counts.items() if n > 1}

    items: dict[int, StoredItem] = {i.id: i for i in (*by_key.values(), *by_url.values())}
    owner_of_url: dict[str, int] = {url: item.id for url, item in by_url.items()}
    hashes = {i.id: i.content_hash for i in items.values()}
    key_item = {key: item.id for key, item in by_key.items()}
    plan = EntryPlan()
    plan.now_shared.extend(
        sorted({key_item[e.key] for e in unique.values() if e.url in shared_urls and e.key in key_item})
    )
    claimed: set[int] = set()  # items an earlier entry of this feed stands for
    next_new = -1  # new items are numbered -1, -2…; the store gives them their ids

    # Entries already stored first (stable: feed order otherwise), so that a URL one
    # of them gives up is free for a new entry of this feed rather than taken for it.
    for e in sorted(unique.values(), key=lambda e: e.key not in key_item):
        h = entry_hash(e)
        shared = e.url in shared_urls
        item_id = key_item.get(e.key)
        if item_id is None and e.url and not shared and e.url in owner_of_url:
            item_id = owner_of_url[e.url]  # the same article, from another feed or a new key
            plan.links.append((e.key, item_id))
            key_item[e.key] = item_id
        if item_id is None:
            item_id, next_new = next_new, next_new - 1
            plan.new.append((item_id, e, h, shared))
            if e.url and not shared:
                owner_of_url[e.url] = item_id
            key_item[e.key] = item_id
            hashes[item_id] = h
            claimed.add(item_id)
            continue
        if item_id in claimed:
            continue  # two entries of this feed stand for one item: the first one says
        claimed.add(item_id)
        if hashes.get(item_id) == h:
            continue
        item = items.get(item_id)
        if item is not None and item.owner not in (None, source_id):
            continue  # shared with another source, which brought it first: it says what it shows
        old_url = item.url if item is not None else e.url
        url, url_shared = old_url, item.url_shared if item is not None else shared
        if e.url and shared:
            url, url_shared = e.url, True
        elif e.url and owner_of_url.get(e.url, item_id) == item_id:
            url, url_shared = e.url, False
        plan.updates.append((item_id, e, h, url, url_shared))
        hashes[item_id] = h
        if url != old_url:
            # Its link changed: a later entry with the old URL is another article,
            # and one with the new URL is this one.
            if old_url and owner_of_url.get(old_url) == item_id:
                del owner_of_url[old_url]
            if url and not url_shared:
                owner_of_url[url] = item_id
    return plan


# --- one run --------------------------------------------------------------------


@dataclasses.dataclass
class _Done:
    """A source's fetch (and parse) is over; what remains is to store it."""

    source: SourceState
    response: Response | None = None
    digest: str | None = None
    parsed: ParsedFeed | None = None
    failure: FetchFailure | None = None
    elapsed: float = 0.0


class _Run:
    def __init__(
        self,
        store: Store,
        settings: FetchSettings,
        concurrency: int,
        now: Callable[[], datetime],
        processes: int,
        emit: Callable[[SourceResult], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.concurrency = concurrency
        self.now = now
        self.emit = emit
        self.parsers = _Parsers(processes)
        # The one thread that writes to the database.
        self.writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="curator-store")
        self.pending: list[_Done] = []
        self.finished = False
        self._wake: asyncio.Event | None = None
        self._full: asyncio.Event | None = None
        self._bodies: asyncio.Semaphore | None = None

    def close(self) -> None:
        self.writer_thread.shutdown(wait=True)
        self.parsers.close()

    async def run(self, sources: Sequence[SourceState]) -> None:
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._bodies = asyncio.Semaphore(max(8, 2 * self.concurrency))
        writer = asyncio.create_task(self._writer())
        try:
            limiter = Limiter(self.concurrency, self.settings.per_host)
            async with make_client(self.settings, concurrency=self.concurrency) as client:
                fetches = asyncio.gather(*(self._one(client, limiter, s) for s in sources))
                try:
                    waiting: set[asyncio.Future[Any]] = {writer, fetches}
                    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    if writer.done():  # the writer stops early only by failing
                        writer.result()
                    await fetches
                finally:
                    # Interrupted (Ctrl-C) or failing: the sources still in flight are
                    # dropped, not recorded as failures, before the client closes.
                    if not fetches.done():
                        fetches.cancel()
                        await asyncio.gather(fetches, return_exceptions=True)
        finally:
            # What was fetched before is committed: the next run need not fetch it again.
            self.finished = True
            self._wake.set()
            self._full.set()
            if not writer.done():
                await writer

    async def _one(self, client: httpx.AsyncClient, limiter: Limiter, source: SourceState) -> None:
        assert self._bodies is not None
        async with self._bodies:  # bounds the bodies held in memory while parsing lags
            self._add(await self._fetch_and_parse(client, limiter, source))

    async def _fetch_and_parse(
        self, client: httpx.AsyncClient, limiter: Limiter, source: SourceState
    ) -> _Done:
        done = _Done(source)
        try:
            response = await fetch_one(client, source, self.settings, limiter=limiter, now=self.now)
        except FetchFailure as exc:
            done.failure = exc
            done.elapsed = exc.elapsed
            return done
        except Exception as exc:  # a bug must not stop the other sources
            done.failure = FetchFailure("connection", f"unexpected error: {type(exc).__name__}: {exc}")
            return done
        done.response = dataclasses.replace(response, body=b"")  # parsed below, not kept
        done.elapsed = response.elapsed
        if not response.not_modified:
            done.digest = hashlib.sha256(response.body).hexdigest()
            if done.digest != source.content_hash:
                t0 = time.perf_counter()
                try:
                    done.parsed = await self.parsers.parse(response, self.now())
                except _ParseFailed as exc:
                    done.failure = FetchFailure(exc.kind, exc.message, moved_to=response.moved_to)
                done.elapsed += time.perf_counter() - t0
        return done

    def _add(self, done: _Done) -> None:
        assert self._wake is not None and self._full is not None
        self.pending.append(done)
        self._wake.set()
        if len(self.pending) >= BATCH_SIZE:
            self._full.set()

    async def _writer(self) -> None:
        """Commit pending results in batches, from the one store thread, then report them."""
        assert self._wake is not None and self._full is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            if not self.finished and len(self.pending) < BATCH_SIZE:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), BATCH_SECONDS)
            batch, self.pending = self.pending, []
            self._wake.clear()
            self._full.clear()
            if batch:
                results = await loop.run_in_executor(self.writer_thread, self._write, batch)
                for result in results:
                    self.emit(result)
            if self.finished and not self.pending:
                return
            if self.pending:
                self._wake.set()

    # in the store thread

    def _write(self, batch: list[_Done]) -> list[SourceResult]:
        try:
            with self.store.write():
                return [self._apply(done) for done in batch]
        except StoreError:  # locked, disk full, I/O error: give up
            raise
        except Exception as exc:
            if len(batch) > 1:  # find the culprit: one transaction each
                return [result for done in batch for result in self._write([done])]
            return [self._store_failed(batch[0], exc)]

    def _store_failed(self, done: _Done, exc: Exception) -> SourceResult:
        message = f"cannot store its entries: {type(exc).__name__}: {exc}"
        failure = FetchFailure("store", message)
        done = _Done(done.source, failure=failure, elapsed=done.elapsed)
        try:
            with self.store.write():
                return self._apply(done)
        except Exception:
            return SourceResult(done.source.id, "failed", error_kind="store", message=failure.message)

    def _apply(self, done: _Done) -> SourceResult:
        source, response, now = done.source, done.response, self.now()
        if done.failure is not None:
            f = done.failure
            self.store.record_fetch(
                source.id,
                status="failed",
                now=now,
                error=f"{f.kind}: {f.message}",
                retry_after=f.retry_after,
                moved_to=f.moved_to,
                gone=f.gone,
            )
            return SourceResult(
                source.id,
                "failed",
                error_kind=f.kind,
                message=f.message,
                moved_to=f.moved_to,
                warning=_moved_warning(f.moved_to),
                elapsed=done.elapsed,
            )
        assert response is not None
        if done.parsed is None:  # 304, or the same body as last time
            previous = source.last_error if (source.last_error or "").startswith(_WARNING) else None
            self.store.record_fetch(
                source.id,
                status="unchanged",
                now=now,
                error=previous,
                etag=response.etag,
                last_modified=response.last_modified,
                moved_to=response.moved_to,
            )
            return SourceResult(
                source.id,
                "unchanged",
                moved_to=response.moved_to,
                warning=_join(
                    previous[len(_WARNING) :] if previous else None, _moved_warning(response.moved_to)
                ),
                elapsed=done.elapsed,
            )
        parsed = done.parsed
        saved = save_entries(self.store, source.id, parsed.entries, now)
        self.store.record_fetch(
            source.id,
            status="ok",
            now=now,
            error=f"{_WARNING}{parsed.warning}" if parsed.warning else None,
            etag=response.etag,
            last_modified=response.last_modified,
            content_hash=done.digest,
            moved_to=response.moved_to,
            feed_title=parsed.title or None,
            new_items=saved.new,
        )
        outcome: Outcome = "new" if saved.new else "updated" if saved.updated else "unchanged"
        return SourceResult(
            source.id,
            outcome,
            new=saved.new,
            updated=saved.updated,
            warning=_join(parsed.warning, _moved_warning(response.moved_to)),
            moved_to=response.moved_to,
            elapsed=done.elapsed,
        )


def _moved_warning(moved_to: str | None) -> str | None:
    if not moved_to:
        return None
    return f"moved permanently to {moved_to}: update sources.yaml (`curator sources apply-redirects`, after two fetches)"


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


# --- parsing --------------------------------------------------------------------


class _ParseFailed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(kind, message)
        self.kind = kind
        self.message = message


class _Parsers:
    """Parse in one thread of this process, or in a pool of worker processes.

    On Linux, when this process has no other thread yet, the pool is forked
    before the run starts (:meth:`fork_now`): that costs a few milliseconds
    and the workers inherit the imported parser. Otherwise (a caller with
    threads of its own, another system) the workers are spawned, once
    POOL_AFTER_BODIES bodies needed parsing, and the thread goes on parsing
    until they are ready. Spawned workers re-import the main module, so a
    script that calls :func:`update_sources` needs the usual
    ``if __name__ == "__main__":`` guard.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="curator-parse")
        self._pool: ProcessPoolExecutor | None = None
        self._ready: asyncio.Future[list[None]] | None = None
        self._forked = False
        self._broken = False
        self._bodies = 0
        self.in_pool = 0  # how many bodies went to the pool

    def fork_now(self) -> bool:
        """Fork the pool now, if it is safe: Linux, and no thread but this one."""
        if self.processes <= 0 or not sys.platform.startswith("linux") or threading.active_count() > 1:
            return False
        from . import feeds  # noqa: F401  (imported here once, inherited by the workers)

        self._pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        self._pool.submit(int)  # forks every worker now, before any thread starts
        self._forked = True
        return True

    async def parse(self, response: Response, fetched_at: datetime) -> ParsedFeed:
        loop = asyncio.get_running_loop()
        self._bodies += 1
        if self.processes > 0 and self._pool is None and self._bodies >= POOL_AFTER_BODIES:
            self._start_pool()
        executor: Executor = self._thread
        if self._pool is not None and not self._broken and self._pool_ready():
            executor = self._pool
            self.in_pool += 1
        try:
            outcome = await loop.run_in_executor(
                executor, _parse_job, response.body, response.url, response.content_type, fetched_at
            )
        except BrokenProcessPool:
            self._broken = True
            raise _ParseFailed("parse", "the parser process died on this feed") from None
        if isinstance(outcome, ParsedFeed):
            return outcome
        raise _ParseFailed(*outcome)

    def _pool_ready(self) -> bool:
        if self._forked:
            return True
        return self._ready is not None and self._ready.done() and self._ready.exception() is None

    def _start_pool(self) -> None:
        self._pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        warm = [asyncio.wrap_future(self._pool.submit(_warm_up)) for _ in range(self.processes)]
        self._ready = asyncio.ensure_future(asyncio.gather(*warm))

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._ready is not None and self._ready.done() and not self._ready.cancelled():
            self._ready.exception()  # seen, so asyncio does not complain


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _worker_init(parent: int) -> None:
    """In each parser process: leave Ctrl-C to the parent, and die with it, even on SIGKILL."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl: nobody needs us
        os._exit(0)


def _warm_up() -> None:
    """Run in new workers: import the parser before the first feed arrives."""
    time.sleep(0.05)  # so that each spawned worker gets one of these
    from . import feeds  # noqa: F401


def _parse_job(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime
) -> ParsedFeed | tuple[str, str]:
    """Parse one body (in a worker process or thread): a feed, or (kind, message)."""
    from .feeds import parse_feed

    try:
        return parse_feed(body, url=url, content_type=content_type, fetched_at=fetched_at)
    except ParseError as exc:
        return "not-a-feed", " ".join(str(exc).split())[:300]
    except Exception as exc:  # a parser bug on hostile input must not take the run down
        return "parse", f"the parser failed: {type(exc).__name__}: {' '.join(str(exc).split())[:250]}"


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
