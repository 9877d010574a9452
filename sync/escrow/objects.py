"""The escrowed objects of an identifier node in XML, both ways (docs/escrow.md, "Object mapping").

RFC 8909 leaves the objects to a mapping document; this is the node's own, one namespace per object as RFC 9022
does for domain names: enterprises (the real-name records prefixes are allocated to), prefixes, and identifiers with
every value exactly as stored (``HS_SECKEY`` holds a scrypt hash, never a secret) and their readers. Each object is
a plain ``dict`` in the shape the node's tables use, so writing and restoring round-trip without loss: the restore
test compares both nodes' answers for every identifier.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

import orjson

from sync.errors import EscrowInvalid

RDE = "urn:ietf:params:xml:ns:rde-1.0"
RDE_HEADER = "urn:ietf:params:xml:ns:rdeHeader-1.0"
ENTERPRISE = "urn:secnode:xml:ns:rdeEnterprise-1.0"
PREFIX = "urn:secnode:xml:ns:rdePrefix-1.0"
IDENTIFIER = "urn:secnode:xml:ns:rdeIdentifier-1.0"
TEMPLATE = "urn:secnode:xml:ns:rdeTemplate-1.0"
NAMESPACES = {"rde": RDE, "rdeHeader": RDE_HEADER, "rdeEnterprise": ENTERPRISE, "rdePrefix": PREFIX}
NAMESPACES.update(rdeTemplate=TEMPLATE, rdeIdentifier=IDENTIFIER)
OBJECT_URIS = (ENTERPRISE, PREFIX, TEMPLATE, IDENTIFIER)

# XML 1.0 cannot carry these even as character references: such text goes as base64 of its UTF-8.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_ENTITIES = {"\r": "&#13;"}  # a bare CR would come back as LF (XML end-of-line handling)


def _text(value: str) -> str:
    return escape(value, _TEXT_ENTITIES)


def element(prefix: str, name: str, text: str | None = None, attrs: dict[str, Any] | None = None) -> str:
    """One element with escaped text and attributes (None attributes are left out)."""
    attributes = "".join(f" {k}={quoteattr(str(v))}" for k, v in (attrs or {}).items() if v is not None)
    if text is None:
        return f"<{prefix}:{name}{attributes}/>"
    return f"<{prefix}:{name}{attributes}>{_text(text)}</{prefix}:{name}>"


def _optional(prefix: str, name: str, text: str | None) -> str:
    return "" if text is None else element(prefix, name, text)


# --- enterprises ---------------------------------------------------------------------------------------------

_ENTERPRISE_FIELDS = (
    ("name", "name"),
    ("creditCode", "credit_code"),
    ("industry", "industry"),
    ("industryCode", "industry_code"),
    ("contactName", "contact_name"),
    ("contactPhone", "contact_phone"),
    ("contactEmail", "contact_email"),
    ("address", "address"),
    ("state", "state"),
    ("reason", "reason"),
    ("crDate", "created_at"),
    ("upDate", "updated_at"),
)


def enterprise_xml(row: dict[str, Any]) -> str:
    parts = [element("rdeEnterprise", "id", str(row["id"]))]
    parts += [_optional("rdeEnterprise", tag, row[column]) for tag, column in _ENTERPRISE_FIELDS]
    return "<rdeEnterprise:enterprise>" + "".join(parts) + "</rdeEnterprise:enterprise>"


def enterprise_from(node: Element) -> dict[str, Any]:
    return {"id": int(_required(node, ENTERPRISE, "id")), **_fields(node, ENTERPRISE, _ENTERPRISE_FIELDS)}


# --- prefixes ------------------------------------------------------------------------------------------------

_PREFIX_FIELDS = (
    ("name", "prefix"),
    ("code", "code"),
    ("enterprise", "enterprise_id"),
    ("state", "state"),
    ("pendingSecret", "pending_secret_hash"),
    ("reason", "reason"),
    ("crDate", "created_at"),
    ("upDate", "updated_at"),
)


def prefix_xml(row: dict[str, Any]) -> str:
    parts = [_optional("rdePrefix", tag, None if row[c] is None else str(row[c])) for tag, c in _PREFIX_FIELDS]
    return "<rdePrefix:prefix>" + "".join(parts) + "</rdePrefix:prefix>"


def prefix_from(node: Element) -> dict[str, Any]:
    row = _fields(node, PREFIX, _PREFIX_FIELDS)
    try:
        row["enterprise_id"], row["state"] = int(row["enterprise_id"]), int(row["state"])
    except (KeyError, TypeError, ValueError):
        raise EscrowInvalid("a prefix object needs its enterprise and state as numbers") from None
    return row


# --- templates -----------------------------------------------------------------------------------------------

_TEMPLATE_FIELDS = (
    ("prefix", "prefix"),
    ("version", "version"),
    ("description", "description"),
    ("industryCategory", "industry_category"),
    ("industrySpecific", "industry_specific"),
    ("industryTrade", "industry_trade"),
    ("industrySubclass", "industry_subclass"),
    ("objectType", "object_type"),
    ("crBy", "created_by"),
    ("crDate", "created_at"),
    ("upDate", "updated_at"),
)


def template_xml(row: dict[str, Any], items: Iterable[dict[str, Any]]) -> str:
    parts = [_optional("rdeTemplate", tag, None if row[c] is None else str(row[c])) for tag, c in _TEMPLATE_FIELDS]
    for item in items:
        attrs = {
            "index": item["item_index"],
            "name": item["name"],
            "type": item["id_type"],
            "required": "true" if item["required"] else "false",
            "state": item["state"],
        }
        parts.append(element("rdeTemplate", "item", orjson.dumps(item["item_metadata"]).decode(), attrs))
    return "<rdeTemplate:template>" + "".join(parts) + "</rdeTemplate:template>"


def template_from(node: Element) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The template row and its items."""
    row = _fields(node, TEMPLATE, _TEMPLATE_FIELDS)
    try:
        row["object_type"] = None if row["object_type"] is None else int(row["object_type"])
        items = [
            {
                "item_index": int(i.get("index", "")),
                "name": i.get("name"),
                "id_type": i.get("type"),
                "required": i.get("required") == "true",
                "state": int(i.get("state", "")),
                "item_metadata": orjson.loads(i.text or "null"),
            }
            for i in node.findall(_q(TEMPLATE, "item"))
        ]
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise EscrowInvalid(f"a template object is malformed: {exc}") from None
    return row, items


