"""Sample experience reports and a demo editor for the offline demo (some approved, one pending, one rejected)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..editors import add_editor
from ..reports import Submission, approve, reject, submit
from ..store import Store

DEMO_EDITOR_EMAIL = "editeur@labs.example.org"
DEMO_EDITOR_PASSWORD = "demo-infolettre-2022"


@dataclass(frozen=True)
class DemoReports:
    approved: int
    pending: int
    rejected: int
    editor_email: str
    editor_password: str


_SAMPLES: list[tuple[str, str | None, datetime, Submission]] = [
    (
        "approved",
        None,
        datetime(2021, 12, 14, 9, 12, tzinfo=UTC),
        Submission(
            lab="lab-normandie",
            lab_other="",
            author_name="Claire Lemoine",
            author_email="claire.lemoine@ac-normandie.example",
            title="Co-développement entre CPE : trois mois d'ateliers à Rouen",
            summary=(
                "Huit conseillers principaux d'éducation se sont retrouvés une fois par mois pour traiter, "
                "à tour de rôle, une situation professionnelle concrète. Ce que nous en retenons."
            ),
            body=(
                "## Le contexte\n\n"
                "Les CPE du bassin de Rouen nous ont dit se sentir **isolés** face à des situations délicates "
                "(décrochage, conflits entre élèves, relations avec les familles).\n\n"
                "## Ce que nous avons fait\n\n"
                "- une séance de 1 h 30 par mois, en présentiel au lab ;\n"
                "- la méthode du co-développement professionnel (Payette et Champagne), en six étapes ;\n"
                "- un « client » différent à chaque séance, volontaire.\n\n"
                "## Ce que nous en retenons\n\n"
                "La régularité compte plus que la durée. Le cadre (temps de parole, confidentialité) "
                "a été décisif pour que chacun ose exposer une difficulté réelle.\n\n"
                "Le [guide d'animation](https://labs.example.org/normandie/codev) est en ligne."
            ),
            link="https://labs.example.org/normandie/codev",
            tags=("facilitation",),
            license="etalab-2.0",
        ),
    ),
    (
        "approved",
        None,
        datetime(2021, 12, 20, 15, 40, tzinfo=UTC),
        Submission(
            lab="lab-versailles",
            lab_other="",
            author_name="Mehdi Benali",
            author_email="mehdi.benali@ac-versailles.example",
            title="Prototyper l'accueil des enseignants néo-titulaires avec eux",
            summary=(
                "Plutôt qu'un livret de plus, nous avons testé trois prototypes d'accueil avec douze "
                "enseignants arrivés à la rentrée. Le plus simple l'a emporté."
            ),
            body=(
                "Nous sommes partis des **parcours vécus** : entretiens avec douze néo-titulaires, "
                "puis une carte d'expérience de leurs trois premières semaines.\n\n"
                "Trois prototypes ont été testés :\n\n"
                "1. un livret d'accueil numérique ;\n"
                "2. un binôme avec un collègue expérimenté ;\n"
                "3. une visite de l'établissement la veille de la rentrée.\n\n"
                "Le binôme a été plébiscité. La visite, peu coûteuse, sera généralisée."
            ),
            link=None,
            tags=("design",),
            license="cc-by-4.0",
        ),
    ),
    (
        "approved",
        None,
        datetime(2022, 1, 6, 10, 5, tzinfo=UTC),
        Submission(
            lab=None,
            lab_other="Lab'Edu Occitanie",
            author_name="Sophie Marty",
            author_email="sophie.marty@ac-toulouse.example",
            title="Une boîte à outils partagée entre les labs d'Occitanie",
            summary="Un espace commun recense les méthodes et supports d'atelier des deux labs de la région.",
            body=(
                "Nous avons rassemblé nos supports d'atelier (cartes, gabarits, déroulés) dans un espace "
                "partagé, classé par objectif : *explorer*, *idéer*, *tester*.\n\n"
                "Prochaine étape : l'ouvrir aux autres labs d'académie qui le souhaitent."
            ),
            link="https://labs.example.org/occitanie/boite-a-outils",
            tags=("numerique", "communaute"),
            license="cc-by-sa-4.0",
        ),
    ),
    (
        "pending",
        None,
        datetime(2022, 1, 18, 17, 25, tzinfo=UTC),
        Submission(
            lab="lab-bretagne",
            lab_other="",
            author_name="Yann Le Goff",
            author_email="yann.le-goff@ac-rennes.example",
            title="Un an de « temps du lab » en visio : ce qui a marché",
            summary=(
                "Chaque mois, une heure en visioconférence pour partager un projet. Bilan après douze "
                "rendez-vous et une quarantaine de participants réguliers."
            ),
            body=(
                "Le format : **une heure**, un projet présenté en quinze minutes, puis des questions.\n\n"
                "Ce qui a marché : la régularité (premier mardi du mois), un animateur qui tient le temps, "
                "un compte rendu court envoyé le lendemain.\n\n"
                "Ce que nous changerions : inviter plus souvent des partenaires hors Éducation nationale."
            ),
            link=None,
            tags=("communaute",),
            license="etalab-2.0",
        ),
    ),
    (
        "rejected",
        "Contenu promotionnel, hors de la ligne éditoriale de l'infolettre.",
        datetime(2022, 1, 10, 8, 0, tzinfo=UTC),
        Submission(
            lab=None,
            lab_other="EdTech Solutions",
            author_name="Service commercial",
            author_email="contact@edtech-solutions.example",
            title="Découvrez notre plateforme tout-en-un pour les établissements",
            summary="Une offre exceptionnelle réservée aux labs d'académie.",
            body="Contactez-nous pour une démonstration gratuite.",
            link="https://edtech-solutions.example/offre",
            tags=(),
            license="cc-by-4.0",
        ),
    ),
]


def seed_demo_reports(store: Store) -> DemoReports:
    """Add the sample reports and the demo editor, once (a second call changes nothing)."""
    if store.editor(DEMO_EDITOR_EMAIL) is None:
        add_editor(store, DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD, datetime(2021, 12, 1, 9, 0, tzinfo=UTC))
    for index, (status, reason, when, submission) in enumerate(_SAMPLES):
        report, created = submit(store, submission, when, key=f"demo{index:028d}")
        if not created:
            continue
        decided = when.replace(hour=min(when.hour + 2, 23))
        if status == "approved":
            approve(store, report.id, editor=DEMO_EDITOR_EMAIL, now=decided)
        elif status == "rejected":
            reject(store, report.id, reason=reason or "", editor=DEMO_EDITOR_EMAIL, now=decided)
    counts = store.report_counts()
    return DemoReports(
        approved=counts["approved"],
        pending=counts["pending"],
        rejected=counts["rejected"],
        editor_email=DEMO_EDITOR_EMAIL,
        editor_password=DEMO_EDITOR_PASSWORD,
    )
