"""Drafts on disk: the rendered email as HTML, text and an .eml file to open in a mail client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..errors import NotFoundError
from ..models import Month
from ..render import RenderedEmail, render_email
from ..store import Store

if TYPE_CHECKING:
    pass

from .message import build_message

# --- drafts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftPaths:
    """What ``curator draft`` wrote: ``folder``/email.html, email.txt and email.eml."""

    folder: Path
    html: Path
    text: Path
    eml: Path
    rendered: RenderedEmail

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.rendered.warnings


def default_drafts_dir(config: Config) -> Path:
    """Where drafts go without ``--out``: ``drafts/`` next to sources.yaml (like the archive)."""
    return Path(config.path).parent / "drafts"


def render_issue_email(
    store: Store, config: Config, month: Month, now: datetime, *, templates: Path | None = None
) -> RenderedEmail:
    """The month's issue rendered for email; NotFoundError (with the fix) if there is nothing to send."""
    from ..views import issue_view

    view = issue_view(store, config, month)
    if not view.picks:
        raise NotFoundError(
            f"the issue {month} has no picks yet: list the candidates with "
            f"`curator candidates --month {month}`, then `curator pick ID --month {month}`"
        )
    return render_email(view, config, templates=templates, now=now)


def draft_issue(
    store: Store,
    config: Config,
    month: Month,
    out_dir: Path,
    now: datetime,
    *,
    templates: Path | None = None,
) -> DraftPaths:
    """Render the month's issue and write ``out_dir/<month>/email.html``, ``email.txt`` and
    ``email.eml`` (a complete multipart/alternative message to open in a mail client).

    ``curator draft`` passes ``default_drafts_dir(config)`` unless given ``--out``."""
    rendered = render_issue_email(store, config, month, now, templates=templates)
    message = build_message(rendered, config, now, draft=True)
    folder = Path(out_dir) / str(month)
    folder.mkdir(parents=True, exist_ok=True)
    paths = DraftPaths(folder, folder / "email.html", folder / "email.txt", folder / "email.eml", rendered)
    _write(paths.html, rendered.html.encode("utf-8"))
    _write(paths.text, rendered.text.encode("utf-8"))
    _write(paths.eml, message.as_bytes())
    return paths


def _write(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a temporary file renamed over it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
