"""Pure curation logic: candidates for a month, their scores and reasons, duplicate grouping."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from .errors import ConfigError

_NON_WORD_RE = re.compile(r"[\W_]+", re.UNICODE)


def _build_fold_table() -> dict[int, str]:
    """Latin letters with diacritics → their base letters, for a fast ``str.translate``."""
    table: dict[int, str] = {}
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch:
            table[cp] = base
    table.update({ord("œ"): "oe", ord("æ"): "ae", ord("ø"): "o", ord("đ"): "d", ord("ł"): "l"})
    return table


_FOLD = _build_fold_table()


def title_key(title: str) -> str:
    """A title reduced to what identifies a story: no accents, case, punctuation or « guillemets »."""
    text = _NON_WORD_RE.sub(" ", title.casefold())
    if not text.isascii():
        text = text.translate(_FOLD)
        if not text.isascii():  # letters beyond Latin Extended: the slow, general way
            text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
            text = _NON_WORD_RE.sub(" ", text)
    return " ".join(text.split())


def _words(text: str) -> str:
    return f" {title_key(text)} "


@dataclass(frozen=True)
class CurationSettings:
    """The ``curation:`` block of sources.yaml."""

    window: str = "same"  # "same": items published in the month; "previous": the month before
    max_age_days: int = 31  # items older than the window stay candidates up to this many days
    report_weight: float = 2.0
    lab_bonus: float = 0.5
    theme_bonus: float = 0.5
    duplicate_bonus: float = 0.25
    half_life_days: float = 30.0
    keywords: Mapping[str, float] = field(default_factory=dict)  # keyword -> boost


def curation_settings(raw: Any, path: str = "sources.yaml") -> CurationSettings:
    """Validate the raw ``curation:`` mapping (kept by config.py) into settings."""
    if raw is None:
        return CurationSettings()
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping", path=path, entry="curation")
    allowed = set(CurationSettings.__dataclass_fields__)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in allowed:
            raise ConfigError(
                f"unknown key (allowed: {', '.join(sorted(allowed))})",
                path=path,
                entry="curation",
                field=str(key),
            )
        if key == "window":
            if value not in ("same", "previous"):
                raise ConfigError("must be 'same' or 'previous'", path=path, entry="curation", field=key)
        elif key == "keywords":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
                for k, v in value.items()
            ):
                raise ConfigError(
                    "expected a mapping of keyword: boost (a number)", path=path, entry="curation", field=key
                )
        elif key == "max_age_days":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError("expected a whole number of days", path=path, entry="curation", field=key)
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ConfigError("expected a positive number", path=path, entry="curation", field=key)
        values[key] = value
    return CurationSettings(**values)


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


def parse_ref(ref: str) -> tuple[str, int]:
    """``"123"`` → ("item", 123); ``"r5"`` or ``"report:5"`` → ("report", 5)."""
    text = str(ref).strip().lower()
    kind = "item"
    for prefix in ("report:", "r"):
        if text.startswith(prefix):
            kind, text = "report", text[len(prefix) :]
            break
    else:
        if text.startswith("item:"):
            text = text[5:]
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        from .errors import UsageError

        raise UsageError(
            f"invalid id {ref!r}: use an item id (123) or a report id (r5), as shown by `curator candidates`"
        )
    return kind, int(text)


def make_ref(kind: str, id: int) -> str:
    return f"r{id}" if kind == "report" else str(id)


class Scorer:
    """Scores candidates against the themes, keywords and settings, prepared once per list.

    Keyword rules are matched as whole words on text reduced by ``title_key``.
    ``phrases`` lists them so that the store can match items in SQL: bit i of a
    candidate's ``mask`` says whether its text contains ``phrases[i]``.
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
        words = _words(text)
        return sum(1 << i for i, p in enumerate(self.phrases) if p in words)

    def __call__(self, c: Candidate, weight: float | None = None, mask: int | None = None) -> Candidate:
        """Score ``c`` (its reasons are left for ``explain``: thousands are scored, a page is shown)."""
        s = self.settings
        if weight is None:
            weight = c.weight
        if mask is None:
            mask = c.mask if c.mask >= 0 else self.mask(c.title + " " + c.excerpt)
        base = s.report_weight if c.kind == "report" else weight
        themes = c.themes
        matched = themes
        for theme_id, _label, bits in self.themes:
            if theme_id in themes:
                base += s.theme_bonus
            elif mask & bits:
                base += s.theme_bonus
                matched = (*matched, theme_id)
        if mask:
            for _keyword, bit, boost in self.keywords:
                if mask & bit:
                    base += boost
        if c.lab:
            base += s.lab_bonus
        if c.also_seen:
            base += s.duplicate_bonus * len(c.also_seen)
        age_days = (self.now - c.published) / _DAY
        if age_days < 0:
            age_days = 0.0
        factor = 1.0 / (1.0 + age_days / s.half_life_days) if s.half_life_days else 1.0
        return c._replace(score=round(base * factor, 4), themes=matched, weight=weight, mask=mask)

    def explain(self, c: Candidate) -> Candidate:
        """``c`` with the reasons for its score (its ``themes`` as scored, so matched ones included)."""
        s = self.settings
        mask = c.mask if c.mask >= 0 else self.mask(c.title + " " + c.excerpt)
        if c.kind == "report":
            reasons = [Reason("report", "", s.report_weight)]
        else:
            reasons = [Reason("weight", f"{c.weight:g}", c.weight)]
        for _theme_id, label, bits in self.themes:
            if _theme_id not in c.themes:
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
        if c.lab:
            reasons.append(Reason("lab", self.lab_names.get(c.lab, c.lab), s.lab_bonus))
        if c.also_seen:
            n = len(c.also_seen)
            reasons.append(Reason("duplicates", str(n), s.duplicate_bonus * n))
        age_days = max(0.0, (self.now - c.published) / _DAY)
        factor = 1.0 / (1.0 + age_days / s.half_life_days) if s.half_life_days else 1.0
        reasons.append(Reason("recency", f"{age_days:.0f}", round(factor, 3)))
        return c._replace(reasons=tuple(reasons))


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
    candidates: Iterable[Candidate], keys: Mapping[str, str] | None = None
) -> list[Candidate]:
    """Fold the same story reached through several sources into one candidate.

    Two candidates are the same story when they share a (normalised) URL or
    their titles are equal once accents, case, punctuation and quotes are
    ignored (``keys`` may give each candidate's title key, by ref, precomputed). The representative is the earliest-published one that is picked,
    else a report, else the earliest; the others are listed in ``also_seen``.
    """
    items = list(candidates)
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by: dict[tuple[str, str], int] = {}
    for i, c in enumerate(items):
        key = keys.get(c.ref) if keys is not None else None
        if key is None:
            key = title_key(c.title)
        found = [("title", key)] if key else []
        if c.url:
            found.append(("url", c.url))
        for k in found:
            j = first_by.setdefault(k, i)
            if j != i:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[Candidate]] = {}
    for i, c in enumerate(items):
        groups.setdefault(find(i), []).append(c)
    result: list[Candidate] = []
    for members in groups.values():
        if len(members) == 1:
            result.append(members[0])
            continue
        members.sort(key=lambda c: (c.picked is None, c.kind != "report", c.published, c.id))
        head, rest = members[0], members[1:]
        sources = list(head.sources)
        for other in rest:
            sources.extend(s for s in other.sources if s not in sources)
        result.append(
            head._replace(
                sources=tuple(sources),
                also_seen=head.also_seen + tuple(o.ref for o in rest),
                lab=head.lab or next((o.lab for o in rest if o.lab), None),
            )
        )
    return result


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Best first; ties broken by recency then id, so the order is stable."""
    result = sorted(candidates, key=lambda c: (c.kind, c.id))
    result.sort(key=lambda c: c.published, reverse=True)
    result.sort(key=lambda c: c.score, reverse=True)
    return result
