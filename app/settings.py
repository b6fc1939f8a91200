"""Configuration from the environment or ``.env`` (see ``.env.example``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from permissions.tokens import TokenConfig

PLACEHOLDER_SECRET = "dev-only-insecure-secret-change-me-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    database_url: str = "sqlite+aiosqlite:///./handoff.db"
    jwt_secret: str = PLACEHOLDER_SECRET
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwt_public_key: str = ""
    jwt_jwks_url: str = ""
    jwt_audience: str = "handoff"
    jwt_issuer: str = "handoff-dev"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    environment: Literal["development", "production"] = "development"
    # Request limits (graphql-armor-like defaults).
    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_tokens: int = Field(default=2000, ge=10)
    max_directives: int = Field(default=50, ge=0)
    max_field_repeats: int = Field(default=20, ge=1)
    max_query_cost: int = Field(default=5000, ge=100)
    max_body_bytes: int = Field(default=100_000, ge=1024)
    # GraphQL operations executing at once per process; the rest wait their turn.
    max_concurrent_executions: int = Field(default=4, ge=1, le=1000)
    # Seconds between the alert scheduler's scans (time-based alerts fire within about
    # this much of their threshold); 0 turns the scheduler off in this process.
    alert_scan_seconds: float = Field(default=1.0, ge=0, le=3600)
    # Seconds between checks of the feed's heads: the only wake-up across processes on
    # SQLite, the safety net behind LISTEN/NOTIFY on PostgreSQL. 0: 0.5 on SQLite, 5 on
    # PostgreSQL.
    feed_poll_seconds: float = Field(default=0, ge=0, le=600)
    # Introspection and GraphiQL; default: on in development, off in production.
    graphiql: bool | None = None

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        weak = self.jwt_secret == PLACEHOLDER_SECRET or len(self.jwt_secret) < 32
        if self.environment == "production" and self.jwt_algorithm == "HS256" and weak:
            raise ValueError(
                "production refuses the placeholder JWT_SECRET: set a random secret "
                "of at least 32 characters"
            )
        return self

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment == "development"

    def token_config(self) -> TokenConfig:
        hs = self.jwt_algorithm == "HS256"
        return TokenConfig(
            algorithm=self.jwt_algorithm,
            audience=self.jwt_audience,
            issuer=self.jwt_issuer,
            secret=self.jwt_secret if hs else None,
            public_key=self.jwt_public_key or None,
            jwks_url=self.jwt_jwks_url or None,
            leeway_seconds=self.jwt_leeway_seconds,
        )
