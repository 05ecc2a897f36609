"""What one build leaves for the next: keys, the manifest, and the cached pieces of each issue.

A key is a hash of everything a file is made from: the code, templates and
libraries (``code_fingerprint``), the configuration (``config_fingerprint``),
the base URL and the data it shows. ``.curator/manifest.json`` records each
file's key, hash and size; :class:`Previous` reads it back so that the next
build can take a file over instead of rendering it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import Config
from .content import Digest, dumps
from .writer import MARKER

FORMAT = 1  # bump when the layout of the archive or of its cache changes
PACKAGE = Path(__file__).resolve().parent.parent
CACHE_DIR = ".curator/issues"  # an issue's pieces, packed: 2022-01.pack
ISSUES = ".curator/issues.json"  # every issue's digest
_CODE = (
    "archive",
    "templates/archive",
    "templates/email",
    "translations",
    "render.py",
    "typography.py",
    "i18n.py",
    "markup.py",
    "feeds.py",
    "editorial.py",
    "views.py",
    "reports.py",
    "mail.py",
    "static/archive.css",
    "static/archive-search.js",
)
_LIBRARIES = ("jinja2", "babel", "nh3", "markdown-it-py", "mjml-python", "icalendar")


def key_of(*parts: Any) -> str:
    """A hash of JSON-able parts."""
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def code_fingerprint(folders: Iterable[Path | None] = ()) -> str:
    """A hash of the code, templates and libraries that shape the archive (and of the team's templates)."""
    h = hashlib.sha256(f"{FORMAT}|{__version__}".encode())
    for name in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(f"{name}={metadata.version(name)}".encode())
    roots = [PACKAGE / c for c in _CODE] + [Path(f) for f in folders if f is not None]
    for root in roots:
        for path in _files(root):
            h.update(str(path.relative_to(root.parent)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def config_fingerprint(config: Config) -> str:
    return key_of(
        asdict(config.newsletter),
        [asdict(s) for s in config.sections],
        [asdict(x) for x in config.labs],
        [asdict(t) for t in config.themes],
        [asdict(s) for s in config.sources],
        # What of the settings shows in the pages (not where they are written).
        [
            config.archive.base_url,
            str(config.archive.templates),
            config.archive.contact,
            config.archive.feed_issues,
        ],
        [
            str(config.email.templates),
            asdict(config.email.logo) if config.email.logo else None,
            config.email.list_id,
        ],
    )


@dataclass(frozen=True)
class FileRecord:
    key: str
    sha256: str
    size: int


@dataclass
class Previous:
    """What the previous build left: its folder and the key, hash and size of each file.

    With ``trust_keys`` false (a full build) nothing is taken over unrendered, and a
    file rendered again is kept only if the previous one has the very same bytes.
    """

    root: Path | None = None
    files: dict[str, FileRecord] = field(default_factory=dict)
    trust_keys: bool = True
    _seen: dict[str, int] = field(default_factory=dict)  # path -> size (-1: not a file)

    @classmethod
    def load(cls, folder: Path, *, trust_keys: bool = True) -> Previous:
        try:
            data = json.loads((folder / MARKER).read_bytes())
            if data.get("format") != FORMAT:
                return cls()
            files = {p: FileRecord(*record) for p, record in data["files"].items()}
        except (OSError, ValueError, TypeError, KeyError):
            return cls()  # no usable manifest: build everything
        return cls(folder, files, trust_keys)

    def _existing(self, path: str, record: FileRecord) -> str | None:
        if self.root is None:
            return None
        if path not in self._seen:
            try:
                st = os.lstat(os.path.join(self.root, path))
                self._seen[path] = st.st_size if stat.S_ISREG(st.st_mode) else -1
            except OSError:
                self._seen[path] = -1
        return os.path.join(self.root, path) if self._seen[path] == record.size else None

    def by_key(self, path: str, key: str) -> str | None:
        record = self.files.get(path)
        if not self.trust_keys or record is None or record.key != key:
            return None
        return self._existing(path, record)

    def by_hash_only(self, path: str) -> str | None:
        """The previous build's file, whatever its key (when it is still as the manifest says)."""
        record = self.files.get(path)
        return self._existing(path, record) if record and self.trust_keys else None

    def bykey_of(self, path: str, data: bytes, sha256: str) -> str | None:
        record = self.files.get(path)
        source = self._existing(path, record) if record and record.sha256 == sha256 else None
        if source is not None and not self.trust_keys and Path(source).read_bytes() != data:
            return None  # changed by hand since: a full build replaces it
        return source


def issue_files(digest: Digest | None, month: str | None = None) -> list[str]:
    """An issue's pack of pieces, its email version and its agenda (when it has one)."""
    month = month or (digest or {})["month"]
    files = [f"{CACHE_DIR}/{month}.pack", f"{month}/email.html"]
    if digest is not None and digest["ics"]:
        files.append(f"{month}/agenda.ics")
    return files


PUBLIC = ("email.html", "ics", "page")  # pieces that are files of their own


def pack(pieces: dict[str, str]) -> bytes:
    """The pieces in one file: a JSON line of (start, end) offsets, then the pieces' bytes."""
    header: dict[str, list[int]] = {}
    body: list[bytes] = []
    at = 0
    for name in sorted(pieces):
        if name in PUBLIC:
            continue
        data = pieces[name].encode("utf-8")
        header[name] = [at, at + len(data)]
        body.append(data)
        at += len(data)
    return dumps(header) + b"\n" + b"".join(body)


def email_templates(config: Config) -> Path | None:
    folder = config.email.templates
    return Path(folder) / "email" if folder else None
