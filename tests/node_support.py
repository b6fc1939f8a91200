"""The npm tools some tests run (a real OpenID provider, GraphQL Code Generator, tsc).

They are installed by ``tests/node/install.sh`` into a cache directory outside the
repository (``.ci/run`` does it first; a test does it itself when needed). Tests that
need them skip only when node is not installed at all.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL = Path(__file__).parent / "node" / "install.sh"


@functools.cache
def _installed() -> Path:
    done = subprocess.run(
        ["bash", str(INSTALL)], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"tests/node/install.sh failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def node_tools() -> Path:
    """The directory whose ``node_modules`` holds the tools; skips without node."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: install Node.js 20+ to run this test")
    return _installed()


def node() -> str:
    found = shutil.which("node")
    assert found is not None
    return found
