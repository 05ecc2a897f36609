"""JSON Feed 1.0 and 1.1: real files with their expected entries (tests/data/jsonfeed, see
tests/data/README.md), a hostile feed, identity, dates, errors, and `curator fetch` end to end.

Set CURATOR_REGEN=1 to rewrite the ``*.expected.json`` files; then read the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer

from curator.cli import cli
from curator.errors import ParseError
from curator.feeds import UNTITLED, parse_feed
from curator.models import Entry, ParsedFeed
from curator.text import MAX_SUMMARY, MAX_TITLE

DATA = Path(__file__).parent / "data" / "jsonfeed"
FETCHED_AT = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
REGEN = os.environ.get("CURATOR_REGEN") == "1"
REAL = ["jsonfeed-org.json", "netnewswire-authors.json", "reader-full.json", "bret-io.json"]


def parse(body: bytes | dict[str, Any], content_type: str | None = "application/feed+json") -> ParsedFeed:
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    return parse_feed(
        body, url="https://lab.example/feed.json", content_type=content_type, fetched_at=FETCHED_AT
    )


def feed(*items: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": "https://jsonfeed.org/version/1.1", "title": "Lab", **top, "items": list(items)}


def as_dict(entry: Entry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "url": entry.url,
        "title": entry.title,
        "excerpt": entry.excerpt,
        "author": entry.author,
        "categories": list(entry.categories),
        "published": entry.published.isoformat() if entry.published else None,
        "updated": entry.updated.isoformat() if entry.updated else None,
        "summary": entry.summary,
    }


@pytest.mark.parametrize("name", REAL)
def test_expected_entries_of_real_json_feeds(name: str) -> None:
    parsed = parse_feed(
        (DATA / name).read_bytes(),
        url=f"https://lab.example/{name}",
        content_type=None,
        fetched_at=FETCHED_AT,
    )
    actual = {"title": parsed.title, "link": parsed.link, "warning": parsed.warning}
    actual["entries"] = [as_dict(e) for e in parsed.entries]  # type: ignore[assignment]
    expected_path = DATA / f"{Path(name).stem}.expected.json"
    if REGEN:
        expected_path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert expected_path.exists(), f"{expected_path.name} is missing: run with CURATOR_REGEN=1"
    assert actual == json.loads(expected_path.read_text(encoding="utf-8"))


def test_what_the_real_feeds_say() -> None:
    org = parse((DATA / "jsonfeed-org.json").read_bytes(), None)
    (announce,) = org.entries
    assert (org.title, org.link) == ("JSON Feed", "https://jsonfeed.org/")
    assert announce.published == datetime(2017, 5, 17, 15, 2, 12, tzinfo=UTC)
    assert announce.author == "Brent Simmons and Manton Reece"  # the feed's author (1.0)
    assert "<h4>" in announce.summary and 'rel="noopener noreferrer nofollow"' in announce.summary

    authors = parse((DATA / "netnewswire-authors.json").read_bytes())
    assert [e.author for e in authors.entries] == [
        "Root Author 1, Root Author 2",  # 1.1 authors of the feed, before the 1.0 author
        "Legacy Item Author",
        "Item Author 1, Item Author 2",
        "Item Author 1, Item Author 2",  # authors (1.1) win over author (1.0)
    ]
    assert all(e.title == UNTITLED and e.url is None for e in authors.entries)

    full = parse((DATA / "reader-full.json").read_bytes())
    second = full.entries[0]
    assert second.updated == datetime(2020, 1, 4, 0, 0, tzinfo=UTC)  # "+0100"
    assert (
        second.summary
        == 'Content with <a href="http://example.com/" rel="noopener noreferrer nofollow">link</a>'
    )

    bret = parse((DATA / "bret-io.json").read_bytes())
    by_title = {e.title: e for e in bret.entries}
    assert by_title["A post with no URL!!"].url == "https://example.com/some-external-link2"  # external_url
    assert by_title["A post with some tags"].categories == ("foo", "bar")
    assert (
        by_title["but it has a summary!"].url is None
        and by_title["but it has a summary!"].key == "a-unique-id"
    )


def test_identity_is_the_id_else_the_link_else_a_hash() -> None:
    parsed = parse(
        feed(
            {"id": 42, "url": "https://lab.example/a", "title": "A"},
            {"url": "https://lab.example/b?utm_source=x", "title": "B"},
            {"title": "C", "date_published": "2024-06-01T08:00:00Z"},
            {"id": "42", "title": "A again"},  # the same id: the first one wins
            {"id": True, "url": "https://lab.example/d", "title": "D"},
        )
    )
    keys = [e.key for e in parsed.entries]
    assert keys[:2] == ["42", "https://lab.example/b"]
    assert keys[2].startswith("sha1:") and keys[3] == "https://lab.example/d"
    assert len(keys) == 4


def test_a_podcast_episode_is_identified_by_its_file() -> None:
    parsed = parse(
        feed(
            {"title": "Épisode 1", "url": "https://lab.example/", "attachments": [{"url": "/ep1.mp3"}]},
            home_page_url="https://lab.example/",
        )
    )
    assert parsed.entries[0].url == "https://lab.example/ep1.mp3"


def test_a_hostile_json_feed_is_cleaned_and_capped() -> None:
    huge = "mot " * 300_000
    parsed = parse(
        feed(
            {
                "id": "x",
                "url": "javascript:alert(1)",
                "title": "<script>alert(1)</script> \x1b[2J titre\u0007 \ud800 ici",
                "content_html": (
                    '<p onclick="x()">Lire <a href="javascript:alert(1)">ici</a> <script>steal()</script>'
                    '<img src="data:image/png;base64,AAAA"><iframe src="https://evil.example/"></iframe>'
                    '<a href="/relatif">relatif</a></p>'
                ),
                "authors": [{"name": "<b>Moi</b>\x00"}, {"name": 12}, "nobody"],
                "tags": ["ok", 3, {"x": 1}, "\x07cloche"],
                "date_published": "2031-01-01T00:00:00Z",  # in the future: not a date to trust
                "date_modified": "2024-06-01T00:00:00+02:00",
            },
            {"id": "huge", "title": "t" * 5000 + " fin", "content_text": huge, "summary": 7},
            {"id": "nested", "content_html": {"not": "text"}, "url": ["a"], "title": None},
            "not an object",
            42,
            title={"a": 1},
        )
    )
    first, big, nested = parsed.entries
    assert first.url is None  # javascript: is no link
    assert "\x1b" not in first.title and "\x07" not in first.title and "\ufffd" in first.title
    assert first.title.startswith("<script>alert(1)</script>")  # plain text, shown escaped, never run
    assert (
        "script" not in first.summary and "javascript" not in first.summary and "onclick" not in first.summary
    )
    assert "iframe" not in first.summary and "data:" not in first.summary
    assert 'href="https://lab.example/relatif"' in first.summary
    assert first.author == "<b>Moi</b>" and first.categories == ("ok", "cloche")
    assert first.published == datetime(2024, 5, 31, 22, 0, tzinfo=UTC)  # the future date is ignored
    assert len(big.title) <= MAX_TITLE and big.title.endswith("…")
    assert len(big.summary) <= MAX_SUMMARY + 16 and big.summary.endswith("<p>…</p>")
    assert nested.title == UNTITLED and nested.url is None and nested.summary == ""
    assert parsed.title == "" and parsed.warning == "malformed feed: 2 items not an object, left out"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"title": "x"}', "application/json", "not a JSON Feed"),
        (b"[1, 2]", "application/json", "not a JSON Feed (not an object)"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', None, 'no "items" list'),
        (b"{not json", "application/feed+json", "invalid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, None, "not a feed"),
        (b'{"version": "\xff\xfe"}', None, "not UTF-8"),
    ],
)
def test_json_that_is_not_a_feed(body: bytes, content_type: str | None, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(body, content_type)
    assert message in str(info.value)


def test_a_feed_without_its_version_is_read_with_a_warning() -> None:
    parsed = parse({"title": "Lab", "items": [{"id": "1", "content_text": "Bonjour"}]})
    assert parsed.warning == "malformed feed: no JSON Feed version" and parsed.entries[0].excerpt == "Bonjour"


def test_xml_served_as_json_is_still_read_as_xml() -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>I</title></item></channel></rss>'
    assert parse(rss, "application/json").entries[0].title == "I"


def test_curator_fetch_stores_a_json_feed_like_any_other(tmp_path: Path, feed_server: FeedServer) -> None:
    good = feed_server.feed(
        "/feed.json", (DATA / "jsonfeed-org.json").read_bytes(), content_type="application/feed+json"
    )
    hostile = feed_server.feed(
        "/hostile.json",
        json.dumps(
            feed(
                {
                    "id": "h",
                    "url": "https://hostile.example/a",
                    "title": "x\x01y",
                    "content_html": "<script>x</script>ok",
                }
            )
        ).encode(),
        content_type="application/json",
    )
    (tmp_path / "sources.yaml").write_text(
        "newsletter: {title: T, publisher: P, site_url: 'https://x.example/'}\n"
        "sections: [{id: veille, title: Veille}]\n"
        f"sources:\n  - {{id: org, url: '{good}', section: veille}}\n  - {{id: hostile, url: '{hostile}'}}\n",
        encoding="utf-8",
    )
    args = ["--db", str(tmp_path / "c.db"), "--config", str(tmp_path / "sources.yaml")]
    first = CliRunner().invoke(cli, [*args, "fetch"])
    assert first.exit_code == 0, first.output
    assert "org: 1 new" in first.output and "hostile: 1 new" in first.output
    items = json.loads(CliRunner().invoke(cli, [*args, "items", "--json"]).stdout)
    titles = {i["title"]: i for i in items}
    assert set(titles) == {"Announcing JSON Feed", "xy"}
    assert titles["xy"]["summary"] == "ok"
    again = CliRunner().invoke(cli, [*args, "fetch"])
    assert "org: unchanged" in again.output and "hostile: unchanged" in again.output
    sources = json.loads(CliRunner().invoke(cli, [*args, "sources", "--json"]).stdout)
    assert {s["id"]: s["items"] for s in sources} == {"org": 1, "hostile": 1}
