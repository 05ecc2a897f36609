"""Frozen code for the migrations: text helpers as they were when each migration shipped.

A migration must do tomorrow what it did the day it shipped, whatever happens to the
parser and the text helpers afterwards: so the few helpers migrations use are copied
here, as they were, and never changed. (A change of behaviour for stored data is a new
migration, with its own copy.) They are used only by ``schema.py``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nh3

# --- title keys, as of migration 0005 (curate.title_key then) --------------------------

_NON_WORD_RE = re.compile(r"[\W_]+", re.UNICODE)


def _build_fold_table() -> dict[int, str]:
    """Latin letters with diacritics → their base letters, for a fast ``str.translate``."""
    table: dict[int, str] = {}
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch:
            table[cp] = base
    table.update({ord("œ"): "oe", ord("æ"): "ae", ord("ø"): "o", ord("đ"): "d", ord("ł"): "l"})
    return table


_FOLD = _build_fold_table()


def title_key_0005(title: str) -> str:
    """A title reduced to what identifies a story: no accents, case, punctuation or « guillemets »."""
    text = _NON_WORD_RE.sub(" ", title.casefold())
    if not text.isascii():
        text = text.translate(_FOLD)
        if not text.isascii():  # letters beyond Latin Extended: the slow, general way
            text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
            text = _NON_WORD_RE.sub(" ", text)
    return " ".join(text.split())


# --- HTML to text and excerpts, as of migration 0007 (feeds.summary_texts then) ------------

_DROPPED_TAGS = frozenset(
    {
        "applet", "audio", "button", "canvas", "embed", "frame", "frameset",
        "head", "iframe", "math", "noembed", "noframes", "noscript", "object",
        "script", "select", "style", "svg", "template", "textarea", "title",
        "video",
    }
)  # fmt: skip
_BLOCK_TAGS: frozenset[str] = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd",
        "details", "div", "dl", "dt", "figcaption", "figure", "footer", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre",
        "section", "summary", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_TAG_RE = re.compile(r"<[^>]*>")
# Runs of whitespace, except the no-break spaces of French typography.
_SPACES_RE = re.compile(r"[^\S\u00a0\u202f]+")
# Paragraphs at the end of a sanitised summary that hold one short link and nothing
# else (« Lire la suite », « Télécharger le kit »): in a plain-text excerpt their
# words would promise a link that is not there. Lists and headings are content.
_INLINE = r"(?:<(?:strong|em|b|i|span)>\s*)*"
_INLINE_END = r"(?:</(?:strong|em|b|i|span)>\s*)*"
_TRAILING_LINKS_RE = re.compile(
    rf"(?:<(p|div)>\s*{_INLINE}<a\s[^>]*?href=\"[^\"]+\"[^>]*>\s*{_INLINE}[^<]{{1,80}}{_INLINE_END}</a>\s*"
    rf"(?:<br>\s*)?{_INLINE_END}</\1>\s*)+$"
)
_EXCERPT_TRAILING = " \u00a0\u202f,;:.-\u2013\u2014(\u00ab"
_EXCERPT_LENGTH = 300


@lru_cache(maxsize=1)
def _text_cleaner() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=set(_BLOCK_TAGS),
        clean_content_tags=set(_DROPPED_TAGS),
        attributes={},
        link_rel=None,
        strip_comments=True,
    )


def _html_to_text(html: str) -> str:
    """Return the text of an HTML fragment: tags removed (with the content of
    script, style and the like), entities decoded, one line per block, and
    runs of spaces collapsed."""
    if "<" not in html and "&" not in html:
        return _collapse(html)
    cleaned = _SPACES_RE.sub(" ", _text_cleaner().clean(html))  # newlines in HTML are spaces
    lines = (_collapse(line) for line in unescape(_TAG_RE.sub("\n", cleaned)).split("\n"))
    return "\n".join(line for line in lines if line)


def _make_excerpt(text: str, limit: int = _EXCERPT_LENGTH) -> str:
    """Return ``text`` on one line, cut at a word to at most ``limit``
    characters, "…" included when it was cut."""
    if limit < 2:
        raise ValueError(f"excerpt limit must be at least 2, not {limit}")
    text = _collapse(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # keep room for "…"
    if text[limit - 1] != " ":  # the cut falls inside a word: drop the word
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return (cut.rstrip(_EXCERPT_TRAILING) or cut) + "…"


def summary_texts_0007(summary: str) -> tuple[str, str]:
    """(excerpt, text) of a sanitised summary: the text whole, for search, and the excerpt,
    without trailing link-only paragraphs (« Lire la suite »), for the email and the archive."""
    text = _html_to_text(summary)
    trailing = _TRAILING_LINKS_RE.search(summary, max(0, len(summary) - 1000))  # the end only: bounded
    lead = _html_to_text(summary[: trailing.start()]) if trailing else text
    return _make_excerpt(lead or text), text


_KEEP_SPACES = {"\u00a0": "\ue000", "\u202f": "\ue001"}  # no-break spaces (French typography)


def _collapse(text: str) -> str:
    """Runs of white space → one space, except no-break spaces, which are kept; ends stripped.

    ``str.split`` is several times faster than a regular expression here (this
    runs on every line of every summary), so no-break spaces are set aside first.
    """
    if "\u00a0" not in text and "\u202f" not in text:
        return " ".join(text.split())
    for keep, mark in _KEEP_SPACES.items():
        text = text.replace(keep, mark)
    text = " ".join(text.split())
    for keep, mark in _KEEP_SPACES.items():
        text = text.replace(mark, keep)
    return text.strip()
