"""The demo's sample issue (2022-01): an édito, picks in every section with notes, two lab
portraits, an agenda. The labs' cards are filled (``demo.labs``) before it is built."""

from __future__ import annotations

from datetime import UTC, datetime

from .. import editorial
from ..config import Config
from ..models import Month
from ..store import Store

EDITO = """Bonne année à toutes et à tous !

Ce premier numéro de 2022 revient sur la **journée annuelle** de la communauté, donne la parole
à deux labs qui racontent leurs ateliers, et propose une veille sur l'évaluation des labs publics.

Vous aussi, racontez ce que fait votre lab : le formulaire de contribution prend deux minutes.
"""

# Editor's notes, by a word of the title of the item they go with.
NOTES = {
    "évaluation": "Un guide concret pour parler d'impact sans tout réduire à des indicateurs : utile avant un comité de pilotage.",
    "cartographie": "La carte sert à trouver un lab proche du vôtre : pensez à mettre à jour votre fiche.",
    # The Veille asks for a note on each pick (note_required in sources.yaml).
    "promo 2022": "Une formation ouverte aux agents des académies : les candidatures sont ouvertes jusqu'en mars.",
    "Tiers-lieux": "Plusieurs labs y figurent déjà : de quoi trouver des partenaires près de chez vous.",
}

#: The labs portrayed in the « Portrait de lab » section, with the editors' note (as the
#: monthly « temps du lab » presents two labs).
PORTRAITS = {
    "lab-bretagne": "Le 110 bus va au-devant des équipes dans les établissements : une idée à emprunter.",
    "lab-grenoble": "Un lab en préfiguration, qui cherche des labs plus expérimentés pour échanger sur ses premiers ateliers.",
}


def build_sample_issue(store: Store, config: Config, month: Month, now: datetime) -> tuple[int, bool]:
    """Pick the sample issue from the candidates; returns (number of picks, whether it was built now).

    An issue that already has picks (a second run of the demo) is left as it is.
    """
    issue = store.issue(month)
    if issue is not None and (issue.published or store.picks(month)):
        return len(store.picks(month)), False
    as_of = datetime(month.next().year, month.next().month, 1, tzinfo=UTC)
    candidates = editorial.candidates(store, config, month, as_of)
    wanted = {"retours": 2, "actualites": 3, "veille": 3}
    taken: dict[str, int] = {}
    appel = next((c for c in candidates if c.title.startswith("Appel")), None)
    for c in candidates:
        if c is appel:
            continue
        section = c.section or "veille"
        if taken.get(section, 0) >= wanted.get(section, 0):
            continue
        note = next((text for word, text in NOTES.items() if word in c.title), None)
        editorial.pick(store, config, month, c.ref, now, section=section, note=note, by="demo")
        taken[section] = taken.get(section, 0) + 1
    if appel is not None:
        editorial.pick(store, config, month, appel.ref, now, section="appels", by="demo")
    if editorial.lab_section(config) is not None:
        for lab_id, note in PORTRAITS.items():
            if config.lab(lab_id) is not None:
                editorial.pick(store, config, month, f"lab:{lab_id}", now, note=note, by="demo")
    editorial.set_edito(store, config, month, EDITO, now)
    editorial.add_event(
        store,
        config,
        month,
        now,
        title="Temps du lab : les ambassadeurs de l'innovation",
        starts_at=datetime(2022, 1, 27, 14, 0),
        ends_at=datetime(2022, 1, 27, 15, 30),
        video_url="https://visio.example.org/temps-du-lab",
        description="Le Bercylab présente son réseau d'ambassadeurs ; questions et échanges entre labs.",
    )
    editorial.add_event(
        store,
        config,
        month,
        now,
        title="Atelier de co-développement entre labs",
        starts_at=datetime(2022, 2, 8, 9, 30),
        ends_at=datetime(2022, 2, 8, 12, 0),
        place="Lab 110 bis, 110 rue de Grenelle, Paris",
        description="Trois situations apportées par les labs, traitées en petits groupes.",
    )
    return len(store.picks(month)), True
