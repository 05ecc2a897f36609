"""French without slips on every page people read: the editor area, the public form and the
static archive, rendered from the demo (plus a report by Élodie, of the Versailles lab, and news
of the month's last days), their visible text scanned for what a French reader notices at once: no
elision (« de Élodie », « de avril »), « Tous » for a feminine noun, « il y a 0 jours »,
« Il y a un problème » over several errors, « +2.0 » for a score, straight apostrophes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import make_entry

from curator import editorial, labs
from curator.archive import publish_issue
from curator.config import load_config
from curator.demo import run_demo
from curator.demo.reports import DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD
from curator.ingest import save_entries
from curator.models import Month
from curator.reports import Submission, approve, submit
from curator.store import Store

JAN = Month.parse("2022-01")
NOW = datetime(2022, 2, 3, 9, tzinfo=UTC)  # when the demo's issue of January 2022 goes out

# --- what the pages say, as people see it ------------------------------------------------

#: Elements whose text is not read as prose: code, form values, and what the page keeps verbatim
#: (an author's text exactly as typed, on the editors' pages).
_SKIPPED = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Page:
    """The visible text of a page, and its selects and error summaries, to scan."""

    name: str
    texts: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # id of a field -> its label
    options: dict[str, list[str]] = field(default_factory=dict)  # id of a select -> its options
    summaries: list[tuple[str, int]] = field(default_factory=list)  # (heading, errors listed)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.label_for: str | None = None
        self.label: list[str] = []
        self.select: str | None = None
        self.summary_depth: int | None = None
        self.summary_heading: list[str] = []
        self.in_heading = False
        self.summary_items = 0

    def skipped(self) -> bool:
        return any(
            tag in _SKIPPED or "verbatim" in attrs.get("class", "").split() for tag, attrs in self.stack
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag not in _VOID:
            self.stack.append((tag, a))
        if tag == "label" and a.get("for"):
            self.label_for, self.label = a["for"], []
        elif tag == "select":
            self.select = a.get("id", "")
            self.page.options[self.select] = []
        elif tag == "option" and self.select is not None:
            self.page.options[self.select].append("")
        elif tag == "div" and "error-summary" in a.get("class", "").split():
            self.summary_depth, self.summary_heading, self.summary_items = len(self.stack), [], 0
        elif self.summary_depth is not None and tag == "h2":
            self.in_heading = True
        elif self.summary_depth is not None and tag == "li":
            self.summary_items += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.label_for:
            self.page.labels[self.label_for] = " ".join("".join(self.label).split())
            self.label_for = None
        elif tag == "select":
            self.select = None
        elif tag == "h2":
            self.in_heading = False
        if self.summary_depth is not None and tag == "div" and len(self.stack) == self.summary_depth:
            self.page.summaries.append((" ".join("".join(self.summary_heading).split()), self.summary_items))
            self.summary_depth = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        if self.label_for:
            self.label.append(data)
        if self.select is not None and self.stack and self.stack[-1][0] == "option":
            self.page.options[self.select][-1] += data
        if self.in_heading:
            self.summary_heading.append(data)
        if not self.skipped():
            self.page.texts.append(data)


def read_page(name: str, html: str) -> Page:
    page = Page(name)
    reader = _Reader(page)
    reader.feed(html)
    reader.close()
    return page


_URL_RE = re.compile(r"(?:https?://|mailto:|www\.)\S+|\S+@\S+\.\w+")
#: « de » or « le »/« la » before a word that starts with a vowel (a name, a month: « de avril »);
#: « y » and « h » are left out (« de Yann », « le hameau »).
_NO_ELISION_RE = re.compile(r"(?<![\w’'-])(?:[dD]e|[lL][ea]) (?=[AEIOUÉÈÊÀÂÎÔaeiouéèêàâîô])\w+")
_ZERO_DAYS_RE = re.compile(r"il y a 0 jour")
_ENGLISH_SCORE_RE = re.compile(r"(?:[+×−-]|\bScore )\d+\.\d")
_STRAIGHT_APOSTROPHE_RE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")
_FEMININE = {"Rubrique", "Source"}


def slips(page: Page) -> list[str]:
    """What a French reader would notice on ``page``, each with some context."""
    found: list[str] = []
    text = _URL_RE.sub(" ", page.text)

    def around(m: re.Match[str]) -> str:
        return f"{page.name}: …{text[max(0, m.start() - 30) : m.end() + 30]}…"

    for regex, what in (
        (_NO_ELISION_RE, "no elision"),
        (_ZERO_DAYS_RE, "zero days ago"),
        (_ENGLISH_SCORE_RE, "a number written the English way"),
        (_STRAIGHT_APOSTROPHE_RE, "a straight apostrophe"),
    ):
        found += [f"{what}: {around(m)}" for m in regex.finditer(text)]
    for select, options in page.options.items():
        label = page.labels.get(select, "")
        if label in _FEMININE and "Tous" in options:
            found.append(f"masculine « Tous » for « {label} »: {page.name}")
    for heading, errors in page.summaries:
        if heading == "Il y a un problème" and errors > 1:
            found.append(f"« {heading} » over {errors} errors: {page.name}")
    return found


# --- the pages ---------------------------------------------------------------------------


@dataclass
class Demo:
    directory: Path
    config: Any
    report_id: int


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo, then: a report by Élodie Arnaud of the Versailles lab (« Lab de l'académie de
    Versailles ») picked into January 2022, published again, and two news items published at the
    end of the month's window (« aujourd'hui », « hier » in the candidates' reasons); the issue is
    left a draft again, for the editor pages."""
    directory = tmp_path_factory.mktemp("french") / "demo"
    run_demo(directory, echo=lambda _line: None)
    config = load_config(directory / "sources.yaml")
    with Store.open(directory / "curator.db") as store:
        report, _created = submit(
            store,
            Submission(
                lab="lab-versailles",
                lab_other="",
                author_name="Élodie Arnaud",
                author_email="elodie.arnaud@ac-versailles.example",
                title="L'atelier d'écriture d'Évry : ce qu'en disent les élèves",
                summary="Un atelier d'écriture au collège, d'avril à juin, avec l'aide du lab.",
                body="## Le contexte\n\nDes élèves d'Évry écrivent l'histoire de leur quartier.",
                link=None,
                tags=("facilitation",),
                license="etalab-2.0",
            ),
            NOW - timedelta(days=40),
        )
        approve(store, report.id, editor=DEMO_EDITOR_EMAIL, now=NOW - timedelta(days=39))
        editorial.reopen(store, JAN, NOW)
        editorial.pick(store, config, JAN, f"r{report.id}", NOW, section="retours")
        publish_issue(store, config, JAN, directory / "archive", NOW, published_on=date(2022, 2, 3))
        editorial.reopen(store, JAN, NOW)
        _oldest, _start, end = editorial.candidate_window(config, JAN)
        save_entries(
            store,
            "lab-normandie",
            [
                make_entry(
                    f"fresh-{hours}",
                    f"L'atelier d'hier et d'aujourd'hui n° {hours}",
                    f"https://labs.example.org/normandie/fresh/{hours}",
                    published=end - timedelta(hours=hours),
                    body="Un atelier d'écriture avec les élèves.",
                )
                for hours in (2, 30, 80)
            ],
            NOW,
        )
    return Demo(directory, config, report.id)


