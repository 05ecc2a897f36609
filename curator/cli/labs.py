"""The labs' directory: curator labs [list|show|set|export|proposals]."""

from __future__ import annotations

from pathlib import Path

import click

from .common import ID, CuratorGroup, State, _cli_user, _now, echo, pass_state, plural, print_json

# The fields `curator labs set` takes, as options (--has-place yes …), in card order.
_SET_OPTIONS = (
    ("has_place", "yes or no: does the lab have a dedicated place?"),
    ("place", "Its address or a description of it."),
    (
        "innovation_types",
        "Innovation types, comma-separated ids or labels of `labs_vocabulary` (empty: none).",
    ),
    ("service_offer", "The service offer, in Markdown; @FILE reads it from a file."),
    ("stage", "prefiguration, lancement or actif (empty: not said)."),
    ("team", "Who runs the lab."),
    ("contact_email", "An address to write to the lab."),
    ("contact_public", "yes or no: show the contact address on the lab's public page."),
    ("feed", "The id of the lab's source in sources.yaml (empty: the source with `lab:` set to it)."),
)


def _list(state: State, as_json: bool) -> None:
    from ..labs import directory, display_value, lab_row

    config = state.config
    entries = directory(state.store, config)
    if as_json:
        print_json([lab_row(lab, card) for lab, card in entries])
        return
    for lab, card in entries:
        stage = display_value("stage", card.stage, config, "en") or "-"
        types = ", ".join(card.innovation_types) or "-"
        updated = f"{card.updated_at:%Y-%m-%d}" if card.updated_at else "never filled"
        echo(f"{lab.id:<22} {lab.name[:34]:<34} {lab.academie[:18]:<18} {stage:<14} {updated:<12} {types}")
    pending = state.store.lab_proposals(status="pending")
    click.echo(
        f"{plural(len(entries), 'lab')}"
        + (f"; {plural(len(pending), 'proposal')} waiting: `curator labs proposals`." if pending else "."),
        err=True,
    )


@click.group(cls=CuratorGroup, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its keys).")
@click.pass_context
@pass_state
def labs(state: State, ctx: click.Context, as_json: bool) -> None:
    """The labs' directory: list the labs and their identity cards; show, set, export; proposals."""
    if ctx.invoked_subcommand is None:
        _list(state, as_json)


@labs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its keys).")
@pass_state
def labs_list(state: State, as_json: bool) -> None:
    """List the labs of sources.yaml with their cards (the same as `curator labs`)."""
    _list(state, as_json)


@labs.command("show")
@click.argument("lab_id", metavar="ID")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the card, its history and the labs like it as JSON."
)
@pass_state
def labs_show(state: State, lab_id: str, as_json: bool) -> None:
    """Show a lab's card, its history and the labs closest to it."""
    from ..labs import FIELD_LABELS, display_value, lab_row, require_lab, similar_labs, similarity_reason
    from ..models import LAB_CARD_FIELDS

    config = state.config
    store = state.store
    lab = require_lab(config, lab_id)
    card = store.lab_card(lab.id)
    history = store.lab_card_changes(lab.id)
    similar = similar_labs(config, store.lab_cards(), lab.id)
    if as_json:
        data = lab_row(lab, card)
        data["history"] = [
            {
                "at": c.at.isoformat(),
                "by": c.by,
                "origin": c.origin,
                "changes": c.changes,
                "proposal": c.proposal_id,
            }
            for c in history
        ]
        data["similar"] = [
            {"id": s.lab.id, "score": round(s.score, 4), "types": list(s.types), "words": list(s.words)}
            for s in similar
        ]
        print_json(data)
        return
    lines = [f"{lab.name} ({lab.id})", f"académie:  {lab.academie or '-'}, {lab.city or '-'}"]
    if lab.website:
        lines.append(f"website:   {lab.website}")
    for name in LAB_CARD_FIELDS:
        value = display_value(name, getattr(card, name), config, "en")
        label = FIELD_LABELS[name].split(" (")[0]
        if name == "service_offer" and value:
            lines += [f"{label}:", *("  " + line for line in value.splitlines())]
        else:
            lines.append(f"{label}: {value or '-'}")
    lines.append(
        f"updated:   {card.updated_at:%Y-%m-%d %H:%M} UTC by {card.updated_by}"
        if card.updated_at
        else "never filled"
    )
    if similar:
        lines += ["", "Labs like it:"]
        lines += [f"  {s.lab.id:<22} {similarity_reason(s, config, 'en')}" for s in similar]
    if history:
        lines += ["", "History:"]
        lines += [
            f"  {c.at:%Y-%m-%d %H:%M} UTC  {c.by} ({c.origin}): {', '.join(c.changes)}" for c in history
        ]
    echo("\n".join(lines))


def _set_options(f: click.decorators.FC) -> click.decorators.FC:
    for name, help_text in reversed(_SET_OPTIONS):
        f = click.option(f"--{name.replace('_', '-')}", name, default=None, help=help_text)(f)
    return f


