"""Pure curation logic: candidates for a month, their scores and reasons, duplicate grouping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, NamedTuple

from .config import CurationSettings
from .models import CandidateRow
from .text import title_key


def _words(text: str) -> str:
    return f" {title_key(text)} "


class Reason(NamedTuple):
    """Why a candidate scores what it does: ``code`` is stable, ``detail`` a value to show."""

    code: str  # weight, report, theme, keyword, lab, recency, duplicates
    detail: str
    points: float


class Candidate(NamedTuple):
    """An item or a report that could go into the month's issue (a named tuple: thousands are built)."""

    ref: str  # "123" for item 123, "r5" for report 5
    kind: str  # "item" or "report"
    id: int
    title: str
    url: str | None  # normalised
    excerpt: str
    published: datetime
    sources: tuple[str, ...]
    lab: str | None
    section: str | None  # the section it would go to by default
    themes: tuple[str, ...]
    score: float = 0.0
    reasons: tuple[Reason, ...] = ()
    also_seen: tuple[str, ...] = ()  # refs of the duplicates grouped under this one
    picked: str | None = None  # the section it is picked in, if any
    author: str = ""
    weight: float = 1.0  # its sources' weight
    mask: int = -1  # which of the scorer's phrases its text contains (-1: not known yet)


@dataclass(frozen=True)
class SourceInfo:
    id: str
    weight: float
    section: str | None
    lab: str | None
    tags: tuple[str, ...]


class ItemTraits(NamedTuple):
    """What an item's sources make of it."""

    sources: tuple[str, ...]
    lab: str | None
    section: str
    tags: tuple[str, ...]
    weight: float


def item_traits(infos: Mapping[str, SourceInfo], default_section: str, joined: str | None) -> ItemTraits:
    """The traits of an item from these sources (ids joined by U+001F, first seen first): the
    first known source gives its lab, section and themes; the heaviest its weight."""
    sources = tuple(joined.split("\x1f")) if joined else ()
    info = next((infos[x] for x in sources if x in infos), None)
    if info is None:
        return ItemTraits(sources, None, default_section, (), 1.0)
    return ItemTraits(
        sources, info.lab, info.section or default_section, info.tags, source_weight(infos, sources)
    )


def source_weight(infos: Mapping[str, SourceInfo], sources: Sequence[str]) -> float:
    """An item's weight: its heaviest source's (1 for a source no longer in sources.yaml)."""
    return max((infos[x].weight if x in infos else 1.0 for x in sources), default=1.0)


