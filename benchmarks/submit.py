"""Benchmark the contribution form under a real WSGI server on loopback.

N valid reports are sent by K concurrent clients. Each client behaves like a
browser: it fetches the form (for its CSRF token, session cookie and
submission key), then posts it. Prints submissions per second, p50/p99
latency, and the number of reports stored against the number acknowledged
(a 303 to the thank-you page): they must be equal, or the script exits 1.

    python benchmarks/submit.py                      # gunicorn, 1000 reports, 32 clients
    python benchmarks/submit.py -n 200 -c 8 --server werkzeug
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from curator.demo import SAMPLE_CONFIG
from curator.store import Store

HIDDEN_RE = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
REPORT = {
    "lab": "lab-normandie",
    "author_name": "Claire Lemoine",
    "author_email": "claire.lemoine@ac-normandie.example",
    "summary": "Huit CPE se sont retrouvés une fois par mois pour traiter une situation concrète.",
    "body": "## Le contexte\n\nDes CPE **isolés** face à des situations délicates.\n\n"
    + "Un paragraphe. " * 80,
    "link": "https://labs.example.org/normandie/codev",
    "tags": ["facilitation", "communaute"],
    "license": "etalab-2.0",
    "consent": "y",
}


def write_config(directory: Path) -> Path:
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", "http://127.0.0.1:9")
    # Every client comes from 127.0.0.1: lift the per-address limit for the benchmark.
    text += "\n" + yaml.safe_dump({"web": {"submission_limit": 1_000_000}})
    path = directory / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, deadline: float = 30.0) -> None:
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        try:
            if httpx.get(f"{base}/contribuer", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server at {base} did not answer within {deadline:.0f} s")


@contextmanager
def gunicorn(config: Path, db: Path, workers: int, threads: int) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "CURATOR_CONFIG": str(config),
        "CURATOR_DB": str(db),
        "CURATOR_SECRET_KEY": secrets.token_hex(32),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
        "curator.web:create_app_from_env()",
    ]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def werkzeug_server(config: Path, db: Path) -> Iterator[str]:
    import logging

    from werkzeug.serving import make_server

    from curator.web import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    app = create_app(config, db, secret_key=secrets.token_hex(32))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def run_clients(base: str, n: int, k: int) -> tuple[list[str], list[float], list[float], list[str], float]:
    """Send ``n`` reports from ``k`` clients; (acknowledged titles, POST latencies, cycle latencies, failures, seconds)."""
    next_index = iter(range(n))
    lock = threading.Lock()
    acknowledged: list[str] = []
    post_latency: list[float] = []
    cycle_latency: list[float] = []
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                title = f"Retour d'expérience n° {i}"
                try:
                    start = time.perf_counter()
                    form = http.get("/contribuer")
                    hidden = dict(HIDDEN_RE.findall(form.text))
                    posted = time.perf_counter()
                    response = http.post("/contribuer", data={**REPORT, **hidden, "title": title})
                    end = time.perf_counter()
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"{title}: {exc!r}")
                    continue
                ok = response.status_code == 303 and response.headers.get("location", "").endswith(
                    "/contribuer/merci"
                )
                with lock:
                    if ok:
                        acknowledged.append(title)
                        post_latency.append(end - posted)
                        cycle_latency.append(end - start)
                    else:
                        failures.append(f"{title}: HTTP {response.status_code}")

    threads = [threading.Thread(target=client) for _ in range(k)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return acknowledged, post_latency, cycle_latency, failures, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-n", "--reports", type=int, default=1000, help="how many reports to send (default 1000)"
    )
    parser.add_argument(
        "-c", "--clients", type=int, default=32, help="how many concurrent clients (default 32)"
    )
    parser.add_argument(
        "--server",
        choices=["gunicorn", "werkzeug"],
        default="gunicorn",
        help="gunicorn (gthread workers, in another process) or werkzeug's threaded server",
    )
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="curator-bench-") as tmp:
        directory = Path(tmp)
        config = write_config(directory)
        db = directory / "curator.db"
        with Store.open(db):
            pass  # migrate once, before the workers start
        if args.server == "gunicorn":
            server = gunicorn(config, db, args.workers, args.threads)
            label = f"gunicorn, {args.workers} workers x {args.threads} threads"
        else:
            server = werkzeug_server(config, db)
            label = "werkzeug threaded server (in this process)"
        with server as base:
            acknowledged, post_latency, cycle_latency, failures, seconds = run_clients(
                base, args.reports, args.clients
            )
        with Store.open(db) as store:
            titles = [r.title for r in store.reports()]

    stored = len(titles)
    duplicates = stored - len(set(titles))
    lost = set(acknowledged) - set(titles)
    print(f"server:        {label}, on 127.0.0.1")
    print(f"submissions:   {args.reports} from {args.clients} concurrent clients in {seconds:.1f} s")
    print(f"throughput:    {len(acknowledged) / seconds:.0f} submissions/s (form fetched + posted)")
    print(
        f"POST latency:  p50 {percentile(post_latency, 50) * 1000:.0f} ms, p99 {percentile(post_latency, 99) * 1000:.0f} ms"
    )
    print(
        f"GET+POST:      p50 {percentile(cycle_latency, 50) * 1000:.0f} ms, p99 {percentile(cycle_latency, 99) * 1000:.0f} ms"
    )
    print(f"acknowledged:  {len(acknowledged)}")
    print(f"stored:        {stored} ({duplicates} duplicates, {len(lost)} acknowledged but missing)")
    for failure in failures[:10]:
        print(f"failed:        {failure}")
    if stored != len(acknowledged) or duplicates or lost:
        print("MISMATCH: stored and acknowledged differ")
        return 1
    print("OK: every acknowledged report is stored, once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
