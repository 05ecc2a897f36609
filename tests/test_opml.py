"""OPML: real exports of feed readers (tests/data/opml, see tests/data/README.md), nested
folders, non-ASCII titles, a malformed file, hostile XML, and writing OPML 2.0."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curator.opml import MAX_OUTLINES, OpmlError, OpmlFeed, OpmlGroup, parse_opml, write_opml

OPML = Path(__file__).parent / "data" / "opml"


def read(name: str):  # type: ignore[no-untyped-def]
    return parse_opml((OPML / name).read_bytes(), name)


def test_a_netnewswire_export_of_207_feeds() -> None:
    doc = read("netnewswire-subs.opml")
    assert doc.title == "Subs"
    assert len(doc.feeds) == 207 and not doc.skipped
    first = doc.feeds[0]
    assert (first.title, first.url, first.html_url, first.folders) == (
        "Daring Fireball",
        "http://daringfireball.net/feeds/main",
        "http://daringfireball.net/",
        (),
    )
    folders = {f.folders for f in doc.feeds}
    assert folders == {(), ("Programming",), ("Macintosh",), ("Weblogs",), ("Writers",)}
    titles = {f.title for f in doc.feeds}
    assert {"chat & code", "Learn Swift ↯", "We ❤ Swift", "⌥⇧K", "Stratēchery", "Susan × Blog"} <= titles
    julia = next(f for f in doc.feeds if f.title == "Julia Evans")
    assert julia.html_url == "" and julia.line == 9  # htmlUrl="" is no page


def test_nested_folders_of_a_liferea_list_and_what_is_not_a_feed() -> None:
    doc = read("liferea-fr.opml")
    assert doc.title == "Liste des flux par défaut de Liferea"
    assert len(doc.feeds) == 17
    by_title = {f.title: f for f in doc.feeds}
    assert by_title["Standblog"].folders == ("Exemples de flux", "Français")
    assert by_title["Ars Technica"].folders == ("Exemples de flux", "International", "News")
    assert by_title["EscapePod"].folders == ("Exemples de flux", "International", "Podcasts & Music")
    assert by_title["Le Monde.fr"].url == "http://www.lemonde.fr/rss/sequence/0,2-3208,1-0,0.xml"
    # Liferea's search folders have xmlUrl="vfolder": said, not imported
    assert len(doc.skipped) == 2 and all("vfolder" in s and s.startswith("line 4") for s in doc.skipped)


def test_non_ascii_titles_of_a_french_list() -> None:
    doc = read("jeanremy-fr.opml")
    assert doc.title == "La liste de mes flux RSS"
    assert len(doc.feeds) == 35
    titles = [f.title for f in doc.feeds]
    assert titles[0] == "Stéphanie Walter"
    assert {
        "Max Böck",
        "✊ Bertrand Keller",
        "Le ministère de l'intégration",
        "Alsacreations.com - Actualités",
    } <= set(titles)
    assert {f.folders for f in doc.feeds} == {
        ("Design",),
        ("CSS",),
        ("Accessibilité",),
        ("Eco-conception",),
        ("Front end",),
    }


def test_a_malformed_export_is_refused_with_its_line() -> None:
    with pytest.raises(OpmlError) as info:
        read("feedreader-malformed.opml")
    error = info.value
    assert (error.line, error.column) == (10, 129)  # the bare & of htmlUrl="…?emc=rss&partner=rss"
    assert str(error).startswith("feedreader-malformed.opml:10:129: not well-formed XML")
    assert "&amp;" in str(error) and "nothing was imported" in str(error)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"", "the file is empty"),
        (b"  \n", "the file is empty"),
        (b"<rss version='2.0'><channel/></rss>", "its root element is <rss>, not <opml>"),
        (b"<html><body>Not found</body></html>", "its root element is <html>"),
        (b"<opml><body><outline", "not well-formed XML"),
        # entity declarations (billion laughs, external entities) are refused, never expanded
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b'<opml><body><outline text="&b;" xmlUrl="https://a.example/"/></body></opml>',
            "declares the entity 'a'",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline text="&xxe;" xmlUrl="https://a.example/"/></body></opml>',
            "declares the entity 'xxe'",
        ),
    ],
)
def test_what_is_not_usable_opml(document: bytes, expected: str) -> None:
    with pytest.raises(OpmlError) as info:
        parse_opml(document, "in.opml")
    assert expected in str(info.value)


def test_an_external_dtd_is_never_fetched_nor_its_entities_expanded() -> None:
    doc = parse_opml(
        b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "http://127.0.0.1:9/evil.dtd">'
        b'<opml><body><outline title="A&ext;" xmlUrl="https://a.example/"/></body></opml>'
    )
    assert [(f.title, f.url) for f in doc.feeds] == [("A", "https://a.example/")]


def test_too_many_outlines() -> None:
    body = b'<outline text="x" xmlUrl="https://a.example/"/>' * (MAX_OUTLINES + 1)
    with pytest.raises(OpmlError, match="more than"):
        parse_opml(b"<opml><body>" + body + b"</body></opml>")


def test_attributes_in_any_case_text_without_title_and_untrusted_text() -> None:
    doc = parse_opml(
        b'<opml version="2.0"><body>'
        b'<outline text="Lab\x09 &#10; un" XMLURL="HTTPS://Lab.Example/feed?utm_source=x" HTMLURL="https://lab.example"/>'
        b'<outline text="Ftp" xmlUrl="ftp://lab.example/feed"/>'
        b'<outline text="Js" xmlUrl="javascript:alert(1)"/>'
        b'<outline type="link" text="A page" url="https://lab.example/page"/>'
        b"</body></opml>"
    )
    assert [(f.title, f.url, f.html_url) for f in doc.feeds] == [
        ("Lab un", "https://lab.example/feed", "https://lab.example/")
    ]
    assert len(doc.skipped) == 2


def test_opml_2_with_a_namespace_and_curator_attributes() -> None:
    doc = parse_opml(
        b'<opml version="2.0" xmlns="http://opml.org/spec2" xmlns:c="https://github.com/curator-infolettre/curator/opml"'
        b' xmlns:frss="https://freshrss.org/opml"><body>'
        b'<outline text="A" xmlUrl="https://a.example/" c:id="lab-a" c:section="veille" c:tags="design numerique"'
        b' frss:id="not-ours"/></body></opml>'
    )
    assert doc.feeds[0].curator == {"id": "lab-a", "section": "veille", "tags": "design numerique"}


def test_write_opml_then_read_it_back() -> None:
    feeds = [
        OpmlFeed(
            "https://a.example/feed",
            'Le "Café" & <co>',
            "https://a.example/",
            curator={"id": "a", "section": "veille"},
        ),
        OpmlFeed("https://b.example/feed", "", curator={"id": "b"}),
    ]
    text = write_opml(
        "Sources — Infolettre",
        [OpmlGroup("Veille", feeds[:1]), OpmlGroup("", feeds[1:])],
        created=datetime(2024, 6, 1, tzinfo=UTC),
    )
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"')
    assert "<dateCreated>Sat, 01 Jun 2024 00:00:00 +0000</dateCreated>" in text
    doc = parse_opml(text.encode())
    assert doc.title == "Sources — Infolettre"
    assert [(f.url, f.title, f.html_url, f.folders, f.curator) for f in doc.feeds] == [
        (
            "https://a.example/feed",
            'Le "Café" & <co>',
            "https://a.example/",
            ("Veille",),
            {"id": "a", "section": "veille"},
        ),
        ("https://b.example/feed", "", "", (), {"id": "b"}),
    ]


@given(st.text(max_size=80))
def test_any_title_survives_writing_and_reading(title: str) -> None:
    text = write_opml(title, [OpmlGroup(title, [OpmlFeed("https://a.example/", title)])])
    doc = parse_opml(text.encode())
    assert len(doc.feeds) == 1
    assert doc.feeds[0].title == doc.title or not doc.feeds[0].title
