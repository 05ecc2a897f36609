"""A real HTTP server on 127.0.0.1 serving feed files and scripted replies (the ``feed_server``
fixture), and ``run_async`` for the asynchronous clients that talk to it."""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import hashlib
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

FEEDS_DIR = Path(__file__).parent.parent / "data" / "feeds"  # tests/data/feeds


@dataclass
class Reply:
    """What the test server answers on one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    chunked: bool = False  # no Content-Length: the body in chunks


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    method: str = "GET"  # or HEAD: the same reply, without its body


class FeedServer:
    """A threaded ``http.server`` serving scripted replies; see ``feed_server``."""

    LAST_MODIFIED = "Wed, 15 May 2024 08:00:00 GMT"

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Callable[[SeenRequest], Reply]] = {}
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), make_handler(self))
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, reply: Reply | Callable[[SeenRequest], Reply]) -> str:
        """Answer ``reply`` on ``path``; return its full URL."""
        self.routes[path] = reply
        return self.url(path)

    def feed(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: bool = True,
        last_modified: bool = True,
        gzip: bool = False,
    ) -> str:
        """Serve a feed (bytes, or a file name in tests/data/feeds) with conditional GET."""
        data = (FEEDS_DIR / body).read_bytes() if isinstance(body, str) else body
        tag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'

        def answer(request: SeenRequest) -> Reply:
            headers = {"Content-Type": content_type}
            if etag:
                headers["ETag"] = tag
            if last_modified:
                headers["Last-Modified"] = self.LAST_MODIFIED
            if etag and request.headers.get("if-none-match") == tag:
                return Reply(304, headers={"ETag": tag})
            if (
                last_modified
                and "if-none-match" not in request.headers
                and request.headers.get("if-modified-since") == self.LAST_MODIFIED
            ):
                return Reply(304)
            if gzip:
                headers["Content-Encoding"] = "gzip"
                return Reply(200, gzip_module.compress(data), headers)
            return Reply(200, data, headers)

        return self.route(path, answer)

    def hits(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _record(self, request: SeenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default, 5, makes concurrent clients wait for SYN retries
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up is not news
            super().handle_error(request, client_address)


def make_handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:
            request = SeenRequest(
                self.path, {k.lower(): v for k, v in self.headers.items()}, "HEAD" if head else "GET"
            )
            server._record(request)
            route = server.routes.get(self.path)
            if route is None:
                reply = Reply(404, b"not found", {"Content-Type": "text/plain"})
            else:
                reply = route(request) if callable(route) else route
            if reply.delay and server.stopping.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if head:
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                elif reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(reply.body), 65536):
                        piece = reply.body[i : i + 65536]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.status != 304:
                        self.wfile.write(reply.body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A real HTTP server on 127.0.0.1; add routes with ``.route()`` and ``.feed()``."""
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, in a thread of its own if another test left a loop running in this one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
