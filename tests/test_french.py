"""French as French writes it: elision, plurals, relative days and numbers, through i18n."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from curator.i18n import elide, format_ago, format_number, ngettext

NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)


def test_elision() -> None:
    assert elide("de", "Élodie") == "d’Élodie"
    assert elide("de", "Isabelle Martin") == "d’Isabelle Martin"
    assert elide("de", "Paul") == "de Paul"
    assert elide("De", "Anne") == "D’Anne"
    assert elide("de", "Hugo") == "de Hugo"  # an aspirated h
    assert elide("de", "Élodie", "en") == "de Élodie"


def test_days_ago_say_today_and_yesterday() -> None:
    assert format_ago(NOW, NOW) == "aujourd’hui"
    assert format_ago(NOW - timedelta(hours=14), NOW) == "hier"  # 23:00 in Paris the day before
    assert format_ago(NOW - timedelta(days=3), NOW) == "il y a 3 jours"
    assert format_ago(NOW - timedelta(days=1), NOW, "en") == "yesterday"


def test_plurals_and_numbers() -> None:
    assert ngettext("%(num)d day ago", "%(num)d days ago", 1) == "il y a 1 jour"
    assert ngettext("%(num)d day ago", "%(num)d days ago", 2) == "il y a 2 jours"
    assert format_number(2, sign=True) == "+2,0"
    assert format_number(-0.5, sign=True) == "-0,5"
    assert format_number(12000.5) == "12\u202f000,5"
