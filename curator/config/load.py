"""Load and validate ``sources.yaml`` into a typed ``Config``; every error names file, line, entry and field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ..errors import ConfigError
from ..models import Lab, Newsletter, Section, Source, Theme, VocabularyTerm
from ..urls import is_http_url
from .blocks import (
    DEFAULT_INNOVATION_TYPES,
    ArchiveSettings,
    CurationSettings,
    EmailSettings,
    FetchSettings,
    WebSettings,
    parse_archive,
    parse_curation,
    parse_email,
    parse_fetch,
    parse_labs_vocabulary,
    parse_web,
)
from .reader import Loader, Reader, kind_of

#: The top-level keys of sources.yaml, and those it must have.
TOP_KEYS = (
    "newsletter",
    "sections",
    "labs",
    "themes",
    "sources",
    "fetch",
    "curation",
    "email",
    "archive",
    "web",
    "labs_vocabulary",
)
REQUIRED_KEYS = ("newsletter", "sections", "sources")


@dataclass(frozen=True)
class Config:
    path: Path
    newsletter: Newsletter
    sections: tuple[Section, ...]
    labs: tuple[Lab, ...]
    themes: tuple[Theme, ...]
    sources: tuple[Source, ...]
    fetch: FetchSettings = field(default_factory=FetchSettings)
    curation: CurationSettings = field(default_factory=CurationSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    web: WebSettings = field(default_factory=WebSettings)
    #: Built by the loader with its paths read from the file's folder; the default (for a
    #: Config made in code) writes to ./archive.
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    #: The innovation types a lab may tick on its card (``labs_vocabulary: innovation_types:``).
    innovation_types: tuple[VocabularyTerm, ...] = DEFAULT_INNOVATION_TYPES

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def lab(self, lab_id: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.id == lab_id), None)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file; raise ConfigError naming what is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "file not found: create it (see sources.yaml in the repository) or pass --config PATH",
            path=str(p),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=str(p)) from None
    return parse_config(text, str(p))


def parse_config(text: str, path: str = "sources.yaml") -> Config:
    """Validate configuration text; ``path`` is only used in messages."""
    loader = Loader(text)
    loader.name = path
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path) from None
    finally:
        loader.dispose()
    top = Reader(path, "top level", data)
    top.check_keys(set(TOP_KEYS))
    for key in REQUIRED_KEYS:
        if key not in top.data:
            raise top.error("is required", key)

    newsletter = _newsletter(Reader(path, "newsletter", top.data["newsletter"]))
    sections = _entries(path, top.data, "sections", _section)
    labs = _entries(path, top.data, "labs", _lab)
    themes = _entries(path, top.data, "themes", _theme)
    sources = _entries(path, top.data, "sources", _source)
    if not sections:
        raise top.error("declare at least one section", "sections")

    raw_sources = top.data.get("sources") or []
    for error in reference_errors(path, zip(sources, raw_sources, strict=True), sections, labs, themes):
        raise error

    blocks = top.data
    return Config(
        path=Path(path),
        newsletter=newsletter,
        sections=tuple(sections),
        labs=tuple(labs),
        themes=tuple(themes),
        sources=tuple(sources),
        fetch=parse_fetch(blocks.get("fetch"), path),
        curation=parse_curation(blocks.get("curation"), path),
        email=parse_email(blocks.get("email"), path, newsletter),
        web=parse_web(blocks.get("web"), path),
        archive=parse_archive(blocks.get("archive"), path, newsletter),
        innovation_types=parse_labs_vocabulary(blocks.get("labs_vocabulary"), path),
    )


def reference_errors(
    path: str,
    sources: Iterable[tuple[Source, Any]],
    sections: Sequence[Section],
    labs: Iterable[Lab],
    themes: Iterable[Theme],
) -> Iterator[ConfigError]:
    """What each source (with its raw mapping) names that does not exist: sections, labs, themes."""
    section_ids = {s.id for s in sections}
    lab_ids = {lab.id for lab in labs}
    theme_ids = {t.id for t in themes}
    for src, raw in sources:
        r = Reader(path, f"sources[{src.id}]", raw)
        if src.section is not None and src.section not in section_ids:
            yield r.error(
                f"unknown section {src.section!r} (known: {', '.join(sorted(section_ids))})", "section"
            )
        elif src.section is not None and next(s for s in sections if s.id == src.section).kind != "items":
            kind = next(s for s in sections if s.id == src.section).kind
            yield r.error(f"the section {src.section!r} (kind {kind}) holds no feed items", "section")
        if src.lab is not None and src.lab not in lab_ids:
            yield r.error(f"unknown lab {src.lab!r}: add it under 'labs' first", "lab")
        for tag in src.tags:
            if tag not in theme_ids:
                yield r.error(f"unknown theme {tag!r}: add it under 'themes' first", "tags")


def _entries(path: str, top: dict[str, Any], key: str, build: Callable[[Reader], Any]) -> list[Any]:
    raw = top.get(key) or []
    if not isinstance(raw, list):
        raise ConfigError(
            f"expected a list of entries (- id: …), got {kind_of(raw)}",
            path=path,
            field=key,
            line=getattr(top, "line", None),
        )
    result: list[Any] = []
    seen: dict[str, int] = {}
    for index, data in enumerate(raw):
        label = f"{key}[{index}]"
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            label = f"{key}[{data['id']}]"
        reader = Reader(path, label, data)
        obj = build(reader)
        if obj.id in seen:
            raise reader.error(f"duplicate id {obj.id!r} (first used by entry #{seen[obj.id] + 1})", "id")
        seen[obj.id] = index
        result.append(obj)
    return result


def _newsletter(r: Reader) -> Newsletter:
    r.check_keys(
        {
            "title",
            "publisher",
            "site_url",
            "locale",
            "timezone",
            "from",
            "reply_to",
            "description",
            "form_url",
            "unsubscribe",
            "issue_title",
        }
    )
    issue_title = r.text("issue_title", default="Infolettre — {month}")
    if "{month}" not in issue_title or issue_title.count("{") != 1 or issue_title.count("}") != 1:
        raise r.error("must contain {month} once, e.g. 'Infolettre — {month}'", "issue_title")
    tz = r.text("timezone", default="Europe/Paris")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.error(f"unknown time zone {tz!r}: use a name such as Europe/Paris", "timezone") from None
    for name in ("title", "publisher", "from", "reply_to", "issue_title"):
        if any(ord(c) < 32 or ord(c) == 127 for c in r.text(name)):
            raise r.error("must be on one line, without control characters", name)
    sender = r.text("from")
    if sender and "@" not in parseaddr(sender)[1]:
        raise r.error(f"{sender!r} has no e-mail address: write it as 'Name <address@example.org>'", "from")
    reply_to = r.text("reply_to")
    if reply_to and "@" not in parseaddr(reply_to)[1]:
        raise r.error(f"{reply_to!r} is not an e-mail address", "reply_to")
    site_url = r.url("site_url", required=True)
    if not site_url.endswith("/"):
        site_url += "/"
    unsubscribe = r.text("unsubscribe")
    if unsubscribe and not (is_http_url(unsubscribe) or unsubscribe.startswith("mailto:")):
        raise r.error("must be an https:// URL or a mailto: address", "unsubscribe")
    return Newsletter(
        title=r.text("title", required=True),
        publisher=r.text("publisher", required=True),
        site_url=site_url,
        locale=r.text("locale", default="fr"),
        timezone=tz,
        from_address=r.text("from"),
        reply_to=r.text("reply_to"),
        description=r.text("description"),
        form_url=r.url("form_url"),
        unsubscribe=unsubscribe,
        issue_title=issue_title,
    )


def _section(r: Reader) -> Section:
    r.check_keys({"id", "title", "max_picks", "description", "kind", "note_required"})
    section_id = r.ident()
    kind = r.text("kind", default=section_id if section_id in ("edito", "agenda", "labs") else "items")
    if kind not in ("items", "edito", "agenda", "labs"):
        raise r.error(f"unknown kind {kind!r}: use items, edito, agenda or labs", "kind")
    note_required = r.boolean("note_required", False)
    if note_required and kind not in ("items", "labs"):
        raise r.error(f"the {kind} takes no picks, so no notes: remove note_required", "note_required")
    return Section(
        id=section_id,
        title=r.text("title", required=True),
        # A portrait is one or two labs: the labs section holds two unless said otherwise.
        max_picks=r.integer("max_picks", 2 if kind == "labs" else None, minimum=1),
        description=r.text("description"),
        kind=kind,
        note_required=note_required,
    )


def _lab(r: Reader) -> Lab:
    r.check_keys({"id", "name", "academie", "city", "website", "lat", "lon"})
    lat = _coordinate(r, "lat", 90.0)
    lon = _coordinate(r, "lon", 180.0)
    if (lat is None) != (lon is None):
        raise r.error("give both lat and lon (decimal degrees), or neither", "lon" if lon is None else "lat")
    return Lab(
        id=r.ident(),
        name=r.text("name", required=True),
        academie=r.text("academie"),
        city=r.text("city"),
        website=r.url("website"),
        lat=lat,
        lon=lon,
    )


def _coordinate(r: Reader, key: str, bound: float) -> float | None:
    value = r.data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -bound <= value <= bound:
        raise r.error(f"expected decimal degrees between -{bound:g} and {bound:g}, like 49.44", key)
    return float(value)


def _theme(r: Reader) -> Theme:
    r.check_keys({"id", "label", "keywords"})
    return Theme(id=r.ident(), label=r.text("label", required=True), keywords=r.str_list("keywords"))


def _source(r: Reader) -> Source:
    r.check_keys({"id", "url", "title", "section", "lab", "tags", "weight", "enabled", "site"})
    return Source(
        id=r.ident(),
        url=r.url("url", required=True),
        title=r.text("title"),
        section=r.text("section") or None,
        lab=r.text("lab") or None,
        tags=r.str_list("tags"),
        weight=r.number("weight", 1.0),
        enabled=r.boolean("enabled", True),
        site=r.url("site"),
    )


#: The reader of one entry of each list and of the newsletter, for ``curator check``
#: (``check.py``), which reads every entry on its own to report every error at once.
ENTRY_READERS: dict[str, Callable[[Reader], Any]] = {
    "sections": _section,
    "labs": _lab,
    "themes": _theme,
    "sources": _source,
}
read_newsletter = _newsletter
