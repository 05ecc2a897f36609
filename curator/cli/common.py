"""What every command shares: the month and id types, the state, error handling and output helpers."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import CuratorError
from ..models import Month
from ..text import terminal_safe

if TYPE_CHECKING:
    from ..config import Config
    from ..store import Store

F = TypeVar("F", bound=Callable[..., Any])


class MonthType(click.ParamType):
    """A ``YYYY-MM`` month on the command line."""

    name = "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Month:
        if isinstance(value, Month):
            return value
        try:
            return Month.parse(str(value))
        except CuratorError as exc:
            self.fail(str(exc), param, ctx)


MONTH = MonthType()
ID = click.IntRange(1, 999_999_999_999_999_999)  # a stored id: SQLite integers are 64-bit


class State:
    """What every command shares: where the database and the configuration are."""

    def __init__(self, db: str = "curator.db", config: str = "sources.yaml") -> None:
        self.db_path = db
        self.config_path = config
        self._config: Config | None = None
        self._store: Store | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from ..config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            from ..store import Store

            self._store = Store.open(self.db_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class CuratorGroup(click.Group):
    """Turns domain errors into one clear line and the right exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CuratorError as exc:
            error = click.ClickException(terminal_safe(str(exc)))
            error.exit_code = exc.exit_code
            raise error from None


def _set_db(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        ctx.ensure_object(State).db_path = value
    return value


def _set_config(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        ctx.ensure_object(State).config_path = value
    return value


def common_options(f: F) -> F:
    """``--db`` and ``--config`` are accepted after the command name too."""
    f = click.option(
        "--config",
        type=click.Path(dir_okay=False),
        callback=_set_config,
        expose_value=False,
        help="The configuration file (env CURATOR_CONFIG; default sources.yaml).",
    )(f)
    f = click.option(
        "--db",
        type=click.Path(dir_okay=False),
        callback=_set_db,
        expose_value=False,
        help="The SQLite database (env CURATOR_DB; default curator.db).",
    )(f)
    return f


def pass_state(f: F) -> F:
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(click.get_current_context().find_object(State), *args, **kwargs)

    return common_options(wrapper)  # type: ignore[return-value]


def echo(message: str = "", *, err: bool = False) -> None:
    """``click.echo`` for lines that hold text from a feed or a form: control characters
    (a feed's ESC [2J, a CSI) are shown as ``?`` instead of reaching the terminal."""
    click.echo(terminal_safe(message), err=err)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """« 1 report », « 0 reports », « 2 reports » (the CLI speaks English); ``nouns`` when the
    plural is not ``noun`` + "s"."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _now() -> datetime:
    return datetime.now(UTC)


def _cli_user() -> str:
    import getpass

    try:
        return f"{getpass.getuser()} (cli)"
    except Exception:
        return "cli"
