"""Strawberry permission classes generated from the policy table (NULL-per-row)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from permissions.policy import row_rule_keys, visible_on_row


def _permission_for(key: str) -> type[BasePermission]:
    class RowPolicy(BasePermission):
        message = "Not visible."  # never shown: fail_silently resolves to null

        def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
            return visible_on_row(key, info.context.principal, source)

    RowPolicy.__name__ = RowPolicy.__qualname__ = f"RowPolicy[{key}]"
    return RowPolicy


class RowPolicyExtension(PermissionExtension):
    """The NULL-per-row check of one policy key (``Type.field``)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            permissions=[_permission_for(key)()], fail_silently=True, use_directives=False
        )
        self.key = key


def row_policy(key: str) -> list[FieldExtension]:
    """Field extensions for ``Type.field``: null (or []) on rows its rule rejects.

    Raises if the policy table has no row rule for ``key``, so a field cannot be
    wired to a rule that does not exist.
    """
    if key not in row_rule_keys():
        raise KeyError(f"{key} has no row rule in the policy table")
    return [RowPolicyExtension(key)]
