"""Share the rendering of many issues between forked processes (a first build, on Linux).

A child starts with the templates already compiled, works on its own database
connection, and leaves by ``os._exit``: nothing it inherited (the parent's
connection, the lock) is ever touched. Forking is only done where it is safe.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import TypeVar, cast

from ..errors import RenderError

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    """Forking is safe here: Linux (macOS frameworks dislike fork without exec), and no other thread
    (the web app's, say) that a child would lose."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def fork_start(work: Callable[[T], R], chunks: list[T]) -> Callable[[], list[R]]:
    """Run ``work(c)`` for each chunk in a forked child; returns the function that waits for their
    results (in order). Meanwhile the caller does its own share. A child starts with the templates
    already compiled and leaves by ``os._exit``, so that nothing it inherited (such as the parent's
    database connection) is ever touched."""
    children = []
    for chunk in chunks:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read)
            try:
                try:
                    payload = pickle.dumps((True, work(chunk)), pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # sent to the parent, which raises it
                    payload = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
            finally:
                os._exit(0)
        os.close(write)
        children.append((pid, read))

    def collect() -> list[R]:
        results: list[R] = []
        error: str | None = None
        while children:
            pid, read = children.pop(0)
            with os.fdopen(read, "rb") as source:
                data = source.read()
            os.waitpid(pid, 0)
            ok, value = pickle.loads(data) if data else (False, "a rendering process died")
            if ok:
                results.append(cast(R, value))
            else:
                error = error or str(value)
        if error is not None:
            raise RenderError(f"rendering an issue failed: {error}")
        return results

    return collect
