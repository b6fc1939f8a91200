"""The walkthrough `handoff demo` prints, pasted into bash against a real server: every
step succeeds with today's dates and the seeded ids, and the client's answer holds no
supplier and no price."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.cli import main
from app.demo import WALKTHROUGH_BEGIN, WALKTHROUGH_END
from app.main import create_app
from app.settings import Settings
from conftest import AUDIENCE, ISSUER, SECRET
from db.engine import Database

WAIT = 60.0


@pytest.fixture
async def port(db: Database) -> AsyncIterator[int]:
    """A real server on a free loopback port, on the suite's database, system clock."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_secret=SECRET,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db=db), host="127.0.0.1", port=0, log_config=None, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(5):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
                await asyncio.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 5)


async def test_the_printed_walkthrough_runs_from_po_to_invoice(
    port: int,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("the walkthrough is a bash script using curl: install curl to run it")
    # given `handoff demo` run for this server
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "JWT_SECRET": SECRET,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_ISSUER": ISSUER,
    }.items():
        monkeypatch.setenv(name, value)
    await asyncio.to_thread(main, ["demo", "--orders", "20"])
    out = capsys.readouterr().out
    script = out[out.index(WALKTHROUGH_BEGIN) : out.index(WALKTHROUGH_END)]

    # when its walkthrough is pasted into bash
    shell = await asyncio.create_subprocess_exec(
        "bash", "-c", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(shell.communicate(), WAIT)

    # then every step answers without errors, and the order ends delivered and matched
    assert shell.returncode == 0, stderr
    answers = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    assert len(answers) == 12, stdout
    for answer in answers:
        assert "errors" not in answer, answer
        for payload in answer["data"].values():
            assert not (payload or {}).get("userErrors"), answer
    data = {name: value for answer in answers for name, value in answer["data"].items()}
    assert data["issueOrder"]["order"]["stage"] == "ISSUED"
    assert data["submitInvoice"]["invoice"]["match"] == "MATCHED"
    story: dict[str, Any] = answers[-1]["data"]["order"]
    assert (story["stage"], story["match"]) == ("DELIVERED", "MATCHED")
    assert [e["kind"] for e in story["events"]][:2] == ["ISSUED", "ACKNOWLEDGED"]
    tracked = json.dumps(answers[-4])  # the client's view, before the receipt
    assert '"stage": "DISPATCHED"' in tracked
    for hidden in ("unitPrice", "total", "12.50", "supplier", "Apex"):
        assert hidden not in tracked
