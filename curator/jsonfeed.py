"""Parse a JSON Feed 1.0 or 1.1 document (https://jsonfeed.org/version/1.1) into sanitised
``Entry`` values, with the rules RSS and Atom get in :mod:`curator.feeds`: the same identity
(id, else normalised link, else a hash of title and date), sanitising, caps, dates and errors.

feedparser does not read JSON Feed, and the format is small enough that a module of our
own is shorter than adapting a library: every field is checked for its type, since the
document is untrusted (a number where text was expected is ignored, not a crash).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .errors import ParseError
from .feeds import (
    _FUTURE_SLACK,
    _MAX_AUTHOR,
    _MAX_CATEGORIES,
    _MAX_CATEGORY,
    _OLDEST,
    _TITLE_FROM_EXCERPT,
    UNTITLED,
    _cap_summary,
    _hash_key,
    _text_to_html,
    _unique,
    summary_texts,
)
from .models import Entry, ParsedFeed
from .text import MAX_TITLE, cap_text, clean_text, collapse, make_excerpt, sanitize_html
from .urls import normalise_url

__all__ = ["VERSION_PREFIX", "looks_like_json", "parse_json_feed"]

#: Every JSON Feed names its version with a URL starting so.
VERSION_PREFIX = "https://jsonfeed.org/version/"
_JSON_TYPES = ("application/feed+json", "application/json")


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    """Whether a fetched document is JSON rather than XML: by its first character, or by its
    Content-Type when that character says nothing."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return True
    mime = (content_type or "").split(";")[0].strip().lower()
    return mime in _JSON_TYPES and not head.startswith(b"<")


def parse_json_feed(body: bytes, *, url: str, fetched_at: datetime) -> ParsedFeed:
    """Parse a JSON Feed fetched from ``url`` (the final URL, after redirects).

    Raises ParseError when the document is not a JSON Feed. A feed without its version, or
    whose items are partly unusable, is returned with ``warning`` set.
    """
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ParseError("not a feed: the JSON document is not UTF-8") from None
    except RecursionError:
        raise ParseError("not a feed: the JSON document is nested too deeply") from None
    except ValueError as exc:
        raise ParseError(f"not a feed: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ParseError("not a feed: the document is JSON, but not a JSON Feed (not an object)")
    version = data.get("version")
    raw_items = data.get("items")
    warnings: list[str] = []
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        if not isinstance(raw_items, list):
            raise ParseError(
                f'not a feed: the document is JSON, but not a JSON Feed (no "version": "{VERSION_PREFIX}1.1")'
            )
        warnings.append("malformed feed: no JSON Feed version")
    if not isinstance(raw_items, list):
        raise ParseError('not a feed: the JSON Feed has no "items" list')

    feed_link = normalise_url(_text(data, "home_page_url"), base=url)
    feed_authors = _authors(data)
    entries: list[Entry] = []
    seen: set[str] = set()
    unusable = 0
    for raw in raw_items:
        if not isinstance(raw, dict):
            unusable += 1
            continue
        entry = _make_entry(
            raw, url=url, feed_link=feed_link, feed_authors=feed_authors, fetched_at=fetched_at
        )
        if entry.key not in seen:  # a repeated id: the first one wins
            seen.add(entry.key)
            entries.append(entry)
    if unusable:
        warnings.append(
            f"malformed feed: {unusable} item{'s' if unusable > 1 else ''} not an object, left out"
        )
    return ParsedFeed(
        title=cap_text(collapse(_text(data, "title")), MAX_TITLE),
        link=feed_link,
        entries=tuple(entries),
        warning="; ".join(warnings) or None,
    )


def _make_entry(
    raw: dict[str, Any], *, url: str, feed_link: str | None, feed_authors: str, fetched_at: datetime
) -> Entry:
    link = normalise_url(_text(raw, "url"), base=url) or normalise_url(_text(raw, "external_url"), base=url)
    if link is None or link == feed_link:
        link = _attachment(raw, url) or link  # a podcast episode: its file
    summary = _cap_summary(_summary(raw, url))
    excerpt, text = summary_texts(summary)
    # JSON Feed titles are plain text: markup in them is text, shown escaped, never run.
    title = collapse(_text(raw, "title")) or make_excerpt(text, _TITLE_FROM_EXCERPT) or UNTITLED
    published = _first_date(raw, ("date_published", "date_modified"), fetched_at)
    updated = _first_date(raw, ("date_modified",), fetched_at)
    key = _id(raw) or link or _hash_key(title, published)
    return Entry(
        key=key[:2048],
        url=link,
        title=cap_text(title, MAX_TITLE),
        summary=summary,
        excerpt=excerpt,
        text=text,
        author=cap_text(_authors(raw) or feed_authors, _MAX_AUTHOR),
        categories=_tags(raw),
        published=published,
        updated=updated,
    )


def _id(raw: dict[str, Any]) -> str:
    """The item's id: text, or a number coerced to text (as the specification asks)."""
    value = raw.get("id")
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return clean_text(value).strip() if isinstance(value, str) else ""


def _summary(raw: dict[str, Any], base_url: str) -> str:
    """Sanitised HTML of content_html, else content_text, else summary (plain text)."""
    html = _text(raw, "content_html")
    if html.strip():
        return sanitize_html(html, base_url)
    for name in ("content_text", "summary"):
        value = _text(raw, name)
        if value.strip():
            return _text_to_html(value)
    return ""


def _attachment(raw: dict[str, Any], base_url: str) -> str | None:
    attachments = raw.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else ():
        if isinstance(attachment, dict):
            href = normalise_url(_text(attachment, "url"), base=base_url)
            if href:
                return href
    return None


def _authors(holder: dict[str, Any]) -> str:
    """Names of ``authors`` (1.1), else of ``author`` (1.0), joined by commas."""
    people = holder.get("authors")
    if not isinstance(people, list) or not people:
        people = [holder.get("author")]
    names = (collapse(_text(person, "name")) for person in people if isinstance(person, dict))
    return ", ".join(_unique(names))


def _tags(raw: dict[str, Any]) -> tuple[str, ...]:
    tags = raw.get("tags")
    labels = (collapse(clean_text(t)) for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
    return tuple(cap_text(label, _MAX_CATEGORY) for label in _unique(labels)[:_MAX_CATEGORIES])


def _first_date(raw: dict[str, Any], names: tuple[str, ...], fetched_at: datetime) -> datetime | None:
    """The first of ``names`` that is an RFC 3339 date within the plausible window (as for RSS)."""
    latest = fetched_at + _FUTURE_SLACK
    for name in names:
        value = _text(raw, name).strip()
        if not value:
            continue
        try:
            date = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            continue
        if date.tzinfo is None:
            date = date.replace(tzinfo=UTC)  # RFC 3339 requires an offset; UTC is the usual intent
        try:
            date = date.astimezone(UTC)
        except (OverflowError, ValueError):
            continue
        if _OLDEST <= date <= latest:
            return date
    return None


def _text(holder: Any, key: str) -> str:
    """A text field, cleaned (no control characters, no lone surrogates); "" when it is not text."""
    value = holder.get(key) if isinstance(holder, dict) else None
    return clean_text(value) if isinstance(value, str) else ""
