"""Builders of test data: entries as the feed parser hands them over (``make_entry``), the test
configuration, a month's issue ready for the email (``make_email_issue``) and a store with
published issues for the static archive (``make_archive_data``, the ``archive_data`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from curator.ingest import save_entries
from curator.models import Entry


def make_entry(
    key: str,
    title: str = "Titre",
    url: str | None = None,
    *,
    published: datetime | None = None,
    body: str | None = None,
    **overrides: Any,
) -> Entry:
    """An entry as the feed parser hands it over. ``body`` (the title unless given) fills the
    summary (``<p>body</p>``, or nothing for an empty body), the excerpt and the text;
    ``overrides`` sets any field of ``Entry`` itself (``excerpt=``, ``author=``, ``updated=``)."""
    text = title if body is None else body
    fields: dict[str, Any] = {
        "summary": f"<p>{text}</p>" if text else "",
        "excerpt": text,
        "text": text,
        **overrides,
    }
    return Entry(key=key, url=url, title=title, published=published, **fields)


# --- the test configuration ----------------------------------------------------------


def write_test_config(directory: Path, web: dict[str, Any] | None = None) -> Path:
    """The demo's sources.yaml (feeds on a closed port), with an optional ``web:`` block."""
    import yaml

    from curator.demo import SAMPLE_CONFIG

    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", "http://127.0.0.1:9")
    if web:
        text += "\n" + yaml.safe_dump({"web": web})
    path = directory / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the email: a month's issue with every kind of content (test_render, test_mail, browser) ---

EMAIL_NOW = datetime(2022, 1, 20, 12, tzinfo=UTC)
EMAIL_HOSTILE_TITLE = 'Tom & Jerry <script>alert("x")</script> <b>gras</b> « guillemets » : vraiment ?'
EMAIL_EDITO = (
    "Bonne année à toutes et à tous ! Ce mois-ci, l'équipe a lu pour vous "
    "[le rapport annuel](https://labs.example.org/rapport?utm_source=infolettre&page=2) ; bonne lecture."
)


def make_email_issue(
    directory: Path,
    *,
    items: int = 12,
    reports: int = 2,
    events: int = 2,
    hostile: bool = True,
    email: dict[str, Any] | None = None,
) -> tuple[Any, Any, Any]:
    """A store and a configuration in ``directory`` with the issue of 2022-01 ready to render:
    ``items`` feed items picked across sections (the first one with a hostile title), ``reports``
    approved reports, ``events`` agenda entries, an édito; returns (store, config, month)."""
    import re
    from datetime import timedelta

    import yaml

    from curator import editorial
    from curator.config import load_config
    from curator.demo import SAMPLE_CONFIG
    from curator.models import Month
    from curator.reports import approve
    from curator.store import Store

    now = EMAIL_NOW
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("{base_url}", "http://127.0.0.1:9")
    text = re.sub(r", max_picks: \d+", "", text)  # a 40-item issue fits
    if email:
        text += "\n" + yaml.safe_dump({"email": email}, allow_unicode=True)
    path = directory / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    month = Month.parse("2022-01")
    store = Store.open(directory / "curator.db")
    store.sync_sources(config.sources, now)
    sources = ["la27eregion", "lab-normandie", "veille-education", "lab-110bis"]
    sections = ["veille", "actualites", "veille", "appels"]
    summary = (
        "Les labs d'académie ont expérimenté de nouveaux formats d'ateliers : co-développement, "
        "design des politiques publiques et prototypes avec les usagers. Retour sur six mois de travail, "
        "ce qui a marché, ce qui reste à faire et les outils à réutiliser dans votre académie !"
    )
    for n in range(items):
        source = sources[n % len(sources)]
        title = (
            EMAIL_HOSTILE_TITLE
            if hostile and n == 0
            else f"Article numéro {n + 1} : l'innovation publique en classe"
        )
        entry = make_entry(
            f"e{n}",
            title,
            f"https://news.example.org/{source}/{n + 1}?id={n + 1}&utm_medium=rss",
            published=datetime(2022, 1, 1 + n % 28, 9, tzinfo=UTC),
            body=summary,
        )
        save_entries(store, source, [entry], now)
        item = next(i for i in store.items(source=source) if i.title == title)
        note = (
            f"À lire avant le temps du lab : [la fiche pratique](https://labs.example.org/fiches/{n}?fbclid=abc)."
            if n % 3 == 0
            else ""
        )
        editorial.pick(
            store, config, month, str(item.id), now, section=sections[n % len(sections)], note=note
        )
    for n in range(reports):
        report_id, _ = store.add_report(
            submission_key=f"k{n}",
            lab="lab-normandie" if n % 2 == 0 else None,
            lab_other="" if n % 2 == 0 else "Lab des Hauts-de-France",
            author_name=f"Claire Lemoine {n + 1}",
            author_email="claire@example.org",
            title=f"Retour n° {n + 1} : des ateliers de co-développement entre CPE",
            summary="Huit CPE se sont retrouvés une fois par mois pour traiter une situation concrète.",
            body="## Le contexte\n\nDes CPE isolés.",
            link="https://labs.example.org/normandie/codev" if n % 2 == 0 else None,
            tags=["facilitation"],
            license="etalab-2.0",
            now=now - timedelta(days=3),
        )
        approve(store, report_id, editor="test", now=now)
        editorial.pick(
            store, config, month, f"r{report_id}", now, section="retours", note="Un *bel* exemple."
        )
    for n in range(events):
        editorial.add_event(
            store,
            config,
            month,
            now,
            title=f"Temps du lab n° {n + 1}",
            starts_at=datetime(2022, 1, 27 + n, 14, 0),
            ends_at=datetime(2022, 1, 27 + n, 15, 30),
            place="En visioconférence" if n % 2 == 0 else "Paris, 110 rue de Grenelle",
            video_url="https://visio.example.org/temps-du-lab" if n % 2 == 0 else None,
            description="Les ambassadeurs présentent leurs projets !",
            link="https://labs.example.org/agenda/temps-du-lab" if n % 2 == 1 else None,
        )
    editorial.set_edito(store, config, month, EMAIL_EDITO, now)
    return store, config, month


