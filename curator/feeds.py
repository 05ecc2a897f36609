"""Parse a fetched feed document (bytes and headers) into sanitised `Entry` values; no network.

RSS and Atom are read by feedparser; a JSON document goes to :mod:`curator.jsonfeed`, which
applies the same rules (identity, sanitising, caps, dates) with the helpers below."""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import xml.sax
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from .errors import ParseError
from .models import Entry, ParsedFeed
from .text import (
    MAX_SUMMARY,
    MAX_TITLE,
    cap_text,
    clean_text,
    html_to_text,
    make_excerpt,
    sanitize_html,
)
from .text import collapse as _collapse
from .urls import normalise_url

__all__ = ["UNTITLED", "parse_feed", "summary_texts"]

UNTITLED = "(sans titre)"
_TITLE_FROM_EXCERPT = 80  # an untitled entry is named after the start of its text
_MAX_AUTHOR = 300
_MAX_CATEGORY = 100
_MAX_CATEGORIES = 50

_PARAGRAPH_BREAK_RE = re.compile(r"\n\s*\n")
# Paragraphs at the end of a sanitised summary that hold one short link and nothing
# else (« Lire la suite », « Télécharger le kit »): in a plain-text excerpt their
# words would promise a link that is not there. Lists and headings are content.
_INLINE = r"(?:<(?:strong|em|b|i|span)>\s*)*"
_INLINE_END = r"(?:</(?:strong|em|b|i|span)>\s*)*"
_TRAILING_LINKS_RE = re.compile(
    rf"(?:<(p|div)>\s*{_INLINE}<a\s[^>]*?href=\"[^\"]+\"[^>]*>\s*{_INLINE}[^<]{{1,80}}{_INLINE_END}</a>\s*"
    rf"(?:<br>\s*)?{_INLINE_END}</\1>\s*)+$"
)

# Dates outside this window are bugs of the feed, not facts: an entry "published"
# in 2031 (a CMS bug, an event date, local time sent as UTC) would jump to the
# top of every list, and 1970-01-01 comes from a zero timestamp. Such a date is
# ignored (the next of published/updated/created is tried, then None, and the
# store falls back to first-seen) rather than clamped to fetched_at, so that
# the item stays marked as having an estimated date. Two days of slack cover
# time zone mistakes and clock skew.
_FUTURE_SLACK = timedelta(days=2)
_OLDEST = datetime(1995, 1, 1, tzinfo=UTC)


def parse_feed(body: bytes, *, url: str, content_type: str | None = None, fetched_at: datetime) -> ParsedFeed:
    """Parse a feed document fetched from ``url`` (the final URL, after redirects).

    Raises ParseError when the document is not a feed. A malformed feed whose
    entries could be read is returned with ``warning`` set.
    """
    if not body.strip():
        raise ParseError("empty body")
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    from .jsonfeed import looks_like_json, parse_json_feed  # here: jsonfeed reuses this module's rules

    if looks_like_json(body, content_type):
        return parse_json_feed(body, url=url, fetched_at=fetched_at)
    headers = {
        # Without a Content-Type feedparser decodes as ISO-8859-1 and flags the
        # feed; XML's own default (the prolog's encoding, else UTF-8) is right.
        "content-type": content_type or "application/xml",
        "content-location": url,
    }
    # feedparser's own sanitiser and URI resolver are slow, lossy (iframe text
    # is kept, `&#106;avascript:` becomes a relative link) and let
    # `javascript:` through in <img src>: nh3 does both jobs below instead.
    import feedparser  # type: ignore[import-untyped]  # imported here: drafting and serving never need it

    body, damaged = _repair_char_refs(body)
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version: str = parsed.get("version") or ""
    raw_entries: list[Any] = parsed.get("entries") or []
    problem = _bozo_reason(parsed, body)
    if not version and not raw_entries:
        raise ParseError(_not_a_feed_reason(body, content_type, problem))

    is_atom = version.startswith("atom")
    feed = parsed.get("feed") or {}
    feed_link = normalise_url(_get_str(feed, "link"), base=url)
    entries: list[Entry] = []
    seen: set[str] = set()
    for raw in raw_entries:
        entry = _make_entry(raw, url=url, feed_link=feed_link, is_atom=is_atom, fetched_at=fetched_at)
        if entry.key not in seen:  # a repeated id: the first (newest) one wins
            seen.add(entry.key)
            entries.append(entry)

    warnings = [f"malformed feed: {problem}"] if problem else []
    if damaged:
        warnings.append(
            f"{damaged} invalid character reference{'s' if damaged > 1 else ''} "
            "(a lone surrogate such as &#xD800;) replaced by U+FFFD"
        )
    return ParsedFeed(
        title=cap_text(_plain_field(feed, "title", is_atom), MAX_TITLE),
        link=feed_link,
        entries=tuple(entries),
        warning="; ".join(warnings) or None,
    )


