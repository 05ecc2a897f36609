"""French typography and plain text: no-break spaces, apostrophes, clean links, HTML to text, wrapping."""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from markupsafe import Markup, escape

from .urls import strip_tracking

# --- French typography -----------------------------------------------------------

NBSP = "\u00a0"  # before « : » and inside « guillemets »
NNBSP = "\u202f"  # narrow no-break space, before ; ! ?

_URL_RE = re.compile(r"(?:https?://|mailto:|www\.)[^\s<>\"']+", re.IGNORECASE)
_TAG_RE = re.compile(r"(<[^>]*>)")
_ENTITY_RE = re.compile(r"(&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")
_APOSTROPHE_ENTITY_RE = re.compile(r"&(?:#0*39|#[xX]0*27|apos);")
_SPACE_BEFORE_RE = re.compile(r"[ \u00a0\u202f]*([;!?])")
_SPACE_BEFORE_COLON_RE = re.compile(r"[ \u00a0\u202f]+:(?=\s|$)")
_NO_SPACE_COLON_RE = re.compile(r"(?<=[^\W\d_])[:](?=\s|$)")
_OPEN_QUOTE_RE = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_QUOTE_RE = re.compile(r"[ \u00a0\u202f]*»")
_APOSTROPHE_RE = re.compile(r"(?<=\w)'(?=\w)")


def _typo_plain(text: str) -> str:
    text = _APOSTROPHE_RE.sub("\u2019", text)
    text = _OPEN_QUOTE_RE.sub("«" + NBSP, text)
    text = _CLOSE_QUOTE_RE.sub(NBSP + "»", text)
    text = _SPACE_BEFORE_COLON_RE.sub(NBSP + ":", text)
    text = _NO_SPACE_COLON_RE.sub(NBSP + ":", text)

    def punct(m: re.Match[str]) -> str:
        start = m.start()
        # "?!" and "!!" keep together; a mark at the start of the text or after a space-less
        # non-word character (e.g. "(?)") is left alone.
        if start == 0 or text[start - 1] in "?!;(«[" + NNBSP:
            return m.group(0) if m.group(0).strip() == m.group(1) else NNBSP + m.group(1)
        return NNBSP + m.group(1)

    return _SPACE_BEFORE_RE.sub(punct, text)


_TYPO_TRIGGER_RE = re.compile(r"['«»:;!?]")


def typography(text: str, locale: str = "fr") -> str:
    """French typography on plain text: non-breaking spaces before ; : ! ? » and after «,
    typographic apostrophes. URLs, e-mail addresses and times (14:00) are left untouched."""
    if not text or not locale.startswith("fr") or not _TYPO_TRIGGER_RE.search(text):
        return text
    return _typography(text) if len(text) <= 2000 else _typography.__wrapped__(text)


@lru_cache(maxsize=4096)
def _typography(text: str) -> str:
    out: list[str] = []
    last = 0
    for m in _URL_RE.finditer(text):
        out.append(_typo_plain(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_typo_plain(text[last:]))
    return "".join(out)


def typography_html(html: str, locale: str = "fr") -> Markup:
    """The same on (already safe) HTML: only text between tags changes, never tags or attributes."""
    if not locale.startswith("fr"):
        return Markup(html)
    out: list[str] = []
    for i, part in enumerate(_TAG_RE.split(str(html))):
        if i % 2:  # a tag
            out.append(part)
            continue
        # Character references stay as they are (never "&amp\u202f;"), except the
        # apostrophe's, which becomes a typographic one.
        pieces = _ENTITY_RE.split(_APOSTROPHE_ENTITY_RE.sub("'", part))
        out.append("".join(p if j % 2 else typography(p, locale) for j, p in enumerate(pieces)))
    return Markup("".join(out))


# --- links and plain text ------------------------------------------------------------

_HREF_RE = re.compile(r'(\s(?:href|src)=")([^"]*)(")', re.IGNORECASE)


@lru_cache(maxsize=4096)
def clean_url(url: str | None) -> str:
    """A link as it may appear in what readers get: tracking parameters removed; "" if unusable.

    Only absolute http(s) URLs and ``mailto:`` addresses are kept: never a relative
    link, a ``javascript:`` URL or a redirect through a tracker of ours (there is none).
    """
    if not url:
        return ""
    url = url.strip()
    if url.lower().startswith("mailto:"):
        return url
    if not re.match(r"^https?://[^/\s]", url, re.IGNORECASE):
        return ""
    return strip_tracking(url)


def clean_links(html: Any) -> Markup:
    """The same on the links and images of already-sanitised HTML (the édito, the notes)."""
    text = str(html.__html__() if hasattr(html, "__html__") else html)

    def fix(m: re.Match[str]) -> str:
        raw = m.group(2).replace("&amp;", "&")
        cleaned = clean_url(raw)
        return m.group(1) + str(escape(cleaned)) + m.group(3) if cleaned else m.group(1) + m.group(3)

    return Markup(_HREF_RE.sub(fix, text))


_BLOCKS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr", "ul", "ol", "hr"}
)


