"""The node's site information (``HS_SITE``, RFC 3651 section 3.2.2): generated from its settings, answered by
get-site-info and on ``0.NA/<node prefix>``, exported as the ``siteinfo.json`` Handle.Net tools read.

The JSON form is Handle.Net's (``GsonUtility.SiteInfoGsonTypeAdapter``); the octets are its ``Encoder``'s: format
version, protocol version, serial number, primary mask, hash option, hash filter, attributes, then each server's
id, 16-octet address, public key and interfaces (service type, transport, port).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from faces.handle_native.values import public_key_octets
from foundation.config import Settings
from foundation.handle_protocol import MAJOR, MINOR, octets, text, u32

SITE_FORMAT_VERSION = 1
PRIMARY_SITE, MULTI_PRIMARY = 0x80, 0x40
HASH_BY_ALL = 2
ST_QUERY, ST_ADMIN = 2, 1
TRANSPORTS = {"UDP": 0, "TCP": 1, "HTTP": 2, "HTTPS": 3}


def site_json(settings: Settings, public_key: Any, port: int) -> dict[str, Any]:
    """This node's site, one server, from its settings; ``public_key`` the JWK of the node's signing key, ``port``
    the native face's (the setting, or the port a worker bound when the setting is 0)."""
    address = settings.native_site_address or settings.native_host
    if ipaddress.ip_address(address).is_unspecified:
        address = "127.0.0.1"
    public = urlsplit(settings.public_url)
    web_port = public.port or (443 if public.scheme == "https" else 80)
    interfaces = [
        {"query": True, "admin": True, "protocol": "TCP", "port": port},
        {"query": True, "admin": False, "protocol": "UDP", "port": port},
        {"query": True, "admin": True, "protocol": public.scheme.upper(), "port": web_port},
    ]
    return {
        "version": SITE_FORMAT_VERSION,
        "protocolVersion": f"{MAJOR}.{MINOR}",
        "serialNumber": settings.native_site_serial,
        "primarySite": True,
        "multiPrimary": False,
        "attributes": [{"name": "desc", "value": f"secnode {settings.node_prefix}"}],
        "servers": [
            {
                "serverId": 1,
                "address": address,
                **({"publicKey": {"format": "key", "value": public_key}} if public_key is not None else {}),
                "interfaces": interfaces,
            }
        ],
    }


def _address(text_address: str) -> bytes:
    packed = ipaddress.ip_address(text_address).packed
    return packed.rjust(16, b"\0")  # Handle.Net right-aligns an IPv4 address in the 16 octets


def _interface(interface: dict[str, Any]) -> bytes:
    service = (ST_QUERY if interface.get("query") else 0) | (ST_ADMIN if interface.get("admin") else 0)
    transport = TRANSPORTS.get(str(interface.get("protocol", "")).upper(), 0)
    return bytes((service, transport)) + u32(int(interface.get("port", 0)))


def site_octets(site: dict[str, Any]) -> bytes:
    """The octets of a site in its JSON form (raises KeyError or ValueError when the JSON is not a site)."""
    major, _, minor = str(site.get("protocolVersion", f"{MAJOR}.{MINOR}")).partition(".")
    mask = (PRIMARY_SITE if site.get("primarySite") else 0) | (MULTI_PRIMARY if site.get("multiPrimary") else 0)
    parts = [
        int(site.get("version", SITE_FORMAT_VERSION)).to_bytes(2, "big"),
        bytes((int(major), int(minor or 0))),
        int(site.get("serialNumber", 1)).to_bytes(2, "big"),
        bytes((mask, int(site.get("hashOption", HASH_BY_ALL)))),
        text(str(site.get("hashFilter", ""))),
    ]
    attributes = site.get("attributes") or []
    parts.append(u32(len(attributes)))
    parts.extend(text(str(a["name"])) + text(str(a["value"])) for a in attributes)
    servers = site.get("servers") or []
    parts.append(u32(len(servers)))
    for server in servers:
        key = server.get("publicKey") or {}
        key_octets = public_key_octets(key.get("value")) if isinstance(key, dict) and key.get("value") else b""
        interfaces = server.get("interfaces") or []
        parts.append(u32(int(server["serverId"])) + _address(server["address"]) + octets(key_octets))
        parts.append(u32(len(interfaces)) + b"".join(_interface(i) for i in interfaces))
    return b"".join(parts)
