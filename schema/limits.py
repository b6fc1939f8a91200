"""Document limits, checked before any resolver runs: depth, aliases, directives, field
repetition (tokens are limited by the parser) and the query cost (rows a query may
page through)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    get_named_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import Visitor, visit

from schema.build import RoleSchema


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_directives: int = 50
    max_field_repeats: int = 20
    max_cost: int = 5000
    introspection: bool = True


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1

    def enter_directive(self, *_: Any) -> None:
        self.directives += 1


class _Shape:
    """Depth and field repetition of a document, fragments expanded but each computed once.

    Memoised per fragment, so a "fragment bomb" (fragments spreading each other many
    times) costs linear time here instead of exponential.
    """

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self._depths: dict[str, int] = {}
        self._names: dict[str, Counter[str]] = {}

    def depth(self, selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    # Introspection (GraphiQL's query nests ofType eight deep) is bounded
                    # by the schema itself; like graphql-armor, depth ignores it.
                    deepest = max(deepest, 1)
                    continue
                deepest = max(deepest, 1 + self.depth(selection.selection_set, visiting))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set, visiting))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment_depth(selection.name.value, visiting))
        return deepest

    def _fragment_depth(self, name: str, visiting: frozenset[str]) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in visiting:  # unknown or cyclic: validation reports it
            return 0
        if name not in self._depths:
            self._depths[name] = self.depth(fragment.selection_set, visiting | {name})
        return self._depths[name]

    def names(self, selection_set: SelectionSetNode, visiting: frozenset[str]) -> Counter[str]:
        """Response names selected at this level, fragments flattened, with multiplicity."""
        found: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                found.update(self.names(selection.selection_set, visiting))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                if name not in self._names:
                    self._names[name] = self.names(fragment.selection_set, visiting | {name})
                found.update(self._names[name])
        return found


class _SelectionSets(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[SelectionSetNode] = []

    def enter_selection_set(self, node: SelectionSetNode, *_: Any) -> None:
        self.found.append(node)


def check_limits(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """Depth, alias, directive and repetition limits; tokens are limited by the parser.

    Repetition matters because validating fields that overlap is quadratic in how
    often one response name repeats in a selection set.
    """
    counter = _Counter()
    visit(document, counter)
    errors: list[GraphQLError] = []
    if counter.aliases > limits.max_aliases:
        errors.append(GraphQLError(f"Query uses too many aliases (limit {limits.max_aliases})."))
    if counter.directives > limits.max_directives:
        errors.append(
            GraphQLError(f"Query uses too many directives (limit {limits.max_directives}).")
        )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    shape = _Shape(fragments)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            depth = shape.depth(definition.selection_set, frozenset())
            if depth > limits.max_depth:
                errors.append(
                    GraphQLError(f"Query is too deep: {depth} levels (limit {limits.max_depth}).")
                )
    sets = _SelectionSets()
    visit(document, sets)
    for selection_set in sets.found:
        repeated = [
            n
            for n, k in shape.names(selection_set, frozenset()).items()
            if k > limits.max_field_repeats
        ]
        if repeated:
            errors.append(
                GraphQLError(
                    f"Query selects '{repeated[0]}' too often in one place "
                    f"(limit {limits.max_field_repeats})."
                )
            )
            break
    return errors


def query_cost(
    schema: RoleSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """Rows a query may page through: each field with a ``first`` argument costs
    ``first`` (given, or its default) — or ``last`` when that is given — times the
    pages above it.

    ``suppliers(first: 100) { edges { node { orders(first: 100) { ... } } } }`` costs
    100 + 100 x 100. Cost is linear in the multiplier, so each fragment's unit cost
    is computed once.
    """
    gql = schema._schema
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(
        (
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and (operation_name is None or (d.name is not None and d.name.value == operation_name))
        ),
        None,
    )
    if operation is None:
        return 0
    root = gql.get_root_type(operation.operation)
    unit_costs: dict[str, int] = {}
    # The sizes the executor will use: variables coerced exactly as it coerces them
    # (`{"n": 100.0}` is the Int 100, a variable not sent takes its declared default).
    # Variables that do not coerce are a request error: nothing executes, nothing costs.
    coerced = get_variable_values(gql, operation.variable_definitions or (), dict(variables or {}))
    if isinstance(coerced, list):
        return 0

    def first_of(field: FieldNode, definition: GraphQLField, default: Any) -> int:
        """The page size: ``first`` (its default when not given), or ``last`` when
        paging backward (the larger counts), from the coerced arguments."""
        try:
            values = get_argument_values(definition, field, coerced)
        except GraphQLError:  # invalid literals fail validation before this
            values = {}
        size = values.get("first")
        if size is None:  # explicit null: the resolver applies the default
            size = default
        if not isinstance(size, int) or isinstance(size, bool):
            size = 0
        last = values.get("last")
        if isinstance(last, int) and not isinstance(last, bool):
            size = max(size, last)
        return max(size, 0)

    def cost(selection_set: SelectionSetNode | None, parent: Any, visiting: frozenset[str]) -> int:
        if selection_set is None or not hasattr(parent, "fields"):
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = parent.fields.get(selection.name.value)
                if definition is None:
                    continue
                child = get_named_type(definition.type)
                first_arg = definition.args.get("first")
                if first_arg is not None:
                    size = first_of(selection, definition, first_arg.default_value)
                    total += size + size * cost(selection.selection_set, child, visiting)
                else:
                    total += cost(selection.selection_set, child, visiting)
            elif isinstance(selection, InlineFragmentNode):
                on = (
                    gql.get_type(selection.type_condition.name.value)
                    if (selection.type_condition)
                    else parent
                )
                total += cost(selection.selection_set, on, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                if name not in unit_costs:
                    on = gql.get_type(fragment.type_condition.name.value)
                    unit_costs[name] = cost(fragment.selection_set, on, visiting | {name})
                total += unit_costs[name]
        return total

    return cost(operation.selection_set, root, frozenset())


class _Strings(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.with_nul: list[StringValueNode] = []

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.with_nul.append(node)


def _nul_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if "\x00" in str(key):
                return path
            if (found := _nul_path(item, f"{path}.{key}")) is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _nul_path(item, f"{path}.{i}")) is not None:
                return found
    return None


def nul_input(document: DocumentNode, variables: Mapping[str, Any] | None) -> GraphQLError | None:
    """An error if any input (a variable, at any depth, or a string literal) holds NUL.

    PostgreSQL text cannot hold NUL: an ID, filter or string argument carrying one
    would fail inside the driver. Refused here, once for every field, argument and
    transport, before any resolver or SQL runs, so SQLite and PostgreSQL answer alike.
    """
    for name, value in (variables or {}).items():
        if (found := _nul_path(value, f"${name}")) is not None:
            return _nul_error(f"Variable '{found}'")
    strings = _Strings()
    visit(document, strings)
    if strings.with_nul:
        return _nul_error("A string in the query", strings.with_nul[0])
    return None


def _nul_error(where: str, node: StringValueNode | None = None) -> GraphQLError:
    return GraphQLError(
        f"{where} must not contain NUL characters (\\u0000).",
        node,
        extensions={"code": "VALIDATION"},
    )
