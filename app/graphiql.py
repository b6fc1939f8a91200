"""The GraphiQL page, and in development links that open it with a token filled in.

Without a token GraphiQL cannot even load the schema (every request needs one), so
``handoff demo`` prints one link per role: ``/graphql#authorization=Bearer%20...``.
The token rides in the URL fragment, which browsers never send to the server (so it
is in no request line, access log or Referer); the page reads it, sets it as the
default header and in the header editor, and drops it from the address bar. This
reading is only in the development page: production never serves it.
"""

from __future__ import annotations

from urllib.parse import quote

from strawberry.http.ides import get_graphql_ide_html

_ANCHOR = "const defaultHeaders = {};"
_READ_FRAGMENT = """const defaultHeaders = {};
      // Handoff, development only: `handoff demo` links carry a token in the fragment.
      const handoffFragment = new URLSearchParams(window.location.hash.slice(1));
      const handoffAuthorization = handoffFragment.get("authorization");
      if (handoffAuthorization) {
        defaultHeaders["Authorization"] = handoffAuthorization;
        parameters.headers = JSON.stringify({ Authorization: handoffAuthorization }, null, 2);
        history.replaceState(null, "", window.location.pathname + window.location.search);
      }"""


def graphiql_html(*, development: bool) -> str:
    """Strawberry's GraphiQL page; in development it also reads a token link."""
    html = get_graphql_ide_html()
    if not development:
        return html
    if html.count(_ANCHOR) != 1:  # a Strawberry upgrade changed the page: say so loudly
        raise RuntimeError("GraphiQL page changed: cannot add the development token link")
    return html.replace(_ANCHOR, _READ_FRAGMENT)


def graphiql_link(base_url: str, token: str) -> str:
    """A development link to GraphiQL that opens with ``Authorization: Bearer <token>``."""
    return f"{base_url.rstrip('/')}/graphql#authorization={quote('Bearer ' + token, safe='')}"
