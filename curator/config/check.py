"""``curator check``: read the whole of ``sources.yaml`` and report every error at once.

The loader (``load.py``) stops at the first error, which is right for every other command.
Here each entry of each list, the newsletter and each settings block is read on its own by
the same readers; an entry's error is recorded and the entry read again without the faulty
key (or with a stand-in for a missing one), so that every problem of every entry is found.
Then come what no single entry can tell: duplicate ids and references to unknown sections,
labs and themes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from ..models import Lab, Newsletter, Section, Source, Theme
from .blocks import (
    FetchSettings,
    parse_archive,
    parse_curation,
    parse_email,
    parse_fetch,
    parse_labs_vocabulary,
    parse_web,
)
from .load import ENTRY_READERS, REQUIRED_KEYS, TOP_KEYS, read_newsletter, reference_errors
from .reader import Loader, Reader, kind_of

__all__ = ["CheckReport", "check_config", "check_text"]

#: Stand-ins for a required field that is missing or wrong, so that the rest of the entry is read.
_STAND_INS: dict[str, Any] = {
    "id": "x-checking",
    "url": "https://checking.invalid/",
    "title": "checking",
    "name": "checking",
    "label": "checking",
    "publisher": "checking",
    "site_url": "https://checking.invalid/",
}
_MAX_ROUNDS = 50  # errors read from one entry, at most


@dataclass(frozen=True)
class CheckReport:
    """Every error of a configuration file, and what could be read of it."""

    path: Path
    errors: tuple[ConfigError, ...]
    sections: tuple[Section, ...] = ()
    labs: tuple[Lab, ...] = ()
    themes: tuple[Theme, ...] = ()
    sources: tuple[Source, ...] = ()  # those read without error
    fetch: FetchSettings = field(default_factory=FetchSettings)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def entries_with_errors(self) -> int:
        return len({(e.entry or "top level", e.line) for e in self.errors})

    def summary(self) -> str:
        """One line: valid with what it holds, or how many errors in how many entries."""
        name = self.path.name
        if self.valid:
            return (
                f"{name} is valid: {_count(len(self.sources), 'source')}, {_count(len(self.sections), 'section')}, "
                f"{_count(len(self.labs), 'lab')}, {_count(len(self.themes), 'theme')}."
            )
        return f"{name}: {_count(len(self.errors), 'error')} in {_count(self.entries_with_errors, 'entry', 'entries')}."


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def check_config(path: str | Path) -> CheckReport:
    """Read ``path`` and report every error in it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        error = ConfigError(
            "file not found: create it (see sources.yaml in the repository) or pass --config PATH",
            path=str(p),
        )
        return CheckReport(p, (error,))
    except (OSError, UnicodeDecodeError) as exc:
        return CheckReport(p, (ConfigError(f"cannot read the file: {exc}", path=str(p)),))
    return check_text(text, str(p))


def check_text(text: str, path: str = "sources.yaml") -> CheckReport:
    """Every error of configuration text (``path`` is only used in messages)."""
    errors: list[ConfigError] = []
    loader = Loader(text)
    loader.name = path
    try:
        data = loader.get_single_data()
    except ConfigError as exc:  # a duplicate key
        return CheckReport(Path(path), (exc,))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        return CheckReport(
            Path(path), (ConfigError(f"invalid YAML: {exc.problem or exc}", path=path, line=line),)
        )
    except yaml.YAMLError as exc:
        return CheckReport(Path(path), (ConfigError(f"invalid YAML: {exc}", path=path),))
    finally:
        loader.dispose()
    try:
        top = Reader(path, "top level", data)
    except ConfigError as exc:
        return CheckReport(Path(path), (exc,))
    for key in top.data:
        if key not in TOP_KEYS:
            errors.append(top.error(f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})", str(key)))
    for key in REQUIRED_KEYS:
        if key not in top.data:
            errors.append(top.error("is required", key))

    newsletter: Newsletter | None = None
    if "newsletter" in top.data:
        newsletter = _read(path, "newsletter", top.data["newsletter"], read_newsletter, errors)
    lists: dict[str, list[tuple[Any, Any, bool]]] = {}
    for key, build in ENTRY_READERS.items():
        lists[key] = _read_list(path, top, key, build, errors)
    sections = [obj for obj, _, _ in lists["sections"]]
    labs = [obj for obj, _, _ in lists["labs"]]
    themes = [obj for obj, _, _ in lists["themes"]]
    if (
        "sections" in top.data
        and not top.data.get("sections")
        and not any(e.field == "sections" for e in errors)
    ):
        errors.append(top.error("declare at least one section", "sections"))
    references = list(
        reference_errors(path, ((o, raw) for o, raw, _ in lists["sources"]), sections, labs, themes)
    )
    errors.extend(references)
    badly_named = {e.entry for e in references}

    blocks = top.data
    fetch = _read_block(path, "fetch", blocks.get("fetch"), lambda raw: parse_fetch(raw, path), errors)
    _read_block(path, "curation", blocks.get("curation"), lambda raw: parse_curation(raw, path), errors)
    _read_block(path, "web", blocks.get("web"), lambda raw: parse_web(raw, path), errors)
    _read_block(
        path,
        "labs_vocabulary",
        blocks.get("labs_vocabulary"),
        lambda raw: parse_labs_vocabulary(raw, path),
        errors,
    )
    if newsletter is not None:
        _read_block(
            path, "email", blocks.get("email"), lambda raw: parse_email(raw, path, newsletter), errors
        )
        _read_block(
            path, "archive", blocks.get("archive"), lambda raw: parse_archive(raw, path, newsletter), errors
        )
    return CheckReport(
        path=Path(path),
        errors=_by_line(errors),
        sections=tuple(sections),
        labs=tuple(labs),
        themes=tuple(themes),
        sources=tuple(
            o for o, _, clean in lists["sources"] if clean and f"sources[{o.id}]" not in badly_named
        ),
        fetch=fetch if isinstance(fetch, FetchSettings) else FetchSettings(),
    )


