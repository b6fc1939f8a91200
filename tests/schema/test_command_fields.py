"""``command_fields`` passes an order mutation's input to its command by name: every
input field must be a keyword-only parameter of the command (``visibleTo`` as
``audience``), every such parameter an input field, and an optional field the caller
leaves out must mean what ``None`` meant before the input was passed by name (the
command's default: None, an empty list, the buyer's alone)."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from db.commands import buyer, supplier
from db.notes import BUYER_ALONE
from schema.mutations import inputs
from schema.mutations.base import ORDER_FIELDS

PAIRS: list[tuple[type, Callable[..., Any]]] = [
    (inputs.CancelOrderInput, buyer.cancel),
    (inputs.CloseOrderInput, buyer.close),
    (inputs.ReceiveDeliveryInput, buyer.receive),
    (inputs.RespondToProposalInput, buyer.respond_to_proposal),
    (inputs.AmendOrderInput, buyer.amend),
    (inputs.AcknowledgeOrderInput, supplier.acknowledge),
    (inputs.ProposeChangesInput, supplier.propose_changes),
    (inputs.DeclineOrderInput, supplier.decline),
    (inputs.OrderActionInput, supplier.start_production),
    (inputs.UpdatePromisedDateInput, supplier.update_promised_date),
    (inputs.AddMilestoneInput, supplier.add_milestone),
    (inputs.DispatchOrderInput, supplier.dispatch),
    (inputs.SubmitInvoiceInput, supplier.submit_invoice),
]
NEUTRAL = (None, (), BUYER_ALONE)


@pytest.mark.parametrize(("input_type", "command"), PAIRS, ids=lambda p: p.__name__)
def test_an_input_maps_onto_its_command(input_type: type, command: Callable[..., Any]) -> None:
    fields = {
        "audience" if f.name == "visible_to" else f.name: f
        for f in dataclasses.fields(input_type)
        if f.name not in ORDER_FIELDS
    }
    params = {
        name: p
        for name, p in inspect.signature(command).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }
    assert set(fields) == set(params)
    for name, field in fields.items():
        if field.default is None:
            assert params[name].default in NEUTRAL, name
