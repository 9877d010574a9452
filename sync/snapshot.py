"""Signed snapshots of all records, for emergency takeover by the top-level node or a standby
(docs/sync-protocol.md): JSON lines — a header, one line per record, a trailer with the SHA-256 of everything
before it and the node's Ed25519 signature of that digest."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from foundation.crypto.keys import key_id
from foundation.db import Database
from registry.journal import repository as journal
from registry.kernel.clock import utcnow
from registry.kernel.models import HandleRecord
from registry.kernel.values import admin_view
from sync.errors import SnapshotInvalid


async def _lines(db: Database, node_prefix: str, key: Ed25519PrivateKey) -> AsyncIterator[bytes]:
    async with db.read_session() as session:
        header = {
            "type": "header",
            "nodePrefix": node_prefix,
            "createdAt": utcnow().isoformat(),
            "journalSeq": await journal.last_seq(session),
            "keyId": key_id(key.public_key()),
        }
        yield orjson.dumps(header)
        result = await session.stream(
            select(HandleRecord)
            .where(HandleRecord.deleted.is_(False))
            .order_by(HandleRecord.handle_key)
            .execution_options(yield_per=2000)
        )
        async for record in result.scalars():
            yield orjson.dumps(
                {
                    "type": "record",
                    "handle": record.handle,
                    "version": record.version,
                    "values": admin_view(record.record_values),
                }
            )


async def write_snapshot(db: Database, node_prefix: str, key: Ed25519PrivateKey) -> bytes:
    digest = hashlib.sha256()
    lines = []
    async for line in _lines(db, node_prefix, key):
        digest.update(line + b"\n")
        lines.append(line)
    hex_digest = digest.hexdigest()
    trailer = {
        "type": "trailer",
        "sha256": hex_digest,
        "signature": base64.b64encode(key.sign(hex_digest.encode("ascii"))).decode(),
    }
    return b"\n".join(lines + [orjson.dumps(trailer)]) + b"\n"


def read_snapshot(data: bytes, public_key: Ed25519PublicKey) -> tuple[dict, list[dict]]:
    """The header and records of a snapshot whose digest and signature check out; else :class:`SnapshotInvalid`."""
    lines = data.rstrip(b"\n").split(b"\n")
    if len(lines) < 2:
        raise SnapshotInvalid("a snapshot has a header and a trailer")
    try:
        trailer = orjson.loads(lines[-1])
        digest = hashlib.sha256(b"".join(line + b"\n" for line in lines[:-1])).hexdigest()
        if trailer.get("type") != "trailer" or trailer.get("sha256") != digest:
            raise SnapshotInvalid("the snapshot's digest does not match its content")
        public_key.verify(base64.b64decode(trailer["signature"]), digest.encode("ascii"))
        header = orjson.loads(lines[0])
        records = [orjson.loads(line) for line in lines[1:-1]]
    except (orjson.JSONDecodeError, KeyError, ValueError, InvalidSignature) as exc:
        raise SnapshotInvalid(f"the snapshot is not valid: {type(exc).__name__}") from None
    if header.get("type") != "header" or any(r.get("type") != "record" for r in records):
        raise SnapshotInvalid("unexpected line types")
    return header, records
