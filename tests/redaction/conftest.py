"""Fixtures for the redaction tests: the canary world, seeded once per test through the
public mutations (the database is per test). The world lives in ``worlds/canary.py``,
the helpers in ``redaction_support.py``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from worlds.canary import World

_ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


def pytest_plugin_registered(plugin: object, manager: pytest.PytestPluginManager) -> None:
    """Put the root ``tests/conftest.py`` back as ``sys.modules["conftest"]``.

    Outside a package pytest imports every conftest.py as the module ``conftest``; this
    one would otherwise replace the root one, and test modules collected after it that
    ``from conftest import GraphQL`` (here and elsewhere) would import from this file.
    """
    if getattr(plugin, "__file__", None) != __file__:
        return
    for other in manager.get_plugins():
        if Path(getattr(other, "__file__", None) or "").resolve() == _ROOT_CONFTEST:
            sys.modules["conftest"] = other  # type: ignore[assignment]


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    # Imported here: worlds.canary imports the root conftest, which is only back
    # in sys.modules once this module has been registered.
    from worlds.canary import seed_world

    return await seed_world(client)
