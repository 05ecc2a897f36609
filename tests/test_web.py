"""The web app through Flask's test client, and under a real WSGI server for concurrency."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from conftest import TEST_EDITOR_EMAIL, VALID_REPORT, WebClient, serve_app

from curator.errors import UsageError
from curator.store import Store
from curator.web import create_app

pytestmark = pytest.mark.usefixtures("fast_passwords")

HOSTILE = {
    "lab_other": '<script>alert("lab")</script>',
    "author_name": '<img src=x onerror=alert("name")>',
    "author_email": '"><script>alert(1)</script>@example.org',
    "title": '<b id="injected">titre</b><script>alert("title")</script>',
    "summary": '</textarea><script>alert("summary")</script>',
    "body": '[clic](javascript:alert("body")) <iframe src="https://evil.example"></iframe> <svg onload=alert(1)>',
    "link": 'https://example.org/"><script>alert("link")</script>',
}


class Page(HTMLParser):
    """The elements of a page, to check labels, aria attributes and injected markup."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def by_id(self, element_id: str) -> dict[str, str]:
        return next(attrs for _tag, attrs in self.elements if attrs.get("id") == element_id)

    def ids(self) -> set[str]:
        return {attrs["id"] for _tag, attrs in self.elements if "id" in attrs}

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.elements if t == tag]


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def reports(web: WebClient) -> list[Any]:
    with web.store() as store:
        return store.reports()


# --- the public form ------------------------------------------------------------------


def test_the_form_is_french_and_every_field_has_a_label(web: WebClient) -> None:
    response = web.client.get("/contribuer")
    assert response.status_code == 200
    html = text(response)
    assert '<html lang="fr">' in html
    assert "Partager un retour d’expérience" in html
    page = Page(html)
    labelled = {attrs["for"] for attrs in page.all("label")}
    controls = [
        a for t, a in page.elements if t in ("input", "select", "textarea") and a.get("type") != "hidden"
    ]
    assert controls
    for control in controls:
        assert control["id"] in labelled, control
    names = {c["name"] for c in controls}
    assert {
        "lab",
        "lab_other",
        "author_name",
        "author_email",
        "title",
        "summary",
        "body",
        "link",
        "tags",
        "license",
        "consent",
    } <= names
    assert not page.all("script")
    # The honeypot is hidden from people and from screen readers.
    trap = re.search(r'<div class="hp" hidden aria-hidden="true">\s*<label for="website">', html)
    assert trap


def test_a_valid_submission_is_stored_verbatim_then_303_to_thanks(web: WebClient) -> None:
    body = "Première ligne\r\n\r\n  * deux *  \r\n"
    response = web.submit(body=body, title="  Titre  ")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/contribuer/merci")
    [report] = reports(web)
    assert (report.body, report.title, report.status) == (body, "  Titre  ", "pending")
    assert report.tags == ("facilitation", "communaute")
    thanks = web.client.get("/contribuer/merci")
    assert thanks.status_code == 200 and "Merci\u00a0: votre retour a bien été envoyé" in text(thanks)


def test_errors_are_shown_beside_their_fields_and_what_was_typed_comes_back(web: WebClient) -> None:
    response = web.submit(title="", author_email="pas-une-adresse", tags=["design"], summary="Mon résumé <3")
    assert response.status_code == 422
    html = text(response)
    assert html.count("<title>Erreur\u00a0:") == 1
    assert "Il y a 2 problèmes" in html  # the title and the address
    page = Page(html)
    assert page.by_id("title")["aria-invalid"] == "true"
    assert page.by_id("title")["aria-describedby"] == "title-hint title-error"
    assert "title-error" in page.ids() and "author_email-error" in page.ids()
    assert "Saisissez un titre." in html
    assert 'href="#title"' in html and 'href="#author_email"' in html  # the summary links to the fields
    # Everything typed is there again.
    assert page.by_id("author_email")["value"] == "pas-une-adresse"
    assert "Mon résumé &lt;3</textarea>" in html
    assert "checked" in page.by_id("tags-design") and "checked" not in page.by_id("tags-facilitation")
    assert page.by_id("license-etalab-2.0").get("checked") is not None
    assert 'value="lab-normandie" selected' in html
    assert "aria-invalid" not in page.by_id("author_name")
    assert reports(web) == []


