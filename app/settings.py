"""Configuration from the environment or ``.env`` (see ``.env.example``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from permissions.claims import ClaimMapping
from permissions.tokens import TokenConfig

PLACEHOLDER_SECRET = "dev-only-insecure-secret-change-me-0123456789"
PLACEHOLDER_WEBHOOK_KEY = "dev-only-webhook-secret-key-change-me"


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
    # An OpenID provider: keys from its discovery document; `iss` must be this issuer.
    jwt_oidc_issuer: str = ""
    # Where a token carries role, org and party ids (paths: `realm_access.roles`,
    # `https://example.com/org`), and which provider role names mean which role.
    jwt_role_claim: str = "role"
    jwt_org_claim: str = "org"
    jwt_client_id_claim: str = "client_id"
    jwt_supplier_id_claim: str = "supplier_id"
    jwt_role_map: str = ""
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
    # WebSocket permessage-deflate. Off by default: each socket compresses each frame on
    # its own, which costs far more CPU under fan-out than the bytes it saves.
    ws_compression: bool = False
    # Introspection and GraphiQL; default: on in development, off in production.
    graphiql: bool | None = None
    # Browser origins allowed to call the API (exact, comma separated); empty = no CORS.
    cors_origins: str = ""
    # Where worker processes share their metrics; empty = this process's only
    # (`handoff serve --workers N` with N > 1 makes one).
    metrics_dir: str = ""
    # Where people reach this server (tracking links are made from it), e.g.
    # https://track.example.com; empty = http://HOST:PORT (development).
    public_url: str = ""
    # Tracking pages: requests per minute per client address, and the burst allowed
    # (a token bucket per process; guessing a 192-bit token is hopeless, this keeps
    # trying from costing the database). Beyond it: 429 with Retry-After.
    tracking_requests_per_minute: float = Field(default=30, gt=0)
    tracking_burst: int = Field(default=20, ge=1)
    # The request header that carries the client's address when a proxy sits in front
    # (e.g. X-Real-IP, set by nginx from $remote_addr); empty = the socket's peer.
    tracking_client_ip_header: str = ""
    # Hardening and faults: how long an operation may wait for an execution slot, how
    # many may wait at once, and how long one may run; beyond any of them (or with the
    # database unreachable) the answer is 503 SERVICE_UNAVAILABLE with Retry-After.
    admission_timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    max_queued_executions: int = Field(default=64, ge=0, le=100_000)
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    retry_after_seconds: int = Field(default=2, ge=1, le=3600)

    # --- webhooks and e-mail (issue 12) ---
    # Encrypts endpoints' signing secrets at rest (a random string of 32+ characters).
    # Empty: a development placeholder; in production, no webhooks can be registered.
    # Changing it makes existing secrets unusable: rotate them.
    webhook_secret_key: str = ""
    # Deliver to private, loopback and link-local addresses too (development, tests).
    webhook_allow_private_targets: bool = False
    # Seconds one POST may take (connect, send, answer) before it counts as failed.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Seconds between the delivery worker's passes when idle; 0: no worker in `serve`
    # (run `handoff worker` instead).
    webhook_poll_seconds: float = Field(default=0.5, ge=0, le=60)
    # POSTs in flight at once per worker.
    webhook_concurrency: int = Field(default=8, ge=1, le=256)
    # E-mail: smtp://user:pass@host:587 (STARTTLS) or smtps://...:465; empty = no e-mail.
    smtp_url: str = ""
    smtp_from: str = "Handoff <handoff@localhost>"

    @model_validator(mode="after")
    def _webhook_key_is_safe(self) -> Settings:
        key = self.webhook_secret_key
        weak = key == PLACEHOLDER_WEBHOOK_KEY or len(key) < 32
        if self.environment == "production" and key and weak:
            raise ValueError(
                "production refuses a weak WEBHOOK_SECRET_KEY: set a random string "
                "of at least 32 characters"
            )
        return self

    def webhook_key(self) -> str | None:
        """The key that seals webhook secrets; None: webhooks are off (production
        without WEBHOOK_SECRET_KEY)."""
        if self.webhook_secret_key:
            return self.webhook_secret_key
        return PLACEHOLDER_WEBHOOK_KEY if self.environment == "development" else None

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        weak = self.jwt_secret == PLACEHOLDER_SECRET or len(self.jwt_secret) < 32
        if self.environment == "production" and self.jwt_algorithm == "HS256" and weak:
            raise ValueError(
                "production refuses the placeholder JWT_SECRET: set a random secret "
                "of at least 32 characters"
            )
        return self

    @model_validator(mode="after")
    def _cors_origins_are_exact(self) -> Settings:
        self.cors_origin_list()
        return self

    def cors_origin_list(self) -> list[str]:
        """``CORS_ORIGINS`` as a list of exact origins (``scheme://host[:port]``).

        No wildcard: browsers send the Authorization header only to origins named
        exactly, and a wildcard would let any site read responses with a user's token.
        """
        origins = [o.strip() for o in self.cors_origins.split(",") if o.strip()]
        for origin in origins:
            scheme, sep, rest = origin.partition("://")
            if "*" in origin or not sep or scheme not in ("http", "https") or not rest:
                raise ValueError(f"CORS_ORIGINS: {origin!r} is not an exact http(s) origin")
            if "/" in rest or origin.endswith(":"):
                raise ValueError(f"CORS_ORIGINS: {origin!r} has a path; an origin has none")
        return origins

    def public_base_url(self) -> str:
        """The external base URL of this server, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @model_validator(mode="after")
    def _public_url_is_a_base(self) -> Settings:
        scheme, sep, rest = self.public_url.partition("://")
        if self.public_url and (scheme not in ("http", "https") or not sep or not rest):
            raise ValueError(f"PUBLIC_URL: {self.public_url!r} is not an http(s) URL")
        return self

    def claim_mapping(self) -> ClaimMapping:
        return ClaimMapping(
            role_claim=self.jwt_role_claim,
            org_claim=self.jwt_org_claim,
            client_id_claim=self.jwt_client_id_claim,
            supplier_id_claim=self.jwt_supplier_id_claim,
            roles=ClaimMapping.parse_roles(self.jwt_role_map),
        )

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment == "development"

    def token_config(self) -> TokenConfig:
        hs = self.jwt_algorithm == "HS256"
        issuer = self.jwt_issuer
        if self.jwt_oidc_issuer and "jwt_issuer" not in self.model_fields_set:
            issuer = self.jwt_oidc_issuer  # the provider's tokens carry its own iss
        return TokenConfig(
            algorithm=self.jwt_algorithm,
            audience=self.jwt_audience,
            issuer=issuer,
            secret=self.jwt_secret if hs else None,
            public_key=self.jwt_public_key or None,
            jwks_url=self.jwt_jwks_url or None,
            oidc_issuer=self.jwt_oidc_issuer or None,
            leeway_seconds=self.jwt_leeway_seconds,
            claims=self.claim_mapping(),
        )

    # Database connections (issue 15): the pool every request's reads and writes share.
    # Size it for the steady load (MAX_CONCURRENT_EXECUTIONS x the sessions one request
    # holds at once, plus the relay and scheduler): a connection beyond it is opened for
    # a burst and closed when returned, one new PostgreSQL session per checkout.
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    # Compile order-page queries (the dashboard and portal shapes) to one SQL statement;
    # anything else, or false here, runs on the ordinary GraphQL path (X-Execution-Path).
    compiled_queries: bool = True
