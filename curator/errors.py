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
        self.message = message  # without the place
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


# --- the domain's refusals: each carries its data, so that every door can say it in its
# --- own words (the CLI in English with a hint, the web in French), never by reading text.


class IssueFrozen(ConflictError):
    """The issue is published and frozen: it must be reopened before it changes."""

    def __init__(self, month: object) -> None:
        self.month = month
        super().__init__(
            f"the issue {month} is published and frozen: reopen it first with `curator issue reopen --month {month}`"
        )


class SectionFull(ConflictError):
    """The section already has its ``max_picks``."""

    def __init__(self, section: str, limit: int, config_path: object) -> None:
        self.section = section
        self.limit = limit
        super().__init__(
            f"the section {section!r} already has its maximum of {limit} picks: "
            f"unpick one first or raise max_picks in {config_path}"
        )


class StaleEdit(ConflictError):
    """Someone else changed ``what`` (an issue, a pick, a section's order, a report) since the
    page was drawn; ``field`` names the part of it (``title``, ``edito``) when it is one."""

    def __init__(self, what: str, ref: object, field: str | None = None) -> None:
        self.what = what
        self.ref = ref
        self.field = field
        subject = f"the {field} of {what} {ref}" if field else f"{what} {ref}"
        super().__init__(f"{subject} was changed by someone else in the meantime: reload it and try again")


class NotPicked(NotFoundError):
    """The item or report ``ref`` is not in the issue of ``month``."""

    def __init__(self, ref: str, month: object) -> None:
        self.ref = ref
        self.month = month
        super().__init__(f"{ref} is not picked in {month}: `curator pick {ref} --month {month}` first")


class NotPublished(UsageError):
    """The issue of ``month`` is not published (so it cannot be reopened, or sent)."""

    def __init__(self, month: object, message: str | None = None) -> None:
        self.month = month
        super().__init__(message or f"the issue {month} is not published: nothing to reopen")


class EmptyIssue(UsageError):
    """The issue of ``month`` has nothing in it yet."""

    def __init__(self, month: object) -> None:
        self.month = month
        super().__init__(
            f"the issue {month} is empty: pick items first (`curator candidates --month {month}`)"
        )


class AlreadyDecided(UsageError):
    """The report (or, with ``what="lab card proposal"``, the proposal) was already approved or
    rejected (``status``)."""

    def __init__(self, report_id: int, status: str, what: str = "report") -> None:
        self.report_id = report_id
        self.status = status
        self.what = what
        super().__init__(f"{what} {report_id} is already {status}")


class InvalidValue(UsageError):
    """A value an editor gave is refused: ``field`` names it, ``problem`` says why.

    Problems: ``required``, ``too_long`` (``limit``), ``not_http`` (a URL), ``unknown``
    (an id that does not exist), ``date_range`` (``low``, ``high``), ``ends_before_start``,
    ``position``.
    """

    def __init__(self, field: str, problem: str, message: str, **data: object) -> None:
        self.field = field
        self.problem = problem
        self.data = data
        super().__init__(message)


class SendInProgress(ConflictError):
    """The issue of ``month`` is already being sent to the list (the job ``job_id``): a second
    send would not start until it ends (or, if it stopped answering, until it is resumed)."""

    def __init__(self, month: object, job_id: int | None = None) -> None:
        self.month = month
        self.job_id = job_id
        super().__init__(
            f"the issue {month} is already being sent to the list: wait for the end of that send"
        )


class ChecklistBlocked(UsageError):
    """The pre-publication checklist of ``month`` has blocking findings (their ``codes``), and
    publishing despite them was not asked for."""

    def __init__(self, month: object, codes: tuple[str, ...]) -> None:
        self.month = month
        self.codes = codes
        super().__init__(
            f"the issue {month} has {len(codes)} blocking point(s) ({', '.join(sorted(set(codes)))}): "
            f"see `curator issue check --month {month}`"
        )


class ArchiveBuildFailed(CuratorError):
    """The archive could not be rebuilt after ``action`` (``publish`` or ``reopen``) on the issue
    of ``month``: the issue was put back as it was (its ``state`` now: ``published`` or
    ``draft``) and the previous archive is intact. ``reason`` says what failed."""

    def __init__(self, month: object, action: str, state: str, reason: str, message: str) -> None:
        self.month = month
        self.action = action
        self.state = state
        self.reason = reason
        super().__init__(message)