def web_pages(demo: Demo) -> Iterator[Page]:
    from curator.web import create_app

    app = create_app(demo.directory / "sources.yaml", demo.directory / "curator.db", testing=True)
    client = app.test_client()
    token = re.compile(r'name="csrf_token" value="([^"]+)"')

    def get(path: str) -> Page:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return read_page(path, response.get_data(as_text=True))

    form = client.get("/contribuer").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', form)
    response = client.post(
        "/contribuer",
        data={"csrf_token": token.search(form)[1], "submission_key": key[1] if key else ""},  # type: ignore[index]
    )
    assert response.status_code == 422
    yield read_page("/contribuer (empty)", response.get_data(as_text=True))
    yield get("/contribuer")
    yield get("/contribuer/lab")
    yield get("/contribuer/lab?lab=lab-versailles")
    yield get("/contribuer/lab/merci")
    lab_form = client.get("/contribuer/lab?lab=lab-versailles").get_data(as_text=True)
    response = client.post(
        "/contribuer/lab",
        data={"csrf_token": token.search(lab_form)[1], "lab": "lab-versailles", "stage": "?"},  # type: ignore[index]
    )
    assert response.status_code == 422
    yield read_page("/contribuer/lab (errors)", response.get_data(as_text=True))

    login = client.get("/editeur/connexion").get_data(as_text=True)
    response = client.post(
        "/editeur/connexion",
        data={
            "csrf_token": token.search(login)[1],
            "email": DEMO_EDITOR_EMAIL,
            "password": DEMO_EDITOR_PASSWORD,
        },  # type: ignore[index]
    )
    assert response.status_code == 303
    month = str(JAN)
    for status in ("pending", "approved", "rejected"):
        yield get(f"/editeur/?statut={status}")
    yield get(f"/editeur/retours/{demo.report_id}")
    yield get(f"/editeur/retours/{demo.report_id}/modifier")
    yield get("/editeur/numeros")
    yield get(f"/editeur/numeros/{month}")
    yield get(f"/editeur/numeros/{month}/candidats")
    yield get(f"/editeur/numeros/{month}/candidats?source=lab-normandie")
    yield get(f"/editeur/numeros/{month}/choix/r{demo.report_id}")
    yield get(f"/editeur/numeros/{month}/publier")
    yield get(f"/editeur/numeros/{month}/envoi")
    yield get("/editeur/sources")
    yield get("/editeur/labs")
    yield get("/editeur/labs/fiches/lab-versailles")
    with Store.open(demo.directory / "curator.db") as store:
        typed = {"lab": "lab-lyon", "stage": "actif", "author_name": "Ana", "author_email": "ana@example.org"}
        proposal, _ = labs.propose(store, labs.validate_proposal(typed, demo.config), NOW)
    yield get(f"/editeur/labs/propositions/{proposal.id}")
    with Store.open(demo.directory / "curator.db") as store:
        editorial.publish(store, demo.config, JAN, NOW)
    yield get(f"/editeur/numeros/{month}")
    yield get(f"/editeur/numeros/{month}/publier")
    yield get(f"/editeur/numeros/{month}/envoi")


