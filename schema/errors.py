"""Errors that may reach a user verbatim. Every other exception is masked."""

from __future__ import annotations

from graphql import GraphQLError


class PublicError(GraphQLError):
    """A GraphQL error whose message is safe to show: built from the caller's input only."""
