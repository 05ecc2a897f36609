"""URL normalisation: examples, and properties checked with hypothesis."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from curator.urls import TRACKING_PARAMS, TRACKING_PREFIXES, is_http_url, normalise_url, strip_tracking

BASE = "https://lab.ac-exemple.fr/blog/2024/billet.html"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://lab.ac-exemple.fr/projets/", "https://lab.ac-exemple.fr/projets/"),
        ("  https://lab.ac-exemple.fr/projets/\n", "https://lab.ac-exemple.fr/projets/"),
        ("HTTPS://Lab.AC-Exemple.FR", "https://lab.ac-exemple.fr/"),
        ("https://lab.ac-exemple.fr/Projets/Cour-École", "https://lab.ac-exemple.fr/Projets/Cour-%C3%89cole"),
        (
            "https://lab.ac-exemple.fr/a%2Fb?q=%C3%A9t%C3%A9",
            "https://lab.ac-exemple.fr/a%2Fb?q=%C3%A9t%C3%A9",
        ),
        ("http://lab.ac-exemple.fr:80/x", "http://lab.ac-exemple.fr/x"),
        ("https://lab.ac-exemple.fr:443/x", "https://lab.ac-exemple.fr/x"),
        ("https://lab.ac-exemple.fr:8443/x", "https://lab.ac-exemple.fr:8443/x"),
        ("http://lab.ac-exemple.fr:443/x", "http://lab.ac-exemple.fr:443/x"),
        ("https://lab.ac-exemple.fr/x#commentaires", "https://lab.ac-exemple.fr/x"),
        ("https://lab.ac-exemple.fr/x?", "https://lab.ac-exemple.fr/x"),
        ("https://agent:secret@lab.ac-exemple.fr/x", "https://lab.ac-exemple.fr/x"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        (
            "https://x.example/p?utm_source=rss&id=3&UTM_Medium=feed&fbclid=abc&page=2&gclid=1",
            "https://x.example/p?id=3&page=2",
        ),
        (
            "https://x.example/p?b=2&a=1&mc_cid=1&mc_eid=2&_hsenc=x&_hsmi=y&mkt_tok=z",
            "https://x.example/p?b=2&a=1",
        ),
        ("https://x.example/p?xtor=RSS-1&at_medium=email&at_campaign=x&q=a+b", "https://x.example/p?q=a+b"),
        ("https://x.example/p?q=caf%C3%A9&empty=&flag", "https://x.example/p?q=caf%C3%A9&empty=&flag"),
        ("https://x.example/p?a=1&&b=2", "https://x.example/p?a=1&b=2"),
        ("https://x.example/p?pk_campaign=x&mtm_source=y&msclkid=z&yclid=1&igshid=2", "https://x.example/p"),
    ],
)
def test_normalise_examples(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("autre-billet.html", "https://lab.ac-exemple.fr/blog/2024/autre-billet.html"),
        ("../projets/", "https://lab.ac-exemple.fr/blog/projets/"),
        ("/contact", "https://lab.ac-exemple.fr/contact"),
        ("//cdn.example.org/img.png", "https://cdn.example.org/img.png"),
        ("?page=2&utm_source=x", "https://lab.ac-exemple.fr/blog/2024/billet.html?page=2"),
        ("#ancre", "https://lab.ac-exemple.fr/blog/2024/billet.html"),
        ("http://ailleurs.example/", "http://ailleurs.example/"),
    ],
)
def test_normalise_resolves_relative_urls(url: str, expected: str) -> None:
    assert normalise_url(url, base=BASE) == expected


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "mailto:contact@lab.ac-exemple.fr",
        "ftp://ftp.example.org/pub/",
        "file:///etc/passwd",
        "about:blank",
        "/relative/without/base",
        "//cdn.example.org/no-scheme",
        "http://",
        "http:///path-only",
        "http://exa mple.org/",
        "http://host:99999/",
        "http://host:port/",
        "http://[::1/",
        "https://<script>/",
    ],
)
def test_normalise_rejects(url: str | None) -> None:
    assert normalise_url(url) is None


def test_normalise_keeps_the_fragment_on_request() -> None:
    url = "https://x.example/doc.pdf?utm_source=a#page=2"
    assert normalise_url(url, keep_fragment=True) == "https://x.example/doc.pdf#page=2"


def test_relative_javascript_does_not_become_http() -> None:
    assert normalise_url("javascript:alert(1)", base=BASE) is None
    assert normalise_url("data:image/png;base64,AAAA", base=BASE) is None


def test_is_http_url() -> None:
    assert is_http_url("https://lab.ac-exemple.fr/")
    assert is_http_url("http://lab.ac-exemple.fr")
    assert not is_http_url("javascript:alert(1)")
    assert not is_http_url("/relative")
    assert not is_http_url("")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/p?utm_source=a&id=3&fbclid=z#top", "https://x.example/p?id=3#top"),
        ("https://x.example/p?utm_source=a#top", "https://x.example/p#top"),
        ("https://x.example/p?id=3", "https://x.example/p?id=3"),
        ("HTTPS://X.example/P?Id=3#Top", "HTTPS://X.example/P?Id=3#Top"),  # nothing else is touched
        ("/relatif?utm_campaign=x&q=1", "/relatif?q=1"),
        ("https://x.example/#/route?utm_source=a", "https://x.example/#/route?utm_source=a"),
        ("", ""),
    ],
)
def test_strip_tracking(url: str, expected: str) -> None:
    assert strip_tracking(url) == expected


# -- properties ----------------------------------------------------------------

_host_label = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-éüßÉ"),
    min_size=1,
    max_size=12,
)
_param_name = st.one_of(
    st.sampled_from(sorted(TRACKING_PARAMS)),
    st.sampled_from([p + "source" for p in TRACKING_PREFIXES] + ["UTM_Medium", "Utm_Campaign"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_%20", min_size=1, max_size=8),
)
_query_pair = st.tuples(_param_name, st.text(max_size=8)).map(lambda kv: f"{kv[0]}={kv[1]}")


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "javascript", "data", "mailto"]))
    host = ".".join(draw(st.lists(_host_label, min_size=1, max_size=3)))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":"]))
    path = draw(st.text(max_size=20))
    query = "&".join(draw(st.lists(_query_pair, max_size=4)))
    fragment = draw(st.text(max_size=8))
    url = f"{scheme}://{host}{port}/{path}"
    if query or draw(st.booleans()):
        url += "?" + query
    if fragment:
        url += "#" + fragment
    return url


_any_url = st.one_of(_urls(), st.text(max_size=60))
_bases = st.one_of(st.none(), st.just(BASE), st.just("http://EXAMPLE.org:80"), _urls(), st.text(max_size=30))


@given(url=_any_url, base=_bases)
@example(url="http://xn--/", base=None)
@example(url="http://a.b/%", base=None)
@example(url="http://[::ffff:1.2.3.4]/", base=None)
def test_normalise_is_idempotent(url: str, base: str | None) -> None:
    once = normalise_url(url, base=base)
    assert normalise_url(once) == once
    if once is not None:
        assert normalise_url(once, base=base) == once


@given(url=_any_url, base=_bases)
def test_normalise_gives_only_absolute_http_urls(url: str, base: str | None) -> None:
    result = normalise_url(url, base=base)
    if result is None:
        return
    parts = urlsplit(result)
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert parts.path.startswith("/")
    assert not parts.fragment and "#" not in result
    assert result == result.strip()
    names = [name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not any(name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES) for name in names)


@given(url=st.text(), base=st.one_of(st.none(), st.text()))
def test_normalise_never_raises(url: str, base: str | None) -> None:
    result = normalise_url(url, base=base)
    assert result is None or result.startswith(("http://", "https://"))
    assert is_http_url(url) is (normalise_url(url) is not None)


@given(url=_any_url)
def test_strip_tracking_is_idempotent_and_never_raises(url: str) -> None:
    once = strip_tracking(url)
    assert strip_tracking(once) == once
    assert len(once) <= len(url)
