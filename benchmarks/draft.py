"""Benchmark: the email of a 40-item issue.

Prints, each as "name: value (target …) OK/MISSED" or as a plain figure:
- the in-process render (`render.render_email`: Jinja → MJML → HTML, the text part,
  the checks), caches emptied before each run, as in a fresh `curator draft`;
- the whole `curator draft` process (start-up, store, render, three files written);
- where Node and the reference MJML (.ci/node, see .ci/run) are installed, the same
  MJML through the JavaScript `mjml` CLI, with its ratio to mjml-python.

    python benchmarks/draft.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import WORDS  # benchmarks/ is on sys.path when a script runs

from curator import editorial, render, typography, views
from curator.config import load_config
from curator.demo import SAMPLE_CONFIG
from curator.ingest import save_entries
from curator.models import Entry, Month
from curator.store import Store

ROOT = Path(__file__).resolve().parent.parent
MJML_CLI = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mjml"
NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)
MONTH = Month.parse("2022-01")


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def build(directory: Path, items: int = 36, reports: int = 4, events: int = 3) -> tuple[Path, Path]:
    """A store with a 40-item issue of varied, realistic lengths; returns (database, sources.yaml)."""
    rng = random.Random(7)
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", "http://127.0.0.1:9")
    config_path = directory / "sources.yaml"
    config_path.write_text(
        text.replace(", max_picks: 6", "").replace(", max_picks: 10", "").replace(", max_picks: 12", ""),
        encoding="utf-8",
    )
    config = load_config(config_path)
    db = directory / "curator.db"
    store = Store.open(db)
    store.sync_sources(config.sources, NOW)
    sources = ["la27eregion", "lab-normandie", "veille-education", "lab-110bis"]
    sections = ["veille", "actualites", "veille", "appels"]
    for n in range(items):
        summary = ". ".join(sentence(rng, rng.randint(8, 14)) for _ in range(3))[:300]
        entry = Entry(
            key=f"e{n}",
            url=f"https://news.example.org/{n}/{sentence(rng, 3).lower().replace(' ', '-')}?utm_source=rss",
            title=f"{sentence(rng, rng.randint(5, 11))} : {rng.choice(WORDS)} !",
            summary=f"<p>{summary}</p>",
            excerpt=summary,
            text=summary,
            published=datetime(2022, 1, 1 + n % 28, 9, tzinfo=UTC),
        )
        save_entries(store, sources[n % 4], [entry], NOW)
    for n, item in enumerate(sorted(store.items(), key=lambda i: i.id)):
        note = (
            f"{sentence(rng, 12)} : [à lire](https://labs.example.org/fiches/{n}?fbclid=x)." if n % 2 else ""
        )
        editorial.pick(store, config, MONTH, str(item.id), NOW, section=sections[n % 4], note=note)
    from curator.reports import approve

    for n in range(reports):
        report_id, _ = store.add_report(
            submission_key=f"k{n}",
            lab="lab-normandie",
            lab_other="",
            author_name=f"Autrice {n}",
            author_email="a@example.org",
            title=sentence(rng, 8),
            summary=sentence(rng, 30),
            body=sentence(rng, 80),
            link=None,
            tags=[],
            license="etalab-2.0",
            now=NOW - timedelta(days=2),
        )
        approve(store, report_id, editor="bench", now=NOW)
        editorial.pick(store, config, MONTH, f"r{report_id}", NOW, section="retours", note=sentence(rng, 15))
    for n in range(events):
        editorial.add_event(
            store,
            config,
            MONTH,
            NOW,
            title=sentence(rng, 4),
            starts_at=datetime(2022, 1, 25 + n, 14),
            ends_at=datetime(2022, 1, 25 + n, 16),
            place="En visioconférence",
            video_url="https://visio.example.org/lab",
            description=sentence(rng, 20),
        )
    editorial.set_edito(store, config, MONTH, "\n\n".join(sentence(rng, 40) + "." for _ in range(3)), NOW)
    store.close()
    return db, config_path


def clear_caches() -> None:
    for cached in (typography._typography, typography.clean_url, typography._html_to_text_with_links):
        cached.cache_clear()


def median_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def verdict(name: str, value: float, target: float, unit: str = "ms") -> str:
    return f"{name}: {value:.1f} {unit} (target < {target:g} {unit}) {'OK' if value < target else 'MISSED'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, config_path = build(folder)
        config = load_config(config_path)
        with Store.open(db) as store:
            view = views.issue_view(store, config, MONTH)
            rendered = render.render_email(view, config, now=NOW)
            assert len(view.picks) == 40, len(view.picks)

            def cold_render() -> None:
                clear_caches()
                render.render_email(view, config, now=NOW)

            in_process = median_ms(cold_render, args.repeat)
            with_store = median_ms(
                lambda: (
                    clear_caches(),
                    render.render_email(views.issue_view(store, config, MONTH), config, now=NOW),
                ),
                args.repeat,
            )
        import mjml

        mrml = median_ms(
            lambda: mjml.mjml2html(rendered.mjml, fonts={}, disable_comments=True), args.repeat * 3
        )
        print(
            f"issue: {len(view.picks)} picks, {len(view.events)} events; "
            f"HTML {rendered.html_size / 1000:.1f} KB (Gmail clips over 102 KB), text {len(rendered.text) / 1000:.1f} KB"
        )
        print(verdict("render_email in-process (40 items)", in_process, 20))
        print(f"issue_view + render_email in-process: {with_store:.1f} ms")
        print(f"mjml-python alone (MJML -> HTML): {mrml:.2f} ms")

        curator = Path(sys.executable).with_name("curator")
        command = [str(curator)] if curator.exists() else [sys.executable, "-m", "curator"]
        command += [
            "--db",
            str(db),
            "--config",
            str(config_path),
            "draft",
            "--month",
            str(MONTH),
            "--out",
            str(folder / "drafts"),
        ]
        # As installed: Python's compiled modules (.pyc) are written and reused (some shells set
        # PYTHONDONTWRITEBYTECODE, which makes every run compile curator's modules again).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(command, check=True, capture_output=True, env=env)  # warm the caches
        process = median_ms(
            lambda: subprocess.run(command, check=True, capture_output=True, env=env),
            max(5, args.repeat // 3),
        )
        print(verdict("curator draft, whole process", process, 600))

        node = shutil.which("node")
        if node is None or not MJML_CLI.exists():
            print(
                "mjml CLI (reference, Node): skipped: "
                + ("node is missing" if node is None else f"{MJML_CLI} is missing (see .ci/run)")
            )
            return 0
        source = folder / "issue.mjml"
        source.write_text(rendered.mjml, encoding="utf-8")
        out = folder / "reference.html"
        reference = [str(MJML_CLI), str(source), "-o", str(out), "--config.fonts", "{}"]
        subprocess.run(reference, check=True, capture_output=True)
        reference_ms = median_ms(lambda: subprocess.run(reference, check=True, capture_output=True), 5)
        print(
            f"mjml CLI (reference, Node) on the same MJML, whole process: {reference_ms:.0f} ms "
            f"({out.stat().st_size / 1000:.1f} KB of HTML)"
        )
        print(f"ratio mjml CLI / mjml-python in-process: {reference_ms / mrml:.0f}x")
        print(f"ratio mjml CLI / whole curator draft process: {reference_ms / process:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
