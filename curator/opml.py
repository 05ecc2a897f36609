"""OPML, the file every feed reader imports and exports: read its feeds (with the folders they
sit in) from untrusted bytes, and write a list of feeds as OPML 2.0. Pure: no file, no network.

Reading uses expat directly, with every entity declaration refused (no "billion laughs", no
external entity: nothing is fetched or expanded), and a document that is not well-formed XML
is refused whole with the line and column of the first error (:class:`OpmlError`): a file cut
short or badly escaped would otherwise lose feeds without anyone noticing.

curator's own data (a source's id, section, lab, themes, weight) travels in attributes of the
``curator:`` namespace, which other readers ignore, so that an export imports back the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape

from .errors import UsageError
from .text import cap_text, clean_text, collapse
from .urls import normalise_url

__all__ = [
    "CURATOR_NS",
    "MAX_OUTLINES",
    "OpmlDocument",
    "OpmlError",
    "OpmlFeed",
    "OpmlGroup",
    "parse_opml",
    "write_opml",
]

#: The namespace of curator's own attributes (``curator:id``, ``curator:section``…).
CURATOR_NS = "https://github.com/curator-infolettre/curator/opml"
#: More outlines than this is not a list of subscriptions.
MAX_OUTLINES = 20_000
#: Longest title or folder name kept (characters).
MAX_NAME = 300

_CURATOR_KEYS = ("id", "section", "lab", "tags", "weight", "enabled")
_NOT_FEEDS = frozenset({"include", "link", "vfolder", "rule"})


class OpmlError(UsageError):
    """The file is not usable OPML; ``line`` and ``column`` say where, when known."""

    def __init__(
        self, message: str, *, path: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        where = f"{path}:{line}:{column}" if line is not None and column is not None else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class OpmlFeed:
    """One feed of an OPML file."""

    url: str  # the xmlUrl, normalised
    title: str  # the title, else the text, as plain text on one line
    html_url: str = ""  # the site's page, normalised, or ""
    folders: tuple[str, ...] = ()  # the folders it sits in, outermost first
    line: int = 0  # where its outline starts
    curator: dict[str, str] = field(default_factory=dict)  # curator:* attributes, as written


@dataclass(frozen=True)
class OpmlDocument:
    """The feeds of an OPML file, in their order, and the outlines left out (one line each)."""

    title: str
    feeds: tuple[OpmlFeed, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpmlGroup:
    """A folder of an OPML file to write (``name`` "" for feeds at the top level)."""

    name: str
    feeds: Sequence[OpmlFeed]


def parse_opml(data: bytes, path: str = "subscriptions.opml") -> OpmlDocument:
    """The feeds of an OPML 1.0 or 2.0 document; raise :class:`OpmlError` if it is not one.

    Feeds are outlines with an ``xmlUrl`` (``xmlurl`` and other casings are read too), in any
    folder depth; a folder is an outline without one. ``path`` is only used in messages.
    """
    if not data.strip():
        raise OpmlError("the file is empty", path=path)
    reader = _Reader(path)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = reader.refuse_entity
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    reader.parser = parser
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
        raise OpmlError(
            f"not well-formed XML ({message}); nothing was imported: fix the file (often a bare & "
            "that should be written &amp;) and try again",
            path=path,
            line=exc.lineno,
            column=exc.offset + 1,
        ) from None
    except _Refused as exc:
        raise OpmlError(exc.message, path=path, line=exc.line, column=exc.column) from None
    if reader.root is None:
        raise OpmlError("the file is empty", path=path)
    return OpmlDocument(
        cap_text(collapse(clean_text(reader.head_title)), MAX_NAME),
        tuple(reader.feeds),
        tuple(reader.skipped),
    )


class _Refused(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class _Reader:
    """expat's handlers: a stack of open outlines (a folder's name, or None)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.parser: Any = None
        self.root: str | None = None
        self.stack: list[tuple[str, str | None]] = []  # (element, folder name or None)
        self.feeds: list[OpmlFeed] = []
        self.skipped: list[str] = []
        self.outlines = 0
        self.head_title = ""
        self.prefix: str | None = None  # the prefix bound to CURATOR_NS, with its colon
        self._in_title = False

    def _where(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def refuse_entity(self, name: str, *args: object) -> None:
        line, column = self._where()
        raise _Refused(
            f"declares the entity {name!r}: entity declarations are refused in OPML files", line, column
        )

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        name = tag.rpartition(":")[2]
        if self.root is None:
            self.root = name
            if name != "opml":
                raise _Refused(f"not an OPML file: its root element is <{name}>, not <opml>", *self._where())
            prefixes = [k[6:] for k, v in attributes.items() if k.startswith("xmlns:") and v == CURATOR_NS]
            self.prefix = prefixes[0] + ":" if prefixes else None
        if name == "title" and [n for n, _ in self.stack][-1:] == ["head"]:
            self._in_title = True
        if name != "outline":
            self.stack.append((name, None))
            return
        self.outlines += 1
        if self.outlines > MAX_OUTLINES:
            line, column = self._where()
            raise _Refused(f"more than {MAX_OUTLINES} outlines: not a list of subscriptions", line, column)
        attrs = {k.lower(): v for k, v in attributes.items()}
        line = self.parser.CurrentLineNumber
        xml_url = (attrs.get("xmlurl") or "").strip()
        label = _name(attrs.get("title")) or _name(attrs.get("text"))
        if label == xml_url and not attrs.get("title"):
            label = ""  # an untitled feed, written with its address as its text
        kind = (attrs.get("type") or "").strip().lower()
        folders = tuple(folder for _, folder in self.stack if folder)
        if not xml_url:
            # A folder (or a note, a link...): its name is the folder of what it holds.
            self.stack.append((name, label or None))
            return
        self.stack.append((name, None))
        url = normalise_url(xml_url)
        if kind in _NOT_FEEDS or url is None:
            shown = clean_text(xml_url)[:120]
            self.skipped.append(f"line {line}: {label or shown!r}: {shown!r} is not an http(s) feed address")
            return
        prefix = self.prefix
        curator = (
            {
                key: clean_text(value).strip()[:MAX_NAME]
                for full, value in attributes.items()
                if full.startswith(prefix) and (key := full[len(prefix) :]) in _CURATOR_KEYS
            }
            if prefix
            else {}
        )
        self.feeds.append(
            OpmlFeed(
                url=url,
                title=label,
                html_url=normalise_url(attrs.get("htmlurl") or "") or "",
                folders=folders,
                line=line,
                curator=curator,
            )
        )

    def end(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()
        if tag.rpartition(":")[2] == "title":
            self._in_title = False

    def text(self, data: str) -> None:
        if self._in_title:
            self.head_title += data


def _name(value: str | None) -> str:
    """A title, a text or a folder's name as plain text on one line."""
    return cap_text(collapse(clean_text(value or "")), MAX_NAME)


# --- writing -------------------------------------------------------------------------

_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_INVALID_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def write_opml(title: str, groups: Iterable[OpmlGroup], *, created: datetime | None = None) -> str:
    """OPML 2.0 text: one folder per group (feeds of the group named "" at the top level),
    each feed with ``text``, ``title``, ``xmlUrl``, ``htmlUrl`` and its ``curator:`` attributes."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<opml version="2.0" xmlns:curator="{CURATOR_NS}">',
        "  <head>",
        f"    <title>{_text(title)}</title>",
    ]
    if created is not None:
        lines.append(f"    <dateCreated>{format_datetime(created)}</dateCreated>")
    lines += ["    <docs>http://opml.org/spec2.opml</docs>", "  </head>", "  <body>"]
    for group in groups:
        indent = "    "
        if group.name:
            lines.append(f"    <outline {_attributes({'text': group.name, 'title': group.name})}>")
            indent = "      "
        for feed in group.feeds:
            attributes = {"type": "rss", "text": feed.title or feed.url}
            if feed.title:
                attributes["title"] = feed.title
            attributes["xmlUrl"] = feed.url
            if feed.html_url:
                attributes["htmlUrl"] = feed.html_url
            for key in _CURATOR_KEYS:
                if feed.curator.get(key):
                    attributes[f"curator:{key}"] = feed.curator[key]
            lines.append(f"{indent}<outline {_attributes(attributes)}/>")
        if group.name:
            lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return escape(_INVALID_XML_RE.sub("", value))


def _attributes(values: dict[str, str]) -> str:
    return " ".join(
        f'{name}="{escape(_INVALID_XML_RE.sub("", value), _ATTRIBUTE_ESCAPES)}"'
        for name, value in values.items()
    )
