"""Experience reports: validation, storage, moderation with history, editors, the CLI doors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import VALID_REPORT, write_test_config

from curator.cli import cli
from curator.config import Config, WebSettings, load_config
from curator.demo.reports import DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD, seed_demo_reports
from curator.editors import (
    LoginFailed,
    LoginLimit,
    TooManyAttempts,
    add_editor,
    authenticate,
    remove_editor,
)
from curator.errors import ConfigError, ConflictError, NotFoundError, UsageError
from curator.reports import (
    InvalidReport,
    Submission,
    approve,
    edit,
    lab_label,
    reject,
    render_markdown,
    submit,
    validate_edit,
    validate_submission,
)
from curator.store import Store

NOW = datetime(2022, 1, 10, 9, 30, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("fast_passwords")

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">clic</a>'


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_test_config(tmp_path))


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store.open(tmp_path / "curator.db") as s:
        yield s


def errors_of(data: dict[str, Any], config: Config) -> dict[str, str]:
    with pytest.raises(InvalidReport) as info:
        validate_submission(data, config)
    return info.value.errors


def stored(store: Store, config: Config, **changes: Any) -> int:
    report, _created = submit(store, validate_submission({**VALID_REPORT, **changes}, config), NOW)
    return report.id


# --- validation ---------------------------------------------------------------------


def test_a_valid_submission_keeps_every_text_exactly_as_typed(config: Config) -> None:
    data = {**VALID_REPORT, "title": "  Un titre  ", "body": "\r\nLigne 1\r\n\r\n  Ligne 2  \r\n"}
    sub = validate_submission(data, config)
    assert sub.title == "  Un titre  "
    assert sub.body == "\r\nLigne 1\r\n\r\n  Ligne 2  \r\n"
    assert sub.lab == "lab-normandie" and sub.lab_other == ""
    assert sub.tags == ("facilitation", "communaute")
    assert sub.license == "etalab-2.0"


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("author_name", "Saisissez vos prénom et nom."),
        ("author_email", "Saisissez votre adresse électronique."),
        ("title", "Saisissez un titre."),
        ("summary", "Saisissez un résumé de quelques lignes."),
        ("body", "Rédigez votre retour d’expérience."),
        ("license", "Choisissez une licence de réutilisation."),
    ],
)
def test_a_missing_required_field_gets_a_french_message(config: Config, field: str, message: str) -> None:
    assert errors_of({**VALID_REPORT, field: "   "}, config) == {field: message}


def test_every_error_at_once_in_form_order(config: Config) -> None:
    errors = errors_of({}, config)
    assert list(errors) == [
        "lab",
        "author_name",
        "author_email",
        "title",
        "summary",
        "body",
        "license",
        "consent",
    ]
    assert errors["consent"].startswith("Cochez cette case")


@pytest.mark.parametrize(("field", "limit"), [("title", 200), ("summary", 600), ("body", 20_000)])
def test_length_limits_count_characters_and_line_breaks_once(config: Config, field: str, limit: int) -> None:
    assert validate_submission({**VALID_REPORT, field: "é" * limit}, config)
    # A browser sends CRLF: a line break still counts as one character.
    text = "a\r\n" * (limit // 2)
    assert validate_submission({**VALID_REPORT, field: text}, config)
    errors = errors_of({**VALID_REPORT, field: "é" * (limit + 1)}, config)
    assert errors[field].startswith(f"{limit:,}".replace(",", "\u202f") + " caractères au maximum")


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://example.org/x",
        "example.org",
        "https://",
        "https://exa mple.org",
        "data:text/html,x",
    ],
)
def test_the_link_must_be_http_or_https(config: Config, link: str) -> None:
    assert "link" in errors_of({**VALID_REPORT, "link": link}, config)


def test_the_link_is_optional(config: Config) -> None:
    assert validate_submission({**VALID_REPORT, "link": "  "}, config).link is None


@pytest.mark.parametrize(
    "email", ["nom", "nom@", "@exemple.fr", "nom@exemple", "nom @exemple.fr", "a@b@c.fr"]
)
def test_bad_email_addresses(config: Config, email: str) -> None:
    assert errors_of({**VALID_REPORT, "author_email": email}, config)["author_email"].startswith(
        "Saisissez une adresse"
    )


def test_another_lab_needs_its_name(config: Config) -> None:
    assert errors_of({**VALID_REPORT, "lab": "_other"}, config) == {
        "lab_other": "Saisissez le nom de votre lab."
    }
    sub = validate_submission({**VALID_REPORT, "lab": "_other", "lab_other": "Lab'Edu Occitanie"}, config)
    assert (sub.lab, sub.lab_other) == (None, "Lab'Edu Occitanie")
    # A name typed without choosing "another lab" is understood too.
    sub = validate_submission({**VALID_REPORT, "lab": "", "lab_other": "Lab'Edu Occitanie"}, config)
    assert sub.lab is None


def test_unknown_lab_theme_or_licence(config: Config) -> None:
    errors = errors_of(
        {**VALID_REPORT, "lab": "lab-inconnu", "tags": ["facilitation", "cuisine"], "license": "gpl"}, config
    )
    assert set(errors) == {"lab", "tags", "license"}


def test_control_characters_and_noncharacters_are_stripped(config: Config) -> None:
    """A stray control character (a paste from a word processor) or U+FFFF would stop the
    email (mjml-python refuses them): they are removed, the rest of the text kept."""
    sub = validate_submission(
        {
            **VALID_REPORT,
            "title": "Titre\x00caché\uffff",
            "summary": "Un\x1b[31m résumé\x7f",
            "body": "a\tb\nc\x01",
        },
        config,
    )
    assert (sub.title, sub.summary, sub.body) == ("Titrecaché", "Un[31m résumé", "a\tb\nc")


def test_hostile_text_is_valid_text(config: Config) -> None:
    sub = validate_submission(
        {
            **VALID_REPORT,
            "title": HOSTILE,
            "summary": HOSTILE,
            "body": HOSTILE,
            "author_name": HOSTILE,
            "lab": "_other",
            "lab_other": HOSTILE,
            "author_email": "<script>alert(1)</script>@example.org",
        },
        config,
    )
    assert sub.title == sub.body == sub.author_name == sub.lab_other == HOSTILE


# --- storage and moderation --------------------------------------------------------


def test_submit_stores_a_pending_report_once_per_key(store: Store, config: Config) -> None:
    sub = validate_submission(VALID_REPORT, config)
    first, created = submit(store, sub, NOW, key="a" * 32)
    again, created_again = submit(store, sub, NOW + timedelta(seconds=3), key="a" * 32)
    assert created and not created_again
    assert again.id == first.id
    assert store.report_counts() == {"pending": 1, "approved": 0, "rejected": 0}
    assert first.status == "pending" and first.submitted_at == NOW
    assert first.body == VALID_REPORT["body"]


def test_reports_are_listed_newest_first(store: Store, config: Config) -> None:
    sub = validate_submission(VALID_REPORT, config)
    ids = [submit(store, sub, NOW + timedelta(minutes=m))[0].id for m in (5, 1, 9)]
    assert [r.id for r in store.reports(status="pending")] == [ids[2], ids[0], ids[1]]


def test_approve_and_reject_record_who_when_and_why(store: Store, config: Config) -> None:
    rid = stored(store, config)
    later = NOW + timedelta(hours=2)
    report = reject(store, rid, reason="  Hors sujet  ", editor="a@labs.example.org", now=later)
    assert (report.status, report.reject_reason, report.decided_by, report.decided_at) == (
        "rejected",
        "Hors sujet",
        "a@labs.example.org",
        later,
    )
    report = approve(store, rid, editor="b@labs.example.org", now=later + timedelta(hours=1))
    assert report.status == "approved" and report.reject_reason is None
    history = store.report_changes(rid)
    assert [(c.action, c.editor) for c in history] == [
        ("rejected", "a@labs.example.org"),
        ("approved", "b@labs.example.org"),
    ]
    assert history[0].changes["status"] == {"old": "pending", "new": "rejected"}
    assert history[0].reason == "Hors sujet"
    assert [r.id for r in store.reports(status="approved")] == [rid]


def test_deciding_twice_or_without_a_reason_is_refused(store: Store, config: Config) -> None:
    rid = stored(store, config)
    approve(store, rid, editor="a", now=NOW)
    with pytest.raises(UsageError, match="already approved"):
        approve(store, rid, editor="a", now=NOW)
    with pytest.raises(InvalidReport) as info:
        reject(store, rid, reason="   ", editor="a", now=NOW)
    assert info.value.errors == {"reason": "Indiquez pourquoi le retour est refusé."}
    with pytest.raises(NotFoundError):
        approve(store, 999, editor="a", now=NOW)


def test_edit_keeps_the_history_of_what_changed(store: Store, config: Config) -> None:
    rid = stored(store, config)
    before = store.report(rid)
    values = validate_edit(
        {
            **VALID_REPORT,
            "title": "Un meilleur titre",
            "tags": ["design"],
            "lab": "_other",
            "lab_other": "Lab X",
        },
        config,
    )
    report, changed = edit(
        store,
        rid,
        values,
        editor="ed@labs.example.org",
        now=NOW + timedelta(days=1),
        expected_version=before.version,
    )
    assert changed
    assert report.title == "Un meilleur titre" and report.tags == ("design",) and report.lab is None
    assert report.version == before.version + 1
    assert report.author_email == before.author_email  # not an editable field
    [change] = store.report_changes(rid)
    assert change.editor == "ed@labs.example.org" and change.action == "edited"
    assert change.at == NOW + timedelta(days=1)
    assert change.changes == {
        "lab": {"old": "lab-normandie", "new": None},
        "lab_other": {"old": "", "new": "Lab X"},
        "title": {"old": VALID_REPORT["title"], "new": "Un meilleur titre"},
        "tags": {"old": ["facilitation", "communaute"], "new": ["design"]},
    }
    # The same values again change nothing and add no history.
    _same, changed = edit(store, rid, values, editor="ed@labs.example.org", now=NOW)
    assert not changed and len(store.report_changes(rid)) == 1


def test_a_stale_edit_is_refused(store: Store, config: Config) -> None:
    rid = stored(store, config)
    version = store.report(rid).version
    edit(store, rid, {"title": "Premier"}, editor="a", now=NOW, expected_version=version)
    with pytest.raises(ConflictError):
        edit(store, rid, {"title": "Second"}, editor="b", now=NOW, expected_version=version)
    assert store.report(rid).title == "Premier"
    with pytest.raises(UsageError):
        edit(store, rid, {"author_email": "x@y.fr"}, editor="a", now=NOW)


def test_lab_label(store: Store, config: Config) -> None:
    assert lab_label(store.report(stored(store, config)), config) == "Lab'Innov Normandie"
    other = stored(store, config, lab="_other", lab_other="Lab'Edu Occitanie")
    assert lab_label(store.report(other), config) == "Lab'Edu Occitanie"


# --- rendering ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[clic](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[clic](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">clic</a>',
        "![image](https://tracker.example/pixel.gif)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_markdown_never_renders_hostile_markup(text: str) -> None:
    html = str(render_markdown(text))
    tags = _tags(html)
    assert {name for name, _attrs in tags} <= {"p", "a"}, html
    for _name, attrs in tags:
        for attr, value in attrs:
            assert attr in ("href", "rel"), html
            if attr == "href":
                assert value.startswith("https://") or value.startswith("http://"), html


def _tags(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, [(k, v or "") for k, v in attrs]))

    Collect().feed(html)
    return found


def test_markdown_keeps_what_a_report_needs() -> None:
    html = str(
        render_markdown(
            "# Titre\n\n*un* **deux** [lien](https://a.example/x) <mailto:a@b.fr>\n\n- x\n", heading_offset=2
        )
    )
    assert "<h4>Titre</h4>" in html
    assert "<em>un</em>" in html and "<strong>deux</strong>" in html
    assert '<a href="https://a.example/x" rel="noopener noreferrer nofollow">lien</a>' in html
    assert 'href="mailto:a@b.fr"' in html
    assert "<li>x</li>" in html


# --- editors ------------------------------------------------------------------------


def test_editors_have_argon2id_hashes_and_log_in(store: Store) -> None:
    add_editor(store, " Ed@Labs.Example.org ", "correct horse battery", NOW)
    assert store.editor_password_hash("ed@labs.example.org").startswith("$argon2id$")
    editor = authenticate(store, "ED@labs.example.org", "correct horse battery", ip="192.0.2.1", now=NOW)
    assert editor.email == "ed@labs.example.org" and editor.last_login == NOW
    with pytest.raises(UsageError, match="already exists"):
        add_editor(store, "ed@labs.example.org", "another password!", NOW)
    with pytest.raises(UsageError, match="at least 12"):
        add_editor(store, "new@labs.example.org", "short", NOW)


def test_failed_logins_are_rate_limited_per_email_and_per_address(store: Store) -> None:
    add_editor(store, "ed@labs.example.org", "correct horse battery", NOW)
    limit = LoginLimit(attempts=3, window=600)
    for _ in range(3):
        with pytest.raises(LoginFailed):
            authenticate(store, "ed@labs.example.org", "wrong password", ip="192.0.2.1", now=NOW, limit=limit)
    # Even the right password is refused while the limit holds, from any address.
    with pytest.raises(TooManyAttempts):
        authenticate(
            store, "ed@labs.example.org", "correct horse battery", ip="198.51.100.7", now=NOW, limit=limit
        )
    # And the address that failed cannot try other accounts.
    with pytest.raises(TooManyAttempts):
        authenticate(store, "other@labs.example.org", "whatever it is", ip="192.0.2.1", now=NOW, limit=limit)
    later = NOW + timedelta(seconds=601)
    assert authenticate(
        store, "ed@labs.example.org", "correct horse battery", ip="192.0.2.1", now=later, limit=limit
    )


def test_unknown_email_fails_like_a_wrong_password(store: Store) -> None:
    with pytest.raises(LoginFailed, match="wrong email or password"):
        authenticate(store, "nobody@labs.example.org", "correct horse battery", ip="192.0.2.1", now=NOW)


def test_an_editor_removed_twice_is_not_found(store: Store) -> None:
    add_editor(store, "ed@labs.example.org", "correct horse battery", NOW)
    remove_editor(store, "ed@labs.example.org")
    assert store.editor("ed@labs.example.org") is None
    with pytest.raises(NotFoundError):
        remove_editor(store, "ed@labs.example.org")


# --- the web: settings ----------------------------------------------------------------


def test_web_settings_defaults_and_values(tmp_path: Path) -> None:
    assert load_config(write_test_config(tmp_path)).web == WebSettings()
    settings = load_config(write_test_config(tmp_path, {"submission_limit": 20, "proxy_count": 1})).web
    assert (settings.submission_limit, settings.proxy_count, settings.submission_window) == (20, 1, 600)


@pytest.mark.parametrize(
    ("web", "field", "message"),
    [
        ({"submission_limit": "five"}, "submission_limit", "expected a whole number"),
        ({"submission_window": 0}, "submission_window", "must be between"),
        ({"proxy_count": True}, "proxy_count", "expected a whole number"),
        ({"secure_cookies": "yes"}, "secure_cookies", "expected true or false"),
        ({"rate": 3}, "rate", "unknown key"),
    ],
)
def test_web_settings_errors_name_file_and_field(
    tmp_path: Path, web: dict[str, Any], field: str, message: str
) -> None:
    path = write_test_config(tmp_path, web)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (
        str(path) in str(info.value) and f"field '{field}'" in str(info.value) and message in str(info.value)
    )


# --- the demo -------------------------------------------------------------------------


def test_demo_reports_are_seeded_once(store: Store) -> None:
    first = seed_demo_reports(store)
    again = seed_demo_reports(store)
    assert first == again
    assert (first.approved, first.pending, first.rejected) == (3, 1, 1)
    assert authenticate(store, DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD, ip="127.0.0.1", now=NOW)
    [rejected] = store.reports(status="rejected")
    assert rejected.reject_reason


# --- the CLI --------------------------------------------------------------------------


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    config = write_test_config(tmp_path)
    db = tmp_path / "curator.db"
    monkeypatch.delenv("CURATOR_EDITOR_PASSWORD", raising=False)

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        runner = CliRunner()
        return runner.invoke(cli, ["--db", str(db), "--config", str(config), *args], input=input, env=env)

    invoke.db = db  # type: ignore[attr-defined]
    invoke.config = config  # type: ignore[attr-defined]
    return invoke


def _seed(run: Any) -> list[int]:
    config = load_config(run.config)
    with Store.open(run.db) as store:
        ids = [stored(store, config), stored(store, config, title=HOSTILE, lab="_other", lab_other="Lab X")]
        approve(store, ids[0], editor="a", now=NOW)
    return ids


def test_reports_json_has_the_documented_fields(run: Any) -> None:
    approved, pending = _seed(run)
    result = run("reports", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["id"] for d in data] == [pending, approved] or [d["id"] for d in data] == [approved, pending]
    required = {
        "id",
        "status",
        "lab",
        "author_name",
        "title",
        "summary",
        "body",
        "link",
        "tags",
        "license",
        "submitted_at",
    }
    for d in data:
        assert required <= set(d)
    by_id = {d["id"]: d for d in data}
    assert by_id[approved]["status"] == "approved"
    assert by_id[approved]["lab"] == "lab-normandie" and by_id[approved]["lab_name"] == "Lab'Innov Normandie"
    assert by_id[approved]["tags"] == ["facilitation", "communaute"]
    assert by_id[approved]["body"] == VALID_REPORT["body"]
    assert by_id[approved]["license"] == "etalab-2.0"
    assert datetime.fromisoformat(by_id[approved]["submitted_at"]) == NOW
    assert by_id[pending]["title"] == HOSTILE  # verbatim
    assert by_id[pending]["lab"] is None and by_id[pending]["lab_name"] == "Lab X"


def test_reports_status_filter_and_list_subcommand(run: Any) -> None:
    _approved, pending = _seed(run)
    for args in (
        ["reports", "--status", "pending", "--json"],
        ["reports", "list", "--status", "pending", "--json"],
    ):
        result = run(*args)
        assert [d["id"] for d in json.loads(result.output)] == [pending], result.output
    result = run("reports", "--status", "rejected")
    assert result.exit_code == 0 and "0 reports." in result.output
    assert run("reports", "--status", "nope").exit_code == 2


def test_reports_show_approve_reject(run: Any) -> None:
    approved, pending = _seed(run)
    result = run("reports", "show", str(pending))
    assert result.exit_code == 0 and HOSTILE in result.output and "pending" in result.output
    result = run("reports", "reject", str(pending), "--reason", "Hors sujet")
    assert result.exit_code == 0, result.output
    result = run("reports", "show", str(pending), "--json")
    data = json.loads(result.output)
    assert data["status"] == "rejected" and data["reject_reason"] == "Hors sujet"
    assert data["history"][0]["action"] == "rejected" and data["history"][0]["editor"].endswith("(cli)")
    assert run("reports", "approve", str(pending)).exit_code == 0
    again = run("reports", "approve", str(pending))
    assert again.exit_code == 2 and "already approved" in again.output
    missing = run("reports", "approve", "999")
    assert missing.exit_code == 1 and "no report 999" in missing.output
    assert run("reports", "reject", str(approved)).exit_code == 2  # --reason is required


def test_editors_add_list_remove(run: Any) -> None:
    result = run(
        "editors", "add", "ed@labs.example.org", input="correct horse battery\ncorrect horse battery\n"
    )
    assert result.exit_code == 0, result.output
    result = run(
        "editors", "add", "env@labs.example.org", env={"CURATOR_EDITOR_PASSWORD": "from the environment"}
    )
    assert result.exit_code == 0, result.output
    mismatch = run(
        "editors",
        "add",
        "x@labs.example.org",
        input="correct horse battery\nsomething else!!\ncorrect horse battery\ncorrect horse battery\n",
    )
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output
    twice = run(
        "editors", "add", "ed@labs.example.org", env={"CURATOR_EDITOR_PASSWORD": "from the environment"}
    )
    assert twice.exit_code == 2 and "already exists" in twice.output
    short = run("editors", "add", "short@labs.example.org", env={"CURATOR_EDITOR_PASSWORD": "short"})
    assert short.exit_code == 2 and "at least 12" in short.output
    data = json.loads(run("editors", "list", "--json").output)
    assert [e["email"] for e in data] == ["ed@labs.example.org", "env@labs.example.org", "x@labs.example.org"]
    assert data[0]["last_login"] is None
    assert run("editors", "remove", "ed@labs.example.org").exit_code == 0
    assert run("editors", "remove", "ed@labs.example.org").exit_code == 1
    with Store.open(run.db) as store:
        assert [e.email for e in store.editors()] == ["env@labs.example.org", "x@labs.example.org"]


@pytest.mark.parametrize(
    "args",
    [
        ["serve"],
        ["reports"],
        ["reports", "list"],
        ["reports", "show"],
        ["reports", "approve"],
        ["reports", "reject"],
        ["editors"],
        ["editors", "add"],
        ["editors", "list"],
        ["editors", "remove"],
    ],
)
def test_every_new_command_has_help(run: Any, args: list[str]) -> None:
    result = run(*args, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output
    assert len(result.output.split("Usage:")[1].strip().splitlines()) > 2


def test_serve_refuses_to_start_without_a_secret_key(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURATOR_SECRET_KEY", raising=False)
    result = run("serve")
    assert result.exit_code == 2
    assert "CURATOR_SECRET_KEY is not set" in result.output


def test_a_submission_dataclass_round_trips_through_the_store(store: Store) -> None:
    sub = Submission(None, "Lab X", "N", "n@x.fr", "T", "S", "B", None, (), "cc-by-4.0")
    report, _ = submit(store, sub, NOW)
    assert (report.lab, report.lab_other, report.link, report.tags, report.license) == (
        None,
        "Lab X",
        None,
        (),
        "cc-by-4.0",
    )


def test_a_picked_report_cannot_be_rejected_and_a_published_one_cannot_be_edited(tmp_path: Path) -> None:
    """A rejected report must never go out in an issue; a published issue stays as it was sent."""
    from curator import editorial, views
    from curator.errors import InUseError
    from curator.models import Month
    from curator.reports import approve, edit, reject, submit, validate_submission

    config = load_config(write_test_config(tmp_path))
    now = datetime(2022, 1, 20, tzinfo=UTC)
    month = Month.parse("2022-01")
    with Store.open(tmp_path / "c.db") as store:
        report, _ = submit(store, validate_submission(VALID_REPORT, config), now)
        approve(store, report.id, editor="e", now=now)
        editorial.pick(store, config, month, f"r{report.id}", now)
        with pytest.raises(InUseError, match=r"unpick r\d+ --month 2022-01"):
            reject(store, report.id, reason="Finalement non", editor="e", now=now)
        editorial.publish(store, config, month, now)
        with pytest.raises(InUseError, match="reopen"):
            edit(store, report.id, {"title": "Autre titre"}, editor="e", now=now)
        assert store.report(report.id).status == "approved"
        assert [p.ref for p in views.issue_view(store, config, month).picks] == [f"r{report.id}"]


def test_another_report_sent_from_the_same_page_is_kept(tmp_path: Path) -> None:
    """The Back button brings back the same form, and its key: a different report is still a new one."""
    from curator.reports import submit, validate_submission

    config = load_config(write_test_config(tmp_path))
    now = datetime(2022, 1, 20, tzinfo=UTC)
    with Store.open(tmp_path / "c.db") as store:
        first, created = submit(store, validate_submission(VALID_REPORT, config), now, key="k" * 32)
        again, created_again = submit(store, validate_submission(VALID_REPORT, config), now, key="k" * 32)
        other, created_other = submit(
            store,
            validate_submission({**VALID_REPORT, "title": "Un autre retour"}, config),
            now,
            key="k" * 32,
        )
        assert created and not created_again and again.id == first.id
        assert created_other and other.id != first.id
