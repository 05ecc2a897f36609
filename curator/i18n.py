"""Translations (gettext catalogs through Babel) and French dates for everything people read."""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
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
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def gettext(message: str, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
    text = get_translations(locale).gettext(message)
    return text % values if values else text


def format_month(month: Month, locale: str = DEFAULT_LOCALE) -> str:
    """« janvier 2022 »."""
    return _format_date(date(month.year, month.month, 1), "LLLL y", locale=Locale.parse(locale))


def format_day(value: date | datetime, locale: str = DEFAULT_LOCALE, tz: str = "Europe/Paris") -> str:
    """« 5 janvier 2022 »."""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return _format_date(value, "long", locale=Locale.parse(locale))


def format_datetime(value: datetime, locale: str = DEFAULT_LOCALE, tz: str = "Europe/Paris") -> str:
    """« mercredi 5 janvier 2022 à 14:00 »."""
    return _format_datetime(
        value, "EEEE d MMMM y 'à' HH:mm", tzinfo=ZoneInfo(tz), locale=Locale.parse(locale)
    )
