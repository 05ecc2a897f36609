"""Who gets the issue: addresses given on the command line or read from a CSV file, checked.

A bad line of a CSV file (a value that is not an address) is skipped and reported with its
line number by :func:`read_recipient_list` and :func:`collect_recipients`, which return the
lines they skipped beside the addresses; with ``strict=True`` (and in :func:`read_recipients`
and :func:`recipients_from`, which return the addresses alone) it stops everything with a
UsageError instead, so no caller can lose a line without hearing of it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

# --- recipients -------------------------------------------------------------------------

_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+$")
_HEADER_NAMES = {"email", "e-mail", "mail", "courriel", "adresse", "address", "adresse électronique"}


def _problem(address: str) -> str | None:
    """Why ``address`` (stripped) is not an email address, or None if it is one."""
    if not _ADDRESS_RE.match(address) or address.endswith(".") or ".." in address.partition("@")[2]:
        return f"{address!r} is not an email address"
    return None


def check_address(address: str, where: str = "") -> str:
    address = address.strip()
    problem = _problem(address)
    if problem is not None:
        raise UsageError(f"{where}{problem}")
    return address


@dataclass(frozen=True)
class SkippedLine:
    """A line of a recipients file that holds no usable address."""

    path: Path
    line: int  # 1 = the file's first line
    value: str  # what the address column held, stripped
    reason: str  # "'pas-une-adresse' is not an email address"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class RecipientList:
    """The addresses to send to, in order and without duplicates, and the lines skipped."""

    addresses: tuple[str, ...]
    skipped: tuple[SkippedLine, ...] = ()


def read_recipient_list(path: Path, *, strict: bool = False) -> RecipientList:
    """The addresses of a CSV file: the column named email (or courriel, mail…), else the
    first one that holds an address; ``,`` ``;`` or tab separated; duplicates dropped.

    A line whose value is not an address is skipped and listed in ``skipped``; with
    ``strict`` the first one is a UsageError. A file that cannot be read, has no address
    column, or no address at all is a UsageError either way.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
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
    skipped: list[SkippedLine] = []
    for n, row in rows:
        value = row[column].strip() if column < len(row) else ""
        problem = _problem(value)
        if problem is None:
            found.setdefault(value.lower(), value)
        elif strict:
            raise UsageError(f"{path}:{n}: {problem}")
        else:
            skipped.append(SkippedLine(path, n, value, problem))
    if not found and skipped:
        raise UsageError(
            f"{path}: no email address in the file ({len(skipped)} line(s) skipped; the first: {skipped[0]})"
        )
    return RecipientList(tuple(found.values()), tuple(skipped))


def collect_recipients(
    to: Iterable[str], recipients_file: Path | None, *, strict: bool = False
) -> RecipientList:
    """``--to`` addresses then the file's, in order, without duplicates, and the file's lines skipped.

    ``--to`` addresses are always checked strictly (a typo there is a usage error); ``strict``
    applies to the file's lines (see :func:`read_recipient_list`).
    """
    found = [check_address(a, "--to: ") for a in to]
    skipped: tuple[SkippedLine, ...] = ()
    if recipients_file is not None:
        from_file = read_recipient_list(recipients_file, strict=strict)
        found += from_file.addresses
        skipped = from_file.skipped
    unique: dict[str, str] = {}
    for address in found:
        unique.setdefault(address.lower(), address)
    return RecipientList(tuple(unique.values()), skipped)


def read_recipients(path: Path) -> list[str]:
    """The addresses of a CSV file (see :func:`read_recipient_list`); a bad line is a UsageError."""
    return list(read_recipient_list(path, strict=True).addresses)


def recipients_from(to: Iterable[str], recipients_file: Path | None) -> list[str]:
    """``--to`` addresses then the file's, in order, without duplicates; a bad line is a UsageError
    (:func:`collect_recipients` skips bad lines and says which)."""
    return list(collect_recipients(to, recipients_file, strict=True).addresses)
