"""Text helpers every layer shares, one implementation each: cleaning untrusted text where it
enters, capping it, showing it on a terminal, folding accents and title keys, HTML sanitising,
HTML to text, excerpts and heading shifts.

nh3 is imported on first use, so that importing this module costs nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache, partial
from html import unescape
from typing import TYPE_CHECKING

from .urls import normalise_url

if TYPE_CHECKING:
    import nh3

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "DROPPED_TAGS",
    "EXCERPT_LENGTH",
    "MAX_SUMMARY",
    "MAX_TITLE",
    "cap_text",
    "clean_text",
    "collapse",
    "fold",
    "heading_levels",
    "html_to_text",
    "make_excerpt",
    "sanitize_html",
    "shift_headings",
    "terminal_safe",
    "title_key",
]

EXCERPT_LENGTH = 300
#: Longest title kept from a feed (characters); a longer one is cut at a word, with « … ».
MAX_TITLE = 1_000
#: Longest sanitised summary kept from a feed (characters of HTML).
MAX_SUMMARY = 100_000

# Characters that no text a person reads should hold, and that break the email
# (mjml-python refuses them) or the XML of the archive's feed:
# - C0 controls but tab, line feed and carriage return, DEL, and C1 controls
#   (U+009B alone starts a terminal escape sequence, like ESC [);
# - the noncharacters U+FDD0–U+FDEF and U+xFFFE/U+xFFFF of every plane;
# - a lone surrogate (from a feed's `&#xD800;`), which cannot be encoded as UTF-8: SQLite,
#   nh3 and the email would all fail on it. It becomes U+FFFD, the replacement character.
# One character class of ranges finds every candidate fast (whole pages go through it); it
# also matches every character beyond the first plane (emoji…), which are kept but the
# noncharacters among them. A class listing the 32 astral noncharacters one by one would
# make the scan about ten times slower.
_SUSPECT_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff\U00010000-\U0010ffff]"
)


def _replace(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    if code > 0xFFFF:
        return "" if code & 0xFFFE == 0xFFFE else match.group()
    return ""


def clean_text(text: str) -> str:
    """``text`` without control characters (tab, newline and carriage return are kept) and
    noncharacters, and with any lone surrogate replaced by U+FFFD.

    Run on every text that enters curator: a feed's fields, a form's fields, a
    command-line option; and on every page and email rendered. Clean text costs one
    regular-expression scan.
    """
    if _SUSPECT_RE.search(text) is None:
        return text
    return _SUSPECT_RE.sub(_replace, text)


def cap_text(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else cut at a word and ended by « … »."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():  # the cut falls inside a word: drop the word
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space > limit // 2:
            cut = cut[:space]
    return cut.rstrip() + "…"


_ESCAPE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` fit to print on a terminal: control characters (ESC, CSI…) shown as ``?``,
    so that a feed's title can neither move the cursor, clear the screen nor set a title."""
    return _ESCAPE_RE.sub("?", text)


# --- folding -------------------------------------------------------------------

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


def fold(text: str) -> str:
    """Lower case without accents (« Éducation » → « education », « œuvre » → « oeuvre »)."""
    text = text.casefold()
    if text.isascii():
        return text
    text = text.translate(_FOLD)
    if not text.isascii():  # letters beyond Latin Extended: the slow, general way
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text


def title_key(title: str) -> str:
    """A title reduced to what identifies a story: no accents, case, punctuation or « guillemets »."""
    return " ".join(_NON_WORD_RE.sub(" ", fold(title)).split())


# --- HTML ----------------------------------------------------------------------

#: Tags kept in a sanitised summary; any other tag is removed, its text kept.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd",
        "del", "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "mark", "ol", "p",
        "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip

