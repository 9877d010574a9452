"""Which URLs the node may call on behalf of a user (webhooks): http or https, a host, and by default no address
inside the node's own network. A URL a user hands in would otherwise let them make the node request its loopback
services, the cloud's metadata address or the private network behind it (server-side request forgery)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2000


def shape_refusal(url: str) -> str | None:
    """Why ``url`` cannot be a webhook URL by its shape alone, or None."""
    if len(url) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # a ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() not in SCHEMES:
        return "the scheme must be http or https"
    if not parts.hostname:
        return "no host"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL are not accepted (the signature authenticates the node)"
    if port == 0:
        return "port 0"
    return None


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


async def addresses_of(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the host itself when it is an address)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def address_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why the node must not call ``url`` where it resolves to now, or None: a host that does not resolve, or (unless
    ``allow_private``) any of its addresses on loopback, a private, link-local, shared or reserved range. Every
    address counts: a name with one public and one private address could be answered either way."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = await addresses_of(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as exc:
        return f"host {host} does not resolve ({exc})"
    if not addresses:
        return f"host {host} does not resolve"
    if allow_private:
        return None
    inside = [a for a in addresses if _private(ipaddress.ip_address(a.split("%")[0]))]
    if inside:
        return f"host {host} resolves to an address inside the node's network ({', '.join(inside)})"
    return None
