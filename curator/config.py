"""Load and validate ``sources.yaml`` into typed objects; every error names file, entry and field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .errors import ConfigError
from .models import Lab, Newsletter, Section, Source, Theme
from .urls import is_http_url

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class FetchSettings:
    concurrency: int = 16
    per_host: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0  # seconds for one source, all redirects and the body included
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5


@dataclass(frozen=True)
class Config:
    path: Path
    newsletter: Newsletter
    sections: tuple[Section, ...]
    labs: tuple[Lab, ...]
    themes: tuple[Theme, ...]
    sources: tuple[Source, ...]
    fetch: FetchSettings = field(default_factory=FetchSettings)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def lab(self, lab_id: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.id == lab_id), None)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)


class _LineDict(dict[str, Any]):
    """A mapping that remembers the line it started on in the YAML file."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(
                f"duplicate key {key!r}",
                path=loader.name,
                line=key_node.start_mark.line + 1,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Reader:
    """Reads one mapping with context, so every error says where it is."""

    def __init__(self, path: str, entry: str, data: Any) -> None:
        self.path = path
        self.entry = entry
        if not isinstance(data, dict):
            raise ConfigError(f"expected a mapping (key: value), got {_kind(data)}", path=path, entry=entry)
        self.data = data
        self.line = getattr(data, "line", None)

    def error(self, message: str, fld: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.path, entry=self.entry, field=fld, line=self.line)

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.error(f"unknown key (allowed: {', '.join(sorted(allowed))})", str(key))

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise self.error("is required", key)
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self.error(f"expected text, got {_kind(value)}", key)
        return str(value).strip()

    def url(self, key: str, *, required: bool = False) -> str:
        value = self.text(key, required=required)
        if value and not is_http_url(value):
            raise self.error(f"{value!r} is not an http(s) URL: write it as https://…", key)
        return value

    def ident(self, key: str = "id") -> str:
        value = self.text(key, required=True)
        if not ID_RE.match(value):
            raise self.error(
                f"{value!r} is not a valid id: use lower-case letters, digits, '-', '_' or '.'",
                key,
            )
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected a number, got {_kind(value)}", key)
        if value < minimum:
            raise self.error(f"must be at least {minimum:g}", key)
        return float(value)

    def integer(self, key: str, default: int | None, *, minimum: int = 0) -> int | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {_kind(value)}", key)
        if value < minimum:
            raise self.error(f"must be at least {minimum}", key)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {_kind(value)}", key)
        return value

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("expected a list of text values", key)
        return tuple(v.strip() for v in value if v.strip())


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value) if not isinstance(value, dict) else dict, type(value).__name__
    )


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
    config = parse_config(text, str(p))
    check_settings(config)
    return config


def check_settings(config: Config) -> None:
    """Validate the ``curation:``, ``email:`` and ``web:`` blocks now, so that a mistake in
    them fails every command (exit 2, naming the field) rather than only the one that reads them."""
    from .curate import curation_settings

    curation_settings(config.extra.get("curation"), str(config.path))
    if "email" in config.extra:
        from .mail import email_settings

        email_settings(config)
    if "web" in config.extra:
        from .web.settings import web_settings

        web_settings(config)


