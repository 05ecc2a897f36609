"""`curator sources` import, export, add and apply-redirects: sources.yaml changed in place, byte
for byte outside the changed lines; the listing unchanged; real OPML exports; loopback only."""

from __future__ import annotations

import difflib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import FeedServer, Reply
from hypothesis import given
from hypothesis import strategies as st

from curator.cli import cli
from curator.config import load_config
from curator.config.edit import SourcesFile
from curator.errors import ConflictError
from curator.models import Source
from curator.store import Store

REPOSITORY = Path(__file__).parent.parent
OPML = Path(__file__).parent / "data" / "opml"
NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)

COMMENTED = """\
# curator configuration — a test copy, full of comments.
# Line two of the header.

newsletter:   # the newsletter itself
  title: Infolettre des labs   # its name
  publisher: Lab 110 bis
  site_url: "https://labs.example/archive/"   # quoted, on purpose

# Sections, in the order of the issue
sections:
  - {id: edito, title: Édito}          # the édito
  - {id: veille, title: Veille, max_picks: 300}
  - {id: actualites, title: Actualités des labs}
  - {id: agenda, title: Agenda}

labs:
  - {id: lab-110bis, name: Lab 110 bis}   # ours

themes:
  # themes, for tags
  - {id: design, label: Design des politiques publiques}
  - {id: numerique, label: Numérique éducatif}

sources:
  # Veille: public innovation
  - {id: la27eregion, url: https://www.la27eregion.fr/feed/, title: La 27e Région, section: veille, tags: [design]}  # first
  # Veille: education
  - {id: cafe, url: "https://www.cafepedagogique.net/feed/", title: Le Café pédagogique, section: veille}
  #   a source set aside:
  # - {id: old, url: https://old.example/feed}
  - {id: moving, url: '{base}/old', title: 'Moving: a feed', section: actualites, weight: 1.5}   # will move

# Fetch tuning (a comment between blocks)
fetch:
  concurrency: 4   # small
  connect_timeout: 2
  read_timeout: 2
  deadline: 5
# a comment at the very end
"""


class Curator:
    def __init__(self, directory: Path, text: str) -> None:
        self.dir = directory
        self.config = directory / "sources.yaml"
        self.config.write_text(text, encoding="utf-8")

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", str(self.dir / "c.db"), "--config", str(self.config), *args])

    @property
    def text(self) -> str:
        return self.config.read_text(encoding="utf-8")


@pytest.fixture
def curator(tmp_path: Path) -> Curator:
    return Curator(tmp_path, COMMENTED.replace("{base}", "http://127.0.0.1:9"))


def only_inserted(before: str, after: str) -> list[str]:
    """The lines added to ``before``; fails if any line of it changed or moved."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), (op, a[i1:i2], b[j1:j2])
        if op == "insert":
            added += b[j1:j2]
    return added


def test_importing_a_netnewswire_export_keeps_every_byte_of_the_file(curator: Curator) -> None:
    before = curator.text
    result = curator("sources", "import", str(OPML / "netnewswire-subs.opml"), "--section", "veille")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "206 source(s) added to sources.yaml (0 already there, 1 listed twice, 0 warning(s)). "
        "Fetch them with `curator fetch`."
    )
    assert "= Katie Floyd: http://feed.katiefloyd.com/ skipped, listed twice (line 30)" in result.output
    added = only_inserted(before, curator.text)
    assert len(added) == 206 and all(line.startswith("  - {id: ") for line in added)
    # inserted right after the last source, before the comments and blocks that follow it
    assert curator.text.index(added[0]) == before.index("\n\n# Fetch tuning") + 1
    config = load_config(curator.config)
    assert len(config.sources) == 209
    ids = [s.id for s in config.sources]
    assert len(set(ids)) == 209 and {"daring-fireball", "daring-fireball-2", "learn-swift", "k"} <= set(ids)
    swift = config.source("we-swift")
    assert swift == Source(
        id="we-swift",
        url="http://www.weheartswift.com/feed/",
        title="We ❤ Swift",
        section="veille",
        site="https://www.weheartswift.com/",
    )

    again = curator("sources", "import", str(OPML / "netnewswire-subs.opml"))
    assert (
        again.exit_code == 0
        and "Nothing to add to sources.yaml (207 already there, 0 listed twice" in again.output
    )


def test_a_dry_run_prints_the_diff_and_writes_nothing(curator: Curator) -> None:
    before = curator.text
    result = curator("sources", "import", str(OPML / "jeanremy-fr.opml"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "+  - {id: stephanie-walter, url: http://feedpress.me/inpixelitrust-blog-fr, title: Stéphanie Walter"
        in result.output
    )
    assert "Dry run: 35 source(s) would be added to sources.yaml" in result.output
    assert curator.text == before


def test_a_malformed_export_leaves_the_file_unchanged(curator: Curator) -> None:
    before = curator.config.read_bytes()
    result = curator("sources", "import", str(OPML / "feedreader-malformed.opml"))
    assert result.exit_code == 2
    assert "feedreader-malformed.opml:10:129: not well-formed XML" in result.output
    assert curator.config.read_bytes() == before


BLOCK = """\
newsletter: {title: Infolettre, publisher: Labs, site_url: 'https://labs.example/'}
sections:
  - {id: veille, title: Veille}
  - {id: news, title: News}