#: Attributes kept per tag; every other attribute (event handlers, style,
#: class, id, target...) is removed.
ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "abbr": frozenset({"title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "ol": frozenset({"start"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
}

#: Tags removed together with everything inside them.
DROPPED_TAGS: frozenset[str] = frozenset(
    {
        "applet", "audio", "button", "canvas", "embed", "frame", "frameset",
        "head", "iframe", "math", "noembed", "noframes", "noscript", "object",
        "script", "select", "style", "svg", "template", "textarea", "title",
        "video",
    }
)  # fmt: skip

_LINK_REL = "noopener noreferrer nofollow"
_NUMERIC_ATTRIBUTES = frozenset({"width", "height", "colspan", "rowspan", "start"})

# Block-level tags: in plain text they become line breaks.
_BLOCK_TAGS: frozenset[str] = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd",
        "details", "div", "dl", "dt", "figcaption", "figure", "footer", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre",
        "section", "summary", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip

_H1_RE = re.compile(r"<(/?)h1(?=[\s/>])", re.IGNORECASE)
# nh3 output is well-formed: attribute values are double-quoted, '"' escaped.
_IMG_RE = re.compile(r'<img((?:\s[a-z-]+="[^"]*")*)\s*/?>')
_TAG_RE = re.compile(r"<[^>]*>")
# Runs of whitespace, except the no-break spaces of French typography.
_SPACES_RE = re.compile(r"[^\S\u00a0\u202f]+")
_PARAGRAPH_BREAK_RE = re.compile(r"\n\s*\n")
_EXCERPT_TRAILING = " \u00a0\u202f,;:.-\u2013\u2014(\u00ab"


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Return ``html`` reduced to a safe subset: no script, style, frame,
    object or form, no event handler or style attribute, and only absolute
    http(s) links and images (relative ones are resolved against
    ``base_url``, tracking parameters are removed)."""
    if not html:
        return ""
    html = _H1_RE.sub(r"<\1h2", html)
    cleaned = _cleaner(base_url).clean(html)
    if "<img" in cleaned:
        cleaned = _IMG_RE.sub(_drop_img_without_src, cleaned)
    return cleaned.strip()


def html_to_text(html: str) -> str:
    """Return the text of an HTML fragment: tags removed (with the content of
    script, style and the like), entities decoded, one line per block, and
    runs of spaces collapsed."""
    if "<" not in html and "&" not in html:
        return collapse(html)
    cleaned = _SPACES_RE.sub(" ", _text_cleaner().clean(html))  # newlines in HTML are spaces
    lines = (collapse(line) for line in unescape(_TAG_RE.sub("\n", cleaned)).split("\n"))
    return "\n".join(line for line in lines if line)


def make_excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """Return ``text`` on one line, cut at a word to at most ``limit``
    characters, "…" included when it was cut."""
    if limit < 2:
        raise ValueError(f"excerpt limit must be at least 2, not {limit}")
    text = collapse(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # keep room for "…"
    if text[limit - 1] != " ":  # the cut falls inside a word: drop the word
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return (cut.rstrip(_EXCERPT_TRAILING) or cut) + "…"


_HEADING_RE = re.compile(r"<(/?)h([1-6])(?=[\s>])", re.IGNORECASE)


def heading_levels(html: str) -> list[int]:
    """The levels of the headings of (sanitised) HTML, in order."""
    return [int(m.group(2)) for m in _HEADING_RE.finditer(html)]


def shift_headings(html: str, by: int) -> str:
    """Move every heading of (sanitised) HTML ``by`` levels (2: ``<h2>`` becomes ``<h4>``),
    within h1–h6."""
    if not by:
        return html
    return _HEADING_RE.sub(lambda m: f"<{m.group(1)}h{min(6, max(1, int(m.group(2)) + by))}", html)


# --- helpers -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _text_cleaner() -> nh3.Cleaner:
    import nh3  # imported on first use: `curator --help` and the config need none of it

    return nh3.Cleaner(
        tags=set(_BLOCK_TAGS),
        clean_content_tags=set(DROPPED_TAGS),
        attributes={},
        link_rel=None,
        strip_comments=True,
    )


@lru_cache(maxsize=32)
def _cleaner(base_url: str | None) -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=partial(_filter_attribute, base_url),
        url_schemes={"http", "https", "mailto"},
        link_rel=_LINK_REL,
        strip_comments=True,
    )


def _filter_attribute(base_url: str | None, tag: str, name: str, value: str) -> str | None:
    # nh3 has already dropped absolute URLs with other schemes, but it lets
    # relative URLs through and does not check what this filter returns: so
    # every URL is resolved here and must come out as absolute http(s).
    if name == "href":
        value = value.strip()
        if value[:7].lower() == "mailto:":
            return value
        return normalise_url(value, base_url, keep_fragment=True)
    if name == "src":
        return normalise_url(value, base_url, keep_fragment=True)
    if name in _NUMERIC_ATTRIBUTES:
        value = value.strip()
        return value if value.isascii() and value.isdigit() and len(value) <= 4 else None
    return value


def _drop_img_without_src(match: re.Match[str]) -> str:
    return match.group(0) if ' src="' in match.group(1) else ""


_KEEP_SPACES = {"\u00a0": "\ue000", "\u202f": "\ue001"}  # no-break spaces (French typography)


def collapse(text: str) -> str:
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
