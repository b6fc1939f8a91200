"""The compiled path: an order-page query as one SQL statement per request.

For a validated document and a role, ``schema.compiler.plan`` decides whether the
operation is one the compiler covers (the dashboard and the portal shapes of
``bench/documents.py``: an ``orders`` page with the order's fields, outlook, alerts,
parties, lines, shipments and events) and records what it selects;
``schema.compiler.sql`` turns the plan into one statement that returns the page with
every relation as JSON built by the database, scope, keyset and row rules included;
``schema.compiler.run`` binds the request's values, runs it and writes the response.
Plans are cached per (role, document, operation), statements per dialect.

Anything else runs on the ordinary path (graphql-core + Strawberry + DataLoaders),
which is the oracle: tests/compiler compares the two byte for byte per role.
``schema.execute.run`` picks the path; ``execution_path()`` says which one ran
(the ``X-Execution-Path`` response header).
"""

from schema.compiler.run import PLANS, Compiled, PlanCache, execute_compiled

__all__ = ["PLANS", "Compiled", "PlanCache", "execute_compiled"]
