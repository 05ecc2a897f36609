"""Build every file of the archive from the published issues, re-rendering only what changed.

Each file has a *key*: a hash of everything it is made from (the code and
templates, the configuration, the base URL, and the data of the issues it
shows). The previous build's keys are in ``.curator/manifest.json``; a file
whose key did not change is taken over from the previous build as it is
(hard-linked: same bytes, same mtime) without being rendered again, and a
file that is rendered again but comes out identical is taken over too. So two
builds from the same database give identical files, and publishing one more
issue rewrites only the pages it changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from ..config import ArchiveSettings, Config
from ..models import Month
from ..store import Store
from ..text import clean_text
from ..typography import typography
from . import fork
from .cache import (
    CACHE_DIR,
    FORMAT,
    ISSUES,
    FileRecord,
    Previous,
    code_fingerprint,
    config_fingerprint,
    email_templates,
    issue_files,
    key_of,
    pack,
)
from .content import (
    ROOT,
    Context,
    Digest,
    Link,
    atom_time,
    dumps,
    issue_and_email,
    issue_page,
    render_page,
)
from .writer import MARKER, SiteWriter

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = ("archive.css", "archive-search.js")
_ENTRIES = "\ue003"  # where the entries go in a feed
LATEST_ISSUES = 3  # how many issues a theme's page shows (older ones are on its year pages)
PARALLEL_FROM = 24  # render this many issues or more in several processes
EPOCH = "1970-01-01T00:00:00+00:00"
Rendered = tuple[Digest, dict[str, str]]


@dataclass(frozen=True)
class BuildReport:
    """What a build did, counted two ways over the same ``files``.

    How each file was made: ``rendered`` again, or ``reused`` from the previous build
    because its key did not change (not rendered at all). What happened on disk:
    ``written`` are the files with new bytes, the ``kept`` others are as they were
    (same bytes, same mtime) — a file rendered again that comes out identical is kept.
    So ``build --full`` renders every file (``reused`` is 0) and may write none.
    """

    out_dir: Path
    issues: tuple[str, ...]  # the months in the archive, newest first
    written: tuple[str, ...]
    kept: int
    removed: tuple[str, ...]
    rendered_issues: tuple[str, ...]  # issues rendered again (the others came from the cache)
    seconds: float
    built_at: datetime
    reused: int = 0  # files taken over from the previous build without being rendered

    @property
    def files(self) -> int:
        return len(self.written) + self.kept

    @property
    def rendered(self) -> int:
        """The files rendered in this build, whether their bytes changed or not."""
        return self.files - self.reused


# --- the builder ----------------------------------------------------------------------


class Builder:
    def __init__(
        self,
        store: Store,
        config: Config,
        settings: ArchiveSettings,
        base_url: str,
        writer: SiteWriter,
        previous: Previous,
    ) -> None:
        self.store = store
        self.config = config
        self.settings = settings
        self.base = base_url
        self.writer = writer
        self.previous = previous
        self.locale = config.newsletter.locale or "fr"
        self.ctx = Context.make(config, settings.templates, base_url)
        self.env = self.ctx.env
        self.global_key = key_of(
            code_fingerprint([settings.templates, email_templates(config)]),
            config_fingerprint(config),
            base_url,
        )
        self.manifest: dict[str, FileRecord] = {}
        self.written: list[str] = []
        self.kept = 0  # files whose bytes did not change (reused, or rendered again identical)
        self.reused = 0  # files taken over by their key, not rendered
        self.rendered_issues: list[str] = []
        self._packs: dict[str, tuple[dict[str, list[int]], bytes]] = {}  # read once

    def emit(self, path: str, key: Any, render: Callable[[], str | bytes]) -> None:
        """Write ``path`` from ``render()``, unless the previous build has it with the same key or bytes."""
        full_key = key_of(self.global_key, path, key)
        source = self.previous.by_key(path, full_key)
        if source is not None:
            self.writer.link(path, source)
            self.manifest[path] = self.previous.files[path]
            self.kept += 1
            self.reused += 1
            return
        data = render()
        raw = data.encode("utf-8") if isinstance(data, str) else data
        sha = hashlib.sha256(raw).hexdigest()
        source = self.previous.bykey_of(path, raw, sha)
        if source is not None:
            self.writer.link(path, source)
            self.kept += 1
        else:
            self.writer.write(path, raw)
            self.written.append(path)
        self.manifest[path] = FileRecord(full_key, sha, len(raw))

    def render(self, template: str, **context: Any) -> str:
        return render_page(self.ctx, template, **context)

    def url(self, path: str) -> str:
        return self.base + path

    # the issues

    def digests(self) -> list[Digest]:
        """Every published issue's digest, oldest first: from the previous build when nothing changed.

        The digests are kept together in ``.curator/issues.json``; an issue's pieces (see
        ``content.render_issue``) are packed in ``.curator/issues/2022-01.pack``, read by
        the pages that need them.
        """
        jobs = [(str(m), key_of(self.global_key, str(m), fp)) for m, fp in self.store.archive_fingerprints()]
        known = self.previous_digests()
        cached: dict[str, Digest] = {}
        todo = []
        for month, key in jobs:
            old = known.get(month)
            if (
                old is not None
                and old["key"] == key
                and all(
                    self.previous.by_key(path, key_of(self.global_key, path, key))
                    for path in issue_files(old)
                )
            ):
                cached[month] = old
            else:
                todo.append((month, key))
        titles = {str(i.month): i.title for i in self.store.issues(state="published")}
        months = [m for m, _ in jobs]
        neighbours = {
            m: (
                _link_to(months[i - 1], titles) if i else None,
                _link_to(months[i + 1], titles) if i + 1 < len(months) else None,
            )
            for i, m in enumerate(months)
        }
        rendered = self.render_issues([(m, k, neighbours[m]) for m, k in todo])
        result = []
        for month, key in jobs:
            if month in cached:
                digest = cached[month]
                for path in issue_files(digest):
                    self.emit(path, key, lambda: b"")  # taken over: the keys matched
            else:
                digest = rendered[month]
                self.rendered_issues.append(month)
            result.append(digest)
        self.emit(ISSUES, [d["key"] for d in result], lambda: dumps({d["month"]: d for d in result}))
        return result

    def previous_digests(self) -> dict[str, Digest]:
        record = self.previous.files.get(ISSUES)
        source = self.previous.by_hash_only(ISSUES) if record else None
        if source is None:
            return {}
        try:
            known: dict[str, Digest] = json.loads(Path(source).read_bytes())
        except ValueError:
            return {}
        return known

    def piece_bytes(self, month: str, name: str) -> bytes:
        """A piece of an issue, from its pack in the new folder (b"" if it has none of that name)."""
        if month not in self._packs:
            with open(os.path.join(self.writer.root, CACHE_DIR, f"{month}.pack"), "rb") as f:
                header = json.loads(f.readline())
                self._packs[month] = (header, f.read())
        header, body = self._packs[month]
        if name not in header:
            return b""
        start, end = header[name]
        return body[start:end]

    def piece(self, month: str, name: str) -> str:
        return self.piece_bytes(month, name).decode("utf-8")

    def joined(self, digests: list[Digest], name: str, root: str) -> Markup:
        """The pieces ``name`` of several issues (cards or feed entries rendered and escaped by our
        templates), for a page at ``root``."""
        parts = (self.piece(d["month"], name) for d in digests)
        return Markup("\n".join(p for p in parts if p).replace(ROOT, root))

    def render_issues(self, todo: list[tuple[str, str, tuple[Link, Link]]]) -> dict[str, Digest]:
        """Render the issues that changed and write their files (pack, email version, agenda, page).

        Many issues (a first build) are shared between forked processes, which write their
        files themselves and send back their digests and what they wrote."""
        workers = min(os.cpu_count() or 1, 8, len(todo) // (PARALLEL_FROM // 2))
        chunks = [todo[i::workers] for i in range(workers)] if workers > 1 else [todo]
        path = self.store.path

        def work(chunk: list[tuple[str, str, tuple[Link, Link]]], store: Store) -> dict[str, Digest]:
            done = {}
            for month, key, (older, newer) in chunk:
                digest, pieces = issue_and_email(store, self.ctx, Month.parse(month), key)
                files = issue_files(digest)
                self.emit(files[0], key, lambda pieces=pieces: pack(pieces))  # type: ignore[misc]
                self.emit(files[1], key, lambda html=pieces["email.html"]: html)  # type: ignore[misc]
                if len(files) > 2:
                    self.emit(files[2], key, lambda ics=pieces["ics"]: ics)  # type: ignore[misc]
                page = issue_page(self.ctx, digest, pieces["html"], older, newer)
                self.emit(f"{month}/index.html", [key, (older, newer)], lambda page=page: page)  # type: ignore[misc]
                done[month] = digest
            return done

        def child(chunk: list[tuple[str, str, tuple[Link, Link]]]) -> tuple[dict[str, Digest], Any]:
            # This process's copy of the builder records only what this chunk writes.
            self.manifest, self.written, self.kept, self.reused = {}, [], 0, 0
            self.writer.forget()
            with Store.open(path, migrate=False) as own:  # a connection of its own, never the parent's
                done = work(chunk, own)
            return done, (self.manifest, self.written, self.kept, self.reused, self.writer.made())

        if len(chunks) == 1 or path == ":memory:" or not fork.can_fork():
            return work(todo, self.store)
        collect = fork.fork_start(child, chunks[1:])
        try:
            done = work(chunks[0], self.store)
        finally:
            results = collect()  # the children are always waited for
        for part, (manifest, written, kept, reused, made) in results:
            done.update(part)
            self.manifest.update(manifest)
            self.written.extend(written)
            self.kept += kept
            self.reused += reused
            self.writer.adopt(made)
        return done

    def run(self) -> list[Digest]:
        digests = self.digests()
        keys = [d["key"] for d in digests]
        newest_first = list(reversed(digests))
        for name in ASSETS:
            self.emit(name, "", lambda name=name: (STATIC / name).read_bytes())  # type: ignore[misc]
        for i, d in enumerate(digests):
            self.issue_pages(
                d, digests[i - 1] if i else None, digests[i + 1] if i + 1 < len(digests) else None
            )
        self.emit("index.html", keys, lambda: self.index_page(newest_first))
        latest = newest_first[: self.settings.feed_issues]  # feed readers fetch it often: keep it light
        self.emit("feed.xml", [d["key"] for d in latest], lambda: self.issues_feed(latest))
        self.lab_pages(newest_first)
        self.theme_pages(newest_first)
        self.emit(
            "recherche/index.html",
            "",
            lambda: self.render("archive/search.html", root="../", current="search"),
        )
        self.emit("recherche/index.js", keys, lambda: self.search_index(newest_first))
        self.emit("accessibilite/index.html", "", self.accessibility_page)
        self.emit("404.html", "", self.not_found_page)
        self.emit(
            "robots.txt", "", lambda: f"User-agent: *\nAllow: /\n\nSitemap: {self.url('sitemap.xml')}\n"
        )
        self.emit(
            "sitemap.xml", [(d["month"], d["updated_at"]) for d in digests], lambda: self.sitemap(digests)
        )
        return digests

    def issue_pages(self, d: Digest, older: Digest | None, newer: Digest | None) -> None:
        path = f"{d['month']}/index.html"
        if path in self.manifest:  # written with its issue
            return
        links = (_link(older), _link(newer))
        self.emit(path, [d["key"], links], lambda: self.issue_page(d, *links))

    def issue_page(self, d: Digest, older: Link, newer: Link) -> str:
        return issue_page(self.ctx, d, self.piece(d["month"], "html"), older, newer)

    def index_page(self, newest_first: list[Digest]) -> str:
        years: dict[str, list[Digest]] = {}
        for d in newest_first:
            years.setdefault(d["month"][:4], []).append(d)
        return self.render(
            "archive/index.html",
            years=list(years.items()),
            current="issues",
            description=self.config.newsletter.description,
            canonical=self.base,
        )

    # feeds

    def feed(
        self, path: str, title: str, subtitle: str, alternate: str, entries_xml: bytes, updated: str
    ) -> bytes:
        """An Atom feed around entries already rendered and escaped by _entries.xml."""
        head, tail = self.render(
            "archive/feed.xml",
            feed={
                "id": self.url(path),
                "title": clean_text(typography(title, self.locale)),
                "subtitle": clean_text(typography(subtitle, self.locale)),
                "self_url": self.url(path),
                "alternate_url": alternate,
                "updated": atom_time(updated),  # the newest entry's: a feed without entries has EPOCH
                "author": clean_text(typography(self.config.newsletter.publisher, self.locale)),
            },
            entries_xml=Markup(_ENTRIES),
        ).split(_ENTRIES)
        return head.encode("utf-8") + entries_xml + tail.encode("utf-8")

    def issues_feed(self, newest_first: list[Digest]) -> bytes:
        entries_xml = b"".join(self.piece_bytes(d["month"], "atom.xml") for d in newest_first)
        newsletter = self.config.newsletter
        updated = max((d["updated_at"] for d in newest_first), default=EPOCH)
        return self.feed(
            "feed.xml", newsletter.title, newsletter.description, self.base, entries_xml, updated
        )

    # labs and themes

    def lab_pages(self, newest_first: list[Digest]) -> None:
        by_lab: dict[str, list[Digest]] = {lab.id: [] for lab in self.config.labs}
        for d in newest_first:
            for lab_id in d["labs"]:
                if lab_id in by_lab:
                    by_lab[lab_id].append(d)
        counts = [(lab, sum(sum(d["labs"][lab.id]) for d in by_lab[lab.id])) for lab in self.config.labs]
        self.emit(
            "labs/index.html",
            [c for _, c in counts],
            lambda: self.render(
                "archive/labs.html", labs=counts, root="../", current="labs", canonical=self.url("labs/")
            ),
        )
        for lab in self.config.labs:
            mine = by_lab[lab.id]

            def page(lab: Any = lab, mine: list[Digest] = mine) -> str:
                return self.render(
                    "archive/lab.html",
                    lab=lab,
                    reports=self.joined(mine, f"lab-reports:{lab.id}", "../../"),
                    news=self.joined(mine, f"lab-news:{lab.id}", "../../"),
                    root="../../",
                    current="labs",
                    canonical=self.url(f"labs/{lab.id}/"),
                )

            def feed(lab: Any = lab, mine: list[Digest] = mine) -> bytes:
                updated = max((d["updated_at"] for d in mine), default=EPOCH)
                name = f"{lab.name} — {self.config.newsletter.title}"
                entries = b"\n".join(self.piece_bytes(d["month"], f"lab-atom:{lab.id}") for d in mine)
                return self.feed(
                    f"labs/{lab.id}/feed.xml", name, "", self.url(f"labs/{lab.id}/"), entries, updated
                )

            self.emit(f"labs/{lab.id}/index.html", [d["key"] for d in mine], page)
            self.emit(f"labs/{lab.id}/feed.xml", [d["key"] for d in mine], feed)

    def theme_pages(self, newest_first: list[Digest]) -> None:
        by_theme: dict[str, list[Digest]] = {t.id: [] for t in self.config.themes}
        for d in newest_first:
            for theme_id in d["themes"]:
                if theme_id in by_theme:
                    by_theme[theme_id].append(d)
        counts = [(t, sum(d["themes"][t.id] for d in by_theme[t.id])) for t in self.config.themes]
        self.emit(
            "themes/index.html",
            [c for _, c in counts],
            lambda: self.render(
                "archive/themes.html",
                themes=counts,
                root="../",
                current="themes",
                canonical=self.url("themes/"),
            ),
        )
        for theme, total in counts:
            mine = by_theme[theme.id]
            years: dict[str, list[Digest]] = {}
            for d in mine:
                years.setdefault(d["month"][:4], []).append(d)
            year_counts = [(y, sum(d["themes"][theme.id] for d in ds)) for y, ds in years.items()]
            latest = mine[:LATEST_ISSUES]

            def index(
                theme: Any = theme,
                latest: list[Digest] = latest,
                counts: Any = year_counts,
                total: int = total,
            ) -> str:
                return self.theme_page(theme, None, latest, counts, total, "../../")

            self.emit(f"themes/{theme.id}/index.html", [year_counts, [d["key"] for d in latest]], index)
            for year, chosen in years.items():  # a year's page depends on that year only

                def year_page(theme: Any = theme, year: str = year, chosen: list[Digest] = chosen) -> str:
                    count = sum(d["themes"][theme.id] for d in chosen)
                    return self.theme_page(theme, year, chosen, [], count, "../../../")

                self.emit(f"themes/{theme.id}/{year}/index.html", [d["key"] for d in chosen], year_page)

    def theme_page(
        self,
        theme: Any,
        year: str | None,
        chosen: list[Digest],
        years: list[tuple[str, int]],
        total: int,
        root: str,
    ) -> str:
        path = f"themes/{theme.id}/" + (f"{year}/" if year else "")
        return self.render(
            "archive/theme.html",
            theme=theme,
            year=year,
            years=years,
            total=total,
            groups=[(d["title"], self.joined([d], f"theme:{theme.id}", root)) for d in chosen],
            root=root,
            current="themes",
            canonical=self.url(path),
        )

    # search, sitemap and the fixed pages

    def search_index(self, newest_first: list[Digest]) -> bytes:
        parts = (self.piece_bytes(d["month"], "search.json")[1:-1] for d in newest_first)
        return b"window.CURATOR_SEARCH = [" + b",".join(p for p in parts if p) + b"];\n"

    def sitemap(self, digests: list[Digest]) -> str:
        urls: list[tuple[str, str]] = [(self.base, max((d["updated_at"][:10] for d in digests), default=""))]
        urls += [(self.url(f"{d['month']}/"), d["updated_at"][:10]) for d in reversed(digests)]
        urls.append((self.url("labs/"), ""))
        urls += [(self.url(f"labs/{lab.id}/"), "") for lab in self.config.labs]
        urls.append((self.url("themes/"), ""))
        urls += [(self.url(f"themes/{t.id}/"), "") for t in self.config.themes]
        urls += [(self.url("recherche/"), ""), (self.url("accessibilite/"), "")]
        return self.render("archive/sitemap.xml", urls=urls)

    def accessibility_page(self) -> str:
        contact = self.settings.contact
        href = contact if contact.startswith(("http://", "https://")) else f"mailto:{contact}"
        return self.render(
            "archive/accessibility.html",
            root="../",
            contact=contact,
            contact_href=href,
            canonical=self.url("accessibilite/"),
        )

    def not_found_page(self) -> str:
        return self.render("archive/404.html", base_path=urlsplit(self.base).path or "/", root="")

    def manifest_bytes(self) -> bytes:
        files = {p: [r.key, r.sha256, r.size] for p, r in sorted(self.manifest.items())}
        return dumps({"format": FORMAT, "files": files})


def _link(d: Digest | None) -> Link:
    return {"month": d["month"], "title": d["title"]} if d else None


def _link_to(month: str, titles: dict[str, str]) -> Link:
    return {"month": month, "title": titles[month]}


def build_files(
    store: Store,
    config: Config,
    settings: ArchiveSettings,
    base_url: str,
    writer: SiteWriter,
    previous: Previous,
) -> tuple[Builder, list[Digest]]:
    """Write every file of the archive through ``writer``; the manifest last."""
    builder = Builder(store, config, settings, base_url, writer, previous)
    digests = builder.run()
    manifest = builder.manifest_bytes()
    old = previous.root / MARKER if previous.root else None
    if old is not None and old.is_file() and old.read_bytes() == manifest:
        writer.link(MARKER, old)
        builder.kept += 1
    else:
        writer.write(MARKER, manifest)
        builder.written.append(MARKER)
    return builder, digests


def report(
    builder: Builder, digests: list[Digest], out_dir: Path, started: float, now: datetime
) -> BuildReport:
    return BuildReport(
        out_dir=out_dir,
        issues=tuple(d["month"] for d in reversed(digests)),
        written=tuple(sorted(builder.written)),
        kept=builder.kept,
        removed=tuple(sorted(set(builder.previous.files) - set(builder.manifest))),
        rendered_issues=tuple(builder.rendered_issues),
        seconds=time.perf_counter() - started,
        built_at=now,
        reused=builder.reused,
    )
