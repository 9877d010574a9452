"""Enterprise nodes (the third tier of the IDIS hierarchy): the node administrator homes an enterprise prefix of
this node at an enterprise node, given its site information (Handle.Net's ``siteinfo.json`` form) or just its
address and ports; the protocol faces refer clients there (``site_of``); the health checker (``health.py``) records
whether it answers.

The interface the faces call is ``site_of(session, prefix_key)`` and ``list_homed(session)``; both only read.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.enterprise_nodes.errors import EnterpriseNodeForbidden, PrefixNotHomeable, PrefixNotHomed, SiteInvalid
from registry.enterprise_nodes.models import EnterpriseNode
from registry.journal import repository as journal
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.kernel.syntax import canonical
from registry.prefixes import repository as prefixes
from registry.prefixes.errors import PrefixNotFound
from registry.prefixes.models import Prefix
from registry.prefixes.states import LABELS, PrefixState

PROTOCOLS = ("TCP", "UDP", "HTTP", "HTTPS")
SITE_FORMAT_VERSION = 1
PROTOCOL_VERSION = "2.11"  # Handle.Net 9's, as the node's own site says
MAX_SERVERS = 32
MAX_INTERFACES = 16
MAX_ATTRIBUTES = 32
MAX_TEXT = 1024


# --- site information -------------------------------------------------------------------------------------------


def _integer(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SiteInvalid(f"{where} must be an integer from {low} to {high}")
    return value


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise SiteInvalid(f"{where} must be true or false")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise SiteInvalid(f"{where} must be a string of at most {MAX_TEXT} characters")
    return value


def _list(value: object, where: str, most: int, *, least: int = 0) -> list[Any]:
    if not isinstance(value, list) or not least <= len(value) <= most:
        raise SiteInvalid(f"{where} must be a list of {least} to {most} entries")
    return value


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SiteInvalid(f"{where} must be an object")
    return value


def check_address(value: object, where: str = "address") -> str:
    """An IPv4 or IPv6 address, in its compressed text form."""
    if not isinstance(value, str):
        raise SiteInvalid(f"{where} must be an IPv4 or IPv6 address")
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise SiteInvalid(f"{where} {value[:60]!r} is not an IPv4 or IPv6 address") from None
    if address.is_unspecified or address.is_multicast:
        raise SiteInvalid(f"{where} {value[:60]!r} is not the address of a server")
    return str(address)


def _interface(raw: object, where: str) -> dict[str, Any]:
    interface = _object(raw, where)
    protocol = interface.get("protocol")
    if not isinstance(protocol, str) or protocol.upper() not in PROTOCOLS:
        raise SiteInvalid(f"{where}.protocol must be one of {', '.join(PROTOCOLS)}")
    return {
        "query": _boolean(interface.get("query", True), f"{where}.query"),
        "admin": _boolean(interface.get("admin", False), f"{where}.admin"),
        "protocol": protocol.upper(),
        "port": _integer(interface.get("port"), f"{where}.port", 1, 65535),
    }


def _public_key(raw: object, where: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    key = _object(raw, where)
    value = key.get("value")
    if value is None or value == "":
        return None
    if not isinstance(value, str | dict):
        raise SiteInvalid(f"{where}.value must be a string or a JSON Web Key")
    return {"format": _text(key.get("format", "key"), f"{where}.format"), "value": value}


def _server(raw: object, position: int) -> dict[str, Any]:
    where = f"servers[{position}]"
    server = _object(raw, where)
    interfaces = _list(server.get("interfaces"), f"{where}.interfaces", MAX_INTERFACES, least=1)
    out: dict[str, Any] = {
        "serverId": _integer(server.get("serverId", position + 1), f"{where}.serverId", 0, 2**31 - 1),
        "address": check_address(server.get("address"), f"{where}.address"),
        "interfaces": [_interface(i, f"{where}.interfaces[{n}]") for n, i in enumerate(interfaces)],
    }
    key = _public_key(server.get("publicKey"), f"{where}.publicKey")
    if key is not None:
        out["publicKey"] = key
    return out


def check_site(raw: object) -> dict[str, Any]:
    """The site information in its canonical JSON form (the members of Handle.Net's ``siteinfo.json``; others are
    dropped), or ``SiteInvalid`` naming the first problem."""
    site = _object(raw, "the site")
    servers = _list(site.get("servers"), "servers", MAX_SERVERS, least=1)
    version = _text(site.get("protocolVersion", PROTOCOL_VERSION), "protocolVersion")
    major, dot, minor = version.partition(".")
    if not (major.isdecimal() and dot and minor.isdecimal() and int(major) < 256 and int(minor) < 256):
        raise SiteInvalid("protocolVersion must be <major>.<minor>, e.g. 2.11")
    attributes = _list(site.get("attributes", []), "attributes", MAX_ATTRIBUTES)
    out: dict[str, Any] = {
        "version": _integer(site.get("version", SITE_FORMAT_VERSION), "version", 0, 65535),
        "protocolVersion": version,
        "serialNumber": _integer(site.get("serialNumber", 1), "serialNumber", 0, 65535),
        "primarySite": _boolean(site.get("primarySite", True), "primarySite"),
        "multiPrimary": _boolean(site.get("multiPrimary", False), "multiPrimary"),
        "attributes": [
            {
                "name": _text(_object(a, f"attributes[{n}]").get("name"), f"attributes[{n}].name"),
                "value": _text(a.get("value", ""), f"attributes[{n}].value"),
            }
            for n, a in enumerate(attributes)
        ],
        "servers": [_server(s, n) for n, s in enumerate(servers)],
    }
    ids = [s["serverId"] for s in out["servers"]]
    if len(set(ids)) != len(ids):
        raise SiteInvalid("servers must have distinct serverId values")
    return out


def site_from_address(address: str, port: int, http_port: int | None = None) -> dict[str, Any]:
    """The site of an enterprise node given by its address and Handle protocol port (TCP and UDP), and optionally
    the port of its HTTP interface."""
    interfaces: list[dict[str, Any]] = [
        {"query": True, "admin": True, "protocol": "TCP", "port": port},
        {"query": True, "admin": False, "protocol": "UDP", "port": port},
    ]
    if http_port is not None:
        interfaces.append({"query": True, "admin": True, "protocol": "HTTP", "port": http_port})
    return check_site({"servers": [{"serverId": 1, "address": address, "interfaces": interfaces}]})


def site_from_request(body: object) -> dict[str, Any]:
    """The site a request gives: the ``siteinfo.json`` itself (it has ``servers``), ``{"site": {...}}``, or the
    short form ``{"address", "port", "httpPort"?}``."""
    request = _object(body, "the request")
    if "servers" in request:
        return check_site(request)
    if "site" in request:
        return check_site(request["site"])
    if "address" in request:
        http_port = request.get("httpPort")
        return site_from_address(
            check_address(request["address"]),
            _integer(request.get("port"), "port", 1, 65535),
            None if http_port is None else _integer(http_port, "httpPort", 1, 65535),
        )
    raise SiteInvalid("give the site information (servers), or address and port")


# --- homing -----------------------------------------------------------------------------------------------------


def node_out(node: EnterpriseNode, prefix: str) -> dict[str, Any]:
    return {
        "prefix": prefix,
        "site": node.site,
        "homedAt": node.homed_at.isoformat(),
        "homedBy": node.homed_by,
        "lastCheckedAt": node.last_checked_at.isoformat() if node.last_checked_at else None,
        "healthy": node.healthy,
        "lastError": node.last_error,
        "consecutiveFailures": node.consecutive_failures,
    }


async def _homeable(session: AsyncSession, prefix_text: str) -> Prefix:
    prefix = await prefixes.get(session, canonical(prefix_text.strip()), for_update=True)
    if prefix is None or prefix.state == PrefixState.DELETED:
        raise PrefixNotFound(prefix_text)
    if prefix.state != PrefixState.ENABLED:
        raise PrefixNotHomeable(
            f"prefix {prefix.prefix} is {LABELS[PrefixState(prefix.state)]}; only enabled prefixes are homed at "
            "enterprise nodes"
        )
    return prefix


async def home(session: AsyncSession, actor: Actor, prefix_text: str, site: object) -> dict[str, Any]:
    """Home an enabled enterprise prefix of this node at the enterprise node ``site`` describes (node administrator
    only); homing it again replaces the site and starts its health afresh."""
    if not actor.is_node_admin:
        raise EnterpriseNodeForbidden()
    checked = check_site(site)
    prefix = await _homeable(session, prefix_text)
    node = await session.get(EnterpriseNode, prefix.prefix_key, with_for_update=True)
    now = utcnow()
    rehomed = node is not None
    if node is None:
        node = EnterpriseNode(prefix_key=prefix.prefix_key)
        session.add(node)
    node.site, node.homed_at, node.homed_by = checked, now, actor.name
    node.last_checked_at, node.healthy, node.last_error, node.consecutive_failures = None, None, None, 0
    await session.flush()
    servers = [s["address"] for s in checked["servers"]]
    await journal.append(
        session,
        [journal.entry("prefix.homed", prefix.prefix, prefix.prefix_key, actor.name, servers=servers, rehomed=rehomed)],
    )
    return node_out(node, prefix.prefix)


async def unhome(session: AsyncSession, actor: Actor, prefix_text: str) -> None:
    """The prefix is served by this node again (node administrator only)."""
    if not actor.is_node_admin:
        raise EnterpriseNodeForbidden()
    key = canonical(prefix_text.strip())
    node = await session.get(EnterpriseNode, key, with_for_update=True)
    if node is None:
        raise PrefixNotHomed(prefix_text)
    prefix = await prefixes.get(session, key)
    name = prefix.prefix if prefix is not None else prefix_text
    await session.delete(node)
    await session.flush()
    await journal.append(session, [journal.entry("prefix.unhomed", name, key, actor.name)])


# --- reading (the faces' interface) -----------------------------------------------------------------------------


async def site_of(session: AsyncSession, prefix_key: str) -> dict[str, Any] | None:
    """The site information (``siteinfo.json`` form, as ``check_site`` returns it) of the enterprise node that
    serves the enterprise prefix ``prefix_key`` (canonical, e.g. ``88.118.1042``), or None when this node serves it
    itself. Callers may cache the answer."""
    query = (
        select(EnterpriseNode.site)
        .join(Prefix, Prefix.prefix_key == EnterpriseNode.prefix_key)
        .where(EnterpriseNode.prefix_key == prefix_key, Prefix.state != PrefixState.DELETED)
    )
    site: dict[str, Any] | None = (await session.execute(query)).scalar_one_or_none()
    return site


async def site_covering(session: AsyncSession, prefix_key: str) -> tuple[str, dict[str, Any]] | None:
    """The homed prefix that covers ``prefix_key`` (canonical), itself or its longest homed ancestor
    (``88.118.1042`` covers ``88.118.1042.7``), and its site; None when this node serves it itself."""
    segments = prefix_key.split(".")
    candidates = [".".join(segments[:n]) for n in range(1, len(segments) + 1)]
    query = (
        select(EnterpriseNode.prefix_key, EnterpriseNode.site)
        .join(Prefix, Prefix.prefix_key == EnterpriseNode.prefix_key)
        .where(EnterpriseNode.prefix_key.in_(candidates), Prefix.state != PrefixState.DELETED)
    )
    found: dict[str, dict[str, Any]] = dict((await session.execute(query)).all())
    for key in reversed(candidates):
        if key in found:
            return key, found[key]
    return None


async def list_homed(session: AsyncSession) -> list[dict[str, Any]]:
    """Every homed prefix with its site and health (``node_out``), by prefix."""
    query = (
        select(EnterpriseNode, Prefix.prefix)
        .join(Prefix, Prefix.prefix_key == EnterpriseNode.prefix_key)
        .where(Prefix.state != PrefixState.DELETED)
        .order_by(EnterpriseNode.prefix_key)
    )
    return [node_out(node, prefix) for node, prefix in (await session.execute(query)).all()]


async def health_summary(session: AsyncSession) -> dict[str, Any]:
    """What the node reports upward: how many prefixes are homed at enterprise nodes and how many answered the last
    check, and each one's health."""
    nodes = await list_homed(session)
    return {
        "homed": len(nodes),
        "healthy": sum(1 for n in nodes if n["healthy"] is True),
        "unhealthy": sum(1 for n in nodes if n["healthy"] is False),
        "nodes": [
            {
                "prefix": n["prefix"],
                "healthy": n["healthy"],
                "consecutiveFailures": n["consecutiveFailures"],
                "lastCheckedAt": n["lastCheckedAt"],
            }
            for n in nodes
        ],
    }
