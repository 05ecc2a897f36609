"""Translations (gettext catalogs through Babel) and French dates for everything people read."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.dates import format_time as _format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from .models import Month

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DEFAULT_LOCALE = "fr"


@lru_cache(maxsize=8)
def get_translations(locale: str = DEFAULT_LOCALE) -> NullTranslations:
    """The catalog for ``locale``, compiled from its ``.po`` file (so it is never stale).

    Messages are written in English in the code and templates; the French
    catalog is the default. An unknown locale falls back to the English text.
    """
    po = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    source = po.read_bytes()
    # Compiling a catalog takes tens of milliseconds: keep the result, keyed by the
    # .po's content, in a per-user cache folder (any failure there just recompiles).
    cache = Path(tempfile.gettempdir()) / f"curator-i18n-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    cached = cache / f"{locale}-{hashlib.sha256(source).hexdigest()[:16]}.mo"
    try:
        return Translations(io.BytesIO(cached.read_bytes()))
    except (OSError, ValueError):
        pass
    catalog = read_po(io.BytesIO(source), locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    try:
        cache.mkdir(mode=0o700, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, cached)
    except OSError:
        pass
    buf.seek(0)
    return Translations(buf)


def gettext(message: str, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
    """``message`` translated into ``locale``, with ``values`` filled in (``%(name)s``)."""
    text = get_translations(locale).gettext(message)
    return text % values if values else text


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


def format_month(month: Month, locale: str = DEFAULT_LOCALE) -> str:
    """« janvier 2022 »."""
    return _format_date(date(month.year, month.month, 1), "LLLL y", locale=Locale.parse(locale))


def format_day(value: date | datetime, locale: str = DEFAULT_LOCALE, tz: str = "Europe/Paris") -> str:
    """« 5 janvier 2022 »."""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return _format_date(value, "long", locale=Locale.parse(locale))


def format_clock(value: datetime, locale: str = DEFAULT_LOCALE, tz: str = "Europe/Paris") -> str:
    """« 14 h », « 9 h 30 » in French (the Imprimerie nationale's rule, no-break spaces);
    the locale's short time elsewhere."""
    local = value.astimezone(ZoneInfo(tz))
    parsed = Locale.parse(locale)
    if parsed.language == "fr":
        return f"{local.hour}\u00a0h" + (f"\u00a0{local.minute:02d}" if local.minute else "")
    return _format_time(local, "short", locale=parsed)


def format_datetime(value: datetime, locale: str = DEFAULT_LOCALE, tz: str = "Europe/Paris") -> str:
    """« mercredi 5 janvier 2022 à 14 h »."""
    parsed = Locale.parse(locale)
    if parsed.language == "fr":
        day = _format_datetime(value, "EEEE d MMMM y", tzinfo=ZoneInfo(tz), locale=parsed)
        return f"{day} à {format_clock(value, locale, tz)}"
    local_day = value.astimezone(ZoneInfo(tz)).date()
    return f"{_format_date(local_day, 'full', locale=parsed)}, {format_clock(value, locale, tz)}"


def ngettext(singular: str, plural: str, n: int, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
    """``singular`` or ``plural`` as the language's rule says for ``n`` (French: 0 and 1 are
    singular), translated, with ``num`` and ``values`` filled in."""
    text = get_translations(locale).ngettext(singular, plural, n)
    return text % {"num": n, **values}


# Elision: « de » + « Élodie » → « d’Élodie », « le » + « atelier » → « l’atelier ». A word elides
# before a vowel or a mute h; a few names start with an aspirated h (« de Hugo »): they are
# listed here as they come up.
_ELIDING = {"de": "d’", "le": "l’", "la": "l’", "que": "qu’", "ne": "n’", "je": "j’", "se": "s’"}
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœh")
_ASPIRATED_H = ("hugo", "hélène", "henri", "hervé", "hubert", "hauts-de-france", "haute", "hameau")


def elide(word: str, following: str, locale: str = DEFAULT_LOCALE) -> str:
    """``word`` then ``following``, with French elision and a typographic apostrophe:
    ``elide("de", "Élodie")`` is « d’Élodie », ``elide("de", "Paul")`` « de Paul »."""
    following = following.strip()
    if Locale.parse(locale).language != "fr" or word.lower() not in _ELIDING or not following:
        return f"{word} {following}".strip()
    first = following.lower()
    if first[0] in _VOWELS and not (first[0] == "h" and first.startswith(_ASPIRATED_H)):
        short = _ELIDING[word.lower()]
        return (short[0].upper() + short[1:] if word[0].isupper() else short) + following
    return f"{word} {following}"


def format_ago(value: datetime, now: datetime, locale: str = DEFAULT_LOCALE, tz: str = "Europe/Paris") -> str:
    """How long ago, in days, as people say it: « aujourd’hui », « hier », « il y a 3 jours »
    (calendar days in the newsletter's time zone, not 24-hour periods)."""
    zone = ZoneInfo(tz)
    days = (now.astimezone(zone).date() - value.astimezone(zone).date()).days
    if days <= 0:
        return gettext("today", locale)
    if days == 1:
        return gettext("yesterday", locale)
    return ngettext("%(num)d day ago", "%(num)d days ago", days, locale)


def format_number(value: float, locale: str = DEFAULT_LOCALE, *, sign: bool = False, digits: int = 1) -> str:
    """A number as the language writes it: « 2,5 », « 12 000 », and with ``sign`` « +2,0 »."""
    from babel.numbers import format_decimal

    pattern = ("+#,##0." if sign else "#,##0.") + "0" * digits if digits else ("+#,##0" if sign else "#,##0")
    if sign:
        pattern += ";-" + pattern[1:]
    return format_decimal(value, format=pattern, locale=locale)
