"""Feed parsing: sample documents with their expected entries, errors, sanitising, identity, dates.

Set CURATOR_REGEN=1 to rewrite the ``*.expected.json`` files from the current
output; then read the diff before committing it.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curator.errors import ParseError
from curator.feeds import UNTITLED, parse_feed
from curator.models import Entry, ParsedFeed
from curator.text import ALLOWED_TAGS, html_to_text, make_excerpt, sanitize_html

FEEDS = Path(__file__).parent / "data" / "feeds"
FETCHED_AT = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
REGEN = os.environ.get("CURATOR_REGEN") == "1"

PARSEABLE = [
    "rss090.xml",
    "rss091.xml",
    "rss10.rdf",
    "rss20.xml",
    "atom03.xml",
    "atom10.xml",
    "latin1.xml",
    "relative.xml",
    "relative_rss.xml",
    "malformed.xml",
    "hostile.xml",
    "nodates.xml",
    "tracking.xml",
]


def feed_url(name: str) -> str:
    return f"https://lab.ac-exemple.fr/feeds/{name}"


def parse_file(name: str, content_type: str | None = None) -> ParsedFeed:
    body = (FEEDS / name).read_bytes()
    return parse_feed(body, url=feed_url(name), content_type=content_type, fetched_at=FETCHED_AT)


def parse_text(text: str, **kwargs: Any) -> ParsedFeed:
    kwargs.setdefault("url", "https://lab.ac-exemple.fr/feed.xml")
    kwargs.setdefault("fetched_at", FETCHED_AT)
    return parse_feed(text.encode(), **kwargs)


def rss(items: str, *, namespaces: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{namespaces}><channel>'
        f"<title>Lab</title><link>https://lab.ac-exemple.fr/</link>{items}</channel></rss>"
    )


def atom(entries: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Lab</title><id>tag:lab,2024:feed</id><updated>2024-06-01T00:00:00Z</updated>"
        f"{entries}</feed>"
    )


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


# -- sample documents against their expected output ----------------------------------


@pytest.mark.parametrize("name", PARSEABLE)
def test_expected_entries(name: str) -> None:
    actual = [as_dict(entry) for entry in parse_file(name).entries]
    expected_path = FEEDS / f"{Path(name).stem}.expected.json"
    if REGEN:
        text = json.dumps(actual, ensure_ascii=False, indent=2) + "\n"
        expected_path.write_text(text, encoding="utf-8")
    assert expected_path.exists(), f"{expected_path.name} is missing: run with CURATOR_REGEN=1"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected


@pytest.mark.parametrize(
    ("name", "count", "title"),
    [
        ("rss090.xml", 2, "Lab'Innov 44 – Actualités"),
        ("rss091.xml", 2, "Le Cartable numérique – Brèves"),
        ("rss10.rdf", 2, "La Fabrique publique"),
        ("rss20.xml", 3, "Lab 110 bis – le blog"),
        ("atom03.xml", 2, "Carnet du Lab Éducation Normandie"),
        ("atom10.xml", 2, "27e Région – Transformations publiques"),
        ("latin1.xml", 2, "Réseau des labs – Académie de Besançon"),
    ],
)
def test_formats(name: str, count: int, title: str) -> None:
    feed = parse_file(name)
    assert feed.title == title
    assert feed.warning is None
    assert len(feed.entries) == count
    for entry in feed.entries:
        assert entry.title and entry.title != UNTITLED
        assert entry.url and entry.url.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    "content_type",
    [None, "application/rss+xml", "text/xml", "application/xml; charset=utf-8", "text/html"],
)
def test_latin1_feed_is_decoded_whatever_the_content_type(content_type: str | None) -> None:
    feed = parse_file("latin1.xml", content_type)
    assert feed.warning is None
    assert feed.entries[0].title == "Élèves ambassadeurs : la médiation par les pairs à Montbéliard"
    assert "Coût : zéro euro, ou presque…" in feed.entries[0].excerpt
    assert feed.entries[1].title == "Forêt, bûcheronnage et mathématiques : un projet en Haute-Saône"


def test_utf8_without_declaration_or_content_type_is_utf8() -> None:
    # feedparser alone would read it as ISO-8859-1 ("Ã©tÃ©") when no Content-Type is given.
    body = "<rss version='2.0'><channel><title>Été</title><item><title>Rentrée</title></item></channel></rss>"
    feed = parse_feed(body.encode(), url="https://x.example/f", fetched_at=FETCHED_AT)
    assert feed.title == "Été"
    assert feed.entries[0].title == "Rentrée"
    assert feed.warning is None


def test_relative_links_are_resolved() -> None:
    feed = parse_file("relative.xml")
    assert feed.link == "https://lab.ac-exemple.fr/blog/"
    first, second = feed.entries
    assert first.url == "https://lab.ac-exemple.fr/blog/2024/podcasts-en-classe.html"
    assert 'href="https://lab.ac-exemple.fr/blog/ressources/kit-podcast.zip"' in first.summary
    assert 'href="https://lab.ac-exemple.fr/gabarits/"' in first.summary
    assert 'src="https://lab.ac-exemple.fr/blog/img/micro.jpg"' in first.summary
    # an entry's own xml:base wins, and a fragment inside the content is kept
    assert second.url == "https://autre-lab.ac-exemple.fr/actus/semaine-oral"
    assert 'href="https://autre-lab.ac-exemple.fr/programme.pdf#page=2"' in second.summary


def test_rss_relative_links_are_resolved_against_the_feed_url() -> None:
    feed = parse_file("relative_rss.xml")
    assert feed.link == "https://lab.ac-exemple.fr/atelier-nantes/"
    (entry,) = feed.entries
    assert entry.url == "https://lab.ac-exemple.fr/atelier-nantes/agenda/escape-game.html"
    assert 'href="https://lab.ac-exemple.fr/feeds/inscriptions?atelier=escape-game"' in entry.summary


def test_tracking_parameters_and_fragments_are_removed() -> None:
    feed = parse_file("tracking.xml")
    assert feed.link == "https://veille.example.org/"
    assert [entry.url for entry in feed.entries] == [
        "https://www.acteurs-publics.example/Articles/design-concours",
        "https://www.education.example/rapports/innovation-pedagogique.html",
        "http://podcasts.example.net/episodes/12?ep=12",
    ]
    # inside the content: tracking removed, the fragment (a place in the page) kept
    assert 'href="https://www.acteurs-publics.example/dossier?id=42&amp;page=2#commentaires"' in (
        feed.entries[0].summary
    )


# -- documents that are not feeds -------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \n\t ", (FEEDS / "empty.xml").read_bytes()])
def test_empty_body(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"^empty body$"):
        parse_feed(body, url="https://x.example/f", fetched_at=FETCHED_AT)


@pytest.mark.parametrize("content_type", [None, "text/html; charset=utf-8", "application/rss+xml"])
def test_html_page(content_type: str | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_file("page.html", content_type)
    assert str(info.value) == "not a feed: the document is an HTML page"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x00\x01\x02 binary \xff\xfe junk", "not a feed: not well-formed (invalid token) at line 1"),
        (
            b"<?xml version='1.0'?>\n\n<config><</config>",
            "not a feed: not well-formed (invalid token) at line 3",
        ),
        (b"\n\n<config><</config>", "not a feed: not well-formed (invalid token) at line 3"),
        (b"Bonjour, ceci n'est pas un flux.", "not a feed: syntax error at line 1"),
        (b'<?xml version="1.0"?><config><a>1</a></config>', "not a feed: no RSS or Atom element found"),
        (
            b'{"id": 42, "title": {"rendered": "Accueil"}}',
            "not a feed: the document is JSON, but not a JSON Feed",
        ),
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(body, url="https://x.example/f", fetched_at=FETCHED_AT)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_valid_feed_without_entries() -> None:
    feed = parse_text(rss(""))
    assert feed.entries == ()
    assert feed.warning is None
    assert feed.title == "Lab"


def test_malformed_feed_with_usable_entries_has_a_warning() -> None:
    feed = parse_file("malformed.xml")
    assert feed.warning == "malformed feed: not well-formed (invalid token) at line 15"
    assert [entry.title for entry in feed.entries] == [
        "Jardins créoles au lycée agricole",
        "Recherche & développement : le lab s'associe à l'université",
    ]


def test_truncated_feed_keeps_the_entries_before_the_cut() -> None:
    text = rss("<item><title>Un</title><link>https://x.example/1</link></item><item><title>Deu")
    text = text[: text.index("Deu") + 3]
    feed = parse_text(text)
    assert feed.warning == "malformed feed: no element found at line 1"
    assert feed.entries[0].title == "Un"


def test_warning_line_numbers_without_an_xml_declaration() -> None:
    # feedparser prepends a declaration line; the line reported is the document's own
    body = (
        b'<rss version="2.0"><channel><title>Lab</title>\n<item><title>Un</title></item>\n<</channel></rss>'
    )
    feed = parse_feed(body, url="https://x.example/f", fetched_at=FETCHED_AT)
    assert feed.warning == "malformed feed: not well-formed (invalid token) at line 3"
    assert [entry.title for entry in feed.entries] == ["Un"]


def test_parse_error_is_a_one_line_curator_error_that_pickles() -> None:
    with pytest.raises(ParseError) as info:
        parse_file("page.html")
    copy = pickle.loads(pickle.dumps(info.value))
    assert isinstance(copy, ParseError)
    assert str(copy) == str(info.value)


# -- hostile content --------------------------------------------------------------------

FORBIDDEN = [
    "<script",
    "</script",
    "alert(",
    "onerror",
    "onclick",
    "onload",
    "onmouseover",
    "javascript:",
    "vbscript:",
    "data:",
    "<iframe",
    "<style",
    "<object",
    "<embed",
    "<form",
    "<input",
    "<svg",
    "<meta",
    "<base",
    "<link",
    "<noscript",
    "style=",
    "target=",
    "evil.example",
    "cadre",  # the text inside <iframe> goes too
    "display: none",  # and the text inside <style>
]


def test_hostile_feed_comes_out_clean() -> None:
    feed = parse_file("hostile.xml")
    assert feed.title == "Flux piégé"
    assert feed.link is None
    assert len(feed.entries) == 2
    for entry in feed.entries:
        for field in (entry.summary, entry.excerpt, entry.title):
            for needle in FORBIDDEN:
                assert needle not in field.lower(), (needle, field)
        assert "<" not in entry.title
    first, second = feed.entries
    assert first.title == "Atelier « sécurité numérique » au collège"
    assert first.url is None  # its link was javascript:
    assert first.key.startswith("sha1:")
    assert '<img src="https://college.ac-exemple.fr/img/atelier.jpg" alt="L\'atelier">' in first.summary
    assert "piège" not in first.summary  # images whose src was dropped are dropped entirely
    assert second.title == "Sortie au musée & atelier"


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)//",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
        '<a href="  javascript:alert(1)">x</a>',
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        "<iframe src=https://evil.example/></iframe>",
        "<object data=https://evil.example/x.swf></object>",
        "<embed src=https://evil.example/x.swf>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<style>@import 'https://evil.example/x.css';</style>",
        "<form action=https://evil.example/><input name=p></form>",
        "<!--<img src=x onerror=alert(1)>-->",
        "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
        "<body onload=alert(1)>",
        '<p onmouseover="alert(1)">x</p>',
        "<a href=javascript&colon;alert(1)>x</a>",
        "<img src=`javascript:alert(1)`>",
        "<template><img src=x onerror=alert(1)></template>",
    ],
)
def test_sanitize_html_removes_attacks(html: str) -> None:
    cleaned = sanitize_html(html, "https://lab.ac-exemple.fr/blog/")
    for needle in FORBIDDEN:
        assert needle not in cleaned.lower(), (needle, cleaned)


def test_sanitize_html_keeps_the_useful_parts() -> None:
    html = (
        "<h1>Titre</h1><p class='x' id='y'>Un <strong>texte</strong> <em>riche</em><br>"
        '<a href="autre.html?utm_source=rss&amp;id=2#suite" target="_blank" title="Lire">lien</a> '
        '<a href="mailto:contact@lab.ac-exemple.fr">écrire</a> <a href="tel:+33100000000">appeler</a></p>'
        '<img src="/img/a.png" alt="A" width="640" height="100%" loading="lazy">'
        '<table><tr><td colspan="2" onclick="x()">cellule</td></tr></table>'
        "<pre><code>x = 1</code></pre><blockquote><p>citation</p></blockquote>"
        "<ul><li>un</li></ul><!-- commentaire -->"
    )
    cleaned = sanitize_html(html, "https://lab.ac-exemple.fr/blog/billet.html")
    assert cleaned == (
        "<h2>Titre</h2><p>Un <strong>texte</strong> <em>riche</em><br>"
        '<a href="https://lab.ac-exemple.fr/blog/autre.html?id=2#suite" title="Lire" '
        'rel="noopener noreferrer nofollow">lien</a> '
        '<a href="mailto:contact@lab.ac-exemple.fr" rel="noopener noreferrer nofollow">écrire</a> '
        '<a rel="noopener noreferrer nofollow">appeler</a></p>'
        '<img src="https://lab.ac-exemple.fr/img/a.png" alt="A" width="640">'
        '<table><tbody><tr><td colspan="2">cellule</td></tr></tbody></table>'
        "<pre><code>x = 1</code></pre><blockquote><p>citation</p></blockquote>"
        "<ul><li>un</li></ul>"
    )


def test_sanitize_html_without_base_drops_relative_urls() -> None:
    cleaned = sanitize_html('<a href="/x">x</a><img src="y.png" alt="y"><img src="https://ok.example/z.png">')
    assert cleaned == '<a rel="noopener noreferrer nofollow">x</a><img src="https://ok.example/z.png">'


def test_sanitize_html_of_nothing() -> None:
    assert sanitize_html("") == ""
    assert sanitize_html("juste du texte & un <") == "juste du texte &amp; un &lt;"


# -- titles, summaries, text ------------------------------------------------------------


def test_rss_title_is_read_as_html() -> None:
    feed = parse_text(
        rss(
            "<item><title>R&amp;amp;D &amp;lt;b&amp;gt;au&amp;lt;/b&amp;gt;   lycée\n</title></item>"
            "<item><title>&lt;em&gt;Classe&lt;/em&gt; dehors &#8211; bilan</title></item>"
        )
    )
    # double-escaped markup is text, as every reader shows it
    assert [entry.title for entry in feed.entries] == ["R&D <b>au</b> lycée", "Classe dehors – bilan"]


def test_atom_text_title_is_kept_literally_and_html_title_is_converted() -> None:
    feed = parse_text(
        atom(
            '<entry><id>1</id><title type="text">Les balises &lt;p&gt; et &lt;div&gt;</title></entry>'
            '<entry><id>2</id><title type="html">Les &lt;b&gt;labs&lt;/b&gt; &amp;amp; l\'école</title></entry>'
        )
    )
    assert [entry.title for entry in feed.entries] == ["Les balises <p> et <div>", "Les labs & l'école"]


def test_untitled_entries() -> None:
    feed = parse_text(
        rss(
            "<item><guid>a</guid><description>Une annonce sans titre, assez longue pour que le titre"
            " soit coupé proprement à un mot près, comme on le souhaite.</description></item>"
            "<item><guid>b</guid><title>  </title></item>"
        )
    )
    first, second = feed.entries
    assert first.title == "Une annonce sans titre, assez longue pour que le titre soit coupé proprement à…"
    assert second.title == UNTITLED


def test_longest_content_is_the_summary() -> None:
    feed = parse_text(
        rss(
            "<item><guid>a</guid><description>Court.</description>"
            "<content:encoded><![CDATA[<p>Le texte <b>complet</b> du billet.</p>]]></content:encoded></item>",
            namespaces=' xmlns:content="http://purl.org/rss/1.0/modules/content/"',
        )
    )
    assert feed.entries[0].summary == "<p>Le texte <b>complet</b> du billet.</p>"
    assert feed.entries[0].excerpt == "Le texte complet du billet."


def test_plain_text_atom_summary_is_escaped() -> None:
    feed = parse_text(
        atom(
            '<entry><id>1</id><title>t</title><summary type="text">Deux &lt;b&gt; balises\n\n'
            "et un paragraphe.\nUne ligne.</summary></entry>"
        )
    )
    assert feed.entries[0].summary == "<p>Deux &lt;b&gt; balises</p><p>et un paragraphe.<br>Une ligne.</p>"
    assert feed.entries[0].excerpt == "Deux <b> balises et un paragraphe. Une ligne."


def test_authors_and_categories() -> None:
    feed = parse_text(
        rss(
            "<item><guid>a</guid><dc:creator>Marie &amp; Paul</dc:creator><dc:creator>Zoé</dc:creator>"
            "<category> Design </category><category>design</category><category>Écoles</category>"
            "<category></category></item>"
            "<item><guid>b</guid><author>jean@lab.ac-exemple.fr</author></item>"
            "<item><guid>c</guid><author>jean@lab.ac-exemple.fr (Jean Dupont)</author></item>",
            namespaces=' xmlns:dc="http://purl.org/dc/elements/1.1/"',
        )
    )
    first, second, third = feed.entries
    assert first.author == "Marie & Paul, Zoé"
    assert first.categories == ("Design", "Écoles")
    assert second.author == ""  # a bare e-mail address is not shown
    assert third.author == "Jean Dupont"


def test_html_to_text() -> None:
    html = (
        "<h2>Au programme</h2><p>Atelier&nbsp;: <em>design</em> &amp; <b>école</b>…</p>"
        "<ul><li>un</li><li>deux</li></ul><script>alert(1)</script><style>p{}</style>"
        "<p>Fin   de\n  ligne<br>suite</p>"
    )
    assert html_to_text(html) == "Au programme\nAtelier\u00a0: design & école…\nun\ndeux\nFin de ligne\nsuite"
    assert html_to_text("") == ""
    assert html_to_text("  déjà   du texte ") == "déjà du texte"
    assert html_to_text("&lt;script&gt; est du texte") == "<script> est du texte"


def test_the_excerpt_leaves_out_link_only_paragraphs() -> None:
    """A trailing « Télécharger le kit » in plain text would promise a link that is not there;
    the summary (HTML, links kept) and the searchable text keep it."""
    item = (
        "<item><title>Atelier</title><link>https://lab.ac-exemple.fr/a</link><description><![CDATA["
        "<p>Trois heures : <em>personas</em>, parcours et prototypes.</p>"
        '<p><a href="https://lab.ac-exemple.fr/kit.pdf">Télécharger le kit</a></p>'
        '<p><strong><a href="https://lab.ac-exemple.fr/a">Lire la suite</a></strong></p>'
        "]]></description></item>"
        "<item><title>Seulement un lien</title><link>https://lab.ac-exemple.fr/b</link><description><![CDATA["
        '<p><a href="https://lab.ac-exemple.fr/b">Voir la vidéo</a></p>]]></description></item>'
        "<item><title>Sommaire</title><link>https://lab.ac-exemple.fr/c</link><description><![CDATA["
        '<h2><a href="https://lab.ac-exemple.fr/c">Un tiers-lieu à Rouen</a></h2><p>Au sommaire :</p>'
        '<ul><li><a href="https://lab.ac-exemple.fr/1">Rapport sur l’école inclusive</a></li></ul>'
        '<p><a href="https://lab.ac-exemple.fr/c">Lire la suite</a></p><p>Signé : la rédaction.</p>'
        "]]></description></item>"
    )
    first, only_link, contents = parse_text(rss(item)).entries
    assert first.excerpt == "Trois heures : personas, parcours et prototypes."
    assert "kit.pdf" in first.summary and "Télécharger le kit" in first.text
    assert only_link.excerpt == "Voir la vidéo"  # nothing else to say: the link's words stay
    # Only trailing links go: headings, lists of links and links followed by text are content.
    assert contents.excerpt == (
        "Un tiers-lieu à Rouen Au sommaire : Rapport sur l’école inclusive Lire la suite Signé : la rédaction."
    )


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Court.", 300, "Court."),
        ("  des   espaces\n\n partout ", 300, "des espaces partout"),
        ("un deux trois quatre", 12, "un deux…"),
        ("un deux trois quatre", 13, "un deux…"),
        ("un deux trois quatre", 14, "un deux trois…"),
        ("un deux, trois quatre", 14, "un deux…"),
        ("anticonstitutionnellement", 10, "anticonst…"),
        ("exactement vingt car", 20, "exactement vingt car"),
    ],
)
def test_make_excerpt(text: str, limit: int, expected: str) -> None:
    assert make_excerpt(text, limit) == expected


@given(
    text=st.text(alphabet=st.sampled_from("abcdé ,.;:\n\u00a0«—"), max_size=400), limit=st.integers(2, 320)
)
def test_make_excerpt_properties(text: str, limit: int) -> None:
    collapsed = re.sub(r"[^\S\u00a0\u202f]+", " ", text).strip()  # no-break spaces are kept
    excerpt = make_excerpt(text, limit)
    assert len(excerpt) <= limit
    if len(collapsed) <= limit:
        assert excerpt == collapsed
        return
    assert excerpt.endswith("…")
    kept = excerpt[:-1]
    assert collapsed.startswith(kept)
    if " " in collapsed[: limit - 1] or collapsed[limit - 1] == " ":
        # cut at a word: what follows is a space or punctuation stripped before "…"
        assert collapsed[len(kept)] in " \u00a0,;:.-–—(«"


def test_long_summary_excerpt_is_cut_at_a_word() -> None:
    words = " ".join(f"mot{i}" for i in range(200))
    feed = parse_text(rss(f"<item><guid>a</guid><description>{words}</description></item>"))
    excerpt = feed.entries[0].excerpt
    assert len(excerpt) <= 300
    assert excerpt.endswith("…")
    assert words.startswith(excerpt[:-1] + " ")


# -- identity ---------------------------------------------------------------------------


def test_identity_rules() -> None:
    feed = parse_text(
        rss(
            "<item><guid isPermaLink='false'>  lab-2024-001  </guid><link>https://x.example/1</link>"
            "<title>Avec guid</title></item>"
            "<item><link>https://X.example:443/2?utm_source=rss#top</link><title>Avec lien</title></item>"
            "<item><link>javascript:alert(1)</link><title>Lien piégé</title>"
            "<pubDate>Mon, 03 Jun 2024 10:00:00 +0200</pubDate></item>"
            "<item><title>Ni guid ni lien</title></item>"
        )
    )
    keys = [entry.key for entry in feed.entries]
    assert keys[0] == "lab-2024-001"
    assert keys[1] == "https://x.example/2"
    expected = "Lien piégé\n2024-06-03T08:00:00+00:00"
    assert keys[2] == "sha1:" + hashlib.sha1(expected.encode()).hexdigest()
    assert keys[3] == "sha1:" + hashlib.sha1(b"Ni guid ni lien\n").hexdigest()
    # the key is stable from one fetch to the next
    assert [
        entry.key for entry in parse_text(rss("<item><title>Ni guid ni lien</title></item>")).entries
    ] == [keys[3]]


def test_repeated_ids_keep_the_first_entry() -> None:
    feed = parse_text(
        rss(
            "<item><guid>a</guid><title>Nouveau</title></item><item><guid>a</guid><title>Ancien</title></item>"
        )
    )
    assert [entry.title for entry in feed.entries] == ["Nouveau"]


# -- dates ------------------------------------------------------------------------------


def test_dates_are_aware_utc() -> None:
    for name in PARSEABLE:
        for entry in parse_file(name).entries:
            for date in (entry.published, entry.updated):
                if date is not None:
                    assert date.tzinfo is UTC, (name, entry.key)


def test_date_fallbacks_and_sanity() -> None:
    feed = parse_text(
        atom(
            "<entry><id>tag:a</id><title>published</title><published>2024-06-01T10:00:00+02:00</published>"
            "<updated>2024-06-02T10:00:00Z</updated></entry>"
            "<entry><id>tag:b</id><title>updated-only</title><updated>2024-06-02T10:00:00Z</updated></entry>"
            "<entry><id>tag:c</id><title>future</title><published>2031-01-01T00:00:00Z</published>"
            "<updated>2024-05-20T00:00:00Z</updated></entry>"
            "<entry><id>tag:d</id><title>tomorrow</title><published>2024-06-16T12:00:00Z</published></entry>"
            "<entry><id>tag:e</id><title>epoch</title><published>1970-01-01T00:00:00Z</published></entry>"
            "<entry><id>tag:f</id><title>none</title></entry>"
        )
    )
    dates = {entry.title: (entry.published, entry.updated) for entry in feed.entries}
    assert dates["published"] == (datetime(2024, 6, 1, 8, tzinfo=UTC), datetime(2024, 6, 2, 10, tzinfo=UTC))
    assert dates["updated-only"] == (datetime(2024, 6, 2, 10, tzinfo=UTC),) * 2
    assert dates["future"] == (datetime(2024, 5, 20, tzinfo=UTC),) * 2  # the absurd date is ignored
    assert dates["tomorrow"] == (datetime(2024, 6, 16, 12, tzinfo=UTC), None)  # within the slack
    assert dates["epoch"] == (None, None)
    assert dates["none"] == (None, None)


def test_rss10_dc_date_is_the_published_date() -> None:
    entry = parse_file("rss10.rdf").entries[0]
    assert entry.published == datetime(2024, 3, 18, 8, 30, tzinfo=UTC)


def test_no_dates_are_invented() -> None:
    for entry in parse_file("nodates.xml").entries:
        assert entry.published is None
        assert entry.updated is None


def test_naive_fetched_at_is_taken_as_utc() -> None:
    feed = parse_text(
        atom("<entry><id>1</id><title>t</title><published>2024-06-16T12:00:00Z</published></entry>"),
        fetched_at=FETCHED_AT.replace(tzinfo=None) - timedelta(days=3),
    )
    assert feed.entries[0].published is None


# -- running in worker processes --------------------------------------------------------


def test_parse_feed_runs_in_a_spawned_process_pool() -> None:
    feed = parse_file("rss20.xml")
    assert pickle.loads(pickle.dumps(feed)) == feed
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        from_worker = pool.submit(
            parse_feed,
            (FEEDS / "rss20.xml").read_bytes(),
            url=feed_url("rss20.xml"),
            content_type="application/rss+xml",
            fetched_at=FETCHED_AT,
        ).result(timeout=60)
        with pytest.raises(ParseError, match="HTML page"):
            pool.submit(
                parse_feed,
                (FEEDS / "page.html").read_bytes(),
                url=feed_url("page.html"),
                fetched_at=FETCHED_AT,
            ).result(timeout=60)
    assert from_worker == feed


def test_summaries_have_no_control_characters() -> None:
    for name in PARSEABLE:
        for entry in parse_file(name).entries:
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", entry.summary + entry.excerpt + entry.title)


# -- properties -------------------------------------------------------------------------


class _Attributes(HTMLParser):
    """Collects the tags and attributes of an HTML fragment, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


