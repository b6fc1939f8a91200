"""GraphiQL links with a token: development only, the token in the fragment, read by
the page into the default headers and the header editor, then dropped from the URL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from urllib.parse import unquote

import httpx
import pytest

from app.graphiql import graphiql_html, graphiql_link
from app.main import create_app
from app.settings import Settings
from conftest import AUDIENCE, ISSUER, SECRET
from db.engine import Database

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"


def test_a_link_carries_the_header_in_the_fragment_only() -> None:
    link = graphiql_link("http://127.0.0.1:8000", TOKEN)
    path, _, fragment = link.partition("#")
    assert path == "http://127.0.0.1:8000/graphql"
    assert TOKEN not in path
    assert unquote(fragment) == f"authorization=Bearer {TOKEN}"


async def page(db: Database, **settings: object) -> str:
    given: dict[str, object] = {
        "jwt_secret": SECRET,
        "jwt_audience": AUDIENCE,
        "jwt_issuer": ISSUER,
        **settings,
    }
    app = create_app(Settings(_env_file=None, **given), db=db)  # type: ignore[call-arg, arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text


async def test_the_development_page_reads_a_token_link(db: Database) -> None:
    assert "handoffAuthorization" in await page(db, environment="development")


async def test_production_never_reads_a_token_link_even_with_graphiql_on(db: Database) -> None:
    html = await page(db, environment="production", jwt_secret="p" * 40, graphiql=True)
    assert "handoffAuthorization" not in html
    assert "location.hash" not in html


def _run_page_script(hash_: str) -> dict[str, object]:
    """The page's own script, up to where GraphiQL's CDN code is first used, run by node
    with a stub browser: what would the fetcher and the header editor get?"""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: install Node.js to run the page's script")
    html = graphiql_html(development=True)
    script = re.findall(r"<script>(.*?)</script>", html, re.S)[-1]
    script = script[: script.index("const csrfToken")]
    stub = f"""
        const replaced = [];
        const window = {{ location: {{
            search: "", hash: {json.dumps(hash_)}, pathname: "/graphql",
            href: "http://127.0.0.1:8000/graphql" + {json.dumps(hash_)} }} }};
        const history = {{ replaceState: (a, b, url) => replaced.push(url) }};
        {script}
        console.log(JSON.stringify({{ defaultHeaders, parameters, replaced }}));
    """
    done = subprocess.run(
        ["node", "-e", stub], capture_output=True, text=True, timeout=30, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_page_script_sets_the_header_from_the_fragment_and_drops_it() -> None:
    link = graphiql_link("http://127.0.0.1:8000", TOKEN)
    result = _run_page_script("#" + link.partition("#")[2])
    assert result["defaultHeaders"] == {"Authorization": f"Bearer {TOKEN}"}
    headers = result["parameters"]["headers"]  # type: ignore[index]
    assert json.loads(headers) == {"Authorization": f"Bearer {TOKEN}"}
    assert result["replaced"] == ["/graphql"]


def test_the_page_script_without_a_fragment_sets_nothing() -> None:
    result = _run_page_script("")
    assert result == {"defaultHeaders": {}, "parameters": {}, "replaced": []}
