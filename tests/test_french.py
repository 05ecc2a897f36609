"""French as French writes it: elision, plurals, relative days and numbers, through i18n."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jinja2

from curator.i18n import (
    elide,
    fill,
    format_ago,
    format_days_ago,
    format_number,
    gettext,
    install_gettext,
    ngettext,
)

NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)


def test_elision() -> None:
    assert elide("de", "Élodie") == "d’Élodie"
    assert elide("de", "Isabelle Martin") == "d’Isabelle Martin"
    assert elide("de", "Paul") == "de Paul"
    assert elide("De", "Anne") == "D’Anne"
    assert elide("de", "Hugo") == "de Hugo"  # an aspirated h
    assert elide("de", "Élodie", "en") == "de Élodie"
    assert elide("de", "Yann") == "de Yann" and elide("de", "Yves") == "d’Yves"  # a y before a vowel
    assert elide("de", "Hélène") == "d’Hélène"  # a mute h


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


def test_messages_elide_before_their_values() -> None:
    """« de %(author)s » in a French message elides for Élodie, not for Paul nor in English."""
    assert (
        gettext("Experience report by %(author)s", author="Élodie Arnaud")
        == "Retour d’expérience d’Élodie Arnaud"
    )
    assert (
        gettext("Experience report by %(author)s", author="Paul Martin")
        == "Retour d’expérience de Paul Martin"
    )
    assert gettext("Experience report by %(author)s", "en", author="Élodie") == "Experience report by Élodie"
    assert fill("Infolettre de %(month)s", {"month": "avril 2022"}) == "Infolettre d’avril 2022"
    assert fill("La %(x)s et le %(y)s", {"x": "île", "y": "atelier"}) == "L’île et l’atelier"
    assert fill("le %(date)s", {"date": "1 avril"}) == "le 1 avril"  # only words elide it


def test_counts_are_grouped() -> None:
    assert ngettext("%(num)d entry", "%(num)d entries", 12000) == "12\u202f000 contenus"
    assert ngettext("There is a problem", "There are %(num)d problems", 1) == "Il y a un problème"
    assert ngettext("There is a problem", "There are %(num)d problems", 9) == "Il y a 9 problèmes"
    assert format_days_ago(0) == "aujourd’hui" and format_days_ago(1) == "hier"
    assert format_days_ago(1200) == "il y a 1\u202f200 jours"


def test_templates_elide_and_escape() -> None:
    env = jinja2.Environment(autoescape=True)
    install_gettext(env, "fr")
    template = env.from_string(
        '{{ _("Experience report by %(author)s", author=name) }} · {{ ngettext("%(num)d entry", "%(num)d entries", n) }}'
    )
    assert (
        template.render(name="Élodie <b>", n=1200)
        == "Retour d’expérience d’Élodie &lt;b&gt; · 1\u202f200 contenus"
    )
    assert template.render(name="Paul", n=0) == "Retour d’expérience de Paul · 0 contenu"
