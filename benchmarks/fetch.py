"""Benchmark ``curator fetch`` against N generated feeds on 50 loopback addresses.

Usage: ``python benchmarks/fetch.py [--feeds 500] [--latency 100] [--sample 60]``

It generates N feeds (10 to 50 entries each, French text, 5 to 80 KB), serves
them from a separate process listening on 127.0.0.2 to 127.0.0.51 (so that
per-host limits behave as they do on the web) with an artificial latency per
response, and prints four figures, each with its target:

1. the speed-up of curator's first fetch over a sequential
   ``feedparser.parse(url)`` loop on the same feeds (timed on a sample of the
   feeds and extrapolated, to keep the run short: the output says so);
2. curator's first fetch wall time divided by the time to parse the same bytes
   in memory in one process (with curator's own parser, ``parse_feed``);
3. the CPU time (this process and its children) of a second fetch, where every
   source answers 304, divided by the first fetch's;
4. the time to store the same entries with ``ingest.save_entries`` (one
   transaction, fresh database) divided by plain ``sqlite3`` ``executemany``
   of the same rows into an equivalent schema (the same tables, unique URL
   index and FTS5 index), in one transaction too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import random
import resource
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curator.models import Entry, ParsedFeed

HOSTS = [f"127.0.0.{i}" for i in range(2, 52)]

# --- generated feeds ------------------------------------------------------------

_SUBJECTS = [
    "Les élèves de CM2",
    "L'équipe du lab",
    "Une classe de seconde professionnelle",
    "Le collège Jean-Moulin",
    "Les enseignantes du réseau",
    "La cité éducative",
    "Un groupe de lycéens",
    "Les agents territoriaux",
    "L'école maternelle des Tilleuls",
    "Les conseillers pédagogiques",
]
_VERBS = [
    "ont imaginé",
    "ont expérimenté",
    "racontent",
    "documentent",
    "prototypent",
    "évaluent",
    "partagent",
    "repensent",
    "co-construisent",
    "présentent",
]
_OBJECTS = [
    "la cour de récréation de demain",
    "une évaluation par compétences",
    "des espaces d'apprentissage flexibles",
    "un atelier de design de services",
    "la médiation par les pairs",
    "un jardin pédagogique partagé",
    "la continuité entre l'école et le collège",
    "un tiers-lieu éducatif",
    "des parcours d'orientation plus justes",
    "l'accueil des familles allophones",
]
_DETAILS = [
    "pendant deux jours, avec des architectes et des agents de la ville",
    "à partir d'entretiens menés auprès de quarante familles",
    "en s'appuyant sur les méthodes du design des politiques publiques",
    "grâce à un financement du fonds d'innovation pédagogique",
    "avec l'appui de l'université et d'une association d'éducation populaire",
    "après une année d'essais, d'erreurs et de réajustements",
    "dans trois établissements de l'académie, en zone rurale comme en ville",
    "en associant les élèves à chaque étape, du diagnostic au prototype",
]
_ENDINGS = [
    "Le bilan est encourageant.",
    "Les résultats seront présentés aux rencontres nationales des labs.",
    "Une synthèse est disponible en ligne.",
    "L'expérience sera reconduite à la rentrée prochaine.",
    "« On veut des coins calmes, pas seulement un terrain de foot », résume Inès, 10 ans.",
    "Les enseignants soulignent l'engagement inédit des élèves.",
]
_CATEGORIES = [
    "Retours d'expérience",
    "Design",
    "Bâti scolaire",
    "Évaluation",
    "Inclusion",
    "Numérique",
    "Appels",
]


def _sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}, "
        f"{rng.choice(_DETAILS)}. {rng.choice(_ENDINGS)}"
    )


def _html(rng: random.Random, size: int, site: str) -> str:
    if size < 200:
        return f"<p>{escape(rng.choice(_ENDINGS))}</p>"
    parts: list[str] = []
    length = 0
    while length < size:
        kind = rng.random()
        if kind < 0.6:
            piece = f"<p>{escape(_sentence(rng))} {escape(_sentence(rng))}</p>"
        elif kind < 0.75:
            piece = f'<p><strong>{escape(rng.choice(_OBJECTS))}</strong> : <a href="{site}/ressources/{rng.randrange(999)}.pdf">la synthèse</a> (PDF).</p>'
        elif kind < 0.85:
            items = "".join(f"<li>{escape(_sentence(rng))}</li>" for _ in range(3))
            piece = f"<ul>{items}</ul>"
        elif kind < 0.95:
            piece = f"<blockquote><p>{escape(rng.choice(_ENDINGS))}</p></blockquote>"
        else:
            piece = f'<figure><img src="{site}/images/{rng.randrange(9999)}.jpg" alt="{escape(rng.choice(_OBJECTS))}" width="800" height="533"><figcaption>{escape(rng.choice(_DETAILS))}</figcaption></figure>'
        parts.append(piece)
        length += len(piece.encode())
    return "\n".join(parts)


@dataclass(frozen=True)
class Feed:
    index: int
    path: str
    host: str
    body: bytes
    content_type: str
    entries: int

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}{self.path}"


def _feed_text(rng: random.Random, i: int, entries: int, target: int, atom: bool, start: datetime) -> str:
    per_entry = max(0, int(((target - 600) / entries - 430) / (1.12 if atom else 1.0)))  # escaping adds ~12 %
    site = f"https://lab-{i}.ac-exemple.fr"
    items: list[str] = []
    for k in range(entries):
        when = start - timedelta(hours=7 * k + rng.randrange(7), minutes=rng.randrange(60))
        title = escape(f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}")
        link = f"{site}/{when:%Y/%m}/article-{k}/"
        html = _html(rng, per_entry, site)
        category = escape(rng.choice(_CATEGORIES))
        if atom:
            items.append(
                f"<entry><id>tag:lab-{i}.ac-exemple.fr,2024:{k}</id><title>{title}</title>"
                f'<link rel="alternate" href="{link}"/><updated>{when.isoformat()}</updated>'
                f"<author><name>Équipe du lab {i}</name></author>"
                f'<category term="{category}"/><content type="html">{escape(html)}</content></entry>'
            )
        else:
            items.append(
                f"<item><title>{title}</title><link>{link}</link>"
                f'<guid isPermaLink="false">{site}/?p={k}</guid>'
                f"<pubDate>{format_datetime(when)}</pubDate><category>{category}</category>"
                f"<description><![CDATA[{html}]]></description></item>"
            )
    if atom:
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Lab d'innovation n° {i}</title><id>{site}/</id>"
            f'<link rel="alternate" href="{site}/"/><updated>{start.isoformat()}</updated>'
            + "".join(items)
            + "</feed>"
        )
    else:
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Lab d'innovation n° {i}</title><link>{site}/</link>"
            "<description>Les projets du lab, racontés par celles et ceux qui les font.</description>"
            "<language>fr-FR</language>" + "".join(items) + "</channel></rss>"
        )
    return text


def generate_feeds(n: int, seed: int = 2024) -> list[Feed]:
    """N feeds, 10 to 50 entries each, French text, 5 to 80 KB; RSS 2.0 and Atom."""
    rng = random.Random(seed)
    feeds: list[Feed] = []
    start = datetime(2024, 6, 30, 8, 0, tzinfo=UTC)
    for i in range(n):
        target = rng.randint(5 * 1024, 80 * 1024)
        entries = rng.randint(10, max(10, min(50, target // 500)))
        atom = rng.random() < 0.3
        for _attempt in range(20):  # aim again until the size is in range
            text = _feed_text(rng, i, entries, target, atom, start)
            size = len(text.encode())
            if size > 80 * 1024:
                target = int(target * 0.93)
            elif size < 5 * 1024:
                target = int(target * 1.1)
            else:
                break
        content_type = f"application/{'atom' if atom else 'rss'}+xml; charset=utf-8"
        feeds.append(Feed(i, f"/feeds/{i}.xml", HOSTS[i % len(HOSTS)], text.encode(), content_type, entries))
    return feeds


# --- the server (a separate process) ----------------------------------------------


def serve(feed_dir: str, latency: float, conn: Connection) -> None:
    """Serve the feeds in ``feed_dir`` on every address of HOSTS; send back the port."""
    files: dict[str, tuple[bytes, str, str]] = {}
    for path in Path(feed_dir).glob("*.xml"):
        body = path.read_bytes()
        ctype = (
            "application/atom+xml; charset=utf-8"
            if b"<feed" in body[:200]
            else "application/rss+xml; charset=utf-8"
        )
        files[f"/feeds/{path.name}"] = (body, ctype, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _method, path, version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                await asyncio.sleep(latency)
                found = files.get(path)
                if found is None:
                    status, body, extra = "404 Not Found", b"not found", "Content-Type: text/plain\r\n"
                elif headers.get("if-none-match") == found[2]:
                    status, body, extra = "304 Not Modified", b"", f"ETag: {found[2]}\r\n"
                else:
                    status, body, extra = (
                        "200 OK",
                        found[0],
                        f"Content-Type: {found[1]}\r\nETag: {found[2]}\r\n",
                    )
                close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
                writer.write(
                    f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\n"
                    f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n".encode()
                    + (body if status != "304 Not Modified" else b"")
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        for _attempt in range(20):
            with socket.socket() as probe:
                probe.bind((HOSTS[0], 0))
                port = probe.getsockname()[1]
            try:
                servers = [await asyncio.start_server(handle, host, port, backlog=1024) for host in HOSTS]
            except OSError:
                continue
            conn.send(port)
            async with contextlib.AsyncExitStack() as stack:
                for server in servers:
                    await stack.enter_async_context(server)
                await asyncio.gather(*(s.serve_forever() for s in servers))
        conn.send(None)

    asyncio.run(main())


@contextlib.contextmanager
def feed_server(feed_dir: Path, latency: float) -> Iterator[int]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=serve, args=(str(feed_dir), latency, child), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise SystemExit("the feed server did not start")
        port = parent.recv()
        if port is None:
            raise SystemExit("the feed server found no free port on 127.0.0.2-51")
        yield port
    finally:
        process.terminate()
        process.join(5)


# --- measurements -----------------------------------------------------------------


def cpu_time() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), cpu_time()
    result = fn()
    return time.perf_counter() - wall, cpu_time() - cpu, result


def figure(name: str, value: float, target: str, ok: bool, unit: str = "") -> str:
    return f"{name}: {value:.2f}{unit} (target {target}) {'OK' if ok else 'MISSED'}"


def plain_sqlite(path: Path, schema_from: Path, rows: list[tuple[str, list[Entry]]], now: datetime) -> float:
    """Write the rows curator writes with plain ``executemany``, one transaction; return seconds.

    The schema (items, item_sources, items_fts and their indexes) is copied from
    the curator database ``schema_from``, and each column is computed as curator
    computes it (the same helpers for the derived ones), so that what is
    compared is the storing itself: curator's lookups, identity checks and
    row-by-row statements against three ``executemany`` calls.
    """
    import json

    from curator import store as curator_store
    from curator.text import title_key

    source = sqlite3.connect(schema_from)
    statements = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name IN ('items', 'item_sources', 'items_fts') "
            "AND sql IS NOT NULL ORDER BY rowid"
        )
    ]
    columns = [row[1] for row in source.execute("PRAGMA table_info(items)")]
    source.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for sql in statements:
        conn.execute(sql)
    derived = [c for c in ("title_key", "match_text", "sources") if c in columns]

    start = time.perf_counter()
    iso = curator_store.iso
    now_s = iso(now)
    items: list[tuple[object, ...]] = []
    links: list[tuple[object, ...]] = []
    fts: list[tuple[object, ...]] = []
    item_id = 0
    for source_id, entries in rows:
        for e in entries:
            item_id += 1
            published = iso(e.published) or now_s
            extra: list[str] = []
            if "title_key" in derived:
                extra.append(title_key(e.title))
            if "match_text" in derived:
                extra.append(curator_store.match_text(e.title, e.excerpt))
            if "sources" in derived:
                extra.append(source_id)
            items.append(
                (
                    item_id,
                    e.url,
                    e.title,
                    e.summary,
                    e.excerpt,
                    e.author,
                    json.dumps(list(e.categories), ensure_ascii=False),
                    published,
                    int(e.published is None),
                    now_s,
                    iso(e.updated) or published,
                    curator_store.entry_hash(e),
                    *extra,
                )
            )
            links.append((source_id, e.key, item_id, now_s))
            fts.append((item_id, e.title, e.text or e.excerpt))
    names = ", ".join(
        [
            "id",
            "url",
            "title",
            "summary",
            "excerpt",
            "author",
            "categories",
            "published",
            "published_estimated",
            "first_seen",
            "updated",
            "content_hash",
            *derived,
        ]
    )
    marks = ", ".join("?" * (12 + len(derived)))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO items ({names}) VALUES ({marks})", items)
    conn.executemany(
        "INSERT INTO item_sources (source_id, entry_key, item_id, first_seen) VALUES (?, ?, ?, ?)", links
    )
    conn.executemany("INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)", fts)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500, help="how many feeds (default 500)")
    parser.add_argument("--latency", type=float, default=100, help="milliseconds per response (default 100)")
    parser.add_argument(
        "--sample", type=int, default=60, help="feeds timed in the sequential loop (default 60)"
    )
    parser.add_argument("--concurrency", type=int, default=None, help="curator's --concurrency (default 16)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="best of how many store measurements (default 3)"
    )
    args = parser.parse_args(argv)

    import feedparser  # type: ignore[import-untyped]

    from curator.config import Config, FetchSettings
    from curator.feeds import parse_feed
    from curator.ingest import save_entries, update_sources
    from curator.models import Newsletter, Section, Source
    from curator.store import Store

    n = args.feeds
    feeds = generate_feeds(n)
    sizes = [len(f.body) for f in feeds]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{n} feeds, {sum(f.entries for f in feeds)} entries, {sum(sizes) / 1e6:.1f} MB "
        f"({min(sizes) // 1024}-{max(sizes) // 1024} KB each), on {len(HOSTS)} loopback addresses, "
        f"{args.latency:g} ms latency, {cores} cores"
    )
    load = os.getloadavg()[0]
    if cores and load > 0.5 * cores:
        print(f"warning: the machine is busy (load average {load:.1f}): wall-clock figures will suffer")
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="curator-bench-") as tmp:
        work = Path(tmp)
        (work / "feeds").mkdir()
        for f in feeds:
            (work / "feeds" / f"{f.index}.xml").write_bytes(f.body)
        with feed_server(work / "feeds", args.latency / 1000) as port:
            urls = [f.url(port) for f in feeds]
            config = Config(
                path=Path("sources.yaml"),
                newsletter=Newsletter(title="Bench", publisher="Bench", site_url="https://bench.example/"),
                sections=(Section("veille", "Veille"),),
                labs=(),
                themes=(),
                sources=tuple(Source(id=f"feed-{i:04d}", url=u) for i, u in enumerate(urls)),
                fetch=FetchSettings(),
            )

            with Store.open(work / "curator.db") as store:
                wall1, cpu1, first = timed(
                    lambda: update_sources(store, config, concurrency=args.concurrency)
                )
                wall2, cpu2, second = timed(
                    lambda: update_sources(store, config, concurrency=args.concurrency)
                )
                items = store.count("items")
            print(
                f"curator, first fetch: {wall1:.2f} s wall, {cpu1:.2f} s CPU; {first.new} items, "  # type: ignore[attr-defined]
                f"{first.failed} failed"  # type: ignore[attr-defined]
            )
            print(
                f"curator, second fetch (304s): {wall2:.2f} s wall, {cpu2:.2f} s CPU; "
                f"{second.unchanged} unchanged, {second.new} new"  # type: ignore[attr-defined]
            )
            if first.failed or second.unchanged != n:  # type: ignore[attr-defined]
                print("the fetches did not go as expected: the figures below mean little", file=sys.stderr)

            # The sequential loop, on a sample spread over the feeds.
            step = max(1, n // max(1, args.sample))
            sample = urls[::step][: args.sample]
            start = time.perf_counter()
            for url in sample:
                result = feedparser.parse(url)
                assert result.entries, url
            seq_sample = time.perf_counter() - start
            seq = seq_sample * n / len(sample)

        # Parsing the same bytes in memory, in one process.
        parse_time, parse_cpu, result = timed(
            lambda: [
                parse_feed(f.body, url=urls[f.index], content_type=f.content_type, fetched_at=now)
                for f in feeds
            ]
        )
        parsed: list[ParsedFeed] = result  # type: ignore[assignment]

        # Storing the same entries: curator's store vs plain executemany, each
        # on a fresh database, best of --repeat (the machine may be busy).
        rows = [(f"feed-{i:04d}", list(p.entries)) for i, p in enumerate(parsed)]
        store_times, plain_times = [], []
        for attempt in range(args.repeat):
            with Store.open(work / f"store{attempt}.db") as fresh:
                fresh.sync_sources(config.sources, now)
                start = time.perf_counter()
                with fresh.write():
                    for source_id, entries in rows:
                        save_entries(fresh, source_id, entries, now)
                store_times.append(time.perf_counter() - start)
                stored = fresh.count("items")
            plain_times.append(
                plain_sqlite(work / f"plain{attempt}.db", work / f"store{attempt}.db", rows, now)
            )
        store_time, plain_time = min(store_times), min(plain_times)

    print(
        f"sequential feedparser.parse(url): {seq_sample:.2f} s for {len(sample)} feeds, so ~{seq:.1f} s for {n}"
        + (" (extrapolated from the sample)" if len(sample) < n else "")
    )
    print(
        f"parse_feed on the same bytes in memory, one process: {parse_time:.2f} s wall, {parse_cpu:.2f} s CPU "
        f"(the first fetch used {cpu1 / parse_cpu:.2f}× that CPU: network, processes and store included)"
    )
    print(
        f"store, best of {args.repeat}: save_entries {store_time:.3f} s, plain executemany {plain_time:.3f} s ({stored} items, {items} after fetch)"
    )
    print()
    speedup = seq / wall1
    print(
        figure(
            "1. first fetch speed-up over sequential feedparser.parse(url)",
            speedup,
            "≥ 10×",
            speedup >= 10,
            "×",
        )
    )
    overlap = wall1 / parse_time
    print(figure("2. first fetch wall time / in-memory parse time", overlap, "≤ 1.0", overlap <= 1.0))
    ratio = cpu2 / cpu1
    print(
        figure("3. CPU of a 304 fetch / CPU of the first fetch", ratio * 100, "≤ 10 %", ratio <= 0.10, " %")
    )
    store_ratio = store_time / plain_time
    print(
        figure("4. save_entries / plain sqlite3 executemany", store_ratio, "≤ 1.5×", store_ratio <= 1.5, "×")
    )
    return 0 if speedup >= 10 and overlap <= 1.0 and ratio <= 0.10 and store_ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
