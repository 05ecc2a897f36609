"""France's 30 académies: their names, chief towns and an accessible inline SVG map (pure).

The geometry is ``curator/data/academies.json``, built once by ``scripts/build_academy_map.py``
from openly licensed sources (see ``attribution()``); nothing here touches the network.

The map draws each académie as one ``<path class="academie">`` with a ``<title>``. Paris,
Créteil and Versailles also appear, zoomed, in an Île-de-France inset (the same path: one shape,
one link); the overseas académies are drawn in a row of boxes under the mainland. Académies
that have labs are links; they come in reading order (rows north to south, west to east within
a row, overseas last: the data file's ``order``), which is also the order of the keyboard focus.

Colours are presentation attributes, so the map reads right even where a Content-Security-Policy
refuses inline styles; the hover and focus styles are ``MAP_CSS``, which the map also carries in
its own ``<style>`` unless told not to (put ``MAP_CSS`` in the site's stylesheet then).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from markupsafe import Markup, escape

from .text import title_key

__all__ = [
    "MAP_CSS",
    "Academy",
    "academies",
    "attribution",
    "find_academie",
    "france_map",
]

#: Labs' académies (a blue that keeps 3:1 against white and against the grey of the others).
LAB_FILL = "#000091"
#: Académies without a lab.
OTHER_FILL = "#e5e5e5"
OTHER_STROKE = "#6a6a6a"
#: The académie a page is about (the locator map of a lab's page).
HERE_FILL = "#e1000f"
#: Hover and keyboard focus on a lab's académie (3:1 against white and against LAB_FILL).
HOVER_FILL = "#6a6af4"

#: Styles for hover and focus, scoped by class, the same for every map (so that a page may
#: carry it once, in its stylesheet, or allow the one ``<style>`` by its hash).
MAP_CSS = (
    ".francemap{display:block;width:100%;height:auto;max-width:40rem}"
    ".francemap--small{max-width:12rem}"
    f".francemap a:hover .academie,.francemap a:focus .academie{{fill:{HOVER_FILL}}}"
    ".francemap a:focus{outline:none}"
    ".francemap a:focus .academie{stroke:#000;stroke-width:2.5}"
)

_ID_PREFIX_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_TITLE_PREFIX_RE = re.compile(r"\A(?:academie|vice rectorat|rectorat) (?:(?:de la|de l|de|d|du|des) )?")


@dataclass(frozen=True)
class Academy:
    """One académie: ``id`` (« normandie »), its name, chief town (the rectorat's) and where
    that town is; its départements (INSEE codes); ``inset`` says where the map draws it:
    ``None`` (the mainland), ``"idf"`` (the mainland and the Île-de-France inset) or
    ``"outremer"`` (a box of the overseas row)."""

    id: str
    name: str
    chef_lieu: str
    lat: float
    lon: float
    departements: tuple[str, ...]
    inset: str | None = None


@dataclass(frozen=True)
class _Shape:
    academy: Academy
    d: str  # path data, the inset's copy included
    label_x: float  # a point well inside the académie (on the mainland for the Paris three)
    label_y: float
    order: int  # its place in the reading order


@dataclass(frozen=True)
class _Inset:
    id: str
    label: str
    x: float
    y: float
    w: float
    h: float
    window: tuple[float, float, float, float] | None  # what the inset zooms on (x, y, w, h)


@dataclass(frozen=True)
class _Map:
    attribution: str
    view_box: str
    shapes: tuple[_Shape, ...]
    insets: tuple[_Inset, ...]
    index: Mapping[str, str | None]  # folded name → académie id, or None: known to have none


def _key(name: str) -> str:
    """A name as looked up: no case, accents or punctuation, no leading « Académie de »."""
    key = title_key(name)
    return _TITLE_PREFIX_RE.sub("", key, count=1) or key


def _str(record: Mapping[str, Any], field: str) -> str:
    value = record[field]
    if not isinstance(value, str):
        raise TypeError(f"academies.json: {field!r} is not a string in {record.get('id')!r}")
    return value


def _float(record: Mapping[str, Any], field: str) -> float:
    value = record[field]
    if not isinstance(value, int | float):
        raise TypeError(f"academies.json: {field!r} is not a number in {record.get('id')!r}")
    return float(value)


def _window(value: object) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 4:
        raise TypeError(f"academies.json: an inset's window is not [x, y, w, h]: {value!r}")
    x, y, w, h = (float(v) for v in value)
    return (x, y, w, h)


@lru_cache(maxsize=1)
def _load() -> _Map:
    text = resources.files("curator").joinpath("data", "academies.json").read_text(encoding="utf-8")
    data = json.loads(text)
    shapes = []
    index: dict[str, str | None] = {}
    for record in data["academies"]:
        inset = record.get("inset")
        academy = Academy(
            id=_str(record, "id"),
            name=_str(record, "name"),
            chef_lieu=_str(record, "chef_lieu"),
            lat=_float(record, "lat"),
            lon=_float(record, "lon"),
            departements=tuple(str(code) for code in record["departements"]),
            inset=inset if isinstance(inset, str) else None,
        )
        d = _str(record, "d") + (_str(record, "d_inset") if "d_inset" in record else "")
        shapes.append(
            _Shape(
                academy, d, _float(record, "label_x"), _float(record, "label_y"), int(_float(record, "order"))
            )
        )
        index[_key(academy.id)] = academy.id
        index[_key(academy.name)] = academy.id
    ids = {shape.academy.id for shape in shapes}
    for alias, target in data["aliases"].items():
        if target is not None and target not in ids:
            raise ValueError(f"academies.json: alias {alias!r} names an unknown académie {target!r}")
        index.setdefault(_key(alias), target)
    insets = tuple(
        _Inset(
            id=_str(inset, "id"),
            label=_str(inset, "label"),
            x=_float(inset, "x"),
            y=_float(inset, "y"),
            w=_float(inset, "w"),
            h=_float(inset, "h"),
            window=_window(inset.get("window")),
        )
        for inset in data["insets"]
    )
    return _Map(_str(data, "attribution"), _str(data, "viewBox"), tuple(shapes), insets, index)


def academies() -> tuple[Academy, ...]:
    """The 30 académies, in the order of their ids."""
    return tuple(shape.academy for shape in _load().shapes)


def find_academie(name: str) -> Academy | None:
    """The académie a lab names (« Académie de Normandie », « Caen », « la réunion »…).

    Case, accents, punctuation and a leading « Académie de / d' / du / des » do not matter.
    ``None`` for a name that is no académie, « Administration centrale » (the ministry) among them.
    """
    mapping = _load()
    key = _key(name)
    if key not in mapping.index:
        for article in ("la ", "l ", "le "):
            if key.startswith(article) and key[len(article) :] in mapping.index:
                key = key[len(article) :]
                break
    found = mapping.index.get(key)
    if found is None:
        return None
    return next(shape.academy for shape in mapping.shapes if shape.academy.id == found)


def attribution() -> str:
    """The map's sources and licences, in French, to show wherever the map is (CC BY 4.0 asks it)."""
    return _load().attribution


def france_map(
    links: Mapping[str, tuple[str, str]],
    *,
    title: str,
    highlight: str | None = None,
    small: bool = False,
    id_prefix: str = "map",
    inline_style: bool = True,
) -> Markup:
    """France's académies as an inline SVG, its ``title`` (the caller's words) naming it.

    ``links`` maps an académie id to ``(href, label)``: that académie is coloured, is a link to
    ``href`` and is named by ``label`` (« Normandie : 2 labs »; it should name the académie).
    An id that is no académie raises ``ValueError``, as does an unknown ``highlight``: they come
    from ``find_academie``, so either is a bug. ``highlight`` draws one académie in red.

    ``small`` draws the locator of a lab's page: no links (``links`` is not drawn), the
    highlighted académie only, and the whole map is one image named by ``title``
    (« Localisation : Normandie »). ``id_prefix`` makes the ids unique on the page (the SVG's
    own id is the prefix). ``inline_style=False`` leaves out the ``<style>`` (``MAP_CSS``), for
    pages whose Content-Security-Policy refuses inline styles and carry it themselves.
    """
    mapping = _load()
    known = {shape.academy.id for shape in mapping.shapes}
    unknown = sorted(set(links) - known)
    if unknown:
        raise ValueError(f"unknown académie ids in links: {', '.join(unknown)}")
    if highlight is not None and highlight not in known:
        raise ValueError(f"unknown académie id to highlight: {highlight}")
    if not _ID_PREFIX_RE.match(id_prefix):
        raise ValueError(f"id_prefix must be letters, digits, '-' or '_', after a letter: {id_prefix!r}")
    if small:
        links = {}

    title_id = f"{id_prefix}-title"
    classes = "francemap francemap--small" if small else "francemap"
    role = "img" if small else "group"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{mapping.view_box}" id="{id_prefix}"'
        f' class="{classes}" role="{role}" aria-labelledby="{title_id}">',
        f'<title id="{title_id}">{escape(title)}</title>',
    ]
    if inline_style and not small:
        out.append(f"<style>{MAP_CSS}</style>")

    def path(shape: _Shape, name: str) -> str:
        academy = shape.academy
        css = ["academie"]
        fill, stroke, width = OTHER_FILL, OTHER_STROKE, ".5"
        if academy.id in links:
            css.append("academie--lab")
            fill, stroke, width = LAB_FILL, "#fff", ".8"
        if academy.id == highlight:
            css.append("academie--here")
            fill = HERE_FILL
            stroke = "#fff" if academy.id in links else OTHER_STROKE
        return (
            f'<path id="{id_prefix}-{academy.id}" class="{" ".join(css)}" fill="{fill}" stroke="{stroke}"'
            f' stroke-width="{width}" stroke-linejoin="round" fill-rule="evenodd" d="{shape.d}">'
            f"<title>{escape(name)}</title></path>"
        )

    # Académies without a link first (the highlighted one last, so that no neighbour hides
    # its border), then the links in reading order, so that their borders are on top.
    others = sorted(
        (s for s in mapping.shapes if s.academy.id not in links), key=lambda s: s.academy.id == highlight
    )
    out.append('<g class="academies">')
    out.extend(path(shape, shape.academy.name) for shape in others)
    for shape in sorted((s for s in mapping.shapes if s.academy.id in links), key=lambda s: s.order):
        href, label = links[shape.academy.id]
        out.append(f'<a href="{escape(href)}" aria-label="{escape(label)}">{path(shape, label)}</a>')
    out.append("</g>")

    # The insets' frames, on top but not in the way of a pointer; what they say is in the titles.
    out.append(
        '<g class="insets" aria-hidden="true" fill="none" stroke="#929292" stroke-width=".6" pointer-events="none">'
    )
    for inset in mapping.insets:
        out.append(f'<rect x="{inset.x:g}" y="{inset.y:g}" width="{inset.w:g}" height="{inset.h:g}"/>')
        if inset.window is not None:
            x, y, w, h = inset.window
            out.append(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}"/>')
        if not small:
            out.append(
                f'<text x="{inset.x + 4:g}" y="{inset.y + 12:g}" fill="#3a3a3a" stroke="none"'
                f' font-family="Marianne, Arial, sans-serif" font-size="11">{escape(inset.label)}</text>'
            )
    out.append("</g>")
    out.append("</svg>")
    return Markup("\n".join(out))
