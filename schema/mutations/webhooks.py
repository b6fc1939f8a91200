"""Webhook endpoints: every role registers, deletes and rotates its own, and re-queues
its own deliveries. Which events a role may subscribe to follows the policy table
(``schema.webhook_bodies.allowed_events``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.commands import webhooks as commands
from db.commands.context import Call
from db.errors import DomainError, ErrorCode
from db.unit_of_work import HasId
from db.webhook_secrets import SecretBox
from db.webhooks import endpoints_by_ids
from schema.context import Info
from schema.mutations.base import unit_of_work
from schema.mutations.payloads import UserError
from schema.types.webhooks import WebhookEndpoint, allowed_events


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="http(s) URL the deliveries are POSTed to.")
    events: list[models.WebhookEvent]
    description: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class DeleteWebhookEndpointInput:
    endpoint_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class RotateWebhookSecretInput:
    endpoint_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(
        description=(
            "The signing secret (whsec_...): only in the payload of createWebhookEndpoint "
            "and rotateWebhookSecret, never again. Keep it to verify webhook-signature."
        )
    )
    user_errors: list[UserError]


NO_SECRET_KEY = DomainError(
    ErrorCode.VALIDATION, "webhooks are not configured on this server", ("url",)
)


async def _endpoint_command(
    info: Info,
    *,
    operation: str,
    idempotency_key: str | None,
    run: Callable[[Call], Awaitable[HasId]],
    deleted: bool = False,
) -> WebhookEndpointPayload:
    """One unit of work; its result (an endpoint, or one with its secret) reloaded
    through the caller's own endpoints."""
    scope = info.context.scope

    async def load(session: AsyncSession, id_: str) -> models.WebhookEndpoint | None:
        found = await endpoints_by_ids(session=session, scope=scope, ids=[id_], deleted=deleted)
        return found.get(id_)

    row, secret, errors = await unit_of_work(
        info, operation=operation[:60], idempotency_key=idempotency_key, run=run, load=load
    )
    endpoint = WebhookEndpoint.from_row(row) if row is not None else None
    return WebhookEndpointPayload(webhook_endpoint=endpoint, secret=secret, user_errors=errors)


def _box(info: Info) -> SecretBox:
    box = info.context.webhook_secrets
    if box is None:
        raise NO_SECRET_KEY
    return box


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Register an endpoint for the caller's own party; it receives what is "
        "committed from now on. The payload carries the signing secret, once."
    )
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        role = info.context.principal.role
        return await _endpoint_command(
            info,
            operation="createWebhookEndpoint",
            idempotency_key=input.idempotency_key,
            run=lambda call: commands.create_endpoint(
                call,
                url=input.url,
                events=list(input.events),
                description=input.description,
                allowed=allowed_events(role),
                box=_box(info),
            ),
        )

    @strawberry.mutation(description="Stop sending to one of the caller's endpoints.")
    async def delete_webhook_endpoint(
        self, info: Info, input: DeleteWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        return await _endpoint_command(
            info,
            operation=f"deleteWebhookEndpoint:{input.endpoint_id}",
            idempotency_key=input.idempotency_key,
            run=lambda call: commands.delete_endpoint(call, endpoint_id=str(input.endpoint_id)),
            deleted=True,
        )

    @strawberry.mutation(
        description="A new signing secret for one of the caller's endpoints, in the payload, "
        "once; every attempt from now on is signed with it."
    )
    async def rotate_webhook_secret(
        self, info: Info, input: RotateWebhookSecretInput
    ) -> WebhookEndpointPayload:
        return await _endpoint_command(
            info,
            operation=f"rotateWebhookSecret:{input.endpoint_id}",
            idempotency_key=input.idempotency_key,
            run=lambda call: commands.rotate_secret(
                call, endpoint_id=str(input.endpoint_id), box=_box(info)
            ),
        )

    @strawberry.mutation(
        description="Send one delivery again now (same webhook-id and body, a fresh retry "
        "schedule); a disabled endpoint is enabled again."
    )
    async def redeliver_webhook(
        self, info: Info, input: RedeliverWebhookInput
    ) -> WebhookEndpointPayload:
        return await _endpoint_command(
            info,
            operation=f"redeliverWebhook:{input.delivery_id}",
            idempotency_key=input.idempotency_key,
            run=lambda call: commands.redeliver(call, delivery_id=str(input.delivery_id)),
        )
