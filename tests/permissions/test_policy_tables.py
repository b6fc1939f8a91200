"""The policy module's other tables agree with the field table: who takes each action,
and what a role reads inside rows, are decided once and never contradict the schema."""

from __future__ import annotations

import pytest

from db.lifecycle import TRANSITIONS, Action
from db.scope import InvoiceAccess
from permissions.policy import ACTION_MUTATIONS, ROW_CONTENT, allowed_actions, is_hidden
from permissions.principal import Principal, Role


def test_every_lifecycle_action_has_its_mutation() -> None:
    assert set(ACTION_MUTATIONS) == set(TRANSITIONS) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_each_action_is_taken_by_exactly_the_role_whose_schema_has_its_mutation(
    action: Action,
) -> None:
    mutation = ACTION_MUTATIONS[action]
    visible_to = {role for role in Role if not is_hidden(role, "Mutation", mutation)}
    takers = {role for role in Role if action in allowed_actions(role)}
    assert len(visible_to) == 1, f"{mutation} is visible to {visible_to}"
    assert takers == visible_to


def test_a_client_takes_no_action_at_all() -> None:
    assert allowed_actions(Role.CLIENT) == frozenset()


@pytest.mark.parametrize("role", list(Role))
def test_invoice_rows_are_readable_exactly_where_the_invoices_field_exists(role: Role) -> None:
    readable = ROW_CONTENT[role].invoices is not InvoiceAccess.NONE
    assert readable == (not is_hidden(role, "Order", "invoices"))


def test_a_supplier_reads_only_its_own_invoices_and_a_client_no_invoice_event() -> None:
    assert ROW_CONTENT[Role.SUPPLIER].invoices is InvoiceAccess.OWN
    assert "INVOICE_SUBMITTED" in ROW_CONTENT[Role.CLIENT].hidden_event_kinds
    assert ROW_CONTENT[Role.BUYER].hidden_event_kinds == frozenset()


def test_a_principals_scope_carries_its_roles_actions_and_content() -> None:
    supplier = Principal(role=Role.SUPPLIER, org="o", subject="s", supplier_id="sup_x").scope
    assert supplier.actions == allowed_actions(Role.SUPPLIER)
    assert Action.ACKNOWLEDGE in supplier.actions
    assert Action.RECEIVE not in supplier.actions
    assert supplier.content == ROW_CONTENT[Role.SUPPLIER]
    assert supplier.supplier_id == "sup_x"
    assert supplier.client_id is None


def test_only_a_client_can_be_narrowed_to_one_order() -> None:
    with pytest.raises(ValueError, match="only a client"):
        Principal(role=Role.BUYER, org="o", subject="s", order_id="ord_x")
    link = Principal(role=Role.CLIENT, org="o", subject="s", client_id="cli_x", order_id="ord_x")
    assert link.scope.order_id == "ord_x"