def parse_config(text: str, path: str = "sources.yaml") -> Config:
    """Validate configuration text; ``path`` is only used in messages."""
    loader = _Loader(text)
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
    top = _Reader(path, "top level", data)
    top.check_keys(
        {
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
        }
    )
    for key in ("newsletter", "sections", "sources"):
        if key not in top.data:
            raise top.error("is required", key)

    newsletter = _newsletter(_Reader(path, "newsletter", top.data["newsletter"]))
    sections = _entries(path, top.data, "sections", _section)
    labs = _entries(path, top.data, "labs", _lab)
    themes = _entries(path, top.data, "themes", _theme)
    sources = _entries(path, top.data, "sources", _source)
    if not sections:
        raise top.error("declare at least one section", "sections")

    section_ids = {s.id for s in sections}
    lab_ids = {lab.id for lab in labs}
    theme_ids = {t.id for t in themes}
    raw_sources = top.data.get("sources") or []
    for src, raw in zip(sources, raw_sources, strict=True):
        r = _Reader(path, f"sources[{src.id}]", raw)
        if src.section is not None and src.section not in section_ids:
            raise r.error(
                f"unknown section {src.section!r} (known: {', '.join(sorted(section_ids))})", "section"
            )
        if src.section is not None and next(s for s in sections if s.id == src.section).kind != "items":
            raise r.error(f"the section {src.section!r} holds the édito or the agenda, not items", "section")
        if src.lab is not None and src.lab not in lab_ids:
            raise r.error(f"unknown lab {src.lab!r}: add it under 'labs' first", "lab")
        for tag in src.tags:
            if tag not in theme_ids:
                raise r.error(f"unknown theme {tag!r}: add it under 'themes' first", "tags")

    fetch = FetchSettings()
    if "fetch" in top.data:
        r = _Reader(path, "fetch", top.data["fetch"])
        r.check_keys({f for f in FetchSettings.__dataclass_fields__})
        fetch = FetchSettings(
            concurrency=int(r.integer("concurrency", 16, minimum=1) or 16),
            per_host=int(r.integer("per_host", 4, minimum=1) or 4),
            connect_timeout=r.number("connect_timeout", 10.0, minimum=0.1),
            read_timeout=r.number("read_timeout", 30.0, minimum=0.1),
            deadline=r.number("deadline", 60.0, minimum=0.1),
            max_bytes=int(r.integer("max_bytes", 10 * 1024 * 1024, minimum=1024) or 0),
            max_redirects=int(r.integer("max_redirects", 5, minimum=0) or 0),
        )
    extra = {k: top.data[k] for k in ("curation", "email", "archive", "web") if k in top.data}
    return Config(
        path=Path(path),
        newsletter=newsletter,
        sections=tuple(sections),
        labs=tuple(labs),
        themes=tuple(themes),
        sources=tuple(sources),
        fetch=fetch,
        extra=extra,
    )


def _entries(path: str, top: dict[str, Any], key: str, build: Callable[[_Reader], Any]) -> list[Any]:
    raw = top.get(key) or []
    if not isinstance(raw, list):
        raise ConfigError(
            f"expected a list of entries (- id: …), got {_kind(raw)}",
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
        reader = _Reader(path, label, data)
        obj = build(reader)
        if obj.id in seen:
            raise reader.error(f"duplicate id {obj.id!r} (first used by entry #{seen[obj.id] + 1})", "id")
        seen[obj.id] = index
        result.append(obj)
    return result


def _newsletter(r: _Reader) -> Newsletter:
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


def _section(r: _Reader) -> Section:
    r.check_keys({"id", "title", "max_picks", "description", "kind"})
    section_id = r.ident()
    kind = r.text("kind", default=section_id if section_id in ("edito", "agenda") else "items")
    if kind not in ("items", "edito", "agenda"):
        raise r.error(f"unknown kind {kind!r}: use items, edito or agenda", "kind")
    return Section(
        id=section_id,
        title=r.text("title", required=True),
        max_picks=r.integer("max_picks", None, minimum=1),
        description=r.text("description"),
        kind=kind,
    )


def _lab(r: _Reader) -> Lab:
    r.check_keys({"id", "name", "academie", "city", "website"})
    return Lab(
        id=r.ident(),
        name=r.text("name", required=True),
        academie=r.text("academie"),
        city=r.text("city"),
        website=r.url("website"),
    )


def _theme(r: _Reader) -> Theme:
    r.check_keys({"id", "label", "keywords"})
    return Theme(id=r.ident(), label=r.text("label", required=True), keywords=r.str_list("keywords"))


def _source(r: _Reader) -> Source:
    r.check_keys({"id", "url", "title", "section", "lab", "tags", "weight", "enabled"})
    return Source(
        id=r.ident(),
        url=r.url("url", required=True),
        title=r.text("title"),
        section=r.text("section") or None,
        lab=r.text("lab") or None,
        tags=r.str_list("tags"),
        weight=r.number("weight", 1.0),
        enabled=r.boolean("enabled", True),
    )