def archive_pages(demo: Demo) -> Iterator[Page]:
    archive = demo.directory / "archive"
    pages = sorted(archive.rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        yield read_page(str(path.relative_to(archive)), path.read_text(encoding="utf-8"))
    # The search shows titles, issues, sections and snippets from its index, as they are.
    index = (archive / "recherche" / "index.js").read_text(encoding="utf-8")
    entries = json.loads(index[index.index("[") : index.rindex("]") + 1])
    assert entries
    yield Page("recherche/index.js", texts=[" ".join(str(x) for x in e[:2] + e[3:]) for e in entries])


def test_the_scanner_finds_the_slips() -> None:
    page = read_page(
        "sample",
        "<p>Retour d’expérience de Élodie, publié il y a 0 jours, Score 2.50 : +2.0 et l'atelier"
        " <a href=\"https://example.org/l'x\">lien</a> <code>l'x</code></p>"
        '<label for="s">Rubrique</label><select id="s"><option value="">Tous</option></select>'
        '<div class="error-summary"><h2>Il y a un problème</h2><ul><li>a</li><li>b</li></ul></div>',
    )
    found = "\n".join(slips(page))
    for slip in (
        "no elision",
        "zero days",
        "English way",
        "straight apostrophe",
        "« Tous »",
        "over 2 errors",
    ):
        assert slip in found
    assert found.count("straight apostrophe") == 1
    fine = read_page(
        "fine",
        "<p>Retour d’expérience d’Élodie, de Yann Le Goff, de Paul, publié aujourd’hui : +2,0</p>"
        '<label for="s">Rubrique</label><select id="s"><option value="">Toutes</option></select>'
        '<div class="error-summary"><h2>Il y a un problème</h2><ul><li>a</li></ul></div>',
    )
    assert slips(fine) == []


def test_every_page_is_french_without_slips(demo: Demo) -> None:
    found: list[str] = []
    seen = 0
    for page in [*web_pages(demo), *archive_pages(demo)]:
        seen += 1
        found += slips(page)
    assert seen > 30
    assert not found, f"{len(found)} slips:\n" + "\n".join(found)
