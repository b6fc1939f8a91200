"""Configuration rules: production refuses the placeholder secret; key sources never mix."""

import pytest

from app.settings import PLACEHOLDER_SECRET, Settings


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        Settings(_env_file=None, environment="production", jwt_secret="short")  # type: ignore[call-arg]


def test_production_accepts_a_real_secret_and_turns_graphiql_off() -> None:
    s = Settings(_env_file=None, environment="production", jwt_secret="x" * 40)  # type: ignore[call-arg]
    assert s.jwt_secret != PLACEHOLDER_SECRET
    assert s.graphiql_enabled is False


def test_development_has_graphiql_on_by_default() -> None:
    assert Settings(_env_file=None).graphiql_enabled is True  # type: ignore[call-arg]


def test_a_public_key_with_hs256_is_refused_as_a_mix() -> None:
    s = Settings(_env_file=None, jwt_public_key="-----BEGIN PUBLIC KEY-----")  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        s.token_config()


def test_env_example_lists_every_setting() -> None:
    from pathlib import Path

    listed = {
        line.split("=", 1)[0]
        for line in (Path(__file__).parents[2] / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert listed == {name.upper() for name in Settings.model_fields}


def test_an_oidc_issuer_is_the_required_iss_and_the_key_source() -> None:
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_algorithm="RS256",
        jwt_oidc_issuer="https://idp.example.com/realms/acme",
    )
    config = s.token_config()
    assert config.issuer == "https://idp.example.com/realms/acme"
    assert config.uses_jwks


def test_an_oidc_issuer_with_another_jwt_issuer_is_refused() -> None:
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_algorithm="RS256",
        jwt_oidc_issuer="https://idp.example.com/realms/acme",
        jwt_issuer="handoff-dev",
    )
    with pytest.raises(ValueError, match="issuer"):
        s.token_config()


def test_claim_paths_and_the_role_map_come_from_settings() -> None:
    from permissions.principal import Role

    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_role_claim="realm_access.roles",
        jwt_org_claim="https://handoff.example.com/org",
        jwt_role_map="kc-buyer=buyer, kc-supplier=supplier",
    )
    mapping = s.token_config().claims
    assert mapping.role_claim == "realm_access.roles"
    assert mapping.org_claim == "https://handoff.example.com/org"
    assert mapping.roles == {"kc-buyer": Role.BUYER, "kc-supplier": Role.SUPPLIER}
