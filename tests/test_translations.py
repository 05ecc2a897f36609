"""Every message people read has a French translation, with the same placeholders."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "curator" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def extracted() -> dict[str, list[str]]:
    """Every msgid of the code and templates (as `pybabel extract -F babel.cfg` finds them) → where."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        if not filename.startswith("curator"):
            continue
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def test_every_message_has_a_french_translation() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="fr")
    messages = extracted()
    assert messages, "babel.cfg finds no message: check its patterns"
    missing = []
    for msgid, where in sorted(messages.items()):
        entry = catalog.get(msgid)
        strings = (
            entry.string
            if entry is not None and isinstance(entry.string, tuple)
            else (entry and entry.string,)
        )
        if entry is None or entry.fuzzy or not all(strings):  # every plural form too
            missing.append(f"{msgid!r} ({', '.join(where)})")
    assert not missing, "no French translation in messages.po for:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="fr")
    problems = [f"{message.id!r}: {errors}" for message, errors in catalog.check() if errors]
    assert not problems, "\n".join(problems)
