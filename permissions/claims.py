"""Verified JWT claims -> Principal, through a configurable claim mapping.

Identity providers do not use our claim names: Keycloak puts roles in
``realm_access.roles``, Auth0 wants namespaced claims (``https://example.com/org``),
Entra ID sends ``roles`` as a list and the tenant as ``tid``. A ``ClaimMapping``
says where each of role, org, client id and supplier id is, and which provider
role names mean buyer, client or supplier. The default mapping is our own names.

The rules stay strict whatever the mapping: exactly one of our roles, a non-empty
org, ``client_id`` iff client and ``supplier_id`` iff supplier, and NumericDate
claims that are JSON numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from permissions.principal import Principal, Role

MAX_SUBJECT_LENGTH: Final = 200
MAX_ORG_LENGTH: Final = 64
MAX_ID_LENGTH: Final = 200
NUMERIC_DATE_CLAIMS: Final = ("exp", "iat", "nbf")

_MISSING: Final = object()


class ClaimError(Exception):
    """The claims cannot be turned into a principal (a message for logs only)."""


@dataclass(frozen=True)
class ClaimMapping:
    """Where a token carries what Handoff needs.

    Each ``*_claim`` is a path: ``role`` (a top-level claim), ``realm_access.roles``
    (nested objects), or a namespaced name such as ``https://example.com/org`` (a key
    containing dots and slashes is found whole: the longest key that exists wins).
    ``roles`` maps provider role names to ours; empty means the claim holds
    ``buyer``, ``client`` or ``supplier`` itself. The role claim may be a string or a
    list (other roles in the list are ignored), but it must name exactly one of ours;
    with the default mapping (our own tokens) it must be a string.
    """

    role_claim: str = "role"
    org_claim: str = "org"
    client_id_claim: str = "client_id"
    supplier_id_claim: str = "supplier_id"
    roles: Mapping[str, Role] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in (self.role_claim, self.org_claim, self.client_id_claim, self.supplier_id_claim):
            if not path or not path.strip():
                raise ValueError("claim paths must not be empty")

    @classmethod
    def parse_roles(cls, text: str) -> dict[str, Role]:
        """``"kc-buyer=buyer,kc-client=client"`` -> ``{"kc-buyer": Role.BUYER, ...}``."""
        roles: dict[str, Role] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, ours = item.rpartition("=")
            if not sep or not name.strip():
                raise ValueError(
                    f"role map entry {item!r} is not PROVIDER_ROLE=buyer|client|supplier"
                )
            try:
                roles[name.strip()] = Role(ours.strip())
            except ValueError:
                raise ValueError(
                    f"role map entry {item!r}: {ours.strip()!r} is not buyer, client or supplier"
                ) from None
        return roles


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` (see ``ClaimMapping``), or ``_MISSING``."""
    if path in claims:
        return claims[path]
    parts = path.split(".")
    # Longest prefix first, so "https://example.com/org" is one key, not three.
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        inner = claims.get(head, _MISSING)
        if isinstance(inner, Mapping):
            found = claim_at(inner, ".".join(parts[cut:]))
            if found is not _MISSING:
                return found
    return _MISSING


def check_numeric_dates(claims: Mapping[str, Any]) -> None:
    """RFC 7519 NumericDate is a JSON number: ``"exp": "9999999999"`` is not one.

    PyJWT converts with ``int()``, which accepts numeric strings; refuse them here.
    """
    for name in NUMERIC_DATE_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            raise ClaimError(f"{name} is not a NumericDate (a JSON number)")


def _role_of(value: Any, mapping: ClaimMapping) -> Role:
    names = [value] if isinstance(value, str) else value
    # Our own tokens carry one role as a string; a provider's role claim may be a list.
    lists_allowed = bool(mapping.roles) or mapping.role_claim != ClaimMapping.role_claim
    if not isinstance(names, list) or (isinstance(value, list) and not lists_allowed):
        raise ClaimError(f"{mapping.role_claim} must be a string")
    if not all(isinstance(n, str) for n in names):
        raise ClaimError(f"{mapping.role_claim} must be a string or a list of strings")
    if mapping.roles:
        found = {mapping.roles[n] for n in names if n in mapping.roles}
    else:
        found = {Role(n) for n in names if n in Role._value2member_map_}
    if len(found) != 1:
        raise ClaimError(
            f"{mapping.role_claim} names {'no' if not found else 'more than one'} Handoff role"
        )
    return found.pop()


def _org_of(value: Any, mapping: ClaimMapping) -> str:
    # Keycloak's organization scope sends a list; one organisation is unambiguous.
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value:
        raise ClaimError(f"{mapping.org_claim} must be a non-empty string")
    return value


def principal_from_claims(claims: Mapping[str, Any], mapping: ClaimMapping) -> Principal:
    """The caller verified ``claims`` name, or ``ClaimError``."""
    check_numeric_dates(claims)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ClaimError("sub must be a non-empty string")
    raw_role = claim_at(claims, mapping.role_claim)
    raw_org = claim_at(claims, mapping.org_claim)
    if raw_role is _MISSING or raw_org is _MISSING:
        raise ClaimError(f"{mapping.role_claim} and {mapping.org_claim} are required")
    role = _role_of(raw_role, mapping)
    org = _org_of(raw_org, mapping)
    # The lengths the data layer stores (actor subject, org key); no NUL (PostgreSQL).
    if len(subject) > MAX_SUBJECT_LENGTH or len(org) > MAX_ORG_LENGTH:
        raise ClaimError("sub or org is too long")
    if "\x00" in subject or "\x00" in org:
        raise ClaimError("sub or org contains NUL")
    ids: dict[Role, str] = {}
    for owner, path in (
        (Role.CLIENT, mapping.client_id_claim),
        (Role.SUPPLIER, mapping.supplier_id_claim),
    ):
        value = claim_at(claims, path)
        if owner is role:
            if not isinstance(value, str) or not value:
                raise ClaimError(f"role {role} requires a non-empty {path}")
            # Scope filters compare it with stored ids: bounded, and no NUL (PostgreSQL).
            if len(value) > MAX_ID_LENGTH or "\x00" in value:
                raise ClaimError(f"{path} is too long or contains NUL")
            ids[owner] = value
        elif value is not _MISSING:
            raise ClaimError(f"role {role} must not carry {path}")
    try:
        # check_numeric_dates made exp a JSON number; sockets close when it passes.
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    except (ValueError, OverflowError, OSError):
        raise ClaimError("exp is out of range") from None
    try:
        return Principal(
            role=role,
            org=org,
            subject=subject,
            client_id=ids.get(Role.CLIENT),
            supplier_id=ids.get(Role.SUPPLIER),
            expires_at=expires_at,
        )
    except ValueError as exc:  # pragma: no cover - the checks above are stricter
        raise ClaimError(str(exc)) from exc
