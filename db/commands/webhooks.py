"""A party's webhook endpoints: register one, delete it, rotate its secret, re-queue a
delivery. Every command acts on the caller's own party's endpoints only
(``db.webhooks.endpoint_scope``); another party's id is NOT_FOUND, as if absent.

Which events a role may subscribe to is the policy table's (``allowed``, computed by
the schema layer from it); secrets are sealed with the ``SecretBox`` the app holds.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from db import feed
from db.commands.context import Call, Revealed
from db.errors import DomainError, ErrorCode, raise_if
from db.ids import new_id
from db.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from db.validation import no_nul
from db.webhook_secrets import SecretBox, new_secret
from db.webhooks import endpoint_scope, owner_of

MAX_ENDPOINTS = 20  # per party: enough for every system, not a fan-out amplifier
MAX_URL = 2000
MAX_DESCRIPTION = 500

TOO_MANY_ENDPOINTS = DomainError(
    ErrorCode.VALIDATION, f"at most {MAX_ENDPOINTS} endpoints; delete one first", ("url",)
)
NO_SUCH_ENDPOINT = DomainError(ErrorCode.NOT_FOUND, "no such webhook endpoint", ("endpoint_id",))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook target (its address is checked when sending)."""
    if len(url) > MAX_URL:
        return f"must be a URL of at most {MAX_URL} characters"
    if not no_nul(url) or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "must not contain control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "must be a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        return "must name a host that can be looked up (each label 1 to 63 characters)"
    if parts.username or parts.password:
        return "must not carry credentials; sign-in is the signature's job"
    if any(c.isspace() for c in url):
        return "must not contain spaces"
    return None


async def create_endpoint(
    call: Call,
    *,
    url: str,
    events: list[WebhookEvent],
    description: str | None,
    allowed: frozenset[WebhookEvent],
    box: SecretBox,
) -> Revealed[WebhookEndpoint]:
    """A new endpoint for the caller's party; it receives what is committed from now on."""
    owner = owner_of(call.scope)
    if owner is None:
        raise DomainError(ErrorCode.VALIDATION, "this caller cannot own webhooks", ("url",))
    url = url.strip()
    problem = url_problem(url)
    wanted = sorted(set(events))
    errors: list[DomainError | None] = [
        DomainError(ErrorCode.VALIDATION, problem, ("url",)) if problem else None
    ]
    if not wanted:
        errors.append(DomainError(ErrorCode.VALIDATION, "name at least one event", ("events",)))
    refused = [e for e in wanted if e not in allowed]
    if refused:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                f"this role does not receive {', '.join(refused)}",
                ("events",),
            )
        )
    if description is not None and (len(description) > MAX_DESCRIPTION or not no_nul(description)):
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                f"must be at most {MAX_DESCRIPTION} characters",
                ("description",),
            )
        )
    scoped = endpoint_scope(call.scope)
    errors.append(await call.capped(MAX_ENDPOINTS, TOO_MANY_ENDPOINTS, WebhookEndpoint, scoped))
    raise_if(errors)
    secret = new_secret()
    endpoint = await call.insert(
        WebhookEndpoint(
            id=new_id("whe"),
            org=owner.org,
            owner_role=owner.role.value,
            owner_party=owner.party,
            owner_subject=call.scope.subject,
            url=url,
            events=",".join(wanted),
            description=description,
            enabled=True,
            secret_encrypted=box.seal(secret),
            # From now on: what was committed before is not this endpoint's to receive.
            cursor=await feed.last_position(call.session, owner.org),
            created_at=call.now,
        )
    )
    return Revealed(endpoint, secret)


async def _own_endpoint(call: Call, endpoint_id: str) -> WebhookEndpoint:
    found: WebhookEndpoint | None = await call.session.scalar(
        select(WebhookEndpoint)
        .where(endpoint_scope(call.scope), WebhookEndpoint.id == endpoint_id)
        .with_for_update()
    )
    if found is None:
        raise NO_SUCH_ENDPOINT
    return found


async def delete_endpoint(call: Call, *, endpoint_id: str) -> WebhookEndpoint:
    """Nothing more is sent; the delivery log stays (audit) but is no longer listed."""
    endpoint = await _own_endpoint(call, endpoint_id)
    endpoint.enabled = False
    endpoint.deleted_at = call.now
    return endpoint


async def rotate_secret(
    call: Call, *, endpoint_id: str, box: SecretBox
) -> Revealed[WebhookEndpoint]:
    """A new secret, effective for every attempt from now on (retries included)."""
    endpoint = await _own_endpoint(call, endpoint_id)
    secret = new_secret()
    endpoint.secret_encrypted = box.seal(secret)
    return Revealed(endpoint, secret)


async def redeliver(call: Call, *, delivery_id: str) -> WebhookEndpoint:
    """Send one delivery again, now, with the same ``webhook-id`` and body. A disabled
    endpoint is enabled again: redelivering says the receiver is back."""
    owned = select(WebhookEndpoint.id).where(endpoint_scope(call.scope)).scalar_subquery()
    delivery: WebhookDelivery | None = await call.session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id.in_(owned))
        .with_for_update()
    )
    if delivery is None:
        raise DomainError(ErrorCode.NOT_FOUND, "no such webhook delivery", ("delivery_id",))
    endpoint = await _own_endpoint(call, delivery.endpoint_id)
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0  # a fresh schedule of retries
    delivery.next_attempt_at = call.now
    delivery.lease_owner = None
    delivery.lease_until = None
    if not endpoint.enabled:
        endpoint.enabled = True
        endpoint.failing_since = None
        endpoint.disabled_reason = None
    return endpoint
