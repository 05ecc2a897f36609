"""Benchmark: the ranked, grouped candidate list for a month with 100,000 items in the store.

Prints the in-process time of `editorial.candidates` (every candidate scored,
grouped and ranked, as the editor's page and the CLI compute it; and the same
with the reasons written for every candidate, as `--json` prints them) and of
the editor's candidate page, each with its ratio to a plain SQL query returning
the same rows, measured in the same run (machines are noisy: compare ratios).

    python benchmarks/candidates.py [--items 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import WORDS  # benchmarks/ is on sys.path when a script runs

from curator import editorial
from curator.config import parse_config
from curator.demo import SAMPLE_CONFIG
from curator.ingest import save_entries
from curator.models import Entry, Month
from curator.store import Store


def build(path: Path, n_items: int, n_sources: int = 50) -> tuple[Store, object]:
    text = SAMPLE_CONFIG.read_text().replace("{base_url}", "http://127.0.0.1:9")
    extra = "\n".join(
        f"  - {{id: bench-{i}, url: 'https://feeds{i % 50}.example/{i}.xml', section: veille, weight: {0.5 + (i % 4) / 2}}}"
        for i in range(n_sources)
    )
    cfg_path = path.parent / "sources.yaml"
    cfg_path.write_text(text + extra + "\n")
    config = parse_config(cfg_path.read_text(), str(cfg_path))
    store = Store.open(path)
    now = datetime(2022, 1, 31, tzinfo=UTC)
    store.sync_sources(config.sources, now)
    rng = random.Random(42)
    start = datetime(2020, 2, 1, tzinfo=UTC)
    span = (now - start).total_seconds()
    per_source = n_items // n_sources
    with store.write():
        for s in range(n_sources):
            entries = []
            for i in range(per_source):
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))).capitalize()
                # about 3 % of stories also appear in another source (duplicates to group)
                url_id = rng.randrange(n_items) if rng.random() < 0.03 else s * per_source + i
                entries.append(
                    Entry(
                        key=f"{s}-{i}",
                        url=f"https://news.example/{url_id}",
                        title=title,
                        summary=f"<p>{title}</p>",
                        excerpt=title,
                        text=title,
                        published=start + timedelta(seconds=rng.random() * span),
                    )
                )
            save_entries(store, f"bench-{s}", entries, now)
    return store, config


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    month = Month.parse("2022-01")
    now = datetime(2022, 1, 31, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, config = build(Path(tmp) / "bench.db", args.items)
        print(
            f"store: {store.count('items')} items from 50 sources, built in {time.perf_counter() - t0:.1f} s"
        )
        # As in use, where `curator fetch` wrote the store and the editor's process reads it.
        store.close()
        store = Store.open(Path(tmp) / "bench.db")
        gc.collect()
        oldest, _start, end = editorial.candidate_window(config, month)  # type: ignore[arg-type]
        conn = sqlite3.connect(Path(tmp) / "bench.db")

        def plain() -> list[tuple[object, ...]]:
            return conn.execute(
                "SELECT id, url, title, excerpt, published FROM items WHERE published >= ? AND published < ? ORDER BY published DESC",
                (
                    oldest.astimezone(UTC).isoformat(timespec="seconds"),
                    end.astimezone(UTC).isoformat(timespec="seconds"),
                ),
            ).fetchall()

        rows = len(plain())
        base = timed(plain, args.repeat)

        def ranked() -> list[object]:
            # as the editor's page and `curator candidates` compute it: every candidate
            # scored, grouped and ranked; reasons are then written for those shown
            return editorial.candidates(store, config, month, now, reasons=False)  # type: ignore[arg-type]

        def explained() -> list[object]:
            # as `curator candidates --json` prints it: reasons for every candidate too
            return editorial.candidates(store, config, month, now)  # type: ignore[arg-type]

        cands = ranked()
        t_cand = timed(ranked, args.repeat)
        t_all = timed(explained, args.repeat)
        print(f"plain SQL query: {rows} rows in {base * 1000:.1f} ms (baseline)")
        ok = "OK" if t_cand < 0.2 else "MISSED"
        print(
            f"candidates (ranked, grouped): {len(cands)} candidates in {t_cand * 1000:.1f} ms "
            f"(target < 200 ms) {ok}; ratio to plain SQL {t_cand / base:.1f}x"
        )
        print(
            f"  the same with the reasons written for all {len(cands)} (as --json prints them): "
            f"{t_all * 1000:.1f} ms; ratio to plain SQL {t_all / base:.1f}x"
        )
        from curator.web import create_app

        page = _page_timer(create_app, config, store, month)
        if page is None:
            print("editor candidate page: MISSED (the page did not answer 200)")
            return 1
        t_page = timed(page, args.repeat)
        ok = "OK" if t_page < 0.3 else "MISSED"
        print(
            f"editor candidate page: {t_page * 1000:.1f} ms (target < 300 ms) {ok}; ratio to plain SQL {t_page / base:.1f}x"
        )
    return 0


def _page_timer(create_app, config, store, month):  # type: ignore[no-untyped-def]
    app = create_app(str(config.path), store.path, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    from curator.editors import add_editor

    add_editor(store, "bench@example.org", "benchmark-password", datetime.now(UTC))
    client = app.test_client()
    client.post("/editeur/connexion", data={"email": "bench@example.org", "password": "benchmark-password"})
    url = f"/editeur/numeros/{month}/candidats"
    if client.get(url).status_code != 200:
        return None

    def fetch() -> None:
        response = client.get(url)
        assert response.status_code == 200

    return fetch


if __name__ == "__main__":
    sys.exit(main())
