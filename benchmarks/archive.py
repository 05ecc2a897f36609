"""Benchmark: the static archive of 120 published issues (40 items each, plus reports) and 30 labs.

Prints the full build (into an empty folder), the incremental publication of
one more issue (``archive.publish_issue``: freeze it, rebuild what changed)
and their ratio, each against its target:

    python benchmarks/archive.py [--issues 120] [--items 40] [--labs 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import WORDS  # benchmarks/ is on sys.path when a script runs

from curator import editorial
from curator.archive import build_archive, publish_issue
from curator.archive.writer import spare_of
from curator.config import load_config
from curator.ingest import save_entries
from curator.models import Entry, Month
from curator.store import Store

VEILLE_SOURCES = 10
FIRST = Month(2012, 3)  # the next issue is a March one: a typical month, not a new year


def write_config(path: Path, labs: int) -> Path:
    lines = [
        "newsletter:",
        "  title: Infolettre des labs d'académie",
        "  publisher: Lab 110 bis",
        "  site_url: https://labs.example.org/archive/",
        "  reply_to: lab110bis@labs.example.org",
        "sections:",
        "  - {id: edito, title: Édito}",
        "  - {id: retours, title: Retours d'expérience}",
        "  - {id: actualites, title: Actualités des labs}",
        "  - {id: veille, title: Veille}",
        "  - {id: agenda, title: Agenda}",
        "themes:",
        "  - {id: facilitation, label: Facilitation, keywords: [atelier, facilitation, co-développement]}",
        "  - {id: design, label: Design des politiques publiques, keywords: [design, usagers, prototype]}",
        "  - {id: numerique, label: Numérique éducatif, keywords: [numérique, plateforme, données]}",
        "labs:",
    ]
    lines += [
        f"  - {{id: lab-{i:02d}, name: Lab {i:02d}, academie: Académie {i:02d}, city: Ville {i}}}"
        for i in range(labs)
    ]
    lines.append("sources:")
    lines += [
        f"  - {{id: lab-{i:02d}, url: 'https://lab{i}.example/feed.xml', section: actualites, lab: lab-{i:02d}}}"
        for i in range(labs)
    ]
    lines += [
        f"  - {{id: veille-{i}, url: 'https://veille{i}.example/feed.xml', section: veille, tags: [design]}}"
        for i in range(VEILLE_SOURCES)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def fill_issue(store: Store, month: Month, rng: random.Random, items: int, labs: int, now: datetime) -> None:
    """An issue of ``items`` picked items (a third of them with a note), two reports, an édito, an event."""
    start = month.start(UTC)
    per_source: dict[str, list[Entry]] = {}
    for i in range(items):
        source = f"lab-{rng.randrange(labs):02d}" if i % 3 == 0 else f"veille-{rng.randrange(VEILLE_SOURCES)}"
        title = sentence(rng, rng.randint(5, 11))
        per_source.setdefault(source, []).append(
            Entry(
                key=f"{month}-{i}",
                url=f"https://news.example/{month}/{i}",
                title=title,
                summary=f"<p>{title}</p>",
                excerpt=sentence(rng, 40),
                text=title,
                published=start + timedelta(hours=i),
            )
        )
    for source, entries in per_source.items():
        save_entries(store, source, entries, now)
    store.create_issue(month, f"Infolettre — {month}", now)
    refs = [
        i.id
        for s in per_source
        for i in store.items(source=s, start=start, end=month.end(UTC))
        if i.url and i.url.startswith(f"https://news.example/{month}/")
    ]
    for n, item_id in enumerate(sorted(set(refs))):
        section = "actualites" if n % 3 == 0 else "veille"
        note = f"Pourquoi c'est **important** : {sentence(rng, 20)}." if n % 3 == 1 else None
        store.place_pick(month, "item", item_id, section, None, now, note=note)
    for r in range(2):
        report_id, _ = store.add_report(
            submission_key=f"{month}-{r}",
            lab=f"lab-{rng.randrange(labs):02d}",
            lab_other="",
            author_name="Claire Lemoine",
            author_email="c@example.org",
            title=sentence(rng, 8),
            summary=sentence(rng, 30),
            body=f"## Le contexte\n\n{sentence(rng, 120)}\n\n## La suite\n\n{sentence(rng, 80)}",
            link=None,
            tags=["facilitation"],
            license="etalab-2.0",
            now=now,
        )
        store.change_report(report_id, {"status": "approved"}, editor="bench", action="approved", now=now)
        store.place_pick(month, "report", report_id, "retours", None, now)
    store.add_event(
        month,
        now,
        title="Temps du lab",
        starts_at=start + timedelta(days=20, hours=13),
        ends_at=start + timedelta(days=20, hours=14),
        place="",
        video_url="https://visio.example.org/lab",
        description="",
        link=None,
    )
    store.update_issue(month, now, edito=f"{sentence(rng, 25)}. {sentence(rng, 60)}.")


def build_store(directory: Path, issues: int, items: int, labs: int) -> tuple[Store, object]:
    config = load_config(write_config(directory / "sources.yaml", labs))
    store = Store.open(directory / "bench.db")
    now = datetime(2022, 1, 1, tzinfo=UTC)
    store.sync_sources(config.sources, now)
    rng = random.Random(42)
    month = FIRST
    with store.write():
        for _ in range(issues):
            fill_issue(store, month, rng, items, labs, now)
            store.update_issue(
                month, now, state="published", published_at=month.start(UTC) + timedelta(days=27)
            )
            month = month.next()
        fill_issue(store, month, rng, items, labs, now)  # the next issue, ready to publish
    return store, config


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall-clock seconds, CPU seconds of this process and its children, result)."""
    before, t = os.times(), time.perf_counter()
    result = fn()
    wall, after = time.perf_counter() - t, os.times()
    cpu = sum(after[i] - before[i] for i in range(4))
    return wall, cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=120)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--labs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path.cwd(),
        help="Where to make the temporary store and archives (default: here; /tmp may be slower).",
    )
    args = parser.parse_args()
    now = datetime(2022, 2, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix=".bench-archive-", dir=args.dir) as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        store, config = build_store(directory, args.issues, args.items, args.labs)
        print(
            f"store: {args.issues} published issues of {args.items} items (+2 reports, an event), "
            f"{args.labs} labs, built in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
        full_runs = [
            measure(lambda n=n: build_archive(store, config, directory / f"full-{n}", now=now))  # type: ignore[misc]
            for n in range(args.repeat)
        ]
        full, full_cpu, report = min(full_runs, key=lambda r: r[0])
        size = sum(p.stat().st_size for p in (directory / "full-0").rglob("*") if p.is_file())
        print(
            f"archive full build: {full:.2f} s (target < 3 s) {verdict(full < 3.0)} "
            f"[CPU {full_cpu:.2f} s; {report.files} files, {size / 1e6:.1f} MB; best of {args.repeat}]"
        )

        month = FIRST
        for _ in range(args.issues):
            month = month.next()
        incremental_runs = []
        for n in range(args.repeat):
            out = directory / f"incremental-{n}" / "archive"
            # The archive before publishing, and the spare every build leaves beside it for the next to
            # recycle (the previous tree): the state of an archive built at least twice.
            shutil.copytree(directory / "full-0", out, copy_function=os.link)
            shutil.copytree(directory / "full-0", spare_of(out), copy_function=os.link)
            if n:
                editorial.reopen(store, month, now)
            incremental_runs.append(measure(lambda out=out: publish_issue(store, config, month, out, now)))  # type: ignore[misc]
        incremental, incremental_cpu, done = min(incremental_runs, key=lambda r: r[0])
        print(
            f"archive incremental publication of one more issue: {incremental:.3f} s "
            f"(target < 10 % of the full build) {verdict(incremental < 0.1 * full)} "
            f"[CPU {incremental_cpu:.3f} s; {len(done.report.written)} files written, {done.report.kept} kept]"
        )
        ratio = incremental / full
        print(
            f"archive incremental / full: {ratio:.1%} (target < 10 %) {verdict(ratio < 0.10)} "
            f"[CPU ratio {incremental_cpu / full_cpu:.1%}]"
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
