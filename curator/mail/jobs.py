"""Sending to the list in the background, for the editor area: a job row (``send_jobs``) and a
thread that runs the same resumable engine as ``curator send`` (``send_issue``), counting each
recipient on the row as it is handled.

Nobody gets the issue twice: the database lets one job run per month, and the engine skips
every recipient already recorded in ``sends``. A job whose process died stays "running" with
no progress: after :func:`stale_after` it may be taken over, and the new job skips those
already served.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from ..config import Config, SmtpSettings
from ..errors import CuratorError
from ..models import Month
from ..store import SendJob, Store
from .smtp import SendError, SendResult, send_issue

log = logging.getLogger(__name__)

#: A running job shows it is alive at least this often, even while it waits between messages.
HEARTBEAT_SECONDS = 20.0
#: A running job with no progress for this long has lost its process (at least; see stale_after).
STALE_MINUTES = 5


class _TakenOver(Exception):
    """The job no longer runs: it was deemed dead and another job took over."""


def stale_after(smtp: SmtpSettings) -> timedelta:
    """How long a running job may go without progress before it is deemed dead: longer than
    one SMTP command may take (its timeout) plus a heartbeat, and at least STALE_MINUTES."""
    return max(timedelta(minutes=STALE_MINUTES), timedelta(seconds=2 * smtp.timeout + HEARTBEAT_SECONDS))


def is_stale(job: SendJob, now: datetime, smtp: SmtpSettings) -> bool:
    """A running job that made no progress for ``stale_after``: its process died."""
    return job.running and now - job.updated_at > stale_after(smtp)


def start_send_job(
    store: Store,
    config: Config,
    month: Month,
    recipients: Sequence[str],
    *,
    started_by: str,
    smtp: SmtpSettings,
    clock: Callable[[], datetime],
    resume: int | None = None,
) -> tuple[SendJob, threading.Thread]:
    """Record a running job for the month and send in a thread of its own; SendInProgress if a
    job runs already. ``resume`` takes over that running job, if it is stale (its process died).

    The thread opens its own store on ``store.path``; it is returned (started) so that a caller
    may wait for it, which the web app never does.
    """
    now = clock()
    job = store.start_send_job(
        month,
        started_by=started_by,
        total=len(recipients),
        now=now,
        take_over=resume,
        stale_before=now - stale_after(smtp) if resume is not None else None,
    )
    thread = threading.Thread(
        target=run_send_job,
        args=(store.path, config, month, list(recipients), job.id),
        kwargs={"smtp": smtp, "clock": clock},
        name=f"curator-send-{month}-{job.id}",
        daemon=True,  # a process that exits leaves the job stale, to be resumed
    )
    thread.start()
    return job, thread


def run_send_job(
    db_path: str,
    config: Config,
    month: Month,
    recipients: Sequence[str],
    job_id: int,
    *,
    smtp: SmtpSettings,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
) -> SendJob:
    """Run the job ``job_id``: send the issue to ``recipients``, count each one on the job's row,
    and end it done, stopped (the SMTP server failed: resume it) or failed (with why)."""
    store = Store.open(db_path, migrate=False)
    try:

        def on_result(result: SendResult) -> None:
            if not store.count_send_result(job_id, result.outcome, clock()):
                raise _TakenOver

        def wait(seconds: float) -> None:
            # The rate limit's pauses: shown as signs of life, so a slow list is not deemed dead.
            remaining = seconds
            while remaining > 0:
                step = min(remaining, HEARTBEAT_SECONDS)
                sleep(step)
                remaining -= step
                if not store.touch_send_job(job_id, clock()):
                    raise _TakenOver

        try:
            send_issue(store, config, month, recipients, clock(), smtp=smtp, on_result=on_result, sleep=wait)
        except _TakenOver:
            # Deemed dead and resumed by another job (this one was stuck): that one goes on.
            log.warning("the send of %s (job %s) was taken over by another job: stopping", month, job_id)
            return store.send_job(job_id)
        except SendError as exc:
            return store.finish_send_job(job_id, "stopped", clock(), str(exc))
        except CuratorError as exc:
            return store.finish_send_job(job_id, "failed", clock(), str(exc))
        except Exception as exc:
            log.exception("sending %s to the list failed", month)
            return store.finish_send_job(job_id, "failed", clock(), f"{type(exc).__name__}: {exc}")
        return store.finish_send_job(job_id, "done", clock())
    finally:
        store.close()
