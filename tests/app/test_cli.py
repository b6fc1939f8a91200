"""The `handoff` command line, run in-process against a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from app.cli import main


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
    with pytest.raises(SystemExit, match="client_id"):
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
