"""Text helpers every layer shares: clean untrusted text where it enters, cap its length, show it safely."""

from __future__ import annotations

import re

__all__ = [
    "MAX_SUMMARY",
    "MAX_TITLE",
    "cap_text",
    "clean_text",
    "has_lone_surrogate",
    "terminal_safe",
]

#: Longest title kept from a feed (characters); a longer one is cut at a word, with « … ».
MAX_TITLE = 1_000
#: Longest sanitised summary kept from a feed (characters of HTML).
MAX_SUMMARY = 100_000

# Characters that no text a person reads should hold, and that break the email
# (mjml-python refuses them) or the XML of the archive's feed:
# - C0 controls but tab, line feed and carriage return, DEL, and C1 controls
#   (U+009B alone starts a terminal escape sequence, like ESC [);
# - the noncharacters U+FDD0–U+FDEF and U+xFFFE/U+xFFFF of every plane.
_NONCHARACTERS = "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_UNWANTED_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef" + _NONCHARACTERS + "]")
# A lone surrogate (from a feed's `&#xD800;`) cannot be encoded as UTF-8: SQLite,
# nh3 and the email would all fail on it. It becomes U+FFFD, the replacement character.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without control characters (tab, newline and carriage return are kept) and
    noncharacters, and with any lone surrogate replaced by U+FFFD.

    Run on every text that enters curator: a feed's fields, a form's fields, a
    command-line option. It is cheap on clean text (one regular-expression scan).
    """
    if _UNWANTED_RE.search(text) is not None:
        text = _UNWANTED_RE.sub("", text)
    if _SURROGATE_RE.search(text) is not None:
        text = _SURROGATE_RE.sub("\ufffd", text)
    return text


def has_lone_surrogate(text: str) -> bool:
    return _SURROGATE_RE.search(text) is not None


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