class Scorer:
    """Scores candidates against the themes, keywords and settings, prepared once per list.

    Keyword rules are matched as whole words on text reduced by ``title_key``:
    bit i of a candidate's ``mask`` says whether its text contains ``phrases[i]``.
    """

    def __init__(
        self,
        themes: Sequence[tuple[str, str, tuple[str, ...]]],
        settings: CurationSettings,
        now: datetime,
        lab_names: Mapping[str, str] | None = None,
    ) -> None:
        self.phrases: list[str] = []
        self.keyword_of: dict[int, str] = {}
        self.themes: list[tuple[str, str, int]] = []  # (id, label, mask of its keywords)
        for tid, label, kws in themes:
            bits = 0
            for k in kws:
                bits |= 1 << self._index(k)
            self.themes.append((tid, label, bits))
        self.keywords = [(k, 1 << self._index(k), float(b)) for k, b in settings.keywords.items()]
        self._bits = [(phrase, 1 << i) for i, phrase in enumerate(self.phrases)]
        self._reasons: dict[tuple[Any, ...], tuple[Reason, ...]] = {}
        self._matches: dict[tuple[tuple[str, ...], int], tuple[tuple[float, ...], tuple[str, ...]]] = {}
        self.settings = settings
        self.now = now
        self.lab_names = lab_names or {}

    def _index(self, keyword: str) -> int:
        phrase = f" {title_key(keyword)} "
        if phrase not in self.phrases:
            self.phrases.append(phrase)
            self.keyword_of[len(self.phrases) - 1] = keyword
        return self.phrases.index(phrase)

    def mask(self, text: str) -> int:
        """Which phrases ``text`` contains, as a bitmask."""
        return self.match_mask(_words(text))

    def match_mask(self, words: str) -> int:
        """The same for text already reduced and padded (``store.match_text``)."""
        return sum([bit for phrase, bit in self._bits if phrase in words])

    def points(
        self,
        kind: str,
        weight: float,
        themes: tuple[str, ...],
        mask: int,
        lab: str | None,
        duplicates: int = 0,
    ) -> tuple[float, tuple[str, ...]]:
        """The points of a candidate with these traits before recency, and its themes
        once keyword rules matched."""
        s = self.settings
        addends, matched = self.matches(themes, mask)
        points = s.report_weight if kind == "report" else weight
        for bonus in addends:  # one by one, in this order: the same sum as the reasons give
            points += bonus
        if lab:
            points += s.lab_bonus
        if duplicates:
            points += s.duplicate_bonus * duplicates
        return points, matched

    def matches(self, themes: tuple[str, ...], mask: int) -> tuple[tuple[float, ...], tuple[str, ...]]:
        """The theme and keyword bonuses of a candidate with these themes (its sources')
        whose text has these phrases, and its themes once keyword rules matched."""
        known = self._matches.get((themes, mask))
        if known is not None:
            return known
        s = self.settings
        addends: list[float] = []
        matched = themes
        for theme_id, _label, bits in self.themes:
            if theme_id in themes:
                addends.append(s.theme_bonus)
            elif mask & bits:
                addends.append(s.theme_bonus)
                matched = (*matched, theme_id)
        if mask:
            addends.extend(boost for _keyword, bit, boost in self.keywords if mask & bit)
        known = self._matches[themes, mask] = tuple(addends), matched
        return known

    def decayed(self, points: float, published: datetime) -> float:
        """The score: ``points`` times the recency factor 1 / (1 + age / half-life)."""
        half_life = self.settings.half_life_days
        if half_life:
            age_days = (self.now - published) / _DAY
            if age_days > 0:
                points *= 1.0 / (1.0 + age_days / half_life)
        return round(points, 4)

    def __call__(self, c: Candidate, weight: float | None = None, mask: int | None = None) -> Candidate:
        """Score ``c`` (its reasons are left for ``explain``: thousands are scored, a page is shown)."""
        if weight is None:
            weight = c.weight
        if mask is None:
            mask = c.mask if c.mask >= 0 else self.mask(c.title + " " + c.excerpt)
        points, themes = self.points(c.kind, weight, c.themes, mask, c.lab, len(c.also_seen))
        return c._replace(score=self.decayed(points, c.published), themes=themes, weight=weight, mask=mask)

    def explain(self, c: Candidate) -> Candidate:
        """``c`` with the reasons for its score (its ``themes`` as scored, so matched ones included)."""
        s = self.settings
        mask = c.mask if c.mask >= 0 else self.mask(c.title + " " + c.excerpt)
        traits = (c.kind, c.weight, c.themes, mask, c.lab, len(c.also_seen))
        reasons = self._reasons.get(traits)
        if reasons is None:
            reasons = self._reasons[traits] = self._fixed_reasons(*traits)
        age_days = max(0.0, (self.now - c.published) / _DAY)
        factor = 1.0 / (1.0 + age_days / s.half_life_days) if s.half_life_days else 1.0
        return c._replace(reasons=(*reasons, Reason("recency", f"{age_days:.0f}", round(factor, 3))))

    def _fixed_reasons(
        self, kind: str, weight: float, themes: tuple[str, ...], mask: int, lab: str | None, duplicates: int
    ) -> tuple[Reason, ...]:
        """The reasons that do not depend on age: the same traits give the same ones."""
        s = self.settings
        if kind == "report":
            reasons = [Reason("report", "", s.report_weight)]
        else:
            reasons = [Reason("weight", f"{weight:g}", weight)]
        for theme_id, label, bits in self.themes:
            if theme_id not in themes:
                continue
            hit = mask & bits
            if hit:
                first = self.keyword_of[(hit & -hit).bit_length() - 1]
                reasons.append(Reason("theme", f"{label} ({first})", s.theme_bonus))
            else:
                reasons.append(Reason("theme", label, s.theme_bonus))
        for keyword, bit, boost in self.keywords:
            if mask & bit:
                reasons.append(Reason("keyword", keyword, boost))
        if lab:
            reasons.append(Reason("lab", self.lab_names.get(lab, lab), s.lab_bonus))
        if duplicates:
            reasons.append(Reason("duplicates", str(duplicates), s.duplicate_bonus * duplicates))
        return tuple(reasons)


_DAY = timedelta(days=1)


def score_candidate(
    c: Candidate,
    *,
    weight: float,
    themes: Sequence[tuple[str, str, tuple[str, ...]]],
    settings: CurationSettings,
    now: datetime,
    lab_name: str | None = None,
) -> Candidate:
    """Score one candidate and say why. ``themes`` is (id, label, keywords)."""
    names = {c.lab: lab_name} if c.lab and lab_name else {}
    scorer = Scorer(themes, settings, now, names)
    return scorer.explain(scorer(c, weight))


