"""sources.yaml validation: every error names the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from curator.cli import cli
from curator.config import load_config, parse_config
from curator.demo import SAMPLE_CONFIG
from curator.errors import ConfigError

ROOT = Path(__file__).parent.parent

VALID = """
newsletter: {title: Infolettre, publisher: Lab, site_url: https://example.org/archive}
sections: [{id: veille, title: Veille}, {id: retours, title: Retours}]
labs: [{id: lab-a, name: Lab A}]
themes: [{id: design, label: Design}]
sources:
  - {id: s1, url: https://example.org/feed, section: veille, lab: lab-a, tags: [design]}
"""


def test_repository_and_sample_configurations_are_valid() -> None:
    config = load_config(ROOT / "sources.yaml")
    assert len(config.sources) >= 10
    assert [s.id for s in config.sections][:2] == ["edito", "retours"]
    assert config.newsletter.timezone == "Europe/Paris"
    sample = parse_config(SAMPLE_CONFIG.read_text().replace("{base_url}", "http://127.0.0.1:1"))
    assert {s.id for s in sample.sources} >= {"la27eregion", "lab-110bis"}


def test_valid_minimal() -> None:
    config = parse_config(VALID, "x.yaml")
    assert config.newsletter.site_url == "https://example.org/archive/"
    assert config.sources[0].weight == 1.0 and config.sources[0].enabled
    assert config.sources[0].tags == ("design",)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda t: t.replace("{title: Infolettre, ", "{"),
            "x.yaml:2, newsletter, field 'title': is required",
        ),
        (
            lambda t: t.replace("site_url: https://example.org/archive", "site_url: ftp://x"),
            "field 'site_url'",
        ),
        (
            lambda t: t.replace("url: https://example.org/feed", "url: javascript:alert(1)"),
            "sources[s1], field 'url'",
        ),
        (
            lambda t: t.replace("url: https://example.org/feed", "url: file:///etc/passwd"),
            "is not an http(s) URL",
        ),
        (lambda t: t.replace("section: veille, lab", "section: nope, lab"), "unknown section 'nope'"),
        (lambda t: t.replace("lab: lab-a, tags", "lab: lab-z, tags"), "unknown lab 'lab-z'"),
        (lambda t: t.replace("tags: [design]", "tags: [bogus]"), "unknown theme 'bogus'"),
        (lambda t: t.replace("{id: retours", "{id: veille"), "duplicate id 'veille'"),
        (
            lambda t: t.replace("tags: [design]}", "tags: [design], colour: red}"),
            "field 'colour': unknown key",
        ),
        (lambda t: t.replace("sections:", "sectoins:"), "top level, field 'sectoins': unknown key"),
        (
            lambda t: t.replace("{id: s1, url: https://example.org/feed", "{url: https://example.org/feed"),
            "field 'id': is required",
        ),
        (
            lambda t: t.replace("tags: [design]}", "tags: [design], weight: lots}"),
            "field 'weight': expected a number",
        ),
        (
            lambda t: t.replace("tags: [design]}", "tags: [design], enabled: maybe}"),
            "field 'enabled': expected true or false",
        ),
        (lambda t: t.replace("{id: s1", "{id: 'Bad Id'"), "is not a valid id"),
        (
            lambda t: t + "  - {id: s1, url: https://example.org/other}\n",
            "sources[s1], field 'id': duplicate id 's1'",
        ),
        (
            lambda t: t.replace("publisher: Lab,", 'publisher: Lab, from: "a <x@y.fr>\\nBcc: z@w.fr",'),
            "field 'from': must be on one line",
        ),
        (
            lambda t: t.replace("publisher: Lab,", "publisher: Lab, from: Infolettre,"),
            "field 'from': 'Infolettre' has no e-mail address",
        ),
    ],
)
def test_errors_name_file_entry_and_field(change, expected) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        parse_config(change(VALID), "x.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("x.yaml")


def test_every_block_is_checked_when_the_file_is_loaded(tmp_path: Path) -> None:
    for block, field in (
        ("curation: {windw: same}", "windw"),
        ("web: {submision_limit: 3}", "submision_limit"),
        ("email: {rate: 3}", "rate"),
    ):
        path = tmp_path / "sources.yaml"
        path.write_text(VALID + block + "\n")
        result = CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "--config", str(path), "sources"])
        assert result.exit_code == 2, (block, result.output)
        assert field in result.output


def test_invalid_yaml_gives_its_line() -> None:
    text = VALID.replace("labs: [{id: lab-a, name: Lab A}]", "labs: [{id: lab-a, name: Lab A}\n  oops: [")
    with pytest.raises(ConfigError) as info:
        parse_config(text, "x.yaml")
    assert "invalid YAML" in str(info.value)
    assert info.value.line is not None and info.value.line >= 4


def test_duplicate_yaml_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"x.yaml:2: duplicate key 'title'"):
        parse_config(VALID.replace("{title: Infolettre,", "{title: Infolettre, title: B,"), "x.yaml")


def test_missing_file_and_exit_code_2(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--db", str(tmp_path / "c.db"), "--config", str(tmp_path / "none.yaml"), "sources"]
    )
    assert result.exit_code == 2
    assert "none.yaml: file not found" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("section: veille, lab", "section: nope, lab"))
    result = runner.invoke(cli, ["sources", "--db", str(tmp_path / "c.db"), "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown section 'nope'" in result.output
    assert "Traceback" not in result.output


# --- email: {recipients: …}, who gets the issue when it is sent to the list from the editor area ---


def test_email_recipients_a_list_of_addresses_or_a_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "sources.yaml"
    path.parent.mkdir()
    path.write_text(
        VALID + "email: {recipients: [infolettre@listes.example.org, Infolettre@listes.example.org]}\n"
    )
    email = load_config(path).email
    assert (email.recipients, email.recipients_file) == (("infolettre@listes.example.org",), None)
    path.write_text(VALID + "email:\n  recipients: abonnes/liste.csv\n")
    email = load_config(path).email
    assert email.recipients == () and email.recipients_file == path.parent.resolve() / "abonnes" / "liste.csv"
    path.write_text(VALID + f"email: {{recipients: {tmp_path / 'ailleurs.csv'}}}\n")
    assert load_config(path).email.recipients_file == tmp_path / "ailleurs.csv"
    path.write_text(VALID + "email: {rate_limit: 30}\n")
    assert load_config(path).email.recipients == () and load_config(path).email.recipients_file is None


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "email: {recipients: infolettre@listes.example.org}",
            "x.yaml:8, email, field 'recipients': 'infolettre@listes.example.org' is an address, not a file: "
            "write a list, recipients: [infolettre@listes.example.org]",
        ),
        (
            "email: {recipients: [infolettre@listes.example.org, pas une adresse]}",
            "x.yaml:8, email, field 'recipients': item 2: 'pas une adresse' is not an email address",
        ),
        (
            "email: {recipients: [a@b.example, 12]}",
            "field 'recipients': item 2: 12 is not an email address",
        ),
        (
            "email: {recipients: {file: abonnes.csv}}",
            "field 'recipients': expected the path of a CSV file (recipients: abonnes.csv) or a list of addresses",
        ),
        (
            "email:\n  rate_limit: 30\n  recipients: 12",
            "x.yaml:9, email, field 'recipients': expected the path of a CSV file",
        ),
    ],
)
def test_email_recipients_errors_name_file_line_and_field(block: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(VALID + block + "\n", "x.yaml")
    assert expected in str(info.value)
