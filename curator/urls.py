"""URL hygiene: resolve, validate and normalise http(s) links, and strip tracking parameters."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "is_email",
    "is_http_url",
    "normalise_url",
    "strip_tracking",
]

#: Query parameters that only serve to track a click, compared case-insensitively.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # ad and social click ids
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        # Google Analytics cross-domain linker
        "_ga",
        "_gl",
        # Mailchimp
        "mc_cid",
        "mc_eid",
        # HubSpot
        "_hsenc",
        "_hsmi",
        "__hssc",
        "__hstc",
        "__hsfp",
        "hsctatracking",
        # Marketo, Vero, Olytics
        "mkt_tok",
        "vero_id",
        "vero_conv",
        "oly_anon_id",
        "oly_enc_id",
        # AT Internet / Piano Analytics (common on French public sites)
        "xtor",
        "xts",
        "xtdt",
        "at_campaign",
        "at_medium",
        "at_platform",
        "at_creation",
        "at_variant",
        "at_format",
        "at_type",
        "at_send_date",
        "at_link",
        "at_link_id",
        "at_link_type",
        "at_link_origin",
        "at_recipient_id",
        "at_recipient_list",
        "at_emailtype",
        "at_ptr_name",
        # Matomo / Piwik
        "pk_campaign",
        "pk_kwd",
        "pk_keyword",
        "pk_source",
        "pk_medium",
        "pk_content",
        "pk_cid",
        "piwik_campaign",
        "piwik_kwd",
        "matomo_campaign",
        "matomo_keyword",
        # newsletters and misc.
        "ncid",
        "sr_share",
        "wickedid",
        "s_cid",
        "cmpid",
    }
)

#: Prefixes of tracking parameters (Google/UTM and Matomo campaign families).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "mtm_")

_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A registered name after IDNA encoding (RFC 3986 unreserved characters only).
_HOST_RE = re.compile(r"^[a-z0-9._~-]+$")
# Characters left alone when re-encoding a path or query: everything legal in a
# URL, including "%" so that existing escapes are kept exactly as they are.
_SAFE_CHARS = "!#$%&'()*+,-./:;=?@[]_~"
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# A relative reference cannot have a colon in its first segment (RFC 3986,
# 4.2): "`javascript:alert(1)`" is garbage, not a path to resolve.
_COLON_FIRST_SEGMENT_RE = re.compile(r"^[^/?#]*:")


# Lenient on the part before the @ (mail servers accept much), strict on the domain.
_EMAIL_RE = re.compile(r"^[^\s@]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")


def is_email(address: str) -> bool:
    """Whether ``address`` looks like an email address people can write to (nom@exemple.fr)."""
    return len(address) <= 254 and _EMAIL_RE.match(address) is not None


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host."""
    return normalise_url(url) is not None


def normalise_url(url: str | None, base: str | None = None, *, keep_fragment: bool = False) -> str | None:
    """Return the canonical form of an http(s) URL, or None if it is not one.

    Relative URLs are resolved against ``base``. The scheme and host are
    lower-cased (international hosts IDNA-encoded), default ports, user info,
    tracking parameters and the fragment (unless ``keep_fragment``, for links
    inside a page) are dropped, and an empty path becomes "/". The path keeps
    its case, and the remaining query parameters keep their order and
    encoding. Garbage gives None, never an exception.
    """
    if not isinstance(url, str):
        return None
    try:
        return _normalise(url, base, keep_fragment)
    except (ValueError, TypeError):
        # urllib raises ValueError (and UnicodeError, its subclass) on bad
        # ports, IPv6 literals or hosts that cannot be IDNA-encoded.
        return None


def strip_tracking(url: str) -> str:
    """Remove tracking query parameters from ``url``, leaving the rest untouched."""
    head, hash_, fragment = url.partition("#")
    path, question, query = head.partition("?")
    if not question:
        return url
    kept = _filter_query(query)
    if kept == query:
        return url
    return path + ("?" + kept if kept else "") + hash_ + fragment


def _normalise(url: str, base: str | None, keep_fragment: bool) -> str | None:
    url = url.strip()
    if not url:
        return None
    if _COLON_FIRST_SEGMENT_RE.match(url) and not _SCHEME_RE.match(url):
        return None
    if base:
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        return None
    host = _normalise_host(parts.hostname)
    if host is None:
        return None
    port = parts.port  # raises ValueError when out of range or not a number
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = quote(parts.path, safe=_SAFE_CHARS) or "/"
    query = _filter_query(quote(parts.query, safe=_SAFE_CHARS))
    fragment = quote(parts.fragment, safe=_SAFE_CHARS) if keep_fragment else ""
    return urlunsplit((scheme, netloc, path, query, fragment))


def _normalise_host(host: str | None) -> str | None:
    if not host:
        return None
    if ":" in host:  # an IPv6 literal (urlsplit drops the brackets)
        return f"[{ipaddress.IPv6Address(host)}]"
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    host = host.lower()
    return host if _HOST_RE.match(host) else None


def _filter_query(query: str) -> str:
    """Drop empty and tracking parameters from a raw query string."""
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    return "&".join(kept)


def _is_tracking(pair: str) -> bool:
    name = unquote_plus(pair.partition("=")[0]).strip().lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
