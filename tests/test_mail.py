"""`curator send` against a real SMTP server (aiosmtpd on 127.0.0.1): headers, proofs, refused
recipients, a failure in the middle of a recipients file and the rerun, rate limit, login, and
the bad lines of a recipients file (skipped and reported, or --strict)."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from conftest import EMAIL_NOW, make_email_issue

from curator import editorial
from curator.cli import cli
from curator.config import SmtpSettings
from curator.errors import UsageError
from curator.mail import PASSWORD_ENV, SendError, read_recipients, recipients_from, send_issue
from curator.mail.recipients import RecipientList, SkippedLine, collect_recipients, read_recipient_list

# --- a real SMTP server ------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps what it receives and fails on demand."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, email.message.EmailMessage]] = []
        self.fail_once: set[str] = set()  # 451 at DATA, once, for these recipients
        self.refuse: set[str] = set()  # 550 at RCPT for these
        self.logins: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.refuse_data: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            if rcpt in self.fail_once:
                self.fail_once.discard(rcpt)
                return "451 4.3.0 Temporary failure, try again later"
            if rcpt in self.refuse_data:
                return "552 5.2.2 Mailbox full"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((rcpt, message))  # type: ignore[arg-type]
        return "250 2.0.0 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((data.login.decode(), data.password.decode()))
            return AuthResult(success=data.password == b"s3cret", handled=False)
        return AuthResult(success=False, handled=False)

    def received(self) -> Counter[str]:
        return Counter(rcpt for rcpt, _ in self.messages)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtpd() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=inbox.authenticate,
        auth_require_tls=False,
        ready_timeout=30,  # the default, 5 s, is short on a busy machine
    )
    controller.start()
    try:
        yield inbox, SmtpSettings(host="127.0.0.1", port=controller.port, timeout=30)
    finally:
        controller.stop()


@pytest.fixture
def issue(tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    store, config, month = make_email_issue(
        tmp_path, items=5, reports=1, events=1, email={"rate_limit": 60_000}
    )
    yield store, config, month
    store.close()


def _publish(issue: tuple[Any, Any, Any]) -> None:
    store, config, month = issue
    editorial.publish(store, config, month, EMAIL_NOW)


ADDRESSES = [f"lecteur{n}@ac-exemple.fr" for n in range(1, 7)]


# --- sending ---------------------------------------------------------------------------------


def test_each_recipient_gets_one_message_with_the_list_headers(issue: Any, smtpd: Any) -> None:
    inbox, smtp = smtpd
    store, config, month = issue
    _publish(issue)
    summary = send_issue(store, config, month, ADDRESSES[:2], EMAIL_NOW, smtp=smtp)
    assert [(r.recipient, r.outcome) for r in summary.results] == [(a, "sent") for a in ADDRESSES[:2]]
    assert inbox.received() == Counter(ADDRESSES[:2])
    (rcpt, msg), (_, other) = inbox.messages
    assert msg["To"] == rcpt == ADDRESSES[0]
    assert msg["From"] == "Infolettre des labs <infolettre@labs.example.org>"
    assert msg["Reply-To"] == "lab110bis@labs.example.org"
    assert msg["Subject"] == "Infolettre — janvier 2022"
    assert msg["List-Id"] == "Infolettre des labs d'académie <infolettre.labs.example.org>"
    assert msg["List-Unsubscribe"].strip() == "<https://listes.example.org/sympa/sigrequest/infolettre-labs>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Date"] and msg["Message-ID"] != other["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert set(store.sent_recipients(month)) == set(ADDRESSES[:2])


def test_a_failure_midway_then_a_rerun_delivers_to_everyone_exactly_once(
    issue: Any, smtpd: Any, tmp_path: Path
) -> None:
    inbox, smtp = smtpd
    store, config, month = issue
    _publish(issue)
    recipients = tmp_path / "abonnes.csv"
    recipients.write_text("email,nom\n" + "".join(f"{a},Lecteur {i}\n" for i, a in enumerate(ADDRESSES)))
    inbox.fail_once.add(ADDRESSES[3])
    with pytest.raises(SendError, match=r"sending stopped at lecteur4@ac-exemple\.fr \(451 .*3 left.*Rerun"):
        send_issue(store, config, month, read_recipients(recipients), EMAIL_NOW, smtp=smtp)
    assert inbox.received() == Counter(ADDRESSES[:3])
    summary = send_issue(store, config, month, read_recipients(recipients), EMAIL_NOW, smtp=smtp)
    assert [r.outcome for r in summary.results] == ["skipped"] * 3 + ["sent"] * 3
    assert inbox.received() == Counter(ADDRESSES)  # everyone, exactly once
    again = send_issue(store, config, month, read_recipients(recipients), EMAIL_NOW, smtp=smtp)
    assert again.count("skipped") == 6 and inbox.received() == Counter(ADDRESSES)


def test_a_refused_recipient_is_reported_and_retried_next_time(issue: Any, smtpd: Any) -> None:
    inbox, smtp = smtpd
    store, config, month = issue
    _publish(issue)
    inbox.refuse.add(ADDRESSES[1])
    summary = send_issue(store, config, month, ADDRESSES[:3], EMAIL_NOW, smtp=smtp)
    assert [r.outcome for r in summary.results] == ["sent", "refused", "sent"]
    assert "550" in summary.refused[0].detail
    inbox.refuse.clear()
    summary = send_issue(store, config, month, ADDRESSES[:3], EMAIL_NOW, smtp=smtp)
    assert {r.recipient: r.outcome for r in summary.results} == dict(
        zip(ADDRESSES[:3], ["skipped", "sent", "skipped"], strict=True)
    )
    assert inbox.received() == Counter(ADDRESSES[:3])


def test_a_mailbox_refused_at_data_does_not_block_the_others(issue: Any, smtpd: Any) -> None:
    inbox, smtp = smtpd
    store, config, month = issue
    _publish(issue)
    inbox.refuse_data.add(ADDRESSES[1])
    for _ in range(2):  # a rerun gets past it too
        summary = send_issue(store, config, month, ADDRESSES[:3], EMAIL_NOW, smtp=smtp)
        assert ("refused", "552 5.2.2 Mailbox full") in [(r.outcome, r.detail) for r in summary.results]
    assert inbox.received() == Counter([ADDRESSES[0], ADDRESSES[2]])


def test_a_proof_is_marked_and_never_recorded(issue: Any, smtpd: Any) -> None:
    inbox, smtp = smtpd
    store, config, month = issue  # not published: proofs are allowed
    send_issue(store, config, month, ["editrice@labs.example.org"], EMAIL_NOW, smtp=smtp, test=True)
    send_issue(store, config, month, ["editrice@labs.example.org"], EMAIL_NOW, smtp=smtp, test=True)
    assert [m["Subject"] for _, m in inbox.messages] == ["[TEST] Infolettre — janvier 2022"] * 2
    assert store.sent_recipients(month) == {}
    with pytest.raises(
        UsageError, match=r"not published yet: publish it first \(`curator publish --month 2022-01`\)"
    ):
        send_issue(store, config, month, ADDRESSES[:1], EMAIL_NOW, smtp=smtp)


def test_rate_limit_spaces_the_messages(issue: Any, smtpd: Any) -> None:
    _inbox, smtp = smtpd
    store, config, month = issue
    _publish(issue)
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 3))
        now[0] += seconds

    send_issue(
        store,
        config,
        month,
        ADDRESSES[:4],
        EMAIL_NOW,
        smtp=smtp,
        rate_limit=120,
        sleep=sleep,
        clock=lambda: now[0],
    )
    assert sleeps == [0.5, 0.5, 0.5]  # 120 a minute: one every half second


def test_login_and_its_safeguards(issue: Any, smtpd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, smtp = smtpd
    store, config, month = issue
    with pytest.raises(UsageError, match=PASSWORD_ENV):
        send_issue(
            store,
            config,
            month,
            ADDRESSES[:1],
            EMAIL_NOW,
            smtp=SmtpSettings(**{**smtp.__dict__, "user": "u"}),
            test=True,
        )
    remote = SmtpSettings(host="smtp.example.org", user="u", password="p")
    with pytest.raises(UsageError, match="unencrypted: add --starttls or --ssl"):
        send_issue(store, config, month, ADDRESSES[:1], EMAIL_NOW, smtp=remote, test=True)
    with pytest.raises(SendError, match="refused the login of u"):
        send_issue(
            store,
            config,
            month,
            ADDRESSES[:1],
            EMAIL_NOW,
            smtp=SmtpSettings(**{**smtp.__dict__, "user": "u", "password": "wrong"}),
            test=True,
        )
    send_issue(
        store,
        config,
        month,
        ADDRESSES[:1],
        EMAIL_NOW,
        smtp=SmtpSettings(**{**smtp.__dict__, "user": "u", "password": "s3cret"}),
        test=True,
    )
    assert inbox.logins[-1] == ("u", "s3cret") and len(inbox.messages) == 1


def test_no_server_is_a_clear_error(issue: Any) -> None:
    store, config, month = issue
    with pytest.raises(SendError, match=r"cannot connect to the SMTP server 127\.0\.0\.1:\d+"):
        send_issue(
            store,
            config,
            month,
            ADDRESSES[:1],
            EMAIL_NOW,
            smtp=SmtpSettings(host="127.0.0.1", port=_free_port(), timeout=5),
            test=True,
        )


# --- recipients files ---------------------------------------------------------------------------


def test_recipients_file_formats(tmp_path: Path) -> None:
    path = tmp_path / "liste.csv"
    path.write_text(
        "\ufeffNom;Courriel\nA;a@ac-exemple.fr\n\n# en pause\nB;B@ac-exemple.fr\nB bis;b@AC-exemple.fr\n",
        encoding="utf-8",
    )
    assert read_recipients(path) == ["a@ac-exemple.fr", "B@ac-exemple.fr"]
    path.write_text("a@ac-exemple.fr\nb@ac-exemple.fr\n", encoding="utf-8")
    assert read_recipients(path) == ["a@ac-exemple.fr", "b@ac-exemple.fr"]
    path.write_text("email\na@ac-exemple.fr\npas une adresse\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"liste\.csv:3: 'pas une adresse' is not an email address"):
        read_recipients(path)
    path.write_text("nom,prenom\nA,B\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no column named email"):
        read_recipients(path)


def test_bad_lines_are_skipped_with_their_line_numbers_or_stop_everything_when_strict(
    tmp_path: Path,
) -> None:
    path = tmp_path / "abonnes.csv"
    path.write_text(
        "nom;email\nA;a@ac-exemple.fr\nB;pas-une-adresse\n# en pause\nC;\nD;d@ac-exemple.fr\nE;e@@x.fr\n",
        encoding="utf-8",
    )
    found = read_recipient_list(path)
    assert found.addresses == ("a@ac-exemple.fr", "d@ac-exemple.fr")
    assert found.skipped == (
        SkippedLine(path, 3, "pas-une-adresse", "'pas-une-adresse' is not an email address"),
        SkippedLine(path, 5, "", "'' is not an email address"),
        SkippedLine(path, 7, "e@@x.fr", "'e@@x.fr' is not an email address"),
    )
    assert str(found.skipped[0]) == f"{path}:3: 'pas-une-adresse' is not an email address"
    # strict: today's behaviour, the first bad line stops everything.
    for strict in (
        lambda: read_recipient_list(path, strict=True),
        lambda: read_recipients(path),
        lambda: collect_recipients([], path, strict=True),
        lambda: recipients_from([], path),  # as the web calls it: strict, addresses alone
    ):
        with pytest.raises(UsageError, match=r"abonnes\.csv:3: 'pas-une-adresse' is not an email address"):
            strict()
    # --to addresses first, duplicates dropped, the file's bad lines beside them; --to stays strict.
    both = collect_recipients(["D@ac-exemple.fr", "liste@listes.example.org"], path)
    assert both == RecipientList(
        ("D@ac-exemple.fr", "liste@listes.example.org", "a@ac-exemple.fr"), found.skipped
    )
    assert collect_recipients(["x@ac-exemple.fr"], None) == RecipientList(("x@ac-exemple.fr",))
    with pytest.raises(UsageError, match=r"--to: 'moi' is not an email address"):
        collect_recipients(["moi"], path)
    # A file without a single address is refused, lenient or not.
    path.write_text("email\npas une adresse\nnon plus\n", encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"no email address in the file \(2 line\(s\) skipped; the first: .*:2:"
    ):
        read_recipient_list(path)


# --- the command -----------------------------------------------------------------------------------


def test_send_command(issue: Any, smtpd: Any, tmp_path: Path) -> None:
    inbox, smtp = smtpd
    store, _config, _month = issue
    _publish(issue)
    store.close()
    recipients = tmp_path / "abonnes.csv"
    recipients.write_text("\n".join(ADDRESSES[:3]) + "\n")
    base = [
        "--db",
        str(tmp_path / "curator.db"),
        "--config",
        str(tmp_path / "sources.yaml"),
        "send",
        "--month",
        "2022-01",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(smtp.port),
    ]
    runner = CliRunner()
    result = runner.invoke(
        cli, [*base, "--test", "--to", "editrice@labs.example.org", "--recipients", str(recipients)]
    )
    assert result.exit_code == 2 and "leave out --recipients" in result.output
    result = runner.invoke(cli, [*base, "--recipients", str(recipients), "--dry-run"])
    assert result.exit_code == 0 and result.output.count("would send") == 3 and not inbox.messages
    inbox.refuse.add(ADDRESSES[2])
    result = runner.invoke(cli, [*base, "--recipients", str(recipients), "--to", "liste@listes.example.org"])
    assert result.exit_code == 1, result.output
    assert "REFUSED    lecteur3@ac-exemple.fr" in result.output
    assert "2022-01: 3 sent, 0 already sent before, 1 refused." in result.output
    inbox.refuse.clear()
    result = runner.invoke(cli, [*base, "--recipients", str(recipients), "--to", "liste@listes.example.org"])
    assert result.exit_code == 0, result.output
    assert "2022-01: 1 sent, 3 already sent before, 0 refused." in result.output
    assert inbox.received() == Counter([*ADDRESSES[:3], "liste@listes.example.org"])
    result = runner.invoke(
        cli, [*base[:-4], "--to", "x@y.example", "--smtp-host", "127.0.0.1", "--smtp-port", str(_free_port())]
    )
    assert result.exit_code == 1 and "cannot connect to the SMTP server" in result.output


def test_send_command_skips_bad_lines_and_says_so_unless_strict(
    issue: Any, smtpd: Any, tmp_path: Path
) -> None:
    inbox, smtp = smtpd
    store, _config, _month = issue
    _publish(issue)
    store.close()
    recipients = tmp_path / "abonnes.csv"
    recipients.write_text(
        f"email,nom\n{ADDRESSES[0]},A\npas-une-adresse,B\n{ADDRESSES[1]},C\nlecteur@,D\n", encoding="utf-8"
    )
    base = [
        "--db",
        str(tmp_path / "curator.db"),
        "--config",
        str(tmp_path / "sources.yaml"),
        "send",
        "--month",
        "2022-01",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(smtp.port),
        "--recipients",
        str(recipients),
    ]
    runner = CliRunner()
    result = runner.invoke(cli, [*base, "--strict"])
    assert result.exit_code == 2, result.output
    assert f"{recipients}:3: 'pas-une-adresse' is not an email address" in result.output
    assert not inbox.messages
    result = runner.invoke(cli, base)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {recipients}:3: 'pas-une-adresse' is not an email address (line skipped)",
        f"warning: {recipients}:5: 'lecteur@' is not an email address (line skipped)",
    ]
    assert result.stdout.splitlines()[-1] == (
        f"2022-01: 2 sent, 0 already sent before, 0 refused; 2 bad lines of {recipients} skipped "
        "(--strict stops on them)."
    )
    assert inbox.received() == Counter(ADDRESSES[:2])
    # A typo in --to is still a usage error, whatever the file holds.
    result = runner.invoke(cli, [*base, "--to", "moi@@exemple.fr"])
    assert result.exit_code == 2 and "--to: 'moi@@exemple.fr' is not an email address" in result.output
    assert inbox.received() == Counter(ADDRESSES[:2])


def test_send_without_addresses_uses_the_list_of_sources_yaml(issue: Any, smtpd: Any, tmp_path: Path) -> None:
    inbox, smtp = smtpd
    store, _config, _month = issue
    _publish(issue)
    store.close()
    config_path = tmp_path / "sources.yaml"
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data.setdefault("email", {})["recipients"] = ADDRESSES[:2]
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    args = ["--db", str(tmp_path / "curator.db"), "--config", str(config_path), "send", "--month", "2022-01"]
    result = CliRunner().invoke(cli, [*args, "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp.port)])
    assert result.exit_code == 0, result.output
    assert sorted(rcpt for rcpt, _ in inbox.messages) == sorted(ADDRESSES[:2])