# --- identifiers ---------------------------------------------------------------------------------------------


def _data_xml(data: dict[str, Any]) -> str:
    fmt, value = data["format"], data["value"]
    if fmt == "admin":
        return element(
            "rdeIdentifier",
            "admin",
            attrs={"handle": value["handle"], "index": value["index"], "permissions": value.get("permissions")},
        )
    if fmt == "vlist":
        members = "".join(
            element("rdeIdentifier", "member", attrs={"handle": m["handle"], "index": m["index"]}) for m in value
        )
        return f"<rdeIdentifier:vlist>{members}</rdeIdentifier:vlist>"
    if not isinstance(value, str):  # a JWK (key) or an HS_SITE object (site): their JSON text
        return element("rdeIdentifier", fmt, orjson.dumps(value).decode(), {"encoding": "json"})
    if _NOT_XML.search(value):
        return element("rdeIdentifier", fmt, base64.b64encode(value.encode()).decode(), {"encoding": "base64"})
    return element("rdeIdentifier", fmt, value)


def _value_xml(value: dict[str, Any]) -> str:
    attrs = {
        "index": value["index"],
        "type": value["type"],
        "ttl": value.get("ttl"),
        "timestamp": value.get("timestamp"),
        "permissions": value.get("permissions"),
    }
    refs = "".join(
        element("rdeIdentifier", "reference", attrs={"handle": r["handle"], "index": r["index"]})
        for r in value.get("references", ())
    )
    open_tag = element("rdeIdentifier", "value", attrs=attrs)[:-2] + ">"
    return open_tag + _data_xml(value["data"]) + refs + "</rdeIdentifier:value>"


def identifier_xml(row: dict[str, Any], readers: Iterable[dict[str, Any]] = ()) -> str:
    parts = [
        element("rdeIdentifier", "handle", row["handle"]),
        element("rdeIdentifier", "version", str(row["version"])),
        _optional("rdeIdentifier", "template", row["template_key"]),
        element("rdeIdentifier", "crDate", row["created_at"]),
        element("rdeIdentifier", "crBy", row["created_by"]),
        element("rdeIdentifier", "upDate", row["updated_at"]),
        element("rdeIdentifier", "upBy", row["updated_by"]),
    ]
    parts += [_value_xml(v) for v in row["record_values"]]
    parts += [
        element(
            "rdeIdentifier",
            "reader",
            attrs={
                "index": r["value_index"],
                "grantee": r["grantee"],
                "grantedBy": r["granted_by"],
                "grantedAt": r["granted_at"],
            },
        )
        for r in readers
    ]
    return "<rdeIdentifier:identifier>" + "".join(parts) + "</rdeIdentifier:identifier>"


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _data_from(node: Element) -> dict[str, Any]:
    fmt = node.tag.rpartition("}")[2]
    if fmt == "admin":
        value: Any = {"handle": node.get("handle"), "index": int(node.get("index", ""))}
        if node.get("permissions") is not None:
            value["permissions"] = node.get("permissions")
    elif fmt == "vlist":
        value = [
            {"handle": m.get("handle"), "index": int(m.get("index", ""))}
            for m in node.findall(_q(IDENTIFIER, "member"))
        ]
    else:
        text, encoding = node.text or "", node.get("encoding")
        if encoding == "json":
            value = orjson.loads(text)
        elif encoding == "base64":
            value = base64.b64decode(text, validate=True).decode()
        else:
            value = text
    return {"format": fmt, "value": value}


