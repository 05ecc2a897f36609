"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the tests that
send from the editor area: it can be slowed down, held until released, or fail one message."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from curator.config import SmtpSettings

#: The longest a held message waits for ``release()``: a test that forgets cannot hang.
HOLD_LIMIT = 30.0


class Inbox:
    """An aiosmtpd handler: ``messages`` holds (recipient, message) as they are accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, email.message.EmailMessage]] = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds before accepting each message
        self.fail_once: set[str] = set()  # 451 at DATA, once, for these recipients
        self._open = threading.Event()
        self._open.set()
        self.settings = SmtpSettings()  # set by smtp_inbox()

    def hold(self) -> None:
        """Keep every message waiting at DATA until ``release()`` (HOLD_LIMIT at most)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        deadline = time.monotonic() + HOLD_LIMIT
        while not self._open.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self.delay:
            await asyncio.sleep(self.delay)
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            if rcpt in self.fail_once:
                self.fail_once.discard(rcpt)
                return "451 4.3.0 Temporary failure, try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((rcpt, message))  # type: ignore[arg-type]
        return "250 2.0.0 Message accepted"

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(rcpt for rcpt, _ in self.messages)

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for _, m in self.messages]

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` messages have arrived (a failure after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} messages after {timeout} s, {count} expected")
            time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    """A running SMTP server on 127.0.0.1; ``inbox.settings`` are the settings to reach it."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), ready_timeout=30)
    controller.start()
    inbox.settings = SmtpSettings(host="127.0.0.1", port=controller.port, timeout=30)
    try:
        yield inbox
    finally:
        inbox.release()
        controller.stop()
