"""``GET /track/{token}``: the page a client opens on a phone, with nothing it must not see.

* The token is hashed and looked up — one statement, whatever the token — then judged
  live or not in memory. A never-issued, a revoked and an expired token get the same
  404, byte for byte, after the same work.
* A live link acts as a principal (``permissions.tracking``: a client narrowed to one
  order); the page renders the result of the fixed document ``schema.tracking_page``
  executed against the client role's schema as that principal, through the same
  admission control as every GraphQL operation.
* Guessing is rate-limited per client address (``app.ratelimit``; 429 + Retry-After).
* Responses carry a strict CSP (``'self'`` only: no inline script or style), no
  referrer (the token is in the URL and the page links to carriers' sites), no caching.

Live updates are ``app.tracking_live``; the templates and static files ``app.tracking_view``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.ratelimit import RateLimiter
from app.settings import Settings
from app.tracking_view import TrackingView
from db.engine import Database
from db.queries.tracking_links import link_by_token_hash
from db.tracking import LinkState, is_live, token_hash
from permissions.principal import Principal
from permissions.tracking import link_principal
from schema.tracking_page import project_tracking_page

log = logging.getLogger("handoff.tracking")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HTML = "text/html; charset=utf-8"
_NOWHERE = LinkState(expires_at=None, revoked_at=None, client_id=None)


@dataclass(frozen=True)
class OpenLink:
    """A live link: who it acts as, and how to find it again (by its token's hash)."""

    principal: Principal
    digest: str
    link_id: str
    expires_at: datetime | None


class Tracking:
    """The tracking pages' state in one app: view, limiter, database, clock."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Callable[[], datetime],
        view: TrackingView,
        limiter: RateLimiter,
        slots: asyncio.Semaphore,
        client_ip_header: str = "",
        heartbeat_seconds: float = 15.0,
        refresh_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.view = view
        self.limiter = limiter
        self.slots = slots
        self.client_ip_header = client_ip_header.lower()
        self.heartbeat_seconds = heartbeat_seconds
        self.refresh_seconds = refresh_seconds

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        db: Database,
        clock: Callable[[], datetime],
        slots: asyncio.Semaphore,
    ) -> Tracking:
        return cls(
            db=db,
            clock=clock,
            view=TrackingView(refresh_seconds=120),
            limiter=RateLimiter(
                per_minute=settings.tracking_requests_per_minute, burst=settings.tracking_burst
            ),
            slots=slots,
            client_ip_header=settings.tracking_client_ip_header,
        )

    # --- who is asking, and may they ask now ------------------------------------------

    def address(self, request: Request) -> str:
        if self.client_ip_header:
            forwarded = request.headers.get(self.client_ip_header, "")
            first = forwarded.split(",")[0].strip()
            if first:
                return first
        return request.client.host if request.client else "unknown"

    def limited(self, request: Request) -> Response | None:
        wait = self.limiter.take(self.address(request))
        if not wait:
            return None
        return Response(
            self.view.too_many(wait),
            status_code=429,
            media_type=HTML,
            headers={**HEADERS, "Retry-After": str(wait)},
        )

    def not_found(self) -> Response:
        return Response(self.view.not_found, status_code=404, media_type=HTML, headers=HEADERS)

    async def admit(self, request: Request) -> OpenLink | Response:
        """The link a page or stream request opens, else the answer to give instead:
        429 past the rate limit, the one 404 for every token that opens nothing."""
        refused = self.limited(request)
        if refused is not None:
            return refused
        link = await self.open(request.path_params["token"])
        return self.not_found() if link is None else link

    # --- the link ---------------------------------------------------------------------

    async def open(self, token: str) -> OpenLink | None:
        """The live link ``token`` opens, else None — by the same steps for every token:
        hash, one lookup, the liveness rule in memory."""
        return await self.reopen(token_hash(token))

    async def reopen(self, digest: str) -> OpenLink | None:
        """The link again, by its hash (live streams re-check before every update)."""
        async with self.db.read_session() as session:
            target = await link_by_token_hash(session, digest)
        state = _NOWHERE
        if target is not None:
            state = LinkState(target.expires_at, target.revoked_at, target.client_id)
        live = is_live(state, self.clock())  # judged for a missing link too: same steps
        principal = link_principal(target) if target is not None and live else None
        if target is None or principal is None:
            return None
        return OpenLink(principal, digest, target.id, target.expires_at)

    async def order_of(self, link: OpenLink) -> dict[str, Any] | None:
        """The page document's ``order`` for ``link`` (None: out of its scope).
        Execution errors are logged with a request id and raised as ``PageError``."""
        request_id = uuid.uuid4().hex
        async with self.slots:
            result = await project_tracking_page(
                db=self.db, principal=link.principal, now=self.clock(), request_id=request_id
            )
        if result.errors:
            for error in result.errors:
                log.error(
                    "tracking page failed",
                    exc_info=error.original_error,
                    extra={"request_id": request_id, "link": link.link_id, "path": error.path},
                )
            raise PageError(request_id)
        order: dict[str, Any] | None = (result.data or {}).get("order")
        return order


class PageError(Exception):
    """Executing the page's document failed (logged; the visitor gets a plain page)."""


async def tracking_page(request: Request) -> Response:
    tracking: Tracking = request.app.state.tracking
    link = await tracking.admit(request)
    if isinstance(link, Response):
        return link
    try:
        order = await tracking.order_of(link)
    except PageError:
        return Response(
            tracking.view.unavailable, status_code=503, media_type=HTML, headers=HEADERS
        )
    if order is None:
        return tracking.not_found()
    return Response(tracking.view.page(order), media_type=HTML, headers=HEADERS)


async def tracking_asset(request: Request) -> Response:
    """The page's CSS and JS, named by content hash: cacheable for good."""
    tracking: Tracking = request.app.state.tracking
    asset = tracking.view.assets.get(request.path_params["name"])
    if asset is None:
        return Response(b"Not found.", status_code=404, media_type="text/plain")
    return Response(
        asset.body,
        media_type=asset.media_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