def _by_line(errors: list[ConfigError]) -> tuple[ConfigError, ...]:
    """The errors in the order of the file; one without a line stays after the one before it."""
    keyed, last = [], 0
    for error in errors:
        last = error.line if error.line is not None else last
        keyed.append((last, error))
    return tuple(error for _, error in sorted(keyed, key=lambda pair: pair[0]))


def _read_list(
    path: str, top: Reader, key: str, build: Callable[[Reader], Any], errors: list[ConfigError]
) -> list[tuple[Any, Any, bool]]:
    """The entries of one list that could be read: (entry, its raw mapping, read without error)."""
    raw = top.data.get(key) or []
    if not isinstance(raw, list):
        errors.append(
            ConfigError(
                f"expected a list of entries (- id: …), got {kind_of(raw)}",
                path=path,
                field=key,
                line=top.line,
            )
        )
        return []
    result: list[tuple[Any, Any, bool]] = []
    seen: dict[str, int] = {}
    for index, data in enumerate(raw):
        label = (
            f"{key}[{data['id']}]"
            if isinstance(data, dict) and isinstance(data.get("id"), str)
            else f"{key}[{index}]"
        )
        before = len(errors)
        obj = _read(path, label, data, build, errors)
        if obj is None:
            continue
        clean = len(errors) == before
        if obj.id == _STAND_INS["id"]:  # named by its place in the list, in messages
            obj = dataclasses.replace(obj, id=label[len(key) + 1 : -1])
        else:
            if obj.id in seen:
                errors.append(
                    Reader(path, label, data).error(
                        f"duplicate id {obj.id!r} (first used by entry #{seen[obj.id] + 1})", "id"
                    )
                )
                continue
            seen[obj.id] = index
        result.append((obj, data, clean))
    return result


def _read(path: str, label: str, data: Any, build: Callable[[Reader], Any], errors: list[ConfigError]) -> Any:
    """Read one entry with ``build``, recording each of its errors; the entry (read with
    stand-ins for what was wrong), or None when it cannot be read at all."""
    if not isinstance(data, dict):
        try:
            Reader(path, label, data)
        except ConfigError as exc:
            errors.append(exc)
        return None
    data = _copy(data)
    reported: set[str] = set()
    for _ in range(_MAX_ROUNDS):
        try:
            return build(Reader(path, label, data))
        except ConfigError as exc:
            fld = exc.field
            if fld is None or fld not in reported:
                errors.append(exc)
            if fld is None:
                return None
            reported.add(fld)
            if fld in _STAND_INS and data.get(fld) != _STAND_INS[fld]:
                data[fld] = _STAND_INS[fld]
            elif fld in data and fld not in _STAND_INS:
                del data[fld]
            else:
                return None
    return None


def _read_block(
    path: str, name: str, raw: Any, parse: Callable[[Any], Any], errors: list[ConfigError]
) -> Any:
    """Read a settings block, recording each error and reading it again without the faulty key."""
    if raw is None:
        return None
    data = _copy(raw) if isinstance(raw, dict) else raw
    for _ in range(_MAX_ROUNDS):
        try:
            return parse(data)
        except ConfigError as exc:
            errors.append(exc)
            if isinstance(data, dict) and exc.entry == name and exc.field is not None and exc.field in data:
                del data[exc.field]
                continue
            return None
    return None


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy that keeps the line the mapping started on."""
    copy = type(data)(data)
    if hasattr(data, "line"):
        copy.line = data.line  # type: ignore[attr-defined]
    return copy
