"""Data layer: models, engine, scoped queries and the pure domain rules.

Imports no strawberry, no starlette and no settings object.
"""
