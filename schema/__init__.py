"""The GraphQL layer: types, per-role schemas, execution (see README, Architecture)."""

from schema import enums as _enums  # noqa: F401  (registers the GraphQL enums first)