def summary_texts(summary: str) -> tuple[str, str]:
    """(excerpt, text) of a sanitised summary: the text whole, for search, and the excerpt,
    without trailing link-only paragraphs (« Lire la suite »), for the email and the archive."""
    text = html_to_text(summary)
    trailing = _TRAILING_LINKS_RE.search(summary, max(0, len(summary) - 1000))  # the end only: bounded
    lead = html_to_text(summary[: trailing.start()]) if trailing else text
    return make_excerpt(lead or text), text


# -- entries ------------------------------------------------------------------


def _make_entry(raw: Any, *, url: str, feed_link: str | None, is_atom: bool, fetched_at: datetime) -> Entry:
    link = normalise_url(_get_str(raw, "link"), base=url)
    if link is None or link == feed_link:
        # A podcast's episodes often all link to the show's page: the episode's own
        # file (its enclosure) is what identifies it.
        link = _enclosure(raw, url) or link
    summary = _cap_summary(_summary(raw, url))
    excerpt, text = summary_texts(summary)
    title = _plain_field(raw, "title", is_atom) or make_excerpt(text, _TITLE_FROM_EXCERPT) or UNTITLED
    published = _first_date(raw, ("published_parsed", "updated_parsed", "created_parsed"), fetched_at)
    updated = _first_date(raw, ("updated_parsed",), fetched_at)
    key = _get_str(raw, "id").strip() or link or _hash_key(title, published)
    return Entry(
        key=key[:2048],
        url=link,
        title=cap_text(title, MAX_TITLE),
        summary=summary,
        excerpt=excerpt,
        text=text,
        author=cap_text(_authors(raw), _MAX_AUTHOR),
        categories=_categories(raw),
        published=published,
        updated=updated,
    )


def _enclosure(raw: Any, base_url: str) -> str | None:
    for link in _get(raw, "links") or ():
        if isinstance(link, dict) and _get_str(link, "rel") == "enclosure":
            href = normalise_url(_get_str(link, "href"), base=base_url)
            if href:
                return href
    return None


def _cap_summary(summary: str) -> str:
    """A sanitised summary cut at a word to about MAX_SUMMARY characters, still well-formed
    (sanitised again, which closes the open tags), and ended by « … »."""
    if len(summary) <= MAX_SUMMARY:
        return summary
    cut = summary[: MAX_SUMMARY - 32]  # room for the tags the cleaner closes
    if cut.rfind("<") > cut.rfind(">"):  # inside a tag: drop it
        cut = cut[: cut.rfind("<")]
    cut = cut[: max(cut.rfind(" "), cut.rfind(">") + 1)] or cut  # at a word
    return sanitize_html(cut) + "<p>…</p>"


def _hash_key(title: str, published: datetime | None) -> str:
    date = published.isoformat() if published else ""
    return "sha1:" + hashlib.sha1(f"{title}\n{date}".encode()).hexdigest()


def _summary(raw: Any, base_url: str) -> str:
    """Sanitised HTML of the longest of the entry's contents and summary."""
    candidates: list[tuple[str, str, str]] = []
    for content in _get(raw, "content") or ():
        if isinstance(content, Mapping):
            candidates.append(_detail_value(content, content, "value", base_url))
    if _get_str(raw, "summary"):
        detail = _get(raw, "summary_detail") or {}
        candidates.append(_detail_value(raw, detail, "summary", base_url))
    if not candidates:
        return ""
    value, kind, base = max(candidates, key=lambda candidate: len(candidate[0]))
    if "html" in kind:
        return sanitize_html(value, base)
    if kind.startswith("text/"):
        return _text_to_html(value)
    return ""  # base64 or other binary content


def _detail_value(holder: Any, detail: Any, name: str, base_url: str) -> tuple[str, str, str]:
    value = _get_str(holder, name)
    kind = _get_str(detail, "type") or "text/html"
    base = _get_str(detail, "base") or base_url
    return value, kind, base


def _text_to_html(text: str) -> str:
    paragraphs = (p.strip() for p in _PARAGRAPH_BREAK_RE.split(text))
    return "".join("<p>" + escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs if p)


def _plain_field(holder: Any, name: str, is_atom: bool) -> str:
    """A title as plain text. Atom says whether a title is text or HTML; an
    RSS title is in practice HTML (entity-encoded or not), so it is read as
    HTML: "&lt;script&gt;" in an RSS title is markup, and it is dropped."""
    value = _get_str(holder, name)
    kind = _get_str(_get(holder, f"{name}_detail") or {}, "type") or "text/plain"
    if is_atom and kind == "text/plain":
        return _collapse(value)
    return _collapse(html_to_text(value))


def _authors(raw: Any) -> str:
    """Author names joined by commas; bare e-mail addresses are left out."""
    names = (_collapse(html_to_text(_get_str(a, "name"))) for a in _get(raw, "authors") or ())
    return ", ".join(_unique(names))


