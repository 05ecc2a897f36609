"""Who gets the issue: addresses given on the command line or read from a CSV file, checked."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    pass


# --- recipients -------------------------------------------------------------------------

_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+$")
_HEADER_NAMES = {"email", "e-mail", "mail", "courriel", "adresse", "address", "adresse électronique"}


def check_address(address: str, where: str = "") -> str:
    address = address.strip()
    if not _ADDRESS_RE.match(address) or address.endswith(".") or ".." in address.partition("@")[2]:
        raise UsageError(f"{where}{address!r} is not an email address")
    return address


def read_recipients(path: Path) -> list[str]:
    """The addresses of a CSV file: the column named email (or courriel, mail…), else the
    first one that holds an address; ``,`` ``;`` or tab separated; duplicates dropped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the recipients file ({exc})") from None
    lines = text.splitlines()
    first_line = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = max(",;\t", key=first_line.count)  # "," when none is there
    rows = [(n, row) for n, row in enumerate(csv.reader(lines, delimiter=delimiter), 1)]
    rows = [
        (n, row) for n, row in rows if any(c.strip() for c in row) and not row[0].lstrip().startswith("#")
    ]
    if not rows:
        raise UsageError(f"{path}: no recipient in the file")
    first = [c.strip().lower() for c in rows[0][1]]
    column = next((i for i, c in enumerate(first) if c in _HEADER_NAMES), None)
    if column is not None:
        rows = rows[1:]
    else:
        column = next((i for i, c in enumerate(first) if "@" in c), None)
        if column is None:
            raise UsageError(f"{path}: no column named email, and no address on the first line")
    found: dict[str, str] = {}
    for n, row in rows:
        value = row[column].strip() if column < len(row) else ""
        address = check_address(value, f"{path}:{n}: ")
        found.setdefault(address.lower(), address)
    return list(found.values())


def recipients_from(to: Iterable[str], recipients_file: Path | None) -> list[str]:
    """``--to`` addresses then the file's, in order, without duplicates."""
    found = [check_address(a, "--to: ") for a in to]
    if recipients_file is not None:
        found += read_recipients(recipients_file)
    unique: dict[str, str] = {}
    for address in found:
        unique.setdefault(address.lower(), address)
    return list(unique.values())
