"""The static archive, served at ``/`` next to the form and the editor area.

The folder is the one ``curator build`` writes (``archive: {out: …}``, else
``archive/``; the Flask setting ``CURATOR_ARCHIVE_DIR`` overrides it). Pages,
feeds and the search index are revalidated at each visit (``no-cache`` with
ETag and Last-Modified, so an unchanged page costs a 304); the stylesheet and
script are cached for an hour. The build's own files (``.curator/``) are never
served. An address that only a form of the app may POST to (``/editeur/deconnexion``)
is not the archive's: a GET there answers 405, not the archive's 404.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, send_file
from markupsafe import escape
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

bp = Blueprint("archive", __name__)

ASSET_MAX_AGE = 3600
_BASE_RE = re.compile(rb'<base href="[^"]*">')
_MIMETYPES = {  # werkzeug adds "; charset=utf-8"
    ".xml": "application/xml",
    ".ics": "text/calendar",
    ".js": "text/javascript",
    ".txt": "text/plain",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The email version is the message as sent: inline styles, and images from the team's site (a logo).
_EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def archive_dir() -> Path:
    configured = current_app.config.get("CURATOR_ARCHIVE_DIR")
    if configured:
        return Path(configured).resolve()
    out: Path = current_app.extensions["curator"].config.archive.out
    return out


@bp.route("/", defaults={"path": ""})
@bp.route("/<path:path>")
def serve(path: str) -> Response:
    _refuse_actions()
    root = archive_dir()
    if any(part.startswith(".") for part in path.split("/")):
        abort(404)
    target = safe_join(str(root), path) if path else str(root)
    if target is None:
        abort(404)
    file = Path(target)
    if file.is_dir():
        if path and not path.endswith("/"):
            return redirect(request.path + "/", code=308)
        file = file / "index.html"
    if not file.is_file():
        if not path:
            from ..i18n import gettext
            from . import error_page

            locale = current_app.extensions["curator"].locale
            return error_page(
                404,
                gettext("The archive is not built yet", locale),
                gettext(
                    "Publish an issue with `curator publish --month YYYY-MM`, or build the archive with `curator build`.",
                    locale,
                ),
            )
        return _not_found(root)
    response = send_file(
        file, mimetype=_MIMETYPES.get(file.suffix), conditional=True, etag=True, max_age=None
    )
    _cache_headers(response, file)
    return response


def _refuse_actions() -> None:
    """405 when the address is a POST route of the app: this catch-all must not hide it behind a 404."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return
    try:
        endpoint, _values = adapter.match(request.path, method="POST")
    except HTTPException:
        return
    if endpoint != request.endpoint:
        raise MethodNotAllowed(valid_methods=["POST"])


def _cache_headers(response: Response, file: Path) -> None:
    if file.suffix in (".css", ".js") and file.name.startswith("archive"):
        response.cache_control.public = True
        response.cache_control.max_age = ASSET_MAX_AGE
    else:  # revalidated at each visit: an unchanged file costs a 304
        response.cache_control.no_cache = True
        response.cache_control.public = True
        response.cache_control.max_age = None
    response.headers["Content-Security-Policy"] = _EMAIL_CSP if file.name == "email.html" else _PAGE_CSP


def _not_found(root: Path) -> Response:
    page = root / "404.html"
    if not page.is_file():
        abort(404)  # no archive built yet: the app's own page
    # The page addresses its links from the archive's public path; here the archive is at "/".
    here = str(escape((request.script_root or "") + "/")).encode()
    body = _BASE_RE.sub(b'<base href="' + here + b'">', page.read_bytes(), count=1)
    response = Response(body, status=404, mimetype="text/html")
    response.cache_control.no_cache = True
    response.headers["Content-Security-Policy"] = _PAGE_CSP
    return response