@labs.command("set")
@click.argument("lab_id", metavar="ID")
@_set_options
@pass_state
def labs_set(state: State, lab_id: str, **fields: str | None) -> None:
    """Change fields of a lab's card (each change is kept in its history).

    \b
    curator labs set lab-normandie --stage actif --has-place yes \\
        --innovation-types numerique,design-de-service --service-offer @offre.md
    """
    from ..errors import UsageError
    from ..labs import set_card

    data: dict[str, str] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name == "service_offer" and value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"--service-offer {value}: cannot read the file ({exc})") from None
        data[name] = value
    if not data:
        raise UsageError("nothing to set: give at least one field, like --stage actif (see --help)")
    card, changed = set_card(
        state.store, state.config, lab_id, data, by=_cli_user(), origin="cli", now=_now(), locale="en"
    )
    if changed:
        click.echo(f"Card of {card.lab} updated (version {card.version}): {', '.join(data)}.")
    else:
        click.echo(f"Card of {card.lab} unchanged: it already says that.")


@labs.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "csv", "geojson"]),
    default="json",
    show_default=True,
    help="geojson: one point per lab (its lat/lon in sources.yaml, else its académie's chief town).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (default: stdout).",
)
@pass_state
def labs_export(state: State, fmt: str, output: str | None) -> None:
    """Export the directory (contact addresses only where the lab agreed to show them)."""
    from ..labs import directory, export_labs, lab_point

    entries = directory(state.store, state.config)
    text = export_labs(entries, fmt)
    if fmt == "geojson":
        for lab, _card in entries:
            if lab_point(lab) is None:
                click.echo(
                    f"warning: no coordinates for {lab.id}: add lat and lon to its entry in sources.yaml "
                    f"(or an académie the bundled table knows); its feature has no geometry",
                    err=True,
                )
    if output:
        from ..config.edit import write_atomically

        write_atomically(Path(output), text.encode("utf-8"))
        click.echo(f"Wrote {plural(len(entries), 'lab')} to {output}.", err=True)
    else:
        click.echo(text, nl=False)


@labs.group("proposals", cls=CuratorGroup, invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Also the proposals already approved or rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@pass_state
def proposals(state: State, ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """The changes labs proposed through /contribuer/lab: what each would change; approve or reject."""
    if ctx.invoked_subcommand is not None:
        return
    from ..labs import proposal_diff

    config = state.config
    store = state.store
    found = store.lab_proposals(status=None if show_all else "pending")
    if as_json:
        print_json(
            [
                {
                    "id": p.id,
                    "lab": p.lab,
                    "status": p.status,
                    "author_name": p.author_name,
                    "author_email": p.author_email,
                    "submitted_at": p.submitted_at.isoformat(),
                    "changes": {
                        d.field: {"old": d.old, "new": d.new, "changed_since": d.moved}
                        for d in proposal_diff(store, config, p, locale="en")
                    },
                    "reject_reason": p.reject_reason,
                }
                for p in found
            ]
        )
        return
    for p in found:
        echo(
            f"#{p.id}  {p.lab}  {p.status}  {p.submitted_at:%Y-%m-%d %H:%M} UTC  by {p.author_name} <{p.author_email}>"
        )
        for d in proposal_diff(store, config, p, locale="en"):
            moved = "  (changed since the lab saw it)" if d.moved else ""
            echo(f"    {d.field}:{moved}")
            echo(f"      - {d.old or '(empty)'}".replace("\n", "\n        "))
            echo(f"      + {d.new or '(empty)'}".replace("\n", "\n        "))
    click.echo(
        f"{plural(len(found), 'proposal')}"
        + (
            " waiting: `curator labs proposals approve ID` or `reject ID --reason …`."
            if found and not show_all
            else "."
        ),
        err=True,
    )


@proposals.command("approve")
@click.argument("proposal_id", metavar="ID", type=ID)
@pass_state
def proposals_approve(state: State, proposal_id: int) -> None:
    """Apply a proposal to the lab's card (the fields the lab changed) and mark it approved."""
    from ..labs import approve_proposal

    proposal, card = approve_proposal(
        state.store, state.config, proposal_id, editor=_cli_user(), now=_now(), locale="en"
    )
    click.echo(f"Proposal #{proposal.id} approved: card of {card.lab} at version {card.version}.")


@proposals.command("reject")
@click.argument("proposal_id", metavar="ID", type=ID)
@click.option("--reason", required=True, help="Why it is rejected (kept with the proposal).")
@pass_state
def proposals_reject(state: State, proposal_id: int, reason: str) -> None:
    """Reject a proposal, with a reason; the card does not change."""
    from ..labs import reject_proposal

    proposal = reject_proposal(
        state.store, proposal_id, reason=reason, editor=_cli_user(), now=_now(), locale="en"
    )
    click.echo(f"Proposal #{proposal.id} rejected.")
