"""Markdown written by people (reports, notes, the édito) to safe HTML and plain text."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from .text import html_to_text, sanitize_html
from .urls import is_http_url


def _validate_link(url: str) -> bool:
    url = url.strip()
    return is_http_url(url) or url.lower().startswith("mailto:")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _validate_link  # type: ignore[method-assign]
    # No remote images from contributors (nothing to track readers with): keep the alt text.
    md.add_render_rule("image", _image_as_text)
    return md


def _image_as_text(self: object, tokens: list[Token], idx: int, options: object, env: object) -> str:
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or [])
    return escapeHtml(alt)


def markdown_to_html(text: str) -> str:
    """Render Markdown with raw HTML off, then sanitise the result (belt and braces)."""
    if not text.strip():
        return ""
    return sanitize_html(_parser().render(text))


def markdown_to_text(text: str) -> str:
    return html_to_text(markdown_to_html(text))


def markdown_links(text: str) -> list[str]:
    """The targets of the links of a Markdown text (those ``markdown_to_html`` keeps), in order."""
    found: list[str] = []

    def walk(tokens: list[Token]) -> None:
        for token in tokens:
            if token.type == "link_open":
                href = token.attrGet("href")
                if href:
                    found.append(str(href))
            if token.children:
                walk(token.children)

    if text.strip():
        walk(_parser().parse(text))
    return found
