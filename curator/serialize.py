"""The ``--json`` contract, in one place: each object the command line prints as JSON, with the
keys the README documents. Adding a key is fine; renaming or removing one breaks scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .checklist import Checklist
from .config import Config
from .curate import Candidate
from .editorial import LabCandidate
from .models import Editor, Event, Item, Report, ReportChange, SourceState
from .reports import lab_label
from .views import IssueView, Portrait


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def item_json(item: Item) -> dict[str, Any]:
    """An item, as ``curator items --json`` prints it."""
    return {
        "id": item.id,
        "source": item.source,
        "sources": list(item.sources),
        "title": item.title,
        "url": item.url,
        "published": item.published.isoformat(),
        "published_estimated": item.published_estimated,
        "summary": item.summary,
        "excerpt": item.excerpt,
        "author": item.author,
        "tags": list(item.categories),
        "first_seen": item.first_seen.isoformat(),
        "updated": item.updated.isoformat(),
    }


def source_json(s: SourceState) -> dict[str, Any]:
    """A source and its last fetch, as ``curator sources --json`` prints it."""
    return {
        "id": s.id,
        "url": s.url,
        "title": s.title,
        "section": s.section,
        "lab": s.lab,
        "tags": list(s.tags),
        "weight": s.weight,
        "enabled": s.enabled,
        "status": s.status,
        "disabled_reason": s.disabled_reason,
        "last_error": s.last_error,
        "last_fetched": _dt(s.last_fetched),
        "consecutive_failures": s.consecutive_failures,
        "last_new_item": _dt(s.last_new_item),
        "retry_after": _dt(s.retry_after),
        "moved_to": s.moved_to,
        "items": s.items,
    }


def candidate_json(c: Candidate) -> dict[str, Any]:
    """A candidate with its reasons, as ``curator candidates --json`` prints it."""
    return {
        "ref": c.ref,
        "kind": c.kind,
        "id": c.id,
        "title": c.title,
        "url": c.url,
        "excerpt": c.excerpt,
        "published": c.published.isoformat(),
        "sources": list(c.sources),
        "lab": c.lab,
        "section": c.section,
        "themes": list(c.themes),
        "score": c.score,
        "reasons": [{"code": r.code, "detail": r.detail, "points": r.points} for r in c.reasons],
        "also_seen": list(c.also_seen),
        "picked": c.picked,
    }


def lab_candidate_json(c: LabCandidate) -> dict[str, Any]:
    """A lab to portray, as ``curator candidates --section portraits --json`` prints it."""
    return {
        "ref": c.ref,
        "kind": "lab",
        "lab": c.lab.id,
        "name": c.lab.name,
        "academie": c.lab.academie,
        "city": c.lab.city,
        "stage": c.card.stage,
        "card_filled": c.filled,
        "card_updated_at": _dt(c.card.updated_at),
        "last_portrayed": str(c.last_portrayed) if c.last_portrayed else None,
        "picked": c.picked,
    }


def portrait_json(p: Portrait) -> dict[str, Any]:
    """A lab's portrait in ``curator issue show --json`` (the card as it is now)."""
    card = p.card
    return {
        "lab": p.lab.id,
        "name": p.lab.name,
        "academie": p.lab.academie,
        "city": p.lab.city,
        "page_url": p.page_url,
        "has_place": card.has_place,
        "place": card.place,
        "innovation_types": list(card.innovation_types),
        "service_offer": card.service_offer,
        "stage": card.stage,
        "card_version": card.version,
        "card_updated_at": _dt(card.updated_at),
    }


def report_json(report: Report, config: Config | None = None) -> dict[str, Any]:
    """A report as the JSON object printed by ``curator reports --json`` (documented in the README)."""

    return {
        "id": report.id,
        "status": report.status,
        "lab": report.lab,
        "lab_other": report.lab_other,
        "lab_name": lab_label(report, config),
        "author_name": report.author_name,
        "author_email": report.author_email,
        "title": report.title,
        "summary": report.summary,
        "body": report.body,
        "link": report.link,
        "tags": list(report.tags),
        "license": report.license,
        "submitted_at": _dt(report.submitted_at),
        "updated_at": _dt(report.updated_at),
        "version": report.version,
        "decided_at": _dt(report.decided_at),
        "decided_by": report.decided_by,
        "reject_reason": report.reject_reason,
    }


def report_history_json(changes: list[ReportChange]) -> list[dict[str, Any]]:
    """A report's history, as ``curator reports show ID --json`` adds it."""
    return [
        {
            "at": c.at.isoformat(),
            "editor": c.editor,
            "action": c.action,
            "changes": c.changes,
            "reason": c.reason,
        }
        for c in changes
    ]


def editor_json(e: Editor) -> dict[str, Any]:
    """An editor, as ``curator editors list --json`` prints it."""
    return {"email": e.email, "created_at": e.created_at.isoformat(), "last_login": _dt(e.last_login)}


def issue_json(view: IssueView) -> dict[str, object]:
    """The stable JSON form of ``curator issue show --json``."""
    issue = view.issue
    return {
        "month": str(issue.month),
        "title": issue.title,
        "state": issue.state,
        "published_at": issue.published_at.isoformat() if issue.published_at else None,
        "version": issue.version,
        "edito": issue.edito,
        "sections": [
            {
                "id": s.section.id,
                "title": s.section.title,
                "max_picks": s.section.max_picks,
                "picks": [
                    {
                        "ref": p.ref,
                        "kind": p.kind,
                        "id": p.pick.ref_id,
                        "position": p.pick.position,
                        "title": p.title,
                        "title_override": p.pick.title,
                        "summary": p.summary,
                        "summary_override": p.pick.summary,
                        "note": p.note,
                        "url": p.url,
                        "sources": list(p.source_ids),
                        "lab": p.lab.id if p.lab else None,
                        "author": p.author,
                        "published": p.published.isoformat(),
                        "portrait": portrait_json(p.portrait) if p.portrait else None,
                    }
                    for p in s.picks
                ],
            }
            for s in view.sections
        ],
        "events": [event_json(e) for e in view.events],
    }


def event_json(e: Event) -> dict[str, object]:
    return {
        "id": e.id,
        "title": e.title,
        "starts_at": e.starts_at.isoformat(),
        "ends_at": e.ends_at.isoformat() if e.ends_at else None,
        "place": e.place,
        "video_url": e.video_url,
        "description": e.description,
        "link": e.link,
    }


def _plain(value: Any) -> Any:
    """Finding data as JSON: datetimes in ISO 8601, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def checklist_json(checklist: Checklist) -> dict[str, Any]:
    """The pre-publication checklist, as ``curator issue check --json`` prints it."""
    links = checklist.links
    email = checklist.email
    return {
        "month": str(checklist.month),
        "ok": checklist.ok,
        "blocking": len(checklist.blocking),
        "warnings": len(checklist.warnings),
        "findings": [
            {"code": f.code, "severity": f.severity, "data": _plain(dict(f.data))} for f in checklist.findings
        ],
        "links": {
            "total": links.total,
            "checked": links.checked,
            "broken": links.broken,
            "last_checked": _dt(links.last_checked),
        },
        "email": None
        if email is None
        else {"html_bytes": email.html_bytes, "limit": email.limit, "error": email.error},
    }