themes:
  - {id: francais, label: Français}
  - {id: open-source, label: Open Source}

sources:
- id: lab
  url: https://lab.example/feed   # block style, without indentation
  tags: [francais]
"""


def test_map_folders_to_sections_and_themes_in_a_block_style_file(tmp_path: Path) -> None:
    curator = Curator(tmp_path, BLOCK)
    result = curator("sources", "import", str(OPML / "liferea-fr.opml"), "--map-folders")
    assert result.exit_code == 0, result.output
    assert "warning: skipped line 43: 'Non lus': 'vfolder' is not an http(s) feed address" in result.output
    for folder in ("Exemples de flux", "International", "Podcasts & Music", "Comics"):
        assert f"warning: the folder {folder!r} is named like no section or theme" in result.output
    added = only_inserted(BLOCK, curator.text)
    assert added[:5] == [
        "- id: standblog\n",
        "  url: http://standblog.org/dotclear/rss.php\n",
        "  title: Standblog\n",
        "  tags: [francais]\n",
        "  site: http://standblog.org/blog/\n",
    ]
    config = load_config(curator.config)
    sources = {s.id: s for s in config.sources}
    assert (sources["ars-technica"].section, sources["ars-technica"].tags) == ("news", ())
    assert (sources["liferea-blog"].section, sources["liferea-blog"].tags) == (None, ("open-source",))
    assert sources["le-monde-fr"].url == "http://www.lemonde.fr/rss/sequence/0,2-3208,1-0,0.xml"
    assert (
        "  url: http://www.lemonde.fr/rss/sequence/0,2-3208,1-0,0.xml\n" in curator.text
    )  # plain in a block


def test_unknown_section_lab_or_theme_is_refused_before_anything(curator: Curator) -> None:
    for option in (["--section", "veile"], ["--section", "agenda"], ["--lab", "nope"], ["--tag", "nope"]):
        result = curator("sources", "import", str(OPML / "jeanremy-fr.opml"), *option)
        assert result.exit_code == 2 and "unknown" in result.output, result.output


def test_import_into_an_empty_list(tmp_path: Path) -> None:
    text = BLOCK.split("sources:")[0] + "sources: []   # none yet\n"
    curator = Curator(tmp_path, text)
    result = curator("sources", "import", str(OPML / "jeanremy-fr.opml"), "--section", "veille")
    assert result.exit_code == 0, result.output
    assert curator.text.startswith(text.replace("sources: []   # none yet", "sources:   # none yet"))
    assert len(load_config(curator.config).sources) == 35


def test_export_then_import_into_an_empty_configuration_gives_the_same_sources(tmp_path: Path) -> None:
    original = (REPOSITORY / "sources.yaml").read_text(encoding="utf-8")
    exporter = Curator(tmp_path / "a", original) if (tmp_path / "a").mkdir() is None else None
    assert exporter is not None
    out = tmp_path / "export.opml"
    result = exporter("sources", "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    opml = out.read_text(encoding="utf-8")
    assert opml.count("<outline") == 12 + 2  # two folders: Veille, Actualités des labs
    assert '<outline text="Veille" title="Veille">' in opml and "xmlns:curator=" in opml

    (tmp_path / "b").mkdir()
    head, _, _ = original.partition("\nsources:\n")
    importer = Curator(tmp_path / "b", head + "\nsources: []\n")
    result = importer("sources", "import", str(out))
    assert result.exit_code == 0, result.output
    originals = {s.id: s for s in load_config(exporter.config).sources}
    assert {s.id: s for s in load_config(importer.config).sources} == originals  # grouped by section

    as_yaml = exporter("sources", "export", "--format", "yaml").output
    (tmp_path / "c").mkdir()
    assert load_config(Curator(tmp_path / "c", head + "\n" + as_yaml).config).sources == tuple(
        originals.values()
    )
    as_json = json.loads(exporter("sources", "export", "--format", "json").output)
    assert as_json[2] == {
        "id": "beta-gouv",
        "url": "https://beta.gouv.fr/feed.xml",
        "title": "beta.gouv.fr",
        "section": "veille",
        "lab": None,
        "tags": ["numerique"],
        "weight": 0.8,
        "enabled": True,
        "site": None,
    }


def test_the_listing_is_unchanged(curator: Curator) -> None:
    listing = curator("sources")
    assert listing.exit_code == 0
    assert listing.output.splitlines()[0].split() == [
        "cafe",
        "new",
        "0",
        "items",
        "https://www.cafepedagogique.net/feed/",
    ]
    rows = json.loads(curator("sources", "--json").stdout)
    assert [r["id"] for r in rows] == ["cafe", "la27eregion", "moving"]
    assert set(rows[0]) == {
        "id", "url", "title", "section", "lab", "tags", "weight", "enabled", "status", "disabled_reason",
        "last_error", "last_fetched", "consecutive_failures", "last_new_item", "retry_after", "moved_to", "items",
    }  # fmt: skip


def test_apply_redirects_seen_on_two_fetches_keeps_the_items_and_every_other_byte(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.feed("/new", "rss20.xml")
    feed_server.route("/old", Reply(301, headers={"Location": "/new"}))
    curator = Curator(tmp_path, COMMENTED.replace("{base}", feed_server.base))
    before = curator.text

    first = curator("fetch", "--source", "moving")
    assert first.exit_code == 0 and "moving: 3 new" in first.output and "apply-redirects" in first.output
    waiting = curator("sources", "apply-redirects")
    assert waiting.exit_code == 0, waiting.output
    assert "moving: not yet: " in waiting.output and "seen on 1 fetch(es) in a row" in waiting.output
    assert curator.text == before

    assert curator("fetch", "--source", "moving").exit_code == 0
    dry = curator("sources", "apply-redirects", "--dry-run")
    assert f"+  - {{id: moving, url: '{feed_server.base}/new'," in dry.output and curator.text == before

    applied = curator("sources", "apply-redirects")
    assert applied.exit_code == 0, applied.output
    assert f"moving: {feed_server.base}/old → {feed_server.base}/new" in applied.output
    a, b = before.splitlines(keepends=True), curator.text.splitlines(keepends=True)
    changed = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert changed == [(x, x.replace("/old'", "/new'")) for x in a if "/old'" in x]  # quoting kept

    rows = {r["id"]: r for r in json.loads(curator("sources", "--json").stdout)}
    assert rows["moving"]["url"] == f"{feed_server.base}/new"
    assert rows["moving"]["items"] == 3 and rows["moving"]["moved_to"] is None
    after = curator("fetch", "--source", "moving")
    assert after.exit_code == 0 and "moving: unchanged" in after.output and "moved" not in after.output
    items = json.loads(curator("items", "--json").stdout)
    assert len(items) == 3 and {i["source"] for i in items} == {"moving"}
    assert curator("sources", "apply-redirects").output == "No redirect to apply to sources.yaml.\n"


def test_a_fetch_without_the_redirect_breaks_the_count(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.db") as store:
        store.sync_sources([Source("a", "https://a.example/old")], NOW)
        store.record_fetch("a", status="ok", now=NOW, moved_to="https://a.example/new")
        store.record_fetch("a", status="unchanged", now=NOW, moved_to="https://a.example/new")
        assert (store.source("a").moved_to, store.source("a").moved_count) == ("https://a.example/new", 2)
        store.record_fetch("a", status="ok", now=NOW, moved_to="https://a.example/newer")
        assert store.source("a").moved_count == 1
        store.record_fetch("a", status="failed", now=NOW, error="dns: nope")
        assert (store.source("a").moved_to, store.source("a").moved_count) == ("https://a.example/newer", 0)
        store.record_fetch("a", status="ok", now=NOW)  # answered by the old address itself
        assert (store.source("a").moved_to, store.source("a").moved_count) == (None, 0)


def test_crlf_line_ends_and_a_byte_order_mark_are_kept(tmp_path: Path) -> None:
    text = "\ufeff" + BLOCK.replace("\n", "\r\n")
    path = tmp_path / "sources.yaml"
    path.write_bytes(text.encode("utf-8"))
    edit = SourcesFile(path)
    edit.add([Source("new", "https://new.example/feed", title="Nouveau")])
    edit.save()
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\n") == data.count(b"\r\n")
    assert data.endswith(b"- id: new\r\n  url: https://new.example/feed\r\n  title: Nouveau\r\n")


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(BLOCK, encoding="utf-8")
    os.chmod(path, 0o640)
    edit = SourcesFile(path)
    edit.add([Source("new", "https://new.example/feed")])
    path.write_text(BLOCK + "# edited by hand\n", encoding="utf-8")
    with pytest.raises(ConflictError):
        edit.save()
    assert path.read_text(encoding="utf-8").endswith("# edited by hand\n")
    assert [p.name for p in tmp_path.iterdir()] == ["sources.yaml"]  # no temporary file left
    edit = SourcesFile(path)
    edit.add([Source("new", "https://new.example/feed")])
    edit.save()
    assert os.stat(path).st_mode & 0o777 == 0o640


HEAD = "newsletter: {title: T, publisher: P, site_url: 'https://x.example/'}  # head\nsections: [{id: veille, title: Veille}]\n"


@pytest.mark.parametrize(
    "sources",
    [
        "sources:\nfetch: {concurrency: 2}   # kept\n",
        "sources: ~  # nothing yet\n",
        "sources: [{id: a, url: 'https://a.example/'}]  # one\n",
        "sources: [\n  {id: a, url: 'https://a.example/'},   # one\n]\n",
        "sources:\n- id: a\n  url: https://a.example/   # no end of line",
        "sources:\n    -   id: a\n        url: https://a.example/\n        tags:\n          - x\n# end\n",
        "sources:\n  - id: a\n    url: https://a.example/\n    title: >-\n      a long\n      title\n\n  # a comment in the list\nweb: {}\n",
    ],
    ids=["empty", "null", "flow", "flow-trailing-comma", "no-eol", "wide-block", "block-scalar"],
)
def test_adding_to_every_shape_of_list(tmp_path: Path, sources: str) -> None:
    path = tmp_path / "sources.yaml"
    text = HEAD.replace("]\n", "]\nthemes: [{id: x, label: X}]\n") + sources
    path.write_text(text, encoding="utf-8")
    edit = SourcesFile(path)
    edit.add(
        [Source("new", "https://n.example/feed", title="N", tags=("x",)), Source("y", "https://y.example/")]
    )
    config = edit.save()
    assert [s.id for s in config.sources][-2:] == ["new", "y"]
    assert config.sources[-2] == Source("new", "https://n.example/feed", title="N", tags=("x",))
    after = path.read_text(encoding="utf-8")
    for line in text.splitlines():  # every comment and line is still there
        if "#" in line or not line.startswith("sources"):
            assert line.split("#")[-1] in after


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60), st.booleans())
def test_any_title_is_written_so_that_it_reads_back(
    tmp_path_factory: pytest.TempPathFactory, title: str, block: bool
) -> None:
    path = tmp_path_factory.mktemp("any") / "sources.yaml"
    entry = (
        "  - id: a\n    url: https://a.example/\n"
        if block
        else "  - {id: a, url: 'https://a.example/'}  # c\n"
    )
    path.write_text(HEAD + "sources:\n" + entry, encoding="utf-8")
    edit = SourcesFile(path)
    edit.add([Source("new", "https://n.example/feed", title=title)])
    assert edit.save().sources[-1].title == title.strip()
