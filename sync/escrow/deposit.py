"""The deposit file: RFC 8909's ``<rde:deposit>`` around the node's objects (sync.escrow.objects), written as a
stream and read back as a stream (docs/escrow.md, "Deposit format").

The journal position a deposit covers travels in an ``<rdeIdentifier:journal from=… to=…/>`` content element: a
full deposit holds the state after journal number ``to``; an incremental one the changes of the numbers in
(``from``, ``to``]. RFC 9022's header closes the contents with the node prefix as ``tld`` and a count per object
URI, which the reader checks.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, iterparse

from sync.errors import EscrowInvalid
from sync.escrow import objects
from sync.escrow.objects import (
    ENTERPRISE,
    IDENTIFIER,
    NAMESPACES,
    OBJECT_URIS,
    PREFIX,
    RDE,
    RDE_HEADER,
    TEMPLATE,
    element,
)

FULL, INCR = "FULL", "INCR"
DEPOSIT_ID = re.compile(r"\w{1,13}", re.ASCII)  # RFC 8909's depositIdType
_RESEND = re.compile(rb' resend="(\d+)"')
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")  # no DTDs: nothing to expand, nothing to fetch


@dataclass
class DepositInfo:
    kind: str
    deposit_id: str
    prev_id: str | None
    resend: int
    watermark: datetime
    node_prefix: str = ""
    from_seq: int = 0
    to_seq: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "depositId": self.deposit_id,
            "prevId": self.prev_id,
            "resend": self.resend,
            "watermark": self.watermark.isoformat(),
            "nodePrefix": self.node_prefix,
            "journalFrom": self.from_seq,
            "journalTo": self.to_seq,
            "counts": self.counts,
        }


def _xsd_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class DepositWriter:
    """Writes one deposit to a binary stream: ``open`` (with the deletes of an incremental deposit), the objects,
    then ``close`` (the header with the counts)."""

    def __init__(self, out: IO[bytes], info: DepositInfo):
        if not DEPOSIT_ID.fullmatch(info.deposit_id) or (info.prev_id and not DEPOSIT_ID.fullmatch(info.prev_id)):
            raise ValueError("deposit ids are 1 to 13 word characters (RFC 8909)")
        self.out, self.info = out, info
        self.counts = dict.fromkeys(OBJECT_URIS, 0)

    def _write(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))

    def open(self, deletes: str = "") -> None:
        info = self.info
        declarations = "".join(f' xmlns:{p}="{uri}"' for p, uri in NAMESPACES.items())
        prev = f' prevId="{info.prev_id}"' if info.prev_id else ""
        self._write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<rde:deposit type="{info.kind}" id="{info.deposit_id}"{prev} resend="{info.resend}"{declarations}>\n'
        )
        self._write(element("rde", "watermark", _xsd_time(info.watermark)) + "\n<rde:rdeMenu>")
        self._write(element("rde", "version", "1.0") + element("rde", "objURI", RDE_HEADER))
        self._write("".join(element("rde", "objURI", uri) for uri in OBJECT_URIS) + "</rde:rdeMenu>\n")
        if deletes:
            self._write(f"<rde:deletes>{deletes}</rde:deletes>\n")
        self._write("<rde:contents>\n")
        self._write(element("rdeIdentifier", "journal", attrs={"from": info.from_seq, "to": info.to_seq}) + "\n")

    def add(self, uri: str, xml: str) -> None:
        self.counts[uri] += 1
        self._write(xml + "\n")

    def close(self) -> None:
        counts = "".join(element("rdeHeader", "count", str(n), {"uri": uri}) for uri, n in self.counts.items())
        tld = element("rdeHeader", "tld", self.info.node_prefix)
        self._write(f"<rdeHeader:header>{tld}{counts}</rdeHeader:header>\n</rde:contents>\n</rde:deposit>\n")
        self.info.counts = dict(self.counts)


def with_resend(data: bytes, resend: int) -> bytes:
    """The same deposit with its ``resend`` counter set (RFC 8909: the times it was sent again)."""
    head, found = _RESEND.subn(f' resend="{resend}"'.encode(), data[:2048], count=1)
    if not found:
        raise EscrowInvalid("the deposit has no resend attribute to set")
    return head + data[2048:]


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


_OBJECT_TAGS = {
    _q(ENTERPRISE, "enterprise"): "enterprise",
    _q(PREFIX, "prefix"): "prefix",
    _q(TEMPLATE, "template"): "template",
    _q(IDENTIFIER, "identifier"): "identifier",
}
_URI_OF = {"enterprise": ENTERPRISE, "prefix": PREFIX, "template": TEMPLATE, "identifier": IDENTIFIER}


def _attributes(root: Element) -> DepositInfo:
    kind, deposit_id = root.get("type"), root.get("id", "")
    if kind not in (FULL, INCR):
        raise EscrowInvalid(f"deposit type {kind!r} is not FULL or INCR")
    prev_id = root.get("prevId")
    if not DEPOSIT_ID.fullmatch(deposit_id) or (prev_id is not None and not DEPOSIT_ID.fullmatch(prev_id)):
        raise EscrowInvalid("deposit ids are 1 to 13 word characters")
    if kind == INCR and prev_id is None:
        raise EscrowInvalid("an incremental deposit names the deposit before it (prevId)")
    resend = root.get("resend", "0")
    if not resend.isdigit() or int(resend) > 65535:
        raise EscrowInvalid("resend is an unsigned short")
    return DepositInfo(kind, deposit_id, prev_id, int(resend), datetime.min)


def events(source: bytes | IO[bytes]) -> Iterator[tuple[str, Any]]:
    """The parts of a deposit in document order: ``("deposit", DepositInfo)`` (complete, counts checked) comes
    last; before it ``("deletes", {...})`` and each ``("enterprise" | "prefix" | "template" | "identifier",
    object)``."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    head = stream.read(4096)
    if any(marker in head for marker in _FORBIDDEN):
        raise EscrowInvalid("a deposit has no document type declaration")
    stream.seek(0)
    info: DepositInfo | None = None
    counted = dict.fromkeys(OBJECT_URIS, 0)
    header: dict[str, Any] | None = None
    depth = 0
    try:
        for event, node in iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    if node.tag != _q(RDE, "deposit"):
                        raise EscrowInvalid("the document is not an RFC 8909 deposit")
                    info = _attributes(node)
                continue
            depth -= 1
            assert info is not None
            if depth == 1:  # children of the deposit
                if node.tag == _q(RDE, "watermark"):
                    info.watermark = _parse_time(node.text or "")
                elif node.tag == _q(RDE, "deletes"):
                    yield "deletes", objects.deletes_from(node)
                node.clear()
            elif depth == 2 and node.tag in _OBJECT_TAGS:  # an object in <rde:contents>
                kind = _OBJECT_TAGS[node.tag]
                counted[_URI_OF[kind]] += 1
                yield kind, _object(kind, node)
                node.clear()
            elif depth == 2 and node.tag == _q(IDENTIFIER, "journal"):
                info.from_seq, info.to_seq = _number(node.get("from")), _number(node.get("to"))
            elif depth == 2 and node.tag == _q(RDE_HEADER, "header"):
                header = {
                    "tld": node.findtext(_q(RDE_HEADER, "tld")),
                    "counts": {c.get("uri"): _number(c.text) for c in node.findall(_q(RDE_HEADER, "count"))},
                }
    except ParseError as exc:
        raise EscrowInvalid(f"the deposit is not well-formed XML: {exc}") from None
    if info is None or header is None or info.watermark == datetime.min:
        raise EscrowInvalid("a deposit has a watermark and a header")
    if info.to_seq < info.from_seq or (info.kind == FULL and info.from_seq != 0):
        raise EscrowInvalid("the deposit's journal range is not valid")
    if any(header["counts"].get(uri) != n for uri, n in counted.items()):
        raise EscrowInvalid("the header's counts do not match the objects in the deposit")
    info.node_prefix, info.counts = str(header["tld"] or ""), counted
    yield "deposit", info


def _object(kind: str, node: Element) -> Any:
    if kind == "enterprise":
        return objects.enterprise_from(node)
    if kind == "prefix":
        return objects.prefix_from(node)
    if kind == "template":
        return objects.template_from(node)
    return objects.identifier_from(node)


def _number(text: str | None) -> int:
    if text is None or not text.isdigit():
        raise EscrowInvalid(f"{text!r} is not a journal number or count")
    return int(text)


def _parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise EscrowInvalid(f"{text!r} is not a dateTime") from None


def summary(source: bytes | IO[bytes]) -> DepositInfo:
    """Read a whole deposit (checking its structure and counts) and return what it is."""
    for kind, value in events(source):
        if kind == "deposit":
            return value
    raise EscrowInvalid("the deposit ended early")  # pragma: no cover - events() always ends with the deposit