# --- the static archive: a store with published issues, a draft and hostile content ----

#: Strings that would run script if the archive let them through; the browser tests watch window.__pwned.
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">Titre piégé</script><script>window.__pwned=2</script>'
HOSTILE_TEXT = '"><svg onload="window.__pwned=3"><script>window.__pwned=4</script>'
HOSTILE_MARKDOWN = (
    "<script>window.__pwned=5</script> [un lien](javascript:window.__pwned=6) "
    "<img src=x onerror=window.__pwned=7> <iframe src=https://evil.example/></iframe>"
)
DRAFT_TITLE = "Brouillon secret à ne jamais publier"


@dataclass
class ArchiveData:
    """A configuration and a store with three published issues (2021-11 … 2022-01) and a draft (2022-02)."""

    config: Any
    store: Any
    directory: Path
    published: list[str]
    draft: str

    def publish(self, month: str, titles: tuple[str, ...] = ("Une actualité de plus",)) -> None:
        """Add a published issue for ``month`` with items from the Normandy lab's feed."""
        from curator import editorial
        from curator.models import Month

        m = Month.parse(month)
        when = m.start(UTC).replace(day=10)
        entries = [
            make_entry(
                f"{month}-{i}",
                title,
                f"https://labs.example.org/normandie/{month}/{i}",
                published=when,
                excerpt=f"{title} : un atelier de design.",
            )
            for i, title in enumerate(titles)
        ]
        save_entries(self.store, "lab-normandie", entries, when)
        ids = [i.id for i in self.store.items(source="lab-normandie") if i.title in titles]
        for item_id in sorted(ids):
            editorial.pick(self.store, self.config, m, str(item_id), when)
        editorial.publish(self.store, self.config, m, when.replace(day=28))
        self.published.append(month)


