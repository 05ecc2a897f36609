"""The demo's identity cards: what each sample lab says of itself, as labs would fill them in."""

from __future__ import annotations

from datetime import datetime

from ..config import Config
from ..labs import set_card
from ..store import Store

#: A card per demo lab (fictitious, in the spirit of the community's « fiches d'identité »).
DEMO_CARDS: dict[str, dict[str, str]] = {
    "lab-110bis": {
        "has_place": "yes",
        "place": "110 rue de Grenelle, Paris 7e : un lieu ouvert aux équipes des ministères et des académies.",
        "innovation_types": "organisationnelle,manageriale,design-de-service,politiques-publiques",
        "service_offer": (
            "Le lab du ministère anime la **communauté des labs d'académie** :\n\n"
            "- résidences d'accompagnement en académie ;\n"
            "- formations à la facilitation et au design de service ;\n"
            "- journée annuelle et infolettre de la communauté."
        ),
        "stage": "actif",
        "team": "Une équipe de designers, facilitateurs et chefs de projet.",
        "contact_email": "lab110bis@example.org",
        "contact_public": "yes",
    },
    "lab-normandie": {
        "has_place": "yes",
        "place": "Un espace modulable au rectorat de Rouen.",
        "innovation_types": "pedagogique,numerique,design-de-service",
        "service_offer": (
            "Ateliers de **design de service** avec les usagers, prototypage rapide d'outils numériques "
            "et accompagnement des équipes pédagogiques."
        ),
        "stage": "actif",
        "team": "Deux chargés de mission et un réseau d'ambassadeurs.",
        "contact_email": "lab-innov@example.org",
        "contact_public": "yes",
    },
    "lab-versailles": {
        "has_place": "no",
        "innovation_types": "organisationnelle,manageriale",
        "service_offer": "Facilitation de séminaires, codéveloppement entre cadres et accompagnement au changement.",
        "stage": "lancement",
    },
    "lab-bretagne": {
        "has_place": "yes",
        "place": "Le 110 bis Bretagne, à Rennes, et un dispositif mobile : le 110 bus.",
        "innovation_types": "pedagogique,design-de-service,sociale",
        "service_offer": (
            "Essaimer la démarche de design de service sur le territoire : ateliers de prototypage "
            "dans les établissements, avec le 110 bus."
        ),
        "stage": "actif",
    },
    "lab-lyon": {
        "has_place": "no",
        "innovation_types": "numerique,pedagogique",
        "service_offer": "Veille et prototypage d'outils numériques pour la classe, ateliers avec les enseignants.",
        "stage": "lancement",
    },
    "lab-grenoble": {
        "innovation_types": "organisationnelle,design-de-service",
        "service_offer": "Premiers ateliers de facilitation avec les services du rectorat.",
        "stage": "prefiguration",
    },
    "lab-lille": {
        "has_place": "yes",
        "place": "Un tiers-lieu partagé avec l'université.",
        "innovation_types": "pedagogique,sociale,politiques-publiques",
        "service_offer": "Accompagnement de projets d'établissement et recherche-action avec les équipes éducatives.",
        "stage": "actif",
    },
    "lab-reunion": {
        "innovation_types": "pedagogique,numerique",
        "service_offer": "Prototypage de ressources numériques et ateliers de facilitation entre établissements.",
        "stage": "prefiguration",
    },
}


def seed_demo_cards(store: Store, config: Config, now: datetime) -> int:
    """Fill the cards of the demo labs that sources.yaml lists; how many changed (0 on a second run)."""
    changed = 0
    for lab in config.labs:
        data = DEMO_CARDS.get(lab.id)
        if data is not None:
            _card, did = set_card(store, config, lab.id, data, by="demo", origin="demo", now=now)
            changed += did
    return changed
