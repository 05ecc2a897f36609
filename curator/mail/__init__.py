"""The issue by email, split by job: the MIME message (``message``), drafts on disk
(``drafts``), who gets it (``recipients``), resumable SMTP sending (``smtp``) and the same
in the background for the editor area (``jobs``).

Sending is resumable: each recipient is recorded in the store as soon as the SMTP
server has accepted their copy, so a rerun after a failure skips them and nobody
gets the issue twice. Proofs sent with ``test=True`` are never recorded.
"""

from __future__ import annotations

from .drafts import DraftPaths, draft_issue, render_issue_email
from .jobs import is_stale, run_send_job, stale_after, start_send_job
from .message import build_message, list_id, message_id
from .recipients import check_address, read_recipients, recipients_from
from .smtp import PASSWORD_ENV, SendError, SendResult, SendSummary, connect, send_issue, smtp_settings

__all__ = [
    "PASSWORD_ENV",
    "DraftPaths",
    "SendError",
    "SendResult",
    "SendSummary",
    "build_message",
    "check_address",
    "connect",
    "draft_issue",
    "is_stale",
    "list_id",
    "message_id",
    "read_recipients",
    "recipients_from",
    "render_issue_email",
    "run_send_job",
    "send_issue",
    "smtp_settings",
    "stale_after",
    "start_send_job",
]
