"""Domain errors: every failure a person can fix carries the context to fix it."""

from __future__ import annotations


class CuratorError(Exception):
    """Base class for errors that curator reports to a person (no traceback)."""

    exit_code = 1


class ConfigError(CuratorError):
    """`sources.yaml` is unreadable or invalid; the message names file, entry and field."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        entry: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = path
        self.entry = entry
        self.field = field
        self.line = line
        where = []
        if path:
            where.append(f"{path}:{line}" if line else path)
        if entry:
            where.append(entry)
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UsageError(CuratorError):
    """A value given by a person is wrong (a bad month, an unknown id...)."""

    exit_code = 2


class NotFoundError(CuratorError):
    """Something asked for by id does not exist."""


class FetchError(CuratorError):
    """A source could not be fetched; `kind` is a short machine-readable reason."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class ParseError(CuratorError):
    """A fetched document is not a usable feed."""


class StoreError(CuratorError):
    """The database cannot be used (locked, corrupt, from a newer version...)."""


class ConflictError(CuratorError):
    """A stale edit: somebody else changed the same thing first."""


class InUseError(ConflictError):
    """The thing is used by an issue (picked, or in a published issue); ``month`` says which."""

    def __init__(self, message: str, month: object) -> None:
        self.month = month
        super().__init__(message)


class RenderError(CuratorError):
    """A template could not be rendered; the message names the template."""
