"""Wiring only: settings, the Starlette app, auth, CLI, logging."""