class _TextWithLinks(HTMLParser):
    """Sanitised HTML to plain text, one paragraph per block, each link kept as ``text <url>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.links: list[tuple[str, int]] = []  # href, where its text starts in `current`
        self.lists: list[list[int]] = []  # [counter] per open list (-1 for a bullet list)
        self.skip = 0

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in _BLOCKS:
            self._flush()
            if tag in ("ul", "ol"):
                self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            self._flush()
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                self.current.append(f"{counter[0]}. ")
            else:
                self.current.append("- ")
        elif tag == "br":
            self._flush()
        elif tag == "a":
            self.links.append((clean_url(dict(attrs).get("href")), len("".join(self.current))))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS or tag == "li":
            self._flush()
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = " ".join("".join(self.current)[start:].split())
            if href and label != href and label != href.removeprefix("mailto:"):
                self.current.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def text(self) -> str:
        self._flush()
        return "\n\n".join(self.blocks)


def html_to_text_with_links(html: Any) -> str:
    """Plain text of sanitised HTML: paragraphs separated by a blank line, lists as ``- item``,
    and every link kept after its text as ``<https://…>`` (tracking parameters removed)."""
    return _html_to_text_with_links(str(html))


@lru_cache(maxsize=1024)
def _html_to_text_with_links(html: str) -> str:
    parser = _TextWithLinks()
    parser.feed(html)
    parser.close()
    return parser.text()


_BULLET_RE = re.compile(r"^(- |\d+\. )")


@lru_cache(maxsize=64)
def _line_re(width: int) -> re.Pattern[str]:
    # At most `width` characters up to an ordinary space (or the end), else one long word whole.
    return re.compile(rf"(.{{1,{max(1, width)}}})(?: +|$)|([^ ]+)(?: +|$)")


def wrap_text(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap each paragraph of plain text at ``width``, only at ordinary spaces (never inside a
    URL nor at a no-break space); list items (``- ``, ``1. ``) get a hanging indent.
    ``indent`` prefixes every line."""
    out: list[str] = []
    for line in str(text).split("\n"):
        line = line.strip(" ")
        if not line:
            out.append("")
            continue
        if len(indent) + len(line) <= width:
            out.append(indent + line)
            continue
        bullet = _BULLET_RE.match(line)
        rest = indent + (" " * len(bullet.group(1)) if bullet else "")
        first = _line_re(width - len(indent)).match(line)
        assert first is not None
        out.append(indent + (first.group(1) or first.group(2)).rstrip(" "))
        pattern = _line_re(width - len(rest))
        pos = first.end()
        while pos < len(line):
            m = pattern.match(line, pos)
            if m is None or m.end() == pos:
                break
            out.append(rest + (m.group(1) or m.group(2)).rstrip(" "))
            pos = m.end()
    return "\n".join(out)