_SOUP_PIECES = [
    *"<>/=\"' &#;:x",
    *["script", "style", "iframe", "img", "a", "p", "svg", "href", "src", "onerror", "javascript:", "data:"],
    *["alert(1)", "http://e.example/", "//e.example", "&#106;", "<!--", "-->", "\t", "\n"],
]
_html_soup = st.lists(st.sampled_from(_SOUP_PIECES), max_size=60).map(lambda parts: "".join(parts))


@given(html=st.one_of(_html_soup, st.text(max_size=200)))
def test_sanitize_html_output_is_always_safe(html: str) -> None:
    cleaned = sanitize_html(html, "https://lab.ac-exemple.fr/")
    parser = _Attributes()
    parser.feed(cleaned)
    parser.close()
    assert set(parser.tags) <= ALLOWED_TAGS
    for _tag, name, value in parser.attributes:
        assert not name.startswith("on")
        if name in ("href", "src"):
            assert value.startswith(("http://", "https://")) or (
                name == "href" and value.startswith("mailto:")
            )
    assert sanitize_html(cleaned, "https://lab.ac-exemple.fr/") == cleaned  # stable


_xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff"), max_size=80
)


@given(title=_xml_text, link=_xml_text, guid=_xml_text, description=_xml_text, date=_xml_text)
def test_any_rss_entry_gives_a_valid_entry(
    title: str, link: str, guid: str, description: str, date: str
) -> None:
    item = "".join(
        f"<{name}>{xml_escape(value)}</{name}>"
        for name, value in [("title", title), ("link", link), ("guid", guid), ("description", description)]
    )
    try:
        feed = parse_text(rss(f"<item>{item}<pubDate>{xml_escape(date)}</pubDate></item>"))
    except ParseError:
        return
    for entry in feed.entries:
        assert entry.key and entry.key == entry.key.strip()
        assert entry.title and "\n" not in entry.title
        assert len(entry.excerpt) <= 300
        assert entry.url is None or entry.url.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is UTC
