"""The web app factory: the public contribution form and the editor area, in French, without JavaScript.

Run it locally with ``curator serve``; in production under a WSGI server::

    CURATOR_SECRET_KEY=... gunicorn 'curator.web:create_app_from_env()'
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from ..config import Config, WebSettings, load_config
from ..errors import ConfigError, CuratorError, UsageError
from ..i18n import (
    elide,
    format_ago,
    format_datetime,
    format_day,
    format_days_ago,
    format_number,
    install_gettext,
)
from ..reports import LICENSES, STATUS_LABELS, render_markdown
from ..store import Store
from ..typography import typography, typography_html
from ..urls import is_http_url, strip_tracking

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY_ENV = "CURATOR_SECRET_KEY"
HTTPS_ENV = "CURATOR_HTTPS"
MIN_SECRET_KEY_LENGTH = 32

csrf = CSRFProtect()


@dataclass(frozen=True)
class WebState:
    """What the app shares between requests, kept on ``app.extensions["curator"]``."""

    config: Config
    db_path: str
    settings: WebSettings
    locale: str
    demo: bool = False
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    config_mtime: float = 0.0  # of sources.yaml when ``config`` was read

    def now(self) -> datetime:
        return self.clock()

    @property
    def timezone(self) -> str:
        return self.config.newsletter.timezone


class _SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over https (or always, if configured)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return has_request_context() and request.is_secure


def state() -> WebState:
    from flask import current_app

    result: WebState = current_app.extensions["curator"]
    return result


def _reload_changed_config() -> None:
    """Before each request: when sources.yaml changed on disk (``curator sources import``, or
    the editor area's OPML import in another worker), read it again; a file that no longer
    loads keeps the last good configuration (``curator check`` says what is wrong)."""
    from flask import current_app

    current = state()
    mtime = _mtime(current.config.path)
    if mtime == current.config_mtime:
        return
    try:
        current = replace(current, config=load_config(current.config.path), config_mtime=mtime)
    except ConfigError:
        current_app.logger.warning(
            "%s changed but does not load: keeping the last good one", current.config.path
        )
        current = replace(current, config_mtime=mtime)
    current_app.extensions["curator"] = current


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def get_store() -> Store:
    """The store of the current request, opened on first use and closed when the request ends."""
    if "curator_store" not in g:
        g.curator_store = Store.open(state().db_path, migrate=False)
    store: Store = g.curator_store
    return store


def _close_store(exc: BaseException | None) -> None:
    store = g.pop("curator_store", None)
    if store is not None:
        store.close()


def _secret_key(secret_key: str | None, *, testing: bool, demo: bool) -> str:
    key = secret_key or os.environ.get(SECRET_KEY_ENV, "")
    if not key:
        if testing or demo:
            return secrets.token_hex(32)
        raise UsageError(
            f"{SECRET_KEY_ENV} is not set: the web app needs a secret key to sign its cookies. "
            f"Generate one with: python -c 'import secrets; print(secrets.token_hex(32))' "
            f"and set it in the environment of the server (never in the repository)"
        )
    if len(key) < MIN_SECRET_KEY_LENGTH and not testing:
        raise UsageError(
            f"{SECRET_KEY_ENV} is too short: use at least {MIN_SECRET_KEY_LENGTH} random characters"
        )
    return key


def create_app(
    config_path: str | Path,
    db_path: str | Path,
    *,
    secret_key: str | None = None,
    testing: bool = False,
    demo: bool = False,
    **overrides: Any,
) -> Flask:
    """Build the app for ``config_path`` (sources.yaml) and ``db_path`` (the SQLite database).

    The secret key comes from ``secret_key`` or the environment variable
    CURATOR_SECRET_KEY; only a demo or a test may run without one (a random
    key is made, and sessions end with the process). ``overrides`` whose
    names are fields of :class:`WebSettings` (``submission_limit=100``)
    replace the ``web:`` settings of sources.yaml; the others, in upper
    case, are Flask settings.
    """
    config = load_config(config_path)
    clock: Callable[[], datetime] = overrides.pop("clock", None) or _utcnow
    setting_names = {f.name for f in fields(WebSettings)}
    chosen = {k: v for k, v in overrides.items() if k in setting_names}
    if os.environ.get(HTTPS_ENV, "").strip().lower() in ("1", "true", "yes"):
        chosen["secure_cookies"] = True
    settings = replace(config.web, **chosen)

    app = Flask(
        __name__,
        template_folder=str(PACKAGE_DIR / "templates"),
        static_folder=str(PACKAGE_DIR / "static"),
        static_url_path="/static",
    )
    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True}
    app.config.update(
        SECRET_KEY=_secret_key(secret_key, testing=testing, demo=demo),
        TESTING=testing,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        SESSION_COOKIE_NAME="curator_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.config.update({k: v for k, v in overrides.items() if k not in setting_names})
    app.session_interface = _SessionInterface()
    if settings.proxy_count:
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]

    with Store.open(db_path):
        pass  # creates the database and runs the migrations once, before any request
    locale = config.newsletter.locale or "fr"
    app.extensions["curator"] = WebState(
        config=config,
        db_path=str(db_path),
        settings=settings,
        locale=locale,
        demo=demo,
        clock=clock,
        config_mtime=_mtime(config.path),
    )
    csrf.init_app(app)
    app.before_request(_reload_changed_config)
    app.teardown_appcontext(_close_store)

    _setup_templates(app, locale, config.newsletter.timezone)
    _setup_errors(app)
    app.after_request(_security_headers)

    from . import archive, curation, editor, labs, public, publishing, sending, sources  # noqa: F401 (they add routes to the editor and public blueprints)

    app.register_blueprint(public.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(archive.bp)
    # The pages link their icon (/static/favicon.svg); browsers that ask for /favicon.ico anyway get it too.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    return app


def create_app_from_env() -> Flask:
    """The app for a WSGI server: CURATOR_CONFIG, CURATOR_DB and CURATOR_SECRET_KEY from the environment."""
    return create_app(
        os.environ.get("CURATOR_CONFIG", "sources.yaml"),
        os.environ.get("CURATOR_DB", "curator.db"),
    )


def _setup_templates(app: Flask, locale: str, tz: str) -> None:
    env = app.jinja_env
    install_gettext(env, locale)
    env.filters["markdown"] = render_markdown
    env.filters["clean_link"] = _clean_link
    env.filters["day"] = lambda value: format_day(value, locale, tz)
    env.filters["when"] = lambda value: format_datetime(value, locale, tz)
    env.filters["ago"] = lambda value: format_ago(value, state().now(), locale, tz)
    env.filters["number"] = lambda value, sign=False, digits=1: format_number(
        value, locale, sign=sign, digits=digits
    )
    env.filters["points"] = lambda value, sign=True: _points(value, locale, sign)
    env.filters["days_ago"] = lambda days: format_days_ago(int(days), locale)
    env.filters["typo"] = lambda value: _typo(value, locale)
    env.globals["elide"] = lambda word, following: elide(word, following, locale)
    env.globals.update(LICENSES=LICENSES, STATUS_LABELS=STATUS_LABELS)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "newsletter": state().config.newsletter,
            "current_editor": g.get("editor"),
            "pending_lab_proposals": _pending_lab_proposals,
        }


def _pending_lab_proposals() -> int:
    """How many proposals of the labs' cards wait for an editor (the editor nav shows it);
    0 when the store cannot say, so that an error page still shows."""
    try:
        return len(get_store().lab_proposals(status="pending"))
    except CuratorError:
        return 0


def _typo(value: Any, locale: str) -> Any:
    """French typography (apostrophes, no-break spaces) on text from the data (titles, names):
    what people read; form fields and text shown verbatim keep what was typed."""
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return typography_html(str(value.__html__()), locale)
    return typography(str(value), locale)


def _points(value: float, locale: str, sign: bool = True) -> str:
    """The points of a reason for a score, signed: « +2,0 », « -0,5 », « +0,25 » (one decimal,
    or two when it has them)."""
    return format_number(value, locale, sign=sign, digits=1 if round(value, 1) == round(value, 2) else 2)


def _clean_link(url: str | None) -> str | None:
    """A link fit for an href: http(s) only (checked again here), without tracking parameters."""
    if not url or not is_http_url(url) or not url.lower().startswith(("http://", "https://")):
        return None
    return strip_tracking(url)


# No script anywhere by default; a page that needs its own script file says so
# with ``allow_own_scripts``.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def allow_own_scripts(response: Response) -> Response:
    """Let ``response`` run the scripts of /static (and nothing inline)."""
    response.headers["Content-Security-Policy"] = CSP + "; script-src 'self'"
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def error_page(status: int, title: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A French error page with ``status``."""
    response = Response(
        render_template("web/error.html", status=status, title=title, message=message),
        status=status,
        mimetype="text/html",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class RateLimited(HTTPException):
    """Too many submissions or failed logins from one place; ``retry_after`` in seconds, the message translated."""

    code = 429

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _setup_errors(app: Flask) -> None:
    from .messages import _

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        if request.endpoint == "public.contribute":
            from .public import form_after_csrf_error

            return form_after_csrf_error()
        if request.endpoint == "public.contribute_lab":
            from .labs import lab_form_after_csrf_error

            return lab_form_after_csrf_error()
        return error_page(
            400,
            _("Your session has expired"),
            _(
                "For your security, this form can only be sent from the page that shows it. Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(RateLimited)
    def _rate_limited(exc: RateLimited) -> Any:
        return error_page(
            429, _("Too many attempts"), exc.description or "", {"Retry-After": str(exc.retry_after)}
        )

    @app.errorhandler(413)
    def _too_large(exc: HTTPException) -> Any:
        if request.endpoint == "public.contribute_lab":
            return error_page(
                413,
                _("What you sent is too large"),
                _(
                    "The form cannot accept that much text. Shorten the card's texts (the service offer "
                    "takes at most 3,000 characters) and send it again."
                ),
            )
        return error_page(
            413,
            _("What you sent is too large"),
            _(
                "The form cannot accept that much text. Shorten your report (at most 20,000 characters) and send it again."
            ),
        )

    @app.errorhandler(404)
    def _not_found(exc: HTTPException) -> Any:
        return error_page(404, _("Page not found"), _("Check the address, or go to the contribution form."))

    @app.errorhandler(405)
    def _not_allowed(exc: HTTPException) -> Any:
        allowed = getattr(exc, "valid_methods", None)
        return error_page(
            405,
            _("This action is not possible here"),
            _("Go back to the previous page and use its buttons."),
            {"Allow": ", ".join(allowed)} if allowed else None,
        )

    @app.errorhandler(400)
    def _bad_request(exc: HTTPException) -> Any:
        return error_page(
            400, _("The request is not valid"), _("Go back to the previous page, reload it and try again.")
        )

    @app.errorhandler(500)
    def _server_error(exc: HTTPException) -> Any:
        return error_page(
            500,
            _("Something went wrong on our side"),
            _("Nothing you did caused this. Try again in a few minutes."),
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)
