"""Where a webhook may be sent: the SSRF guard.

Only http and https. The host is resolved here and every address it resolves to must
be public — not private, loopback, link-local (cloud metadata lives at
169.254.169.254 and fd00:ec2::254), shared (CGNAT), multicast, reserved or
unspecified, IPv4-mapped or not — unless private targets are allowed
(``WEBHOOK_ALLOW_PRIVATE_TARGETS=true``, development and tests). The request then
goes to the address that was checked (``Target.url``, with the Host header and TLS
SNI of the name), so a DNS answer that changes between the check and the connection
(rebinding) cannot redirect it. Redirects are never followed (``app.delivery``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
SHARED = ipaddress.ip_network("100.64.0.0/10")


class RefusedTarget(Exception):
    """The URL may not be sent to; the message says why (safe to show its owner)."""


def forbidden(address: IPAddress) -> bool:
    """Whether ``address`` is one a webhook must never reach."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None and forbidden(mapped):
            return True
        if address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64: the IPv4 inside
            return forbidden(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return (
        address in METADATA
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in SHARED)
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to ``url`` (the address), say ``host`` (the name)."""

    url: str
    host_header: str
    sni: str | None  # the name TLS verifies the certificate against (https only)
    address: IPAddress


async def resolve(url: str, *, allow_private: bool) -> Target:
    """The address to send ``url`` to; raises ``RefusedTarget``."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise RefusedTarget("not a valid URL") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget("only http and https URLs with a host")
    host = parts.hostname
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError, ValueError) as error:  # IDNA refuses some names
            raise RefusedTarget(f"cannot resolve {host}") from error
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise RefusedTarget(f"cannot resolve {host}")
    if not allow_private:
        # Every answer must be public: a name that also resolves privately is refused.
        bad = [a for a in addresses if forbidden(a)]
        if bad:
            raise RefusedTarget(f"{host} resolves to a non-public address ({bad[0]})")
    address = addresses[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    default = (parts.scheme, port) in (("http", 80), ("https", 443))
    host_header = host if default else f"{host}:{port}"
    if ":" in host and literal is not None and literal.version == 6:
        host_header = f"[{host}]" if default else f"[{host}]:{port}"
    return Target(
        url=pinned,
        host_header=host_header,
        sni=host if parts.scheme == "https" and literal is None else None,
        address=address,
    )