def make_archive_data(directory: Path) -> ArchiveData:
    """The archive's test data in ``directory`` (see ``ArchiveData``): items, reports and notes in
    every issue, hostile content (``HOSTILE_*``) in the issue of 2022-01, a draft titled ``DRAFT_TITLE``."""
    from curator import editorial
    from curator.config import load_config
    from curator.models import Month
    from curator.store import Store

    config = load_config(write_test_config(directory))
    store = Store.open(directory / "curator.db")
    t0 = datetime(2021, 11, 2, 9, tzinfo=UTC)
    store.sync_sources(config.sources, t0)

    def entries(prefix: str, month: Month, n: int, title: str) -> list[Entry]:
        start = month.start(UTC)
        return [
            make_entry(
                f"{prefix}-{month}-{i}",
                f"{title} n° {i + 1} ({month})",
                f"https://example.org/{prefix}/{month}/{i}",
                published=start.replace(day=3 + i),
                summary="<p>Résumé.</p>",
                excerpt=f"Ce que l'on retient : un prototype testé avec les usagers, numéro {i + 1}.",
                text="Résumé",
                author="Équipe du lab",
            )
            for i in range(n)
        ]

    months = [Month.parse(m) for m in ("2021-11", "2021-12", "2022-01", "2022-02")]
    for m in months:
        save_entries(
            store, "la27eregion", entries("veille", m, 3, "Design des politiques publiques"), m.start(UTC)
        )
        save_entries(
            store, "lab-normandie", entries("normandie", m, 2, "L'atelier de co-développement"), m.start(UTC)
        )
        save_entries(store, "lab-110bis", entries("lab110", m, 1, "Temps du lab"), m.start(UTC))
    hostile = make_entry(
        "hostile",
        HOSTILE_TITLE,
        "javascript:window.__pwned=8",
        published=datetime(2022, 1, 9, tzinfo=UTC),
        summary=HOSTILE_TEXT,
        excerpt=HOSTILE_TEXT,
        text="piégé",
    )
    save_entries(store, "veille-education", [hostile], datetime(2022, 1, 9, tzinfo=UTC))

    def report(key: str, title: str, summary: str, body: str, link: str | None, lab: str | None) -> int:
        report_id, _ = store.add_report(
            submission_key=key,
            lab=lab,
            lab_other="" if lab else "Lab de Mayotte",
            author_name="Claire Lemoine",
            author_email="claire@example.org",
            title=title,
            summary=summary,
            body=body,
            link=link,
            tags=["facilitation"],
            license="etalab-2.0",
            now=t0,
        )
        store.change_report(report_id, {"status": "approved"}, editor="test", action="approved", now=t0)
        return report_id

    good = report(
        "good",
        "Co-développement entre CPE",
        "Huit CPE, une situation par mois.",
        "# Le contexte\n\nDes CPE **isolés**.\n\n## Ce que nous avons fait\n\n- une séance par mois",
        "https://labs.example.org/normandie/codev",
        "lab-normandie",
    )
    bad = report("bad", HOSTILE_TITLE, HOSTILE_TEXT, HOSTILE_MARKDOWN, "javascript:window.__pwned=9", None)

    def items(source: str, month: Month) -> list[str]:
        return [
            str(i.id)
            for i in sorted(store.items(source=source), key=lambda i: i.id)
            if str(month) in (i.url or "")
        ]

    for m in months:
        now = m.start(UTC).replace(day=20)
        for source in ("la27eregion", "lab-normandie", "lab-110bis"):
            for ref in items(source, m):
                editorial.pick(
                    store,
                    config,
                    m,
                    ref,
                    now,
                    note="Pourquoi c'est **important** : à lire." if source == "la27eregion" else None,
                )
        editorial.set_edito(
            store, config, m, f"Bonjour à toutes et à tous ! Voici le numéro de {m}. Bonne lecture.", now
        )
    editorial.pick(store, config, months[1], f"r{good}", months[1].start(UTC).replace(day=20))
    jan = months[2]
    jan_now = jan.start(UTC).replace(day=20)
    hostile_id = next(i.id for i in store.items(source="veille-education"))
    editorial.pick(store, config, jan, str(hostile_id), jan_now, note=HOSTILE_MARKDOWN)
    editorial.pick(store, config, jan, f"r{bad}", jan_now)
    editorial.set_edito(store, config, jan, "Bonne année ! " + HOSTILE_MARKDOWN, jan_now)
    editorial.add_event(
        store,
        config,
        jan,
        jan_now,
        title="Temps du lab <script>window.__pwned=10</script>",
        starts_at=datetime(2022, 1, 27, 14),
        ends_at=datetime(2022, 1, 27, 15, 30),
        video_url="https://visio.example.org/temps-du-lab",
        description=HOSTILE_TEXT,
    )
    editorial.set_title(store, config, months[3], DRAFT_TITLE, months[3].start(UTC))
    for m in months[:3]:
        editorial.publish(store, config, m, m.start(UTC).replace(day=25, hour=8))
    return ArchiveData(config, store, directory, [str(m) for m in months[:3]], str(months[3]))


@pytest.fixture
def archive_data(tmp_path: Path) -> Iterator[ArchiveData]:
    data = make_archive_data(tmp_path)
    try:
        yield data
    finally:
        data.store.close()