def _value_from(node: Element) -> dict[str, Any]:
    value: dict[str, Any] = {"index": int(node.get("index", "")), "type": node.get("type")}
    data = [child for child in node if child.tag != _q(IDENTIFIER, "reference")]
    if len(data) != 1:
        raise EscrowInvalid(f"value {value['index']} needs exactly one data element")
    value["data"] = _data_from(data[0])
    if node.get("ttl") is not None:
        value["ttl"] = int(node.get("ttl", ""))
    if node.get("timestamp") is not None:
        value["timestamp"] = node.get("timestamp")
    if node.get("permissions") is not None:
        value["permissions"] = node.get("permissions")
    refs = [
        {"handle": r.get("handle"), "index": int(r.get("index", ""))} for r in node.findall(_q(IDENTIFIER, "reference"))
    ]
    if refs:
        value["references"] = refs
    return value


def identifier_from(node: Element) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The record row and its readers."""
    try:
        row = {
            "handle": _required(node, IDENTIFIER, "handle"),
            "version": int(_required(node, IDENTIFIER, "version")),
            "template_key": node.findtext(_q(IDENTIFIER, "template")),
            "created_at": _required(node, IDENTIFIER, "crDate"),
            "created_by": node.findtext(_q(IDENTIFIER, "crBy")) or "",
            "updated_at": _required(node, IDENTIFIER, "upDate"),
            "updated_by": node.findtext(_q(IDENTIFIER, "upBy")) or "",
            "record_values": [_value_from(v) for v in node.findall(_q(IDENTIFIER, "value"))],
        }
        readers = [
            {
                "value_index": int(r.get("index", "")),
                "grantee": r.get("grantee"),
                "granted_by": r.get("grantedBy"),
                "granted_at": r.get("grantedAt"),
            }
            for r in node.findall(_q(IDENTIFIER, "reader"))
        ]
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise EscrowInvalid(f"an identifier object is malformed: {exc}") from None
    return row, readers


# --- deletes -------------------------------------------------------------------------------------------------


def deletes_xml(
    enterprises: list[int],
    prefixes: list[str],
    handles: list[tuple[str, int | None]],
    templates: Sequence[tuple[str, str]] = (),
) -> str:
    """The ``<rde:deletes>`` children: one delete element per object type that has any."""
    parts = []
    if templates:
        keys = "".join(element("rdeTemplate", "key", attrs={"prefix": p, "version": v}) for p, v in templates)
        parts.append(f"<rdeTemplate:delete>{keys}</rdeTemplate:delete>")
    if enterprises:
        ids = "".join(element("rdeEnterprise", "id", str(i)) for i in enterprises)
        parts.append(f"<rdeEnterprise:delete>{ids}</rdeEnterprise:delete>")
    if prefixes:
        names = "".join(element("rdePrefix", "name", p) for p in prefixes)
        parts.append(f"<rdePrefix:delete>{names}</rdePrefix:delete>")
    if handles:
        items = "".join(element("rdeIdentifier", "handle", h, {"version": v}) for h, v in handles)
        parts.append(f"<rdeIdentifier:delete>{items}</rdeIdentifier:delete>")
    return "".join(parts)


def deletes_from(node: Element) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"enterprises": [], "prefixes": [], "handles": [], "templates": []}
    for group in node:
        if group.tag == _q(TEMPLATE, "delete"):
            out["templates"] += [
                (k.get("prefix", ""), k.get("version", "")) for k in group.findall(_q(TEMPLATE, "key"))
            ]
            continue
        if group.tag == _q(ENTERPRISE, "delete"):
            out["enterprises"] += [int(i.text or "") for i in group.findall(_q(ENTERPRISE, "id"))]
        elif group.tag == _q(PREFIX, "delete"):
            out["prefixes"] += [p.text or "" for p in group.findall(_q(PREFIX, "name"))]
        elif group.tag == _q(IDENTIFIER, "delete"):
            out["handles"] += [
                (h.text or "", int(h.get("version", "0")) or None) for h in group.findall(_q(IDENTIFIER, "handle"))
            ]
        else:
            raise EscrowInvalid(f"unknown delete object {group.tag}")
    return out


def _required(node: Element, namespace: str, name: str) -> str:
    found = node.findtext(_q(namespace, name))
    if found is None:
        raise EscrowInvalid(f"{node.tag.rpartition('}')[2]} object without {name}")
    return found


def _fields(node: Element, namespace: str, fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {column: node.findtext(_q(namespace, tag)) for tag, column in fields}
