"""E-mail through SMTP (``SMTP_URL``): the people who do not watch a socket.

* the supplier's contact gets each new purchase order and each amendment,
* the buyer (``EmailSettings.buyer_email``) gets alerts, one message per burst,
* the client's contact gets each dispatch, with a tracking link made for it.

Built like webhooks: the feed plus a durable per-org cursor (``db.email_outbox``); each
message is rendered once, from its recipient's own projection (``schema.email_views``:
a committed document executed on the recipient's role schema), into plain text and
HTML (Jinja2, ``templates/email``), stored, then sent under a lease and retried.
Per-org switches: ``handoff email --org ORG ...``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.polling import OutboxWorker
from db import email_outbox as outbox
from db import feed
from db.clock import Clock
from db.commands.tracking_links import create_link_for_order
from db.engine import Database
from db.errors import DomainError, DomainErrors
from db.feed import FeedAlert, FeedEvent
from db.scope import Role
from db.tracking import link_url
from permissions.principal import Principal
from schema.email_views import alert_views, order_view

log = logging.getLogger("handoff.email")

TEMPLATES = Path(__file__).parent / "templates" / "email"
PURCHASE_ORDER_KINDS = {"ISSUED": False, "AMENDED": True}  # kind -> is an amendment
SYSTEM_SUBJECT = "handoff-email"


@dataclass(frozen=True)
class SmtpConfig:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # smtps: TLS from the start; smtp: STARTTLS when offered
    sender: str

    @classmethod
    def from_url(cls, url: str, sender: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://...")
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=tls,
            sender=sender,
        )


_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render(name: str, **values: Any) -> tuple[str, str]:
    """(plain text, HTML) of template ``name``."""
    return _env.get_template(f"{name}.txt").render(**values), _env.get_template(
        f"{name}.html"
    ).render(**values)


class _Lost(Exception):
    """Another worker moved the cursor first: this transaction writes nothing."""


class Mailer(OutboxWorker):
    loop_name = "email"
    logger = log
    failure = "an e-mail pass failed; trying again"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        smtp: SmtpConfig,
        *,
        public_url: str,
        poll_seconds: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(db, clock, poll_seconds=poll_seconds, rng=rng)
        self._smtp = smtp
        self._public_url = public_url

    async def run_once(self) -> int:
        return await self.materialise() + await self.send_due()

    # --- the feed into messages ------------------------------------------------------

    async def materialise(self) -> int:
        async with self._db.write_session() as session, session.begin():
            await outbox.ensure_settings(session)
        async with self._db.read_session() as session:
            behind = await outbox.behind(session)
        made = 0
        for settings in behind:
            async with self._db.read_session() as session:
                entries = await feed.read(session, org=settings.org, after=settings.cursor)
                contacts = await outbox.contacts(
                    session, org=settings.org, order_ids=sorted({e.order_id for e in entries})
                )
            if not entries:
                continue
            now = self._clock()
            ready: list[outbox.NewMessage] = []
            dispatches: list[tuple[FeedEvent, str, dict[str, Any]]] = []
            alerts: list[FeedAlert] = []
            for entry in entries if settings.enabled else []:
                supplier_email, client_email, supplier_id, client_id = contacts[entry.order_id]
                if isinstance(entry, FeedAlert):
                    if settings.alerts and settings.buyer_email:
                        alerts.append(entry)
                elif entry.kind in PURCHASE_ORDER_KINDS and settings.purchase_orders:
                    if supplier_email:
                        principal = Principal(
                            Role.SUPPLIER, entry.org, SYSTEM_SUBJECT, supplier_id=supplier_id
                        )
                        order = await order_view(
                            db=self._db, principal=principal, order_id=entry.order_id, now=now
                        )
                        if order is not None:
                            amended = PURCHASE_ORDER_KINDS[entry.kind]
                            text, html = render("purchase_order", order=order, amended=amended)
                            verb = "amended" if amended else "new"
                            subject = f"Purchase order {order['number']} ({verb})"
                            ready.append(
                                outbox.NewMessage(
                                    entry.kind, entry.position, supplier_email, subject, text, html
                                )
                            )
                elif (
                    entry.kind == "DISPATCHED"
                    and settings.dispatches
                    and client_email
                    and client_id
                ):
                    principal = Principal(
                        Role.CLIENT, entry.org, SYSTEM_SUBJECT, client_id=client_id
                    )
                    order = await order_view(
                        db=self._db, principal=principal, order_id=entry.order_id, now=now
                    )
                    if order is not None:
                        dispatches.append((entry, client_email, order))
            if alerts and settings.buyer_email:
                buyer = Principal(Role.BUYER, settings.org, SYSTEM_SUBJECT)
                views = await alert_views(db=self._db, principal=buyer, alerts=alerts, now=now)
                if views:
                    text, html = render("alerts", alerts=views)
                    subject = f"{len(views)} order{'s' if len(views) != 1 else ''} need attention"
                    ready.append(
                        outbox.NewMessage(
                            "ALERTS", alerts[-1].position, settings.buyer_email, subject, text, html
                        )
                    )
            try:
                async with self._db.write_session() as session, session.begin():
                    for event, recipient, order in dispatches:
                        link = await self._link(session, event, now)
                        text, html = render("dispatch", order=order, link=link)
                        subject = f"Order {order['number']} dispatched"
                        ready.append(
                            outbox.NewMessage(
                                "DISPATCHED", event.position, recipient, subject, text, html
                            )
                        )
                    moved = await outbox.advance(
                        session,
                        org=settings.org,
                        from_cursor=settings.cursor,
                        to_cursor=entries[-1].position,
                        messages=ready,
                        now=now,
                    )
                    if not moved:
                        raise _Lost
            except _Lost:
                continue
            made += len(ready)
        return made

    async def _link(self, session: Any, event: FeedEvent, now: Any) -> str | None:
        """A tracking link for the client's message (made on the buyer's behalf)."""
        try:
            issued = await create_link_for_order(
                session, org=event.org, order_id=event.order_id, now=now, created_by=SYSTEM_SUBJECT
            )
        except (DomainError, DomainErrors):
            return None  # no client, or too many live links: the message goes without
        return link_url(self._public_url, issued.secret)

    # --- sending ---------------------------------------------------------------------

    async def send_due(self) -> int:
        now = self._clock()
        async with self._db.write_session() as session, session.begin():
            claimed = await outbox.claim(
                session, worker=self.worker_id, now=now, lease=timedelta(minutes=2), limit=50
            )
        for message in claimed:
            try:
                error = await self._send(message)
            except Exception as failure:  # one message's fault never stalls the others
                log.exception("an e-mail attempt failed", extra={"email_id": message.id})
                error = type(failure).__name__
            async with self._db.write_session() as session, session.begin():
                await outbox.settle(
                    session,
                    claimed=message,
                    worker=self.worker_id,
                    now=self._clock(),
                    error=error,
                    rng=self._rng,
                )
        return len(claimed)

    async def _send(self, message: outbox.ClaimedMessage) -> str | None:
        try:
            mail = EmailMessage()
            mail["From"] = self._smtp.sender
            mail["To"] = message.recipient
            mail["Subject"] = message.subject
            mail["Message-ID"] = f"<{message.id}@handoff>"
            mail.set_content(message.text_body)
            mail.add_alternative(message.html_body, subtype="html")
        except (ValueError, TypeError) as error:  # a header the library refuses
            log.warning("e-mail cannot be built", extra={"email_id": message.id})
            return f"cannot build the message: {type(error).__name__}"
        try:
            await aiosmtplib.send(
                mail,
                hostname=self._smtp.hostname,
                port=self._smtp.port,
                username=self._smtp.username,
                password=self._smtp.password,
                use_tls=self._smtp.use_tls,
                start_tls=None if not self._smtp.use_tls else False,
                timeout=30,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            log.info("e-mail not sent; will retry", extra={"email_id": message.id})
            return f"{type(error).__name__}: {error}"[:500]
        return None
