"""Webhook signing secrets and signatures (Standard Webhooks, https://www.standardwebhooks.com).

A secret is ``whsec_`` + base64 of 24 random bytes; it is shown once (in the payload of
``createWebhookEndpoint`` / ``rotateWebhookSecret``) and stored encrypted with Fernet,
because signing needs it in the clear later (a hash would not do). The key comes from
``WEBHOOK_SECRET_KEY`` (any string; the Fernet key is its SHA-256), passed in by the
app: this layer reads no settings.

``webhook-signature: v1,<base64 HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>")>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


class SecretBox:
    """Encrypts secrets for the database and decrypts them for signing."""

    def __init__(self, key: str) -> None:
        derived = base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())
        self._fernet = Fernet(derived)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        """The secret; raises ``ValueError`` when the key is not the one it was sealed
        with (WEBHOOK_SECRET_KEY changed)."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken as error:
            raise ValueError("the webhook secret was sealed with another key") from error