def group_duplicates(
    candidates: Iterable[Candidate], keys: Mapping[str, str] | Sequence[str] | None = None
) -> list[Candidate]:
    """Fold the same story reached through several sources into one candidate.

    Two candidates are the same story when they share a (normalised) URL or
    their titles are equal once accents, case, punctuation and quotes are
    ignored. ``keys`` may give each candidate's title key precomputed, by ref
    or in the candidates' order. The representative is the earliest-published
    one that is picked, else a report, else the earliest; the others are
    listed in ``also_seen``. Order is kept: a group stands where its first
    member stood.
    """
    items = list(candidates)
    if keys is None:
        key_list: Sequence[str | None] = [title_key(c.title) for c in items]
    elif isinstance(keys, Mapping):
        key_list = [keys.get(c.ref) for c in items]
        key_list = [k if k is not None else title_key(c.title) for k, c in zip(key_list, items, strict=True)]
    else:
        key_list = keys
    parent: dict[int, int] = {}  # only the candidates that belong to a group

    def find(i: int) -> int:
        while (p := parent[i]) != i:
            parent[i] = parent[p]
            i = p
        return i

    def union(i: int, j: int) -> None:
        parent.setdefault(i, i)
        parent.setdefault(j, j)
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    by_title: dict[str, int] = {}
    by_url: dict[str, int] = {}
    for i, c in enumerate(items):
        key = key_list[i]
        if key and (j := by_title.setdefault(key, i)) != i:
            union(i, j)
        if c.url and (j := by_url.setdefault(c.url, i)) != i:
            union(i, j)
    if not parent:
        return items
    groups: dict[int, list[Candidate]] = {}
    result: list[Candidate] = []
    slots: dict[int, int] = {}  # group root -> its place in result
    for i, c in enumerate(items):
        if i not in parent:
            result.append(c)
            continue
        root = find(i)
        if root == i:
            slots[root] = len(result)
            result.append(c)
        groups.setdefault(root, []).append(c)
    for root, members in groups.items():
        members.sort(key=lambda c: (c.picked is None, c.kind != "report", c.published, c.id))
        head, rest = members[0], members[1:]
        sources = list(head.sources)
        for other in rest:
            sources.extend(s for s in other.sources if s not in sources)
        result[slots[root]] = head._replace(
            sources=tuple(sources),
            also_seen=head.also_seen + tuple(o.ref for o in rest),
            lab=head.lab or next((o.lab for o in rest if o.lab), None),
        )
    return result


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Best first; ties broken by recency then kind and id, so the order is stable."""
    result = sorted(candidates, key=_kind_id)
    result.sort(key=_published, reverse=True)
    result.sort(key=_score, reverse=True)
    return result


_kind_id = attrgetter("kind", "id")
_published = attrgetter("published")
_score = attrgetter("score")


def rank_candidates(
    rows: Iterable[CandidateRow],
    reports: Iterable[Candidate],
    *,
    infos: Mapping[str, SourceInfo],
    default_section: str,
    scorer: Scorer,
    picked_items: Mapping[int, str],
) -> list[Candidate]:
    """The month's candidates, scored, duplicates grouped under their best, best first; pure.

    ``rows`` are the items (as the store reads them), ``reports`` the approved reports not
    yet published, as candidates. Reasons are left out (``scorer.explain`` adds them).
    """
    fromiso = datetime.fromisoformat
    match_mask, points, decayed = scorer.match_mask, scorer.points, scorer.decayed
    # What an item's sources make of it, and its points for the phrases it contains:
    # the same for many items.
    traits: dict[str | None, ItemTraits] = {}
    memo: dict[tuple[str | None, int], tuple[float, tuple[str, ...]]] = {}
    raw: list[Candidate] = []
    keys: list[str] = []
    for row in rows:
        item_id, joined = row.id, row.sources
        known = traits.get(joined)
        if known is None:
            known = traits[joined] = item_traits(infos, default_section, joined)
        mask = match_mask(row.match_text)
        score = memo.get((joined, mask))
        if score is None:
            score = memo[joined, mask] = points("item", known.weight, known.tags, mask, known.lab)
        when = fromiso(row.published)
        keys.append(row.title_key)
        raw.append(
            Candidate(
                str(item_id),
                "item",
                item_id,
                row.title,
                row.url,
                row.excerpt,
                when,
                known.sources,
                known.lab,
                known.section,
                score[1],
                decayed(score[0], when),
                (),
                (),
                picked_items.get(item_id),
                row.author,
                known.weight,
                mask,
            )
        )
    for c in reports:
        keys.append(title_key(c.title))
        raw.append(scorer(c, 1.0))
    grouped = group_duplicates(raw, keys)
    # a group's head has more sources and duplicates than when it was scored alone
    return rank([scorer(c, source_weight(infos, c.sources)) if c.also_seen else c for c in grouped])
