"""The `handoff` command line, run in-process against a real SQLite file: demo output,
tokens, onboarding, and one clear line for a database URL that cannot work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy.engine import make_url

from app.cli import main
from app.demo import WALKTHROUGH_BEGIN, WALKTHROUGH_END


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env, database file lands here
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("JWT_SECRET", "cli-test-secret-long-enough-0123456789")
    return tmp_path


def test_seed_prints_one_json_object_with_the_ids(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["seed", "--org", "acme", "--orders", "40", "--suppliers", "3", "--clients", "2"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["org"] == "acme"
    assert out["orders"] == 40
    assert len(out["suppliers"]) == 3
    assert len(out["clients"]) == 2
    assert all(s.startswith("sup_") for s in out["suppliers"])


def test_seed_if_empty_leaves_a_populated_database_alone(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["seed", "--org", "acme", "--orders", "5"])
    capsys.readouterr()
    main(["seed", "--org", "acme", "--orders", "5", "--if-empty"])
    assert json.loads(capsys.readouterr().out)["orders"] == 0


def test_token_prints_a_verifiable_token_with_the_claims(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["token", "--org", "acme", "--role", "supplier", "--supplier-id", "sup_x", "--ttl", "60"])
    token = capsys.readouterr().out.strip()
    payload = jwt.decode(
        token, "cli-test-secret-long-enough-0123456789", algorithms=["HS256"], audience="handoff"
    )
    assert payload["role"] == "supplier"
    assert payload["supplier_id"] == "sup_x"
    assert payload["exp"] - payload["iat"] == 60


def test_token_is_refused_in_production(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SystemExit, match="production"):
        main(["token", "--org", "acme", "--role", "buyer"])


def test_token_for_a_client_needs_a_client_id(env: Path) -> None:
    with pytest.raises(SystemExit, match="--client-id"):
        main(["token", "--org", "acme", "--role", "client"])


def test_demo_seeds_once_and_prints_a_header_per_role(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["demo", "--orders", "20"])
    first = capsys.readouterr().out
    for role in ("buyer", "client", "supplier"):
        assert f"{role}: Authorization: Bearer ey" in first
    assert "/graphql" in first
    main(["demo", "--orders", "20"])
    assert "seeded" not in capsys.readouterr().err


def test_migrate_is_idempotent(env: Path) -> None:
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0


def test_help_lists_every_command_and_option_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    for command in (
        "demo",
        "serve",
        "migrate",
        "seed",
        "token",
        "export-schema",
        "org",
        "supplier",
    ):
        assert command in top
    with pytest.raises(SystemExit):
        main(["seed", "--help"])
    assert "(default: 200)" in capsys.readouterr().out


def test_token_can_print_a_whole_header(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["token", "--org", "acme", "--role", "buyer", "--header"])
    header = capsys.readouterr().out.strip()
    assert header.startswith("Authorization: Bearer ey")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--role", "supplier"], "--role supplier needs --supplier-id"),
        (["--role", "client"], "--role client needs --client-id"),
        (["--role", "buyer", "--client-id", "cli_x"], "--client-id is only for --role client"),
        (["--role", "client", "--client-id", "c", "--supplier-id", "s"], "--supplier-id is only"),
        (["--role", "buyer", "--ttl", "0"], "--ttl must be a positive"),
    ],
)
def test_token_errors_name_the_flag(env: Path, argv: list[str], said: str) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["token", "--org", "acme", *argv])
    assert said in str(raised.value.code)


def test_demo_says_who_each_token_is_and_prints_links_and_a_walkthrough(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["demo", "--orders", "20"])
    out = capsys.readouterr().out
    supplier = re.search(r"supplier  (.+) \((sup_[a-z2-7]{20})\)", out)
    client = re.search(r"client    (.+) \((cli_[a-z2-7]{20})\)", out)
    assert supplier is not None
    assert client is not None
    assert "buyer     the procurement team of org 'demo'" in out
    for role in ("buyer", "client", "supplier"):
        assert re.search(
            rf"{role} +http://127\.0\.0\.1:8000/graphql#authorization=Bearer%20ey", out
        )
    walk = out[out.index(WALKTHROUGH_BEGIN) : out.index(WALKTHROUGH_END)]
    assert supplier[2] in walk
    assert client[2] in walk
    # the supplier token stands for the supplier the walkthrough orders from
    token = re.search(r"SUPPLIER='Authorization: Bearer (\S+)'", walk)
    assert token is not None
    claims = jwt.decode(token[1], options={"verify_signature": False})
    assert claims["supplier_id"] == supplier[2]


def test_demo_dates_are_relative_to_today(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--orders", "5"])
    out = capsys.readouterr().out
    today = datetime.now(UTC).date()
    dates = {date.fromisoformat(d) for d in re.findall(r'"(20\d\d-\d\d-\d\d)"', out)}
    assert dates
    assert all(today < d <= today + timedelta(days=28) for d in dates)


def test_demo_in_production_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", "p" * 40)
    with pytest.raises(SystemExit, match="production"):
        main(["demo"])


BAD_URLS = [
    pytest.param(
        "postgresql://postgres@127.0.0.1:5432/test", "postgresql+asyncpg://", id="no driver"
    ),
    pytest.param("sqlite:///./x.db", "sqlite+aiosqlite://", id="sqlite without driver"),
    pytest.param(
        "postgresql+asyncpg://postgres:hunter22@127.0.0.1:1/test",
        "cannot connect to the database at 127.0.0.1:1",
        id="refused",
    ),
    pytest.param("mysql+aiomysql://u@h/db", "'mysql' is not supported", id="unsupported"),
    pytest.param("not a url", "is not a database URL", id="garbage"),
    pytest.param(
        "sqlite+aiosqlite:////no/such/folder/x.db", "the folder '/no/such/folder'", id="no folder"
    ),
]
if os.environ.get("TEST_DATABASE_URL"):
    BAD_URLS.append(
        pytest.param(
            str(make_url(os.environ["TEST_DATABASE_URL"]).set(database="handoff_absent_db")),
            "database 'handoff_absent_db' does not exist",
            id="absent database",
        )
    )


@pytest.mark.parametrize(("url", "said"), BAD_URLS)
@pytest.mark.parametrize("command", [["migrate"], ["seed", "--org", "a"], ["demo"], ["serve"]])
def test_a_bad_database_url_is_one_line_saying_what_to_set(
    env: Path, monkeypatch: pytest.MonkeyPatch, url: str, said: str, command: list[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SystemExit) as raised:
        main(command)
    message = str(raised.value.code)
    assert message.startswith("handoff: ")
    assert said in message
    assert "\n" not in message
    assert "hunter22" not in message


def test_a_bad_database_url_prints_no_traceback(env: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env={**os.environ, "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("handoff: cannot connect to the database at 127.0.0.1:1")


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_onboarding_an_org_with_a_supplier_and_a_client(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a registered org
    main(["org", "create", "--org", "acme"])
    assert _json(capsys) == {"org": "acme", "created": True}
    main(["org", "create", "--org", "acme"])
    assert _json(capsys) == {"org": "acme", "created": False}

    # when a supplier and a client are created
    main(["supplier", "create", "--org", "acme", "--name", "Apex", "--email", "po@apex.example"])
    supplier = _json(capsys)
    main(["client", "create", "--org", "acme", "--name", "Contoso"])
    client = _json(capsys)

    # then they are listed with their ids, and only in their org
    assert re.fullmatch(r"sup_[a-z2-7]{20}", supplier["id"])
    main(["supplier", "list", "--org", "acme"])
    assert _json(capsys)["suppliers"] == [
        {"id": supplier["id"], "name": "Apex", "contactEmail": "po@apex.example"}
    ]
    main(["client", "list", "--org", "acme"])
    assert _json(capsys)["clients"] == [{"id": client["id"], "name": "Contoso"}]
    main(["supplier", "list", "--org", "globex"])
    assert _json(capsys)["suppliers"] == []


def test_onboarding_refuses_an_unregistered_org_and_bad_input_naming_the_flags(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match=r"--org 'acme' is not registered"):
        main(["supplier", "create", "--org", "acme", "--name", "Apex"])
    main(["org", "create", "--org", "acme"])
    with pytest.raises(SystemExit) as raised:
        main(["supplier", "create", "--org", "acme", "--name", " ", "--email", "nope"])
    assert raised.value.code == "handoff: --name must not be empty; --email is not an email address"
    with pytest.raises(SystemExit, match="--org must be at most 64 characters"):
        main(["org", "create", "--org", "a" * 65])


def test_dev_tokens_are_refused_when_the_server_expects_other_claim_names(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_ROLE_CLAIM", "realm_access.roles")
    with pytest.raises(SystemExit, match="JWT_ROLE_CLAIM"):
        main(["token", "--org", "acme", "--role", "buyer"])