def test_a_textarea_keeps_a_leading_line_break(web: WebClient) -> None:
    html = text(web.submit(title="", body="\n\nAprès deux lignes vides"))
    assert (
        '<textarea id="body" name="body" rows="14" aria-describedby="body-hint" required>\n\n\nAprès' in html
    )


def test_csrf_is_required_and_a_stale_form_comes_back_filled_in(web: WebClient) -> None:
    hidden = web.hidden()
    response = web.client.post(
        "/contribuer", data={**VALID_REPORT, "submission_key": hidden["submission_key"]}
    )
    assert response.status_code == 400
    html = text(response)
    assert "le formulaire a expiré" in html
    assert VALID_REPORT["title"] in html  # nothing typed is lost
    assert reports(web) == []
    response = web.client.post("/contribuer", data={**VALID_REPORT, "csrf_token": "forged"})
    assert response.status_code == 400 and reports(web) == []


def sample_path(rule: str) -> str:
    """A concrete path for a URL rule: every variable part filled with a plausible value."""
    import re

    return re.sub(
        r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: "2022-01" if m.group(1) == "month" else "1", rule
    )


def test_every_post_route_requires_a_csrf_token(app: Any, web: WebClient, editor_account: Any) -> None:
    assert web.login().status_code == 303
    with web.store() as store:
        from curator.reports import submit, validate_submission

        submit(store, validate_submission(VALID_REPORT, app.extensions["curator"].config), datetime.now(UTC))
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())]
    assert len(posts) >= 6
    for rule in posts:
        path = sample_path(rule.rule)
        response = web.client.post(path, data={"reason": "x", "email": TEST_EDITOR_EMAIL, "password": "x"})
        assert response.status_code == 400, path
    assert [r.status for r in reports(web)] == ["pending"]


def test_the_honeypot_answers_like_a_success_and_keeps_nothing(web: WebClient) -> None:
    response = web.submit(website="https://spam.example")
    assert response.status_code == 303 and response.headers["Location"].endswith("/contribuer/merci")
    assert reports(web) == []


def test_the_same_form_sent_twice_is_stored_once(web: WebClient) -> None:
    data = {**web.hidden(), **VALID_REPORT}
    assert web.client.post("/contribuer", data=data).status_code == 303
    assert web.client.post("/contribuer", data=data).status_code == 303
    assert len(reports(web)) == 1


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_submissions_are_rate_limited_per_address(make_app: Any) -> None:
    clock = Clock()
    app = make_app(web={"submission_limit": 2, "submission_window": 600}, clock=clock)
    web = WebClient(app)
    assert web.submit().status_code == 303
    assert web.submit(title="", body="").status_code == 422  # a refused form does not count
    assert web.submit().status_code == 303
    response = web.submit()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "600"
    assert "attendez 10 minutes" in text(response)
    assert VALID_REPORT["body"].split("\n")[0] in text(response)  # what was typed is still there
    # Another worker of the same site shares the limit: it lives in the database.
    other = WebClient(
        create_app(
            app.extensions["curator"].config.path,
            app.extensions["curator"].db_path,
            testing=True,
            clock=clock,
        )
    )
    assert other.submit().status_code == 429
    clock.now += timedelta(seconds=601)
    assert web.submit().status_code == 303
    assert len(reports(web)) == 3


def test_other_addresses_have_their_own_allowance(make_app: Any) -> None:
    app = make_app(web={"submission_limit": 1})
    web = WebClient(app)
    assert web.submit().status_code == 303
    assert web.submit().status_code == 429
    hidden = web.hidden()
    response = web.client.post(
        "/contribuer", data={**hidden, **VALID_REPORT}, environ_base={"REMOTE_ADDR": "198.51.100.4"}
    )
    assert response.status_code == 303


