"""A real browser: headless Chromium from Debian, driven by Playwright (the ``browser`` and
``page`` fixtures). Skipped locally without Chromium, a failure under CI (CI=true)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module (Playwright's loop must stop before other modules use asyncio);
    skipped locally without it, a failure under CI (CI=true)."""
    if not CHROMIUM.exists():
        reason = f"no browser: {CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; under CI the browser tests must run")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A French page; every dialog that opens (there must be none) is recorded in ``page.dialogs``."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(30_000)  # generous for a busy machine; a page that works answers at once
    try:
        yield page
    finally:
        context.close()


def watch_page(page: Any) -> list[str]:
    """Script errors, CSP violations (both show in the console) and failed loads of the page,
    as they happen: a test asserts the list stays empty."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type in ("error", "warning") and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    return problems


def log_in_editor(page: Any, url: str) -> None:
    """Open ``url`` of the editor area and log in as the test editor on the page it leads to."""
    from .web import TEST_EDITOR_EMAIL, TEST_EDITOR_PASSWORD

    page.goto(url)
    page.get_by_label("Adresse électronique").fill(TEST_EDITOR_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_EDITOR_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
