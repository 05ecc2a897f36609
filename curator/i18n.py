"""Translations (gettext catalogs through Babel) and French dates for everything people read."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Mapping
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
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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
    """``message`` translated into ``locale``, with ``values`` filled in (``%(name)s``) as
    :func:`fill` does."""
    text = get_translations(locale).gettext(message)
    return fill(text, values, locale) if values else text


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
    return fill(text, {"num": n, **values}, locale)


def fill(text: str, values: Mapping[str, Any], locale: str = DEFAULT_LOCALE) -> str:
    """A translated message with its placeholders filled in as the language writes them: « de »
    elided before a value that starts with a vowel (« Retour d’expérience de %(author)s » is
    « … d’Élodie Arnaud » and « … de Paul Martin »), a whole number given to ``%(name)d``
    grouped (« 12 000 »)."""
    text, filled = _prepare(text, values, locale)
    return text % filled


def _prepare(text: str, values: Mapping[str, Any], locale: str) -> tuple[str, dict[str, Any]]:
    """``text`` elided before its values, its ``%(name)d`` made ``%(name)s`` for the grouped
    numbers; and the values to fill it with."""
    text = elide_placeholders(text, values, locale)
    grouped: dict[str, Any] = {}

    def number(m: re.Match[str]) -> str:
        value = values.get(m.group(1))
        if not isinstance(value, int) or isinstance(value, bool):
            return m.group(0)
        grouped[m.group(1)] = format_number(value, locale, digits=0)
        return f"%({m.group(1)})s"

    text = _NUMBER_PLACEHOLDER_RE.sub(number, text)
    return text, {**values, **grouped}


def install_gettext(env: Environment, locale: str = DEFAULT_LOCALE) -> None:
    """The catalog of ``locale`` in a Jinja environment, newstyle (``_("… %(name)s", name=x)``,
    ``ngettext("%(num)d entry", "%(num)d entries", n)``), its values filled in as :func:`fill`
    does; with autoescape, the message is safe and the values are escaped."""
    translations = get_translations(locale)
    if not any(name.endswith(".InternationalizationExtension") for name in env.extensions):
        env.add_extension("jinja2.ext.i18n")
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]

    def finish(context: Context, text: str, values: dict[str, Any]) -> str:
        text, filled = _prepare(text, values, locale)
        if context.eval_ctx.autoescape:
            return Markup(text) % filled
        return text % filled

    @pass_context
    def _gettext(context: Context, message: str, /, **values: Any) -> str:
        return finish(context, translations.gettext(message), values)

    @pass_context
    def _ngettext(context: Context, singular: str, plural: str, n: int, /, **values: Any) -> str:
        values.setdefault("num", n)
        return finish(context, translations.ngettext(singular, plural, n), values)

    env.globals.update(gettext=_gettext, ngettext=_ngettext)


# Elision: « de » + « Élodie » → « d’Élodie », « le » + « atelier » → « l’atelier ». A word elides
# before a vowel or a mute h; a few names start with an aspirated h (« de Hugo »): they are
# listed here as they come up.
_ELIDING = {"de": "d’", "le": "l’", "la": "l’", "que": "qu’", "ne": "n’", "je": "j’", "se": "s’"}
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœh")
_ASPIRATED_H = ("hugo", "henri", "hervé", "hubert", "hauts-de-france", "haute", "hameau")
# A placeholder after a word that elides, in a translated message: « de %(author)s ».
_BEFORE_PLACEHOLDER_RE = re.compile(r"(?<![\w’'-])(de|le|la|que|De|Le|La|Que) (?=%\((\w+)\)s)")
_NUMBER_PLACEHOLDER_RE = re.compile(r"%\((\w+)\)d")


def _elides(following: str) -> bool:
    """Whether a word elides before ``following``: a vowel, a mute h, a y before a consonant
    (« d’Yves », but « de Yann »)."""
    first = following[:2].lower()
    if not first or first[0] not in _VOWELS:
        return False
    if first[0] == "h":
        return not following.lower().startswith(_ASPIRATED_H)
    if first[0] == "y":
        return len(first) > 1 and first[1] not in _VOWELS
    return True


def elide(word: str, following: str, locale: str = DEFAULT_LOCALE) -> str:
    """``word`` then ``following``, with French elision and a typographic apostrophe:
    ``elide("de", "Élodie")`` is « d’Élodie », ``elide("de", "Paul")`` « de Paul »."""
    following = following.strip()
    if Locale.parse(locale).language != "fr" or word.lower() not in _ELIDING or not following:
        return f"{word} {following}".strip()
    if _elides(following):
        short = _ELIDING[word.lower()]
        return (short[0].upper() + short[1:] if word[0].isupper() else short) + following
    return f"{word} {following}"


def elide_placeholders(text: str, values: Mapping[str, Any], locale: str = DEFAULT_LOCALE) -> str:
    """``text``, a translated message, with « de », « le », « la » elided before the placeholders
    whose value calls for it: « Retour d’expérience de %(author)s » is « … d’%(author)s » when
    the author is Élodie, and stays as it is for Paul."""
    if "%(" not in text or Locale.parse(locale).language != "fr":
        return text

    def one(m: re.Match[str]) -> str:
        value = values.get(m.group(2))
        if not isinstance(value, str) or not _elides(value.strip()):
            return m.group(0)
        short = _ELIDING[m.group(1).lower()]
        return short[0].upper() + short[1:] if m.group(1)[0].isupper() else short

    return _BEFORE_PLACEHOLDER_RE.sub(one, text)


def format_ago(value: datetime, now: datetime, locale: str = DEFAULT_LOCALE, tz: str = "Europe/Paris") -> str:
    """How long ago, in days, as people say it: « aujourd’hui », « hier », « il y a 3 jours »
    (calendar days in the newsletter's time zone, not 24-hour periods)."""
    zone = ZoneInfo(tz)
    return format_days_ago((now.astimezone(zone).date() - value.astimezone(zone).date()).days, locale)


def format_days_ago(days: int, locale: str = DEFAULT_LOCALE) -> str:
    """``days`` days ago as people say it: « aujourd’hui » (0 or less), « hier », « il y a 3 jours »."""
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