def _categories(raw: Any) -> tuple[str, ...]:
    labels = (_collapse(_get_str(tag, "label") or _get_str(tag, "term")) for tag in _get(raw, "tags") or ())
    return tuple(cap_text(label, _MAX_CATEGORY) for label in _unique(labels)[:_MAX_CATEGORIES])


def _unique(values: Iterable[str]) -> list[str]:
    """Non-empty values without case-insensitive repeats, in their first order."""
    seen: set[str] = set()
    result = []
    for value in values:
        folded = value.casefold()
        if value and folded not in seen:
            seen.add(folded)
            result.append(value)
    return result


def _first_date(raw: Any, names: Iterable[str], fetched_at: datetime) -> datetime | None:
    latest = fetched_at + _FUTURE_SLACK
    for name in names:
        struct = _get(raw, name)
        if struct is None:
            continue
        try:
            # feedparser gives time.struct_time in UTC; timegm copes with leap seconds
            date = datetime.fromtimestamp(calendar.timegm(struct), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            continue
        if _OLDEST <= date <= latest:
            return date
    return None


_CHAR_REF_RE = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")


def _repair_char_refs(body: bytes) -> tuple[bytes, int]:
    """``body`` with the character references XML forbids made harmless, and how many were
    lone surrogates.

    ``&#xD800;`` (a lone surrogate) makes feedparser's fallback parser raise and lose the
    whole feed: it becomes ``&#xFFFD;``, the replacement character, and the source gets a
    warning. ``&#x1;`` and the other control characters, ``&#xFFFE;`` and ``&#xFFFF;`` are
    removed, so that the document stays well-formed XML and nothing of the entry is lost.
    Only ASCII-compatible encodings are looked at (a UTF-16 feed is left as it is).
    """
    if b"&#" not in body:
        return body, 0
    surrogates = 0

    def fix(match: re.Match[bytes]) -> bytes:
        nonlocal surrogates
        hex_digits, decimal = match.groups()
        code = int(hex_digits, 16) if hex_digits else int(decimal)
        if 0xD800 <= code <= 0xDFFF:
            surrogates += 1
            return b"&#xFFFD;"
        if (code < 0x20 and code not in (0x9, 0xA, 0xD)) or code in (0xFFFE, 0xFFFF) or code > 0x10FFFF:
            return b""
        return match.group(0)

    repaired = _CHAR_REF_RE.sub(fix, body)
    return repaired, surrogates


# -- errors -------------------------------------------------------------------


def _bozo_reason(parsed: Any, body: bytes) -> str | None:
    """One line saying why feedparser found the document malformed, if it did."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    # A Content-Type that is not an XML type, or a charset that turned out wrong,
    # are routine on the web and feedparser recovers: not worth a warning.
    from feedparser.exceptions import (  # type: ignore[import-untyped]
        CharacterEncodingOverride,
        NonXMLContentType,
    )

    if isinstance(exc, CharacterEncodingOverride | NonXMLContentType):
        return None
    if isinstance(exc, xml.sax.SAXParseException):
        line = (exc.getLineNumber() or 1) - (0 if _has_xml_declaration(body) else 1)
        return f"{exc.getMessage()} at line {max(line, 1)}"
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _has_xml_declaration(body: bytes) -> bool:
    # feedparser adds a line with an XML declaration to a document that has
    # none, so the parser's line numbers are one too many for such documents.
    head = body[:16]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        head = head.removeprefix(bom)
    return head.replace(b"\x00", b"").startswith(b"<?xml")


def _not_a_feed_reason(body: bytes, content_type: str | None, problem: str | None) -> str:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    mime = (content_type or "").split(";")[0].strip().lower()
    if (
        mime in ("text/html", "application/xhtml+xml")
        or head.startswith(b"<!doctype html")
        or b"<html" in head
    ):
        return "not a feed: the document is an HTML page"
    if head.startswith((b"{", b"[")) or mime.endswith("json"):
        return "not a feed: the document is JSON, but not a JSON Feed"
    if problem:
        return f"not a feed: {problem}"
    return "not a feed: no RSS or Atom element found"


# -- helpers ------------------------------------------------------------------


def _get(holder: Any, key: str) -> Any:
    # dict.get, not FeedParserDict.get: the latter maps "updated_parsed" to
    # "published_parsed" (with a DeprecationWarning) when there is no update.
    return dict.get(holder, key) if isinstance(holder, dict) else None


def _raw_str(holder: Any, key: str) -> str:
    value = _get(holder, key)
    return value if isinstance(value, str) else ""


def _get_str(holder: Any, key: str) -> str:
    """A text field of feedparser's result, cleaned: no control characters, no lone surrogates."""
    return clean_text(_raw_str(holder, key))
