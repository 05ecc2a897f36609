"""Change the ``sources:`` of ``sources.yaml`` in place, keeping every comment, blank line, key
order and quoting of the file: add sources, change a source's URL.

ruamel.yaml's round-trip composer gives the exact place of every node in the text; only
those characters are changed (new entries are inserted after the last one, a URL is
replaced where it stands), so the rest of the file is kept byte for byte, which re-dumping
a whole document never quite does (long lines re-wrapped, flow mappings re-spaced). New
entries are written by ruamel's emitter, in the style of the entries already there (one
``{flow: mapping}`` a line, or a block mapping), and checked by reading them back.

:meth:`SourcesFile.save` validates the new text with the normal loader, then replaces the
file atomically (a temporary file beside it, then ``os.replace``), and refuses if the file
changed on disk in the meantime.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..errors import ConfigError, ConflictError
from ..models import Source
from ..text import fold
from .load import Config, parse_config
from .reader import ID_RE

__all__ = ["SourcesFile", "make_source_id", "render_entries", "source_entry", "write_atomically"]

#: Longest id made from a title.
MAX_ID = 40


def make_source_id(title: str, url: str, taken: set[str]) -> str:
    """A source id made from ``title`` (else the feed's host name): lower case, accents folded,
    words joined by ``-``, at most MAX_ID characters, and not in ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")
    if not base:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        base = re.sub(r"[^a-z0-9]+", "-", host).strip("-")
    if len(base) > MAX_ID:
        cut = base[:MAX_ID]
        base = cut[: cut.rfind("-")] if cut.rfind("-") > MAX_ID // 2 else cut.rstrip("-")
    if not ID_RE.match(base):
        base = "source"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def source_entry(source: Source) -> dict[str, Any]:
    """A source as the mapping written in sources.yaml: defaults left out, keys in the usual order."""
    entry: dict[str, Any] = {"id": source.id, "url": source.url}
    if source.title:
        entry["title"] = source.title
    if source.section:
        entry["section"] = source.section
    if source.lab:
        entry["lab"] = source.lab
    if source.tags:
        entry["tags"] = list(source.tags)
    if source.weight != 1.0:
        entry["weight"] = source.weight
    if not source.enabled:
        entry["enabled"] = False
    if source.site:
        entry["site"] = source.site
    return entry


def render_entries(entries: Sequence[dict[str, Any]], *, flow: bool, dash: str = "  - ") -> str:
    """Sequence items of YAML text, one per entry: ``{flow: mappings}`` one a line, or block
    mappings; ``dash`` is what starts an item's first line ("  - "). Every string that YAML 1.1
    (PyYAML, the loader) would read as something else is quoted."""
    lines: list[str] = []
    for entry in entries:
        text = _dump_entry(entry, flow=flow)
        if _reads_back(text) != entry:  # never expected; a plain scalar misread: quote every text
            text = _dump_entry(entry, flow=flow, quote=True)
            if _reads_back(text) != entry:
                raise ConfigError(f"cannot write the entry {entry.get('id')!r} as YAML")
        first, *rest = text.splitlines()
        lines.append(dash + first)
        lines.extend(" " * len(dash) + line for line in rest)
    return "".join(line + "\n" for line in lines)


def _dump_entry(entry: dict[str, Any], *, flow: bool, quote: bool = False) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    def scalar(value: Any) -> Any:
        return SingleQuotedScalarString(value) if quote and isinstance(value, str) else value

    mapping = CommentedMap()
    for key, value in entry.items():
        if isinstance(value, list):
            seq = CommentedSeq(scalar(v) for v in value)
            seq.fa.set_flow_style()
            mapping[key] = seq
        else:
            mapping[key] = scalar(value)
    if flow:
        mapping.fa.set_flow_style()
    dumper = YAML(typ="rt")
    dumper.width = 100_000  # never wrap
    dumper.version = (1, 1)  # quote what PyYAML would read as a boolean or a number (yes, on, 0777)
    dumper.indent(mapping=2, sequence=2, offset=0)
    out = io.StringIO()
    dumper.dump([mapping], out)
    body = out.getvalue().split("---", 1)[1].lstrip("\n ")  # after the %YAML directive
    if not body.startswith("- "):
        raise ConfigError("unexpected YAML from the emitter")  # pragma: no cover
    return "\n".join(line[2:] for line in body.rstrip("\n").splitlines())


def _reads_back(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


class SourcesFile:
    """sources.yaml as text, changed in place; :meth:`save` validates and writes it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.original = self.path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the file: {exc}", path=str(self.path)) from None
        try:
            text = self.original.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"cannot read the file: {exc}", path=str(self.path)) from None
        self.bom = text.startswith("\ufeff")
        self.text = text.removeprefix("\ufeff")
        self.newline = "\r\n" if "\r\n" in self.text else "\n"
        self._expected: dict[str, str] = {}  # source id -> url, once the changes are made

    @property
    def changed(self) -> bool:
        return self.text.encode("utf-8") != self.original.removeprefix(b"\xef\xbb\xbf")

    # -- reading the structure ---------------------------------------------------------

    def _compose(self) -> Any:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            return YAML(typ="rt").compose(self.text)
        except YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}", path=str(self.path)) from None

    def _sources_node(self) -> tuple[Any, Any]:
        """(the ``sources`` key node, its value node)."""
        root = self._compose()
        for key, value in getattr(root, "value", ()):
            if getattr(key, "value", None) == "sources":
                return key, value
        raise ConfigError("no 'sources:' list to change", path=str(self.path), field="sources")

    def _top_item_style(self, root_items: Iterable[Any]) -> bool:
        """Whether the entries of the file's other lists are flow mappings (for a first source)."""
        for item in root_items:
            if getattr(item, "flow_style", None) is not None and item.__class__.__name__ == "MappingNode":
                return bool(item.flow_style)
        return True

    # -- changes -----------------------------------------------------------------------

    def add(self, sources: Sequence[Source]) -> None:
        """Append entries for ``sources`` to the ``sources:`` list, in the style of its last entry."""
        if not sources:
            return
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        entries = [source_entry(s) for s in sources]
        self._expected.update({s.id: s.url for s in sources})
        key, node = self._sources_node()
        text = self.text
        if isinstance(node, SequenceNode) and node.value and not node.flow_style:
            last = node.value[-1]
            flow = bool(isinstance(last, MappingNode) and last.flow_style)
            line_start = text.rfind("\n", 0, last.start_mark.index) + 1
            dash = text[line_start : last.start_mark.index]
            if not re.fullmatch(r" *- +", dash):
                dash = " " * max(0, last.start_mark.column - 2) + "- "
            at = self._line_end(_last_leaf(last).end_mark.index)
            self._insert(at, render_entries(entries, flow=flow, dash=dash))
            return
        if isinstance(node, SequenceNode) and node.value:  # a flow list: [{...}, {...}]
            lines = render_entries(entries, flow=True, dash="").splitlines()
            at = node.value[-1].end_mark.index
            after = text[at:]
            if after.lstrip(" \t").startswith(","):  # [{...}, {...},] keeps its trailing comma
                at += after.index(",") + 1
                self.text = text[:at] + " " + ", ".join(lines) + "," + text[at:]
            else:
                self.text = text[:at] + "".join(", " + line for line in lines) + text[at:]
            return
        # sources: [] or sources: (nothing): a block list under the key
        if isinstance(node, SequenceNode) or node.end_mark.index > node.start_mark.index:
            self.text = text[: node.start_mark.index].rstrip(" ") + text[node.end_mark.index :]
            text = self.text
        flow = self._top_item_style(
            item
            for _, value in self._compose().value
            if isinstance(value, SequenceNode)
            for item in value.value
        )
        indent = " " * key.start_mark.column
        at = self._line_end(key.end_mark.index)
        self._insert(at, render_entries(entries, flow=flow, dash=indent + "  - "))

    def set_url(self, source_id: str, url: str) -> None:
        """Replace the ``url`` of the source ``source_id`` where it is written."""
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        _, node = self._sources_node()
        items = node.value if isinstance(node, SequenceNode) else []
        for item in items:
            if not isinstance(item, MappingNode):
                continue
            fields = {k.value: v for k, v in item.value if isinstance(k, ScalarNode)}
            id_node = fields.get("id")
            if id_node is None or str(id_node.value).strip() != source_id:
                continue
            url_node = fields.get("url")
            if not isinstance(url_node, ScalarNode):
                break
            start, end = url_node.start_mark.index, url_node.end_mark.index
            self.text = self.text[:start] + _url_scalar(url, url_node.style) + self.text[end:]
            self._expected[source_id] = url
            return
        raise ConfigError(f"no source {source_id!r} with a url to change", path=str(self.path))

    def _line_end(self, index: int) -> int:
        end = self.text.find("\n", index)
        return len(self.text) if end < 0 else end + 1

    def _insert(self, at: int, block: str) -> None:
        if self.newline != "\n":
            block = block.replace("\n", self.newline)
        prefix = "" if at == 0 or self.text[at - 1] == "\n" else self.newline
        self.text = self.text[:at] + prefix + block + self.text[at:]

    # -- output --------------------------------------------------------------------------

    def diff(self) -> str:
        """The change as a unified diff."""
        before = self.original.decode("utf-8").removeprefix("\ufeff").splitlines(keepends=True)
        after = self.text.splitlines(keepends=True)
        name = self.path.name
        return "".join(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))

    def validate(self) -> Config:
        """The new text read by the normal loader (a ConfigError if it is not valid)."""
        try:
            config = parse_config(self.text, str(self.path))
        except ConfigError as exc:
            raise ConfigError(
                f"the change would make the file invalid, so nothing was written: {exc.message}",
                path=exc.path,
                entry=exc.entry,
                field=exc.field,
                line=exc.line,
            ) from None
        urls = {s.id: s.url for s in config.sources}
        missing = [sid for sid, url in self._expected.items() if urls.get(sid) != url]
        if missing:  # never expected: a shape of file this module does not know how to change
            raise ConfigError(
                f"could not change the sources {', '.join(missing)} in this file; nothing was written: "
                "edit it by hand",
                path=str(self.path),
                field="sources",
            )
        return config

    def save(self) -> Config:
        """Validate the new text, then replace the file atomically; return the new configuration."""
        config = self.validate()
        data = ("\ufeff" if self.bom else "") + self.text
        write_atomically(self.path, data.encode("utf-8"), expected=self.original)
        self.original = data.encode("utf-8")
        return config


def _last_leaf(node: Any) -> Any:
    """The last scalar of a node (where its text really ends)."""
    while True:
        value = getattr(node, "value", None)
        if not isinstance(value, list) or not value:
            return node
        last = value[-1]
        node = last[1] if isinstance(last, tuple) else last


_PLAIN_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s,\[\]{}#'\"]+$")


def _url_scalar(url: str, style: str | None) -> str:
    """``url`` written as a YAML scalar, in the quoting style of the one it replaces."""
    if style == '"' or (style is None and not _PLAIN_URL_RE.match(url)):
        return '"' + url.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == "'":
        return "'" + url.replace("'", "''") + "'"
    return url


def write_atomically(path: Path, data: bytes, *, expected: bytes | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and ``os.replace``, keeping
    the file's permissions; refuse (ConflictError) if the file no longer holds ``expected``."""
    target = path.resolve()
    folder = target.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        if expected is not None:
            try:
                current: bytes | None = target.read_bytes()
            except FileNotFoundError:
                current = None
            if current != expected:
                raise ConflictError(
                    f"{path} was changed by someone else in the meantime: nothing was written, run the command again"
                )
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