def test_forwarded_for_is_only_trusted_behind_a_configured_proxy(make_app: Any) -> None:
    def send(web: WebClient, forwarded_for: str) -> int:
        data = {**web.hidden(), **VALID_REPORT}
        return web.client.post(
            "/contribuer", data=data, headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    direct = WebClient(make_app(web={"submission_limit": 1}))
    assert send(direct, "203.0.113.1") == 303
    assert send(direct, "203.0.113.2") == 429  # the header is ignored: both came from 127.0.0.1
    proxied = WebClient(make_app(web={"submission_limit": 1, "proxy_count": 1}))
    assert send(proxied, "198.51.100.1") == 303
    assert send(proxied, "198.51.100.2") == 303
    assert send(proxied, "198.51.100.1") == 429


def test_a_request_too_large_gets_413_in_french(web: WebClient) -> None:
    response = web.submit(body="x" * (600 * 1024))
    assert response.status_code == 413
    assert "Votre envoi est trop volumineux" in text(response)
    assert reports(web) == []


def test_the_longest_report_fits_in_a_request(web: WebClient) -> None:
    # 20,000 characters of 4 bytes each, percent-encoded: the worst case for the size limit.
    longest = {"title": "🙂" * 200, "summary": "🙂" * 600, "body": "🙂" * 20_000, "author_name": "🙂" * 200}
    assert web.submit(**longest).status_code == 303


def test_security_headers(web: WebClient) -> None:
    response = web.client.get("/contribuer")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    css = web.client.get("/static/web.css")
    assert css.status_code == 200 and b":focus" in css.data


def test_pages_not_found_are_french(web: WebClient) -> None:
    response = web.client.get("/nulle-part")
    assert response.status_code == 404 and "Page introuvable" in text(response)


# --- the secret key -----------------------------------------------------------------


def test_a_missing_secret_key_is_a_clear_error_outside_demo_and_tests(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CURATOR_SECRET_KEY", raising=False)
    with pytest.raises(UsageError, match="CURATOR_SECRET_KEY is not set"):
        make_app(testing=False)
    with pytest.raises(UsageError, match="too short"):
        make_app(testing=False, secret_key="short")
    assert make_app(testing=False, demo=True).secret_key
    monkeypatch.setenv("CURATOR_SECRET_KEY", "k" * 40)
    assert make_app(testing=False).secret_key == "k" * 40


# --- the editor area ------------------------------------------------------------------


def test_every_editor_route_requires_a_login(app: Any, web: WebClient) -> None:
    with web.store() as store:
        from curator.reports import submit, validate_submission

        submit(store, validate_submission(VALID_REPORT, app.extensions["curator"].config), datetime.now(UTC))
    rules = [
        r for r in app.url_map.iter_rules() if r.rule.startswith("/editeur") and r.endpoint != "editor.login"
    ]
    assert {r.endpoint for r in rules} >= {
        "editor.index",
        "editor.show",
        "editor.approve_report",
        "editor.reject_report",
        "editor.edit_report",
        "editor.logout",
    }
    token = web.token()
    for rule in rules:
        path = sample_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token, "reason": "x", "title": "Piraté", "version": "1"}
            response = web.client.open(path, method=method, data=data if method == "POST" else None)
            assert response.status_code in (302, 303), (method, path, response.status_code)
            assert "/editeur/connexion" in response.headers["Location"], (method, path)
    [report] = reports(web)
    assert (report.status, report.title) == ("pending", VALID_REPORT["title"])


def test_login_failures_are_french_and_rate_limited(make_app: Any) -> None:
    app = make_app(web={"login_limit": 3})
    web = WebClient(app)
    from curator.editors import add_editor

    with web.store() as store:
        add_editor(store, TEST_EDITOR_EMAIL, "un mot de passe solide", datetime.now(UTC))
    for _ in range(3):
        response = web.login(password="mauvais mot de passe")
        assert response.status_code == 422
        assert "L’adresse électronique ou le mot de passe est incorrect." in text(response)
    response = web.login()
    assert response.status_code == 429 and "Trop de connexions échouées" in text(response)
    assert web.client.get("/editeur/").status_code == 302


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(web: WebClient, editor_account: Any) -> None:
    response = web.login()
    assert response.status_code == 303 and response.headers["Location"] == "/editeur/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert web.client.get("/editeur/").status_code == 200
    assert web.client.get("/editeur/deconnexion").status_code in (404, 405)  # logout is a POST
    response = web.post("/editeur/deconnexion")
    assert response.status_code == 303 and response.headers["Location"].endswith("/editeur/connexion")
    assert web.client.get("/editeur/").status_code == 302


def test_cookies_are_secure_over_https(
    web: WebClient, editor_account: Any, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hidden = web.client.get("/contribuer", base_url="https://labs.example.org")
    assert "Secure" in hidden.headers["Set-Cookie"]
    monkeypatch.setenv("CURATOR_HTTPS", "1")
    forced = WebClient(make_app())
    assert "Secure" in forced.client.get("/contribuer").headers["Set-Cookie"]


def test_login_redirects_back_to_the_page_asked_for_but_never_elsewhere(
    web: WebClient, editor_account: Any
) -> None:
    response = web.client.get("/editeur/retours/3")
    assert response.headers["Location"] == "/editeur/connexion?suivant=/editeur/retours/3"
    login = {"email": TEST_EDITOR_EMAIL, "password": "un mot de passe solide"}
    response = web.post("/editeur/connexion?suivant=/editeur/retours/3", login)
    assert response.headers["Location"] == "/editeur/retours/3"
    web.post("/editeur/deconnexion")
    for evil in ("https://evil.example/", "//evil.example/editeur", "/contribuer", "/\\evil.example"):
        response = web.post("/editeur/connexion", {**login, "suivant": evil})
        assert response.headers["Location"] == "/editeur/", evil
        web.post("/editeur/deconnexion")


def test_removing_an_editor_or_changing_the_password_ends_their_sessions(
    web: WebClient, editor_account: Any
) -> None:
    from curator.editors import add_editor, remove_editor

    web.login()
    assert web.client.get("/editeur/").status_code == 200
    with web.store() as store:
        add_editor(store, TEST_EDITOR_EMAIL, "a completely new one", datetime.now(UTC), update=True)
    assert web.client.get("/editeur/").status_code == 302
    web.login(password="a completely new one")
    with web.store() as store:
        remove_editor(store, TEST_EDITOR_EMAIL)
    assert web.client.get("/editeur/").status_code == 302


def test_moderation_list_view_approve_reject_edit(web: WebClient, editor_account: Any) -> None:
    for title in ("Premier", "Deuxième", "Troisième"):
        assert web.submit(title=title).status_code == 303
    web.login()
    listing = text(web.client.get("/editeur/"))
    assert listing.index("Troisième") < listing.index("Deuxième") < listing.index("Premier")  # newest first
    assert "En attente (3)" in listing
    first, second, third = sorted(r.id for r in reports(web))

    page = text(web.client.get(f"/editeur/retours/{third}"))
    assert "Tel qu’il paraîtra dans l’infolettre" in page
    assert "<strong>isolés</strong>" in page  # the Markdown, rendered
    assert VALID_REPORT["author_email"] in page

    response = web.post(f"/editeur/retours/{third}/approuver", {"version": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/editeur/"
    assert "Retour approuvé" in text(web.client.get("/editeur/"))

    response = web.post(f"/editeur/retours/{second}/refuser", {"version": "1", "reason": "  "})
    assert response.status_code == 422 and "Indiquez pourquoi le retour est refusé." in text(response)
    response = web.post(f"/editeur/retours/{second}/refuser", {"version": "1", "reason": "Hors sujet"})
    assert response.status_code == 303

    edit_page = web.client.get(f"/editeur/retours/{first}/modifier")
    assert edit_page.status_code == 200
    form = {
        "version": "1",
        "lab": "lab-bretagne",
        "lab_other": "",
        "title": "Premier, retouché",
        "summary": VALID_REPORT["summary"],
        "body": VALID_REPORT["body"],
        "link": VALID_REPORT["link"],
        "tags": ["design"],
    }
    response = web.post(f"/editeur/retours/{first}/modifier", form)
    assert response.status_code == 303 and response.headers["Location"] == f"/editeur/retours/{first}"
    stale = web.post(f"/editeur/retours/{first}/modifier", {**form, "title": "Trop tard"})
    assert stale.status_code == 409 and "Trop tard" in text(stale)

    by_id = {r.id: r for r in reports(web)}
    assert by_id[third].status == "approved" and by_id[third].decided_by == TEST_EDITOR_EMAIL
    assert by_id[second].status == "rejected" and by_id[second].reject_reason == "Hors sujet"
    assert by_id[first].title == "Premier, retouché" and by_id[first].lab == "lab-bretagne"
    with web.store() as store:
        [change] = store.report_changes(first)
    assert change.editor == TEST_EDITOR_EMAIL
    assert change.changes["title"] == {"old": "Premier", "new": "Premier, retouché"}
    assert change.changes["tags"] == {"old": ["facilitation", "communaute"], "new": ["design"]}
    history = text(web.client.get(f"/editeur/retours/{first}"))
    assert "modifié par editrice@labs.example.org" in history and "Premier, retouché" in history
    assert web.client.get("/editeur/retours/999").status_code == 404


def test_hostile_input_is_stored_verbatim_and_shown_as_text(web: WebClient, editor_account: Any) -> None:
    response = web.submit(lab="_other", **HOSTILE)
    assert response.status_code == 303, text(response)
    [report] = reports(web)
    for field, value in HOSTILE.items():
        assert getattr(report, field) == value, field
    web.login()
    pages = [
        text(web.client.get(path))
        for path in ("/editeur/", f"/editeur/retours/{report.id}", f"/editeur/retours/{report.id}/modifier")
    ]
    for html in pages:
        page = Page(html)
        assert not page.all("script") and not page.all("iframe") and not page.all("svg"), html
        assert "injected" not in page.ids()
        for _tag, attrs in page.elements:
            assert not any(name.startswith("on") for name in attrs)
            assert not attrs.get("href", "").lower().startswith("javascript:")
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in pages[1]
    # The form sent back with errors escapes what was typed too.
    html = text(web.submit(title="", **{k: v for k, v in HOSTILE.items() if k != "title"}))
    assert not Page(html).all("script") and "&lt;/textarea&gt;&lt;script&gt;" in html


# --- under a real server ------------------------------------------------------------


@pytest.mark.slow
def test_100_concurrent_submissions_are_each_stored_once(make_app: Any) -> None:
    app = make_app(web={"submission_limit": 1000})
    n = 100
    acknowledged: list[str] = []
    lock = threading.Lock()
    with serve_app(app) as base:

        def one(i: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                form = client.get("/contribuer").text
                hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
                title = f"Retour n° {i}"
                response = client.post("/contribuer", data={**VALID_REPORT, **hidden, "title": title})
                if response.status_code == 303 and response.headers["Location"].endswith("/contribuer/merci"):
                    with lock:
                        acknowledged.append(title)

        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(one, range(n)))
    with Store.open(app.extensions["curator"].db_path) as store:
        titles = [r.title for r in store.reports()]
    assert len(acknowledged) == n
    assert sorted(titles) == sorted(acknowledged)
    assert len(set(titles)) == len(titles)
