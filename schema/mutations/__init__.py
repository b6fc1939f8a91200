"""Mutation root: the buyer's and the supplier's commands, typed payloads with
``userErrors``; each command is one unit of work in ``db.unit_of_work``.

``inputs`` and ``payloads`` are the GraphQL shapes, ``base`` the adapter every command
shares (domain errors to ``userErrors``, results reloaded through scope), ``buyer`` and
``supplier`` the commands. Which role sees which mutation is the policy table's.
"""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.mutations.buyer import BuyerMutations
from schema.mutations.supplier import SupplierMutations
from schema.mutations.tracking import TrackingMutations
from schema.mutations.webhooks import WebhookMutations

Mutation = merge_types(
    "Mutation", (BuyerMutations, SupplierMutations, TrackingMutations, WebhookMutations)
)
